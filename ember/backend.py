"""Array backends, devices and dtypes: the bottom layer of ember.

CPU arrays are NumPy arrays and GPU arrays are CuPy arrays. Every op is written once against the
module returned by :func:`get_array_module`, which picks the backend from the data itself (the
approach Chainer took), so no op is written twice. CuPy is imported lazily: a CPU-only user never
pays for it.
"""

from __future__ import annotations

import warnings

import numpy as np

# PyTorch returns inf and nan from log(0), x / 0, sqrt(-1) without a word; NumPy warns. ember's
# ops follow PyTorch, so these warnings are silenced for ember's own modules only (the filter
# matches the module that called NumPy; a user's own NumPy code still warns).
warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow) encountered",
                        RuntimeWarning, r"ember(\.|$)")

_cupy = None  # the cupy module once loaded, False when it is known to be missing

# Called once, without arguments, right after CuPy loads (``ember`` adds ember.cuda's seeding).
CUPY_LOADED_HOOKS: list = []


def cupy_module():
    """Return the ``cupy`` module, or ``None`` when CuPy (or a GPU driver) is not installed."""
    global _cupy
    if _cupy is None:
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no GPU visible")
            _cupy = cupy
        except Exception:  # ImportError, or CuPy present without a usable driver or GPU
            _cupy = False
            return None
        # ember hooks ember.cuda in here to give CuPy's generators ember's seed, so
        # ember.manual_seed() made before the first GPU op still governs GPU randomness (dropout)
        for hook in CUPY_LOADED_HOOKS:
            hook()
    return _cupy or None


def get_array_module(array):
    """Return ``numpy`` or ``cupy``: the module that owns ``array`` (NumPy for anything else)."""
    if type(array) is np.ndarray or _cupy is None or _cupy is False:
        return np
    return _cupy if isinstance(array, _cupy.ndarray) else np


# --------------------------------------------------------------------------------------- devices


class device:
    """Where a tensor's memory lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``.

    Mirrors ``torch.device``: ``type`` is ``"cpu"`` or ``"cuda"`` and ``index`` the GPU number
    (``None`` when not given).
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif not isinstance(type, str):
            raise TypeError(f"device() expects a string such as 'cpu' or 'cuda:0', got {type!r}")
        else:
            spec = type.strip().lower()
            if ":" in spec:
                spec, _, idx = spec.partition(":")
                if not idx.isdigit():
                    raise RuntimeError(f"Invalid device string: {type!r} (expected 'cuda:N')")
                if index is not None:
                    raise RuntimeError(f"device {type!r} already names an index; do not pass index")
                index = int(idx)
            if spec not in ("cpu", "cuda"):
                raise RuntimeError(
                    f"Expected one of cpu, cuda device type at start of device string: {type!r}"
                )
            if spec == "cpu" and index not in (None, 0):
                raise RuntimeError(f"cpu device takes no index other than 0, got {index}")
            type = spec
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")
_cuda_devices: dict[int, device] = {}


def device_of(array) -> device:
    """The :class:`device` an array lives on."""
    if type(array) is np.ndarray:
        return CPU
    cp = cupy_module()
    if cp is not None and isinstance(array, cp.ndarray):
        idx = array.device.id
        dev = _cuda_devices.get(idx)
        if dev is None:
            dev = _cuda_devices[idx] = device("cuda", idx)
        return dev
    return CPU


def as_device(dev) -> device:
    """Normalise a device argument (``None``, string, or :class:`device`) to a :class:`device`."""
    if dev is None:
        return CPU
    return dev if isinstance(dev, device) else device(dev)


CUDA_MISSING = (
    "CUDA was asked for but CuPy with a working GPU is not available. Install the GPU extra "
    "(pip install 'ember[cuda]', or pip install -e \".[cuda]\" from a checkout; it needs an NVIDIA "
    "driver and CUDA 12) or use device='cpu'."
)


def cuda_index(dev: device) -> int:
    """The GPU number ``dev`` (a ``cuda`` device) stands for, checked against the visible GPUs.

    ``cuda`` without a number means the current GPU (``ember.cuda.set_device``), as in PyTorch.
    Raises the error that says what to install when there is no usable GPU.
    """
    cp = cupy_module()
    if cp is None:
        raise RuntimeError(CUDA_MISSING)
    index = cp.cuda.runtime.getDevice() if dev.index is None else dev.index
    count = cp.cuda.runtime.getDeviceCount()
    if index >= count:
        raise RuntimeError(f"device cuda:{index} was asked for but only {count} GPU(s) are visible")
    return index


def resolve_device(dev) -> device:
    """``dev`` as a :class:`device` with its GPU number filled in (``cuda`` -> ``cuda:current``)."""
    dev = as_device(dev)
    if dev.type == "cpu":
        return dev
    index = cuda_index(dev)
    if dev.index == index:
        return dev
    found = _cuda_devices.get(index)
    if found is None:
        found = _cuda_devices[index] = device("cuda", index)
    return found


def move_array(array, dev: device):
    """Copy ``array`` to ``dev`` (a no-op when it is already there)."""
    dev = as_device(dev)
    if dev.type == "cpu":
        return array if type(array) is np.ndarray else array.get()
    index = cuda_index(dev)
    cp = _cupy
    if isinstance(array, cp.ndarray) and array.device.id == index:
        return array
    with cp.cuda.Device(index):
        return cp.asarray(array)


def to_host(value):
    """``value`` with every CuPy array in it (alone, or in a tuple or list) copied to a NumPy one."""
    if isinstance(value, (tuple, list)):
        return type(value)(to_host(v) for v in value)
    if type(value) is np.ndarray or not _cupy or not isinstance(value, _cupy.ndarray):
        return value
    return value.get()


def host_call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` for a NumPy/SciPy ``fn`` that CuPy has no equivalent of, given
    CuPy arrays: it runs on host copies, and array results (alone or in a tuple) come back to the
    GPU of the first CuPy argument.

    The fallback for the few such functions (SciPy special functions missing from
    ``cupyx.scipy.special``, ``np.multiply.at``): it costs two copies and a synchronisation, so
    ops use it only where there is no device equivalent, never on a training path.
    """
    device = next((v.device for v in args if _cupy and isinstance(v, _cupy.ndarray)), None)
    out = fn(*to_host(args), **{k: to_host(v) for k, v in kwargs.items()})
    if device is None:
        return out

    def back(v):
        if isinstance(v, tuple):
            return tuple(back(x) for x in v)
        if isinstance(v, (np.ndarray, np.generic)):
            with device:
                return _cupy.asarray(v)
        return v

    return back(out)


# ---------------------------------------------------------------------------------------- dtypes


class dtype:
    """A tensor element type: ``ember.float32``, ``ember.int64``, ``ember.bool`` ...

    Wraps a NumPy dtype (``.np``) and answers the questions PyTorch's dtypes answer.
    """

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str):
        self.name = name
        self.np = np.dtype(name)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):
        return (to_dtype, (self.name,))


float16 = dtype("float16")
float32 = dtype("float32")
float64 = dtype("float64")
uint8 = dtype("uint8")
int8 = dtype("int8")
int16 = dtype("int16")
int32 = dtype("int32")
int64 = dtype("int64")
bool_ = dtype("bool")
bool_.name = "bool"

ALL_DTYPES = (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)
_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update(
    half=float16, float=float32, double=float64, int=int32, long=int64, short=int16, bool_=bool_
)

_default_float = float32


def get_default_dtype() -> dtype:
    """The floating dtype new tensors get from Python floats (``float32`` unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the floating dtype new tensors get from Python floats (``float32`` or ``float64``)."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating dtypes can be the default, got {d}")
    _default_float = d


def to_dtype(d) -> dtype:
    """Normalise ``ember.float32``, ``numpy.float32``, ``"float32"``, ``float``, ``int``, ``bool``."""
    if type(d) is dtype:
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    try:
        found = _BY_NP.get(np.dtype(d))
    except TypeError:
        found = None
    if found is None:
        raise TypeError(
            f"unsupported dtype {d!r}; ember supports "
            + ", ".join(x.name for x in ALL_DTYPES)
        )
    return found


def dtype_of(array) -> dtype:
    """The ember :class:`dtype` of an array."""
    try:
        return _BY_NP[array.dtype]
    except KeyError:
        raise TypeError(f"arrays of dtype {array.dtype} are not supported by ember") from None


_PROMOTE_CACHE: dict = {}


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's type promotion between two tensors' NumPy dtypes.

    It differs from NumPy's where a float meets an integer (PyTorch keeps the float's width, NumPy
    widens to float64) and for float16 with wide integers.
    """
    key = (a, b)
    hit = _PROMOTE_CACHE.get(key)
    if hit is None:
        fa, fb = a.kind == "f", b.kind == "f"
        if fa and not fb:
            hit = a
        elif fb and not fa:
            hit = b
        else:
            hit = np.promote_types(a, b)
        _PROMOTE_CACHE[key] = hit
    return hit


# --------------------------------------------------------------- dtype queries (public API)

_KIND_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # PyTorch's bool < integer < float order


def promote_dtypes(type1, type2) -> dtype:
    """The dtype two tensors of ``type1`` and ``type2`` combine to, as ``torch.promote_types``.

    Exported as ``ember.promote_types``; the NumPy-level :func:`promote_types` above is the
    cached one the ops call.
    """
    return _BY_NP[promote_types(to_dtype(type1).np, to_dtype(type2).np)]


def can_cast(from_, to) -> bool:
    """Whether ``torch.can_cast`` allows ``from_`` to ``to``: never down a category (float to
    integer, integer to bool); widths do not matter."""
    return _KIND_CATEGORY[to_dtype(from_).np.kind] <= _KIND_CATEGORY[to_dtype(to).np.kind]


def _short(v: float) -> str:
    return f"{v:g}"


class finfo:
    """Limits of a floating dtype (the default dtype when omitted), as ``torch.finfo``.

    ``bits``, ``eps`` (the step after 1.0), ``max``, ``min``, ``tiny`` = ``smallest_normal``
    (the smallest positive normal number), ``resolution`` (10 to the minus number of exact
    decimal digits) and ``dtype`` (its name, a string).
    """

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type=None):
        d = get_default_dtype() if type is None else to_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"ember.finfo() requires a floating point input type. Use "
                            f"ember.iinfo to handle {d}")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # a float64, whatever the dtype
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={_short(self.resolution)}, min={_short(self.min)}, "
                f"max={_short(self.max)}, eps={_short(self.eps)}, "
                f"smallest_normal={_short(self.smallest_normal)}, tiny={_short(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` and ``dtype``
    (its name). ``bool`` is refused, as in PyTorch."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type):
        d = to_dtype(type)
        if d is bool_:
            raise TypeError("ember.bool is not supported by ember.iinfo")
        if d.is_floating_point:
            raise TypeError(f"ember.iinfo() requires an integer input type. Use ember.finfo to "
                            f"handle {d}")
        info = np.iinfo(d.np)
        self.bits, self.max, self.min = int(info.bits), int(info.max), int(info.min)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={_short(self.min)}, max={_short(self.max)}, dtype={self.dtype})"
