"""Higher-level differentiation of whole functions, as ``torch.autograd.functional``:
:func:`vjp`, :func:`jvp`, :func:`jacobian`, :func:`hessian`, :func:`vhp`, :func:`hvp`.

``func`` takes one Tensor or several (``inputs`` is a Tensor or a tuple of them) and returns a
Tensor or a tuple of Tensors. Results have the same nesting as PyTorch's: a bare Tensor where the
function's inputs (or outputs) were a bare Tensor, tuples where they were tuples.

Everything is built on reverse mode (:func:`ember.autograd.grad`): ``jvp`` uses the double
backward trick (the gradient of a vector-Jacobian product with respect to its vector), and
``jacobian`` runs one backward pass per output element. ``vectorize=True`` and
``strategy="forward-mode"`` are accepted and give the same values (ember has no vmap; the rows
are computed in a loop).
"""

from __future__ import annotations

from typing import Any, Callable

from ember.autograd.grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(value, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """``(was_tuple, value as a tuple)``, checking that every element is a Tensor."""
    from ember.tensor import Tensor

    was_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if was_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"element {i} of {arg_name}" if was_tuple else arg_name
            raise TypeError(f"{fn_name}: the {where} must be a Tensor (or a tuple of Tensors), "
                            f"but got {type(item).__name__}")
    return was_tuple, items


def _untuple(res, was_tuple):
    """Undo :func:`_as_tuple` on a result; ``was_tuple`` may be a pair for nested results."""
    if isinstance(was_tuple, tuple):
        if not was_tuple[1]:
            res = tuple(r[0] for r in res)
        if not was_tuple[0]:
            res = res[0]
        return res
    return res if was_tuple else res[0]


def _prepare_inputs(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh leaves that require grad, or (with ``create_graph``) the inputs themselves when they
    already require grad, so the results stay connected to the caller's graph."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x)
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _finish(values: tuple, create_graph: bool) -> tuple:
    """Results as returned to the user: detached unless a graph was asked for."""
    if create_graph:
        return values
    return tuple(v.detach() if v is not None else None for v in values)


def _check_v(v: tuple, other: tuple, other_was_tuple: bool, fn_name: str) -> None:
    if len(v) != len(other):
        kind = "inputs" if fn_name in ("jvp", "vhp", "hvp") else "outputs"
        raise RuntimeError(f"{fn_name}: v is a tuple of {len(v)} Tensors but the user-provided "
                           f"function has {len(other)} {kind}; give one v per {kind[:-1]}")
    for i, (a, b) in enumerate(zip(v, other)):
        if tuple(a.shape) != tuple(b.shape):
            where = f"entry {i} in " if other_was_tuple else ""
            raise RuntimeError(f"{fn_name}: mismatch in shape: {where}v has shape "
                               f"{tuple(a.shape)} but the matching Tensor has shape "
                               f"{tuple(b.shape)}")


def _check_outputs_require_grad(outputs: tuple, strict: bool) -> None:
    if not strict:
        return
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"Output {i} of the user-provided function does not require "
                               "gradients. The outputs must be computed in a differentiable manner "
                               "from the input when running in strict mode.")


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool,
          retain_graph: bool | None = None) -> tuple:
    """``autograd.grad`` that skips outputs which do not require grad and returns ``None`` for
    inputs that no output depends on."""
    from ember.autograd import grad

    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return grad(list(outs), list(inputs), list(gouts), retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


def _fill_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, what: str) -> tuple:
    from ember.creation import zeros_like

    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} is independent of input {i}. This is not allowed "
                                   "in strict mode.")
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(f"The {what} is independent of input {i}. This is not allowed in "
                               "strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _default_v(outputs: tuple, fn_name: str):
    from ember.creation import ones_like

    if len(outputs) != 1 or outputs[0].numel() != 1:
        raise RuntimeError(f"{fn_name}: the vector v can only be None if the user-provided "
                           "function returns a single Tensor with a single element")
    return (ones_like(outputs[0]),)


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Returns ``(func(inputs), vjp)``; ``v`` has the outputs' shapes (may be omitted when ``func``
    returns a single element). ``strict=True`` raises when an output does not depend on an input
    instead of returning zeros; ``create_graph=True`` makes the results differentiable.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "vjp")
        _check_outputs_require_grad(outputs, strict)
        if v is None:
            v = _default_v(outputs, "vjp")
        else:
            _, v = _as_tuple(v, "v", "vjp")
            _check_v(v, outputs, outputs_tuple, "vjp")
        grads = _grad(outputs, inputs, v, create_graph)
        grads = _fill_zeros(grads, inputs, strict, create_graph, "output of the user-provided "
                            "function")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(grads, create_graph), inputs_tuple))


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (``v`` has the inputs'
    shapes; it may be omitted for a single one-element input). Returns ``(func(inputs), jvp)``.

    Computed with the double backward trick: ``J v`` is the gradient of ``u -> (u^T J) v`` with
    respect to ``u``, so ``func``'s ops must be twice differentiable.
    """
    from ember.creation import zeros_like

    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare_inputs(inputs, create_graph)
        if v is None:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError("jvp: the vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single element")
            from ember.creation import ones_like

            v = (ones_like(inputs[0]),)
        else:
            _, v = _as_tuple(v, "v", "jvp")
            _check_v(v, inputs, inputs_tuple, "jvp")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "jvp")
        _check_outputs_require_grad(outputs, strict)
        # u: a placeholder cotangent; the vjp is linear in u, and its gradient in u is J v
        us = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        vjps = _grad(outputs, inputs, us, create_graph=True)
        vjps = _fill_zeros(vjps, inputs, strict, False, "output of the user-provided function")
        used = [(g, vi) for g, vi in zip(vjps, v) if g.requires_grad]
        if used:
            gs, vs = zip(*used)
            jv = _grad(gs, us, vs, create_graph)
        else:
            jv = (None,) * len(us)
        jv = _fill_zeros(jv, outputs, strict, create_graph, "gradient with respect to the inputs")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(jv, create_graph), outputs_tuple))


def _jacobian_block(out, inputs: tuple, create_graph: bool, strict: bool, out_index: int) -> list:
    """``[d out / d inputs[j] for j]``, each of shape ``out.shape + inputs[j].shape``."""
    from ember.backend import get_array_module
    from ember.creation import zeros
    from ember.ops.shape import stack
    from ember.tensor import Tensor

    n = out.numel()
    rows: list[list] = [[] for _ in inputs]
    if n and out.requires_grad:
        xp = get_array_module(out._data)
        flat = xp.zeros(n, dtype=out._data.dtype)
        for k in range(n):
            flat[...] = 0
            flat[k] = 1
            seed = Tensor._wrap(flat.reshape(out._data.shape).copy())
            grads = _grad((out,), inputs, (seed,), create_graph, retain_graph=True)
            for j, g in enumerate(grads):
                if g is None and strict:
                    raise RuntimeError(f"Output {out_index} of the user-provided function is "
                                       f"independent of input {j}. This is not allowed in strict "
                                       "mode.")
                rows[j].append(g)
    elif n and strict:
        raise RuntimeError(f"Output {out_index} of the user-provided function does not require "
                           "gradients. The outputs must be computed in a differentiable manner "
                           "from the input when running in strict mode.")
    blocks = []
    for j, x in enumerate(inputs):
        shape = tuple(out.shape) + tuple(x.shape)
        if not rows[j] or all(g is None for g in rows[j]):
            blocks.append(zeros(shape, dtype=x.dtype, device=x.device))
            continue
        filled = [g if g is not None else zeros(tuple(x.shape), dtype=x.dtype, device=x.device)
                  for g in rows[j]]
        if strict and create_graph and not any(g.requires_grad for g in filled):
            raise RuntimeError(f"The jacobian of the user-provided function is independent of "
                               f"input {j}. This is not allowed in strict mode when "
                               "create_graph=True.")
        blocks.append(stack(filled, 0).reshape(shape))
    return blocks


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j]`` has shape
    ``outputs[i].shape + inputs[j].shape``. With a single input (or output) Tensor that level of
    nesting is dropped, as in PyTorch.

    ``vectorize`` and ``strategy`` ("reverse-mode" or "forward-mode") are accepted for
    compatibility; the values do not depend on them. Entries for inputs an output does not depend
    on are zeros (``strict=True`` raises instead).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(f'jacobian: strategy must be "forward-mode" or "reverse-mode", got '
                         f"{strategy!r}")
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("jacobian: strategy='forward-mode' needs vectorize=True, as in "
                                  "PyTorch")
    if strategy == "forward-mode" and create_graph:
        raise NotImplementedError("jacobian: create_graph=True and strategy='forward-mode' are not "
                                  "supported together (as in PyTorch)")
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "jacobian")
        result = tuple(tuple(_finish(tuple(_jacobian_block(out, inputs, create_graph, strict, i)),
                                     create_graph))
                       for i, out in enumerate(outputs))
    return _untuple(result, (outputs_tuple, inputs_tuple))


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: ``H[i][j]`` has shape ``inputs[i].shape +
    inputs[j].shape`` (a single Tensor for a single input)."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_output(*xs):
        out = func(*xs)
        from ember.tensor import Tensor

        if isinstance(out, (tuple, list)) or not isinstance(out, Tensor):
            raise RuntimeError("hessian: the function given to hessian should return a single "
                               f"Tensor, got {type(out).__name__}")
        if out.numel() != 1:
            raise RuntimeError("hessian: the Tensor returned by the function given to hessian "
                               f"should contain a single element, got shape {tuple(out.shape)}")
        return out.reshape(())

    def gradient(*xs):
        return jacobian(scalar_output, xs, create_graph=True, strict=strict)

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _untuple(result, (inputs_tuple, inputs_tuple))


def _second_order(fn_name: str, func: Callable, inputs, v, create_graph: bool, strict: bool):
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
        inputs = _prepare_inputs(inputs, create_graph)
        if v is None:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError(f"{fn_name}: the vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single element")
            from ember.creation import ones_like

            v = (ones_like(inputs[0]),)
        else:
            _, v = _as_tuple(v, "v", fn_name)
            _check_v(v, inputs, inputs_tuple, fn_name)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           fn_name)
        if outputs_tuple or outputs[0].numel() != 1:
            raise RuntimeError(f"{fn_name}: the function given to {fn_name} should return a single "
                               "Tensor with a single element")
        _check_outputs_require_grad(outputs, strict)
        from ember.creation import ones_like

        grads = _grad(outputs, inputs, (ones_like(outputs[0]),), create_graph=True)
        grads = _fill_zeros(grads, inputs, strict, True, "output of the user-provided function")
        used = [(g, vi) for g, vi in zip(grads, v) if g.requires_grad]
        if used:
            gs, vs = zip(*used)
            second = _grad(gs, inputs, vs, create_graph)
        else:
            second = (None,) * len(inputs)
        second = _fill_zeros(second, inputs, strict, create_graph, "jacobian of the user-provided "
                             "function")
    return (_finish(outputs, create_graph)[0], _untuple(_finish(second, create_graph), inputs_tuple))


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> Any:
    """The vector-Hessian product ``v^T H`` of a scalar function; returns ``(func(inputs), vhp)``."""
    return _second_order("vhp", func, inputs, v, create_graph, strict)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> Any:
    """The Hessian-vector product ``H v`` of a scalar function; returns ``(func(inputs), hvp)``.

    The Hessian of a twice continuously differentiable function is symmetric, so ``H v`` equals
    ``v^T H`` and is computed the same way (one double backward pass).
    """
    return _second_order("hvp", func, inputs, v, create_graph, strict)
