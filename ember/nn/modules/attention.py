"""``MultiheadAttention`` with PyTorch's parameters (``in_proj_weight``, ``in_proj_bias``,
``bias_k``/``bias_v``, ``out_proj``), arguments and masks."""

from __future__ import annotations

import math

import ember.nn.functional as F
import ember.ops as _ops
from ember import backend, creation
from ember.nn import init
from ember.nn.modules.linear import NonDynamicallyQuantizableLinear
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.tensor import Tensor


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads: ``softmax(q kᵀ / sqrt(d) + mask) v``, projected.

    Inputs are ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or unbatched ``(L, E)``.
    ``key_padding_mask`` ``(N, S)`` and ``attn_mask`` ``(L, S)`` or ``(N·heads, L, S)`` are boolean
    (True = may not attend) or float (added to the scores). Returns ``(output, weights)``, the
    weights averaged over heads unless ``average_attn_weights=False``, or ``None`` when
    ``need_weights=False``.

    ``add_bias_kv`` appends one learned key/value position (``bias_k``, ``bias_v``, each
    ``(1, 1, embed_dim)``) after the projections, and ``add_zero_attn`` then a zero one; every
    query may attend to these (the masks are extended with "allowed"), and the weights cover
    them too: ``S + add_bias_kv + add_zero_attn`` source positions, as in PyTorch.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(f"embed_dim must be divisible by num_heads, got embed_dim="
                                 f"{embed_dim} and num_heads={num_heads}")
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * E, E, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty(E, E, dtype=dtype))
            self.k_proj_weight = Parameter(creation.empty(E, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(creation.empty(E, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, E, dtype=dtype))
            self.bias_v = Parameter(creation.empty(1, 1, E, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        if device is not None:
            self.to(device)

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _mask(self, scores: Tensor, mask: Tensor, shape: tuple) -> Tensor:
        """Apply a boolean (True = blocked) or additive float mask reshaped to ``shape``."""
        if mask.dtype == backend.bool_:
            return scores.masked_fill(mask.reshape(shape), float("-inf"))
        return scores + mask.reshape(shape).to(scores.dtype)

    @staticmethod
    def _extend_mask(mask: Tensor | None, extra: int) -> Tensor | None:
        """``mask`` with ``extra`` source positions appended that every query may attend to
        (False, or 0.0 for an additive mask): the bias_k / zero-attention positions."""
        if mask is None or not extra:
            return mask
        allowed = creation.zeros(*mask.shape[:-1], extra, dtype=mask.dtype, device=mask.device)
        return _ops.cat([mask, allowed], -1)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False):
        batched = query.ndim == 3
        if batched and self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        L, N, E = query.shape
        S = key.shape[0]
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        if E != self.embed_dim:
            raise RuntimeError(f"{name}: expected query with last dimension {self.embed_dim}, "
                               f"got shape {tuple(query.shape)}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim or value.shape[0] != S:
            raise RuntimeError(f"{name}: key shape {tuple(key.shape)} and value shape "
                               f"{tuple(value.shape)} do not match kdim={self.kdim}, "
                               f"vdim={self.vdim}")
        b = self.in_proj_bias
        bq = bk = bv = None
        if b is not None:
            bq, bk, bv = b[:E], b[E:2 * E], b[2 * E:]
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        heads, hd = self.num_heads, self.head_dim
        q = F.linear(query, wq, bq).reshape(L, N, heads, hd).permute(1, 2, 0, 3)
        k = F.linear(key, wk, bk)
        v = F.linear(value, wv, bv)
        if self.bias_k is not None:
            k = _ops.cat([k, self.bias_k.expand(1, N, E)], 0)
            v = _ops.cat([v, self.bias_v.expand(1, N, E)], 0)
        if self.add_zero_attn:
            # a zero row in (S, N, E) is a zero key/value for every head alike
            zeros = creation.zeros(1, N, E, dtype=k.dtype, device=k.device)
            k = _ops.cat([k, zeros], 0)
            v = _ops.cat([v, zeros], 0)
        S2 = k.shape[0]  # the source positions including the appended ones
        extra = S2 - S
        k = k.reshape(S2, N, heads, hd).permute(1, 2, 0, 3)
        v = v.reshape(S2, N, heads, hd).permute(1, 2, 0, 3)
        scores = (q * (1.0 / math.sqrt(hd))).matmul(k.transpose(-2, -1))  # (N, heads, L, S2)
        if attn_mask is None and is_causal:
            import numpy as np

            attn_mask = Tensor._wrap(backend.move_array(~np.tril(np.ones((L, S), bool)),
                                                        scores.device))
        # masks are checked against the given source length, then extended over the appended
        # positions, as PyTorch does
        if attn_mask is not None:
            if attn_mask.ndim == 2:
                if tuple(attn_mask.shape) != (L, S):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}"
                                       f", but should be {(L, S)}.")
                shape = (1, 1, L, S2)
            else:
                if tuple(attn_mask.shape) != (N * heads, L, S):
                    raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}"
                                       f", but should be {(N * heads, L, S)}.")
                shape = (N, heads, L, S2)
            scores = self._mask(scores, self._extend_mask(attn_mask, extra), shape)
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (N, S):
                raise RuntimeError(f"expected key_padding_mask of shape {(N, S)}, but got "
                                   f"{tuple(key_padding_mask.shape)}")
            scores = self._mask(scores, self._extend_mask(key_padding_mask, extra),
                                (N, 1, 1, S2))
        attn = F.softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = attn.matmul(v).permute(2, 0, 1, 3).reshape(L, N, E)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
        weights = None
        if need_weights:
            weights = attn.mean(1) if average_attn_weights else attn
        if not batched:
            out = out.squeeze(1)
            if weights is not None:
                weights = weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights


__all__ = ["MultiheadAttention"]
