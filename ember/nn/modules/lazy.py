"""Lazy layers, as ``torch.nn``'s ``Lazy*``: the input size (``in_features``, ``in_channels``,
``num_features``) is read from the first input, then the layer becomes the ordinary one
(``LazyLinear`` becomes a ``Linear``) with that size and its usual initialisation. Create the
optimizer after a first (dry) forward, as in PyTorch."""

from __future__ import annotations

from ember.nn.modules.conv import (
    Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d,
)
from ember.nn.modules.conv3d import BatchNorm3d, Conv3d, ConvTranspose3d, InstanceNorm3d
from ember.nn.modules.linear import Linear
from ember.nn.modules.module import Module
from ember.nn.modules.normalization import (
    BatchNorm1d, BatchNorm2d, InstanceNorm1d, InstanceNorm2d,
)
from ember.nn.parameter import Buffer, Parameter
from ember.tensor import Tensor


class UninitializedParameter(Parameter):
    """The placeholder of a lazy layer's parameter until the first input fixes its shape."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Buffer):
    """The placeholder of a lazy layer's buffer until the first input fixes its shape."""

    __slots__ = ()

    def __init__(self, requires_grad: bool = False, device=None, dtype=None,
                 persistent: bool = True) -> None:
        import numpy as np

        super().__init__(np.empty((0,), dtype=np.float32), persistent=persistent)


# the module state Module.__init__ would reset but a lazy layer must keep when it materialises
_KEEP = ("training", "_forward_pre_hooks", "_forward_hooks", "_backward_hooks",
         "_backward_pre_hooks", "_hook_flags")


class LazyModuleMixin:
    """Defers building parameters to the first call: ``_infer(input)`` gives the size the
    constructor lacks, then ``cls_to_become.__init__`` runs with it and the stored arguments."""

    cls_to_become: type | None = None

    def _lazy_setup(self, args: tuple, kwargs: dict, placeholders: tuple) -> None:
        Module.__init__(self)
        self.__dict__["_lazy_args"] = (args, kwargs)
        for name in placeholders:
            self.register_parameter(name, UninitializedParameter())

    def has_uninitialized_params(self) -> bool:
        """Whether the first input has yet to fix the parameters' shapes."""
        return "_lazy_args" in self.__dict__

    def extra_repr(self) -> str:
        args, kwargs = self.__dict__.get("_lazy_args", ((), {}))
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return ", ".join(["<uninitialized>"] + shown)

    def initialize_parameters(self, input: Tensor, *rest) -> None:
        """Build the parameters for ``input``'s size and become ``cls_to_become``."""
        args, kwargs = self.__dict__.pop("_lazy_args")
        placeholder = next(iter(self._parameters.values()), None)
        if kwargs.get("dtype") is None and placeholder is not None:
            kwargs = dict(kwargs, dtype=placeholder.dtype)
        kept = {k: self.__dict__[k] for k in _KEEP if k in self.__dict__}
        become, size = self.cls_to_become, self._infer_from(input)
        self.__class__ = become
        become.__init__(self, size, *args, **kwargs)
        self.__dict__.update(kept)
        if input.device.type != "cpu":
            self.to(input.device)

    def forward(self, input: Tensor, *args, **kwargs):
        self.initialize_parameters(input)
        return self.forward(input, *args, **kwargs)


def _lazy(name: str, become: type, infer, params, doc: str, defaults: tuple = ()) -> type:
    def __init__(self, *args, **kwargs):
        # defaults that differ from the eager layer's: (position, keyword, value)
        for position, key, value in defaults:
            if len(args) <= position and key not in kwargs:
                kwargs[key] = value
        self._lazy_setup(args, kwargs, params(args, kwargs))

    def _infer_from(self, input: Tensor) -> int:
        return infer(input)

    return type(name, (LazyModuleMixin, become), {
        "__init__": __init__, "_infer_from": _infer_from, "cls_to_become": become,
        "__doc__": doc, "__module__": __name__})


def _bias_flag(position: int, default: bool = True):
    def params(args, kwargs):
        bias = kwargs.get("bias", args[position] if len(args) > position else default)
        return ("weight", "bias") if bias else ("weight",)
    return params


def _affine(position: int, default: bool):
    def params(args, kwargs):
        affine = kwargs.get("affine", args[position] if len(args) > position else default)
        return ("weight", "bias") if affine else ()
    return params


# PyTorch's lazy instance norms default to affine=True, track_running_stats=True
_LAZY_NORM_DEFAULTS = ((2, "affine", True), (3, "track_running_stats", True))


def _channels(nd: int):
    return lambda x: int(x.shape[-(nd + 1)])


LazyLinear = _lazy("LazyLinear", Linear, lambda x: int(x.shape[-1]), _bias_flag(1),
                   "A ``Linear`` whose ``in_features`` is the last size of the first input.")
LazyConv1d = _lazy("LazyConv1d", Conv1d, _channels(1), _bias_flag(6),
                   "A ``Conv1d`` whose ``in_channels`` comes from the first input.")
LazyConv2d = _lazy("LazyConv2d", Conv2d, _channels(2), _bias_flag(6),
                   "A ``Conv2d`` whose ``in_channels`` comes from the first input.")
LazyConv3d = _lazy("LazyConv3d", Conv3d, _channels(3), _bias_flag(6),
                   "A ``Conv3d`` whose ``in_channels`` comes from the first input.")
LazyConvTranspose1d = _lazy("LazyConvTranspose1d", ConvTranspose1d, _channels(1), _bias_flag(6),
                            "A ``ConvTranspose1d`` whose ``in_channels`` comes from the first "
                            "input.")
LazyConvTranspose2d = _lazy("LazyConvTranspose2d", ConvTranspose2d, _channels(2), _bias_flag(6),
                            "A ``ConvTranspose2d`` whose ``in_channels`` comes from the first "
                            "input.")
LazyConvTranspose3d = _lazy("LazyConvTranspose3d", ConvTranspose3d, _channels(3), _bias_flag(6),
                            "A ``ConvTranspose3d`` whose ``in_channels`` comes from the first "
                            "input.")
LazyBatchNorm1d = _lazy("LazyBatchNorm1d", BatchNorm1d, lambda x: int(x.shape[1]),
                        _affine(2, True), "A ``BatchNorm1d`` sized by the first input.")
LazyBatchNorm2d = _lazy("LazyBatchNorm2d", BatchNorm2d, lambda x: int(x.shape[1]),
                        _affine(2, True), "A ``BatchNorm2d`` sized by the first input.")
LazyBatchNorm3d = _lazy("LazyBatchNorm3d", BatchNorm3d, lambda x: int(x.shape[1]),
                        _affine(2, True), "A ``BatchNorm3d`` sized by the first input.")
LazyInstanceNorm1d = _lazy("LazyInstanceNorm1d", InstanceNorm1d, _channels(1), _affine(2, True),
                           "An ``InstanceNorm1d`` sized by the first input (affine and tracking "
                           "running statistics by default, as PyTorch's lazy form).",
                           _LAZY_NORM_DEFAULTS)
LazyInstanceNorm2d = _lazy("LazyInstanceNorm2d", InstanceNorm2d, _channels(2), _affine(2, True),
                           "An ``InstanceNorm2d`` sized by the first input (affine and tracking "
                           "running statistics by default, as PyTorch's lazy form).",
                           _LAZY_NORM_DEFAULTS)
LazyInstanceNorm3d = _lazy("LazyInstanceNorm3d", InstanceNorm3d, _channels(3), _affine(2, True),
                           "An ``InstanceNorm3d`` sized by the first input (affine and tracking "
                           "running statistics by default, as PyTorch's lazy form).",
                           _LAZY_NORM_DEFAULTS)


class DataParallel(Module):
    """PyTorch's single-process data parallelism wrapper. On one device (all ember runs in one
    process per device) it calls ``module`` directly, as PyTorch does without a GPU (with one,
    PyTorch also moves the module and inputs to it; ember leaves devices to the caller);
    state-dict keys gain the ``module.`` prefix as in PyTorch."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


__all__ = ["LazyModuleMixin", "UninitializedParameter", "UninitializedBuffer", "LazyLinear",
           "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
           "DataParallel"]
