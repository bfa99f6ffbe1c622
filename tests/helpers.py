"""The op-test helper, after tinygrad's ``helper_test_op``: one call runs an op in ember and in
PyTorch on the same random float64 inputs, compares values and every input gradient, and runs
ember's own finite-difference ``gradcheck``. Every op test is then one line::

    check(lambda m, x, y: m.maximum(x, y), [(3, 4), (4,)])

``m`` is the ``torch`` or ``ember`` module (ember mirrors PyTorch's names), so the same lambda
serves both frameworks. Methods and operators work the same way (``lambda m, x: x.exp()``).
"""

from __future__ import annotations

import numpy as np
import torch

import ember
from ember.autograd.gradcheck import gradcheck

torch.set_default_dtype(torch.float32)


class _FunctionalProxy:
    """Lets ``m.F`` mean ``torch.nn.functional`` or ``ember.nn.functional``."""


def make_inputs(shapes, low=-2.0, high=2.0, seed=0, positive=False, dtype=np.float64):
    rng = np.random.default_rng(seed)
    arrays = []
    for s in shapes:
        a = rng.uniform(low, high, size=s).astype(dtype)
        if positive:
            a = np.abs(a) + 0.1
        arrays.append(a)
    return arrays


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, ember.Tensor):
        return np.asarray(x.detach())
    return np.asarray(x)


def _flat_tensors(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flat_tensors(o))
        return res
    return [out]


def check(fn, shapes, *, low=-2.0, high=2.0, positive=False, grad=True, atol=1e-6, rtol=1e-5,
          grad_atol=1e-6, grad_rtol=1e-5, seed=0, gradcheck_=True, inputs=None, torch_fn=None,
          grad_inputs=None):
    """Compare ``fn(ember, *xs)`` with ``fn(torch, *xs)``: values, gradients, and gradcheck.

    ``inputs`` overrides the random arrays (for ops that need special values); ``grad_inputs``
    is a list of booleans saying which inputs are differentiated (floating ones by default).
    """
    arrays = inputs if inputs is not None else make_inputs(shapes, low, high, seed, positive)
    arrays = [np.asarray(a) for a in arrays]
    if grad_inputs is None:
        grad_inputs = [grad and a.dtype.kind == "f" for a in arrays]
    tt = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_inputs)]
    et = [ember.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_inputs)]
    t_out = (torch_fn or fn)(torch, *tt)
    e_out = fn(ember, *et)
    t_outs, e_outs = _flat_tensors(t_out), _flat_tensors(e_out)
    assert len(t_outs) == len(e_outs), f"ember returned {len(e_outs)} outputs, torch {len(t_outs)}"
    for t, e in zip(t_outs, e_outs):
        assert tuple(t.shape) == tuple(e.shape), f"shape: ember {tuple(e.shape)} torch {tuple(t.shape)}"
        assert str(t.dtype).split(".")[-1] == e.dtype.name, f"dtype: ember {e.dtype} torch {t.dtype}"
        np.testing.assert_allclose(_np(e), _np(t), atol=atol, rtol=rtol, err_msg="forward values")
    if not any(grad_inputs):
        return
    rng = np.random.default_rng(seed + 1)
    diff = [(t, e) for t, e in zip(t_outs, e_outs) if t.requires_grad]
    assert all(e.requires_grad for _, e in diff), "ember output does not require grad"
    upstream = [rng.standard_normal(tuple(t.shape)) for t, _ in diff]
    torch.autograd.backward([t for t, _ in diff],
                            [torch.tensor(u, dtype=t.dtype) for u, (t, _) in zip(upstream, diff)])
    ember.autograd.backward([e for _, e in diff],
                            [ember.tensor(u, dtype=e.dtype) for u, (_, e) in zip(upstream, diff)])
    for i, (t, e) in enumerate(zip(tt, et)):
        if not grad_inputs[i]:
            continue
        if t.grad is None:
            assert e.grad is None or not np.any(_np(e.grad)), f"input {i}: ember has a gradient, torch none"
            continue
        assert e.grad is not None, f"input {i}: torch has a gradient, ember none"
        assert tuple(e.grad.shape) == tuple(t.grad.shape), f"grad shape of input {i}"
        np.testing.assert_allclose(_np(e.grad), _np(t.grad), atol=grad_atol, rtol=grad_rtol,
                                   err_msg=f"gradient of input {i}")
    if gradcheck_:
        xs = [ember.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_inputs)]

        def ember_fn(*ins):
            return tuple(o for o in _flat_tensors(fn(ember, *ins)) if o.dtype.is_floating_point)

        assert gradcheck(ember_fn, tuple(xs), atol=1e-5, rtol=1e-3)
