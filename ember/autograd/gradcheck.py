"""Finite-difference checks of ember's gradients, for users' own ops as much as for ours.

``gradcheck`` compares the Jacobian that backward computes with central differences in float64;
``gradgradcheck`` does the same for the gradient itself (second order).
"""

from __future__ import annotations

import numpy as np

from ember import backend
from ember.tensor import Tensor


def _host64(a) -> np.ndarray:
    """A float64 NumPy copy of an array that may live on a GPU, flattened."""
    return np.array(backend.move_array(a, backend.CPU), dtype=np.float64).ravel()


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,) if isinstance(x, Tensor) else tuple(x)


def _outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numeric_jacobians(fn, inputs, eps):
    """Per (output, input) pair, the Jacobian d out / d in as an (out.size, in.size) array."""
    outs = _outputs(fn, inputs)
    jac = {}
    for j, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        flat = x._data.reshape(-1)  # a view: writing it perturbs the input in place
        cols = [np.zeros((o._data.size, flat.size)) for o in outs]
        for k in range(flat.size):
            orig = flat[k].item()
            # grad mode stays on: fn may itself differentiate (gradgradcheck's vector-Jacobian product)
            flat[k] = orig + eps
            plus = [_host64(o._data) for o in _outputs(fn, inputs)]
            flat[k] = orig - eps
            minus = [_host64(o._data) for o in _outputs(fn, inputs)]
            flat[k] = orig
            for i in range(len(outs)):
                cols[i][:, k] = (plus[i] - minus[i]) / (2 * eps)
        for i in range(len(outs)):
            jac[(i, j)] = cols[i]
    return outs, jac


def _analytic_jacobians(outs, inputs):
    from ember.autograd import grad

    jac = {}
    wrt = [(j, x) for j, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i, out in enumerate(outs):
        if not out.requires_grad:
            for j, x in wrt:
                jac[(i, j)] = np.zeros((out._data.size, x._data.size))
            continue
        rows = {j: np.zeros((out._data.size, x._data.size)) for j, x in wrt}
        for r in range(out._data.size):
            onehot = np.zeros(out._data.size, dtype=out._data.dtype)
            onehot[r] = 1
            seed = Tensor(backend.move_array(onehot.reshape(out._data.shape), out.device))
            gs = grad([out], [x for _, x in wrt], [seed],
                      retain_graph=True, allow_unused=True)
            for (j, _), g in zip(wrt, gs):
                if g is not None:
                    rows[j][r] = _host64(g._data)
        for j, _ in wrt:
            jac[(i, j)] = rows[j]
    return jac


def _refuse_forward_checks(name: str, **flags) -> None:
    """ember differentiates in reverse mode only: the forward-mode and batched checks PyTorch
    offers are refused by name when asked for (their default, off, is accepted)."""
    asked = sorted(k for k, v in flags.items() if v)
    if asked:
        raise NotImplementedError(f"{name}: {', '.join(asked)} is not supported (ember has no "
                                  "forward-mode or batched gradients); only reverse mode is checked")


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    ``inputs`` is a tensor or a tuple of tensors; those with ``requires_grad`` are checked and
    should be float64. Returns True, or raises (or returns False) naming the first mismatch.
    PyTorch's other keywords are accepted: ember always runs the full (slow-mode) check, its ops
    are deterministic (``nondet_tol``), and the forward-mode/batched checks are refused if asked.
    """
    _refuse_forward_checks("gradcheck", check_batched_grad=check_batched_grad,
                           check_batched_forward_grad=check_batched_forward_grad,
                           check_forward_ad=check_forward_ad)
    if not check_backward_ad:
        return True
    fn = func
    inputs = _as_tuple(inputs)
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x._data.dtype != np.float64:
            import warnings

            warnings.warn("gradcheck: inputs are not float64; finite differences will be inaccurate",
                          stacklevel=2)
    outs, numeric = _numeric_jacobians(fn, inputs, eps)
    analytic = _analytic_jacobians(outs, inputs)
    for key, num in numeric.items():
        ana = analytic[key]
        if not np.allclose(ana, num, atol=atol, rtol=rtol):
            where = np.unravel_index(np.argmax(np.abs(ana - num)), ana.shape)
            msg = (f"Jacobian mismatch for output {key[0]} with respect to input {key[1]}:\n"
                   f"numerical:{num}\nanalytical:{ana}\nlargest difference at (output element, "
                   f"input element) {tuple(int(w) for w in where)}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False,
                  seed: int = 0) -> bool:
    """Check second-order gradients of ``func``: gradcheck applied to its vector-Jacobian product.
    PyTorch's other keywords are accepted as by :func:`gradcheck`."""
    _refuse_forward_checks("gradgradcheck", check_batched_grad=check_batched_grad,
                           check_fwd_over_rev=check_fwd_over_rev)
    if not check_rev_over_rev:
        return True
    fn = func
    from ember.autograd import grad

    inputs = _as_tuple(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            Tensor(backend.move_array(rng.standard_normal(o._data.shape), o.device)).requires_grad_()
            for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    wrt = [j for j, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def vjp(*args):
        xs, gos = args[:n], args[n:]
        os = _outputs(fn, xs)
        gs = grad(os, [xs[j] for j in wrt], list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when analytical and numerical gradients disagree."""
