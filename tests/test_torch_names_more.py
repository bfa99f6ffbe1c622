"""The names of ember/ops/aliases.py, each compared with PyTorch: values, gradients, and for
in-place twins the identity of the result and the version counter."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import check

# torch-level twins of in-place Tensor methods: (name, extra args, input range)
UNARY_INPLACE = [
    ("acos_", (), (-0.9, 0.9)), ("acosh_", (), (1.1, 3.0)), ("arccos_", (), (-0.9, 0.9)),
    ("arcsin_", (), (-0.9, 0.9)), ("arctan_", (), (-2, 2)), ("asin_", (), (-0.9, 0.9)),
    ("asinh_", (), (-2, 2)), ("atan_", (), (-2, 2)), ("atanh_", (), (-0.9, 0.9)),
    ("ceil_", (), (-2, 2)), ("clamp_max_", (0.5,), (-2, 2)), ("clamp_min_", (0.5,), (-2, 2)),
    ("cos_", (), (-2, 2)), ("cosh_", (), (-2, 2)), ("deg2rad_", (), (-2, 2)), ("erf_", (), (-2, 2)),
    ("erfc_", (), (-2, 2)), ("exp2_", (), (-2, 2)), ("expm1_", (), (-2, 2)), ("fill_", (1.5,), (-2, 2)),
    ("fix_", (), (-2, 2)), ("floor_", (), (-2, 2)), ("frac_", (), (-2, 2)), ("i0_", (), (-2, 2)),
    ("log10_", (), (0.1, 3)), ("log1p_", (), (0.1, 3)), ("log2_", (), (0.1, 3)),
    ("logit_", (), (0.1, 0.9)), ("nan_to_num_", (), (-2, 2)), ("neg_", (), (-2, 2)),
    ("rad2deg_", (), (-2, 2)), ("reciprocal_", (), (0.5, 2)), ("round_", (), (-2, 2)),
    ("rsqrt_", (), (0.5, 2)), ("sin_", (), (-2, 2)), ("sinc_", (), (-2, 2)), ("sinh_", (), (-2, 2)),
    ("square_", (), (-2, 2)), ("tan_", (), (-1, 1)), ("trunc_", (), (-2, 2)), ("zero_", (), (-2, 2)),
    ("arccosh_", (), (1.1, 3.0)), ("arcsinh_", (), (-2, 2)), ("arctanh_", (), (-0.9, 0.9)),
    ("negative_", (), (-2, 2)), ("conj_physical_", (), (-2, 2)), ("detach_", (), (-2, 2)),
]


@pytest.mark.parametrize("name,args,bounds", UNARY_INPLACE, ids=[c[0] for c in UNARY_INPLACE])
def test_torch_level_inplace_twin(name, args, bounds):
    a = np.random.default_rng(0).uniform(*bounds, size=(3, 4))
    t, e = torch.tensor(a), ember.tensor(a)
    v0 = e._version
    t_out = getattr(torch, name)(t, *args)
    e_out = getattr(ember, name)(e, *args)
    assert e_out is e and t_out is t
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-8)
    if name not in ("detach_", "conj_physical_"):
        assert e._version > v0


@pytest.mark.parametrize("name", ["sin_", "exp2_", "square_", "tan_"])
def test_torch_level_inplace_twin_gradient(name):
    a = np.random.default_rng(1).uniform(-1, 1, size=(2, 3))

    def run(lib):
        x = lib.tensor(a, requires_grad=True)
        y = x * 2
        getattr(lib, name)(y)
        y.sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-6)


def test_binary_inplace_twins():
    a = np.random.default_rng(2).uniform(0.1, 2, size=(3, 4))
    b = np.random.default_rng(3).uniform(0.1, 2, size=(4,))
    for name in ["xlogy_"]:
        t, e = torch.tensor(a), ember.tensor(a)
        assert getattr(ember, name)(e, ember.tensor(b)) is e
        getattr(torch, name)(t, torch.tensor(b))
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    ia, ib = np.array([4, 6, 9]), np.array([6, 4, 3])
    for name in ["gcd_", "lcm_"]:
        t, e = torch.tensor(ia), ember.tensor(ia)
        assert getattr(ember, name)(e, ember.tensor(ib)) is e
        getattr(torch, name)(t, torch.tensor(ib))
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    m, v = np.ones((2, 3)), np.arange(3.0)
    t, e = torch.tensor(np.zeros(2)), ember.tensor(np.zeros(2))
    assert ember.addmv_(e, ember.tensor(m), ember.tensor(v)) is e
    torch.addmv_(t, torch.tensor(m), torch.tensor(v))
    np.testing.assert_allclose(e.numpy(), t.numpy())
    t, e = torch.zeros(5), ember.zeros(5)
    torch.index_put_(t, (torch.tensor([1, 3]),), torch.tensor([2.0, 4.0]))
    assert ember.index_put_(e, (ember.tensor([1, 3]),), ember.tensor([2.0, 4.0])) is e
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    x = ember.ones(2, requires_grad=True)
    assert not ember.detach(x * 2).requires_grad


# out-of-place functions and methods with gradients: (name, fn(lib, *xs), shapes, kwargs)
DIFFERENTIABLE = [
    ("arccosh", lambda L, x: L.arccosh(x + 3), [(3, 4)], {}),
    ("arcsinh", lambda L, x: L.arcsinh(x), [(3, 4)], {}),
    ("arctanh", lambda L, x: L.arctanh(x * 0.4), [(3, 4)], {}),
    ("Tensor.arcsinh", lambda L, x: x.arcsinh(), [(3,)], {}),
    ("row_stack", lambda L, x, y: L.row_stack((x, y)), [(3,), (2, 3)], {}),
    ("split_with_sizes", lambda L, x: L.split_with_sizes(x, [1, 3], dim=1), [(2, 4)], {}),
    ("Tensor.split_with_sizes", lambda L, x: x.split_with_sizes([2, 0, 1]), [(3, 2)], {}),
    ("conj_physical", lambda L, x: L.conj_physical(x) * 2, [(3,)], {}),
    ("conj", lambda L, x: L.conj(x) * 2, [(3,)], {}),
    ("resolve_conj", lambda L, x: L.resolve_conj(x) * 2, [(3,)], {}),
    ("resolve_neg", lambda L, x: L.resolve_neg(x) * 2, [(3,)], {}),
    ("real", lambda L, x: L.real(x) * 2, [(3,)], {}),
    ("adjoint", lambda L, x: L.adjoint(x), [(2, 3, 4)], {}),
    ("Tensor.adjoint", lambda L, x: x.adjoint(), [(3, 4)], {}),
    ("masked_scatter", lambda L, x, s: L.masked_scatter(x, x > 0, s), [(3, 4), (15,)], {}),
    ("masked_scatter_bcast", lambda L, x, s: x.masked_scatter(L.tensor([True, False, True, True]), s),
     [(3, 4), (3, 4)], {}),
    ("put", lambda L, x, s: L.put(x, L.tensor([0, 5, -1]), s), [(3, 4), (3,)], {}),
    ("put_accumulate", lambda L, x, s: x.put(L.tensor([1, 1, 2]), s, accumulate=True),
     [(2, 3), (3,)], {}),
    ("sum_to_size", lambda L, x: x.sum_to_size(3, 1), [(2, 3, 4)], {}),
    ("sum_to_size_tuple", lambda L, x: x.sum_to_size((1, 4)), [(3, 4)], {}),
    ("sum_to_size_same", lambda L, x: x.sum_to_size(3, 4) * 1, [(3, 4)], {}),
    ("embedding", lambda L, w: L.embedding(w, L.tensor([[1, 0], [4, 1]])), [(5, 3)], {}),
    ("embedding_padding", lambda L, w: L.embedding(w, L.tensor([1, 0, 4, 1]), 1), [(5, 3)], {}),
    ("embedding_freq", lambda L, w: L.embedding(w, L.tensor([1, 0, 1, 1]), -1, True), [(5, 3)], {}),
    ("angle_value", lambda L, x: L.angle(x), [(3, 4)], {}),
    ("Tensor.angle", lambda L, x: x.angle(), [(0, 2)], {}),
]


@pytest.mark.parametrize("name,fn,shapes,kw", DIFFERENTIABLE, ids=[c[0] for c in DIFFERENTIABLE])
def test_differentiable_names(name, fn, shapes, kw):
    # angle's zero gradient, the padding row's missing one and the frequency scaling are by
    # definition not the numerical derivative, so those are compared with PyTorch only
    by_definition = ("angle_value", "Tensor.angle", "embedding_padding", "embedding_freq")
    check(fn, shapes, gradcheck_=name not in by_definition, **kw)


def test_angle_special_values():
    a = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, -np.inf])
    np.testing.assert_array_equal(ember.angle(ember.tensor(a)).numpy(), torch.angle(torch.tensor(a)).numpy())
    ia = np.array([-3, 0, 4])
    e, t = ember.angle(ember.tensor(ia)), torch.angle(torch.tensor(ia))
    assert e.dtype.name == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(e.numpy(), t.numpy())


# in-place Tensor methods built from out-of-place ops: (name, args(lib), input array)
F = np.array([[1.0, -2.0, 3.0], [0.5, 2.0, -1.0], [3.0, 0.0, 2.0]])
I = np.array([[5, -3, 12], [7, 1, 0]])
METHOD_INPLACE = [
    (n, lambda L: (L.tensor([1.0, 2.0, 3.0]),), F)
    for n in ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_",
              "less_equal_", "not_equal_", "divide_", "multiply_", "subtract_", "true_divide_"]
] + [
    (n, lambda L: (L.tensor([3, 6, 1]),), I)
    for n in ["bitwise_and_", "bitwise_or_", "bitwise_xor_", "eq_", "lt_"]
] + [
    ("bitwise_not_", lambda L: (), I),
    ("bitwise_left_shift_", lambda L: (L.tensor([1, 2, 0]),), I),
    ("bitwise_right_shift_", lambda L: (1,), I),
    ("negative_", lambda L: (), F), ("arccosh_", lambda L: (), F + 4), ("arctanh_", lambda L: (), F / 4),
    ("tril_", lambda L: (), F), ("triu_", lambda L: (1,), F), ("ldexp_", lambda L: (L.tensor([1, 2, 3]),), F),
    ("nextafter_", lambda L: (L.tensor(10.0, dtype=L.float64),), F),
    ("masked_scatter_", lambda L: (L.tensor([[True, False, True]]), L.arange(10.0, dtype=L.float64)), F),
    ("put_", lambda L: (L.tensor([0, 4]), L.tensor([9.0, 8.0], dtype=L.float64)), F),
    ("fill_diagonal_", lambda L: (7.0,), F), ("fill_diagonal_", lambda L: (7.0,), np.zeros((7, 3))),
    ("fill_diagonal_", lambda L: (7.0, True), np.zeros((7, 3))),
]


@pytest.mark.parametrize("name,args,arr", METHOD_INPLACE,
                         ids=[f"{c[0]}-{c[2].dtype}-{c[2].shape}" for c in METHOD_INPLACE])
def test_method_inplace(name, args, arr):
    t, e = torch.tensor(arr), ember.tensor(arr)
    v0 = e._version
    assert getattr(t, name)(*args(torch)) is t
    assert getattr(e, name)(*args(ember)) is e
    assert e.dtype.name == str(t.dtype).split(".")[-1]
    assert e._version == v0 + 1
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-7)


@pytest.mark.parametrize("name,args", [("tril_", ()), ("multiply_", (3.0,)), ("fill_diagonal_", (0.0,)),
                                        ("masked_scatter_", None), ("put_", None)])
def test_method_inplace_gradient(name, args):
    def run(lib):
        x = lib.tensor(F, requires_grad=True)
        s = lib.tensor(np.arange(1.0, 10.0), requires_grad=True)
        y = x * 1
        if name == "masked_scatter_":
            y.masked_scatter_(x > 1, s)
        elif name == "put_":
            y.put_(lib.tensor([2, 7]), s[:2])
        else:
            getattr(y, name)(*args)
        (y * lib.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
        return x.grad.numpy(), None if s.grad is None else s.grad.numpy()

    (ex, es), (tx, ts) = run(ember), run(torch)
    np.testing.assert_allclose(ex, tx)
    if ts is None:
        assert es is None or not es.any()
    else:
        np.testing.assert_allclose(es, ts)


def test_shifts_out_of_place():
    a, b = np.array([1, -8, 16], dtype=np.int32), np.array([2, 1, 3], dtype=np.int64)
    for name, op in [("bitwise_left_shift", "__lshift__"), ("bitwise_right_shift", "__rshift__")]:
        for lhs, rhs in [(a, b), (a, 2), (b, b)]:
            conv = [lambda L, v=v: L.tensor(v) if isinstance(v, np.ndarray) else v for v in (lhs, rhs)]
            e = getattr(ember, name)(conv[0](ember), conv[1](ember))
            t = getattr(torch, name)(conv[0](torch), conv[1](torch))
            assert e.dtype.name == str(t.dtype).split(".")[-1]
            np.testing.assert_array_equal(e.numpy(), t.numpy())
            e2 = getattr(conv[0](ember), op)(conv[1](ember))
            np.testing.assert_array_equal(e2.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="bitwise_left_shift"):
        ember.bitwise_left_shift(ember.ones(2), 1)


PREDICATES = [
    ("is_same_size", lambda L: L.is_same_size(L.ones(2, 3), L.zeros(2, 3))),
    ("is_same_size_no", lambda L: L.is_same_size(L.ones(2, 3), L.zeros(3, 2))),
    ("Tensor.is_same_size", lambda L: L.ones(2).is_same_size(L.ones(2))),
    ("is_signed_float", lambda L: L.is_signed(L.ones(2))),
    ("is_signed_uint8", lambda L: L.is_signed(L.ones(2, dtype=L.uint8))),
    ("is_signed_bool", lambda L: L.ones(2, dtype=L.bool).is_signed()),
    ("is_signed_int8", lambda L: L.ones(2, dtype=L.int8).is_signed()),
    ("is_nonzero", lambda L: L.is_nonzero(L.tensor([0.5]))),
    ("is_nonzero_zero", lambda L: L.tensor(0).is_nonzero()),
    ("is_complex", lambda L: L.is_complex(L.ones(2))),
    ("Tensor.is_complex", lambda L: L.ones(2).is_complex()),
    ("is_conj", lambda L: (L.is_conj(L.ones(2)), L.ones(2).is_conj())),
    ("is_neg", lambda L: (L.is_neg(L.ones(2)), L.ones(2).is_neg())),
    ("isreal", lambda L: L.isreal(L.tensor([1.0, float("nan")])).tolist()),
    ("Tensor.isreal", lambda L: L.ones(2, 2, dtype=L.int64).isreal().tolist()),
    ("conj_is_self", lambda L: (lambda x: (L.conj(x) is x, x.conj() is x, L.real(x) is x))(L.ones(2))),
    ("resolve_is_self", lambda L: (lambda x: (L.resolve_conj(x) is x, x.resolve_neg() is x))(L.ones(2))),
    ("conj_physical_copy", lambda L: (lambda x: L.conj_physical(x) is x)(L.ones(2))),
    ("get_device", lambda L: (L.get_device(L.ones(2)), L.ones(2).get_device())),
    ("ndimension", lambda L: (L.ones(2, 3, 1).ndimension(), L.tensor(1.0).ndimension())),
    ("short", lambda L: str(L.tensor([1.7, -2.2]).short().dtype).split(".")[-1]),
    ("char", lambda L: L.tensor([1.7, -2.2]).char().tolist()),
    ("byte", lambda L: (L.tensor([1.7, 3.2]).byte().tolist(), str(L.ones(1).byte().dtype)[-5:])),
    ("storage_offset", lambda L: (L.arange(10).storage_offset(), L.arange(10)[3:].storage_offset(),
                                  L.arange(12).reshape(3, 4)[1:, 2:].storage_offset(),
                                  L.arange(10)[::2][1:].storage_offset())),
    ("new_sizes", lambda L: (tuple(L.ones(2, dtype=L.float64).new(2, 3).shape),
                             str(L.ones(2, dtype=L.float64).new(2, 3).dtype)[-7:])),
    ("new_empty", lambda L: tuple(L.ones(2).new().shape)),
    ("new_data", lambda L: L.ones(2, dtype=L.int32).new([1, 2, 3]).tolist()),
    ("range", lambda L: L.range(0, 4).tolist()),
    ("range_step", lambda L: L.range(1, 2, 0.25).tolist()),
    ("range_neg", lambda L: (L.range(5, 1, -2).tolist(), str(L.range(5, 1, -2).dtype)[-7:])),
    ("range_dtype", lambda L: (L.range(0, 3, dtype=L.int64).tolist(),
                               str(L.range(0, 3, dtype=L.int64).dtype)[-5:])),
    ("scalar_tensor", lambda L: (L.scalar_tensor(3).item(), str(L.scalar_tensor(3).dtype)[-7:],
                                 tuple(L.scalar_tensor(2.5).shape))),
    ("scalar_tensor_dtype", lambda L: str(L.scalar_tensor(3, dtype=L.int64).dtype)[-5:]),
    ("fill", lambda L: (lambda x: (L.fill(x, 2.5).tolist(), x.tolist()))(L.zeros(2, dtype=L.float64))),
    ("fill_int", lambda L: L.fill(L.zeros(3, dtype=L.int64), 7).tolist()),
    ("typename_tensor", lambda L: [L.typename(L.ones(1, dtype=d)).split(".", 1)[1]
                                   for d in (L.float32, L.float64, L.int64, L.int32, L.uint8, L.bool)]),
    ("typename_other", lambda L: (L.typename(3), L.typename(np.ones(2)), L.typename(int),
                                  L.typename(np.linalg.norm), L.typename(L.nn.Linear).split(".", 1)[1])),
    ("anomaly", lambda L: (L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled())),
    ("init_num_threads", lambda L: L.init_num_threads()),
    ("split_with_sizes", lambda L: [t.tolist() for t in L.split_with_sizes(L.arange(5), [2, 3])]),
]


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("name,fn", PREDICATES, ids=[c[0] for c in PREDICATES])
def test_same_answer_as_torch(name, fn):
    assert fn(ember) == fn(torch)


def test_errors_name_the_op():
    with pytest.raises(RuntimeError, match="ambiguous"):
        ember.is_nonzero(ember.ones(2))
    with pytest.raises(RuntimeError, match="ambiguous"):
        ember.is_nonzero(ember.ones(0))
    with pytest.raises(RuntimeError, match="split_with_sizes"):
        ember.split_with_sizes(ember.ones(5), [2, 2])
    with pytest.raises(RuntimeError, match="sum_to_size"):
        ember.ones(2, 3).sum_to_size(4, 3)
    with pytest.raises(RuntimeError, match="masked_scatter"):
        ember.ones(3).masked_scatter(ember.tensor([True, True, True]), ember.ones(2))
    with pytest.raises(RuntimeError, match="adjoint"):
        ember.adjoint(ember.ones(3))
    with pytest.raises(TypeError, match="bfloat16"):
        ember.ones(2).bfloat16()
    with pytest.raises(RuntimeError):
        torch.split_with_sizes(torch.ones(5), [2, 2])


def test_set_anomaly_enabled_round_trip():
    try:
        ember.set_anomaly_enabled(True, check_nan=False)
        torch.set_anomaly_enabled(True, check_nan=False)
        assert (ember.is_anomaly_enabled(), ember.is_anomaly_check_nan_enabled()) == (
            torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        assert ember.autograd.set_detect_anomaly is not None
    finally:
        ember.set_anomaly_enabled(False)
        torch.set_anomaly_enabled(False)
    assert ember.is_anomaly_enabled() == torch.is_anomaly_enabled() is False


def test_frombuffer_shares_memory():
    buf = bytearray(np.arange(6, dtype=np.float32).tobytes())
    e = ember.frombuffer(buf, dtype=ember.float32, count=3, offset=4)
    t = torch.frombuffer(buf, dtype=torch.float32, count=3, offset=4)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    e[0] = 42.0  # shares the buffer, as PyTorch's does
    assert t[0].item() == 42.0


RESHAPING_INPLACE = [
    ("t_", ()), ("transpose_", (0, 2)), ("swapaxes_", (1, 2)), ("swapdims_", (0, 1)),
    ("squeeze_", ()), ("squeeze_", (1,)), ("unsqueeze_", (0,)), ("unsqueeze_", (-1,)),
]


@pytest.mark.parametrize("name,args", RESHAPING_INPLACE, ids=[f"{n}{a}" for n, a in RESHAPING_INPLACE])
def test_reshaping_inplace(name, args):
    shape_ = (3, 4) if name == "t_" else (2, 1, 3)
    a = np.arange(float(np.prod(shape_))).reshape(shape_)
    t, e = torch.tensor(a), ember.tensor(a)
    v0 = e._version
    assert getattr(t, name)(*args) is t
    assert getattr(e, name)(*args) is e
    assert tuple(e.shape) == tuple(t.shape)
    assert e._version - v0 == t._version
    np.testing.assert_array_equal(e.numpy(), t.numpy())

    def run(lib):  # gradient through a recorded (non-leaf) tensor reshaped in place
        x = lib.tensor(a, requires_grad=True)
        y = x * 2
        getattr(y, name)(*args)
        w = lib.tensor(np.arange(float(y.numel())).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(run(ember), run(torch))
    leaf = ember.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(leaf, name)(*args)
    with ember.no_grad():
        assert getattr(leaf, name)(*args) is leaf


def test_reshaping_inplace_on_a_view_then_written():
    def run(lib):
        x = lib.zeros(2, 3, requires_grad=True)
        base = x * 1
        row = base[0]
        row.unsqueeze_(0)
        row.mul_(0).add_(lib.tensor([[1.0, 2.0, 3.0]]))
        (base * lib.arange(6.0).reshape(2, 3)).sum().backward()
        return base.detach().numpy(), row.detach().numpy(), x.grad.numpy()

    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("start,size", [((6,), (2, 2)), ((2, 3), (6,)), ((4,), (2, 3)), ((2, 2), ((3, 1),)),
                                        ((3,), (0,))])
def test_resize_(start, size):
    a = np.arange(float(np.prod(start))).reshape(start)
    t, e = torch.tensor(a), ember.tensor(a)
    v0 = e._version
    assert t.resize_(*size) is t and e.resize_(*size) is e
    assert tuple(e.shape) == tuple(t.shape) and e._version == v0 + 1
    kept = min(a.size, t.numel())  # PyTorch leaves grown elements uninitialised
    np.testing.assert_array_equal(e.numpy().reshape(-1)[:kept], t.numpy().reshape(-1)[:kept])


def test_resize_as_and_shrinking_shares_memory():
    t, e = torch.arange(6.0), ember.arange(6.0)
    assert torch.resize_as_(t, torch.ones(2, 2)) is t and ember.resize_as_(e, ember.ones(2, 2)) is e
    assert e.resize_as_(ember.ones(3)) is e and tuple(e.shape) == (3,)
    base = ember.arange(6.0)
    head = base[:4]
    head.resize_(2)
    head[0] = 9.0
    assert base[0].item() == 9.0
    with pytest.raises(RuntimeError, match="require grad"):
        ember.ones(2, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="contiguous"):
        ember.arange(6.0)[::2].resize_(2)
    with pytest.raises(RuntimeError, match="view"):
        ember.arange(6.0)[:2].resize_(4)


# random fills: the same distribution as PyTorch's (quantiles of 200k draws), reproducible by seed
RANDOM_FILLS = [
    ("cauchy_", (1.0, 0.5), [0.1, 0.25, 0.5, 0.75, 0.9]),
    ("log_normal_", (0.5, 0.4), [0.1, 0.25, 0.5, 0.75, 0.9]),
    ("geometric_", (0.3,), [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]),
]


@pytest.mark.parametrize("name,args,qs", RANDOM_FILLS, ids=[c[0] for c in RANDOM_FILLS])
def test_random_fill_distribution(name, args, qs):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e = getattr(ember.zeros(200_000, dtype=ember.float64), name)(*args)
    t = getattr(torch.zeros(200_000, dtype=torch.float64), name)(*args)
    np.testing.assert_allclose(np.quantile(e.numpy(), qs), np.quantile(t.numpy(), qs), rtol=0.03, atol=0.02)
    ember.manual_seed(5)
    first = getattr(ember.zeros(4), name)(*args).numpy()
    ember.manual_seed(5)
    np.testing.assert_array_equal(getattr(ember.zeros(4), name)(*args).numpy(), first)


def test_binomial_distribution():
    ember.manual_seed(0)
    torch.manual_seed(0)
    counts = np.tile([0.0, 1.0, 10.0, 40.0], 50_000)
    probs = np.tile([0.5, 0.3, 0.9, 0.25], 50_000)
    e = ember.binomial(ember.tensor(counts), ember.tensor(probs))
    t = torch.binomial(torch.tensor(counts), torch.tensor(probs))
    assert e.dtype.name == str(t.dtype).split(".")[-1]
    for k in range(4):
        ev, tv = e.numpy()[k::4], t.numpy()[k::4]
        np.testing.assert_allclose([ev.mean(), ev.std()], [tv.mean(), tv.std()], rtol=0.03, atol=0.01)
        assert ev.min() >= 0 and ev.max() <= counts[k]
    with pytest.raises(RuntimeError, match="binomial"):
        ember.binomial(ember.ones(2), ember.tensor([0.5, 1.5]))
