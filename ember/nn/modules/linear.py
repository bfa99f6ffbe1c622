"""Fully connected layers: ``Identity``, ``Linear``, ``Bilinear``."""

from __future__ import annotations

import math

import ember.nn.functional as F
from ember import creation
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.tensor import Tensor


class Identity(Module):
    """Returns its input unchanged (constructor arguments are accepted and ignored)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` for input ``(*, in_features)``.

    ``weight`` ``(out_features, in_features)`` and ``bias`` ``(out_features,)`` start as in PyTorch:
    uniform in ±1/sqrt(in_features) (``kaiming_uniform_(a=sqrt(5))`` for the weight).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Re-draw the weights from PyTorch's default distribution."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}): "
                f"expected input with last dimension {self.in_features}, got shape {tuple(shape)}"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under the class name PyTorch gives ``MultiheadAttention.out_proj``."""


class Bilinear(Module):
    """``y_k = x1ᵀ W_k x2 + b_k`` with weight ``(out, in1, in2)``, uniform in ±1/sqrt(in1)."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        if input1.shape[-1] != self.in1_features or input2.shape[-1] != self.in2_features:
            raise RuntimeError(
                f"Bilinear(in1_features={self.in1_features}, in2_features={self.in2_features}): "
                f"got inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)}"
            )
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


__all__ = ["Identity", "Linear", "Bilinear"]
