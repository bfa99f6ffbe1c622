"""Convolution and pooling over blocks of images (``ember/ops/conv.py``): whatever the block size,
the forward, input and weight gradients that combine many blocks give PyTorch's values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import ember
import ember.nn.functional as F
import ember.ops.conv as conv


def _values_and_grads(fw, fn, arrays):
    """``fn``'s output and its inputs' gradients in framework ``fw`` (ember or torch), for a
    cosine-shaped upstream gradient."""
    leaves = [fw.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(fw.tensor(np.cos(np.arange(out.numel())).reshape(out.shape)
                           .astype(arrays[0].dtype)))
    return [out.detach().numpy()] + [t.grad.numpy() for t in leaves]


rng = np.random.default_rng(0)
# Shapes with many blocks of images at the default 512 KiB blocks.
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


@pytest.mark.parametrize("block_bytes", [1, None])
@pytest.mark.parametrize("case", sorted(CASES))
def test_any_block_size_gives_torch_values(monkeypatch, case, block_bytes):
    """Blocks of one image each, or the default sizes (float64)."""
    ember_fn, torch_fn, arrays = CASES[case]
    if block_bytes is not None:
        monkeypatch.setattr(conv, "_BLOCK_BYTES", block_bytes)
        monkeypatch.setattr(conv, "_GEMM_BLOCK_BYTES", block_bytes)
    for got, want in zip(_values_and_grads(ember, ember_fn, arrays),
                         _values_and_grads(torch, torch_fn, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


@pytest.mark.parametrize("threads", [1, 2])
def test_the_products_blocks_follow_the_blas_threads(monkeypatch, threads):
    """The forward's, input, weight and bias gradients' blocks: 512 KiB with one BLAS thread (in
    the cache), 16 MiB with several (products big enough for OpenBLAS to split)."""
    monkeypatch.setattr(conv, "blas_thread_count", lambda: threads)
    want = conv._BLOCK_BYTES if threads == 1 else conv._GEMM_BLOCK_BYTES
    seen = []
    real = conv._image_blocks
    monkeypatch.setattr(conv, "_image_blocks",
                        lambda n, per, xp, target=conv._BLOCK_BYTES: seen.append(target) or
                        real(n, per, xp, target))
    x = ember.randn(4, 3, 10, 10, dtype=ember.float64, requires_grad=True)
    w = ember.randn(5, 3, 3, 3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(5, dtype=ember.float64, requires_grad=True)
    out = F.conv2d(x, w, b)
    out.backward(ember.randn(*out.shape, dtype=ember.float64))  # a gradient with rows to sum
    assert sorted(seen) == [want] * 4  # forward, input, weight and bias gradients


def test_blas_thread_count_reads_the_blas():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.threads.blas_thread_count() == 1
        ember.set_num_threads(2)
        assert ember.threads.blas_thread_count() in (1, 2)  # 1 where the BLAS has no pool
    finally:
        ember.set_num_threads(before)
