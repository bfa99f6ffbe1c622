"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``."""

from __future__ import annotations


import ember.nn.functional as F
from ember import creation
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.tensor import Tensor


def _ntuple(v, n: int) -> tuple:
    if isinstance(v, (tuple, list)):
        return tuple(v)
    return (v,) * n


class _ConvNd(Module):
    """What every convolution layer shares: argument checks, parameters, repr; ``forward`` of
    ``Conv1d``/``Conv2d`` (the transposed layers override it). The signature is PyTorch's
    ``Conv2d``'s; ``_dims`` gives the number of spatial dimensions."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        n = self._dims
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate' or "
                             f"'circular', but got padding_mode='{padding_mode}'")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in _ntuple(stride, n)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n)
        self.dilation = _ntuple(dilation, n)
        self.output_padding = (0,) * n  # set by the transposed layers
        self.transposed = self._transposed
        self.groups = groups
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(creation.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """PyTorch's default: ``kaiming_uniform_(a=sqrt(5))`` weight, bias in ±1/sqrt(fan_in)."""
        init.default_layer_init_(self.weight, self.bias)

    def _check_input(self, input: Tensor) -> None:
        n = self._dims
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != self.in_channels:
            dims = ("L",) if n == 1 else ("H", "W")
            raise RuntimeError(
                f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size="
                f"{self.kernel_size}): expected input of shape (N, {self.in_channels}, "
                f"{', '.join(dims)}) or ({self.in_channels}, {', '.join(dims)}), got shape "
                f"{tuple(input.shape)}"
            )

    def _padded(self, input: Tensor):
        """Input and conv padding for a non-'zeros' padding mode (padded here with F.pad)."""
        if self.padding_mode == "zeros" or isinstance(self.padding, str) and self.padding == "valid":
            return input, self.padding
        if isinstance(self.padding, str):  # 'same'
            pads = []
            for k, d in zip(reversed(self.kernel_size), reversed(self.dilation)):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
        else:
            pads = []
            for p in reversed(self.padding):
                pads += [p, p]
        return F.pad(input, tuple(pads), mode=self.padding_mode), 0

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        x, padding = self._padded(input)
        conv = F.conv1d if self._dims == 1 else F.conv2d
        return conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` with PyTorch's arguments and initialisation."""

    _dims = 1


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` with PyTorch's arguments and initialisation
    (``padding`` an int, a pair, ``'same'`` or ``'valid'``)."""

    _dims = 2


class _ConvTransposeNd(_ConvNd):
    """What the transposed layers share; the signature is PyTorch's ``ConvTranspose2d``'s."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__} does not accept string padding")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device=device, dtype=dtype)
        self.output_padding = _ntuple(output_padding, self._dims)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check_input(input)
        conv = F.conv_transpose1d if self._dims == 1 else F.conv_transpose2d
        output_padding = self._output_padding(output_size, input.shape[-self._dims:])
        return conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                    self.groups, self.dilation)

    def _output_padding(self, output_size, in_size) -> tuple:
        """``output_padding``, or the one that gives ``output_size`` from spatial size ``in_size``."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        size = tuple(output_size)[-n:]
        extra = []
        for i in range(n):
            base = ((in_size[i] - 1) * self.stride[i] - 2 * self.padding[i]
                    + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            extra.append(size[i] - base)
            if not 0 <= extra[-1] < max(self.stride[i], self.dilation[i]):
                raise ValueError(f"requested an output size of {tuple(output_size)}, which is not "
                                 "reachable with this stride and padding")
        return tuple(extra)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (weight ``(C_in, C_out/groups, k)``)."""

    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (weight ``(C_in, C_out/groups, kH, kW)``), as PyTorch's."""

    _dims = 2


__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]
