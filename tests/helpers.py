"""The op-test helper, after tinygrad's ``helper_test_op``: one call runs an op in ember and in
PyTorch on the same random float64 inputs, compares values and every input gradient, and runs
ember's own finite-difference ``gradcheck``. Every op test is then one line::

    check(lambda m, x, y: m.maximum(x, y), [(3, 4), (4,)])

``m`` is the ``torch`` or ``ember`` module (ember mirrors PyTorch's names), so the same lambda
serves both frameworks. Methods and operators work the same way (``lambda m, x: x.exp()``).

On a machine with a GPU (CuPy installed and a device visible) ``check`` also runs the op on CUDA:
the same inputs moved to the GPU must give the CPU values and gradients, on the GPU, and match
PyTorch CUDA when torch has it. ``EMBER_TEST_CUDA=1`` makes that mandatory (an error without a GPU),
``EMBER_TEST_CUDA=0`` turns it off; unset, it runs when a GPU is found. The CPU-only run pays one
cached ``is_available()`` call. Write lambdas device-agnostically (``m.ones_like(x)``, not
``m.ones(3)``), as a CUDA PyTorch script must.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from ember.autograd.gradcheck import gradcheck

torch.set_default_dtype(torch.float32)


def F(m):
    """``m``'s functional namespace: ``torch.nn.functional`` or ``ember.nn.functional`` (for
    lambdas such as ``lambda m, x: F(m).gelu(x)``)."""
    return m.nn.functional


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


_CUDA_STATE: dict = {}


def cuda_wanted(cuda: bool | None = None) -> bool:
    """Whether ``check`` runs ops on CUDA too: ``cuda`` when given, else ``EMBER_TEST_CUDA``
    ("1" forces, "0" disables), else whether a GPU is available (looked up once)."""
    if cuda is None:
        flag = os.environ.get("EMBER_TEST_CUDA", "").strip().lower()
        if flag in ("0", "false", "no", "off"):
            return False
        if flag in ("1", "true", "yes", "on"):
            cuda = True
    if cuda is False:
        return False
    if cuda:
        if not ember.cuda.is_available():
            pytest.fail("CUDA checks were asked for (EMBER_TEST_CUDA=1 or cuda=True) but no GPU is "
                        "usable: install CuPy (pip install -e '.[cuda]') on a machine with a GPU")
        return True
    if "auto" not in _CUDA_STATE:
        _CUDA_STATE["auto"] = ember.cuda.is_available()
    return _CUDA_STATE["auto"]


def torch_cuda() -> bool:
    """Whether this torch build can use the GPU (a CPU-only wheel cannot)."""
    if "torch" not in _CUDA_STATE:
        _CUDA_STATE["torch"] = bool(torch.cuda.is_available())
    return _CUDA_STATE["torch"]


def _same_device_error(e: BaseException) -> bool:
    return "same device" in str(e)


def _torch_lacks_on_cuda(e: BaseException) -> bool:
    """Whether torch refused the op on CUDA only (``"addmm_cuda" not implemented for 'Long'``,
    ``driver other than gels is not supported on CUDA``): then there is no torch CUDA answer to
    compare with, but ember's CUDA result must still match its CPU one."""
    text = str(e)
    return isinstance(e, NotImplementedError) and "cuda" in text.lower() \
        or "not supported on CUDA" in text


def _check_cuda(fn, torch_fn, arrays, grad_inputs, upstream, e_outs, e_grads, tol,
                vs_torch_cuda=True):
    """Run ``fn`` on CUDA copies of the inputs; compare with ember's CPU results (``e_outs``,
    ``e_grads``) and, when torch has CUDA (and ``vs_torch_cuda``), with torch on the GPU."""
    atol, rtol, grad_atol, grad_rtol = tol
    ct = [ember.tensor(a, device="cuda", requires_grad=g) for a, g in zip(arrays, grad_inputs)]
    t_cuda = None
    if vs_torch_cuda and torch_cuda():
        tt = [torch.tensor(a, device="cuda", requires_grad=g) for a, g in zip(arrays, grad_inputs)]
        try:
            t_cuda = (torch_fn or fn)(torch, *tt)
        except (RuntimeError, NotImplementedError) as e:
            if _same_device_error(e):
                # the test's lambda builds CPU tensors, which torch refuses too: nothing to compare
                return
            if not _torch_lacks_on_cuda(e):
                raise
            t_cuda = None
    c_out = fn(ember, *ct)
    c_outs = _flat_tensors(c_out)
    assert len(c_outs) == len(e_outs), f"CUDA: ember returned {len(c_outs)} outputs, CPU {len(e_outs)}"
    for i, (c, e) in enumerate(zip(c_outs, e_outs)):
        assert c.device.type == "cuda", f"CUDA: output {i} is on {c.device}, expected the GPU"
        assert tuple(c.shape) == tuple(e.shape) and c.dtype == e.dtype, \
            f"CUDA: output {i} is {tuple(c.shape)} {c.dtype}, on the CPU {tuple(e.shape)} {e.dtype}"
        np.testing.assert_allclose(_np(c), _np(e), atol=atol, rtol=rtol,
                                   err_msg=f"CUDA forward values of output {i} vs CPU")
    if t_cuda is not None:
        for i, (c, t) in enumerate(zip(c_outs, _flat_tensors(t_cuda))):
            np.testing.assert_allclose(_np(c), _np(t), atol=atol, rtol=rtol,
                                       err_msg=f"CUDA forward values of output {i} vs torch CUDA")
    if upstream is None:
        return
    diff = [c for c in c_outs if c.requires_grad]
    assert len(diff) == len(upstream), "CUDA: a different set of outputs requires grad than on the CPU"
    ember.autograd.backward(diff, [ember.tensor(u, dtype=c.dtype, device=c.device)
                                   for u, c in zip(upstream, diff)])
    for i, (c, eg) in enumerate(zip(ct, e_grads)):
        if not grad_inputs[i] or eg is None:
            continue
        assert c.grad is not None, f"CUDA: input {i} got no gradient (it does on the CPU)"
        assert c.grad.device.type == "cuda", f"CUDA: gradient of input {i} is on {c.grad.device}"
        np.testing.assert_allclose(_np(c.grad), eg, atol=grad_atol, rtol=grad_rtol,
                                   err_msg=f"CUDA gradient of input {i} vs CPU")


# Zero-size shape sets for the op tables: an empty leading dim, an empty middle dim, and one that
# broadcasts against a size-1 dim (the result is empty, the size-1 input's gradient is zeros).
ZERO_SIZE_UNARY = [[(0, 4)], [(2, 0, 3)]]
ZERO_SIZE_BINARY = [[(0, 4), (4,)], [(2, 0, 3), (2, 1, 3)], [(0, 1), (1, 3)]]


def zero_size_variants(shapes) -> list:
    """``shapes`` with one dim of the broadcast result made 0: the leftmost result dim larger than
    1, set to 0 in every input that has it at full size (inputs with 1 there keep broadcasting).
    Empty when the result has no such dim (scalars, all-ones shapes)."""
    shapes = [tuple(s) for s in shapes]
    if not shapes:
        return []
    out_shape = np.broadcast_shapes(*shapes)
    for k, size in enumerate(out_shape):
        if size > 1:
            back = len(out_shape) - k  # the position counted from the right, as broadcasting does
            variant = []
            for s in shapes:
                s = list(s)
                if len(s) >= back and s[-back] == size:
                    s[-back] = 0
                variant.append(tuple(s))
            return [variant]
    return []


def check(fn, shapes, *, low=-2.0, high=2.0, positive=False, grad=True, atol=1e-6, rtol=1e-5,
          grad_atol=1e-6, grad_rtol=1e-5, seed=0, gradcheck_=True, inputs=None, torch_fn=None,
          grad_inputs=None, cuda=None, zero_size=False, vs_torch_cuda=True):
    """Compare ``fn(ember, *xs)`` with ``fn(torch, *xs)``: values, gradients, and gradcheck.

    ``inputs`` overrides the random arrays (for ops that need special values); ``grad_inputs``
    is a list of booleans saying which inputs are differentiated (floating ones by default).
    ``cuda``: also run on the GPU (``True`` requires one, ``False`` never, ``None`` see
    :func:`cuda_wanted`). ``zero_size``: also run on :func:`zero_size_variants` of ``shapes``
    (empty results, zero-size gradients), which every op must handle as PyTorch does.
    ``vs_torch_cuda=False``: on the GPU compare with ember's CPU results only, not with torch's
    CUDA ones, where those are implementation-defined (the order of equal keys in an unstable
    sort, which of several equally frequent values ``mode`` returns).
    """
    if zero_size and inputs is None:
        for variant in zero_size_variants(shapes):
            check(fn, variant, low=low, high=high, positive=positive, grad=grad, atol=atol,
                  rtol=rtol, grad_atol=grad_atol, grad_rtol=grad_rtol, seed=seed,
                  gradcheck_=gradcheck_, torch_fn=torch_fn, grad_inputs=grad_inputs, cuda=cuda,
                  vs_torch_cuda=vs_torch_cuda)
    on_cuda = cuda_wanted(cuda)
    tol = (atol, rtol, grad_atol, grad_rtol)
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
        if on_cuda:
            _check_cuda(fn, torch_fn, arrays, grad_inputs, None, e_outs, None, tol, vs_torch_cuda)
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
    if on_cuda:
        e_grads = [_np(e.grad) if e.grad is not None else None for e in et]
        _check_cuda(fn, torch_fn, arrays, grad_inputs, upstream, e_outs, e_grads, tol,
                    vs_torch_cuda)
    if gradcheck_:
        xs = [ember.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_inputs)]

        def ember_fn(*ins):
            return tuple(o for o in _flat_tensors(fn(ember, *ins)) if o.dtype.is_floating_point)

        assert gradcheck(ember_fn, tuple(xs), atol=1e-5, rtol=1e-3)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_fresh(code: str) -> str:
    """``code`` run in a fresh interpreter that imports this checkout's ember (nothing loaded
    yet, for the checks of what loads on first use); its stdout, or the test fails with stderr."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout
