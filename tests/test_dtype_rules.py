"""Dtype rules as PyTorch's for layers and matmul-like ops: a float64 input to float32 weights is
refused with both dtypes named, instead of running and giving a float32 weight a float64 result
and gradient; ``fit`` still casts float64 NumPy input to the default dtype, as documented
(issue 11)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.models import Sequential


def _r(m, *shape, double=False):
    a = np.random.default_rng(len(shape)).standard_normal(shape)
    return m.tensor(a, dtype=m.float64 if double else m.float32)


# Each case: a float64 operand meeting float32 ones; the word ember's message must name the op by.
MIXED = {
    "Linear": (lambda m: m.nn.Linear(3, 4)(_r(m, 2, 3, double=True)), "linear"),
    "Linear_no_bias": (lambda m: m.nn.Linear(3, 4, bias=False)(_r(m, 2, 3, double=True)), "linear"),
    "F.linear": (lambda m: m.nn.functional.linear(_r(m, 2, 3, double=True), _r(m, 4, 3)), "linear"),
    "F.linear_bias": (lambda m: m.nn.functional.linear(_r(m, 2, 3, double=True),
                                                       _r(m, 4, 3, double=True), _r(m, 4)),
                      "linear"),
    "matmul": (lambda m: _r(m, 2, 3, double=True) @ _r(m, 3, 4), "matmul"),
    "matmul_batched": (lambda m: m.matmul(_r(m, 2, 2, 3, double=True), _r(m, 3, 4)), "matmul"),
    "matmul_vector": (lambda m: _r(m, 3, double=True) @ _r(m, 3, 4), "matmul"),
    "mm": (lambda m: m.mm(_r(m, 2, 3), _r(m, 3, 4, double=True)), "mm"),
    "bmm": (lambda m: m.bmm(_r(m, 1, 2, 3, double=True), _r(m, 1, 3, 4)), "bmm"),
    "addmm": (lambda m: m.addmm(_r(m, 4), _r(m, 2, 3, double=True), _r(m, 3, 4)), "addmm"),
    "bilinear": (lambda m: m.nn.functional.bilinear(_r(m, 2, 3, double=True),
                                                    _r(m, 2, 3, double=True), _r(m, 5, 3, 3)),
                 "bilinear"),
    "Bilinear": (lambda m: m.nn.Bilinear(3, 3, 5)(_r(m, 2, 3, double=True), _r(m, 2, 3, double=True)),
                 "bilinear"),
    "Conv1d": (lambda m: m.nn.Conv1d(1, 2, 3)(_r(m, 1, 1, 5, double=True)), "conv1d"),
    "Conv2d": (lambda m: m.nn.Conv2d(1, 2, 3)(_r(m, 1, 1, 4, 4, double=True)), "conv2d"),
    "F.conv2d": (lambda m: m.nn.functional.conv2d(_r(m, 1, 1, 4, 4, double=True), _r(m, 2, 1, 3, 3)),
                 "conv2d"),
    "ConvTranspose2d": (lambda m: m.nn.ConvTranspose2d(1, 2, 3)(_r(m, 1, 1, 4, 4, double=True)),
                        "conv_transpose2d"),
    "LayerNorm": (lambda m: m.nn.LayerNorm(4)(_r(m, 2, 3, 4, double=True)), "layer_norm"),
    "BatchNorm1d": (lambda m: m.nn.BatchNorm1d(3)(_r(m, 4, 3, double=True)), "batch_norm"),
    "BatchNorm2d_eval": (lambda m: m.nn.BatchNorm2d(3).eval()(_r(m, 2, 3, 2, 2, double=True)),
                         "batch_norm"),
    "GroupNorm": (lambda m: m.nn.GroupNorm(1, 3)(_r(m, 2, 3, 4, double=True)), "group_norm"),
    "InstanceNorm2d": (lambda m: m.nn.InstanceNorm2d(3, affine=True)(_r(m, 2, 3, 4, 4, double=True)),
                       "instance_norm"),
}


@pytest.mark.parametrize("case", list(MIXED))
def test_mixed_float_dtypes_are_refused_like_torch(case):
    fn, name = MIXED[case]
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(RuntimeError) as info:
        fn(ember)
    msg = str(info.value)
    assert name in msg, msg
    # both dtypes named, in PyTorch's words (Double/Float) or ember's (float64/float32)
    assert ("Double" in msg or "float64" in msg) and ("Float" in msg or "float32" in msg), msg


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_refuse_another_input_dtype_like_torch(layer):
    for m in (torch, ember):
        with pytest.raises(ValueError, match="RNN input dtype .*float64.* does not match weight "
                                             "dtype .*float32"):
            getattr(m.nn, layer)(3, 4)(_r(m, 5, 2, 3, double=True))


@pytest.mark.parametrize("case", ["Linear", "matmul", "mm", "addmm"])
def test_product_refusals_use_torchs_wording(case):
    """"mat1 and mat2 must have the same dtype, but got Double and Float", as PyTorch's Linear
    says, followed by the shapes and the fix."""
    fn, _ = MIXED[case]
    with pytest.raises(RuntimeError, match="must have the same dtype, but got (Double and Float|"
                                           "Float and Double)"):
        fn(ember)


def test_linear_bias_of_another_dtype_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="self and mat2 must have the same dtype, but got Float "
                                           "and Double"):
        torch.nn.functional.linear(_r(torch, 2, 3, double=True), _r(torch, 4, 3, double=True),
                                   _r(torch, 4))
    with pytest.raises(RuntimeError, match="self and mat2 must have the same dtype, but got Float "
                                           "and Double"):
        MIXED["F.linear_bias"][0](ember)


def test_no_float64_gradient_reaches_a_float32_weight():
    """The symptom: a float64 batch through a float32 Linear used to run and leave a float64
    ``.grad`` on the float32 weight. Now it stops at the forward, and the same-dtype step is
    float32 throughout."""
    layer = ember.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="Double and Float"):
        layer(ember.tensor(np.ones((4, 3))))
    assert layer.weight.grad is None
    layer(ember.tensor(np.ones((4, 3)), dtype=ember.float32)).sum().backward()
    assert layer.weight.grad.dtype == ember.float32


def test_same_dtype_layers_still_match_torch_in_float64():
    x = np.random.default_rng(3).standard_normal((4, 3))
    for m in (torch, ember):
        m.manual_seed(0)
    t_layer = torch.nn.Linear(3, 2).double()
    e_layer = ember.nn.Linear(3, 2).to(ember.float64)
    with ember.no_grad():
        e_layer.weight.copy_(ember.tensor(t_layer.weight.detach().numpy()))
        e_layer.bias.copy_(ember.tensor(t_layer.bias.detach().numpy()))
    np.testing.assert_allclose(e_layer(ember.tensor(x)).detach().numpy(),
                               t_layer(torch.tensor(x)).detach().numpy(), rtol=1e-12)


def test_fit_casts_float64_numpy_input_to_the_default_dtype():
    """As documented (data_adapter.as_array): NumPy's float64 features and targets become the
    default float dtype, so a float32 model trains on them (no dtype error) and stays float32."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3))  # float64
    y = x @ np.array([1.0, -2.0, 0.5])[:, None]
    assert x.dtype == y.dtype == np.float64
    ember.manual_seed(0)
    model = Sequential(ember.nn.Linear(3, 1))
    model.compile(ember.optim.SGD(model.parameters(), lr=0.1), "mse")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for p in model.parameters():
        assert p.dtype == ember.float32
    assert model.predict(x, verbose=0).dtype == np.float32
    assert np.isfinite(model.evaluate(x, y, verbose=0))
