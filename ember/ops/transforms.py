"""Function transforms PyTorch programs call at the top level: ``torch.compile`` (ember runs
eagerly, so it returns the function or module unchanged) and ``torch.vmap`` (a function mapped
over a batch dimension, by running it on each slice and stacking the results, which is exactly
what vmap means; gradients flow through the slices)."""

from __future__ import annotations

from typing import Any, Callable

from ember.ops.common import Tensor
from ember.ops.shape import stack


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: Any = None, mode: str | None = None, options: dict | None = None,
            disable: bool = False, **kwargs) -> Callable:
    """``torch.compile``: ember has no compiler, so ``model`` comes back unchanged (as a
    decorator with keywords, ``@compile(mode=...)``, too). Every keyword is accepted."""
    if model is None:
        return lambda fn: fn
    return model


def _slice(arg, dim, i):
    if dim is None:
        return arg
    if isinstance(arg, Tensor):
        return arg.select(dim, i)
    if isinstance(arg, (tuple, list)):
        dims = dim if isinstance(dim, (tuple, list)) else [dim] * len(arg)
        return type(arg)(_slice(a, d, i) for a, d in zip(arg, dims))
    raise ValueError(f"vmap: in_dims={dim} given for an input of type {type(arg).__name__}, "
                     "which has no dimension to map over")


def _batch_size(args, in_dims) -> int:
    sizes = set()

    def visit(arg, dim):
        if dim is None:
            return
        if isinstance(arg, Tensor):
            sizes.add(arg.shape[dim])
        elif isinstance(arg, (tuple, list)):
            dims = dim if isinstance(dim, (tuple, list)) else [dim] * len(arg)
            for a, d in zip(arg, dims):
                visit(a, d)

    for a, d in zip(args, in_dims):
        visit(a, d)
    if not sizes:
        raise ValueError("vmap: at least one input must be a Tensor mapped over a dimension "
                         "(in_dims not all None)")
    if len(sizes) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
    return sizes.pop()


def _stack(results, out_dims):
    first = results[0]
    if isinstance(first, Tensor):
        return stack(results, out_dims)
    if isinstance(first, (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else [out_dims] * len(first)
        return type(first)(_stack([r[k] for r in results], dims[k]) for k in range(len(first)))
    raise ValueError(f"vmap: the function must return Tensors, got {type(first).__name__}")


def vmap(func: Callable, in_dims=0, out_dims=0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over dimension ``in_dims`` of its inputs (an int for all, or one entry
    per positional input, ``None`` for an input passed whole); the results are stacked along
    ``out_dims``."""

    def mapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else [in_dims] * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims is not compatible with the structure of inputs: "
                             f"{len(dims)} in_dims for {len(args)} positional inputs")
        n = _batch_size(args, dims)
        results = [func(*(_slice(a, d, i) for a, d in zip(args, dims)), **kwargs)
                   for i in range(n)]
        return _stack(results, out_dims)

    return mapped


__all__ = ["compile", "vmap"]
