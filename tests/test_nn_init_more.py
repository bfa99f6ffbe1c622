"""nn.init against PyTorch, name by name: the deterministic fills equal torch's exactly, the random
ones are equal in law (two-sample Kolmogorov-Smirnov against torch's samples, plus the moments the
formulas give), the deprecated aliases warn as torch's do, and the errors name what is wrong."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn import Parameter, init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def _e(*shape, dtype=None):
    return Parameter(ember.empty(*shape, dtype=dtype or ember.float32))


def _a(t) -> np.ndarray:
    return t.detach().numpy().astype(np.float64).ravel()


def _t(*shape):
    return torch.empty(*shape)


def _ks_statistic(x: np.ndarray, y: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov distance: sup |F_x - F_y| over the pooled samples."""
    x, y = np.sort(x), np.sort(y)
    pooled = np.concatenate([x, y])
    fx = np.searchsorted(x, pooled, side="right") / len(x)
    fy = np.searchsorted(y, pooled, side="right") / len(y)
    return float(np.abs(fx - fy).max())


def _assert_same_law(ours: np.ndarray, theirs: np.ndarray, alpha: float = 1e-3) -> None:
    """Fail when the KS test rejects "same distribution" at level ``alpha``."""
    n, m = len(ours), len(theirs)
    critical = math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))
    d = _ks_statistic(ours, theirs)
    assert d < critical, f"KS distance {d:.4f} >= {critical:.4f}: not the same distribution"


def _assert_moments(x: np.ndarray, mean: float, std: float, sigmas: float = 5.0) -> None:
    """Sample mean and std within ``sigmas`` standard errors of the expected ones."""
    n = len(x)
    assert abs(x.mean() - mean) < sigmas * std / math.sqrt(n), (x.mean(), mean)
    assert abs(x.std() - std) < sigmas * std / math.sqrt(2 * n) * 1.5, (x.std(), std)


def _seed(s: int) -> None:
    ember.manual_seed(s)
    torch.manual_seed(s)


# --- calculate_gain and fans ------------------------------------------------------------------

@pytest.mark.parametrize("name", NONLINEARITIES)
def test_calculate_gain_every_nonlinearity(name):
    ours, theirs = init.calculate_gain(name), torch.nn.init.calculate_gain(name)
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3, -0.5, math.sqrt(5)])
def test_calculate_gain_leaky_relu_slopes(param):
    assert init.calculate_gain("leaky_relu", param) == torch.nn.init.calculate_gain("leaky_relu", param)


def test_calculate_gain_errors():
    for bad in (True, "0.1", [0.1]):
        with pytest.raises(ValueError, match="not a valid number"):
            init.calculate_gain("leaky_relu", bad)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")


@pytest.mark.parametrize("shape", [(3, 5), (7, 2, 3), (4, 6, 3, 3), (2, 3, 2, 2, 2), (5, 0)])
def test_fans_equal_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(_e(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(_t(*shape))
    for mode in ("fan_in", "fan_out", "FAN_IN"):
        assert init._calculate_correct_fan(_e(*shape), mode) == \
            torch.nn.init._calculate_correct_fan(_t(*shape), mode)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init._calculate_correct_fan(_e(*shape), "fan_avg")


# --- deterministic fills: exactly torch's -------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constant_ones_zeros_eye_equal_torch(dtype):
    e_dtype, t_dtype = getattr(ember, dtype), getattr(torch, dtype)
    for shape in [(3, 5), (5, 3), (4, 4)]:
        for fill, args in [(init.constant_, (0.3,)), (init.ones_, ()), (init.zeros_, ()),
                           (init.eye_, ())]:
            w = _e(*shape, dtype=e_dtype)
            tw = torch.empty(*shape, dtype=t_dtype)
            assert fill(w, *args) is w
            getattr(torch.nn.init, fill.__name__)(tw, *args)
            assert w.dtype == e_dtype
            np.testing.assert_array_equal(w.detach().numpy(), tw.numpy())
            assert w.requires_grad and w.grad_fn is None


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((3, 5, 5, 5), 1),
                                          ((8, 2, 3, 4), 4), ((2, 3, 2, 3, 5), 1),
                                          ((6, 1, 3, 3, 3), 3)])
def test_dirac_equals_torch(shape, groups):
    w = _e(*shape)
    init.normal_(w)  # dirac_ must clear what was there
    tw = _t(*shape)
    torch.nn.init.dirac_(tw, groups)
    np.testing.assert_array_equal(init.dirac_(w, groups).detach().numpy(), tw.numpy())


def test_dirac_weight_makes_the_convolution_the_identity():
    w = _e(3, 3, 3, 3)
    init.dirac_(w)
    x = ember.randn(2, 3, 5, 5)
    y = ember.nn.functional.conv2d(x, w, padding=1)
    np.testing.assert_allclose(y.detach().numpy(), x.numpy(), atol=1e-6)


def test_deterministic_fill_errors():
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(_e(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(_e(3, 3))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(_e(5, 2, 3), groups=2)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(_e(4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(_e(3, 3, 3), 0.5)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(_e(4))


# --- random fills: equal in law to torch's ------------------------------------------------------

N = 40_000


def _both(fill_name: str, shape, *args, **kwargs):
    """The same fill, in ember and torch, on tensors of ``shape``; flat float64 samples."""
    w, tw = _e(*shape), _t(*shape)
    assert getattr(init, fill_name)(w, *args, **kwargs) is w
    getattr(torch.nn.init, fill_name)(tw, *args, **kwargs)
    return _a(w), tw.numpy().astype(np.float64).ravel()


@pytest.mark.parametrize("a,b", [(0.0, 1.0), (-2.0, 3.0), (5.0, 5.5)])
def test_uniform_in_law(a, b):
    _seed(0)
    ours, theirs = _both("uniform_", (200, 200), a, b)
    assert ours.min() >= a and ours.max() <= b
    _assert_same_law(ours, theirs)
    _assert_moments(ours, (a + b) / 2, (b - a) / math.sqrt(12))


@pytest.mark.parametrize("mean,std", [(0.0, 1.0), (1.0, 2.0), (-3.0, 0.01)])
def test_normal_in_law(mean, std):
    _seed(1)
    ours, theirs = _both("normal_", (200, 200), mean, std)
    _assert_same_law(ours, theirs)
    _assert_moments(ours, mean, std)


@pytest.mark.parametrize("shape", [(256, 160), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_in_law(shape, gain):
    _seed(2)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(_t(*shape))
    ours, theirs = _both("xavier_uniform_", shape, gain=gain)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(ours).max() <= bound * (1 + 1e-6)
    _assert_same_law(ours, theirs)
    _assert_moments(ours, 0.0, bound / math.sqrt(3))
    ours, theirs = _both("xavier_normal_", shape, gain=gain)
    _assert_same_law(ours, theirs)
    _assert_moments(ours, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


@pytest.mark.parametrize("a,mode,nonlinearity", [(0, "fan_in", "leaky_relu"),
                                                 (math.sqrt(5), "fan_in", "leaky_relu"),
                                                 (0.2, "fan_out", "leaky_relu"),
                                                 (0, "fan_in", "relu"), (0, "fan_out", "tanh"),
                                                 (0, "fan_in", "selu"), (0, "fan_in", "linear")])
def test_kaiming_in_law(a, mode, nonlinearity):
    _seed(3)
    shape = (96, 48, 3, 3)
    fan = torch.nn.init._calculate_correct_fan(_t(*shape), mode)
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    ours, theirs = _both("kaiming_uniform_", shape, a=a, mode=mode, nonlinearity=nonlinearity)
    assert np.abs(ours).max() <= math.sqrt(3) * std * (1 + 1e-6)
    _assert_same_law(ours, theirs)
    _assert_moments(ours, 0.0, std)
    ours, theirs = _both("kaiming_normal_", shape, a=a, mode=mode, nonlinearity=nonlinearity)
    _assert_same_law(ours, theirs)
    _assert_moments(ours, 0.0, std)


def test_kaiming_on_zero_elements_warns_and_does_nothing():
    for fill in (init.kaiming_uniform_, init.kaiming_normal_):
        w = _e(0, 3)
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            assert fill(w) is w
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            getattr(torch.nn.init, fill.__name__)(_t(0, 3))


def _truncated_moments(mean, std, a, b):
    """The mean and std of N(mean, std²) conditioned on [a, b]."""
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / z
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift ** 2
    return mean + std * shift, std * math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [
    (0.0, 1.0, -2.0, 2.0),     # the default: redraw the few samples outside
    (0.5, 1.0, -1.0, 1.5),     # asymmetric, most mass inside
    (0.0, 0.02, -0.04, 0.04),  # the ViT-style call
    (0.0, 1.0, 1.5, 3.0),      # a tail interval: ~6% of the mass, rejection from uniform
    (0.0, 1.0, -0.1, 0.1),     # a narrow central interval
    (2.0, 0.5, -1.0, 0.5),     # an interval far below the mean
])
def test_trunc_normal_in_law(mean, std, a, b):
    _seed(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the last case warns in both frameworks (tested below)
        ours, theirs = _both("trunc_normal_", (200, 200), mean, std, a, b)
    assert ours.min() >= np.float32(a) and ours.max() <= np.float32(b)
    _assert_same_law(ours, theirs)
    _assert_moments(ours, *_truncated_moments(mean, std, a, b))


def test_trunc_normal_warns_far_from_the_mean_and_rejects_bad_bounds():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(_e(100), mean=5.0, std=1.0, a=-2.0, b=2.0)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        torch.nn.init.trunc_normal_(_t(100), mean=5.0, std=1.0, a=-2.0, b=2.0)
    with pytest.raises(ValueError, match=r"trunc_normal_: the lower bound a=1.0.*b=-1.0"):
        init.trunc_normal_(_e(10), a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="std must be positive"):
        init.trunc_normal_(_e(10), std=0.0)


@pytest.mark.parametrize("shape,gain", [((20, 50), 1.0), ((50, 20), 1.5), ((16, 4, 3, 3), 2.0),
                                        ((32, 32), 1.0), ((1, 7), 1.0)])
def test_orthogonal_is_orthogonal_and_in_law(shape, gain):
    _seed(5)
    w = _e(*shape)
    assert init.orthogonal_(w, gain=gain) is w
    m = w.detach().numpy().astype(np.float64).reshape(shape[0], -1)
    rows, cols = m.shape
    if rows <= cols:
        np.testing.assert_allclose(m @ m.T, gain ** 2 * np.eye(rows), atol=1e-5)
    else:
        np.testing.assert_allclose(m.T @ m, gain ** 2 * np.eye(cols), atol=1e-5)
    # the entries of Haar-distributed orthogonal matrices, pooled over many draws
    ours = np.concatenate([_a(init.orthogonal_(_e(*shape), gain=gain)) for _ in range(60)])
    theirs = np.concatenate([torch.nn.init.orthogonal_(_t(*shape), gain=gain).numpy().ravel()
                             for _ in range(60)])
    _assert_same_law(ours, theirs)


def test_orthogonal_is_haar_not_biased_by_the_qr_signs():
    # without the sign correction the diagonal of Q would be biased positive
    _seed(6)
    ours = np.array([init.orthogonal_(_e(3, 3)).detach().numpy()[0, 0] for _ in range(1500)])
    theirs = np.array([torch.nn.init.orthogonal_(_t(3, 3))[0, 0].item() for _ in range(1500)])
    _assert_same_law(ours, theirs)
    assert abs(ours.mean()) < 5 * math.sqrt(1 / 3 / 1500)


def test_orthogonal_zero_elements_is_a_no_op():
    w = _e(0, 4)
    assert init.orthogonal_(w) is w and w.shape == (0, 4)


@pytest.mark.parametrize("sparsity,std", [(0.1, 0.01), (0.5, 0.2), (0.0, 1.0), (1.0, 0.01)])
def test_sparse_equal_zero_counts_and_in_law(sparsity, std):
    _seed(7)
    ours, theirs = _e(50, 300), _t(50, 300)
    init.sparse_(ours, sparsity, std)
    torch.nn.init.sparse_(theirs, sparsity, std)
    ours, theirs = ours.detach().numpy(), theirs.numpy()
    np.testing.assert_array_equal((ours == 0).sum(0), (theirs == 0).sum(0))
    assert ((ours == 0).sum(0) == math.ceil(sparsity * 50)).all()
    if sparsity < 1:
        _assert_same_law(ours[ours != 0].astype(np.float64), theirs[theirs != 0].astype(np.float64))
        _assert_moments(ours[ours != 0].astype(np.float64), 0.0, std)


# --- generator= and the global stream ---------------------------------------------------------

@pytest.mark.parametrize("fill,args", [
    (init.uniform_, (-1.0, 1.0)), (init.normal_, (0.0, 1.0)), (init.trunc_normal_, ()),
    (init.trunc_normal_, (0.0, 1.0, 2.0, 4.0)), (init.xavier_uniform_, ()),
    (init.xavier_normal_, ()), (init.kaiming_uniform_, ()), (init.kaiming_normal_, ()),
    (init.orthogonal_, ()), (init.sparse_, (0.3,)),
])
def test_generator_gives_reproducible_fills_and_leaves_the_global_stream(fill, args):
    ember.manual_seed(11)
    global_before = ember.randn(3).numpy()
    ember.manual_seed(11)
    first = fill(_e(12, 9), *args, generator=ember.Generator().manual_seed(3)).detach().numpy()
    second = fill(_e(12, 9), *args, generator=ember.Generator().manual_seed(3)).detach().numpy()
    np.testing.assert_array_equal(first, second)
    other = fill(_e(12, 9), *args, generator=ember.Generator().manual_seed(4)).detach().numpy()
    assert not np.array_equal(first, other)
    if fill is not init.sparse_:  # sparse_ picks its zeros from the global stream, as torch does
        np.testing.assert_array_equal(ember.randn(3).numpy(), global_before)
    # and the global stream alone is reproducible under manual_seed
    ember.manual_seed(5)
    a = fill(_e(12, 9), *args).detach().numpy()
    ember.manual_seed(5)
    np.testing.assert_array_equal(fill(_e(12, 9), *args).detach().numpy(), a)


def test_fills_write_through_views_and_keep_the_parameter():
    w = _e(4, 6)
    init.zeros_(w)
    init.ones_(w.T)  # a view, as torch's init.ones_(w.T) fills w
    assert np.all(w.detach().numpy() == 1)
    init.constant_(w[1], 2.0)
    assert np.all(w.detach().numpy()[1] == 2) and np.all(w.detach().numpy()[0] == 1)


# --- the deprecated aliases -------------------------------------------------------------------

DEPRECATED = [("uniform", (-1.0, 1.0)), ("normal", (0.0, 1.0)), ("constant", (0.5,)),
              ("eye", ()), ("dirac", ()), ("xavier_uniform", ()), ("xavier_normal", ()),
              ("kaiming_uniform", ()), ("kaiming_normal", ()), ("orthogonal", ()),
              ("sparse", (0.5,))]


@pytest.mark.parametrize("name,args", DEPRECATED)
def test_deprecated_aliases_warn_as_torch_and_fill_as_the_new_name(name, args):
    shape = (4, 4, 3) if name == "dirac" else (6, 8)
    with pytest.warns(FutureWarning) as ours:
        ember.manual_seed(0)
        got = getattr(init, name)(_e(*shape), *args)
    with pytest.warns(FutureWarning) as theirs:
        getattr(torch.nn.init, name)(_t(*shape), *args)
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__  # the warning points at the caller
    ember.manual_seed(0)
    want = getattr(init, name + "_")(_e(*shape), *args)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert getattr(init, name).__name__ == name


def test_every_torch_init_name_is_here():
    public = {n for n in dir(torch.nn.init) if not n.startswith("_")
              and callable(getattr(torch.nn.init, n))
              and getattr(getattr(torch.nn.init, n), "__module__", "") == "torch.nn.init"}
    assert public and public <= set(init.__all__), sorted(public - set(init.__all__))
