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
``backward`` returns. With ``create_graph=True``, ``backward`` runs with grad mode on, so a backward
written with ember ops is differentiable in turn.
"""

from __future__ import annotations

from ember.autograd import graph
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
        if isinstance(out, tuple):
            raise NotImplementedError(
                f"{cls.__name__}.forward returned {len(out)} outputs; ember's autograd.Function "
                "supports a single output tensor. Split it into one Function per output."
            )
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}")
        n_args = len(args)

        def backward(g):
            grads = cls.backward(ctx, g)
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
                if gi is not None and tuple(gi.shape) != tuple(x.shape):
                    raise RuntimeError(
                        f"Function {cls.__name__}Backward returned an invalid gradient at index "
                        f"{i} - got {tuple(gi.shape)} but expected shape compatible with "
                        f"{tuple(x.shape)}"
                    )
            return tuple(grads[i] for i in positions)

        if id(out) in ctx._non_differentiable:
            return out
        saved = tuple(t for t in ctx.saved_tensors if isinstance(t, Tensor) and t is not out)
        result = graph.record(cls.__name__, out._data, tensor_args, backward, saved)
        return result
