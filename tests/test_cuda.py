"""ember on the GPU (CuPy), and what a machine without one sees.

The first part runs everywhere: without CuPy or a GPU, ``ember.cuda`` reports nothing available
and every request for the GPU raises the error that says what to install. The second part needs a
GPU (``pip install -e ".[cuda]"``) and is skipped without one; it compares every op family, two
training steps, ``fit``, optimizer state and checkpoints on CUDA with the CPU (and with PyTorch
CUDA where torch has it). Run it with::

    EMBER_TEST_CUDA=1 python -m pytest -q tests/test_cuda.py
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import nn
from helpers import F, check, cuda_wanted, torch_cuda

HAS_GPU = ember.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and an NVIDIA GPU (pip install -e '.[cuda]')")
no_gpu = pytest.mark.skipif(HAS_GPU, reason="checks the behaviour of a machine without a GPU")



# ------------------------------------------------------------------------- without a GPU


@no_gpu
def test_nothing_available_without_cupy():
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0


@no_gpu
@pytest.mark.parametrize("make", [
    lambda: ember.ones(2).to("cuda"),
    lambda: ember.ones(2).cuda(),
    lambda: ember.ones(2).to(ember.device("cuda:1")),
    lambda: ember.zeros(2, 3, device="cuda"),
    lambda: ember.randn(2, device="cuda"),
    lambda: ember.tensor([1.0], device="cuda"),
    lambda: nn.Linear(2, 2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: ember.cuda.synchronize(),
    lambda: ember.cuda.current_device(),
    lambda: ember.cuda.set_device(0),
    lambda: ember.cuda.manual_seed(0),
    lambda: ember.cuda.get_device_name(0),
    lambda: ember.cuda.memory_allocated(),
])
def test_gpu_requests_say_what_to_install(make):
    with pytest.raises(RuntimeError, match=r"CuPy.*pip install"):
        make()


@no_gpu
def test_fit_on_cuda_without_gpu_raises_install_hint():
    from ember.models import Sequential

    model = Sequential(nn.Linear(4, 3))
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.zeros((8, 4), np.float32)
    y = np.zeros(8, np.int64)
    with pytest.raises(RuntimeError, match="pip install"):
        model.fit(x, y, epochs=1, verbose=0, device="cuda")


@no_gpu
def test_load_map_location(tmp_path):
    pytest.importorskip("safetensors")
    path = str(tmp_path / "w.safetensors")
    sd = nn.Linear(3, 2).state_dict()
    ember.save(sd, path)
    back = ember.load(path, map_location="cpu")
    assert all(back[k].device == ember.device("cpu") for k in back)
    np.testing.assert_array_equal(back["weight"].numpy(), sd["weight"].numpy())
    with pytest.raises(RuntimeError, match="pip install"):
        ember.load(path, map_location="cuda")


def test_cpu_moves_are_free_and_cuda_flags():
    x = ember.ones(3, requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(ember.device("cpu")) is x
    assert x.is_cuda is False and x.device.type == "cpu"


def test_import_and_seeding_do_not_load_cupy():
    # a CPU user never pays for CuPy: not at import, not for manual_seed
    code = ("import sys, ember; ember.manual_seed(1); ember.randn(3); "
            "print('cupy' in sys.modules, 'ember.cuda' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=root)
    assert out.stdout.split() == ["False", "False"]


def test_check_cuda_switch(monkeypatch):
    monkeypatch.setenv("EMBER_TEST_CUDA", "0")
    assert cuda_wanted() is False
    assert cuda_wanted(False) is False
    monkeypatch.delenv("EMBER_TEST_CUDA")
    assert cuda_wanted() is HAS_GPU


@no_gpu
def test_gpu_benchmark_exits_clearly_without_gpu(capsys):
    from benchmarks import gpu

    assert gpu.main(["--quick"]) == 2
    assert "pip install" in capsys.readouterr().err


def test_device_strings():
    assert str(ember.device("cuda:1")) == "cuda:1"
    assert ember.device("cuda", 0) == "cuda:0"
    assert ember.device("cuda") != ember.device("cuda:0")  # as in torch: no index is not index 0
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type.*'gpu'"):
        ember.device("gpu")


# -------------------------------------------------------------------------------- on a GPU


@gpu
def test_round_trips_and_conversions():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = ember.tensor(a)
    g = x.to("cuda")
    assert g.is_cuda and g.device == ember.device("cuda:0") and g.dtype == ember.float32
    assert g.to("cuda") is g and g.cuda() is g  # already there
    np.testing.assert_array_equal(g.cpu().numpy(), a)
    assert g.cpu().device.type == "cpu"
    assert g.tolist() == a.tolist()
    assert g[1, 2].item() == 6.0 and float(g.sum()) == 66.0
    assert "device='cuda:0'" in repr(g)
    with pytest.raises(TypeError, match=r"cuda:0 device type tensor to numpy.*\.cpu\(\)"):
        g.numpy()
    np.testing.assert_array_equal(np.asarray(g), a)  # __array__ copies to the host
    for dt in (ember.float64, ember.float16, ember.int64, ember.int32, ember.uint8, ember.bool):
        t = ember.tensor(a).to(dt).cuda()
        assert t.dtype == dt and t.cpu().dtype == dt
        np.testing.assert_array_equal(t.cpu().numpy(), a.astype(dt.np))
    cp = ember.backend.cupy_module()
    w = ember.tensor(cp.ones((2, 2), dtype=cp.float32))  # a CuPy array stays on its GPU
    assert w.is_cuda and w.sum().item() == 4.0
    z = ember.zeros(2, 3, device="cuda")
    assert z.is_cuda and ember.ones_like(z).is_cuda and ember.randn(4, device="cuda").is_cuda


@gpu
def test_gradient_flows_back_across_devices():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x.cuda() * 2.0).sum()
    y.backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    w = ember.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (w.cpu() ** 2).sum().backward()
    assert w.grad.is_cuda
    np.testing.assert_allclose(w.grad.cpu().numpy(), [2.0, 4.0])


@gpu
def test_mixed_devices_error_names_both():
    a = ember.ones(3)
    b = ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match=r"same device.*(cpu.*cuda:0|cuda:0.*cpu)"):
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        ember.matmul(ember.ones(2, 2), ember.ones(2, 2, device="cuda"))
    lin = nn.Linear(3, 2).cuda()
    with pytest.raises(RuntimeError, match="same device"):
        lin(ember.ones(1, 3))


@gpu
def test_a_0d_cpu_tensor_joins_a_gpu_op_as_in_pytorch():
    # PyTorch treats a 0-d CPU tensor next to a GPU one as a number; its gradient stays on the CPU
    x = ember.ones(3, device="cuda", requires_grad=True)
    s = ember.tensor(2.0, requires_grad=True)
    y = ember.maximum(x * s, ember.tensor(0.5))
    assert y.is_cuda
    (s * x).sum().backward()
    assert s.grad.device.type == "cpu" and float(s.grad) == 3.0
    assert x.grad.is_cuda and np.allclose(x.grad.cpu().numpy(), 2.0)
    with pytest.raises(RuntimeError, match="same device"):
        x + ember.ones(1)  # one element but not 0-d: PyTorch refuses it too


@gpu
def test_cuda_module_api():
    assert ember.cuda.device_count() >= 1
    assert ember.cuda.current_device() == 0
    assert isinstance(ember.cuda.get_device_name(0), str) and ember.cuda.get_device_name()
    assert len(ember.cuda.get_device_capability()) == 2
    ember.cuda.synchronize()
    before = ember.cuda.memory_allocated()
    t = ember.zeros(1024, 1024, device="cuda")
    assert ember.cuda.memory_allocated() >= before + t.numel() * 4
    del t
    ember.cuda.empty_cache()
    with ember.cuda.device(0):
        assert ember.cuda.current_device() == 0


@gpu
def test_manual_seed_governs_gpu_dropout():
    x = ember.ones(1000, device="cuda")
    ember.manual_seed(7)
    a = F(ember).dropout(x, 0.5).cpu().numpy()
    ember.manual_seed(7)
    b = F(ember).dropout(x, 0.5).cpu().numpy()
    c = F(ember).dropout(x, 0.5).cpu().numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    assert set(np.unique(a)) <= {0.0, 2.0}
    # creation functions draw on the CPU stream and copy: one seed, same values on both devices
    ember.manual_seed(3)
    r_gpu = ember.randn(5, device="cuda").cpu().numpy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(r_gpu, ember.randn(5).numpy())


# One or more ops of every family through the same comparison the CPU tests use (values and
# gradients vs the CPU, vs PyTorch CUDA when present); cuda=True makes the GPU leg mandatory.
_IDX = np.array([[0, 2, 1, 2], [1, 1, 0, 2]], dtype=np.int64)
_OPS = {
    "elementwise": (lambda m, x, y: (x * y + x / (y.abs() + 1) - y) ** 2, [(3, 4), (4,)]),
    "pow_scalar": (lambda m, x: (x.abs() + 0.5) ** 1.5, [(2, 5)]),
    "unary": (lambda m, x: x.exp() + x.tanh() + x.sigmoid() + m.erf(x) + x.abs().log1p(), [(3, 4)]),
    "activation": (lambda m, x: F(m).gelu(x) + F(m).silu(x) + F(m).softmax(x, 1)
                   + F(m).log_softmax(x, 0) + F(m).relu(x), [(3, 5)]),
    "compare": (lambda m, x, y: m.where(x > y, x, y * 2) + m.maximum(x, y) + x.clamp(-1, 1),
                [(3, 4), (3, 4)]),
    "reduce": (lambda m, x: (x.sum(1), x.mean(0), x.amax(1), x.var(1), x.logsumexp(0),
                             x.norm(dim=1), x.cumsum(1)), [(3, 4)]),
    "argmax": (lambda m, x: x.argmax(1), [(3, 4)]),
    "linalg": (lambda m, x, y, z: (m.matmul(x, y), m.bmm(z, z.transpose(1, 2)),
                                   m.einsum("ij,jk->ik", x, y)), [(3, 4), (4, 2), (2, 3, 4)]),
    "shape": (lambda m, x, y: (m.cat([x, y], 0), m.stack([x, y], 1), x.permute(1, 0).reshape(2, 6),
                               x.unsqueeze(0).flatten(), m.split(x, 2, 1)[1]), [(3, 4), (3, 4)]),
    "pad": (lambda m, x: F(m).pad(x, (1, 2, 2, 1), mode="reflect") + 0, [(1, 2, 4, 5)]),
    "getitem": (lambda m, x: x[[0, 2, 2, 1], 1:] + x[x > 0].sum(), [(3, 4)]),
    "gather_scatter": (lambda m, x, i: (x.gather(1, i), m.zeros_like(x).scatter_add(1, i, x[:, :4]),
                                        x.index_select(1, i[0]), x.masked_fill(x > 1, 0.5)),
                       None),
    "conv2d": (lambda m, x, w, b: F(m).conv2d(x, w, b, stride=1, padding=1),
               [(2, 3, 6, 6), (4, 3, 3, 3), (4,)]),
    "conv1d": (lambda m, x, w: F(m).conv1d(x, w, stride=2), [(2, 3, 9), (4, 3, 3)]),
    "conv_transpose2d": (lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2), [(1, 2, 4, 4), (2, 3, 3, 3)]),
    "pool": (lambda m, x: (F(m).max_pool2d(x, 2), F(m).avg_pool2d(x, 2),
                           F(m).adaptive_avg_pool2d(x, (3, 2))), None),
    "norm_layers": (lambda m, x, w, b: (F(m).layer_norm(x, (5,), w, b),
                                        F(m).batch_norm(x, None, None, w, b, training=True)),
                    [(4, 5), (5,), (5,)]),
    "losses": (lambda m, x, t, p: (F(m).cross_entropy(x, t, label_smoothing=0.1),
                                   F(m).nll_loss(F(m).log_softmax(x, 1), t), F(m).mse_loss(x, p),
                                   F(m).binary_cross_entropy_with_logits(x, p.sigmoid())), None),
    "embedding": (lambda m, w, i: F(m).embedding(i, w), None),
}


def _inputs(name):
    rng = np.random.default_rng(5)
    if name == "gather_scatter":
        return [rng.uniform(-2, 2, (2, 5)), _IDX]
    if name == "pool":  # distinct values: max pooling ties are resolved differently on devices
        return [rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6).astype(np.float64) / 50]
    if name == "losses":
        return [rng.uniform(-2, 2, (6, 4)), rng.integers(0, 4, 6).astype(np.int64),
                rng.uniform(-2, 2, (6, 4))]
    if name == "embedding":
        return [rng.uniform(-1, 1, (5, 3)), np.array([[0, 4, 4], [2, 0, 1]], np.int64)]
    return None


@pytest.mark.parametrize("name", sorted(_OPS))
def test_op_families_on_cuda(name):
    # without a GPU this still runs the CPU leg, so the lambdas themselves are known to be right
    fn, shapes = _OPS[name]
    inputs = _inputs(name)
    check(fn, shapes, inputs=inputs, gradcheck_=False, cuda=HAS_GPU, atol=1e-6, rtol=1e-5,
          grad_atol=1e-6, grad_rtol=1e-5)


def _mlp():
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 3))


def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Linear(32, 10),
    )


def _train_steps(model, x, y, device, opt_cls, steps=3):
    model.to(device)
    opt = opt_cls(model.parameters())
    losses = []
    for _ in range(steps):
        loss = F(ember).cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, opt


@gpu
@pytest.mark.parametrize("arch,xshape", [("mlp", (16, 20)), ("cnn", (8, 1, 28, 28))])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_training_step_matches_cpu(arch, xshape, opt):
    opt_cls = {"sgd": lambda p: ember.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
               "adam": lambda p: ember.optim.Adam(p, lr=1e-3)}[opt]
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal(xshape).astype(np.float32))
    y = ember.tensor(rng.integers(0, 3, xshape[0]))
    ember.manual_seed(0)
    cpu_model = _mlp() if arch == "mlp" else _cnn()
    gpu_model = _mlp() if arch == "mlp" else _cnn()
    gpu_model.load_state_dict(cpu_model.state_dict())
    cpu_losses, _ = _train_steps(cpu_model, x, y, "cpu", opt_cls)
    gpu_losses, gpu_opt = _train_steps(gpu_model, x, y, "cuda", opt_cls)
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-4, atol=1e-5)
    for (k, a), b in zip(cpu_model.state_dict().items(), gpu_model.state_dict().values()):
        assert b.is_cuda, k
        np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)
    # optimizer state lives next to its parameters
    for p in gpu_model.parameters():
        for v in gpu_opt.state[p].values():
            if isinstance(v, ember.Tensor):
                assert v.is_cuda


@gpu
def test_optimizer_state_dict_round_trip_on_gpu():
    model = _mlp().cuda()
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    x = ember.randn(4, 20, device="cuda")
    model(x).sum().backward()
    opt.step()
    sd = opt.state_dict()
    model2 = _mlp().cuda()
    model2.load_state_dict(model.state_dict())
    opt2 = ember.optim.Adam(model2.parameters(), lr=1e-2)
    opt2.load_state_dict(sd)
    for p in model2.parameters():
        for v in opt2.state[p].values():
            if isinstance(v, ember.Tensor):
                assert v.is_cuda


@gpu
def test_fit_evaluate_predict_on_cuda():
    from ember.models import Sequential

    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0).astype(np.int64)
    results = {}
    for dev in ("cpu", "cuda"):
        ember.manual_seed(0)
        model = Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
        model.compile(ember.optim.SGD(model.parameters(), lr=0.1), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        hist = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0, device=dev,
                         validation_data=(x[:16], y[:16]))
        assert all(p.device.type == dev for p in model.parameters())
        pred = model.predict(x, verbose=0)
        assert isinstance(pred, np.ndarray)  # predictions come back to the host, as in Keras
        loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        results[dev] = (hist.history["loss"], hist.history["val_loss"], pred, loss)
    for a, b in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-5)


@gpu
def test_fit_with_dataloader_moves_batches_to_model_device():
    from ember.models import Sequential
    from ember.utils.data import DataLoader, TensorDataset

    x = ember.randn(32, 4)
    y = ember.randint(0, 3, (32,))
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    assert next(iter(loader))[0].device.type == "cpu"  # loaders yield CPU tensors
    model = Sequential(nn.Linear(4, 3)).cuda()
    model.compile("adam", "sparse_categorical_crossentropy")
    hist = model.fit(loader, epochs=2, verbose=0)  # the parameters' device
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["loss"]).all()


@gpu
def test_save_on_gpu_load_on_cpu_and_back(tmp_path):
    pytest.importorskip("safetensors")
    model = _cnn().cuda()
    path = str(tmp_path / "cnn.safetensors")
    ember.save(model.state_dict(), path)
    on_cpu = ember.load(path, map_location="cpu")
    on_gpu = ember.load(path, map_location="cuda")
    for k, v in model.state_dict().items():
        assert on_cpu[k].device.type == "cpu" and on_gpu[k].is_cuda
        np.testing.assert_array_equal(on_cpu[k].numpy(), v.cpu().numpy())
        np.testing.assert_array_equal(on_gpu[k].cpu().numpy(), v.cpu().numpy())
    fresh = _cnn()
    fresh.load_state_dict(on_cpu)
    assert all(p.device.type == "cpu" for p in fresh.parameters())


@gpu
def test_check_runs_cuda_leg_with_torch_when_available():
    # documents which comparisons this machine makes: CPU always, torch CUDA when torch has it
    assert cuda_wanted(True) is True
    check(lambda m, x: (x * 3).sum(), [(2, 2)], cuda=True, gradcheck_=False)
    assert isinstance(torch_cuda(), bool)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([os.path.abspath(__file__), "-q"]))
