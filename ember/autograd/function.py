"""User-defined ops with their own gradient, as ``torch.autograd.Function``::

    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    y = Cube.apply(x)

``forward`` runs with grad mode off; its output is recorded as one node whose gradient is what
``backward`` returns. ``forward`` may also return a tuple: ``backward`` then receives one gradient
per output (zeros for an output the loss did not use or that was marked non-differentiable,
``None`` for a non-tensor output), as in PyTorch. With ``create_graph=True``, ``backward`` runs with
grad mode on, so a backward written with ember ops is differentiable in turn.
"""

from __future__ import annotations

from ember.autograd import graph
from ember.backend import get_array_module
from ember.tensor import Tensor


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: a place to keep what backward needs."""

    def __init__(self):
        self.saved_tensors = ()
        self.needs_input_grad = ()
        self._non_differentiable = set()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; they are checked for in-place changes before use."""
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:  # accepted for PyTorch compatibility
        pass

    def set_materialize_grads(self, value: bool) -> None:  # grads are always materialised here
        pass


class Function:
    """Base class of user-defined differentiable ops; subclass and call ``apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("subclasses of ember.autograd.Function must define forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("subclasses of ember.autograd.Function must define backward")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and record one node whose gradient is given by ``backward``."""
        ctx = FunctionCtx()
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        prev = graph.GRAD_ENABLED
        graph.GRAD_ENABLED = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            graph.GRAD_ENABLED = prev
        n_args = len(args)

        def user_backward(grad_outputs):
            grads = cls.backward(ctx, *grad_outputs)
            if not isinstance(grads, tuple):
                grads = (grads,)
            if len(grads) != n_args:
                raise RuntimeError(
                    f"function {cls.__name__}Backward returned an incorrect number of gradients "
                    f"(expected {n_args}, got {len(grads)}): return one per forward argument, "
                    "None for non-tensor arguments"
                )
            for i in positions:
                gi, x = grads[i], args[i]
                # As PyTorch: a gradient the input's shape broadcasts to is summed back to it
                # (and one of another dtype cast to the input's) by the engine; others are refused.
                if gi is not None and gi.shape != x.shape and not _expandable(x.shape, gi.shape):
                    raise RuntimeError(
                        f"Function {cls.__name__}Backward returned an invalid gradient at index "
                        f"{i} - got {list(gi.shape)} but expected shape compatible with "
                        f"{list(x.shape)}"
                    )
            return tuple(grads[i] for i in positions)

        if isinstance(out, tuple):
            return _record_outputs(cls.__name__, ctx, out, tensor_args, user_backward)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple, got "
                            f"{type(out).__name__}")
        if id(out) in ctx._non_differentiable:
            return out
        saved = tuple(t for t in ctx.saved_tensors if isinstance(t, Tensor) and t is not out)
        fresh = (out._node is None and not out.requires_grad and out._base is None
                 and all(out is not a for a in tensor_args))
        # A fresh result that backward reads (saved for backward) goes to record as the Tensor
        # the closure sees: checked for in-place changes, and no reference cycle through ctx.
        result = out if fresh and any(t is out for t in ctx.saved_tensors) else out._data
        return graph.record(cls.__name__, result, tensor_args,
                            lambda g, needs: user_backward((g,)), saved)


def _expandable(shape: tuple, to: tuple) -> bool:
    """Whether a tensor of ``shape`` broadcasts to ``to`` (PyTorch's ``is_expandable_to``)."""
    lead = len(to) - len(shape)
    return lead >= 0 and all(s == 1 or s == n for s, n in zip(shape, to[lead:]))


def _is_float(t: Tensor) -> bool:
    return t._data.dtype.kind in "fc"


def _record_outputs(name, ctx, outs, tensor_args, user_backward):
    """Record a forward that returned several outputs.

    The engine gives each node one output, so the outputs' gradients meet in a hidden node that
    owns one flat vector with a segment per differentiable output: each output's backward places
    its gradient in its segment (zeros elsewhere), the engine sums the pieces, and the hidden node
    cuts the sum back into per-output gradients for the user's ``backward``.
    """
    diff = [i for i, o in enumerate(outs)
            if isinstance(o, Tensor) and _is_float(o) and id(o) not in ctx._non_differentiable]
    if not diff or not graph.GRAD_ENABLED or not any(t.requires_grad for t in tensor_args):
        return outs
    first = outs[diff[0]]._data
    xp = get_array_module(first)
    sizes = [outs[i]._data.size for i in diff]
    offsets = [sum(sizes[:k]) for k in range(len(diff))]
    total = sum(sizes)

    def backward_hidden(flat, needs):
        grads = [None] * len(outs)
        for i, off, size in zip(diff, offsets, sizes):
            grads[i] = _segment(flat, off, size, outs[i])
        for i, o in enumerate(outs):
            if grads[i] is None and isinstance(o, Tensor):  # materialised, as in PyTorch
                grads[i] = Tensor._wrap(get_array_module(o._data).zeros_like(o._data))
        return user_backward(tuple(grads))

    saved = tuple(t for t in ctx.saved_tensors if isinstance(t, Tensor)
                  and all(t is not o for o in outs))
    hidden = graph.record(name, xp.zeros(total, dtype=first.dtype), tensor_args, backward_hidden,
                          saved)
    results = list(outs)
    for i, off in zip(diff, offsets):
        results[i] = graph.record(f"{name}Output{i}", outs[i]._data, (hidden,),
                                  lambda g, needs, off=off: (_place(g, off, hidden),))
    return tuple(results)


def _place(g: Tensor, offset: int, like: Tensor) -> Tensor:
    """``g`` flattened into a zero vector shaped like ``like`` at ``offset`` (differentiable)."""
    flat = get_array_module(like._data).zeros_like(like._data)
    flat[offset:offset + g._data.size] = g._data.reshape(-1)
    return graph.record("PlaceSegment", flat, (g,),
                        lambda gg, needs: (_segment(gg, offset, g._data.size, g),))


def _segment(flat: Tensor, offset: int, size: int, like: Tensor) -> Tensor:
    """The part of ``flat`` at ``offset``, shaped and typed like ``like`` (differentiable)."""
    part = flat._data[offset:offset + size].reshape(like._data.shape).astype(like._data.dtype)
    return graph.record("Segment", part, (flat,), lambda gg, needs: (_place(gg, offset, flat),))
