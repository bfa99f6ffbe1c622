"""Every ember.nn layer against the same PyTorch layer with identical weights and inputs:
outputs, input gradients and parameter gradients, in training and evaluation mode.

``compare_module`` copies the PyTorch module's ``state_dict`` into the ember one (through NumPy),
which also checks that the two have the same keys and shapes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F


def _flat(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flat(o))
        return res
    return [out] if out is not None else []


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t.detach())


def copy_weights(t_mod: torch.nn.Module, e_mod: nn.Module) -> None:
    """Load the torch module's state into the ember one; the key lists must be equal."""
    t_sd = t_mod.state_dict()
    e_keys = list(e_mod.state_dict().keys())
    assert e_keys == list(t_sd.keys()), f"state_dict keys: ember {e_keys}, torch {list(t_sd)}"
    res = e_mod.load_state_dict({k: v.detach().cpu().numpy() for k, v in t_sd.items()})
    assert res.missing_keys == [] and res.unexpected_keys == []


def compare_module(t_mod, e_mod, inputs, *, train=True, atol=1e-9, rtol=1e-7, grad=True,
                   call=None, int_inputs=(), dtype=np.float64, seed=0):
    """Run both modules on the same inputs and compare outputs and all gradients.

    ``inputs`` are NumPy arrays; those at positions in ``int_inputs`` (or non-float arrays) get
    no gradient. ``call(module, *xs)`` customises the call (default ``module(*xs)``).
    """
    if dtype == np.float64:
        t_mod.double()
        e_mod.double()
    copy_weights(t_mod, e_mod)
    t_mod.train(train)
    e_mod.train(train)
    call = call or (lambda m, *xs: m(*xs))
    t_in, e_in = [], []
    for i, a in enumerate(inputs):
        if a is None:
            t_in.append(None)
            e_in.append(None)
            continue
        a = np.asarray(a)
        g = grad and a.dtype.kind == "f" and i not in int_inputs
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        t_in.append(torch.tensor(a, requires_grad=g))
        e_in.append(ember.tensor(a, requires_grad=g))
    t_out = _flat(call(t_mod, *t_in))
    e_out = _flat(call(e_mod, *e_in))
    assert len(t_out) == len(e_out)
    for t, e in zip(t_out, e_out):
        assert tuple(t.shape) == tuple(e.shape), f"output shape ember {e.shape} torch {t.shape}"
        np.testing.assert_allclose(_np(e), _np(t), atol=atol, rtol=rtol, err_msg="output")
    if not grad:
        return t_out, e_out
    rng = np.random.default_rng(seed + 7)
    pairs = [(t, e) for t, e in zip(t_out, e_out) if t.requires_grad]
    ups = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t, _ in pairs]
    torch.autograd.backward([t for t, _ in pairs], [torch.tensor(u) for u in ups])
    ember.autograd.backward([e for _, e in pairs], [ember.tensor(u) for u in ups])
    for i, (t, e) in enumerate(zip(t_in, e_in)):
        if t is None or not t.requires_grad:
            continue
        assert e.grad is not None, f"input {i} has no gradient in ember"
        np.testing.assert_allclose(_np(e.grad), _np(t.grad), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")
    t_params = dict(t_mod.named_parameters())
    e_params = dict(e_mod.named_parameters())
    assert list(e_params) == list(t_params)
    for name, tp in t_params.items():
        ep = e_params[name]
        if tp.grad is None:
            assert ep.grad is None or not np.any(_np(ep.grad)), f"{name}: ember grad, torch none"
            continue
        assert ep.grad is not None, f"{name}: torch has a gradient, ember none"
        np.testing.assert_allclose(_np(ep.grad), _np(tp.grad), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of {name}")
    return t_out, e_out


def rand(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


# ---------------------------------------------------------------------------------- linear


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    compare_module(torch.nn.Linear(5, 3, bias=bias), nn.Linear(5, 3, bias=bias), [rand(4, 5)])


def test_linear_3d_and_1d_input():
    compare_module(torch.nn.Linear(5, 3), nn.Linear(5, 3), [rand(2, 4, 5)])
    compare_module(torch.nn.Linear(5, 3), nn.Linear(5, 3), [rand(5)])


def test_linear_float32():
    compare_module(torch.nn.Linear(6, 4), nn.Linear(6, 4), [rand(3, 6)], dtype=np.float32,
                   atol=1e-5, rtol=1e-5)


def test_linear_shape_error_names_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=784, out_features=10\).*784.*\(32, 100\)"):
        nn.Linear(784, 10)(ember.zeros(32, 100))


def test_linear_double_backward():
    lin = nn.Linear(3, 2).double()
    x = ember.tensor(rand(4, 3), requires_grad=True)
    (gx,) = ember.autograd.grad(lin(x).tanh().sum(), [x], create_graph=True)
    gx.sum().backward()
    tl = torch.nn.Linear(3, 2).double()
    tl.load_state_dict({k: torch.tensor(_np(v)) for k, v in lin.state_dict().items()})
    tx = torch.tensor(rand(4, 3), requires_grad=True)
    (tgx,) = torch.autograd.grad(tl(tx).tanh().sum(), [tx], create_graph=True)
    tgx.sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad), atol=1e-10)
    np.testing.assert_allclose(_np(lin.weight.grad), _np(tl.weight.grad), atol=1e-10)


def test_bilinear():
    compare_module(torch.nn.Bilinear(3, 4, 2), nn.Bilinear(3, 4, 2), [rand(5, 3), rand(5, 4, seed=1)])


def test_identity_flatten_unflatten():
    compare_module(torch.nn.Identity(), nn.Identity(), [rand(2, 3)])
    compare_module(torch.nn.Flatten(), nn.Flatten(), [rand(2, 3, 4, 5)])
    compare_module(torch.nn.Flatten(0, 2), nn.Flatten(0, 2), [rand(2, 3, 4, 5)])
    compare_module(torch.nn.Unflatten(1, (3, 4)), nn.Unflatten(1, (3, 4)), [rand(2, 12)])
    compare_module(torch.nn.Unflatten(1, (-1, 2)), nn.Unflatten(1, (-1, 2)), [rand(2, 12)])


# ------------------------------------------------------------------------------------- conv


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same", dilation=2),
    dict(padding="same", kernel_size=4),
    dict(padding="valid", bias=False),
    dict(groups=2),
    dict(padding=1, padding_mode="reflect"),
    dict(padding=(1, 2), padding_mode="circular"),
])
def test_conv2d(kwargs):
    kw = dict(kernel_size=3)
    kw.update(kwargs)
    compare_module(torch.nn.Conv2d(4, 6, **kw), nn.Conv2d(4, 6, **kw), [rand(2, 4, 7, 8)])


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=2, dilation=2),
                                    dict(padding="same"), dict(groups=2, bias=False)])
def test_conv1d(kwargs):
    compare_module(torch.nn.Conv1d(4, 6, 3, **kwargs), nn.Conv1d(4, 6, 3, **kwargs),
                   [rand(2, 4, 9)])


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, output_padding=1),
                                    dict(groups=2, bias=False), dict(dilation=2)])
def test_conv_transpose2d(kwargs):
    compare_module(torch.nn.ConvTranspose2d(4, 6, 3, **kwargs),
                   nn.ConvTranspose2d(4, 6, 3, **kwargs), [rand(2, 4, 5, 4)])


def test_conv_transpose2d_output_size():
    t = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    e = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    compare_module(t, e, [rand(1, 2, 4, 4)], call=lambda m, x: m(x, output_size=[8, 8]))


def test_conv_errors():
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 8.*\(2, 4, 5, 5\)"):
        nn.Conv2d(3, 8, 3)(ember.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 8, 3, groups=2)


# ---------------------------------------------------------------------------------- pooling


@pytest.mark.parametrize("t_cls,e_cls,args,shape", [
    (torch.nn.MaxPool2d, nn.MaxPool2d, (2,), (2, 3, 6, 6)),
    (torch.nn.MaxPool2d, nn.MaxPool2d, (3, 2, 1), (2, 3, 7, 7)),
    (torch.nn.MaxPool1d, nn.MaxPool1d, (2,), (2, 3, 8)),
    (torch.nn.AvgPool2d, nn.AvgPool2d, (2,), (2, 3, 6, 6)),
    (torch.nn.AvgPool2d, nn.AvgPool2d, (3, 2, 1), (2, 3, 7, 7)),
    (torch.nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool2d, ((1, 1),), (2, 3, 5, 5)),
    (torch.nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool2d, (3,), (2, 3, 7, 8)),
])
def test_pooling(t_cls, e_cls, args, shape):
    compare_module(t_cls(*args), e_cls(*args), [rand(*shape)])


# ---------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_train_steps_then_eval(momentum):
    t = torch.nn.BatchNorm2d(3, momentum=momentum)
    e = nn.BatchNorm2d(3, momentum=momentum)
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-0.5, 0.5)
    for step in range(3):
        compare_module(t, e, [rand(4, 3, 5, 5, seed=step) * (step + 1) + step], train=True)
        # copy_weights inside compare_module reloads torch's state, so compare stats directly
    t_sd, e_sd = t.state_dict(), e.state_dict()
    # run three more steps without reloading, so ember updates its own running stats
    t.train()
    e.train()
    for step in range(3):
        x = rand(4, 3, 5, 5, seed=10 + step) * 2 + 1
        t(torch.tensor(x))
        e(ember.tensor(x))
    for k in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(_np(e.state_dict()[k]), _np(t.state_dict()[k]), rtol=1e-10,
                                   err_msg=k)
    assert int(e.num_batches_tracked.item()) == 6
    compare_module(t, e, [rand(4, 3, 5, 5, seed=99)], train=False)
    assert t_sd.keys() == e_sd.keys()


def test_batchnorm1d_2d_and_3d_inputs():
    compare_module(torch.nn.BatchNorm1d(4), nn.BatchNorm1d(4), [rand(6, 4)])
    compare_module(torch.nn.BatchNorm1d(4), nn.BatchNorm1d(4), [rand(6, 4, 3)])
    compare_module(torch.nn.BatchNorm1d(4), nn.BatchNorm1d(4), [rand(6, 4)], train=False)


def test_batchnorm_variants():
    compare_module(torch.nn.BatchNorm2d(3, affine=False), nn.BatchNorm2d(3, affine=False),
                   [rand(2, 3, 4, 4)])
    t = torch.nn.BatchNorm2d(3, track_running_stats=False)
    e = nn.BatchNorm2d(3, track_running_stats=False)
    compare_module(t, e, [rand(2, 3, 4, 4)], train=False)  # eval uses batch statistics
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ember.zeros(1, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*4D"):
        nn.BatchNorm2d(3)(ember.zeros(2, 3))


@pytest.mark.parametrize("kwargs", [dict(), dict(elementwise_affine=False), dict(bias=False),
                                    dict(eps=1e-3)])
def test_layernorm(kwargs):
    compare_module(torch.nn.LayerNorm(5, **kwargs), nn.LayerNorm(5, **kwargs), [rand(3, 4, 5)])
    compare_module(torch.nn.LayerNorm((4, 5), **kwargs), nn.LayerNorm((4, 5), **kwargs),
                   [rand(3, 4, 5)])


def test_groupnorm():
    compare_module(torch.nn.GroupNorm(2, 4), nn.GroupNorm(2, 4), [rand(3, 4, 5, 2)])
    compare_module(torch.nn.GroupNorm(2, 4, affine=False), nn.GroupNorm(2, 4, affine=False),
                   [rand(3, 4, 6)])


def test_batchnorm_without_bias():
    compare_module(torch.nn.BatchNorm2d(3, bias=False), nn.BatchNorm2d(3, bias=False),
                   [rand(2, 3, 4, 4)])


# ---------------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("cls", ["Dropout", "Dropout2d"])
def test_dropout_eval_is_identity_and_train_scales(cls):
    t, e = getattr(torch.nn, cls)(0.3), getattr(nn, cls)(0.3)
    compare_module(t, e, [rand(4, 3, 5, 5)], train=False)
    e.train()
    x = ember.ones(64, 8, 4, 4)
    y = e(x).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert 0.5 < kept.mean() < 0.9
    if cls == "Dropout2d":  # whole channels are kept or dropped
        per_channel = kept.reshape(64, 8, -1)
        assert np.all(per_channel.all(-1) | ~per_channel.any(-1))


# -------------------------------------------------------------------------------- embedding


def test_embedding():
    idx = np.array([[1, 2, 4], [4, 3, 1]])
    compare_module(torch.nn.Embedding(6, 3), nn.Embedding(6, 3), [idx])
    t, e = compare_module(torch.nn.Embedding(6, 3, padding_idx=1),
                          nn.Embedding(6, 3, padding_idx=1), [np.array([[1, 2, 1], [0, 1, 5]])])


def test_embedding_padding_idx_gets_no_gradient_and_starts_zero():
    e = nn.Embedding(5, 4, padding_idx=2)
    assert not np.any(e.weight.detach().numpy()[2])
    with ember.no_grad():
        e.weight[2] = 1.0  # a user may set it; the row is returned but never trained
    out = e(ember.tensor([2, 2, 0]))
    np.testing.assert_allclose(out.detach().numpy()[0], 1.0)
    out.sum().backward()
    assert not np.any(e.weight.grad.numpy()[2])
    np.testing.assert_allclose(e.weight.grad.numpy()[0], 1.0)


def test_embedding_max_norm_and_from_pretrained():
    t = torch.nn.Embedding(5, 3, max_norm=1.0).double()
    e = nn.Embedding(5, 3, max_norm=1.0).double()
    copy_weights(t, e)
    idx = np.array([0, 3, 3, 1])
    np.testing.assert_allclose(_np(e(ember.tensor(idx))), _np(t(torch.tensor(idx))), atol=1e-7)
    np.testing.assert_allclose(_np(e.weight), _np(t.weight), atol=1e-7)
    w = ember.tensor(rand(4, 2))
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    np.testing.assert_allclose(emb(ember.tensor([3])).numpy(), rand(4, 2)[[3]].astype(np.float32))
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


# ------------------------------------------------------------------------------ activations


@pytest.mark.parametrize("name,args", [
    ("ReLU", ()), ("ReLU", (True,)), ("LeakyReLU", (0.2,)), ("GELU", ()), ("GELU", ("tanh",)),
    ("SiLU", ()), ("ELU", (0.7,)), ("Softplus", (2.0, 5.0)), ("Sigmoid", ()), ("Tanh", ()),
    ("Softmax", (1,)), ("LogSoftmax", (-1,)), ("Hardtanh", ()), ("ReLU6", ()), ("Mish", ()),
])
def test_activation(name, args):
    x = rand(3, 4, low=-3, high=3)
    if name == "ReLU" and args == (True,):  # in place on a leaf is an error; use a non-leaf
        call = lambda m, x: m(x * 1.0)  # noqa: E731
    else:
        call = None
    t, e = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    compare_module(t, e, [x], call=call)
    assert repr(e) == repr(t)


# ---------------------------------------------------------------------------- MultiheadAttention


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_self(batch_first):
    t = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    e = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    x = rand(3, 5, 8) if batch_first else rand(5, 3, 8)
    compare_module(t, e, [x, x, x], call=lambda m, q, k, v: m(q, k, v))


def test_multihead_attention_masks_and_weights():
    t = torch.nn.MultiheadAttention(8, 2)
    e = nn.MultiheadAttention(8, 2)
    L, S, N = 4, 5, 2
    q, k, v = rand(L, N, 8), rand(S, N, 8, seed=1), rand(S, N, 8, seed=2)
    kpm = np.zeros((N, S), bool)
    kpm[0, -2:] = True
    causal = np.triu(np.ones((L, S), bool), 1)

    def call(m, q, k, v, kpm, am):
        return m(q, k, v, key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)

    compare_module(t, e, [q, k, v, kpm, causal], call=call)
    float_mask = rand(L, S, seed=3)
    compare_module(t, e, [q, k, v, None, float_mask],
                   call=lambda m, q, k, v, _, am: m(q, k, v, attn_mask=am), int_inputs=(4,))
    compare_module(t, e, [q, k, v], call=lambda m, q, k, v: m(q, k, v, need_weights=False)[0])


def test_multihead_attention_kdim_vdim_and_unbatched():
    t = torch.nn.MultiheadAttention(6, 3, kdim=4, vdim=5, bias=False)
    e = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, bias=False)
    compare_module(t, e, [rand(3, 2, 6), rand(4, 2, 4, seed=1), rand(4, 2, 5, seed=2)])
    t2, e2 = torch.nn.MultiheadAttention(4, 2), nn.MultiheadAttention(4, 2)
    compare_module(t2, e2, [rand(3, 4), rand(5, 4, seed=1), rand(5, 4, seed=2)])


def test_multihead_attention_init_statistics():
    m = nn.MultiheadAttention(64, 4)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6.0 / (64 + 192))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not np.any(m.in_proj_bias.detach().numpy())
    assert not np.any(m.out_proj.bias.detach().numpy())
    assert repr(m) == repr(torch.nn.MultiheadAttention(64, 4))


@pytest.mark.parametrize("bias_kv,zero_attn", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_bias_kv_and_zero_attn(bias_kv, zero_attn, batch_first):
    kw = dict(add_bias_kv=bias_kv, add_zero_attn=zero_attn, batch_first=batch_first)
    t, e = torch.nn.MultiheadAttention(8, 2, **kw), nn.MultiheadAttention(8, 2, **kw)
    L, S, N = 4, 5, 2

    def seq(n, seed, d=8):
        return rand(N, n, d, seed=seed) if batch_first else rand(n, N, d, seed=seed)

    q, k, v = seq(L, 0), seq(S, 1), seq(S, 2)
    kpm = np.zeros((N, S), bool)
    kpm[0, -2:] = True
    causal = np.triu(np.ones((L, S), bool), 1)
    extra = bias_kv + zero_attn
    for avg in (True, False):
        _, (_, w) = compare_module(
            t, e, [q, k, v, kpm, causal],
            call=lambda m, q, k, v, kpm, am, avg=avg: m(q, k, v, key_padding_mask=kpm,
                                                        attn_mask=am, average_attn_weights=avg))
        assert w.shape[-1] == S + extra  # the appended positions get weights too
    # float masks, and a per-head 3D boolean mask that blocks a whole row of given keys: the
    # appended positions must stay attendable
    float_kpm, float_am = rand(N, S, seed=4), rand(L, S, seed=3)
    compare_module(t, e, [q, k, v, float_kpm, float_am], int_inputs=(3, 4),
                   call=lambda m, q, k, v, kpm, am: m(q, k, v, key_padding_mask=kpm,
                                                      attn_mask=am))
    mask3 = np.random.default_rng(5).random((N * 2, L, S)) < 0.4
    mask3[0, 0, :] = True
    compare_module(t, e, [q, k, v, mask3],
                   call=lambda m, q, k, v, am: m(q, k, v, attn_mask=am, need_weights=False)[0])


def test_multihead_attention_bias_kv_kdim_vdim_unbatched_and_init():
    kw = dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5)
    t, e = torch.nn.MultiheadAttention(6, 3, **kw), nn.MultiheadAttention(6, 3, **kw)
    compare_module(t, e, [rand(4, 2, 6), rand(5, 2, 3, seed=1), rand(5, 2, 5, seed=2)])
    compare_module(t, e, [rand(4, 6), rand(5, 3, seed=1), rand(5, 5, seed=2)])
    assert list(e.state_dict()) == list(t.state_dict())
    m = nn.MultiheadAttention(1024, 4, add_bias_kv=True)
    assert tuple(m.bias_k.shape) == tuple(m.bias_v.shape) == (1, 1, 1024)
    # xavier_normal_ on (1, 1, E): std sqrt(2 / 2E) = 1/32
    both = np.concatenate([m.bias_k.detach().numpy(), m.bias_v.detach().numpy()])
    assert abs(both.std() * 32 - 1) < 0.08
    assert nn.MultiheadAttention(8, 2).bias_k is None


# ---------------------------------------------------------------------------------- functional


def test_functional_matches_torch():
    x = rand(2, 3, 6, 6)
    for name, kwargs in [("relu", {}), ("gelu", {}), ("softmax", {"dim": 1}),
                         ("log_softmax", {"dim": 1}), ("max_pool2d", {"kernel_size": 2}),
                         ("avg_pool2d", {"kernel_size": 3, "stride": 1}),
                         ("adaptive_avg_pool2d", {"output_size": 2}),
                         ("layer_norm", {"normalized_shape": (6,)}),
                         ("normalize", {"dim": 1}),
                         ("pad", {"pad": (1, 2)})]:
        got = getattr(F, name)(ember.tensor(x), **kwargs)
        want = getattr(torch.nn.functional, name)(torch.tensor(x), **kwargs)
        np.testing.assert_allclose(_np(got), _np(want), atol=1e-10, err_msg=name)
    idx = np.array([0, 2, 1])
    np.testing.assert_array_equal(F.one_hot(ember.tensor(idx), 4).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx), 4).numpy())


def test_functional_batch_norm_updates_running_stats():
    x = rand(5, 3, 2)
    rm_t, rv_t = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    rm_e, rv_e = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    yt = torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=True, momentum=0.3)
    ye = F.batch_norm(ember.tensor(x), rm_e, rv_e, training=True, momentum=0.3)
    np.testing.assert_allclose(_np(ye), _np(yt), atol=1e-10)
    np.testing.assert_allclose(rm_e.numpy(), rm_t.numpy(), atol=1e-12)
    np.testing.assert_allclose(rv_e.numpy(), rv_t.numpy(), atol=1e-12)


def test_activation_classes_are_not_subclasses_of_each_other_as_in_torch():
    import torch

    pairs = [("ReLU6", "ReLU"), ("Mish", "SiLU"), ("ReLU", "SiLU")]
    for a, b in pairs:
        ours = isinstance(getattr(nn, a)(), getattr(nn, b))
        assert ours == isinstance(getattr(torch.nn, a)(), getattr(torch.nn, b))
    assert repr(nn.ReLU6(inplace=True)) == repr(torch.nn.ReLU6(inplace=True))
    assert repr(nn.SiLU()) == repr(torch.nn.SiLU())


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("kwargs", [dict(), dict(affine=True, momentum=0.3),
                                    dict(affine=True, momentum=None, bias=False)])
def test_instance_norm_running_stats_train_steps_then_eval(dims, kwargs):
    from ember.nn.modules.normalization import InstanceNorm1d

    t_cls = torch.nn.InstanceNorm1d if dims == 1 else torch.nn.InstanceNorm2d
    e_cls = InstanceNorm1d if dims == 1 else nn.InstanceNorm2d
    shape = (4, 3, 6) if dims == 1 else (4, 3, 3, 4)
    t = t_cls(3, track_running_stats=True, **kwargs)
    e = e_cls(3, track_running_stats=True, **kwargs)
    assert repr(e) == repr(t)
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_(0.5, 1.5)
    compare_module(t, e, [rand(*shape) * 2 + 1])
    # further steps without reloading torch's state: ember updates its own running stats
    for step in range(3):
        x = rand(*shape, seed=10 + step) * (step + 1) + step
        t(torch.tensor(x))
        e(ember.tensor(x))
    assert list(e.state_dict()) == list(t.state_dict())
    assert "running_mean" in e.state_dict() and "num_batches_tracked" in e.state_dict()
    for k in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(_np(e.state_dict()[k]), _np(t.state_dict()[k]), rtol=1e-12,
                                   err_msg=k)
    if kwargs.get("momentum", 0.1) is not None:
        assert not np.allclose(e.running_var.numpy(), 1)
    compare_module(t, e, [rand(*shape, seed=99)], train=False)  # eval: running statistics
    compare_module(t, e, [rand(*shape[1:], seed=98)], train=False)  # unbatched
    compare_module(t, e, [rand(*shape[1:], seed=98)], train=True)


def test_instance_norm_without_running_stats_and_errors():
    from ember.nn.modules.normalization import InstanceNorm1d

    for kw in (dict(), dict(affine=True)):
        compare_module(torch.nn.InstanceNorm2d(3, **kw), nn.InstanceNorm2d(3, **kw),
                       [rand(2, 3, 4, 4)], train=False)  # eval still uses instance statistics
        compare_module(torch.nn.InstanceNorm1d(3, **kw), InstanceNorm1d(3, **kw), [rand(2, 3, 5)])
        assert list(nn.InstanceNorm2d(3, **kw).state_dict()) == list(
            torch.nn.InstanceNorm2d(3, **kw).state_dict())
        assert repr(nn.InstanceNorm2d(3, **kw)) == repr(torch.nn.InstanceNorm2d(3, **kw))
    assert nn.InstanceNorm2d(4, affine=True, device="cpu").weight.device == ember.device("cpu")
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        InstanceNorm1d(3)(ember.zeros(2, 3, 1))
    with pytest.raises(ValueError, match=r"3D or 4D input \(got 2D"):
        nn.InstanceNorm2d(3)(ember.zeros(2, 3))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm2d(3, affine=True)(ember.zeros(2, 4, 3, 3))


def test_functional_instance_norm_running_stats():
    x = rand(3, 2, 5)
    rm_t, rv_t = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    rm_e, rv_e = ember.zeros(2, dtype=ember.float64), ember.ones(2, dtype=ember.float64)
    yt = torch.nn.functional.instance_norm(torch.tensor(x), rm_t, rv_t, momentum=0.3)
    ye = F.instance_norm(ember.tensor(x), rm_e, rv_e, momentum=0.3)
    np.testing.assert_allclose(_np(ye), _np(yt), atol=1e-10)
    np.testing.assert_allclose(rm_e.numpy(), rm_t.numpy(), atol=1e-12)
    np.testing.assert_allclose(rv_e.numpy(), rv_t.numpy(), atol=1e-12)
    yt = torch.nn.functional.instance_norm(torch.tensor(x), rm_t, rv_t, use_input_stats=False)
    ye = F.instance_norm(ember.tensor(x), rm_e, rv_e, use_input_stats=False)
    np.testing.assert_allclose(_np(ye), _np(yt), atol=1e-10)
    np.testing.assert_allclose(rm_e.numpy(), rm_t.numpy(), atol=1e-12)  # eval leaves them be
    with pytest.raises(RuntimeError, match="running_mean and running_var to be defined"):
        F.instance_norm(ember.tensor(x), use_input_stats=False)


def test_implicit_softmax_dim_warning_points_at_the_callers_line():
    import inspect
    import warnings

    x = ember.randn(2, 3)
    for fn in (F.softmax, F.log_softmax, F.softmin):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            line = inspect.currentframe().f_lineno + 1
            fn(x)
        assert caught and caught[0].filename == __file__ and caught[0].lineno == line, fn.__name__
