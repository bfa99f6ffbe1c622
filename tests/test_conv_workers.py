"""Convolution and pooling on the worker threads (``ember/_workers.py``): the same values bit for
bit as the serial loop over the same blocks, and PyTorch's values; errors and the BLAS thread
count survive the pool."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import ember
import ember._workers as workers
import ember.nn.functional as F
import ember.ops.conv as conv


@pytest.fixture
def two_threads(monkeypatch):
    """The pool's path with two threads, whatever the machine's cores and default thread count."""
    if not workers._blas():
        pytest.skip("no BLAS whose thread count threadpoolctl can set")
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    monkeypatch.setattr(workers, "thread_count", lambda: 2)
    monkeypatch.setattr(workers, "ENABLED", True)
    # the products' blocks as small as the element-wise passes' ones, so that CASES have many
    monkeypatch.setattr(conv, "_GEMM_BLOCK_BYTES", conv._BLOCK_BYTES)
    pool_runs = []
    real_run = workers._run
    monkeypatch.setattr(workers, "_run", lambda *a: pool_runs.append(1) or real_run(*a))
    yield pool_runs
    ember.set_num_threads(before)


def _run(fn, arrays, enabled):
    before, workers.ENABLED = workers.ENABLED, enabled
    try:
        leaves = [ember.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*leaves)
        out.backward(ember.tensor(np.cos(np.arange(out.numel())).reshape(out.shape)
                                  .astype(arrays[0].dtype)))
        return [out.detach().numpy()] + [t.grad.numpy() for t in leaves]
    finally:
        workers.ENABLED = before


def _torch(fn, arrays):
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(torch.tensor(np.cos(np.arange(out.numel())).reshape(out.shape)
                              .astype(arrays[0].dtype)))
    return [out.detach().numpy()] + [t.grad.numpy() for t in leaves]


rng = np.random.default_rng(0)
# Shapes with many blocks of images (patches of several hundred KiB per block).
CASES = {
    "conv rows (channels-last input)": (
        lambda x, w, b: F.conv2d(F.relu(F.conv2d(x, w[:8, :1], None)), w, b, padding=1),
        lambda x, w, b: TF.conv2d(TF.relu(TF.conv2d(x, w[:8, :1], None)), w, b, padding=1),
        [rng.standard_normal((24, 1, 30, 30)), rng.standard_normal((8, 8, 3, 3)),
         rng.standard_normal(8)]),
    "conv channels (one input channel), stride 2": (
        lambda x, w, b: F.conv2d(x, w, b, stride=2),
        lambda x, w, b: TF.conv2d(x, w, b, stride=2),
        [rng.standard_normal((40, 1, 64, 64)), rng.standard_normal((16, 1, 5, 5)),
         rng.standard_normal(16)]),
    "conv with a channels-first gradient": (
        lambda x, w, b: F.conv2d(x, w, b).contiguous() * 1.5,
        lambda x, w, b: TF.conv2d(x, w, b).contiguous() * 1.5,
        [rng.standard_normal((24, 3, 40, 40)), rng.standard_normal((8, 3, 3, 3)),
         rng.standard_normal(8)]),
    "conv groups": (
        lambda x, w, b: F.conv2d(x, w, b, groups=2, padding=2, dilation=2),
        lambda x, w, b: TF.conv2d(x, w, b, groups=2, padding=2, dilation=2),
        [rng.standard_normal((24, 4, 40, 40)), rng.standard_normal((6, 2, 3, 3)),
         rng.standard_normal(6)]),
    "conv_transpose": (
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1),
        [rng.standard_normal((24, 4, 30, 30)), rng.standard_normal((4, 6, 3, 3)),
         rng.standard_normal(6)]),
    "max_pool2d after conv": (
        lambda x, w: F.max_pool2d(F.conv2d(x, w), 2),
        lambda x, w: TF.max_pool2d(TF.conv2d(x, w), 2),
        [rng.standard_normal((32, 1, 50, 50)), rng.standard_normal((16, 1, 3, 3))]),
    "max_pool2d overlapping, padded": (
        lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
        lambda x: TF.max_pool2d(x, 3, stride=2, padding=1),
        [rng.standard_normal((32, 8, 40, 40))]),
    "avg_pool2d": (
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1),
        lambda x: TF.avg_pool2d(x, 3, stride=2, padding=1),
        [rng.standard_normal((32, 8, 40, 40))]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_pool_path_is_bitwise_the_serial_path_and_matches_torch(two_threads, case, dtype):
    ember_fn, torch_fn, arrays = CASES[case]
    arrays = [a.astype(dtype) for a in arrays]
    threaded = _run(ember_fn, arrays, True)
    assert two_threads, "the threaded path did not run"
    serial = _run(ember_fn, arrays, False)
    for got, same in zip(threaded, serial):
        np.testing.assert_array_equal(got, same)
    if dtype == np.float64:  # float32 sums of thousands of terms only agree to their rounding
        for got, want in zip(threaded, _torch(torch_fn, arrays)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


@pytest.mark.parametrize("case", sorted(CASES))
def test_any_block_size_gives_torch_values(monkeypatch, case):
    """Blocks of one image each, serial: the forward, input and weight gradients that combine many
    blocks still give PyTorch's values (float64)."""
    ember_fn, torch_fn, arrays = CASES[case]
    monkeypatch.setattr(conv, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(conv, "_GEMM_BLOCK_BYTES", 1)
    for got, want in zip(_run(ember_fn, arrays, False), _torch(torch_fn, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_blocks_run_on_several_threads_and_blas_count_is_restored(two_threads):
    import threading

    seen = set()

    def block(start, stop):
        seen.add(threading.get_ident())
        a = np.ones((300, 300))
        (a @ a).sum()  # some GIL-free work, so that the other thread gets blocks too
        return start * 10 + stop

    blocks = [(i, i + 1) for i in range(64)]
    assert workers.map_blocks(block, blocks, np) == [i * 10 + i + 1 for i in range(64)]
    assert len(seen) == 2
    assert ember.get_num_threads() == 2


def test_an_error_in_a_block_reaches_the_caller(two_threads):
    def block(start, stop):
        if start == 5:
            raise ValueError("block 5 failed")
        return start

    with pytest.raises(ValueError, match="block 5 failed"):
        workers.map_blocks(block, [(i, i + 1) for i in range(8)], np)
    assert ember.get_num_threads() == 2
    # the pool still works afterwards
    assert workers.map_blocks(lambda s, e: s, [(i, i + 1) for i in range(8)], np) == list(range(8))


def test_off_by_default_unless_asked():
    import os
    import subprocess
    import sys

    code = "import ember._workers as w; print(w.ENABLED)"
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    env.pop("EMBER_WORKER_THREADS", None)
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    on = subprocess.run([sys.executable, "-c", code], env={**env, "EMBER_WORKER_THREADS": "1"},
                        capture_output=True, text=True)
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True")


def test_one_thread_or_one_block_stays_on_the_calling_thread(monkeypatch):
    import threading

    monkeypatch.setattr(workers, "ENABLED", True)

    caller = threading.get_ident()
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert workers.map_blocks(lambda s, e: threading.get_ident(), [(0, 1), (1, 2)], np) == \
            [caller, caller]
    finally:
        ember.set_num_threads(before)
    assert workers.map_blocks(lambda s, e: threading.get_ident(), [(0, 1)], np) == [caller]
