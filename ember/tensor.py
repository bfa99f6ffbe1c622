"""The Tensor: an n-dimensional array (NumPy or CuPy) plus what autograd needs to know about it.

This file holds the Tensor's state and its non-math behaviour (properties, conversion, repr,
``backward``, hooks, devices). The math lives in :mod:`ember.ops`, which attaches each op to the
class as a method and operator, so every op is defined in exactly one place.
"""

from __future__ import annotations

import math
import sys
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
    def shape(self) -> tuple:
        return self._data.shape

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        return self._data.shape if dim is None else self._data.shape[dim]

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

    def is_contiguous(self) -> bool:
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

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shares memory on the CPU, like PyTorch)."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
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
        body = _format_array(a)
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        d = self.dtype
        if d not in (backend.float32, backend.int64, backend.bool_) or a.size == 0:
            extras.append(f"dtype={d}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

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

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        if isinstance(device, int):
            device = f"cuda:{device}"
        return self.to("cuda" if device is None else device)

    def float(self) -> Tensor:
        return self.type(backend.float32)

    def double(self) -> Tensor:
        return self.type(backend.float64)

    def half(self) -> Tensor:
        return self.type(backend.float16)

    def long(self) -> Tensor:
        return self.type(backend.int64)

    def int(self) -> Tensor:
        return self.type(backend.int32)

    def bool(self) -> Tensor:
        return self.type(backend.bool_)


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
    ``ember.Size([2, 3])``; slicing gives a ``Size`` again.

    ``Tensor.shape`` and ``Tensor.size()`` return plain tuples: building a ``Size`` on every
    access measured about +130 ns (~110 ns for ``x.shape`` became ~240 ns), on the hottest
    path there is; wrap one yourself where the methods are wanted: ``ember.Size(x.shape)``.
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


def _format_array(a: np.ndarray) -> str:
    """The body of a tensor's repr under the current print options."""
    opts = _PRINT_OPTS
    precision = int(opts["precision"])
    threshold = opts["threshold"]
    threshold = sys.maxsize if threshold == math.inf else int(threshold)
    kw = dict(separator=", ", prefix="tensor(", precision=precision, threshold=threshold,
              edgeitems=int(opts["edgeitems"]), max_line_width=int(opts["linewidth"]))
    is_float = a.dtype.kind == "f" and a.size > 0
    # like PyTorch: whole numbers print as "1.", otherwise every value gets `precision` decimals
    fixed = is_float and bool(np.any(np.isfinite(a) & (a != np.round(a))))
    sci = opts["sci_mode"]
    if is_float and sci is not None:
        if sci:
            def fmt(v):
                return f"{v:.{precision}e}"
        elif fixed:
            def fmt(v):
                return f"{v:.{precision}f}"
        else:
            def fmt(v):
                return f"{v:.0f}." if math.isfinite(v) else f"{v}"
        width = _widest(a, fmt)
        kw["formatter"] = {"float_kind": lambda v: fmt(float(v)).rjust(width)}
    else:
        kw["floatmode"] = "fixed" if fixed else "maxprec"
    return np.array2string(a, **kw)


def _widest(a: np.ndarray, fmt) -> int:
    """The longest ``fmt`` of an element of ``a``: of every element for arrays of up to 10000
    elements, else of the few that can be widest (the largest and smallest values, the tiniest
    nonzero magnitude, nan and infinities), to keep printing a huge tensor cheap."""
    if a.size <= 10000:
        return max(len(fmt(float(v))) for v in a.ravel())
    finite = a[np.isfinite(a)]
    cands = [math.nan] if np.isnan(a).any() else []
    cands += [float(v) for v in a[np.isinf(a)][:1]] + [float(v) for v in a[np.isneginf(a)][:1]]
    if finite.size:
        cands += [float(finite.max()), float(finite.min())]
        mags = np.abs(finite)
        nonzero = np.flatnonzero(mags)
        if nonzero.size:
            cands.append(float(finite[nonzero[np.argmin(mags[nonzero])]]))
    return max(len(fmt(v)) for v in cands)
