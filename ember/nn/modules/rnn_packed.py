"""``RNN``/``LSTM``/``GRU`` over a :class:`~ember.nn.utils.rnn.PackedSequence`: each time step runs
only the sequences still going at that step (the first ``batch_sizes[t]`` rows), so padding is
never computed and each sequence's final state is the one at its own last step."""

from __future__ import annotations

import ember.nn.functional as F
import ember.ops as _ops
from ember import creation
from ember.nn.utils.rnn import PackedSequence, _host_ints, _packed_steps


def forward_packed(rnn, packed: PackedSequence, hx=None):
    """``rnn.forward`` for a packed input: returns ``(PackedSequence output, h_n)`` (LSTM:
    ``(output, (h_n, c_n))``), the states in the caller's batch order."""
    data = packed.data
    name = type(rnn).__name__
    if data.ndim != 2 or data.shape[-1] != rnn.input_size:
        raise RuntimeError(f"{name}(input_size={rnn.input_size}, hidden_size={rnn.hidden_size}): "
                           f"expected packed data of shape (steps, {rnn.input_size}), got "
                           f"{tuple(data.shape)}")
    steps = list(_packed_steps(_host_ints(packed.batch_sizes)))
    T = len(steps)
    B = steps[0][1] if steps else 0
    is_lstm = rnn.mode == "LSTM"
    dirs = 2 if rnn.bidirectional else 1
    h_shape = (rnn.num_layers * dirs, B, rnn.proj_size or rnn.hidden_size)
    c_shape = (rnn.num_layers * dirs, B, rnn.hidden_size)
    if hx is None:
        h0 = creation.zeros(*h_shape, dtype=data.dtype, device=data.device)
        c0 = creation.zeros(*c_shape, dtype=data.dtype, device=data.device) if is_lstm else None
    else:
        h0, c0 = hx if is_lstm else (hx, None)
        for state, s, shape in (("h0", h0, h_shape), ("c0", c0, c_shape)):
            if s is not None and tuple(s.shape) != shape:
                raise RuntimeError(f"{name}: expected hidden state {state} of shape {shape}, got "
                                   f"{tuple(s.shape)}")
        if packed.sorted_indices is not None:  # the caller's order -> the packed (sorted) order
            h0 = h0.index_select(1, packed.sorted_indices)
            c0 = c0.index_select(1, packed.sorted_indices) if is_lstm else None
    layer_input = data
    h_n, c_n = [], []
    for layer in range(rnn.num_layers):
        outs = []
        for d in range(dirs):
            w_ih, w_hh, b_ih, b_hh, w_hr = rnn._weights(layer, d)
            xw = F.linear(layer_input, w_ih, b_ih)
            k = layer * dirs + d
            h = h0[k]
            c = c0[k] if is_lstm else None
            seq = [None] * T
            # backwards, the rows past n have not started yet and so still hold their h0
            for t in (range(T - 1, -1, -1) if d == 1 else range(T)):
                start, n = steps[t]
                c_run = c[:n] if is_lstm else None
                new_h, new_c = rnn._cell(xw[start:start + n], h[:n], c_run, w_hh, b_hh, w_hr)
                seq[t] = new_h
                h = new_h if n == h.shape[0] else _ops.cat([new_h, h[n:]], 0)
                if is_lstm:
                    c = new_c if n == c.shape[0] else _ops.cat([new_c, c[n:]], 0)
            outs.append(_ops.cat(seq, 0))
            h_n.append(h)
            if is_lstm:
                c_n.append(c)
        layer_input = outs[0] if dirs == 1 else _ops.cat(outs, 1)
        if rnn.dropout and rnn.training and layer < rnn.num_layers - 1:
            layer_input = F.dropout(layer_input, rnn.dropout, True)
    h_n = _ops.stack(h_n, 0)
    c_n = _ops.stack(c_n, 0) if is_lstm else None
    if packed.unsorted_indices is not None:
        h_n = h_n.index_select(1, packed.unsorted_indices)
        c_n = c_n.index_select(1, packed.unsorted_indices) if is_lstm else None
    output = PackedSequence(layer_input, packed.batch_sizes, packed.sorted_indices,
                            packed.unsorted_indices)
    return output, ((h_n, c_n) if is_lstm else h_n)
