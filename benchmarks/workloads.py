"""The benchmarked workloads, written once per framework against the same (PyTorch) API.

Every builder imports its framework lazily, so a subprocess that measures one framework's memory
never loads the other one. A builder returns a ``step()`` callable that runs one unit of work
(one training step, or one forward+backward of the op chain).
"""

from __future__ import annotations

import numpy as np

MLP_SIZES = (784, 512, 256, 10)
MLP_BATCH = 128
CNN_BATCH = 64
CHAIN_LENGTH = 200


def framework(name: str):
    """The ``ember`` or ``torch`` module."""
    if name == "ember":
        import ember

        return ember
    if name == "torch":
        import torch

        return torch
    raise ValueError(f"unknown framework {name!r}")


def _as_tensor(fw, array):
    """Wrap a NumPy array for ``fw`` without copying when possible."""
    return fw.from_numpy(array)


def mlp_flops_per_step(batch: int = MLP_BATCH, sizes=MLP_SIZES) -> int:
    """Matmul FLOPs of one training step of the MLP (forward + backward).

    Forward: ``2*B*in*out`` per layer. Backward: the same again for every weight gradient, and once
    more for every input gradient except the first layer's (the data needs no gradient).
    """
    per_layer = [2 * batch * i * o for i, o in zip(sizes[:-1], sizes[1:])]
    return sum(per_layer) * 2 + sum(per_layer[1:])


def _train_step(fw, model, x, y, lr):
    nn = fw.nn
    loss_fn = nn.CrossEntropyLoss()
    opt = fw.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    def step():
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return step


def build_mlp(fw_name: str, seed: int = 0, batch: int = MLP_BATCH):
    """One SGD(momentum) training step of the 784-512-256-10 ReLU MLP on a resident batch."""
    fw = framework(fw_name)
    fw.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = _as_tensor(fw, rng.standard_normal((batch, MLP_SIZES[0]), dtype=np.float32))
    y = _as_tensor(fw, rng.integers(0, MLP_SIZES[-1], size=batch).astype(np.int64))
    nn = fw.nn
    layers = []
    for i, (n_in, n_out) in enumerate(zip(MLP_SIZES[:-1], MLP_SIZES[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(MLP_SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    return _train_step(fw, model, x, y, lr=0.01)


def build_cnn(fw_name: str, seed: int = 0, batch: int = CNN_BATCH):
    """One SGD(momentum) training step of the small MNIST-shaped CNN on a resident batch."""
    fw = framework(fw_name)
    fw.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = _as_tensor(fw, rng.standard_normal((batch, 1, 28, 28), dtype=np.float32))
    y = _as_tensor(fw, rng.integers(0, 10, size=batch).astype(np.int64))
    nn = fw.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )
    return _train_step(fw, model, x, y, lr=0.01)


def build_chain(fw_name: str, shape=(8,), length: int = CHAIN_LENGTH, seed: int = 0):
    """Forward and backward of a chain of ``length`` tiny elementwise ops (values stay bounded).

    The mix covers binary ops with a tensor, binary ops with a Python number, and unary ops.
    """
    fw = framework(fw_name)
    rng = np.random.default_rng(seed)
    a = _as_tensor(fw, rng.uniform(0.1, 0.9, size=shape).astype(np.float32)).requires_grad_()
    b = _as_tensor(fw, rng.uniform(0.1, 0.9, size=shape).astype(np.float32)).requires_grad_()
    seed_grad = _as_tensor(fw, np.ones(shape, dtype=np.float32))
    cycle = (
        lambda x: x * b,
        lambda x: x.sin(),
        lambda x: x + a,
        lambda x: x.tanh(),
        lambda x: x * 0.5,
        lambda x: x.exp(),
        lambda x: x - b,
        lambda x: x.sigmoid(),
    )
    ops = [cycle[i % len(cycle)] for i in range(length)]

    def step():
        x = a
        for op in ops:
            x = op(x)
        x.backward(seed_grad)
        a.grad = None
        b.grad = None
        return x

    return step


def build_mlp_numpy(seed: int = 0, batch: int = MLP_BATCH):
    """The MLP training step of :func:`build_mlp` written directly in NumPy: forward, backward
    and SGD with momentum by hand, no framework at all. It is the ceiling for any framework built
    on NumPy's BLAS and ufuncs (the gap to PyTorch that no framework code can close)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, MLP_SIZES[0]), dtype=np.float32)
    y = rng.integers(0, MLP_SIZES[-1], size=batch)
    weights = [(rng.uniform(-1, 1, (o, i)) / np.sqrt(i)).astype(np.float32)
               for i, o in zip(MLP_SIZES[:-1], MLP_SIZES[1:])]
    biases = [np.zeros(o, np.float32) for o in MLP_SIZES[1:]]
    params = weights + biases
    buffers = [np.zeros_like(p) for p in params]
    onehot = np.eye(MLP_SIZES[-1], dtype=np.float32)[y]
    last = len(weights) - 1

    def step():
        acts = [x]
        h = x
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w.T
            h += b
            if i < last:
                h = np.maximum(h, 0)
            acts.append(h)
        p = np.exp(h - h.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / batch
        grads = [None] * len(params)
        for i in range(last, -1, -1):
            grads[i] = g.T @ acts[i]
            grads[len(weights) + i] = g.sum(0)
            if i > 0:
                g = (g @ weights[i]) * (acts[i] > 0)
        for param, grad, buf in zip(params, grads, buffers):
            buf *= 0.9
            buf += grad
            param -= 0.01 * buf

    step.params, step.data = params, (x, y)  # for the test that checks it against ember
    return step


def build_gemm(fw_name: str, seed: int = 0):
    """The MLP's largest matrix product alone (128x784 @ 784x512, the first layer's forward), with
    no autograd: how fast each framework's BLAS is here, apart from everything ember does."""
    fw = framework(fw_name)
    rng = np.random.default_rng(seed)
    x = _as_tensor(fw, rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32))
    w = _as_tensor(fw, rng.standard_normal((MLP_SIZES[1], MLP_SIZES[0])).astype(np.float32))
    return lambda: x @ w.T


def build_mlp_ceiling(fw_name: str, seed: int = 0):
    """For ``"ember"``, the MLP step in raw NumPy (:func:`build_mlp_numpy`: no framework imported);
    for ``"torch"``, PyTorch's MLP step: the ceiling of a NumPy framework against PyTorch."""
    return build_mlp_numpy(seed) if fw_name == "ember" else build_mlp(fw_name, seed)


BUILDERS = {"mlp": build_mlp, "cnn": build_cnn, "chain": build_chain, "gemm": build_gemm,
            "mlp_numpy": build_mlp_ceiling}
