"""Weights move between ember and PyTorch through safetensors files, both ways, and give the same
outputs: an MLP, a CNN with BatchNorm (running statistics and ``num_batches_tracked`` included,
compared in eval mode), LSTM and GRU networks, and ``Model.save_weights`` / ``load_weights``.
A file PyTorch wrote with ``torch.save`` (pickle) is refused with a clear error, without being
unpickled.

Each direction is the path a user takes:

* ember -> PyTorch: ``ember.save(model.state_dict(), path)``, then
  ``torch_model.load_state_dict(safetensors.torch.load_file(path))``;
* PyTorch -> ember: ``safetensors.torch.save_file(torch_model.state_dict(), path)``, then
  ``model.load_state_dict(ember.load(path))``.

The tensors must arrive bit for bit, with their dtypes (float32 weights, int64
``num_batches_tracked``); the outputs of the two models on the same input then agree to float32
rounding (rtol 1e-5, atol 1e-6: the kernels sum in a different order, nothing else differs).
Before loading, the receiving model's own random weights give different outputs, so agreement
after loading comes from the file.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import safetensors
import safetensors.torch
import torch

import ember
from ember.serialization import FileFormatError

RTOL, ATOL = 1e-5, 1e-6


def _np(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


# ------------------------------------------------------------------------------------ models

def mlp(m):
    nn = m.nn
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(),
                         nn.Linear(16, 5))


def bn_cnn(m):
    nn = m.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),  # 4x7x7
                         nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),      # 8x7x7
                         nn.Flatten(), nn.Linear(8 * 7 * 7, 16), nn.BatchNorm1d(16), nn.ReLU(),
                         nn.Linear(16, 10))


def recurrent(kind):
    """A 2-layer bidirectional LSTM/GRU with a linear head, for ``m`` = torch or ember; returns
    the head's output at every time step and the final hidden state(s)."""
    def build(m):
        class Net(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(m.nn, kind)(6, 12, num_layers=2, batch_first=True,
                                               bidirectional=True)
                self.head = m.nn.Linear(24, 3)

            def forward(self, x):
                out, state = self.rnn(x)
                states = state if isinstance(state, tuple) else (state,)
                return (self.head(out),) + tuple(states)
        return Net()
    return build


MODELS = {
    # name: (builder, input shape)
    "mlp": (mlp, (8, 20)),
    "cnn-batchnorm": (bn_cnn, (6, 1, 16, 16)),
    "lstm": (recurrent("LSTM"), (4, 7, 6)),
    "gru": (recurrent("GRU"), (4, 7, 6)),
}


def _outputs(model, x):
    out = model(x)
    return [_np(o) for o in (out if isinstance(out, tuple) else (out,))]


def _warm_up_batchnorm(m, model, shape, seed):
    """A few training-mode forward passes, so that running_mean/var and num_batches_tracked are
    not their initial values; then eval mode."""
    rng = np.random.default_rng(seed)
    model.train()
    with m.no_grad():
        for _ in range(3):
            x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
            model(m.from_numpy(x))
    model.eval()


def _prepare(m, name, seed):
    builder, shape = MODELS[name]
    model = builder(m)
    if name == "cnn-batchnorm":
        _warm_up_batchnorm(m, model, shape, seed)
    model.eval()
    return model


def _input(name, seed=7):
    return np.random.default_rng(seed).standard_normal(MODELS[name][1]).astype(np.float32)


def _same_outputs(tmodel, emodel, x):
    with torch.no_grad():
        tout = _outputs(tmodel, torch.from_numpy(x))
    with ember.no_grad():
        eout = _outputs(emodel, ember.from_numpy(x))
    assert len(tout) == len(eout)
    for t, e in zip(tout, eout):
        assert e.shape == t.shape and e.dtype == t.dtype == np.float32
    return tout, eout


def _assert_outputs_close(tmodel, emodel, x, name):
    tout, eout = _same_outputs(tmodel, emodel, x)
    for i, (t, e) in enumerate(zip(tout, eout)):
        np.testing.assert_allclose(e, t, rtol=RTOL, atol=ATOL, err_msg=f"{name}: output {i}")


def _assert_outputs_differ(tmodel, emodel, x):
    tout, eout = _same_outputs(tmodel, emodel, x)
    assert not np.allclose(tout[0], eout[0], rtol=RTOL, atol=ATOL)


def _assert_same_tensors(tsd, esd):
    assert list(tsd) == list(esd)
    for k in tsd:
        t, e = tsd[k].numpy(), _np(esd[k])
        assert e.dtype == t.dtype and e.shape == t.shape, k
        assert np.array_equal(e, t), k


# ------------------------------------------------------------------------------ ember -> torch

@pytest.mark.parametrize("name", list(MODELS))
def test_ember_weights_load_into_pytorch(tmp_path, name):
    ember.manual_seed(1)
    torch.manual_seed(2)
    emodel = _prepare(ember, name, seed=1)
    tmodel = _prepare(torch, name, seed=2)
    x = _input(name)
    _assert_outputs_differ(tmodel, emodel, x)

    path = tmp_path / f"{name}.safetensors"
    ember.save(emodel.state_dict(), path)
    with safetensors.safe_open(str(path), framework="pt") as f:
        assert f.metadata()["format"] == "pt"  # what Hugging Face tools check
    sd = safetensors.torch.load_file(str(path))
    result = tmodel.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    _assert_same_tensors(tmodel.state_dict(), emodel.state_dict())
    if name == "cnn-batchnorm":
        assert sd["1.num_batches_tracked"].dtype == torch.int64
        assert int(tmodel[1].num_batches_tracked) == 3
        assert not torch.allclose(tmodel[1].running_var, torch.ones(4))
    _assert_outputs_close(tmodel, emodel, x, name)


# ------------------------------------------------------------------------------ torch -> ember

@pytest.mark.parametrize("name", list(MODELS))
def test_pytorch_weights_load_into_ember(tmp_path, name):
    ember.manual_seed(3)
    torch.manual_seed(4)
    emodel = _prepare(ember, name, seed=3)
    tmodel = _prepare(torch, name, seed=4)
    x = _input(name)
    _assert_outputs_differ(tmodel, emodel, x)

    path = tmp_path / f"{name}.safetensors"
    safetensors.torch.save_file(tmodel.state_dict(), str(path))
    sd = ember.load(path)
    assert all(isinstance(v, ember.Tensor) for v in sd.values())
    result = emodel.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    _assert_same_tensors(tmodel.state_dict(), emodel.state_dict())
    if name == "cnn-batchnorm":
        assert sd["1.num_batches_tracked"].dtype == ember.int64
        assert int(emodel[1].num_batches_tracked.item()) == 3
        assert emodel[1].num_batches_tracked.dtype == ember.int64
    _assert_outputs_close(tmodel, emodel, x, name)


def test_batchnorm_keeps_tracking_after_the_round_trip(tmp_path):
    """Statistics loaded from PyTorch are the ones training continues from: one more
    training-mode batch in each framework updates them identically."""
    torch.manual_seed(5)
    tmodel = _prepare(torch, "cnn-batchnorm", seed=5)
    emodel = _prepare(ember, "cnn-batchnorm", seed=6)
    path = tmp_path / "bn.safetensors"
    safetensors.torch.save_file(tmodel.state_dict(), str(path))
    emodel.load_state_dict(ember.load(path))
    x = _input("cnn-batchnorm", seed=11)
    tmodel.train()
    emodel.train()
    with torch.no_grad():
        tmodel(torch.from_numpy(x))
    with ember.no_grad():
        emodel(ember.from_numpy(x))
    tsd, esd = tmodel.state_dict(), emodel.state_dict()
    assert int(esd["5.num_batches_tracked"].item()) == int(tsd["5.num_batches_tracked"]) == 4
    for k in tsd:
        np.testing.assert_allclose(_np(esd[k]), tsd[k].numpy(), rtol=RTOL, atol=ATOL, err_msg=k)


# ------------------------------------------------------------------ Model.save/load_weights

def test_model_save_weights_and_load_weights_interoperate(tmp_path):
    ember.manual_seed(8)
    torch.manual_seed(9)
    emodel = _prepare(ember, "cnn-batchnorm", seed=8)
    assert hasattr(emodel, "save_weights") and hasattr(emodel, "load_weights")
    tmodel = _prepare(torch, "cnn-batchnorm", seed=9)
    x = _input("cnn-batchnorm")

    # ember's save_weights -> PyTorch
    ours = tmp_path / "ember.safetensors"
    emodel.save_weights(ours)
    tmodel.load_state_dict(safetensors.torch.load_file(str(ours)))
    _assert_same_tensors(tmodel.state_dict(), emodel.state_dict())
    _assert_outputs_close(tmodel, emodel, x, "save_weights")

    # PyTorch -> ember's load_weights, into a fresh model
    torch.manual_seed(10)
    tmodel2 = _prepare(torch, "cnn-batchnorm", seed=10)
    theirs = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(tmodel2.state_dict(), str(theirs))
    fresh = _prepare(ember, "cnn-batchnorm", seed=12)
    fresh.load_weights(theirs)
    _assert_same_tensors(tmodel2.state_dict(), fresh.state_dict())
    _assert_outputs_close(tmodel2, fresh, x, "load_weights")


# ---------------------------------------------------------------------------- pickle refused

class _Payload:
    """Unpickling this object creates a directory: the proof that a loader ran pickle."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
def test_torch_save_pickle_is_refused_without_unpickling(tmp_path, zipfile):
    torch.manual_seed(0)
    tmodel = mlp(torch)
    marker = tmp_path / "unpickled"
    state = dict(tmodel.state_dict())
    state["payload"] = _Payload(str(marker))
    path = tmp_path / "model.pt"
    torch.save(state, str(path), _use_new_zipfile_serialization=zipfile)

    with pytest.raises(FileFormatError) as err:
        ember.load(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "pickle" in msg and "torch.save" in msg and "safetensors" in msg
    assert isinstance(err.value, ValueError)
    emodel = mlp(ember)
    with pytest.raises(FileFormatError, match="pickle"):
        emodel.load_weights(path)
    assert not marker.exists(), "ember ran the pickle"

    # the control: the payload is live, unpickling the same file does run it
    torch.load(str(path), weights_only=False)
    assert marker.is_dir()


def test_plain_torch_save_of_a_state_dict_is_refused(tmp_path):
    """The everyday case: ``torch.save(model.state_dict(), "model.pt")``."""
    torch.manual_seed(0)
    path = tmp_path / "model.pt"
    torch.save(bn_cnn(torch).state_dict(), str(path))
    with pytest.raises(FileFormatError, match=r"torch\.save.*never loads pickle"):
        ember.load(path)
