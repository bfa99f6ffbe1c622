"""Module behaviour: registration, iteration, modes, devices/dtypes, state_dict (keys as
PyTorch's, round trip, errors), hooks, repr and containers."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from test_nn_layers import copy_weights


def _cnn(m):
    return m.Sequential(
        m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.ReLU(), m.MaxPool2d(2),
        m.Flatten(), m.Linear(4 * 4 * 4, 10), m.Dropout(0.2), m.LayerNorm(10),
    )


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.register_buffer("scale", ember.ones(3))
        self.register_buffer("cache", ember.zeros(2), persistent=False)
        self.extra = nn.Parameter(ember.zeros(2))
        self.plain = 5

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.register_buffer("scale", torch.ones(3))
        self.register_buffer("cache", torch.zeros(2), persistent=False)
        self.extra = torch.nn.Parameter(torch.zeros(2))
        self.plain = 5


def test_registration_and_iteration():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in TorchNet().named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in TorchNet().named_buffers()]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "bn"]
    assert [n for n, _ in net.named_children()] == ["fc", "bn"]
    assert list(net.children()) == [net.fc, net.bn]
    assert len(list(net.parameters())) == 5
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.plain == 5 and "plain" not in net._parameters
    assert isinstance(net.extra, nn.Parameter) and net.extra.requires_grad
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        _ = net.nope
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'extra'"):
        net.extra = ember.zeros(2)
    net.extra = None
    assert "extra" not in dict(net.named_parameters())
    del net.fc
    assert "fc" not in net._modules
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2  # shared parameters once


def test_parameter_repr_and_ops_return_tensors():
    p = nn.Parameter(ember.ones(2))
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is ember.Tensor and type(p + p) is ember.Tensor
    assert not nn.Parameter(ember.ones(1), requires_grad=False).requires_grad


def test_state_dict_keys_match_torch_and_round_trip():
    e, t = _cnn(nn), _cnn(torch.nn)
    assert list(e.state_dict().keys()) == list(t.state_dict().keys())
    assert "1.num_batches_tracked" in e.state_dict()
    assert e.state_dict()["1.num_batches_tracked"].dtype == ember.int64
    copy_weights(t, e)
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    t.eval()
    e.eval()
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)
    # round trip ember -> ember: a fresh model gives the same outputs
    e2 = _cnn(nn).eval()
    e2.load_state_dict(e.state_dict())
    np.testing.assert_array_equal(e2(ember.tensor(x)).detach().numpy(), e(ember.tensor(x)).detach().numpy())
    # state_dict tensors are detached and share memory with the parameters
    sd = e.state_dict()
    assert not sd["0.weight"].requires_grad
    assert np.shares_memory(sd["0.weight"].numpy(), e[0].weight.detach().numpy())
    assert e.state_dict(keep_vars=True)["0.weight"] is e[0].weight
    # non-persistent buffers stay out
    assert "cache" not in Net().state_dict() and "scale" in Net().state_dict()


def test_load_state_dict_keeps_parameter_identity():
    m = nn.Linear(3, 2)
    w = m.weight
    m.load_state_dict({"weight": np.ones((2, 3), np.float32), "bias": np.zeros(2, np.float32)})
    assert m.weight is w
    np.testing.assert_array_equal(w.detach().numpy(), 1.0)


def test_load_state_dict_errors():
    m = nn.Sequential(OrderedDict(fc=nn.Linear(4, 10)))
    good = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    bad = dict(good)
    bad["fc.weight"] = np.zeros((10, 5), np.float32)
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(bad)
    assert ("size mismatch for fc.weight: copying a param with shape (10, 5) from checkpoint, "
            "the shape in current model is (10, 4)") in str(err.value)
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict(bad, strict=False)  # as in PyTorch, shapes are always checked
    extra = dict(good, foo=np.zeros(1))
    del extra["fc.bias"]
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(extra)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "fc.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "foo"' in msg
    res = m.load_state_dict(extra, strict=False)
    assert res.missing_keys == ["fc.bias"] and res.unexpected_keys == ["foo"]
    missing, unexpected = m.load_state_dict(good)
    assert missing == [] and unexpected == []


def test_load_from_torch_tensors_directly():
    t, e = torch.nn.Linear(3, 2), nn.Linear(3, 2)
    e.load_state_dict(t.state_dict())
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())


def test_train_eval_zero_grad_requires_grad():
    m = _cnn(nn)
    assert m.training and m[6].training
    m.eval()
    assert not m.training and not m[6].training and not m[1].training
    m.train()
    assert m[6].training
    x = ember.randn(2, 1, 8, 8)
    m(x).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(not np.any(p.grad.numpy()) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_double_float_keep_identity():
    m = _cnn(nn)
    params = list(m.parameters())
    m.double()
    assert all(p.dtype == ember.float64 for p in m.parameters())
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert m[1].running_mean.dtype == ember.float64
    assert m[1].num_batches_tracked.dtype == ember.int64  # integer buffers keep their type
    m.float()
    assert all(p.dtype == ember.float32 for p in m.parameters())
    assert m.to("cpu") is m and m.cpu() is m
    with pytest.raises(TypeError, match="floating point"):
        m.to(ember.int64)


def test_apply_and_init():
    m = _cnn(nn)
    seen = []

    def init(mod):
        seen.append(type(mod).__name__)
        if isinstance(mod, nn.Linear):
            nn.init.zeros_(mod.weight)

    assert m.apply(init) is m
    assert seen[-1] == "Sequential" and "Linear" in seen
    assert not np.any(m[5].weight.detach().numpy())


def test_forward_hooks_and_removal():
    m = nn.Linear(3, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    x = ember.ones(4, 3)
    y = m(x)
    np.testing.assert_allclose(y.detach().numpy(),
                               np.broadcast_to(m.bias.detach().numpy() + 1, (4, 2)), rtol=1e-6)
    assert calls == [(4, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(m(x).detach().numpy(),
                               x.numpy() @ m.weight.detach().numpy().T + m.bias.detach().numpy(),
                               rtol=1e-5)
    assert calls == [(4, 2)]


def test_repr_matches_torch():
    assert repr(_cnn(nn)) == repr(_cnn(torch.nn))
    for e, t in [
        (nn.Conv2d(3, 8, 3, stride=2, padding="same" if False else 1, bias=False, groups=1),
         torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)),
        (nn.Conv2d(4, 8, (3, 5), dilation=2, groups=2, padding_mode="reflect"),
         torch.nn.Conv2d(4, 8, (3, 5), dilation=2, groups=2, padding_mode="reflect")),
        (nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1),
         torch.nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1)),
        (nn.Conv1d(3, 8, 3, padding="same"), torch.nn.Conv1d(3, 8, 3, padding="same")),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.AdaptiveAvgPool2d((1, 1)), torch.nn.AdaptiveAvgPool2d((1, 1))),
        (nn.Embedding(10, 3, padding_idx=0), torch.nn.Embedding(10, 3, padding_idx=0)),
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
        (nn.Dropout2d(0.1), torch.nn.Dropout2d(0.1)),
        (nn.BatchNorm1d(5, momentum=None), torch.nn.BatchNorm1d(5, momentum=None)),
        (nn.BatchNorm2d(5, bias=False), torch.nn.BatchNorm2d(5, bias=False)),
        (nn.LayerNorm(5, bias=False), torch.nn.LayerNorm(5, bias=False)),
        (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        (nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()]),
         torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])),
        (nn.ModuleDict({"a": nn.Tanh(), "b": nn.Sigmoid()}),
         torch.nn.ModuleDict({"a": torch.nn.Tanh(), "b": torch.nn.Sigmoid()})),
    ]:
        assert repr(e) == repr(t)


def test_sequential_container_api():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b)
    assert len(s) == 2 and s[0] is a and s[-1] is b
    s.append(c)
    assert list(s) == [a, b, c]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub.state_dict()) == ["2.weight", "2.bias"]  # keys kept, as torch does
    s.insert(0, nn.Identity())
    assert [type(m).__name__ for m in s] == ["Identity", "Linear", "ReLU", "Linear"]
    s.extend([nn.Sigmoid()])
    assert len(s) == 5
    del s[0]
    assert s[0] is a and list(s._modules) == ["0", "1", "2", "3"]
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is a
    y = nn.Sequential(a, b, c)(ember.ones(4, 2))
    assert y.shape == (4, 1)
    with pytest.raises(IndexError):
        s[10]


def test_sequential_is_model_when_available():
    seq = nn.Sequential(nn.Linear(2, 2))
    from ember.nn.modules.container import Sequential as Container

    assert isinstance(seq, Container)
    try:
        import ember.models
    except ImportError:
        return
    if hasattr(ember.models, "Sequential"):
        assert isinstance(seq, ember.models.Model)
        assert hasattr(seq, "compile") and hasattr(seq, "fit")


def test_modulelist_moduledict_parameterlist():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    ml.append(nn.ReLU())
    assert len(ml) == 3 and isinstance(ml[-1], nn.ReLU)
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    md = nn.ModuleDict({"enc": nn.Linear(2, 3)})
    md["dec"] = nn.Linear(3, 2)
    assert list(md.keys()) == ["enc", "dec"] and "enc" in md
    assert list(md.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    pl = nn.ParameterList([nn.Parameter(ember.ones(2)), ember.zeros(3)])
    assert len(pl) == 2 and isinstance(pl[1], nn.Parameter)
    assert list(pl.state_dict()) == ["0", "1"]
    pd = nn.ParameterDict({"a": nn.Parameter(ember.ones(1))})
    assert list(pd.state_dict()) == ["a"]


def test_get_submodule_and_parameter():
    m = nn.Sequential(OrderedDict(enc=nn.Sequential(nn.Linear(2, 3))))
    assert m.get_submodule("enc.0") is m.enc[0]
    assert m.get_parameter("enc.0.bias") is m.enc[0].bias
