"""Single-step recurrent cells ``RNNCell``, ``LSTMCell`` and ``GRUCell``: one time step of the
matching layer, with PyTorch's parameter names, gate order and initialisation."""

from __future__ import annotations

import math

import ember.nn.functional as F
from ember import creation
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.tensor import Tensor


class RNNCellBase(Module):
    """Shared parameters of the cells: ``weight_ih`` ``(chunks·hidden, input)``, ``weight_hh``
    ``(chunks·hidden, hidden)`` and, with ``bias``, ``bias_ih``/``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be positive, "
                             f"got input_size={input_size} and hidden_size={hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty(rows, input_size, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(rows, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(rows, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(rows, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in ±1/sqrt(hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx, n_states: int):
        """Check shapes; return the batched input, the batched states (zeros when ``hx`` is
        ``None``) and whether the input was unbatched."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size}")
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        batch = input.shape[0]
        if hx is None:
            zeros = creation.zeros(batch, self.hidden_size, dtype=input.dtype, device=input.device)
            states = [zeros] * n_states
        else:
            states = list(hx) if n_states > 1 else [hx]
            want = 1 if unbatched else 2
            for s in states:
                if s.ndim != want:
                    raise RuntimeError(f"{name}: Expected hidden to be {want}D for {want}D "
                                       f"input, got {s.ndim}D")
            if unbatched:
                states = [s.unsqueeze(0) for s in states]
            for s in states:
                if s.shape[0] != batch:
                    raise RuntimeError(f"Input batch size {batch} doesn't match hidden0 batch "
                                       f"size {s.shape[0]}")
                if s.shape[1] != self.hidden_size:
                    raise RuntimeError(f"{name}: hidden has inconsistent hidden_size: got "
                                       f"{s.shape[1]}, expected {self.hidden_size}")
        return input, states, unbatched


class RNNCell(RNNCellBase):
    """``h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`` (``nonlinearity='relu'`` for relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), unbatched = self._prepare(input, hx, 1)
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        out = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    """One LSTM step, gates in PyTorch's order (input, forget, cell, output); returns
    ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx=None):
        x, (h, c), unbatched = self._prepare(input, hx, 2)
        H = self.hidden_size
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh,
                                                                     self.bias_hh)
        i = gates[:, :H].sigmoid()
        f = gates[:, H:2 * H].sigmoid()
        g = gates[:, 2 * H:3 * H].tanh()
        o = gates[:, 3 * H:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        if unbatched:
            return h.squeeze(0), c.squeeze(0)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step, gates in PyTorch's order (reset, update, new); the candidate uses
    ``r * (W_hn h + b_hn)`` as PyTorch does."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), unbatched = self._prepare(input, hx, 1)
        H = self.hidden_size
        xw = F.linear(x, self.weight_ih, self.bias_ih)
        hw = F.linear(h, self.weight_hh, self.bias_hh)
        r = (xw[:, :H] + hw[:, :H]).sigmoid()
        z = (xw[:, H:2 * H] + hw[:, H:2 * H]).sigmoid()
        n = (xw[:, 2 * H:] + r * hw[:, 2 * H:]).tanh()
        out = n + z * (h - n)
        return out.squeeze(0) if unbatched else out


__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
