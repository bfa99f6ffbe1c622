"""3-d layers (``Conv3d``, ``ConvTranspose3d``, the 3-d and remaining adaptive pools,
``BatchNorm3d``, ``InstanceNorm3d``), with PyTorch's arguments, parameters and initialisation."""

from __future__ import annotations

import ember.nn.functional as F
from ember.nn.modules.conv import _ConvNd, _ConvTransposeNd
from ember.nn.modules.module import Module
from ember.nn.modules.normalization import _BatchNorm, _InstanceNorm
from ember.nn.modules.pooling import _MaxPoolNd
from ember.ops import conv3d as _ops3
from ember.tensor import Tensor


def _check_5d(layer, input: Tensor) -> None:
    if input.ndim not in (4, 5) or input.shape[-4] != layer.in_channels:
        raise RuntimeError(
            f"{type(layer).__name__}({layer.in_channels}, {layer.out_channels}, kernel_size="
            f"{layer.kernel_size}): expected input of shape (N, {layer.in_channels}, D, H, W) or "
            f"({layer.in_channels}, D, H, W), got shape {tuple(input.shape)}")


class Conv3d(_ConvNd):
    """3-D convolution over ``(N, C_in, D, H, W)`` (``padding`` ints, ``'same'`` or ``'valid'``;
    ``padding_mode`` zeros, reflect, replicate or circular)."""

    _dims = 3

    def _check_input(self, input: Tensor) -> None:
        _check_5d(self, input)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        x, padding = self._padded(input)
        return _ops3.conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                            self.groups)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution (weight ``(C_in, C_out/groups, kD, kH, kW)``);
    ``forward(input, output_size=None)``."""

    _dims = 3

    def _check_input(self, input: Tensor) -> None:
        _check_5d(self, input)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check_input(input)
        output_padding = self._output_padding(output_size, input.shape[-3:])
        return _ops3.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                      output_padding, self.groups, self.dilation)


class MaxPool3d(_MaxPoolNd):
    """Max over sliding boxes of ``(N, C, D, H, W)`` (``stride`` defaults to ``kernel_size``)."""

    def forward(self, input: Tensor):
        from ember.ops.pool_more import max_pool3d

        return max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class AvgPool3d(Module):
    """Mean over sliding boxes of ``(N, C, D, H, W)``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return _ops3.avg_pool3d(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool3d(Module):
    """Mean pooling to a fixed output size ``(D, H, W)`` (``None`` keeps that size)."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return _ops3.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(_AdaptivePool):
    """Max pooling to a fixed output size ``(D, H, W)``."""

    def forward(self, input: Tensor):
        from ember.ops.pool_more import adaptive_max_pool3d

        return adaptive_max_pool3d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Max pooling of ``(N, C, L)`` to a fixed output length."""

    def forward(self, input: Tensor):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over ``(N, C, D, H, W)`` per channel, as PyTorch's."""

    _expected_dims = (5,)


class InstanceNorm3d(_InstanceNorm):
    """Normalise each sample's channels of ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``)
    over ``(D, H, W)``."""

    _expected_dims = (4, 5)


__all__ = ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d",
           "AdaptiveMaxPool3d", "AdaptiveMaxPool1d", "BatchNorm3d", "InstanceNorm3d"]
