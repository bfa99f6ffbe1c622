"""Training parity with PyTorch: the same hand-written training loop, run in ember and in PyTorch
from identical initial weights over identical batches of real MNIST images, gives the same loss at
every step and the same parameters at the end.

The loop is the plain PyTorch idiom (``DataLoader`` over a ``TensorDataset``, model, loss,
optimizer, ``zero_grad`` / ``backward`` / ``step``), written once and run with ``m`` bound to
``torch`` or to ``ember``. Both loaders get the same explicit list of index batches
(``batch_sampler``), so both frameworks see the same images in the same order; PyTorch's initial
``state_dict`` is copied into the ember model with ``load_state_dict``.

Tolerances (float32)
--------------------
The two frameworks compute the same formulas with different kernels (ember: NumPy/OpenBLAS
matmuls and im2col convolutions; PyTorch: its own GEMM and convolution kernels), so sums are
accumulated in a different order and each op may differ by a few float32 ulps (eps = 1.2e-7).
Training then feeds those differences back into the weights, so they grow slowly with the number
of steps. Measured on the development machine over 50 steps: the losses differ by at most 2e-7
(MLP, SGD) and 6e-7 (CNN, Adam) relatively. The test allows ``rtol = 1e-5 * (1 + step / 10)``
(1e-5 at the first step, 6e-5 at the 50th) plus ``atol = 1e-6``: at least 20 times what was
measured, so a different BLAS does not make it flaky, while a real difference in a formula is far
outside it: plain momentum against Nesterov momentum already differs by 6e-4 at the second step
and by 4e-3 at the tenth.

Final parameters: SGD moves each weight by ``lr * momentum-buffer``, which inherits the float32
rounding only (measured 1e-7); Adam divides by ``sqrt(v) + eps``, which amplifies tiny gradient
differences for weights whose gradient is near zero, so its final weights differ more (measured
1.7e-5 absolute, against a per-step move of up to ``lr`` = 1e-3). The limits are 1e-5 + 1e-4
relative for SGD and ``lr / 10`` absolute for Adam.

float64 shows that the math is the same, not merely close: a few steps in double precision agree
to 1e-10 relative in the loss, in every gradient and in every updated parameter (measured: 1e-15,
i.e. only the rounding of sums taken in another order).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import ember

N_IMAGES = 4096  # the first 4096 MNIST training images
STEPS = 50


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """PyTorch's intra-op threads spin-wait; on a small, busy machine (2 shared cores) two of them
    made its side of these loops 20 times slower. One thread keeps the file fast; the measured
    differences are the same with one thread or two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def mnist():
    """The first N_IMAGES MNIST training images (float32, N x 1 x 28 x 28, in [0, 1]) and labels."""
    ds = ember.datasets.MNIST(root=os.environ["EMBER_DATA"], train=True, download=False)
    x, y = ds.tensors()
    x, y = np.asarray(x)[:N_IMAGES].copy(), np.asarray(y)[:N_IMAGES].copy()
    assert x.dtype == np.float32 and x.shape == (N_IMAGES, 1, 28, 28)
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    return x, y


def index_batches(batch_size: int, steps: int, seed: int = 0) -> list[list[int]]:
    """``steps`` batches of distinct indices, in a shuffled order fixed by ``seed``."""
    perm = np.random.default_rng(seed).permutation(N_IMAGES)
    assert batch_size * steps <= N_IMAGES
    return [perm[i * batch_size:(i + 1) * batch_size].tolist() for i in range(steps)]


def mlp(m):
    nn = m.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64),
                         nn.ReLU(), nn.Linear(64, 10))


def cnn(m):
    nn = m.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),   # 8 x 13 x 13
                         nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 5 x 5
                         nn.Flatten(), nn.Linear(16 * 5 * 5, 64), nn.ReLU(), nn.Linear(64, 10))


CASES = {
    # name: (model builder, optimizer factory, batch size, learning rate)
    "mlp-sgd-momentum": (mlp, lambda m, params, lr: m.optim.SGD(params, lr=lr, momentum=0.9),
                         64, 0.05),
    "cnn-adam": (cnn, lambda m, params, lr: m.optim.Adam(params, lr=lr), 32, 1e-3),
}


def _np(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


def build_pair(case: str, dtype=np.float32, seed: int = 0):
    """The torch model and an ember model holding a copy of its initial weights."""
    builder = CASES[case][0]
    torch.manual_seed(seed)
    tmodel = builder(torch)
    emodel = builder(ember)
    if dtype == np.float64:
        tmodel = tmodel.double()
        emodel = emodel.double()  # before loading: load_state_dict copies into the existing dtype
    assert list(tmodel.state_dict()) == list(emodel.state_dict())
    emodel.load_state_dict({k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()})
    for k, v in emodel.state_dict().items():
        assert np.array_equal(_np(v), tmodel.state_dict()[k].numpy()), k
        assert _np(v).dtype == dtype, k
    return tmodel, emodel


def train(m, model, loader, optimizer, record_grads: bool = False):
    """The hand-written training loop, identical for both frameworks. Returns the per-step losses,
    the batches seen (as NumPy) and, when asked, every parameter's gradient at every step."""
    criterion = m.nn.CrossEntropyLoss()
    model.train()
    losses, seen, grads = [], [], []
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        if record_grads:
            grads.append({k: _np(p.grad).copy() for k, p in model.named_parameters()})
        optimizer.step()
        losses.append(loss.item())
        seen.append((_np(images), _np(labels)))
    return np.array(losses), seen, grads


def run_both(case: str, x: np.ndarray, y: np.ndarray, steps: int, dtype=np.float32,
             record_grads: bool = False):
    _, make_opt, batch_size, lr = CASES[case]
    tmodel, emodel = build_pair(case, dtype)
    initial = {k: v.numpy().copy() for k, v in tmodel.state_dict().items()}
    batches = index_batches(batch_size, steps)
    x, y = x.astype(dtype), y
    tloader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_sampler=batches)
    eloader = ember.utils.data.DataLoader(
        ember.utils.data.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)),
        batch_sampler=batches)
    t = train(torch, tmodel, tloader, make_opt(torch, tmodel.parameters(), lr), record_grads)
    e = train(ember, emodel, eloader, make_opt(ember, emodel.parameters(), lr), record_grads)
    # the same images, bit for bit, in the same order
    assert len(t[1]) == len(e[1]) == steps
    for (tx, ty), (ex, ey) in zip(t[1], e[1]):
        assert ex.dtype == tx.dtype and np.array_equal(ex, tx)
        assert ey.dtype == ty.dtype and np.array_equal(ey, ty)
    for k, v in emodel.state_dict().items():  # training moved every tensor: comparing means much
        assert not np.array_equal(_np(v), initial[k]), f"{case}: {k} did not change"
    return tmodel, emodel, t, e


@pytest.mark.parametrize("case", list(CASES))
def test_float32_training_matches_pytorch_step_by_step(mnist, case):
    tmodel, emodel, (tloss, _, _), (eloss, _, _) = run_both(case, *mnist, steps=STEPS)
    assert np.all(np.isfinite(eloss))
    # the run really trains: the loss falls well below log(10) = 2.30 of a guessing network
    assert tloss[0] > 2.0 and tloss[-10:].mean() < 0.8 * tloss[:5].mean()
    steps = np.arange(STEPS)
    rtol = 1e-5 * (1 + steps / 10)
    atol = 1e-6
    err = np.abs(eloss - tloss)
    bad = np.nonzero(err > atol + rtol * np.abs(tloss))[0]
    assert bad.size == 0, (
        f"{case}: ember's loss departs from PyTorch's at step {bad[0]}: "
        f"ember {eloss[bad[0]]!r} torch {tloss[bad[0]]!r}; "
        f"largest relative difference {np.max(err / np.abs(tloss)):.2e}")

    lr = CASES[case][3]
    tsd, esd = tmodel.state_dict(), emodel.state_dict()
    assert list(tsd) == list(esd)
    for k in tsd:
        t, e = tsd[k].numpy(), _np(esd[k])
        assert e.dtype == np.float32 and e.shape == t.shape
        if "adam" in case:
            np.testing.assert_allclose(e, t, rtol=0, atol=lr / 10, err_msg=f"{case}: {k}")
        else:
            np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5, err_msg=f"{case}: {k}")


@pytest.mark.parametrize("case", list(CASES))
def test_float64_steps_are_the_same_math(mnist, case):
    """Three steps in float64 (enough for the momentum buffer and Adam's moments and bias
    correction to take part): losses, gradients and parameters agree to 1e-10 relative."""
    tmodel, emodel, (tloss, _, tgrads), (eloss, _, egrads) = run_both(
        case, *mnist, steps=3, dtype=np.float64, record_grads=True)
    np.testing.assert_allclose(eloss, tloss, rtol=1e-10, atol=0)
    for step, (tg, eg) in enumerate(zip(tgrads, egrads)):
        assert list(tg) == list(eg)
        for k in tg:
            assert eg[k].dtype == np.float64
            np.testing.assert_allclose(eg[k], tg[k], rtol=1e-10, atol=1e-14 * np.abs(tg[k]).max(),
                                       err_msg=f"{case}: grad of {k} at step {step}")
    tsd, esd = tmodel.state_dict(), emodel.state_dict()
    for k in tsd:
        t, e = tsd[k].numpy(), _np(esd[k])
        assert e.dtype == np.float64
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-14, err_msg=f"{case}: {k}")
