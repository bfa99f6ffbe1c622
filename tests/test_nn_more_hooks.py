"""Module hooks against PyTorch: full backward hooks and pre-hooks (the gradients they see and
replacing them), and the forward-hook keywords ``with_kwargs``, ``prepend`` and
``always_call``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from tests.test_nn_layers import copy_weights, rand


class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x, y, scale=1.0):
        return self.fc(x) * scale, (x * y).sum(-1)


class TTwo(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x, y, scale=1.0):
        return self.fc(x) * scale, (x * y).sum(-1)


def _run(fw, mod, x, y, y_grad=True):
    seen = []

    def pre(m, grad_output):
        seen.append(("pre", [None if g is None else g.detach().numpy().copy()
                             for g in grad_output]))
        return (grad_output[0] * 2, grad_output[1])

    def full(m, grad_input, grad_output):
        seen.append(("full", [None if g is None else g.detach().numpy().copy()
                              for g in grad_input],
                     [g.detach().numpy().copy() for g in grad_output]))
        return tuple(None if g is None else g + 1 for g in grad_input)

    mod.register_full_backward_pre_hook(pre)
    mod.register_full_backward_hook(full)
    xt = fw.tensor(x, requires_grad=True)
    yt = fw.tensor(y, requires_grad=y_grad)
    a, b = mod(xt, yt, scale=3.0)
    (a.sum() + (b * fw.tensor(rand(*b.shape, seed=4))).sum()).backward()
    return seen, xt.grad, yt.grad, [p.grad for p in mod.parameters()]


@pytest.mark.parametrize("y_grad", [True, False])
def test_full_backward_hooks_match_torch(y_grad):
    t, e = TTwo().double(), Two().double()
    copy_weights(t, e)
    x, y = rand(4, 3), rand(4, 3, seed=1)
    ts, tx, ty, tp = _run(torch, t, x, y, y_grad)
    es, ex, ey, ep = _run(ember, e, x, y, y_grad)
    assert [s[0] for s in es] == [s[0] for s in ts] == ["pre", "full"]
    for t_entry, e_entry in zip(ts, es):
        for t_list, e_list in zip(t_entry[1:], e_entry[1:]):
            assert len(t_list) == len(e_list)
            for tg, eg in zip(t_list, e_list):
                assert (tg is None) == (eg is None)
                if tg is not None:
                    np.testing.assert_allclose(eg, tg, atol=1e-12)
    np.testing.assert_allclose(ex.numpy(), tx.numpy(), atol=1e-12)
    if y_grad:
        np.testing.assert_allclose(ey.numpy(), ty.numpy(), atol=1e-12)
    for a, b in zip(ep, tp):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


FRAMEWORKS = pytest.mark.parametrize("fw,mod", [(torch, torch.nn), (ember, nn)],
                                     ids=["torch", "ember"])


@FRAMEWORKS
def test_backward_hook_without_input_grad_and_removal(fw, mod):
    lin = mod.Linear(3, 2)
    got = []
    h = lin.register_full_backward_hook(lambda m, gi, go: got.append((gi, len(go))))
    lin(fw.ones(4, 3)).sum().backward()
    assert len(got) == 1 and got[0][0] == (None,) and got[0][1] == 1
    h.remove()
    lin(fw.ones(4, 3)).sum().backward()
    assert len(got) == 1


@FRAMEWORKS
def test_forward_hook_keywords(fw, mod):
    m = mod.Linear(2, 2)
    order = []
    m.register_forward_hook(lambda mod_, a, o: order.append("first"))
    m.register_forward_hook(lambda mod_, a, o: order.append("prepended"), prepend=True)

    def pre_kw(mod_, args, kwargs):
        order.append(("pre", sorted(kwargs)))
        return (args[0] * 0,), kwargs
    m.register_forward_pre_hook(pre_kw, with_kwargs=True)
    m.register_forward_hook(lambda mod_, a, kw, o: order.append(("post", float(o.sum()))),
                            with_kwargs=True)
    out = m(fw.ones(1, 2))
    assert order == [("pre", []), "prepended", "first", ("post", float(out.sum()))]

    bad = mod.Linear(2, 2)
    calls = []
    bad.register_forward_hook(lambda mod_, a, o: calls.append(o), always_call=True)
    bad.register_forward_hook(lambda mod_, a, o: calls.append("not always"))
    with pytest.raises(RuntimeError):
        bad(fw.ones(1, 3))
    assert calls == [None]
