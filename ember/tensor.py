"""The Tensor: an n-dimensional array (NumPy or CuPy) plus what autograd needs to know about it.

This file holds the Tensor's state and its non-math behaviour (properties, conversion,
``backward``, hooks, devices). The math lives in :mod:`ember.ops`, which attaches each op to the
class as a method and operator, so every op is defined in exactly one place; how a tensor prints
lives in :mod:`ember.printing`.
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

    def is_inference(self) -> bool:
        """False: ember's inference mode records nothing but marks no tensor."""
        return False

    def is_shared(self) -> bool:
        return False

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
        from ember.printing import tensor_repr  # loaded on the first print (import time)

        return tensor_repr(self)

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
