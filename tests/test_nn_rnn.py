"""RNN, LSTM and GRU against PyTorch: PyTorch's state dict loads as is, and outputs, final
states and every gradient agree, for stacked, bidirectional, batch_first and unbatched inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from test_nn_layers import compare_module, rand


CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False),
]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_recurrent_matches_torch(cls, cfg):
    t, e = getattr(torch.nn, cls)(3, 4, **cfg), getattr(nn, cls)(3, 4, **cfg)
    shape = (2, 5, 3) if cfg.get("batch_first") else (5, 2, 3)
    compare_module(t, e, [rand(*shape)])


def test_rnn_relu_and_initial_state():
    t = torch.nn.RNN(3, 4, nonlinearity="relu", num_layers=2)
    e = nn.RNN(3, 4, nonlinearity="relu", num_layers=2)
    compare_module(t, e, [rand(5, 2, 3), rand(2, 2, 4, seed=1)])


def test_lstm_initial_state_and_unbatched():
    t, e = torch.nn.LSTM(3, 4, bidirectional=True), nn.LSTM(3, 4, bidirectional=True)
    compare_module(t, e, [rand(5, 2, 3), rand(2, 2, 4, seed=1), rand(2, 2, 4, seed=2)],
                   call=lambda m, x, h, c: m(x, (h, c)))
    compare_module(t, e, [rand(5, 3)])


def test_gru_unbatched_with_state():
    t, e = torch.nn.GRU(3, 4, num_layers=2), nn.GRU(3, 4, num_layers=2)
    compare_module(t, e, [rand(6, 3), rand(2, 4, seed=3)])


def test_dropout_between_layers_only_in_training():
    t, e = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5), nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    compare_module(t, e, [rand(5, 2, 3)], train=False)
    e.train()
    x = ember.tensor(rand(5, 2, 3))
    a, b = e(x)[0].detach().numpy(), e(x)[0].detach().numpy()
    assert not np.allclose(a, b)  # fresh dropout masks each call


def test_parameter_names_shapes_and_init():
    e = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    t = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    bound = 1 / np.sqrt(20)
    for p in e.parameters():
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
    assert repr(e) == repr(t)
    assert repr(nn.GRU(3, 4, batch_first=True, dropout=0.1)) == repr(
        torch.nn.GRU(3, 4, batch_first=True, dropout=0.1))


def test_errors_name_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"LSTM\(input_size=3, hidden_size=4\).*\(5, 2, 7\)"):
        nn.LSTM(3, 4)(ember.zeros(5, 2, 7))
    with pytest.raises(RuntimeError, match=r"h0 of shape \(1, 2, 4\), got \(1, 3, 4\)"):
        nn.GRU(3, 4)(ember.zeros(5, 2, 3), ember.zeros(1, 3, 4))


# ------------------------------------------------------------------ LSTM with projections


PROJ_CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=2, bias=False),
]


@pytest.mark.parametrize("cfg", PROJ_CONFIGS)
def test_lstm_proj_matches_torch(cfg):
    # hidden 5 -> proj 2: h, the output and layer 2's input all have the projected size
    t, e = torch.nn.LSTM(3, 5, proj_size=2, **cfg), nn.LSTM(3, 5, proj_size=2, **cfg)
    shape = (2, 4, 3) if cfg.get("batch_first") else (4, 2, 3)
    t_out, e_out = compare_module(t, e, [rand(*shape)])
    dirs = 2 if cfg.get("bidirectional") else 1
    layers = cfg.get("num_layers", 1)
    assert tuple(e_out[0].shape) == shape[:2] + (2 * dirs,)
    assert tuple(e_out[1].shape) == (layers * dirs, 2, 2)  # h_n: proj_size
    assert tuple(e_out[2].shape) == (layers * dirs, 2, 5)  # c_n: hidden_size


def test_lstm_proj_initial_state_and_unbatched():
    cfg = dict(proj_size=2, num_layers=2, bidirectional=True)
    t, e = torch.nn.LSTM(3, 5, **cfg), nn.LSTM(3, 5, **cfg)
    compare_module(t, e, [rand(4, 2, 3), rand(4, 2, 2, seed=1), rand(4, 2, 5, seed=2)],
                   call=lambda m, x, h, c: m(x, (h, c)))
    compare_module(t, e, [rand(4, 3), rand(4, 2, seed=1), rand(4, 5, seed=2)],
                   call=lambda m, x, h, c: m(x, (h, c)))
    t, e = torch.nn.LSTM(3, 5, proj_size=3, batch_first=True), nn.LSTM(3, 5, proj_size=3,
                                                                         batch_first=True)
    compare_module(t, e, [rand(2, 4, 3), rand(1, 2, 3, seed=1), rand(1, 2, 5, seed=2)],
                   call=lambda m, x, h, c: m(x, (h, c)))


def test_lstm_proj_parameters_init_repr_and_errors():
    cfg = dict(proj_size=3, num_layers=2, bidirectional=True)
    e, t = nn.LSTM(4, 8, **cfg), torch.nn.LSTM(4, 8, **cfg)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert [k for k, _ in e.named_parameters()] == [k for k, _ in t.named_parameters()]
    bound = 1 / np.sqrt(8)
    for p in e.parameters():
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.6 * bound
    assert repr(e) == repr(t)
    assert [k for k, _ in nn.LSTM(4, 8, proj_size=3, bias=False).named_parameters()] == \
        ["weight_ih_l0", "weight_hh_l0", "weight_hr_l0"]
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(4, 8, proj_size=8)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
        nn.LSTM(4, 8, proj_size=-1)
    x = ember.zeros(5, 2, 4)
    with pytest.raises(RuntimeError, match=r"h0 of shape \(1, 2, 3\), got \(1, 2, 8\)"):
        nn.LSTM(4, 8, proj_size=3)(x, (ember.zeros(1, 2, 8), ember.zeros(1, 2, 8)))
    with pytest.raises(RuntimeError, match=r"c0 of shape \(1, 2, 8\), got \(1, 2, 3\)"):
        nn.LSTM(4, 8, proj_size=3)(x, (ember.zeros(1, 2, 3), ember.zeros(1, 2, 3)))
