"""Automatic differentiation: the recorded graph, the engine, grad mode and user tools.

Public names mirror ``torch.autograd``: :func:`backward`, :func:`grad`, :class:`Function`,
:func:`gradcheck`, :func:`gradgradcheck`, and the grad-mode switches.
"""

from __future__ import annotations

from ember.autograd.engine import run_backward
from ember.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from ember.autograd import graph
from ember.autograd.graph import Node


def _as_list(x):
    if x is None:
        return None
    from ember.tensor import Tensor

    return [x] if isinstance(x, Tensor) else list(x)


def _default_grads(outputs, grad_outputs, who):
    from ember.tensor import Tensor

    grads = []
    for i, out in enumerate(outputs):
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs: {who} was called on "
                    f"a tensor of shape {tuple(out.shape)}. Reduce it first (for example "
                    "loss.sum() or loss.mean()) or pass a gradient of the same shape."
                )
            g = Tensor._wrap(_ones_like(out._data))
        elif not isinstance(g, Tensor):
            from ember.creation import tensor as make_tensor

            g = make_tensor(g, dtype=out.dtype, device=out.device)
        if tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                f"output[{i}] has a shape of {tuple(out.shape)}."
            )
        grads.append(g)
    return grads


def _ones_like(a):
    from ember.backend import get_array_module

    return get_array_module(a).ones_like(a)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on.
    ``grad_variables`` is PyTorch's deprecated name for ``grad_tensors``."""
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("backward(): pass grad_tensors or grad_variables, not both")
        grad_tensors = grad_variables
    tensors = _as_list(tensors)
    grads = _default_grads(tensors, _as_list(grad_tensors), "backward()")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_list(inputs)
        found = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                             allow_unused=True)
        for t, g in zip(inputs, found):
            if g is not None:
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (nothing is accumulated).

    With ``create_graph=True`` the returned gradients are themselves differentiable, which gives
    gradients of gradients (Hessian-vector products and the like). As in PyTorch:
    ``materialize_grads=True`` returns zeros (not ``None``) for inputs the outputs do not depend
    on; ``is_grads_batched=True`` treats dim 0 of every ``grad_outputs`` tensor as a batch of
    vectors and returns the batch of gradients (computed one vector at a time);
    ``only_inputs`` is accepted and ignored (deprecated in PyTorch too).
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("grad(): expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got allow_unused=False.")
    allow_unused = bool(allow_unused) or materialize_grads
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    outputs = _as_list(outputs)
    inputs_list = _as_list(inputs)
    graph.refresh_if_stale(inputs_list)
    for t in inputs_list:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _default_grads(outputs, _as_list(grad_outputs), "grad()")
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs_list,
                          allow_unused=allow_unused)
    if materialize_grads:
        from ember.ops.common import zero_grad_like

        result = tuple(zero_grad_like(t) if g is None else g for t, g in zip(inputs_list, result))
    return result


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``grad(..., is_grads_batched=True)``: one vector-Jacobian product per row of the batched
    ``grad_outputs``, stacked along a new dim 0 (a loop where PyTorch uses vmap)."""
    from ember.ops.shape import stack
    from ember.ops.common import zero_grad_like

    outputs, inputs_list = _as_list(outputs), _as_list(inputs)
    batched = _as_list(grad_outputs)
    if batched is None or any(g is None for g in batched):
        raise RuntimeError("grad(): is_grads_batched=True needs a batched tensor in grad_outputs "
                           "for every output")
    n = batched[0].shape[0]
    rows = []
    for i in range(n):
        rows.append(grad(outputs, inputs_list, [g[i] for g in batched],
                         retain_graph=True if i < n - 1 else retain_graph,
                         create_graph=create_graph, allow_unused=True))
    result = []
    for j, t in enumerate(inputs_list):
        column = [r[j] for r in rows]
        if all(c is None for c in column):
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(stack([zero_grad_like(t)] * n) if materialize_grads else None)
        else:
            result.append(stack([zero_grad_like(t) if c is None else c for c in column]))
    return tuple(result)


__all__ = [
    "Node", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "inference_mode", "is_inference_mode_enabled",
    "Function", "FunctionCtx", "gradcheck", "gradgradcheck", "GradcheckError",
    "detect_anomaly", "set_detect_anomaly", "functional", "Variable", "set_multithreading_enabled",
]


# Imported last: it uses the engine above. Binding the names here also makes
# `ember.autograd.gradcheck` the function rather than the submodule of the same name.
from ember.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402

# Loaded on first use (`import ember` stays fast): name -> the submodule that defines it.
_LAZY = {
    "Function": "function", "FunctionCtx": "function",
    "detect_anomaly": "anomaly_mode", "set_detect_anomaly": "anomaly_mode",
    "Variable": "variable", "set_multithreading_enabled": "variable",
}
_LAZY_MODULES = {"functional", *_LAZY.values()}


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"ember.autograd.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(f"ember.autograd.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember.autograd' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY) | _LAZY_MODULES)
