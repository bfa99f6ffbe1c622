"""The fused group updates (``_update_group``: one blocked pass over a group's parameters) against
the per-parameter rule they replace, bit for bit, and against PyTorch on parameters large enough
to span several blocks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import optim
from ember.optim._functional import BLOCK
from ember.optim.optimizer import Optimizer

# Shapes around and across the block size, a scalar and a one-element vector.
SHAPES = [(BLOCK + 37,), (300, 500), (3, 4), (), (1,), (2, BLOCK // 2 + 1)]

CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.02, betas=(0.6, 0.9), amsgrad=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, weight_decay=0.02)),
    ("RMSprop", dict(lr=0.005, centered=True, weight_decay=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, eps=1e-4)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1,
                     maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05, maximize=True)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


def _per_parameter(opt: Optimizer) -> Optimizer:
    """``opt`` made to run the base class's group update: ``_update`` on each parameter."""
    opt._update_group = lambda params, group: Optimizer._update_group(opt, params, group)
    return opt


def _start(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grads(step, dtype):
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _run_ember(name, kwargs, dtype, fused, steps=4, skip=None):
    params = [ember.tensor(a.copy(), requires_grad=True) for a in _start(dtype)]
    opt = getattr(optim, name)(params, **kwargs)
    if not fused:
        _per_parameter(opt)
    for step in range(steps):
        opt.zero_grad()
        for i, (p, g) in enumerate(zip(params, _grads(step, dtype))):
            if skip is None or i != skip(step):  # a parameter without a gradient this step
                p.grad = ember.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params], opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_fused_equals_per_parameter_exactly(name, kwargs, dtype):
    skip = lambda step: step % len(SHAPES)  # noqa: E731
    fused, opt_f = _run_ember(name, kwargs, dtype, fused=True, skip=skip)
    plain, opt_p = _run_ember(name, kwargs, dtype, fused=False, skip=skip)
    for a, b, shape in zip(fused, plain, SHAPES):
        assert a.shape == shape
        np.testing.assert_array_equal(a, b, err_msg=f"{name} {kwargs} shape {shape}")
    for (k, sf), sp in zip(opt_f.state_dict()["state"].items(), opt_p.state_dict()["state"].values()):
        assert sf.keys() == sp.keys()
        for key in sf:
            vf, vp = sf[key], sp[key]
            if isinstance(vf, ember.Tensor):
                np.testing.assert_array_equal(vf.numpy(), vp.numpy(), err_msg=f"state {k} {key}")
            else:
                assert vf == vp
    assert not np.array_equal(fused[0], _start(dtype)[0])


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_fused_matches_torch(name, kwargs):
    dtype = np.float32
    ours, _ = _run_ember(name, kwargs, dtype, fused=True)
    params = [torch.tensor(a.copy(), requires_grad=True) for a in _start(dtype)]
    opt = getattr(torch.optim, name)(params, **kwargs)
    for step in range(4):
        opt.zero_grad()
        for p, g in zip(params, _grads(step, dtype)):
            p.grad = torch.tensor(g)
        opt.step()
    for a, p in zip(ours, params):
        np.testing.assert_allclose(a, p.detach().numpy(), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,kwargs", CASES[2:], ids=IDS[2:])
def test_fused_handles_non_contiguous_parameters(name, kwargs):
    """A parameter that is a transposed view takes the per-parameter path inside the group."""
    def run(fused):
        base = np.random.default_rng(1).standard_normal((40, 30)).astype(np.float32)
        p = ember.tensor(base, requires_grad=True)
        p._data = p._data.T  # a non-contiguous parameter array, updated in place
        q = ember.tensor(base[:5].copy(), requires_grad=True)
        opt = getattr(optim, name)([p, q], **kwargs)
        if not fused:
            _per_parameter(opt)
        for step in range(3):
            rng = np.random.default_rng(step)
            p.grad = ember.tensor(rng.standard_normal((30, 40)).astype(np.float32))
            q.grad = ember.tensor(rng.standard_normal((5, 30)).astype(np.float32))
            opt.step()
        return p.detach().numpy(), q.detach().numpy()

    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)
