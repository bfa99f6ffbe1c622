"""RNNCell/LSTMCell/GRUCell and ``nn.utils.rnn`` packing against PyTorch: cell outputs and every
gradient with copied weights; pad/pack/unpack round trips; RNN/LSTM/GRU over PackedSequences
(sorted or not, bidirectional, several layers, given initial states)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.autograd.gradcheck import gradcheck
from tests.test_nn_layers import compare_module, copy_weights, rand

eru = nn.utils.rnn
tru = torch.nn.utils.rnn


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells(cls, bias):
    t, e = getattr(torch.nn, cls)(3, 5, bias=bias), getattr(nn, cls)(3, 5, bias=bias)
    compare_module(t, e, [rand(4, 3)])
    compare_module(t, e, [rand(3)])  # unbatched
    if cls == "LSTMCell":
        compare_module(t, e, [rand(4, 3), rand(4, 5, seed=1), rand(4, 5, seed=2)],
                       call=lambda m, x, h, c: m(x, (h, c)))
    else:
        compare_module(t, e, [rand(4, 3), rand(4, 5, seed=1)])


def test_rnn_cell_relu_and_gradcheck():
    t, e = torch.nn.RNNCell(3, 4, nonlinearity="relu"), nn.RNNCell(3, 4, nonlinearity="relu")
    compare_module(t, e, [rand(2, 3), rand(2, 4, seed=1)])
    cell = nn.GRUCell(2, 3).double()
    x = ember.tensor(rand(2, 2), requires_grad=True)
    h = ember.tensor(rand(2, 3, seed=1), requires_grad=True)
    assert gradcheck(lambda a, b: cell(a, b), (x, h))


def test_cell_errors():
    with pytest.raises(ValueError, match="RNNCell: Expected input to be 1D or 2D, got 3D"):
        nn.RNNCell(3, 4)(ember.randn(2, 2, 3))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        nn.RNNCell(3, 4)(ember.randn(2, 3), ember.randn(3, 4))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        nn.LSTMCell(3, 4)(ember.randn(2, 5))
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    assert list(nn.LSTMCell(3, 4).state_dict()) == list(torch.nn.LSTMCell(3, 4).state_dict())


def _seqs(lengths, feat=3, seed=0):
    return [rand(n, feat, seed=seed + i) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    arrays = _seqs([2, 5, 3])
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    es = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = tru.pad_sequence(ts, batch_first=batch_first, padding_value=-1.5, padding_side=side)
    e = eru.pad_sequence(es, batch_first=batch_first, padding_value=-1.5, padding_side=side)
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    up = rand(*t.shape, seed=9)
    t.backward(torch.tensor(up))
    e.backward(ember.tensor(up))
    for a, b in zip(es, ts):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    for u, a in zip(eru.unpad_sequence(e, ember.tensor([2, 5, 3]), batch_first=batch_first),
                    arrays):
        if side == "right":
            np.testing.assert_array_equal(u.detach().numpy(), a)


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip(enforce_sorted, batch_first):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    padded = tru.pad_sequence([torch.tensor(a) for a in _seqs(lengths)], batch_first=batch_first)
    tp = tru.pack_padded_sequence(padded, lengths, batch_first=batch_first,
                                  enforce_sorted=enforce_sorted)
    ep = eru.pack_padded_sequence(ember.tensor(padded.numpy()), ember.tensor(lengths),
                                  batch_first=batch_first, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(ep.data.numpy(), tp.data.numpy())
    np.testing.assert_array_equal(ep.batch_sizes.numpy(), tp.batch_sizes.numpy())
    for a, b in ((ep.sorted_indices, tp.sorted_indices),
                 (ep.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    for total in (None, 7):
        t_out, t_len = tru.pad_packed_sequence(tp, batch_first=batch_first, padding_value=2.0,
                                               total_length=total)
        e_out, e_len = eru.pad_packed_sequence(ep, batch_first=batch_first, padding_value=2.0,
                                               total_length=total)
        np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())
        np.testing.assert_array_equal(e_len.numpy(), t_len.numpy())
    seqs = _seqs(lengths)
    packed = eru.pack_sequence([ember.tensor(a) for a in seqs], enforce_sorted=enforce_sorted)
    for got, want in zip(eru.unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(got.numpy(), want)


def test_pack_errors():
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        eru.pack_padded_sequence(ember.randn(3, 2, 1), [1, 3])
    with pytest.raises(ValueError, match="total_length"):
        eru.pad_packed_sequence(eru.pack_sequence([ember.randn(4, 2)]), total_length=2)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layers_take_packed_sequences(cls, enforce_sorted, bidirectional):
    kw = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional)
    t, e = getattr(torch.nn, cls)(**kw).double(), getattr(nn, cls)(**kw).double()
    copy_weights(t, e)
    lengths = [5, 4, 2, 1] if enforce_sorted else [2, 5, 1, 4]
    padded = np.stack([np.pad(a, ((0, 5 - len(a)), (0, 0))) for a in _seqs(lengths)], 1)
    dirs = 2 if bidirectional else 1
    h0 = rand(2 * dirs, 4, 4, seed=11)
    c0 = rand(2 * dirs, 4, 4, seed=12)
    results = []
    for fw, mod in ((torch, t), (ember, e)):
        x = fw.tensor(padded, requires_grad=True)
        h = fw.tensor(h0, requires_grad=True)
        c = fw.tensor(c0, requires_grad=True)
        utils = tru if fw is torch else eru
        packed = utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        out, state = mod(packed, (h, c) if cls == "LSTM" else h)
        out_padded, _ = utils.pad_packed_sequence(out)
        states = list(state) if cls == "LSTM" else [state]
        loss = (out_padded * fw.tensor(rand(*out_padded.shape, seed=3))).sum() + sum(
            (s * fw.tensor(rand(*s.shape, seed=4 + i))).sum() for i, s in enumerate(states))
        loss.backward()
        grads = [x.grad, h.grad] + ([c.grad] if cls == "LSTM" else [])
        grads += [p.grad for p in mod.parameters()]
        results.append([out_padded] + states + grads)
    for a, b in zip(*results):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=1e-10)
