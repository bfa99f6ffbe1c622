"""The Tensor: an n-dimensional array (NumPy or CuPy) plus what autograd needs to know about it.

This file holds the Tensor's state and its non-math behaviour (properties, conversion, repr,
``backward``, hooks, devices). The math lives in :mod:`ember.ops`, which attaches each op to the
class as a method and operator, so every op is defined in exactly one place.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from ember import backend
from ember.backend import device_of, dtype_of


class Tensor:
    """An n-dimensional array that can record the ops applied to it, for reverse-mode gradients.

    Create tensors with :func:`ember.tensor`, :func:`ember.zeros`, :func:`ember.randn` and friends;
    the constructor ``Tensor(array)`` wraps an existing NumPy/CuPy array without copying.
    """

    # ``_base`` is ``(base, view_fn, base's node when this view's history was set)`` on views
    # (see ember.ops.common.mark_view), else None. ``_vc`` is the in-place version counter,
    # shared by every alias of the same memory (views, detach()); ``None`` stands for a counter at
    # 0 that nothing shares yet, so creating a tensor costs no counter object.
    __slots__ = ("_data", "requires_grad", "grad", "_node", "_vc", "_hooks", "_base",
                 "__weakref__")
    __array_priority__ = 1000  # numpy_scalar * tensor must call Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data._data
        elif not hasattr(data, "__array_interface__") and not hasattr(data, "__cuda_array_interface__"):
            data = np.asarray(data)
        self._data = data
        self.grad = None
        self._node = None
        self._vc = None
        self._hooks = None
        self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(array) -> Tensor:
        """A tensor around ``array`` with no history (the fast path used by ops and the engine)."""
        if type(array) is not np.ndarray and isinstance(array, np.generic):
            array = np.asarray(array)
        t = Tensor.__new__(Tensor)
        t._data = array
        t.requires_grad = False
        t.grad = None
        t._node = None
        t._vc = None
        t._hooks = None
        t._base = None
        return t

    # ------------------------------------------------------------------------- version counter

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place, through any alias (views
        and ``detach()`` share one counter, as in PyTorch). Writes go to the shared counter, so
        ``t._version += 1`` after changing ``t._data`` in place is seen by every alias."""
        vc = self._vc
        return 0 if vc is None else vc.value

    @_version.setter
    def _version(self, value: int) -> None:
        vc = self._vc
        if vc is None:
            self._vc = VersionCounter(value)
        else:
            vc.value = value

    def _shared_version_counter(self) -> VersionCounter:
        """This tensor's counter, created if none exists yet, for an alias to share."""
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter(0)
        return vc

    # ------------------------------------------------------------------------------ properties

    @property
    def data(self) -> Tensor:
        """This tensor's values, detached from the graph (shares memory), as in PyTorch."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else value

    @property
    def shape(self) -> Size:
        """The size of each dimension, as an :class:`ember.Size` (a tuple)."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as an :class:`ember.Size`, or the length of dimension ``dim``."""
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    @property
    def dtype(self):
        return dtype_of(self._data)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def nelement(self) -> int:
        """The number of elements (the same as :meth:`numel`)."""
        return int(self._data.size)

    def stride(self, dim: int | None = None):
        """Steps in elements (not bytes) between neighbours along each dimension, as PyTorch."""
        itemsize = self._data.itemsize
        strides = tuple(s // itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements lie in memory in row-major order without gaps."""
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        """The address of the first element (tensors sharing memory share addresses)."""
        a = self._data
        return int(a.data.ptr if hasattr(a, "__cuda_array_interface__")
                   else a.__array_interface__["data"][0])

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return device_of(self._data).type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return type(self._data) is np.ndarray

    # ember has no XPU, MPS, meta, sparse, quantized, MKL-DNN or nested tensors: PyTorch's
    # questions about them all answer False.
    is_xpu = is_mps = is_meta = is_sparse = is_sparse_csr = is_quantized = is_mkldnn = \
        is_nested = is_ipu = is_vulkan = is_mtia = is_maia = property(lambda self: False)

    @property
    def layout(self) -> layout:
        """Always ``ember.strided``: ember tensors are dense."""
        return strided

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all elements (``numel() * itemsize``)."""
        return self._data.size * self._data.itemsize

    @property
    def name(self) -> None:
        """The tensor's dimension-name (always ``None``: ember has no named tensors)."""
        return None

    @property
    def names(self) -> tuple:
        return (None,) * self._data.ndim

    @property
    def output_nr(self) -> int:
        """Which output of its ``grad_fn`` this tensor is (ember's ops have one: 0)."""
        return 0

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` was called on this non-leaf tensor."""
        node = self._node
        return node is not None and any(getattr(h, "_retains_for", None) is not None
                                        and h._retains_for() is self for h in node.hooks or ())

    @property
    def real(self) -> Tensor:
        """The tensor itself (ember's dtypes are all real)."""
        return self

    @property
    def imag(self):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a view)."""
        return self.transpose(-2, -1)

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of the last two dimensions (``mT`` for real dtypes)."""
        return self.transpose(-2, -1)

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix (``.T`` of a 2-d real tensor)."""
        if self._data.ndim not in (0, 2):
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self._data.ndim}-D tensor.")
        return self if self._data.ndim == 0 else self.transpose(0, 1)

    def get_device(self) -> int:
        """The GPU index, or -1 on the CPU."""
        dev = device_of(self._data)
        return -1 if dev.type == "cpu" else (dev.index or 0)

    def ndimension(self) -> int:
        return self._data.ndim

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self._data.dtype.kind in "fi"

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def is_inference(self) -> bool:
        """False: ember's inference mode records nothing but marks no tensor."""
        return False

    def is_shared(self) -> bool:
        return False

    def is_same_size(self, other: Tensor) -> bool:
        return self._data.shape == other._data.shape

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor (an error for any other)."""
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if
                               self._data.size == 0 else
                               "Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.item())

    def conj(self) -> Tensor:
        """The tensor itself: conjugation changes nothing for real dtypes."""
        return self

    resolve_conj = resolve_neg = conj_physical = conj

    def storage_offset(self) -> int:
        """Elements between the start of the underlying memory and this tensor's first one."""
        a = self._data
        base = a
        while getattr(base, "base", None) is not None:
            base = base.base
        if base is a or not hasattr(base, "__array_interface__"):
            return 0
        return (a.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // a.itemsize

    def dim_order(self, *, ambiguity_check: bool = False) -> tuple:
        """The dims from outermost to innermost in memory (``(0, 1, ..., n-1)`` when contiguous)."""
        strides = self.stride()
        return tuple(sorted(range(self._data.ndim), key=lambda d: -strides[d]))

    def share_memory_(self) -> Tensor:
        """A no-op kept for PyTorch programs: ember's DataLoader workers get tensors by copy."""
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (not the result of a recorded op)."""
        return self.grad_fn is None

    @property
    def grad_fn(self):
        """The :class:`~ember.autograd.graph.Node` that produced this tensor, or ``None``."""
        if self._base is not None:  # a view may be stale: its base changed in place
            from ember.autograd.graph import refresh_if_stale

            refresh_if_stale((self,))
        return self._node

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------------------ conversion

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array (shares memory on the CPU, like PyTorch).

        As in PyTorch a tensor that requires grad is refused while grad mode is on (detach it,
        or call this under ``no_grad``), and ``force=True`` returns a host copy of any tensor.
        """
        if force:
            return np.array(backend.move_array(self._data, backend.CPU), copy=True)
        if self.requires_grad:
            from ember.autograd import graph

            if graph.GRAD_ENABLED:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                                   "tensor.detach().numpy() instead.")
        if type(self._data) is not np.ndarray:
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                "the tensor to host memory first."
            )
        return self._data

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.item()

    def tolist(self):
        """The values as (nested) Python numbers; a GPU tensor is copied to the host first."""
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        a = backend.move_array(self._data, backend.CPU)
        if dtype is not None:
            return a.astype(dtype, copy=bool(copy))
        # NumPy 2 passes copy=True for np.array(t) and trusts the result not to alias the tensor
        return a.copy() if copy and a is self._data else a

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.3f}"``); others only with an empty
        spec (their str), as in PyTorch."""
        if self._data.ndim == 0:
            return self._data.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} values is ambiguous"
            )
        return bool(self._data.item())

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __repr__(self):
        a = backend.move_array(self._data, backend.CPU)
        prefix = "tensor("
        suffixes = []
        if self.device.type != "cpu":
            suffixes.append(f"device='{self.device}'")
        d = self.dtype
        default = backend.get_default_dtype()
        if a.size == 0:
            if a.ndim != 1:  # as NumPy, the shape of an empty tensor shows unless it is (0,)
                suffixes.append(f"size={tuple(a.shape)}")
            if d != default:  # no element to tell an integer tensor by
                suffixes.append(f"dtype={d}")
        elif d not in (default, backend.int64, backend.bool_):
            suffixes.append(f"dtype={d}")
        if self._node is not None:
            suffixes.append(f"grad_fn=<{self._node.name()}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return _with_suffixes(prefix + _format_array(a, len(prefix)), suffixes, len(prefix))

    # ------------------------------------------------------------------------------- autograd

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording ops on this leaf tensor. Only floating tensors can."""
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (got {self.dtype}); "
                "convert first, for example x.float().requires_grad_()"
            )
        if not requires_grad and self._node is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same values (shared memory) as a new leaf that records nothing.

        As in PyTorch it shares the in-place version counter with this tensor (an alias without
        a gradient link: ``_base = (owner, None, None)``), so changing either in place is caught
        when the other was saved for backward.
        """
        t = Tensor._wrap(self._data)
        b = self._base
        t._base = ((b[0] if b is not None else self), None, None)
        t._vc = self._shared_version_counter()
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from its history in place (it becomes a leaf)."""
        from ember.autograd import graph

        graph.HISTORY_REWRITTEN = True  # views of it must notice (see graph.record)
        self._node = None
        self.requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it came from.

        ``gradient`` may be omitted only for a single-element tensor (it is then 1).
        """
        from ember.autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            owner = self._node
            if owner.hooks is None:
                owner.hooks = []
            hooks = owner.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if self._node is None:
            return
        # a weak reference: the hook lives on this tensor's node, which the tensor holds
        target_ref = weakref.ref(self)

        def keep(g):
            target = target_ref()
            if target is not None:
                target.grad = g if target.grad is None else target.grad + g

        keep._retains_for = target_ref  # read by the retains_grad property
        self.register_hook(keep)

    # -------------------------------------------------------------------------------- devices

    @staticmethod
    def _parse_to_args(args, kwargs):
        """``(device, dtype)`` from PyTorch's ``to`` forms (either may be ``None``); shared by
        :meth:`Tensor.to` and ``Module.to``."""
        dev, dt = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("copy", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a.device, a.dtype
            elif isinstance(a, (str, backend.device)):
                dev = a
            elif a is not None:
                dt = a
        return dev, dt

    def cpu(self, memory_format=None) -> Tensor:
        return self.to("cpu")

    def xpu(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        raise RuntimeError("ember has no XPU backend; use .cpu() or .cuda()")

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        if isinstance(device, int):
            device = f"cuda:{device}"
        return self.to("cuda" if device is None else device)

    def float(self, memory_format=None) -> Tensor:
        return self.type(backend.float32)

    def double(self, memory_format=None) -> Tensor:
        return self.type(backend.float64)

    def half(self, memory_format=None) -> Tensor:
        return self.type(backend.float16)

    def long(self, memory_format=None) -> Tensor:
        return self.type(backend.int64)

    def int(self, memory_format=None) -> Tensor:
        return self.type(backend.int32)

    def bool(self, memory_format=None) -> Tensor:
        return self.type(backend.bool_)

    def short(self, memory_format=None) -> Tensor:
        return self.type(backend.int16)

    def char(self, memory_format=None) -> Tensor:
        return self.type(backend.int8)

    def byte(self, memory_format=None) -> Tensor:
        return self.type(backend.uint8)

class layout:
    """A tensor memory layout, as ``torch.layout``; ember has one, ``ember.strided``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return "strided"


strided = layout("strided")


class VersionCounter:
    """The in-place version of one piece of memory, shared by all tensors that alias it."""

    __slots__ = ("value",)

    def __init__(self, value: int = 0):
        self.value = value


class _HookHandle:
    __slots__ = ("hooks", "hook")

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


# ----------------------------------------------------------------------------- Size, queries


class Size(tuple):
    """A tensor shape, as ``torch.Size``: a tuple of ints with :meth:`numel` and the repr
    ``ember.Size([2, 3])``; slicing gives a ``Size`` again. ``Tensor.shape`` and ``Tensor.size()``
    return one (ops read ``x._data.shape`` instead, so the ~100 ns a Size costs per access stays
    off the small-op path).
    """

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def __repr__(self):
        return f"ember.Size({list(self)})"


def is_tensor(obj) -> bool:
    """Whether ``obj`` is an ember Tensor (an ``nn.Parameter`` too)."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """Whether ``input`` has a floating dtype (float16, float32, float64)."""
    return input.is_floating_point()


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


# ------------------------------------------------------------------------------ printing

_PRINT_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_PRINT_OPTS = dict(_PRINT_PROFILES["default"], sci_mode=None)


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as ``torch.set_printoptions``.

    ``precision``: digits after the point (4); ``threshold``: element count past which only
    ``edgeitems`` (3) items at each end of each dim are shown (1000); ``linewidth``: characters
    per line (80); ``profile``: ``"default"``, ``"short"`` or ``"full"`` (everything printed) sets
    all four first; ``sci_mode``: ``True`` always scientific, ``False`` never, ``None``
    automatic. As in PyTorch, ``sci_mode`` is reset to ``None`` whenever it is not passed.
    """
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of "
                             f"{sorted(_PRINT_PROFILES)}")
        _PRINT_OPTS.update(_PRINT_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _PRINT_OPTS[key] = value
    _PRINT_OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options (the keys :func:`set_printoptions` takes, without ``profile``);
    ``set_printoptions(**get_printoptions())`` restores them."""
    return dict(_PRINT_OPTS)


class _ElementFormat:
    """How every element of one tensor prints, as PyTorch decides it from the values shown: one
    common width and, for floats, fixed point with ``precision`` decimals, whole numbers as
    ``"1."``, or scientific notation (when the nonzero magnitudes span more than 1000x, exceed
    1e8 or fall below 1e-4, unless ``sci_mode`` decides). With no finite nonzero value the
    format stays whole-number style of width 1."""

    def __init__(self, shown: np.ndarray):
        self.floating = shown.dtype.kind == "f"
        self.precision = int(_PRINT_OPTS["precision"])
        self.whole, self.sci, self.width = True, False, 1
        if not self.floating:
            self.width = max((len(str(v)) for v in shown.ravel().tolist()), default=1)
            return
        values = shown.astype(np.float64).ravel()
        finite = values[np.isfinite(values) & (values != 0)]
        if finite.size:
            mags = np.abs(finite)
            low, high = float(mags.min()), float(mags.max())
            self.whole = bool(np.all(finite == np.ceil(finite)))
            forced = _PRINT_OPTS["sci_mode"]
            self.sci = (high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4) if forced is None \
                else bool(forced)
            p = self.precision
            numbers = finite.tolist()
            if self.sci:
                self.width = max(len(f"{v:.{p}e}") for v in numbers)
            elif self.whole:
                self.width = max(len(f"{v:.0f}") for v in numbers) + 1  # the trailing "."
            else:
                self.width = max(len(f"{v:.{p}f}") for v in numbers)

    def __call__(self, v) -> str:
        if not self.floating:
            text = str(v)
        elif self.sci:
            text = f"{v:.{self.precision}e}"
        elif self.whole:
            text = f"{v:.0f}" + ("." if math.isfinite(v) else "")
        else:
            text = f"{v:.{self.precision}f}"
        return text.rjust(self.width)


def _summarized(a: np.ndarray, edge: int) -> np.ndarray:
    """The elements a summarised print shows (``edge`` at each end of each dim), to choose the
    format from."""
    if a.ndim == 0:
        return a
    n = a.shape[0]
    if a.ndim == 1:
        return np.concatenate((a[:edge], a[n - edge:])) if n > 2 * edge else a
    if not edge:
        return a[:0]
    rows = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return np.stack([_summarized(a[i], edge) for i in rows])


def _nested_text(a: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormat) -> str:
    """The bracketed values of ``a``, each row wrapped to the line width, PyTorch's layout."""
    edge = int(_PRINT_OPTS["edgeitems"])
    if a.ndim == 0:
        return fmt(a.item())
    n = a.shape[0]
    cut = summarize and n > 2 * edge
    if a.ndim == 1:
        if summarize and not edge:
            items = ["..."]
        elif cut:
            items = ([fmt(v) for v in a[:edge].tolist()] + [" ..."]
                     + [fmt(v) for v in a[n - edge:].tolist()])
        else:
            items = [fmt(v) for v in a.tolist()]
        per_line = max(1, (int(_PRINT_OPTS["linewidth"]) - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = list(range(edge)) + [None] + list(range(n - edge, n)) if cut else range(n)
    parts = ["..." if i is None else _nested_text(a[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _format_array(a: np.ndarray, indent: int = len("tensor(")) -> str:
    """The values part of a tensor's repr under the current print options, as PyTorch prints."""
    if a.size == 0:
        return "[]"
    threshold = _PRINT_OPTS["threshold"]
    summarize = threshold != math.inf and a.size > threshold
    shown = _summarized(a, int(_PRINT_OPTS["edgeitems"])) if summarize else a
    return _nested_text(a, indent, summarize, _ElementFormat(shown))


def _with_suffixes(text: str, suffixes: list, indent: int) -> str:
    """``text`` followed by ``, suffix`` items, each moved to its own line when it would pass
    the line width, then the closing parenthesis."""
    width = int(_PRINT_OPTS["linewidth"])
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > width:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"
