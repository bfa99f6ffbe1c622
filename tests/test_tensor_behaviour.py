"""PyTorch programs run unchanged: the keywords, dtype names, Tensor properties, formatting and
printing they rely on behave as in PyTorch (each compared with PyTorch itself)."""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from tests.helpers import check, make_inputs


def _pair(*arrays, requires_grad=False):
    """The same float64 values as (torch tensors, ember tensors)."""
    ts = [torch.tensor(a, requires_grad=requires_grad) for a in arrays]
    es = [ember.tensor(a, requires_grad=requires_grad) for a in arrays]
    return ts, es


# ------------------------------------------------------------------- PyTorch's keyword names


@pytest.mark.parametrize("fn, shapes", [
    (lambda m, x: m.sum(input=x), [(3, 4)]),
    (lambda m, x: m.sum(x, axis=1), [(3, 4)]),
    (lambda m, x: m.sum(x, axis=(0, 1), keepdims=True), [(3, 4)]),
    (lambda m, x: m.mean(input=x, dim=0, keepdim=True), [(3, 4)]),
    (lambda m, x: m.amax(x, axis=-1, keepdims=True), [(3, 4)]),
    (lambda m, x: m.std(x, axis=0), [(3, 4)]),
    (lambda m, x: m.logsumexp(x, axis=1), [(3, 4)]),
    (lambda m, x: m.cumsum(x, axis=1), [(3, 4)]),
    (lambda m, x: m.softmax(x, axis=1), [(3, 4)]),
    (lambda m, x, y: m.mul(input=x, other=y), [(3, 4), (4,)]),
    (lambda m, x, y: m.add(x, other=y, alpha=2), [(3, 4), (4,)]),
    (lambda m, x, y: m.pow(x.abs() + 0.5, exponent=y), [(3, 4), (3, 4)]),
    (lambda m, x, y: m.mm(x, mat2=y), [(3, 4), (4, 2)]),
    (lambda m, x, y: m.bmm(input=x, mat2=y), [(2, 3, 4), (2, 4, 2)]),
    (lambda m, x, y: m.mv(x, vec=y), [(3, 4), (4,)]),
    (lambda m, x, y: m.outer(x, vec2=y), [(3,), (4,)]),
    (lambda m, x, y: m.matmul(input=x, other=y), [(2, 3, 4), (4,)]),
    (lambda m, x, y: m.concatenate((x, y), axis=1), [(2, 3), (2, 2)]),
    (lambda m, x: m.swapaxes(x, axis0=0, axis1=2), [(2, 3, 4)]),
    (lambda m, x: m.tensor_split(x, sections=3, dim=1)[1], [(2, 7)]),
    (lambda m, x: m.tensor_split(x, indices=[1, 4], dim=1)[2], [(2, 7)]),
    (lambda m, x: x.split(split_size=2, dim=1)[1], [(2, 5)]),
    (lambda m, x: m.squeeze(x, axis=1), [(3, 1, 2)]),
    (lambda m, x: m.det(input=x), [(3, 3)]),
    (lambda m, x: m.linalg.norm(input=x), [(3, 3)]),
    (lambda m, x: m.reshape(input=x, shape=(4, 3)), [(3, 4)]),
])
def test_pytorch_keywords_give_pytorch_values_and_gradients(fn, shapes):
    check(fn, shapes)


def test_gather_accepts_sparse_grad():
    index = [[0, 2], [1, 0]]
    check(lambda m, x: m.gather(x, 1, m.tensor(index), sparse_grad=False), [(2, 3)])


def test_creation_functions_take_size_as_keyword_or_varargs():
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        fn = getattr(ember, name)
        for args, kwargs in (((2, 3), {}), (((2, 3),), {}), ((), {"size": (2, 3)}),
                             ((), {"size": [2, 3]})):
            t = fn(*args, **kwargs)
            assert t.shape == getattr(torch, name)(*args, **kwargs).shape == (2, 3), (name, args)
        with pytest.raises(TypeError, match=name):
            fn(2, size=(2, 3))
    assert ember.randint(0, 5, size=(4,)).shape == (4,)
    assert ember.randint(5, (2, 2)).shape == (2, 2)
    assert ember.full(size=(2,), fill_value=7).tolist() == torch.full(size=(2,), fill_value=7).tolist()
    x = ember.ones(3, dtype=ember.float64)
    assert x.new_zeros(size=(2,)).dtype == ember.float64 and x.new_zeros(2, 2).shape == (2, 2)
    assert ember.zeros(2, layout=ember.strided, pin_memory=False).shape == (2,)
    with pytest.raises(NotImplementedError, match="layout"):
        ember.zeros(2, layout="sparse_coo")
    assert ember.zeros_like(input=x, memory_format=None).dtype == ember.float64


# ----------------------------------------------------------------------------------- out=


@pytest.mark.parametrize("name, shapes, kwargs", [
    ("mul", [(3, 4), (4,)], {}), ("add", [(3, 4), (3, 4)], {"alpha": 3}), ("sub", [(3,), (3,)], {}),
    ("div", [(3,), (3,)], {}), ("pow", [(3,), (3,)], {}), ("matmul", [(3, 4), (4, 2)], {}),
    ("mm", [(3, 4), (4, 2)], {}), ("exp", [(3,)], {}), ("sin", [(2, 2)], {}),
    ("tanh", [(3,)], {}), ("sigmoid", [(3,)], {}), ("clamp", [(4,)], {"min": -0.5}),
    ("mean", [(3, 4)], {"dim": 1}), ("sum", [(3, 4)], {"dim": 0}), ("cumsum", [(3, 4)], {"dim": 1}),
    ("maximum", [(3,), (3,)], {}), ("where", [(3,), (3,)], {}),
])
def test_out_writes_into_the_given_tensor_as_pytorch(name, shapes, kwargs):
    arrays = make_inputs(shapes, positive=name == "pow")
    ts, es = _pair(*arrays)
    if name == "where":
        ts, es = [ts[0] > 0, *ts], [es[0] > 0, *es]
    t_out, e_out = torch.empty(0, dtype=torch.float64), ember.empty(0, dtype=ember.float64)
    t_res = getattr(torch, name)(*ts, **kwargs, out=t_out)
    e_res = getattr(ember, name)(*es, **kwargs, out=e_out)
    assert e_res is e_out and t_res is t_out  # resized to the result's shape, as PyTorch does
    assert e_out.shape == t_out.shape
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), rtol=1e-12, atol=1e-12)


def test_out_keeps_its_dtype_and_memory_and_refuses_what_pytorch_refuses():
    x = ember.tensor([1.5, 2.5])
    out = ember.zeros(2, dtype=ember.float64)
    alias = out[:]
    ember.mul(x, 2, out=out)
    assert out.dtype == ember.float64 and alias.tolist() == [3.0, 5.0]  # written in place
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.mul(x, x, out=ember.zeros(2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.mul(torch.tensor([1.5]), 2, out=torch.zeros(1, dtype=torch.int64))
    w = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=.*automatic differentiation"):
        ember.mul(w, 2, out=ember.zeros(2))
    with pytest.raises(RuntimeError, match="out="):
        torch.mul(torch.ones(2, requires_grad=True), 2, out=torch.zeros(2))
    with ember.no_grad():
        assert ember.mul(w, 2, out=ember.zeros(2)).tolist() == [2.0, 2.0]
    values, indices = ember.zeros(0), ember.zeros(0, dtype=ember.int64)
    result = ember.max(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1, out=(values, indices))
    assert result[0] is values and values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert ember.arange(3, out=ember.zeros(0, dtype=ember.int64)).tolist() == [0, 1, 2]
    assert ember.zeros(2, 2, out=ember.ones(4)).shape == (2, 2)


# ------------------------------------------------------------------------- other keywords


def test_autograd_grad_materialize_and_batched_as_pytorch():
    (tx, ty), (ex, ey) = _pair(*make_inputs([(3,), (3,)]), requires_grad=True)
    t_g = torch.autograd.grad((tx * tx).sum(), [tx, ty], materialize_grads=True)
    e_g = ember.autograd.grad((ex * ex).sum(), [ex, ey], materialize_grads=True)
    for a, b in zip(t_g, e_g):
        np.testing.assert_allclose(b.numpy(), a.numpy())
    with pytest.raises(ValueError, match="allow_unused"):
        ember.autograd.grad((ex * 2).sum(), [ex], materialize_grads=True, allow_unused=False)
    rows = np.eye(3)
    t_b = torch.autograd.grad(tx.sin(), tx, torch.tensor(rows), is_grads_batched=True)
    e_b = ember.autograd.grad(ex.sin(), ex, ember.tensor(rows), is_grads_batched=True)
    assert e_b[0].shape == t_b[0].shape == (3, 3)
    np.testing.assert_allclose(e_b[0].numpy(), t_b[0].detach().numpy(), rtol=1e-12)
    leaf = ember.tensor([1.0], requires_grad=True)
    leaf2 = ember.tensor([1.0], requires_grad=True)
    ember.autograd.backward((leaf * 3).sum(), grad_variables=ember.tensor(2.0))
    assert leaf.grad.tolist() == [6.0] and leaf2.grad is None


def test_gradcheck_takes_pytorch_keywords():
    x = ember.tensor(make_inputs([(3,)])[0], requires_grad=True)
    assert ember.autograd.gradcheck(func=lambda a: a.sin(), inputs=(x,), fast_mode=True,
                                    nondet_tol=0.0, check_undefined_grad=True, masked=None)
    assert ember.autograd.gradgradcheck(func=lambda a: a.sin(), inputs=(x,), fast_mode=True)
    with pytest.raises(NotImplementedError, match="check_forward_ad"):
        ember.autograd.gradcheck(lambda a: a.sin(), (x,), check_forward_ad=True)


def test_load_accepts_weights_only_and_mmap():
    state = {"w": ember.tensor([1.0, 2.0])}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "state.pt")
        ember.save(state, path)
        for kwargs in ({"weights_only": True}, {"weights_only": False, "mmap": True},
                       {"map_location": "cpu", "weights_only": None}):
            assert ember.load(path, **kwargs)["w"].tolist() == [1.0, 2.0]
    buffer = io.BytesIO()
    ember.save(state, buffer)
    buffer.seek(0)
    assert ember.load(buffer, weights_only=True)["w"].tolist() == [1.0, 2.0]


def test_sdpa_grouped_query_attention_as_pytorch():
    q, k, v = make_inputs([(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 5)])
    check(lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
          [(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 5)],
          torch_fn=lambda m, q, k, v: torch.nn.functional.scaled_dot_product_attention(
              q, k, v, enable_gqa=True))
    with pytest.raises(RuntimeError, match="enable_gqa"):
        F.scaled_dot_product_attention(ember.tensor(q), ember.tensor(k)[:, :1].repeat(1, 3, 1, 1),
                                       ember.tensor(v)[:, :1].repeat(1, 3, 1, 1), enable_gqa=True)
    del v


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_loss_weight_and_normalize_out_as_pytorch(reduction):
    check(lambda m, x, y, w: F.l1_loss(x, y, reduction=reduction, weight=w),
          [(3, 4), (3, 4), (3, 4)],
          torch_fn=lambda m, x, y, w: torch.nn.functional.l1_loss(x, y, reduction=reduction,
                                                                  weight=w))
    (tx,), (ex,) = _pair(*make_inputs([(3, 4)]))
    t_out, e_out = torch.empty(0, dtype=torch.float64), ember.empty(0, dtype=ember.float64)
    torch.nn.functional.normalize(tx, dim=1, out=t_out)
    assert F.normalize(ex, dim=1, out=e_out) is e_out
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------ dtypes


def test_dtype_aliases_are_pytorch_s():
    for name in ("float", "double", "half", "int", "long", "short", "bool", "float32", "float64",
                 "float16", "int8", "int16", "int32", "int64", "uint8"):
        assert str(getattr(ember, name)).replace("ember.", "") == \
            str(getattr(torch, name)).replace("torch.", ""), name
    x = ember.tensor([1.7, -2.2])
    for method in ("float", "double", "half", "int", "long", "short", "char", "byte", "bool"):
        got = getattr(x, method)()
        want = getattr(torch.tensor([1.7, -2.2]), method)()
        assert str(got.dtype).replace("ember.", "") == str(want.dtype).replace("torch.", "")
        assert got.tolist() == pytest.approx(want.tolist(), rel=1e-3), method
    assert ember.zeros(2, dtype=ember.long).dtype == ember.int64
    for dtype in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                  "bool"):
        e, t = ember.zeros(2, dtype=getattr(ember, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
        assert e.type() == t.type().replace("torch.", "ember."), dtype
        assert e.float().type(t.type()).dtype == getattr(ember, dtype)
    with pytest.raises(ValueError, match="invalid type"):
        x.type("ember.NoSuchTensor")


# --------------------------------------------------------------------------- __format__


@pytest.mark.parametrize("value", [3.14159, -2.5, 7, 0.0, True])
@pytest.mark.parametrize("spec", ["", "+.2f", ".3e", "10.4f", "g", "<8"])
def test_format_of_0d_tensor_is_the_number_s(value, spec):
    try:
        want = format(torch.tensor(value), spec)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)):
            format(ember.tensor(value), spec)
        return
    assert format(ember.tensor(value), spec) == want


def test_format_of_nd_tensor_as_pytorch():
    t, e = torch.tensor([1.5, 2.0]), ember.tensor([1.5, 2.0])
    assert "{}".format(e) == "{}".format(t) == str(t)
    assert f"{e}" == f"{t}"
    with pytest.raises(TypeError):
        "{:.2f}".format(t)
    with pytest.raises(TypeError):
        "{:.2f}".format(e)
    loss = (ember.tensor([0.5, 0.25], requires_grad=True) ** 2).sum()
    assert f"loss {loss:.4f}" == "loss 0.3125"


# -------------------------------------------------------------------- shapes and properties


def test_shape_and_size_are_sizes():
    e, t = ember.ones(2, 3), torch.ones(2, 3)
    for got, want in ((e.shape, t.shape), (e.size(), t.size())):
        assert type(got) is ember.Size and got == want
        assert repr(got) == repr(want).replace("torch", "ember")
        assert got.numel() == want.numel() and got[1:] == want[1:]
    assert e.size(1) == t.size(1) == 3 and type(e.size(-1)) is int


def test_tensor_properties_as_pytorch():
    rows = np.arange(6.0).reshape(2, 3)
    t, e = torch.tensor(rows, dtype=torch.float32), ember.tensor(rows, dtype=ember.float32)
    for name in ("is_cpu", "is_cuda", "is_xpu", "is_meta", "is_sparse", "is_quantized",
                 "is_mkldnn", "is_nested", "itemsize", "nbytes", "is_leaf", "requires_grad",
                 "output_nr", "ndim", "name"):
        assert getattr(e, name) == getattr(t, name), name
    assert str(e.layout) == "ember.strided" and str(t.layout) == "torch.strided"
    for name in ("mT", "mH", "H", "T", "real"):
        np.testing.assert_array_equal(getattr(e, name).numpy(), getattr(t, name).numpy())
    batch = np.arange(12.0).reshape(2, 2, 3)
    np.testing.assert_array_equal(ember.tensor(batch).mT.numpy(), torch.tensor(batch).mT.numpy())
    with pytest.raises(RuntimeError, match="imag"):
        _ = e.imag
    with pytest.raises(RuntimeError, match="imag"):
        _ = t.imag
    for name in ("is_complex", "is_signed", "is_conj", "is_neg", "is_inference",
                 "get_device", "ndimension", "is_contiguous", "storage_offset", "dim_order"):
        assert getattr(e, name)() == getattr(t, name)(), name
    assert e[:, 1:].storage_offset() == t[:, 1:].storage_offset() == 1
    assert e.t().dim_order() == t.t().dim_order()
    assert e.is_same_size(ember.zeros(2, 3)) and not e.is_same_size(ember.zeros(3))
    assert ember.tensor([3]).is_nonzero() and not ember.tensor([0.0]).is_nonzero()
    assert e.conj() is e and e.resolve_conj() is e and e.resolve_neg() is e
    assert ember.tensor([1], dtype=ember.uint8).is_signed() is False


def test_grad_fn_graph_as_pytorch():
    (tx, ty), (ex, ey) = _pair(np.array([1.0, 2.0]), np.array([3.0, 4.0]), requires_grad=True)
    t_loss, e_loss = (tx * ty).sum(), (ex * ey).sum()
    assert e_loss.grad_fn.name() == t_loss.grad_fn.name() == "SumBackward0"
    (t_mul, t_nr), = t_loss.grad_fn.next_functions
    (e_mul, e_nr), = e_loss.grad_fn.next_functions
    assert e_mul.name() == t_mul.name() == "MulBackward0" and e_nr == t_nr == 0
    t_leaves = [type(f).__name__ for f, _ in t_mul.next_functions]
    e_leaves = [type(f).__name__ for f, _ in e_mul.next_functions]
    assert e_leaves == t_leaves == ["AccumulateGrad", "AccumulateGrad"]
    assert e_mul.next_functions[0][0].variable is ex
    assert repr(e_loss.grad_fn).startswith("<SumBackward0 object at 0x")
    z = ex * 2
    assert not z.retains_grad
    z.retain_grad()
    assert z.retains_grad and not ex.retains_grad


def test_numpy_of_a_tensor_that_requires_grad():
    t, e = torch.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        e.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        t.numpy()
    with torch.no_grad():
        assert t.numpy().tolist() == [1.0, 1.0]
    with ember.no_grad():
        assert e.numpy().tolist() == [1.0, 1.0]
    forced = e.numpy(force=True)
    assert forced.tolist() == t.numpy(force=True).tolist()
    forced[0] = 5.0  # force=True gives a copy here
    assert e.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------------- printing


def _printed_cases():
    rng = np.random.default_rng(0)
    return {
        "ints": [1, 2, 3], "wide ints": [-100, 5, 20000], "huge ints": [10**12, 3],
        "floats": [1.5, 2.25, -3.125], "whole floats": [1.0, 2.0, 3.0], "large": [1e10, 2.5, 3.0],
        "small": [1e-5, 2.5, 3.0], "tiny": [1e-8, 1e-9], "spread": [123456789.0, 0.001],
        "thousand": [10000.0, 1.5], "whole thousands": [1000.0, 2000.0],
        "bool": [True, False], "0-d float": 3.14159, "0-d int": 7, "0-d bool": True,
        "0-d small": 1e-7, "empty": [], "nan inf": [float("nan"), float("inf"), -float("inf"), 1.5],
        "all nan": [float("nan")], "neg zero": [-0.0, 0.0], "2-d": [[1.5, 2.0], [3.0, 4.25]],
        "3-d": np.arange(24.0).reshape(2, 3, 4).tolist(), "long ints": list(range(2000)),
        "long floats": (np.arange(2000) / 7).tolist(),
        "summarised 2-d": np.arange(1200.0).reshape(40, 30).tolist(),
        "summarised 3-d": rng.standard_normal((12, 10, 10)).tolist(),
        "wrapped row": (np.arange(30) * 1.37).tolist(), "negative": rng.standard_normal((3, 4)).tolist(),
    }


@pytest.mark.parametrize("case", sorted(_printed_cases()))
def test_str_and_repr_as_pytorch(case):
    data = _printed_cases()[case]
    t, e = torch.tensor(data), ember.tensor(data)
    assert repr(e) == repr(t)
    assert str(e) == str(t)


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.5, 2.0], dtype=m.float64),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([1.5, 2.0], dtype=m.float16),
    lambda m: m.zeros(0, 3),
    lambda m: m.zeros(0, dtype=m.int64),
    lambda m: m.zeros(2, 0, dtype=m.float64),
    lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda m: (m.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
    lambda m: m.tensor(np.arange(16.0) / 3, dtype=m.float64, requires_grad=True),
    lambda m: m.tensor(np.arange(7.0) * 1e-6, dtype=m.float64, requires_grad=True) * 2,
])
def test_dtype_and_autograd_suffixes_as_pytorch(make):
    assert repr(make(ember)) == repr(make(torch)).replace("torch.", "ember.")


def test_printing_follows_the_default_dtype():
    try:
        torch.set_default_dtype(torch.float64)
        ember.set_default_dtype(ember.float64)
        for make in (lambda m: m.tensor([1.5]), lambda m: m.tensor([1.5], dtype=m.float32),
                     lambda m: m.zeros(0)):
            assert repr(make(ember)) == repr(make(torch)).replace("torch.", "ember.")
    finally:
        torch.set_default_dtype(torch.float32)
        ember.set_default_dtype(ember.float32)


# ----------------------------------------------------------- more Tensor method names


@pytest.mark.parametrize("name", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_",
                                  "greater_equal_", "less_", "less_equal_", "not_equal_"])
def test_in_place_comparisons_write_in_the_tensor_s_dtype(name):
    values, other = [1.0, -2.0, 3.0, 0.5], [1.0, 0.0, 4.0, 0.5]
    t, e = torch.tensor(values), ember.tensor(values)
    assert getattr(e, name)(ember.tensor(other)) is e
    getattr(t, name)(torch.tensor(other))
    assert e.tolist() == t.tolist() and e.dtype == ember.float32


@pytest.mark.parametrize("name, shapes", [
    ("multiply_", [(3, 4), (4,)]), ("divide_", [(3, 4), (3, 4)]), ("true_divide_", [(3,), (3,)]),
    ("subtract_", [(3,), (3,)]), ("negative_", [(3,)]), ("tril_", [(3, 3)]), ("triu_", [(3, 3)]),
])
def test_in_place_aliases_as_pytorch(name, shapes):
    check(lambda m, x, *rest: getattr(x * 1, name)(*rest), shapes)


@pytest.mark.parametrize("fn, shapes, positive", [
    (lambda m, x: (x + 2.5).arccosh(), [(3,)], True), (lambda m, x: x.arcsinh(), [(3,)], False),
    (lambda m, x: (x * 0.4).arctanh(), [(3,)], False), (lambda m, x: m.arccosh(x + 2.5), [(3,)], True),
    (lambda m, x, y: x.ger(y), [(3,), (2,)], False), (lambda m, x, y: m.ger(x, y), [(3,), (2,)], False),
    (lambda m, x, y: x.vdot(y), [(3,), (3,)], False), (lambda m, x: x.adjoint(), [(2, 3, 4)], False),
    (lambda m, x: x.sum_to_size(1, 4), [(3, 4)], False),
    (lambda m, x: x.sum_to_size((3, 1)), [(3, 4)], False),
    (lambda m, x: x.split_with_sizes([1, 3], 1)[1], [(2, 4)], False),
])
def test_method_aliases_as_pytorch(fn, shapes, positive):
    check(fn, shapes, positive=positive)


def test_isreal_and_sum_to_size_errors():
    assert ember.ones(2).isreal().tolist() == torch.ones(2).isreal().tolist()
    with pytest.raises(RuntimeError, match="sum_to_size"):
        ember.ones(3, 4).sum_to_size(2, 4)


@pytest.mark.parametrize("name, args", [
    ("t_", ()), ("transpose_", (0, 1)), ("swapaxes_", (0, 1)), ("swapdims_", (1, 0)),
    ("unsqueeze_", (1,)), ("squeeze_", ()),
])
def test_in_place_view_changes_as_pytorch(name, args):
    data = np.arange(6.0).reshape(2, 3)
    t, e = torch.tensor(data), ember.tensor(data)
    assert getattr(e, name)(*args) is e
    getattr(t, name)(*args)
    assert e.shape == t.shape and e.tolist() == t.tolist()
    # on a tensor with history the gradient flows through the change, as in PyTorch
    (tx,), (ex,) = _pair(data, requires_grad=True)
    ty, ey = tx * 2, ex * 2
    getattr(ty, name)(*args)
    getattr(ey, name)(*args)
    upstream = np.arange(float(ey.numel())).reshape(tuple(ey.shape))
    ty.backward(torch.tensor(upstream))
    ey.backward(ember.tensor(upstream))
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(ember.ones(2, 3, requires_grad=True), name)(*args)


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((5, 2), True), ((5, 2), False),
                                         ((2, 4), False), ((3, 3, 3), False)])
def test_fill_diagonal_as_pytorch(shape, wrap):
    t, e = torch.zeros(shape), ember.zeros(shape)
    assert e.fill_diagonal_(7.0, wrap=wrap) is e
    assert e.tolist() == t.fill_diagonal_(7.0, wrap=wrap).tolist()
    check(lambda m, x: (x * 1).fill_diagonal_(2.0, wrap=wrap), [shape])


@pytest.mark.parametrize("size", [0, 2, 5])
def test_nonzero_static_as_pytorch(size):
    data = [[0, 1, 0], [2, 0, 3]]
    assert ember.tensor(data).nonzero_static(size=size).tolist() == \
        torch.tensor(data).nonzero_static(size=size).tolist()
    assert ember.tensor(data).nonzero_static(size=size, fill_value=9).tolist() == \
        torch.tensor(data).nonzero_static(size=size, fill_value=9).tolist()


def test_random_fills_have_pytorch_s_distributions():
    ember.manual_seed(0)
    n = 20000
    geometric = ember.empty(n).geometric_(0.25)
    assert float(geometric.min()) >= 1 and bool((geometric == geometric.round()).all())
    assert float(geometric.mean()) == pytest.approx(1 / 0.25, rel=0.05)
    log_normal = ember.empty(n, dtype=ember.float64).log_normal_(0.5, 0.3)
    assert float(log_normal.log().mean()) == pytest.approx(0.5, abs=0.02)
    assert float(log_normal.log().std()) == pytest.approx(0.3, rel=0.05)
    cauchy = ember.empty(n, dtype=ember.float64).cauchy_(2.0, 0.5)
    assert float(cauchy.median()) == pytest.approx(2.0, abs=0.05)
    quartiles = ember.quantile(cauchy, ember.tensor([0.25, 0.75], dtype=ember.float64))
    assert (quartiles[1] - quartiles[0]).item() == pytest.approx(1.0, rel=0.1)  # 2 * sigma
    with pytest.raises(RuntimeError, match="geometric_"):
        ember.empty(2).geometric_(0.0)
    with pytest.raises(RuntimeError, match="geometric_"):
        torch.empty(2).geometric_(0.0)
    with pytest.raises(RuntimeError, match="leaf"):
        ember.ones(2, requires_grad=True).cauchy_()
