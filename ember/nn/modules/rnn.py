"""Recurrent layers ``RNN``, ``LSTM`` and ``GRU``, with PyTorch's parameter names, shapes, gate
order and initialisation, so a PyTorch state dict loads directly.

Each layer first projects the whole sequence through ``weight_ih`` (one matrix product), then
steps through time with ``weight_hh``; gradients come from the recorded ops. ``LSTM(proj_size=P)``
adds PyTorch's ``weight_hr`` projection: the hidden state (and so the output and the next layer's
input) has size ``P`` while the cell state keeps ``hidden_size``.
"""

from __future__ import annotations

import math
import warnings

import ember.nn.functional as F
import ember.ops as _ops
from ember import creation
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.nn.utils.rnn import PackedSequence
from ember.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"hidden_size and num_layers must be positive, got hidden_size="
                             f"{hidden_size} and num_layers={num_layers}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias = num_layers, bias
        self.batch_first, self.dropout = batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        dirs = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                in_size = input_size if layer == 0 else real_hidden * dirs
                suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
                names = [("weight_ih" + suffix, (gates, in_size)),
                         ("weight_hh" + suffix, (gates, real_hidden))]
                if bias:
                    names += [("bias_ih" + suffix, (gates,)), ("bias_hh" + suffix, (gates,))]
                if proj_size:
                    names.append(("weight_hr" + suffix, (proj_size, hidden_size)))
                for name, shape in names:
                    setattr(self, name, Parameter(creation.empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in ±1/sqrt(hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    @property
    def all_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    def _weights(self, layer: int, direction: int):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        p = self._parameters
        return (p["weight_ih" + suffix], p["weight_hh" + suffix],
                p.get("bias_ih" + suffix), p.get("bias_hh" + suffix), p.get("weight_hr" + suffix))

    def _cell(self, xw: Tensor, h: Tensor, c, w_hh: Tensor, b_hh, w_hr=None):
        """One time step from the input projection ``xw``; returns ``(h, c)``. ``w_hr`` is the
        LSTM projection (``proj_size > 0``) applied to the new hidden state."""
        hw = F.linear(h, w_hh, b_hh)
        H = self.hidden_size
        mode = self.mode
        if mode == "RNN_TANH":
            return (xw + hw).tanh(), None
        if mode == "RNN_RELU":
            return (xw + hw).relu(), None
        if mode == "LSTM":
            gates = xw + hw
            i = gates[:, :H].sigmoid()
            f = gates[:, H:2 * H].sigmoid()
            g = gates[:, 2 * H:3 * H].tanh()
            o = gates[:, 3 * H:].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            return (h if w_hr is None else F.linear(h, w_hr)), c
        # GRU: the candidate uses r * (W_hn h + b_hn), as PyTorch (and cuDNN) do
        r = (xw[:, :H] + hw[:, :H]).sigmoid()
        z = (xw[:, H:2 * H] + hw[:, H:2 * H]).sigmoid()
        n = (xw[:, 2 * H:] + r * hw[:, 2 * H:]).tanh()
        return n + z * (h - n), None

    def forward(self, input: Tensor, hx=None):
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``) for ``input`` ``(T, B, input_size)``
        (``(B, T, input_size)`` when ``batch_first``) or unbatched ``(T, input_size)``; ``hx`` is
        ``None`` (zeros), ``h_0``, or ``(h_0, c_0)`` for LSTM. A ``PackedSequence`` input gives a
        ``PackedSequence`` output."""
        if isinstance(input, PackedSequence):
            from ember.nn.modules.rnn_packed import forward_packed

            return forward_packed(self, input, hx)
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected input to be 2D or 3D, got "
                             f"{input.ndim}D tensor of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{type(self).__name__}(input_size={self.input_size}, hidden_size="
                f"{self.hidden_size}): expected input with last dimension {self.input_size}, got "
                f"shape {tuple(input.shape)}"
            )
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:  # PyTorch's check, before any product
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}) in "
                f"{type(self).__name__}. Convert input: input.to({weight.dtype}), or convert "
                f"model: model.to({input.dtype})"
            )
        batched = input.ndim == 3
        is_lstm = self.mode == "LSTM"
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if is_lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        T, B = input.shape[0], input.shape[1]
        dirs = 2 if self.bidirectional else 1
        # with a projection, h has proj_size features while c keeps hidden_size
        h_shape = (self.num_layers * dirs, B, self.proj_size or self.hidden_size)
        c_shape = (self.num_layers * dirs, B, self.hidden_size)
        if hx is None:
            h0 = creation.zeros(*h_shape, dtype=input.dtype, device=input.device)
            c0 = None
            if is_lstm:
                c0 = h0 if h_shape == c_shape else creation.zeros(
                    *c_shape, dtype=input.dtype, device=input.device)
        else:
            h0, c0 = hx if is_lstm else (hx, None)
            for name, s, shape in (("h0", h0, h_shape), ("c0", c0, c_shape)):
                if s is not None and tuple(s.shape) != shape:
                    raise RuntimeError(
                        f"{type(self).__name__}: expected hidden state {name} of shape "
                        f"{shape}, got {tuple(s.shape)}"
                    )
        layer_input = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                xw = F.linear(layer_input, w_ih, b_ih)
                k = layer * dirs + d
                h = h0[k]
                c = c0[k] if is_lstm else None
                steps = range(T - 1, -1, -1) if d == 1 else range(T)
                seq = [None] * T
                for t in steps:
                    h, c = self._cell(xw[t], h, c, w_hh, b_hh, w_hr)
                    seq[t] = h
                outs.append(_ops.stack(seq, 0))
                h_n.append(h)
                if is_lstm:
                    c_n.append(c)
            layer_input = outs[0] if dirs == 1 else _ops.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input
        h_n = _ops.stack(h_n, 0)
        c_n = _ops.stack(c_n, 0) if is_lstm else None
        if not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, ((h_n, c_n) if is_lstm else h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)`` (or ``relu``).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; returns ``(output, h_n)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory, gates in PyTorch's order (input, forget, cell, output).

    Returns ``(output, (h_n, c_n))``; ``hx`` is an optional ``(h_0, c_0)``. With
    ``0 < proj_size < hidden_size`` each layer projects its hidden state through ``weight_hr_l{k}``
    ``(proj_size, hidden_size)``: ``h_t = W_hr (o_t * tanh(c_t))``, so ``h_0``/``h_n`` are
    ``(D·num_layers, N, proj_size)``, ``c_0``/``c_n`` keep ``hidden_size`` and ``output`` ends in
    ``D·proj_size``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates in PyTorch's order (reset, update, new). Returns
    ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]
