"""More of ``torch.nn.functional``: ``glu``, ``rrelu``, distances, ``rms_norm``,
``local_response_norm``, ``feature_alpha_dropout``, ``embedding_bag`` and the remaining losses
(margin, triplet, multi-margin, multilabel, Poisson/Gaussian NLL, hinge embedding, CTC).

Each is written with differentiable ember ops, so gradients (and double backward) come from the
ops it is made of; constant masks and index plans are built on the host.
"""

from __future__ import annotations

import math

import numpy as np

from ember import backend
from ember.backend import get_array_module
from ember.ops import nn_ops
from ember.ops.activation import logsigmoid
from ember.ops.compare import where
from ember.ops.indexing import index_add, index_select
from ember.ops.reduce import logsumexp
from ember.ops.shape import cat, stack
from ember.tensor import Tensor


def _const(array, like: Tensor) -> Tensor:
    """A constant array as a tensor on ``like``'s device."""
    return Tensor._wrap(backend.move_array(np.asarray(array), like.device))


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy(size_average, reduce, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _host(t) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


# --------------------------------------------------------------------------------- activations


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky relu: negative inputs scaled by a slope drawn uniformly from
    ``[lower, upper]`` per element in training, by ``(lower + upper) / 2`` otherwise."""
    if training:
        shape = tuple(input.shape)
        slopes = nn_ops._random.get_rng(None).uniform(lower, upper, size=shape)
        slopes = slopes.astype(input._data.dtype)
        slope = _const(slopes, input)
    else:
        slope = (lower + upper) / 2
    out = where(input >= 0, input, input * slope)
    if inplace:
        input.data = out.detach()
        return input
    return out


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


# ----------------------------------------------------------------------------------- distances


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension (broadcasting ``x1`` and ``x2``)."""
    d = x1 - x2 + eps
    if d.ndim == 0:
        d = d.reshape(1)
    if p == math.inf:
        return d.abs().amax(-1, keepdim=keepdim)
    if p == 0:
        return (d != 0).to(d.dtype).sum(-1, keepdim=keepdim)
    return (d.abs() ** p).sum(-1, keepdim=keepdim) ** (1.0 / p)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The ``p``-norm distances between every pair of rows of ``(N, M)``, upper triangle
    flattened (``N·(N-1)/2`` values)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    a = index_select(input, 0, _const(i.astype(np.int64), input))
    b = index_select(input, 0, _const(j.astype(np.int64), input))
    return pairwise_distance(a, b, p, 0.0)


# ------------------------------------------------------------------------------- normalisation


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``input / sqrt(mean(input²) + eps)`` over the trailing ``normalized_shape``, times
    ``weight``; ``eps`` defaults to the dtype's machine epsilon."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input.ndim - k:]) != shape or k > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*{', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Divide each value by ``(k + alpha · mean of squares over `size` neighbouring
    channels)^beta`` (AlexNet's normalisation; the window is zero-padded at the ends)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    zeros_before = size // 2
    zeros_after = (size - 1) // 2
    pad = [(0, 0)] * input.ndim
    pad[1] = (zeros_before, zeros_after)
    from ember.ops.shape import pad as _pad  # the generic pad, on the channel dimension

    flat = []
    for d in range(input.ndim - 1, -1, -1):
        flat += list(pad[d])
    padded = _pad(sq, tuple(flat))
    window = padded[:, 0:c]
    for s in range(1, size):
        window = window + padded[:, s:s + c]
    div = (window * (alpha / size) + k) ** beta
    return input / div


# -------------------------------------------------------------------------------------- dropout


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """:func:`alpha_dropout` that drops whole channels of ``(N, C, *)``: a dropped channel takes
    SELU's negative saturation value, and the affine correction keeps mean and variance."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise RuntimeError(f"feature_alpha_dropout: expected an input with at least 2 dimensions "
                           f"(N, C, ...), got shape {tuple(input.shape)}")
    xp = get_array_module(input._data)
    dt = input._data.dtype
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    if p == 1.0:
        return input * 0.0
    alpha = -nn_ops._SELU_ALPHA_PRIME
    a = 1.0 / np.sqrt((alpha * alpha * p + 1.0) * (1.0 - p))
    keep = nn_ops._survivors(xp, shape, p, dt, None)
    shift = (keep - 1) * dt.type(alpha * a) + dt.type(alpha * a * p)
    out = input * Tensor._wrap(keep * dt.type(a)) + Tensor._wrap(shift)
    if inplace:
        input.data = out.detach()
        return input
    return out


# ------------------------------------------------------------------------------------ embedding


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2, scale_grad_by_freq=False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embedding rows, without materialising each bag.

    A 2-D ``input`` ``(B, N)`` is ``B`` bags of ``N`` indices; a 1-D ``input`` is cut into bags
    at ``offsets``. ``per_sample_weights`` scale each looked-up row (``mode='sum'`` only); the
    ``padding_idx`` rows are left out (an empty bag gives zeros).
    """

    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on the "
            "Pytorch GitHub.")
    idx = _host(input).astype(np.int64)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        b, n = idx.shape
        starts = np.arange(b, dtype=np.int64) * n
        ends = starts + n
        flat = idx.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = _host(offsets).astype(np.int64).reshape(-1)
        if off.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        flat = idx
        if include_last_offset:
            starts, ends = off[:-1], off[1:]
        else:
            starts = off
            ends = np.append(off[1:], flat.size)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    rows = nn_ops.embedding(_const(flat, weight), weight, max_norm=max_norm, norm_type=norm_type,
                     scale_grad_by_freq=scale_grad_by_freq)
    valid = np.ones(flat.size, dtype=bool) if padding_idx is None else flat != padding_idx
    bags = len(starts)
    if mode == "max":
        outs = []
        for s, e in zip(starts, ends):
            members = np.arange(s, e)[valid[s:e]]
            if members.size == 0:
                outs.append(rows[0:0].sum(0) * 0.0 if rows.shape[0] else
                            weight[0] * 0.0)
            else:
                outs.append(index_select(rows, 0, _const(members, rows)).amax(0))
        return stack(outs, 0) if outs else weight[:0]
    # each looked-up row is scaled (1, 1/bag size, or its per-sample weight; 0 for padding) and
    # added into its bag: linear in the number of indices
    bag_of = np.zeros(flat.size, dtype=np.int64)
    scale = np.zeros(flat.size, dtype=weight._data.dtype)
    for k, (s, e) in enumerate(zip(starts, ends)):
        bag_of[s:e] = k
        count = int(valid[s:e].sum())
        if count:
            scale[s:e] = valid[s:e] / count if mode == "mean" else valid[s:e]
    factor = _const(scale.reshape(-1, 1), weight)
    if per_sample_weights is not None:
        factor = factor * per_sample_weights.reshape(-1, 1)
    xp = get_array_module(weight._data)
    zeros = Tensor._wrap(xp.zeros((bags, weight.shape[1]), dtype=weight._data.dtype))
    return index_add(zeros, 0, _const(bag_of, weight), rows * factor)


# ------------------------------------------------------------------------------------- losses


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target·(input1 - input2) + margin)``: ``target = 1`` means input1 should rank
    higher."""
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
            f"{tuple(target.shape)} ")
    loss = (-target * (input1 - input2) + margin).clamp(min=0)
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``input`` where ``target = 1``, ``max(0, margin - input)`` where ``target = -1``."""
    margin_part = where(target != 1, (margin - input).clamp(min=0), 0.0)
    self_part = where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, _legacy(size_average, reduce, reduction))


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` for ``target = 1``, ``max(0, cos(x1, x2) - margin)`` for
    ``target = -1``; the cosine is taken over the last dimension."""
    if input1.ndim != input2.ndim or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(f"cosine_embedding_loss: the size of input1 {tuple(input1.shape)} "
                           f"must match the size of input2 {tuple(input2.shape)}")
    if input1.ndim not in (1, 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {tuple(input1.shape)} and {tuple(input2.shape)}.")
    eps = 1e-12
    dim = input1.ndim - 1
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    pos = where(target == 1, 1 - cos, 0.0)
    neg = where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(pos + neg, _legacy(size_average, reduce, reduction))


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` for any distance ``d``
    (pairwise Euclidean by default); ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative
    distance."""
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_swap = dist(positive, negative)
        d_neg = where(d_swap < d_neg, d_swap, d_neg)
    loss = (margin + d_pos - d_neg).clamp(min=0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """:func:`triplet_margin_with_distance_loss` with the ``p``-norm pairwise distance."""
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")
    if anchor.ndim not in (1, 2):
        raise RuntimeError(f"triplet_margin_loss: expected 1D or 2D inputs, got {anchor.ndim}D")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = where(d_swap < d_neg, d_swap, d_neg)
    loss = (margin + d_pos - d_neg).clamp(min=0)
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def _class_input(op: str, input: Tensor, target: Tensor):
    """``(N, C)`` input and ``(N,)`` int64 host targets for the multi-class margin losses."""
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise RuntimeError(f"{op}: Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")
    return input.ndim == 1


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``Σ_{i≠y} max(0, margin - x[y] + x[i])^p / C`` per sample
    (scaled by ``weight[y]``)."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    unbatched = _class_input("multi_margin_loss", input, target)
    x = input.reshape(1, -1) if unbatched else input
    y = _host(target).astype(np.int64).reshape(-1)
    n, c = x.shape
    if y.size != n:
        raise RuntimeError(f"inconsistent target size, expected {n} but got "
                           f"{list(target.shape)}")
    if y.size and (y.min() < 0 or y.max() >= c):
        raise RuntimeError("target out of range")
    yi = _const(y.reshape(-1, 1), x)
    x_y = x.gather(1, yi)
    terms = (margin - x_y + x).clamp(min=0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * index_select(weight, 0, _const(y, x)).reshape(-1, 1)
    not_target = np.ones((n, c), dtype=bool)
    not_target[np.arange(n), y] = False
    loss = where(_const(not_target, x), terms, 0.0).sum(1) / c
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: ``target`` lists each sample's classes (ending at the first
    ``-1``); each (target class ``j``, other class ``i``) pair adds ``max(0, 1 - (x[j] - x[i])) / C``.
    """
    unbatched = _class_input("multilabel_margin_loss", input, target)
    x = input.reshape(1, -1) if unbatched else input
    t = _host(target).astype(np.int64).reshape(x.shape) if target.numel() else \
        np.zeros(x.shape, np.int64)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    n, c = x.shape
    is_target = np.zeros((n, c), dtype=bool)
    # a class listed twice counts twice, as in PyTorch's loop over the target entries
    times = np.zeros((n, c), dtype=x._data.dtype)
    for r in range(n):
        for j in t[r]:
            if j < 0:
                break
            if j >= c:
                raise RuntimeError("multilabel_margin_loss: target index out of range")
            is_target[r, j] = True
            times[r, j] += 1
    # hinge[r, j, i] = max(0, 1 - x[r, j] + x[r, i]) for j a target, i not a target
    hinge = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)
    pair_weight = times[:, :, None] * (~is_target)[:, None, :]
    loss = (hinge * _const(pair_weight, x)).sum((1, 2)) / c
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss ``-(t·log σ(x) + (1-t)·log σ(-x))``, averaged over classes."""
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: ``exp(x) - t·x`` for log-rate input, else
    ``x - t·log(x + eps)``; ``full`` adds Stirling's term for ``t > 1``."""
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target.detach()
        safe = where(t > 1, t, 2.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(t > 1, stirling, 0.0)
    return _reduce(loss, _legacy(size_average, reduce, reduction))


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood ``0.5·(log var + (input - target)² / var)`` (``+ 0.5
    log 2π`` when ``full``); ``var`` is clamped at ``eps`` for the value only, as PyTorch does, so
    its gradient passes through unchanged."""
    if not isinstance(var, Tensor):
        var = _const(np.full(tuple(input.shape), float(var), dtype=input._data.dtype), input)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    xp = get_array_module(var._data)
    if bool(xp.any(var._data < 0)):
        raise ValueError("var has negative entry/entries")
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification: ``-log`` of the total probability of every
    alignment of each target to its input, given ``log_probs`` ``(T, N, C)`` (or ``(T, C)``).

    ``targets`` are ``(N, S)`` padded or all concatenated (1-D); the forward recursion runs in log
    space over the blank-extended targets. ``reduction='mean'`` divides each loss by its target
    length before averaging over the batch, as PyTorch does.
    """
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs of shape (T, N, C) or (T, C), got "
                           f"{tuple(log_probs.shape)}")
    T, N, C = lp.shape
    in_lens = _host(input_lengths).astype(np.int64).reshape(-1)
    tg_lens = _host(target_lengths).astype(np.int64).reshape(-1)
    tg = _host(targets).astype(np.int64)
    if unbatched:
        tg = tg.reshape(1, -1)
    if in_lens.size != N or tg_lens.size != N:
        raise RuntimeError(f"ctc_loss: input_lengths must be of size batch_size ({N}), got "
                           f"{in_lens.size} and target_lengths {tg_lens.size}")
    if np.any(in_lens > T):
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(in_lens.max())}")
    seqs = []
    if tg.ndim == 1:
        starts = np.concatenate([[0], np.cumsum(tg_lens)[:-1]])
        seqs = [tg[s:s + n] for s, n in zip(starts, tg_lens)]
    else:
        seqs = [tg[b, :n] for b, n in enumerate(tg_lens)]
    S = 2 * int(tg_lens.max(initial=0)) + 1
    ext = np.full((N, S), blank, dtype=np.int64)  # blank, l1, blank, l2, ..., blank
    for b, s in enumerate(seqs):
        ext[b, 1:2 * len(s):2] = s
    # the skip transition s-2 -> s is allowed onto a label that differs from the one two back
    skip_ok = np.zeros((N, S), dtype=bool)
    skip_ok[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    valid = np.arange(S)[None, :] < (2 * tg_lens[:, None] + 1)
    # a huge finite "log 0": with -inf, logsumexp over all-impossible paths gives NaN gradients
    neg_inf = -1e30
    dtype = lp._data.dtype
    idx = _const(ext, lp)
    mask_skip = _const(np.where(skip_ok, 0.0, neg_inf).astype(dtype), lp)
    mask_valid = _const(np.where(valid, 0.0, neg_inf).astype(dtype), lp)
    init = np.full((N, S), neg_inf, dtype=dtype)
    init[:, 0] = 0.0
    init[:, 1] = np.where(tg_lens > 0, 0.0, neg_inf)
    pad_col = _const(np.full((N, 1), neg_inf, dtype=dtype), lp)
    pad2 = _const(np.full((N, 2), neg_inf, dtype=dtype), lp)
    alpha = lp[0].gather(1, idx) + _const(init, lp) + mask_valid
    finals = [None] * N
    for t in range(T):
        if t > 0:
            prev1 = cat([pad_col, alpha[:, :-1]], 1)
            prev2 = cat([pad2, alpha[:, :-2]], 1) + mask_skip
            step = logsumexp(stack([alpha, prev1, prev2], 0), 0)
            alpha = step + lp[t].gather(1, idx) + mask_valid
        for b in range(N):
            if in_lens[b] == t + 1:
                end = 2 * int(tg_lens[b])
                last = alpha[b, end:end + 1]
                if end > 0:
                    last = cat([alpha[b, end - 1:end], last], 0)
                finals[b] = -logsumexp(last, 0)
    for b in range(N):
        if finals[b] is None:  # an input length of 0: only an empty target is possible
            finals[b] = (alpha[b, 0] * 0.0) + (0.0 if tg_lens[b] == 0 else math.inf)
    loss = stack(finals, 0)
    impossible = loss.detach() > 1e29  # no alignment of the target fits the input
    loss = where(impossible, 0.0 if zero_infinity else math.inf, loss)
    if reduction == "mean":
        lens = _const(np.maximum(tg_lens, 1).astype(dtype), lp)
        return (loss / lens).mean()
    if reduction == "sum":
        return loss.sum()
    if reduction != "none":
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return loss.reshape(()) if unbatched else loss


__all__ = ["glu", "rrelu", "rrelu_", "pairwise_distance", "pdist", "rms_norm",
           "local_response_norm", "feature_alpha_dropout", "embedding_bag",
           "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "multi_margin_loss",
           "multilabel_margin_loss", "multilabel_soft_margin_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "ctc_loss"]
