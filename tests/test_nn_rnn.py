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
