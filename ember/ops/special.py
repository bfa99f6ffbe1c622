"""Special functions: the gamma family (``lgamma``, ``digamma``, ``polygamma``, ``mvlgamma``),
``erfinv`` / ``erfcx``, modified Bessel functions (``i0``, ``i0e``, ``i1``, ``i1e``), the normal
distribution (``ndtr``, ``ndtri``, ``log_ndtr``), ``xlog1py``, ``entr``, ``zeta``, the incomplete
gamma functions, and forward-only Bessel functions of the first and second kind.

NumPy has none of these; ``scipy.special`` (``cupyx.scipy.special`` on a GPU) computes them. It is
imported on the first call, so ``import ember`` does not pay for SciPy. Each gradient is written
with ember ops (``digamma' = polygamma(1, .)``, ``erfinv' = sqrt(pi)/2 exp(erfinv^2)``, ...), so
gradients of gradients work. Functions whose derivative PyTorch does not implement either
(``bessel_j0``, ``zeta`` in its first argument, ...) raise when differentiated, as PyTorch does.
"""

from __future__ import annotations

import math

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops.common import write_out, Tensor, attach, binary_operands, inplace_method, record

_SQRT_PI_HALF = math.sqrt(math.pi) / 2
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


class _DeviceSpecial:
    """``cupyx.scipy.special``, completed by SciPy on host copies (:func:`backend.host_call`) for
    the functions it lacks (``airy``, ``spherical_jn``, the ``eval_*`` polynomials, ...)."""

    def __init__(self):
        import cupyx.scipy.special

        self._device = cupyx.scipy.special

    def __getattr__(self, name):
        fn = getattr(self._device, name, None)
        if fn is None:
            import scipy.special

            host_fn = getattr(scipy.special, name)

            def fn(*args, **kwargs):
                return backend.host_call(host_fn, *args, **kwargs)
        setattr(self, name, fn)  # looked up once
        return fn


_DEVICE_SPECIAL: list = []


def _scipy_special(arr):
    """``scipy.special`` for NumPy arrays, ``cupyx.scipy.special`` (with host fallbacks) for CuPy
    ones (imported now)."""
    if get_array_module(arr) is np:
        import scipy.special as sp

        return sp
    if not _DEVICE_SPECIAL:  # pragma: no cover - needs a GPU
        _DEVICE_SPECIAL.append(_DeviceSpecial())
    return _DEVICE_SPECIAL[0]


def _float_array(x, name: str):
    """The raw array of tensor ``x`` as floating point (integers and bools become the default
    float dtype, as PyTorch's special functions do)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    a = x._data
    if a.dtype.kind != "f":
        a = a.astype(backend.get_default_dtype().np)
    return a


def _apply(fn_name: str, a, *more):
    """``scipy.special.<fn_name>(a, *more)`` in ``a``'s dtype (SciPy widens some float32 loops)."""
    out = getattr(_scipy_special(a), fn_name)(a, *more)
    out = get_array_module(a).asarray(out)
    return out if out.dtype == a.dtype else out.astype(a.dtype)


def _not_differentiable(op: str):
    def backward(g, needs):
        raise RuntimeError(f"the derivative for '{op}' is not implemented.")
    return backward


def _unary(name: str, op: str, scipy_name: str, input: Tensor, derivative=None) -> Tensor:
    """A unary special function: ``scipy_name`` forward; ``derivative(x, y)`` (ember ops on the
    input ``x`` and the history-free result ``y``) gives ``dy/dx``; ``None``: not differentiable."""
    a = _float_array(input, name)
    result = Tensor._wrap(_apply(scipy_name, a))
    if derivative is None:
        return record(op, result, (input,), _not_differentiable(name))

    def backward(g, needs):
        return (g * derivative(input, result),)

    return record(op, result, (input,), backward, (input,))


# ------------------------------------------------------------------------------- gamma family


def lgamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``log |Gamma(input)|``, elementwise; the gradient is :func:`digamma`."""
    if out is not None:
        return write_out("lgamma", out, lgamma(input))
    return _unary("lgamma", "Lgamma", "gammaln", input, lambda x, y: digamma(x))


def gammaln(input: Tensor) -> Tensor:
    """``torch.special.gammaln``: :func:`lgamma`."""
    return lgamma(input)


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``d/dx log Gamma(x)``, elementwise (``-inf`` at 0, ``nan`` at the negative integers, as
    PyTorch); the gradient is ``polygamma(1, input)``."""
    if out is not None:
        return write_out("digamma", out, digamma(input))
    a = _float_array(input, "digamma")
    out = _apply("digamma", a)
    xp = get_array_module(a)
    out = xp.where(a == 0, -xp.inf, out).astype(a.dtype, copy=False)  # SciPy gives nan at 0

    def backward(g, needs):
        return (g * polygamma(1, input),)

    return record("Digamma", Tensor._wrap(out), (input,), backward, (input,))


def psi(input: Tensor) -> Tensor:
    """``torch.special.psi``: :func:`digamma`."""
    return digamma(input)


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The ``n``-th derivative of :func:`digamma` (``n = 0`` is digamma itself); its gradient is
    ``polygamma(n + 1, input)``."""
    if out is not None:
        return write_out("polygamma", out, polygamma(n, input))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input)
    a = _float_array(input, "polygamma")
    xp = get_array_module(a)
    # the order as an array: cupyx's polygamma compares it elementwise and fails on a Python int
    out = xp.asarray(_scipy_special(a).polygamma(xp.asarray(int(n)), a)).astype(a.dtype)

    def backward(g, needs):
        return (g * polygamma(n + 1, input),)

    return record("Polygamma", Tensor._wrap(out), (input,), backward, (input,))


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_{i < p} lgamma(input - i / 2)``; every element must exceed
    ``(p - 1) / 2``."""
    if out is not None:
        return write_out("mvlgamma", out, mvlgamma(input, p))
    a = _float_array(input, "mvlgamma")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if a.size and bool((a <= (p - 1) / 2).any()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    x = input if input._data.dtype.kind == "f" else Tensor._wrap(a)
    xp = get_array_module(a)
    halves = Tensor._wrap(xp.arange(p, dtype=a.dtype) * a.dtype.type(0.5))
    return lgamma(x.unsqueeze(-1) - halves).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """``torch.special.multigammaln``: :func:`mvlgamma`."""
    return mvlgamma(input, p)


def _mvlgamma_method(self: Tensor, p: int) -> Tensor:
    return mvlgamma(self, p)


# ---------------------------------------------------------------------------- error functions


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of ``erf`` on ``(-1, 1)`` (``+-inf`` at ``+-1``); gradient
    ``sqrt(pi) / 2 * exp(erfinv(x)^2)``."""
    if out is not None:
        return write_out("erfinv", out, erfinv(input))
    return _unary("erfinv", "Erfinv", "erfinv", input, lambda x, y: (y * y).exp() * _SQRT_PI_HALF)


def erfcx(input: Tensor) -> Tensor:
    """The scaled complementary error function ``exp(x^2) erfc(x)``, without overflow; gradient
    ``2 x erfcx(x) - 2 / sqrt(pi)``."""
    return _unary("erfcx", "Erfcx", "erfcx", input, lambda x, y: 2 * x * y - _TWO_OVER_SQRT_PI)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal distribution function ``P(N(0, 1) <= x)``."""
    return _unary("ndtr", "Ndtr", "ndtr", input, lambda x, y: (x * x * -0.5).exp() / _SQRT_2PI)


def ndtri(input: Tensor) -> Tensor:
    """The inverse of :func:`ndtr` (the standard normal quantile function)."""
    return _unary("ndtri", "Ndtri", "ndtri", input, lambda x, y: (y * y * 0.5).exp() * _SQRT_2PI)


def log_ndtr(input: Tensor) -> Tensor:
    """``log(ndtr(x))``, accurate far in the left tail."""
    return _unary("log_ndtr", "LogNdtr", "log_ndtr", input,
                  lambda x, y: (x * x * -0.5 - y).exp() / _SQRT_2PI)


# ------------------------------------------------------------------- modified Bessel functions


def i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind of order 0; gradient :func:`i1`."""
    if out is not None:
        return write_out("i0", out, i0(input))
    return _unary("i0", "I0", "i0", input, lambda x, y: i1(x))


def i0e(input: Tensor) -> Tensor:
    """``exp(-|x|) i0(x)``; gradient ``i1e(x) - sign(x) i0e(x)``."""
    return _unary("i0e", "I0e", "i0e", input, lambda x, y: i1e(x) - x.sign() * y)


def _safe_reciprocal(x: Tensor):
    """``1 / x`` with 0 where ``x`` is 0, and the mask of those zeros (a history-free array)."""
    zero = x._data == 0
    if not zero.any():
        return 1 / x, None
    xp = get_array_module(x._data)
    safe = x + Tensor._wrap(zero.astype(x._data.dtype))
    return (1 / safe) * Tensor._wrap(xp.logical_not(zero).astype(x._data.dtype)), zero


def _i1_derivative(x: Tensor, y: Tensor, scaled: bool) -> Tensor:
    # i1' = i0 - i1 / x (1/2 at 0); for i1e subtract sign(x) i1e too
    inv, zero = _safe_reciprocal(x)
    d = (i0e(x) if scaled else i0(x)) - y * inv
    if scaled:
        d = d - x.sign() * y
    if zero is not None:
        d = d - Tensor._wrap(zero.astype(x._data.dtype) * 0.5)  # i0(0) = 1 where 1/2 is due
    return d


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1."""
    return _unary("i1", "I1", "i1", input, lambda x, y: _i1_derivative(x, y, False))


def i1e(input: Tensor) -> Tensor:
    """``exp(-|x|) i1(x)``."""
    return _unary("i1e", "I1e", "i1e", input, lambda x, y: _i1_derivative(x, y, True))


def modified_bessel_i0(input: Tensor) -> Tensor:
    """``torch.special.modified_bessel_i0`` (no gradient, as in PyTorch)."""
    return _unary("modified_bessel_i0", "ModifiedBesselI0", "i0", input)


def modified_bessel_i1(input: Tensor) -> Tensor:
    """``torch.special.modified_bessel_i1`` (no gradient, as in PyTorch)."""
    return _unary("modified_bessel_i1", "ModifiedBesselI1", "i1", input)


def modified_bessel_k0(input: Tensor) -> Tensor:
    """The modified Bessel function of the second kind of order 0 (no gradient)."""
    return _unary("modified_bessel_k0", "ModifiedBesselK0", "k0", input)


def modified_bessel_k1(input: Tensor) -> Tensor:
    """The modified Bessel function of the second kind of order 1 (no gradient)."""
    return _unary("modified_bessel_k1", "ModifiedBesselK1", "k1", input)


def scaled_modified_bessel_k0(input: Tensor) -> Tensor:
    """``exp(x) k0(x)`` (no gradient)."""
    return _unary("scaled_modified_bessel_k0", "ScaledModifiedBesselK0", "k0e", input)


def scaled_modified_bessel_k1(input: Tensor) -> Tensor:
    """``exp(x) k1(x)`` (no gradient)."""
    return _unary("scaled_modified_bessel_k1", "ScaledModifiedBesselK1", "k1e", input)


def bessel_j0(input: Tensor) -> Tensor:
    """The Bessel function of the first kind of order 0 (no gradient, as in PyTorch)."""
    return _unary("bessel_j0", "BesselJ0", "j0", input)


def bessel_j1(input: Tensor) -> Tensor:
    """The Bessel function of the first kind of order 1 (no gradient, as in PyTorch)."""
    return _unary("bessel_j1", "BesselJ1", "j1", input)


def bessel_y0(input: Tensor) -> Tensor:
    """The Bessel function of the second kind of order 0 (no gradient, as in PyTorch)."""
    return _unary("bessel_y0", "BesselY0", "y0", input)


def bessel_y1(input: Tensor) -> Tensor:
    """The Bessel function of the second kind of order 1 (no gradient, as in PyTorch)."""
    return _unary("bessel_y1", "BesselY1", "y1", input)


def spherical_bessel_j0(input: Tensor) -> Tensor:
    """``sin(x) / x`` (1 at 0), the spherical Bessel function of order 0 (no gradient)."""
    a = _float_array(input, "spherical_bessel_j0")
    out = get_array_module(a).asarray(_scipy_special(a).spherical_jn(0, a)).astype(a.dtype)
    return record("SphericalBesselJ0", out, (input,), _not_differentiable("spherical_bessel_j0"))


def airy_ai(input: Tensor) -> Tensor:
    """The Airy function Ai (no gradient, as in PyTorch)."""
    a = _float_array(input, "airy_ai")
    out = get_array_module(a).asarray(_scipy_special(a).airy(a)[0]).astype(a.dtype)
    return record("AiryAi", out, (input,), _not_differentiable("airy_ai"))


# ------------------------------------------------------------------ entropy, xlog1py, logistic


def entr(input: Tensor) -> Tensor:
    """The elementwise entropy ``-x log x`` (0 at 0, ``-inf`` for negative ``x``); gradient
    ``-(log x + 1)``."""
    return _unary("entr", "Entr", "entr", input, lambda x, y: -(x.log() + 1))


def expit(input: Tensor) -> Tensor:
    """``torch.special.expit``: the logistic sigmoid."""
    return input.sigmoid()


def _float_pair(name: str, a, b):
    ta, tb, x, y = binary_operands(name, a, b)
    dt = backend.get_default_dtype().np
    if hasattr(x, "dtype") and x.dtype.kind != "f":
        x = x.astype(y.dtype if hasattr(y, "dtype") and y.dtype.kind == "f" else dt)
    if hasattr(y, "dtype") and y.dtype.kind != "f":
        y = y.astype(x.dtype if hasattr(x, "dtype") else dt)
    return ta, tb, x, y


def _xlog1py_input_grad(g: Tensor, other, xa, ya) -> Tensor:
    # PyTorch's: g * log1p(other), but 0 where input is 0 and other <= -1 (there the product was
    # 0 in the forward, and log1p is -inf or nan)
    from ember.ops.compare import where

    xp = get_array_module(xa)
    log_term = other.log1p() if isinstance(other, Tensor) else float(np.log1p(np.float64(other)))
    keep = xp.logical_not((xa == 0) & (ya <= -1))
    if bool(keep.all()):
        return g * log_term
    return where(Tensor._wrap(keep), g * log_term, 0.0)


def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, with 0 wherever ``input`` is 0 (unless ``other`` is NaN); either
    side may be a number."""
    ta, tb, x, y = _float_pair("xlog1py", input, other)
    like = x if ta is not None else y
    xp = get_array_module(like)
    xa, ya = xp.asarray(x, dtype=like.dtype), xp.asarray(y, dtype=like.dtype)
    out = _scipy_special(like).xlog1py(xa, ya)
    out = xp.asarray(out).astype(like.dtype, copy=False)
    inputs = tuple(t for t in (ta, tb) if t is not None)

    def backward(g, needs):
        grads = []
        if ta is not None:
            grads.append(_xlog1py_input_grad(g, other, xa, ya) if needs[0] else None)
        if tb is not None:
            grads.append(g * input / (other + 1) if needs[-1] else None)
        return tuple(grads)

    return record("Xlog1py", Tensor._wrap(out), inputs, backward, inputs)


# -------------------------------------------------------------------- zeta, incomplete gamma


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function ``sum_k (k + other) ** -input``; differentiable in ``other``
    only (``-input * zeta(input + 1, other)``), as in PyTorch."""
    ta, tb, x, y = _float_pair("zeta", input, other)
    like = x if ta is not None else y
    xp = get_array_module(like)
    out = xp.asarray(_scipy_special(like).zeta(xp.asarray(x, dtype=like.dtype),
                                               xp.asarray(y, dtype=like.dtype)))
    inputs = tuple(t for t in (ta, tb) if t is not None)

    def backward(g, needs):
        if ta is not None and needs[0]:
            raise RuntimeError("the derivative for 'self' (zeta's first argument) is not "
                               "implemented.")
        return (None,) * (len(inputs) - 1) + (g * -input * zeta(input + 1, other),)

    return record("Zeta", Tensor._wrap(out.astype(like.dtype, copy=False)), inputs, backward,
                  inputs)


def _incomplete_gamma(name: str, fn: str, input, other, sign: float) -> Tensor:
    ta, tb, x, y = _float_pair(name, input, other)
    like = x if ta is not None else y
    xp = get_array_module(like)
    out = xp.asarray(getattr(_scipy_special(like), fn)(xp.asarray(x, dtype=like.dtype),
                                                       xp.asarray(y, dtype=like.dtype)))
    inputs = tuple(t for t in (ta, tb) if t is not None)

    def backward(g, needs):
        if ta is not None and needs[0]:
            raise RuntimeError(f"the derivative for '{name}' with respect to its first argument "
                               "is not implemented.")
        # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a)
        a = input if ta is not None else Tensor._wrap(xp.asarray(x, dtype=like.dtype))
        dens = ((a - 1) * other.log() - other - lgamma(a)).exp()
        return (None,) * (len(inputs) - 1) + (g * dens * sign,)

    return record(name.capitalize(), Tensor._wrap(out.astype(like.dtype, copy=False)), inputs,
                  backward, inputs)


def igamma(input, other, *, out: Tensor | None = None) -> Tensor:
    """The regularized lower incomplete gamma function ``P(input, other)``."""
    if out is not None:
        return write_out("igamma", out, igamma(input, other))
    return _incomplete_gamma("igamma", "gammainc", input, other, 1.0)


def igammac(input, other, *, out: Tensor | None = None) -> Tensor:
    """The regularized upper incomplete gamma function ``Q(input, other) = 1 - P``."""
    if out is not None:
        return write_out("igammac", out, igammac(input, other))
    return _incomplete_gamma("igammac", "gammaincc", input, other, -1.0)


def gammainc(input, other) -> Tensor:
    """``torch.special.gammainc``: :func:`igamma`."""
    return igamma(input, other)


def gammaincc(input, other) -> Tensor:
    """``torch.special.gammaincc``: :func:`igammac`."""
    return igammac(input, other)


# Functions PyTorch has at the top level (``torch.lgamma``, ...) and as Tensor methods; the rest
# live in ``ember.special`` only, as in ``torch.special``.
__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0", "igamma", "igammac"]

attach(
    lgamma=lgamma, digamma=digamma, polygamma=_polygamma_method, mvlgamma=_mvlgamma_method,
    erfinv=erfinv, i0=i0, igamma=igamma, igammac=igammac,
    lgamma_=inplace_method(lgamma, "lgamma_"), digamma_=inplace_method(digamma, "digamma_"),
    polygamma_=inplace_method(_polygamma_method, "polygamma_"),
    mvlgamma_=inplace_method(_mvlgamma_method, "mvlgamma_"),
    erfinv_=inplace_method(erfinv, "erfinv_"), i0_=inplace_method(i0, "i0_"),
    igamma_=inplace_method(igamma, "igamma_"), igammac_=inplace_method(igammac, "igammac_"),
)


# ---------------------------------------------------------------- orthogonal polynomials
# torch.special's polynomial families: P_n(input) for an integer degree ``n`` (a number or a
# tensor broadcast against ``input``); a negative degree gives 0, as in PyTorch. Forward only.


def _polynomial(name: str, evaluate, input, n) -> Tensor:
    if not isinstance(input, Tensor):
        input = Tensor._wrap(np.asarray(input, dtype=backend.get_default_dtype().np))
    a = _float_array(input, name)
    xp = get_array_module(a)
    degree = n._data if isinstance(n, Tensor) else xp.asarray(n)
    degree, x = xp.broadcast_arrays(degree.astype(np.int64), a)
    sp = _scipy_special(a)
    out = xp.where(degree < 0, 0, evaluate(sp, xp.maximum(degree, 0), x)).astype(a.dtype)
    return record(name, out, (input,), _not_differentiable(name))


def _chebyshev_u_minus(sp, n, x, sign):
    # V_n = U_n - U_{n-1}, W_n = U_n + U_{n-1} (third and fourth kinds), U_{-1} = 0
    previous = sp.eval_chebyu(n - 1, x) * (n >= 1)
    return sp.eval_chebyu(n, x) + sign * previous


def chebyshev_polynomial_t(input, n) -> Tensor:
    """The Chebyshev polynomial of the first kind ``T_n(input)``."""
    return _polynomial("chebyshev_polynomial_t", lambda sp, n, x: sp.eval_chebyt(n, x), input, n)


def chebyshev_polynomial_u(input, n) -> Tensor:
    """The Chebyshev polynomial of the second kind ``U_n(input)``."""
    return _polynomial("chebyshev_polynomial_u", lambda sp, n, x: sp.eval_chebyu(n, x), input, n)


def chebyshev_polynomial_v(input, n) -> Tensor:
    """The Chebyshev polynomial of the third kind ``V_n(input)``."""
    return _polynomial("chebyshev_polynomial_v",
                       lambda sp, n, x: _chebyshev_u_minus(sp, n, x, -1), input, n)


def chebyshev_polynomial_w(input, n) -> Tensor:
    """The Chebyshev polynomial of the fourth kind ``W_n(input)``."""
    return _polynomial("chebyshev_polynomial_w",
                       lambda sp, n, x: _chebyshev_u_minus(sp, n, x, 1), input, n)


def shifted_chebyshev_polynomial_t(input, n) -> Tensor:
    """``T_n(2 input - 1)``."""
    return chebyshev_polynomial_t(input * 2 - 1, n)


def shifted_chebyshev_polynomial_u(input, n) -> Tensor:
    """``U_n(2 input - 1)``."""
    return chebyshev_polynomial_u(input * 2 - 1, n)


def shifted_chebyshev_polynomial_v(input, n) -> Tensor:
    """``V_n(2 input - 1)``."""
    return chebyshev_polynomial_v(input * 2 - 1, n)


def shifted_chebyshev_polynomial_w(input, n) -> Tensor:
    """``W_n(2 input - 1)``."""
    return chebyshev_polynomial_w(input * 2 - 1, n)


def hermite_polynomial_h(input, n) -> Tensor:
    """The physicists' Hermite polynomial ``H_n(input)``."""
    return _polynomial("hermite_polynomial_h", lambda sp, n, x: sp.eval_hermite(n, x), input, n)


def hermite_polynomial_he(input, n) -> Tensor:
    """The probabilists' Hermite polynomial ``He_n(input)``."""
    return _polynomial("hermite_polynomial_he", lambda sp, n, x: sp.eval_hermitenorm(n, x),
                       input, n)


def laguerre_polynomial_l(input, n) -> Tensor:
    """The Laguerre polynomial ``L_n(input)``."""
    return _polynomial("laguerre_polynomial_l", lambda sp, n, x: sp.eval_laguerre(n, x), input, n)


def legendre_polynomial_p(input, n) -> Tensor:
    """The Legendre polynomial ``P_n(input)``."""
    return _polynomial("legendre_polynomial_p", lambda sp, n, x: sp.eval_legendre(n, x), input, n)
