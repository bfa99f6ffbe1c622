"""PyTorch's remaining everyday names, built from ops ember already has.

``torch``-level twins of in-place Tensor methods (``torch.sin_(x)`` changes ``x`` and returns it),
alias spellings (``arccosh``, ``negative_``, ``row_stack``, ``split_with_sizes`` ...), the
predicates PyTorch offers for every tensor (``is_signed``, ``is_nonzero``, ``is_complex`` ...) and
the conjugation names, which for ember's real dtypes are the identity. Complex dtypes themselves
are not supported, so ``polar``, ``view_as_complex`` and friends stay absent.
"""

from __future__ import annotations

import builtins
import math
import numbers

import numpy as np

from ember import backend
from ember.autograd import anomaly_mode
from ember.backend import get_array_module
from ember.ops.common import Tensor, attach, inplace_method, prepare_inplace, record, write_out
from ember.ops import compare, elementwise, indexing, nn_ops, sampling, shape, stats, unary
from ember.random import get_rng

__all__ = [
    # torch-level twins of in-place Tensor methods
    "acos_", "acosh_", "addmv_", "arccos_", "arcsin_", "arctan_", "asin_", "asinh_", "atan_",
    "atanh_", "ceil_", "clamp_max_", "clamp_min_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_",
    "exp2_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_", "index_put_", "lcm_",
    "log10_", "log1p_", "log2_", "logit_", "nan_to_num_", "neg_", "rad2deg_", "reciprocal_",
    "round_", "rsqrt_", "sin_", "sinc_", "sinh_", "square_", "tan_", "trunc_", "xlogy_", "zero_",
    "detach", "detach_",
    # aliases and new names
    "arccosh", "arcsinh", "arctanh", "arccosh_", "arcsinh_", "arctanh_", "negative_", "ldexp_",
    "row_stack", "split_with_sizes", "range", "scalar_tensor", "typename", "is_same_size",
    "is_signed", "is_nonzero", "is_complex", "is_conj", "is_neg", "isreal", "resolve_conj",
    "resolve_neg", "conj", "conj_physical", "conj_physical_", "real", "adjoint", "angle",
    "get_device", "init_num_threads", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "set_anomaly_enabled", "masked_scatter", "put", "fill", "bitwise_left_shift",
    "bitwise_right_shift", "frombuffer", "resize_as_", "embedding", "binomial",
]

_T = Tensor
acos_, acosh_, addmv_, arccos_, arcsin_, arctan_ = (
    _T.acos_, _T.acosh_, _T.addmv_, _T.arccos_, _T.arcsin_, _T.arctan_)
asin_, asinh_, atan_, atanh_, ceil_, clamp_max_, clamp_min_ = (
    _T.asin_, _T.asinh_, _T.atan_, _T.atanh_, _T.ceil_, _T.clamp_max_, _T.clamp_min_)
cos_, cosh_, deg2rad_, erf_, erfc_, exp2_, expm1_, fill_, fix_ = (
    _T.cos_, _T.cosh_, _T.deg2rad_, _T.erf_, _T.erfc_, _T.exp2_, _T.expm1_, _T.fill_, _T.fix_)
floor_, frac_, gcd_, i0_, index_put_, lcm_, log10_, log1p_, log2_ = (
    _T.floor_, _T.frac_, _T.gcd_, _T.i0_, _T.index_put_, _T.lcm_, _T.log10_, _T.log1p_, _T.log2_)
logit_, nan_to_num_, neg_, rad2deg_, reciprocal_, round_, rsqrt_ = (
    _T.logit_, _T.nan_to_num_, _T.neg_, _T.rad2deg_, _T.reciprocal_, _T.round_, _T.rsqrt_)
sin_, sinc_, sinh_, square_, tan_, trunc_, xlogy_, zero_ = (
    _T.sin_, _T.sinc_, _T.sinh_, _T.square_, _T.tan_, _T.trunc_, _T.xlogy_, _T.zero_)
detach, detach_ = _T.detach, _T.detach_

arccosh, arcsinh, arctanh = unary.acosh, unary.asinh, unary.atanh
arccosh_, arcsinh_, arctanh_ = _T.acosh_, _T.asinh_, _T.atanh_
negative_ = inplace_method(elementwise.neg, "negative_")
ldexp_ = inplace_method(stats.ldexp, "ldexp_")
row_stack = shape.vstack


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Split ``input`` along ``dim`` into pieces of the given sizes, which must add up to its
    length there."""
    sizes = [int(s) for s in split_sizes]
    length = input.shape[dim]
    if sum(sizes) != length:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size "
            f"at dimension {dim}), but got split_sizes={sizes}"
        )
    return shape.split(input, sizes, dim)


def range(start, end, step=1, *, out: Tensor | None = None, dtype=None, layout=None,
          device=None, requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` up to and including ``end`` (PyTorch's deprecated
    ``torch.range``; ``arange`` excludes ``end``). Floating point by default."""
    if out is not None:
        return write_out("range", out, range(start, end, step, dtype=dtype, device=device))
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    count = int(math.floor((end - start) / step)) + 1
    values = start + np.arange(count, dtype=np.float64) * step
    return _new_tensor(values, dtype, device, requires_grad)


def _new_tensor(values, dtype, device, requires_grad: bool) -> Tensor:
    target = backend.to_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    out = Tensor._wrap(np.asarray(values).astype(target.np))
    if device is not None:
        out = out.to(device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s``, floating point by default."""
    return _new_tensor(np.asarray(s), dtype, device, requires_grad)


_LEGACY_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor",
}


def typename(obj) -> str:
    """The type name PyTorch prints: ``ember.FloatTensor`` for a float32 tensor on the CPU
    (``ember.cuda.FloatTensor`` on the GPU), ``module.QualName`` for anything else."""
    if isinstance(obj, Tensor):
        where = "ember.cuda." if obj.device.type == "cuda" else "ember."
        return where + _LEGACY_TYPE_NAMES[obj.dtype.name]
    named = hasattr(obj, "__qualname__") or hasattr(obj, "__name__")
    if named:  # a class or function names itself
        module = getattr(obj, "__module__", "") or ""
        name = getattr(obj, "__qualname__", None) or obj.__name__
    else:  # any other object is named by its class
        module, name = type(obj).__module__ or "", type(obj).__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether the two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input: Tensor) -> bool:
    """Whether ``input``'s dtype holds negative numbers (every dtype but ``uint8`` and ``bool``)."""
    return input.dtype.name not in ("uint8", "bool")


def is_nonzero(input: Tensor) -> bool:
    """Whether the single element of ``input`` is nonzero; an error for any other size."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()).item())


def is_complex(input: Tensor) -> bool:
    """Whether ``input`` is complex: never, ember's dtypes are all real."""
    return False


def is_conj(input: Tensor) -> bool:
    """Whether ``input`` carries a lazy conjugation: never, ember's dtypes are all real."""
    return False


def is_neg(input: Tensor) -> bool:
    """Whether ``input`` carries a lazy negation: never in ember."""
    return False


def isreal(input: Tensor) -> Tensor:
    """Element-wise "has no imaginary part": all true for ember's real dtypes."""
    xp = get_array_module(input._data)
    return Tensor._wrap(xp.ones(input._data.shape, dtype=bool))


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: with no lazy conjugation there is nothing to materialise."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: with no lazy negation there is nothing to materialise."""
    return input


def conj(input: Tensor) -> Tensor:
    """The complex conjugate; ``input`` itself for a real tensor, as in PyTorch."""
    return input


def real(input: Tensor) -> Tensor:
    """The real part; ``input`` itself for a real tensor, as in PyTorch."""
    return input


def conj_physical(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The conjugate, computed now rather than lazily: ``input`` itself for a real tensor, as in
    PyTorch."""
    if out is not None:
        return write_out("conj_physical", out, input)
    return input


def conj_physical_(input: Tensor) -> Tensor:
    """Conjugate in place: nothing changes for a real tensor."""
    return input


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a transpose for real tensors)."""
    if input.ndim < 2:
        raise RuntimeError(f"adjoint: tensor.adjoint() is only supported on matrices or batches "
                           f"of matrices. Got {input.ndim}-D tensor.")
    return shape.transpose(input, -2, -1)


def angle(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The argument of each element: ``pi`` for negative numbers, 0 otherwise, NaN stays NaN.
    Its gradient is zero."""
    if out is not None:
        return write_out("angle", out, angle(input))
    a = input._data
    xp = get_array_module(a)
    dtype = a.dtype if a.dtype.kind == "f" else backend.get_default_dtype().np
    out = xp.where(a < 0, math.pi, 0.0).astype(dtype)
    if a.dtype.kind == "f":
        out = xp.where(xp.isnan(a), a, out).astype(dtype)
    return record("Angle", out, (input,), lambda g, needs: (g * 0,))


def get_device(input: Tensor) -> int:
    """The GPU index ``input`` lives on, or -1 for the CPU."""
    dev = input.device
    return -1 if dev.type == "cpu" else (dev.index or 0)


def init_num_threads() -> None:
    """Initialise the thread pool of the current thread: nothing to do, NumPy's BLAS pool is
    shared by every thread."""


is_anomaly_enabled = anomaly_mode.is_anomaly_enabled
is_anomaly_check_nan_enabled = anomaly_mode.is_anomaly_check_nan_enabled


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Switch anomaly detection on or off, as ``autograd.set_detect_anomaly`` does."""
    anomaly_mode._set(enabled, check_nan)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the positions where ``mask`` (broadcast to it) is true filled, in row-major
    order, by consecutive elements of ``source``. Gradients go to ``input`` outside the mask and
    to the used elements of ``source``."""
    m = mask._data
    if m.dtype != bool:
        raise RuntimeError(f"masked_scatter: expected BoolTensor for mask, got {mask.dtype}")
    xp = get_array_module(m)
    out_shape = np.broadcast_shapes(tuple(input.shape), tuple(m.shape))
    m = xp.broadcast_to(m, out_shape)
    count = int(m.sum())
    if count > source.numel():
        raise RuntimeError(f"masked_scatter: number of elements in source ({source.numel()}) < "
                           f"number of ones in mask ({count})")
    # position k of the output takes source element (number of true mask entries before k)
    take = xp.clip(xp.cumsum(m.reshape(-1)) - 1, 0, max(source.numel() - 1, 0)).reshape(out_shape)
    picked = shape.reshape(source, (-1,))[Tensor._wrap(take)] if source.numel() else source
    return compare.where(Tensor._wrap(m), picked, input)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with the elements at the flat (row-major) positions ``index`` replaced by (or,
    with ``accumulate``, increased by) ``source``."""
    flat = shape.reshape(input, (-1,))
    n = flat.shape[0]
    idx = index._data.reshape(-1)
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"put: index out of range for a tensor of {n} elements")
    done = indexing.index_put(flat, (Tensor._wrap(idx),), shape.reshape(source, (-1,)), accumulate)
    return shape.reshape(done, tuple(input.shape))


def fill(input: Tensor, value) -> Tensor:
    """A new tensor shaped and typed like ``input``, every element ``value``."""
    xp = get_array_module(input._data)
    v = value._data if isinstance(value, Tensor) else value
    return Tensor._wrap(xp.full(input._data.shape, v, dtype=input._data.dtype))


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Samples of the number of successes in ``count`` trials of probability ``prob`` (element
    by element, broadcast), with ``count``'s dtype."""
    n = backend.move_array(count._data, backend.CPU)
    q = backend.move_array(prob._data, backend.CPU)
    if np.any(q < 0) or np.any(q > 1) or np.any(n < 0):
        raise RuntimeError("binomial: expects count >= 0 and prob in [0, 1]")
    draws = get_rng(generator).binomial(n.astype(np.int64), q).astype(n.dtype)
    return Tensor._wrap(backend.move_array(draws, count.device))


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``torch.embedding``'s argument order (weight first; ``padding_idx=-1`` means none) for
    ``nn.functional.embedding``'s lookup."""
    return nn_ops.embedding(indices, weight, padding_idx=None if padding_idx < 0 else padding_idx,
                            scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def _shift(name: str, op):
    def shift(input, other, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return write_out(name, out, shift(input, other))
        ref = input if isinstance(input, Tensor) else other
        xp = get_array_module(ref._data)
        arrays = []
        for v in (input, other):
            arr = v._data if isinstance(v, Tensor) else xp.asarray(v, dtype=ref._data.dtype)
            if arr.dtype.kind not in "iu":
                raise RuntimeError(f"{name}: only integer tensors can be shifted, got {arr.dtype}")
            arrays.append(arr)
        dtype = (np.result_type(*arrays) if all(isinstance(v, Tensor) for v in (input, other))
                 else ref._data.dtype)
        return Tensor._wrap(op(arrays[0], arrays[1]).astype(dtype))

    shift.__name__ = name
    shift.__doc__ = f"Element-wise bit shift of integer tensors (``{name}``)."
    return shift


bitwise_left_shift = _shift("bitwise_left_shift", np.left_shift)
bitwise_right_shift = _shift("bitwise_right_shift", np.right_shift)


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-d tensor over the bytes of ``buffer`` (no copy: writes show in both)."""
    arr = np.frombuffer(buffer, dtype=backend.to_dtype(dtype).np, count=count, offset=offset)
    out = Tensor._wrap(arr)
    if requires_grad:
        out.requires_grad_(True)
    return out


# -- Tensor methods ---------------------------------------------------------------------------

def _sum_to_size(self: Tensor, *size) -> Tensor:
    """Sum ``self`` down to ``size``, which it must be expandable from."""
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    try:
        expandable = np.broadcast_shapes(size, tuple(self.shape)) == tuple(self.shape)
    except ValueError:
        expandable = False
    if not expandable:
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size "
                           f"{list(self.shape)}")
    lead = self.ndim - len(size)
    out = self.sum(dim=tuple(builtins.range(lead))) if lead else self
    dims = tuple(i for i, s in enumerate(size) if s == 1 and out.shape[i] != 1)
    return out.sum(dim=dims, keepdim=True) if dims else out


def _storage_offset(self: Tensor) -> int:
    """How many elements into its memory block ``self`` starts (non-zero for a view)."""
    a = self._data
    owner = a
    while getattr(owner, "base", None) is not None:
        owner = owner.base
    if get_array_module(a) is np:
        start = a.__array_interface__["data"][0]
        origin = np.asarray(owner).__array_interface__["data"][0] if owner is not a else start
    else:
        start, origin = a.data.ptr, owner.data.ptr
    return (start - origin) // a.itemsize


def _new(self: Tensor, *args, **kwargs) -> Tensor:
    """A tensor of ``self``'s dtype and device: empty of the given sizes, or holding ``data``."""
    if not args:
        return self.new_empty((0,), **kwargs)
    if all(isinstance(a, numbers.Integral) for a in args):
        return self.new_empty(tuple(args), **kwargs)
    if len(args) == 1:
        return self.new_tensor(args[0], **kwargs)
    raise TypeError("new(): expected sizes (ints) or a single data argument")


def _fill_diagonal(input: Tensor, fill_value, wrap: bool = False) -> Tensor:
    a = input._data
    if a.ndim < 2 or (a.ndim > 2 and len(set(a.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: dimensions must be at least 2 and, above 2, all of "
                           f"equal length; got shape {tuple(a.shape)}")
    xp = get_array_module(a)
    on_diag = np.zeros(a.shape, dtype=bool)
    np.fill_diagonal(on_diag, True, wrap=wrap)
    return compare.where(Tensor._wrap(xp.asarray(on_diag)), fill_value, input)


def _reshaping_inplace(fn, name: str):
    """The in-place twin of a view op (``t_``, ``unsqueeze_`` ...): ``self`` takes the view's
    shape and strides and, when recorded, its history."""

    def method(self, *args, **kwargs):
        prepare_inplace(self, name)  # the in-place rules: a leaf that requires grad is refused
        out = fn(self, *args, **kwargs)
        self._data = out._data
        if out._node is not None:
            self._node = out._node
        view = self._base
        if view is not None and view[1] is not None:  # a view of a view: compose the two
            outer = view[1]
            self._base = (view[0], lambda t: fn(outer(t), *args, **kwargs), view[2])
        self._version += 1
        return self

    method.__name__ = name
    method.__doc__ = f"In-place version of :func:`{fn.__name__}`: changes ``self``'s shape."
    return method


def resize_(self: Tensor, *size, memory_format=None) -> Tensor:
    """Give ``self`` the shape ``size``, keeping its first elements in row-major order; new
    elements (when it grows) are zero. Only contiguous tensors, and no tensor that requires grad."""
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"resize_: negative dimension in size {list(size)}")
    if self.requires_grad:
        raise RuntimeError("resize_: cannot resize variables that require grad")
    a = self._data
    xp = get_array_module(a)
    if not a.flags.c_contiguous:
        raise RuntimeError(f"resize_: ember resizes only contiguous tensors (this one has shape "
                           f"{tuple(a.shape)} and strides {a.strides}); call contiguous() first")
    n = int(np.prod(size))
    flat = a.reshape(-1)
    if n <= flat.size:
        self._data = flat[:n].reshape(size)  # still shares memory, as PyTorch's shrink does
    else:
        if self._base is not None:
            raise RuntimeError(f"resize_: can't grow a view ({tuple(a.shape)} -> {size}): its "
                               "memory belongs to another tensor")
        grown = xp.zeros(n, dtype=a.dtype)
        grown[:flat.size] = flat
        self._data = grown.reshape(size)
    self._version += 1
    return self


def resize_as_(input: Tensor, tensor: Tensor, *, memory_format=None) -> Tensor:
    """``input.resize_(tensor.shape)``."""
    return resize_(input, tuple(tensor.shape))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """Fill with Cauchy samples of the given median and half-width ``sigma``."""
    draws = median + sigma * get_rng(generator).standard_cauchy(tuple(self.shape))
    return sampling._fill(self, draws, "cauchy_")


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """Fill with samples whose logarithm is normal with the given ``mean`` and ``std``."""
    return sampling._fill(self, get_rng(generator).lognormal(mean, std, tuple(self.shape)), "log_normal_")


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(``p``) trials up to and including the first success."""
    if not 0 < p <= 1:
        raise RuntimeError(f"geometric_: expects p to be in (0, 1], but got p={p}")
    return sampling._fill(self, get_rng(generator).geometric(p, tuple(self.shape)), "geometric_")


def _refuse_bfloat16(self: Tensor, *args, **kwargs):
    raise TypeError("bfloat16(): ember computes with NumPy/CuPy, which have no bfloat16 dtype; "
                    "use half() (float16) or float() instead")


_INPLACE = {
    name: inplace_method(fn, name)
    for name, fn in dict(
        eq_=compare.eq, ne_=compare.ne, lt_=compare.lt, le_=compare.le, gt_=compare.gt,
        ge_=compare.ge, greater_=compare.gt, greater_equal_=compare.ge, less_=compare.lt,
        less_equal_=compare.le, not_equal_=compare.ne,
        bitwise_and_=compare.bitwise_and, bitwise_or_=compare.bitwise_or,
        bitwise_xor_=compare.bitwise_xor, bitwise_not_=compare.bitwise_not,
        bitwise_left_shift_=bitwise_left_shift, bitwise_right_shift_=bitwise_right_shift,
        divide_=elementwise.div, multiply_=elementwise.mul, subtract_=elementwise.sub,
        true_divide_=elementwise.div, tril_=shape.tril, triu_=shape.triu,
        nextafter_=stats.nextafter, masked_scatter_=masked_scatter, put_=put,
        fill_diagonal_=_fill_diagonal,
    ).items()
}


def _nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """The indices of the nonzero elements (as :func:`nonzero`) cut or padded with
    ``fill_value`` rows to exactly ``size`` rows, as ``Tensor.nonzero_static``."""
    found = indexing.nonzero(input)
    rows = found._data.shape[0]
    if rows >= size:
        return found[:size]
    xp = backend.get_array_module(found._data)
    pad = xp.full((size - rows, found._data.shape[1]), fill_value, dtype=found._data.dtype)
    return shape.cat([found, Tensor._wrap(pad)], 0)

attach(
    arccosh=arccosh, arcsinh=arcsinh, arctanh=arctanh, arccosh_=arccosh_, arcsinh_=arcsinh_,
    arctanh_=arctanh_, negative_=negative_, ldexp_=ldexp_, split_with_sizes=split_with_sizes,
    is_same_size=is_same_size, is_signed=is_signed, is_nonzero=is_nonzero, is_complex=is_complex,
    is_conj=is_conj, is_neg=is_neg, isreal=isreal, resolve_conj=resolve_conj,
    resolve_neg=resolve_neg, conj=conj, conj_physical=conj_physical,
    conj_physical_=conj_physical_, adjoint=adjoint, angle=angle, get_device=get_device,
    masked_scatter=masked_scatter, put=put, bitwise_left_shift=bitwise_left_shift,
    bitwise_right_shift=bitwise_right_shift, __lshift__=bitwise_left_shift,
    __rshift__=bitwise_right_shift, sum_to_size=_sum_to_size, storage_offset=_storage_offset,
    new=_new, ndimension=lambda self: self.ndim, nonzero_static=_nonzero_static,
    short=lambda self, memory_format=None: self.to(backend.dtype("int16")),
    char=lambda self, memory_format=None: self.to(backend.dtype("int8")),
    byte=lambda self, memory_format=None: self.to(backend.dtype("uint8")),
    cauchy_=cauchy_, log_normal_=log_normal_, geometric_=geometric_,
    bfloat16=_refuse_bfloat16, resize_=resize_, resize_as_=resize_as_, **_INPLACE,
    **{name: _reshaping_inplace(fn, name) for name, fn in dict(
        t_=shape.t, transpose_=shape.transpose, swapaxes_=shape.transpose,
        swapdims_=shape.transpose, squeeze_=shape.squeeze, unsqueeze_=shape.unsqueeze).items()},
)
