"""Module hooks beyond the plain forward ones: keyword-aware forward hooks (``with_kwargs``),
hooks that run even when ``forward`` raises (``always_call``), and full backward hooks
(``register_full_backward_hook`` / ``register_full_backward_pre_hook``).

A full backward hook needs the gradients of a module's inputs and outputs together. The call
wraps the differentiable inputs, and then the outputs, in an identity
:class:`~ember.autograd.Function` each: one node per side, so all gradients of a side arrive in
one ``backward``, where the hooks see them and may replace them, as PyTorch's ``BackwardHook``.
"""

from __future__ import annotations

from ember.autograd.grad_mode import is_grad_enabled
from ember.autograd.function import Function
from ember.tensor import Tensor


def _wants_grad(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad and x._data.dtype.kind in "fc"


class _Identity(Function):
    """Passes tensors through; ``backward`` hands their gradients to ``ctx.on_grads``."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        outs = tuple(Tensor._wrap(t._data) for t in tensors)
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_grads(grads))


def _wrap(values: tuple, on_grads) -> tuple:
    """``values`` with their differentiable tensors routed through one identity node."""
    positions = [i for i, v in enumerate(values) if _wants_grad(v)]
    if not positions or not is_grad_enabled():
        return values
    outs = _Identity.apply(on_grads, *(values[i] for i in positions))
    outs = outs if isinstance(outs, tuple) else (outs,)
    result = list(values)
    for i, o in zip(positions, outs):
        result[i] = o
    return tuple(result)


def _as_tuple(res, n: int, what: str, module) -> tuple:
    res = res if isinstance(res, tuple) else (res,)
    if len(res) != n:
        raise RuntimeError(f"Backward hook of {type(module).__name__} returned an invalid number "
                           f"of {what} gradients - got {len(res)}, but expected {n}")
    return res


def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module(*args, **kwargs)`` running every registered hook, as ``torch.nn.Module``."""
    flags = module.__dict__.get("_hook_flags", {})
    for key, hook in list(module._forward_pre_hooks.items()):
        if flags.get(key, (False, False))[0]:
            res = hook(module, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {res}.")
                args, kwargs = res
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    full = module.__dict__.get("_backward_hooks") or {}
    pre = module.__dict__.get("_backward_pre_hooks") or {}
    state: dict = {}
    if (full or pre) and is_grad_enabled():
        n_tensors = sum(isinstance(a, Tensor) for a in args)

        def on_input_grads(grads):
            grad_input = _scatter(args, grads)
            for hook in list(full.values()):
                res = hook(module, grad_input, state.get("grad_output", ()))
                if res is not None:
                    grad_input = _as_tuple(res, n_tensors, "grad_input", module)
            return _gather(args, grad_input)

        if full:
            args = _wrap(args, on_input_grads)
    try:
        out = module.forward(*args, **kwargs)
    except Exception:
        for key, hook in list(module._forward_hooks.items()):
            with_kwargs, always = flags.get(key, (False, False))
            if always:
                try:
                    hook(module, args, kwargs, None) if with_kwargs else hook(module, args, None)
                except Exception:
                    pass
        raise
    for key, hook in list(module._forward_hooks.items()):
        with_kwargs = flags.get(key, (False, False))[0]
        res = hook(module, args, kwargs, out) if with_kwargs else hook(module, args, out)
        if res is not None:
            out = res
    if (full or pre) and is_grad_enabled():
        outs = out if isinstance(out, tuple) else (out,)
        inputs_need = any(_wants_grad(a) for a in args)

        def on_output_grads(grads):
            grad_output = grads
            for hook in list(pre.values()):
                res = hook(module, grad_output)
                if res is not None:
                    grad_output = _as_tuple(res, len(grads), "grad_output", module)
            state["grad_output"] = grad_output
            if not inputs_need:  # no input gradient will come: the hooks run now, as PyTorch's
                n = sum(isinstance(a, Tensor) for a in args)
                for hook in list(full.values()):
                    hook(module, (None,) * n, grad_output)
            return grad_output

        wrapped = _wrap(outs, on_output_grads)
        out = wrapped if isinstance(out, tuple) else wrapped[0]
    return out


def _scatter(args: tuple, grads: tuple) -> tuple:
    """One gradient per tensor argument, from the gradients of the wrapped ones: zeros for a
    floating tensor that needs none (PyTorch materialises those), None for the others."""
    it = iter(grads)
    out = []
    for a in args:
        if not isinstance(a, Tensor):
            continue
        if _wants_grad(a):
            out.append(next(it))
        elif a._data.dtype.kind in "fc":
            out.append(Tensor._wrap(a._data * 0))
        else:
            out.append(None)
    return tuple(out)


def _gather(args: tuple, grad_input: tuple) -> tuple:
    """The gradients of the wrapped arguments, from one per tensor argument."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    return tuple(g for a, g in zip(tensors, grad_input) if _wants_grad(a))
