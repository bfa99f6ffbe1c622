"""More layers of ``torch.nn``: power-average pooling (``LPPool1d/2d/3d``), max unpooling
(``MaxUnpool1d/2d/3d``), ``SyncBatchNorm`` (one process: batch norm), ``CrossMapLRN2d``,
``NLLLoss2d``, ``LinearCrossEntropyLoss`` and ``AdaptiveLogSoftmaxWithLoss``."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

import ember.nn.functional as F
import ember.ops as _ops
from ember import creation
from ember.nn.modules.container import ModuleList, Sequential
from ember.nn.modules.linear import Linear
from ember.nn.modules.loss import NLLLoss
from ember.nn.modules.module import Module
from ember.nn.modules.normalization import _BatchNorm
from ember.ops import pool_more as _pool
from ember.tensor import Tensor


class _LPPoolNd(Module):
    _dims = 1

    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        fn = (_pool.lp_pool1d, _pool.lp_pool2d, _pool.lp_pool3d)[self._dims - 1]
        return fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """``(Σ_window x^p)^(1/p)`` over sliding windows of ``(N, C, L)``."""

    _dims = 1


class LPPool2d(_LPPoolNd):
    """``(Σ_window x^p)^(1/p)`` over sliding windows of ``(N, C, H, W)``."""

    _dims = 2


class LPPool3d(_LPPoolNd):
    """``(Σ_window x^p)^(1/p)`` over sliding boxes of ``(N, C, D, H, W)``."""

    _dims = 3


class _MaxUnpoolNd(Module):
    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        n = self._dims

        def tup(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
        self.kernel_size = tup(kernel_size)
        self.stride = tup(stride if stride is not None else kernel_size)
        self.padding = tup(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        fn = (_pool.max_unpool1d, _pool.max_unpool2d, _pool.max_unpool3d)[self._dims - 1]
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The inverse of ``MaxPool1d`` given its indices (zeros where no maximum was)."""

    _dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The inverse of ``MaxPool2d`` given its indices (zeros where no maximum was)."""

    _dims = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The inverse of ``MaxPool3d`` given its indices (zeros where no maximum was)."""

    _dims = 3


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose statistics PyTorch averages across the processes of a
    ``process_group``; ember runs one process per device, so it is batch norm over any
    ``(N, C, *)`` input."""

    _expected_dims = (2, 3, 4, 5, 6, 7, 8)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
        super()._check_input_dim(input)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every ``BatchNorm*d`` replaced by a ``SyncBatchNorm`` holding the same
        parameters and statistics."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            for name in ("weight", "bias"):
                if getattr(module, name, None) is not None:
                    setattr(out, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                if name in module._buffers:
                    out._buffers[name] = module._buffers[name]
            out.train(module.training)
        for name, child in module._modules.items():
            out._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return out


class CrossMapLRN2d(Module):
    """Local response normalisation across the channels of ``(N, C, H, W)``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             "instead.")
        c = input.shape[1]
        window = _cross_map_window(c, self.size)
        m = Tensor._wrap(window.T.astype(input._data.dtype)).to(input.device)
        sums = (input * input).movedim(1, -1).matmul(m).movedim(-1, 1)
        return input * (sums * (self.alpha / self.size) + self.k) ** (-self.beta)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _cross_map_window(channels: int, size: int) -> np.ndarray:
    """Which channels' squares each channel's scale sums, following PyTorch's legacy running
    update (whose window never drops channel 0 at the step ``c == pre_pad``): ``(C, C)`` 0/1."""
    pre_pad = int((size - 1) / 2 + 1)
    rows = np.zeros((channels, channels))
    rows[0, :min(pre_pad, channels)] = 1
    for c in range(1, channels):
        rows[c] = rows[c - 1]
        if c < channels - pre_pad + 1:
            rows[c, c + pre_pad - 1] += 1
        if c > pre_pad:
            rows[c, c - pre_pad] -= 1
    return rows


class NLLLoss2d(NLLLoss):
    """PyTorch's deprecated name of :class:`NLLLoss` (which takes ``(N, C, H, W)`` input)."""


class LinearCrossEntropyLoss(Module):
    """A bias-free (by default) ``Linear(in_features, num_classes)`` followed by cross entropy,
    in one module; ``forward(input, target)``."""

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple = (),
                 bias: bool = False, device=None, dtype=None, reduction: str = "mean",
                 weight: Tensor | None = None, ignore_index: int | None = None,
                 label_smoothing: float = 0.0, options=None) -> None:
        super().__init__()
        if tuple(out_features):
            raise NotImplementedError("LinearCrossEntropyLoss: ember supports out_features=()")
        self.in_features, self.num_classes = in_features, num_classes
        self.out_features = tuple(out_features)
        self.register_buffer("weight", weight)
        self.reduction, self.ignore_index = reduction, ignore_index
        self.label_smoothing, self.options = label_smoothing, options
        self.linear = Linear(in_features, num_classes, bias=bias, device=device, dtype=dtype)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return _pool.linear_cross_entropy(
            input, self.linear.weight, target, linear_bias=self.linear.bias, weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, num_classes={self.num_classes}, out_features="
                f"{self.out_features}, bias={self.linear.bias is not None}, reduction="
                f"{self.reduction}, ignore_index={self.ignore_index}, label_smoothing="
                f"{self.label_smoothing}, options={self.options}")


_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax over many classes (Grave et al.): frequent classes (below
    ``cutoffs[0]``) and one entry per cluster in the head; each cluster's classes in a smaller
    tail projection. ``forward(input, target)`` returns ``(output, loss)`` with each target's
    log-probability and the mean negative log-likelihood."""

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        kw = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        tail = []
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                   Linear(hsz, osz, bias=False, **kw)))
        self.tail = ModuleList(tail)

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for seq in self.tail:
            for layer in seq:
                layer.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor):
        targ_dim = target_.ndim
        if targ_dim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.ndim != 2:
                raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs "
                                   f"with size {list(input_.shape)}")
        elif targ_dim == 0:
            if input_.ndim != 1:
                raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs "
                                   f"with size {list(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        t = target.detach().cpu().numpy().astype(np.int64)
        batch = t.shape[0]
        if batch and (t.min() < 0 or t.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{t.min()}, {t.max()}] were found. ")
        gather_inds = t.copy()
        output = creation.zeros(batch, dtype=input.dtype, device=input.device)
        for i in range(1, self.n_clusters + 1):
            low, high = self.cutoffs[i - 1], self.cutoffs[i]
            rows = np.nonzero((t >= low) & (t < high))[0]
            if rows.size == 0:
                continue
            rows_t = Tensor._wrap(rows).to(input.device)
            cluster = F.log_softmax(self.tail[i - 1](input.index_select(0, rows_t)), 1)
            rel = Tensor._wrap((t[rows] - low).reshape(-1, 1)).to(input.device)
            local = cluster.gather(1, rel).reshape(-1)
            output = _ops.index_add(output, 0, rows_t, local)
            gather_inds[rows] = self.shortlist_size + i - 1
        head_logprob = F.log_softmax(self.head(input), 1)
        picked = Tensor._wrap(gather_inds.reshape(-1, 1)).to(input.device)
        output = output + head_logprob.gather(1, picked).reshape(-1)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of every class, ``(N, n_classes)`` (or ``(n_classes,)``)."""
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        head_logprob = F.log_softmax(self.head(x), 1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](x), 1)
            parts.append(cluster + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        out = _ops.cat(parts, 1)
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row."""
        return self.log_prob(input).argmax(-1)


__all__ = ["LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "SyncBatchNorm", "CrossMapLRN2d", "NLLLoss2d", "LinearCrossEntropyLoss",
           "AdaptiveLogSoftmaxWithLoss"]


class _FractionalMaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None) -> None:
        super().__init__()
        name = type(self).__name__
        n = self._dims
        self.kernel_size = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,) * n
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = output_size if output_size is None or isinstance(
            output_size, tuple) else (output_size,) * n
        self.output_ratio = output_ratio if output_ratio is None or isinstance(
            output_ratio, tuple) else (output_ratio,) * n
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor):
        fn = _pool.fractional_max_pool2d if self._dims == 2 else _pool.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio,
                  self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling of ``(N, C, H, W)`` (pseudo-random overlapping windows)."""

    _dims = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling of ``(N, C, D, H, W)``."""

    _dims = 3


__all__ += ["FractionalMaxPool2d", "FractionalMaxPool3d"]
