"""What every op module shares: operand handling, gradient un-broadcasting, in-place application.

How to write an op (see ARCHITECTURE.md): compute the result on raw arrays (``x._data``), then
``return record(name, out, inputs, backward, saved)`` where ``backward(g, needs)`` returns one
gradient per input (``needs[i]``: whether input ``i`` wants one), written with ember ops on Tensors
so that it is itself differentiable. The engine sums each gradient back to its input's shape and
casts it to its dtype.
"""

from __future__ import annotations

import numbers

import numpy as np

from ember import backend
from ember.autograd import graph
from ember.autograd.graph import record  # noqa: F401  (re-exported for op modules)
from ember.backend import get_array_module  # noqa: F401
from ember.tensor import Tensor

_SCALARS = (int, float, bool)

# 1 as a read-only 0-d array of each float dtype, shared by the formulas that compute ``1 - y``:
# NumPy combines an array with a 0-d array of its own dtype about twice as fast (~0.25 us less
# per call) as with the Python number, which it converts on every call; the values are the same.
_ONES = {np.dtype(t): np.ones((), t) for t in (np.float16, np.float32, np.float64)}
for _one in _ONES.values():
    _one.flags.writeable = False


def one_like(a):
    """The number 1 to combine with array ``a``: a shared 0-d array of ``a``'s float dtype for a
    NumPy array, else plain ``1`` (other dtypes, CuPy arrays)."""
    return _ONES.get(a.dtype, 1) if type(a) is np.ndarray else 1


def as_tensor_like(value, like: Tensor) -> Tensor:
    """Turn a list, array or number into a Tensor on ``like``'s device (no-op for a Tensor)."""
    if isinstance(value, Tensor):
        return value
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if arr.dtype == np.float64 and not isinstance(value, np.ndarray):
        arr = arr.astype(backend.get_default_dtype().np)
    return Tensor._wrap(backend.move_array(arr, like.device))


def zero_grad_like(g: Tensor) -> Tensor:
    """A zero gradient shaped like ``g`` (for ops whose derivative is zero almost everywhere)."""
    return Tensor._wrap(get_array_module(g._data).zeros_like(g._data))


def device_error(name: str, x, y) -> RuntimeError:
    """PyTorch's error for op ``name`` given arrays ``x`` and ``y`` on different devices."""
    return RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{backend.device_of(x)} and {backend.device_of(y)}! (in op {name}). Move them with "
        ".to(device) first."
    )


def check_same_device(name: str, *arrays) -> None:
    """Raise the PyTorch error when op inputs live on different devices."""
    first = arrays[0]
    for a in arrays[1:]:
        if type(a) is not type(first) or (
            type(a) is not np.ndarray and a.device.id != first.device.id
        ):
            raise device_error(name, first, a)


_SCALAR_TYPE_NAMES = {
    "float64": "Double", "float32": "Float", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def scalar_type_name(array) -> str:
    """PyTorch's name for an array's element type (``Double`` for float64), as its messages say."""
    name = str(array.dtype)
    return _SCALAR_TYPE_NAMES.get(name, name)


def dtype_mismatch_error(name: str, first: str, a, second: str, b) -> RuntimeError:
    """PyTorch's "mat1 and mat2 must have the same dtype" refusal of a product of mixed float
    types (both dtypes named), with the shapes and the conversion that fixes it."""
    return RuntimeError(
        f"{name}: {first} and {second} must have the same dtype, but got {scalar_type_name(a)} "
        f"and {scalar_type_name(b)} ({first} of shape {tuple(a.shape)}, {second} of shape "
        f"{tuple(b.shape)}); convert one with .to(dtype) (a layer's input: "
        f"x.to(layer.weight.dtype))"
    )


def broadcast_error(name: str, x_shape, y_shape) -> RuntimeError:
    """The error for shapes that do not broadcast, naming the innermost dimension that clashes."""
    xs, ys = tuple(x_shape), tuple(y_shape)
    n = max(len(xs), len(ys))
    px, py = (1,) * (n - len(xs)) + xs, (1,) * (n - len(ys)) + ys
    for i in range(n - 1, -1, -1):
        if px[i] != py[i] and px[i] != 1 and py[i] != 1:
            return RuntimeError(
                f"{name}: shapes {xs} and {ys} cannot be broadcast together: the size of tensor a "
                f"({px[i]}) must match the size of tensor b ({py[i]}) at non-singleton dimension {i}"
            )
    return RuntimeError(f"{name}: shapes {xs} and {ys} cannot be broadcast together")


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def result_dtype(x, y):
    """PyTorch's result dtype for two arrays, including its rule for 0-d tensors: a 0-d operand
    only decides the dtype when it is of a higher category (bool < integer < float) than the
    dimensioned one, so float32 tensor + float64 0-d tensor stays float32."""
    if (x.ndim == 0) != (y.ndim == 0):
        zero, dim = (x, y) if x.ndim == 0 else (y, x)
        if _CATEGORY[zero.dtype.kind] <= _CATEGORY[dim.dtype.kind]:
            return dim.dtype
        return zero.dtype
    return backend.promote_types(x.dtype, y.dtype)


def _cpu_scalar_joins_gpu(name: str, a, b, x, y):
    """PyTorch lets a 0-d CPU tensor take part in an op on the GPU, as a number would: copy it
    to the other operand's GPU (differentiably: its gradient goes back to the CPU). Any other
    mix of devices is the usual error."""
    from ember.ops.device import to_device  # here, not at the top: ops.device imports this module

    if type(y) is np.ndarray and y.ndim == 0 and type(x) is not np.ndarray:
        dev = backend.device_of(x)
        return a, to_device(b, dev), x, backend.move_array(y, dev)
    if type(x) is np.ndarray and x.ndim == 0 and type(y) is not np.ndarray:
        dev = backend.device_of(y)
        return to_device(a, dev), b, backend.move_array(x, dev), y
    raise device_error(name, x, y)


def binary_operands(name: str, a, b):
    """Return ``(ta, tb, x, y)``: Tensor-or-None for each side and the raw operands to compute on.

    Applies PyTorch's type promotion (a float tensor keeps its width against integers; a Python
    float turns an integer tensor into the default float dtype) and checks devices.
    """
    if type(a) is Tensor or isinstance(a, Tensor):  # isinstance: nn.Parameter is a subclass
        x = a._data
        if type(b) is Tensor or isinstance(b, Tensor):
            y = b._data
            if x.dtype != y.dtype:
                d = result_dtype(x, y)
                x = x if x.dtype == d else x.astype(d)
                y = y if y.dtype == d else y.astype(d)
            if type(x) is not type(y) or (type(x) is not np.ndarray and x.device.id != y.device.id):
                return _cpu_scalar_joins_gpu(name, a, b, x, y)
            return a, b, x, y
        if type(b) in _SCALARS or isinstance(b, numbers.Number):
            if type(b) is float and x.dtype.kind in "iub":
                x = x.astype(backend.get_default_dtype().np)
            elif isinstance(b, np.generic):
                b = b.item()
            return a, None, x, b
        return binary_operands(name, a, as_tensor_like(b, a))
    if type(b) is Tensor or isinstance(b, Tensor):
        tb, ta, y, x = binary_operands(name, b, a)
        return ta, tb, x, y
    raise TypeError(f"{name}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a gradient back down to ``shape``: the adjoint of broadcasting an input to ``g.shape``."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1
    )
    if axes:
        g = g.sum(axes, keepdim=True)
    if lead or g._data.shape != shape:
        g = g.reshape(shape)
    return g


# ---------------------------------------------------------------------------------- in-place


def mark_view(out: Tensor, base: Tensor, view_fn) -> Tensor:
    """Record that ``out`` shares ``base``'s memory and is ``view_fn(base)``.

    An in-place op on ``out`` then updates ``base``'s history too (:func:`commit_inplace`), as
    PyTorch does for views. Views of views point at the outermost base. ``view_fn`` maps a Tensor
    shaped like ``base`` to the view, with ember ops (so it can also cut gradients).
    """
    out._vc = base._shared_version_counter()  # one counter for all aliases of this memory
    root = getattr(base, "_base", None)
    if not graph.GRAD_ENABLED and base.requires_grad:
        # As PyTorch: a view taken under no_grad of a tensor that requires grad is a leaf that
        # requires grad, with no history link (like a detach() alias); changing it in place with
        # grad mode on is refused (prepare_inplace).
        out._base = (base if root is None else root[0], None, None)
        out.requires_grad = True
        return out
    if root is None or root[1] is None:  # no base, or a detach() alias (its own autograd root)
        out._base = (base, view_fn, base._node)
    else:
        root_base, root_fn, _ = root
        out._base = (root_base, lambda t: view_fn(root_fn(t)), root_base._node)
    return out


def _view_base(t: Tensor):
    return getattr(t, "_base", None)


def prepare_inplace(self: Tensor, name: str) -> Tensor:
    """Check that ``self`` may change in place; return the tensor to compute the new value from.

    When a graph is being recorded the op is computed from a snapshot of ``self`` (its old values
    and history), so the backward of the in-place op is exact; the caller then writes the result
    back with :func:`commit_inplace`.
    """
    if graph.GRAD_ENABLED:
        view = _view_base(self)
        if view is not None and view[0]._node is not view[2]:
            graph.refresh_view(self)
        if (view is not None and view[1] is not None and view[0].requires_grad
                and view[0]._node is None):
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation ({name}). Wrap the update in `with ember.no_grad():`, or clone() the "
                "view first."
            )
        if self.requires_grad:
            if self._node is None and view is not None:
                raise RuntimeError(
                    f"{name}: a view was created in no_grad mode and is being modified inplace "
                    "with grad mode enabled. Move both the view and the in-place op inside the "
                    "no_grad block, or both outside it, or clone() the view."
                )
            if self._node is None:
                raise RuntimeError(
                    f"a leaf Variable that requires grad is being used in an in-place operation "
                    f"({name}). Wrap the update in `with ember.no_grad():` or use the out-of-place "
                    "op."
                )
            snapshot = Tensor._wrap(self._data.copy())
            snapshot.requires_grad = True
            snapshot._node = self._node
            return snapshot
    return self


def commit_inplace(self: Tensor, out: Tensor, name: str) -> Tensor:
    """Write ``out`` into ``self``'s memory, bump its version, and take over ``out``'s history."""
    src = out._data
    dst = self._data
    if src.shape != dst.shape and _broadcast_shape(src.shape, dst.shape) != dst.shape:
        raise RuntimeError(
            f"{name}: output with shape {tuple(dst.shape)} doesn't match the broadcast shape "
            f"{tuple(src.shape)}"
        )
    if src.dtype != dst.dtype:
        if dst.dtype.kind in "iub" and src.dtype.kind == "f":
            raise RuntimeError(
                f"{name}: result type {backend.dtype_of(src)} can't be cast to the desired output "
                f"type {backend.dtype_of(dst)}"
            )
        src = src.astype(dst.dtype)
    if src is not dst:
        try:
            dst[...] = src
        except ValueError:
            if getattr(dst.flags, "writeable", True):
                raise
            raise RuntimeError(
                f"{name}: unsupported operation: more than one element of the written-to tensor "
                "refers to a single memory location (it comes from expand/broadcast_to). "
                "clone() the tensor before writing into it."
            ) from None
    self._version += 1  # the counter is shared: the base and every other alias see it
    view = _view_base(self)
    if view is not None:
        if out._node is not None and view[1] is not None:
            _rebase_view_history(self, view[0], view[1], out)
            return self
    if out._node is not None:
        graph.HISTORY_REWRITTEN = True
        self._node = out._node
        self.requires_grad = True
    return self


def _rebase_view_history(view: Tensor, base: Tensor, view_fn, new_part: Tensor) -> None:
    """After an in-place op on ``view`` (result ``new_part``), give ``base`` the history of "old
    base with the view's region replaced by ``new_part``", and ``view`` that of a view of it.

    The gradient of the new base goes to the old base outside the region (a constant mask) and
    to ``new_part`` inside it (``view_fn`` applied to the gradient): PyTorch's CopySlices.
    """
    from ember.ops.elementwise import where_grad  # elementwise imports this module

    xp = get_array_module(base._data)
    keep = Tensor._wrap(xp.ones(base._data.shape, dtype=bool))
    prev = graph.GRAD_ENABLED
    graph.GRAD_ENABLED = False
    try:
        view_fn(keep)._data[...] = False  # True outside the view's region
    finally:
        graph.GRAD_ENABLED = prev
    keep = keep._data
    old = Tensor._wrap(base._data)
    old._node = base._node
    old.requires_grad = base.requires_grad

    def backward(g, needs):
        # masked, not multiplied: the old values inside the region get exactly 0 even where g
        # is nan or inf (PyTorch zeroes that slice of the gradient)
        return (where_grad(g, keep) if needs[0] else None), view_fn(g)

    new = graph.record("CopySlices", base._data, (old, new_part), backward)
    graph.HISTORY_REWRITTEN = True
    base._node = new._node
    base.requires_grad = True
    again = view_fn(base)  # the view's history is now a view of the new base
    view._node = again._node
    view.requires_grad = True
    view._base = (base, view_fn, base._node)


def _broadcast_shape(a, b):
    """The shape ``a`` and ``b`` broadcast to, or ``None`` when they do not broadcast."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def inplace_method(fn, name: str):
    """Build the in-place Tensor method ``name`` (e.g. ``add_``) from the out-of-place op ``fn``."""

    def method(input, *args, **kwargs):  # `input`: PyTorch's name, as in F.relu_(input)
        src = prepare_inplace(input, name)
        if src is not input and any(a is input for a in args):
            args = tuple(src if a is input else a for a in args)  # x.mul_(x) reads the old x
        return commit_inplace(input, fn(src, *args, **kwargs), name)

    method.__name__ = name
    method.__doc__ = f"In-place version of :func:`{fn.__name__}`."
    return method


def attach(**methods) -> None:
    """Make functions available as Tensor methods (and operators) under the given names."""
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


def write_out(name: str, out, result):
    """Write an op's ``result`` into the caller's ``out=`` tensor(s) and return ``out``, as
    PyTorch's ``out=`` does: ``out`` is resized to the result's shape (its dtype is kept; the
    result must cast to it without leaving its category), and ``out=`` is refused while the result
    is being recorded for gradients (PyTorch refuses it too: an ``out=`` write has no backward)."""
    if isinstance(out, (tuple, list)):
        results = result if isinstance(result, tuple) else (result,)
        if len(out) != len(results):
            raise TypeError(f"{name}(): out= expected a tuple of {len(results)} tensors, "
                            f"got {len(out)}")
        for o, r in zip(out, results):
            write_out(name, o, r)
        if hasattr(result, "_fields"):  # a named tuple such as (values, indices)
            return type(result)(*out)
        return tuple(out)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        result = as_tensor_like(result, out)
    if result.requires_grad and graph.GRAD_ENABLED:
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad. Call it under ember.no_grad() or drop out=."
        )
    src, dst = result._data, out._data
    if not backend.can_cast(backend.dtype_of(src), backend.dtype_of(dst)):
        raise RuntimeError(f"{name}(): result type {backend.dtype_of(src)} can't be cast to the "
                           f"desired output type {backend.dtype_of(dst)}")
    if src.shape != dst.shape:
        xp = get_array_module(dst)
        out._data = xp.empty(src.shape, dtype=dst.dtype)
        out._base = None
        dst = out._data
    if type(src) is not type(dst):
        src = backend.move_array(src, backend.device_of(dst))
    dst[...] = src
    out._version += 1
    return out
