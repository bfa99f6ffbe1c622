"""The Transformer family against PyTorch's with copied weights: outputs, input gradients and
every parameter gradient, with each mask PyTorch takes, both layer-norm placements and both
batch layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from tests.test_nn_layers import compare_module, copy_weights, rand


def _bool_mask(shape, seed):
    m = np.random.default_rng(seed).random(shape) < 0.3
    m[..., 0] = False  # every row keeps one position, so no softmax is over nothing
    return m


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer(norm_first, batch_first, activation):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, activation=activation,
              batch_first=batch_first, norm_first=norm_first)
    t = torch.nn.TransformerEncoderLayer(**kw)
    e = nn.TransformerEncoderLayer(**kw)
    x = rand(3, 5, 8) if batch_first else rand(5, 3, 8)
    compare_module(t, e, [x])


def test_encoder_layer_masks_and_unbatched():
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
    t, e = torch.nn.TransformerEncoderLayer(**kw), nn.TransformerEncoderLayer(**kw)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double().numpy()
    kpm = _bool_mask((3, 5), 1)

    def call(m, x, am, kp):
        return m(x, src_mask=am, src_key_padding_mask=kp)
    for am in (mask, _bool_mask((5, 5), 2)):
        compare_module(t, e, [rand(5, 3, 8), am, kpm], call=call, int_inputs=(1, 2))
    compare_module(t, e, [rand(5, 8)])
    compare_module(t, e, [rand(5, 3, 8)], train=False, grad=False)


def test_encoder_layer_module_activation_and_no_bias():
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, bias=False)
    t = torch.nn.TransformerEncoderLayer(activation=torch.nn.GELU(), **kw)
    e = nn.TransformerEncoderLayer(activation=nn.GELU(), **kw)
    compare_module(t, e, [rand(4, 2, 8)])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, batch_first):
    kw = dict(d_model=8, nhead=4, dim_feedforward=12, dropout=0.0, batch_first=batch_first,
              norm_first=norm_first)
    t, e = torch.nn.TransformerDecoderLayer(**kw), nn.TransformerDecoderLayer(**kw)
    tgt, mem = (rand(2, 4, 8), rand(2, 6, 8, seed=1)) if batch_first else \
        (rand(4, 2, 8), rand(6, 2, 8, seed=1))
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4).double().numpy()
    mem_mask = _bool_mask((4, 6), 3)
    tkpm, mkpm = _bool_mask((2, 4), 4), _bool_mask((2, 6), 5)

    def call(m, tg, me, a, b, c, d):
        return m(tg, me, tgt_mask=a, memory_mask=b, tgt_key_padding_mask=c,
                 memory_key_padding_mask=d)
    compare_module(t, e, [tgt, mem, tgt_mask, mem_mask, tkpm, mkpm], call=call,
                   int_inputs=(2, 3, 4, 5))


def test_stacks_with_norm_and_causal_flags():
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0)
    layer_e = nn.TransformerEncoderLayer(8, 2, 16, 0.0)
    t = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(8),
                                    enable_nested_tensor=False)
    e = nn.TransformerEncoder(layer_e, 2, norm=nn.LayerNorm(8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double().numpy()
    compare_module(t, e, [rand(5, 2, 8), mask], int_inputs=(1,),
                   call=lambda m, x, a: m(x, mask=a, is_causal=True))
    compare_module(t, e, [rand(5, 2, 8), mask], int_inputs=(1,))
    dt = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2)
    de = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2)
    compare_module(dt, de, [rand(5, 2, 8), rand(3, 2, 8, seed=2), mask], int_inputs=(2,),
                   call=lambda m, x, mem, a: m(x, mem, tgt_mask=a, tgt_is_causal=True))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(batch_first):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
              dropout=0.0, batch_first=batch_first)
    t, e = torch.nn.Transformer(**kw), nn.Transformer(**kw)
    src = rand(2, 6, 8) if batch_first else rand(6, 2, 8)
    tgt = rand(2, 4, 8, seed=3) if batch_first else rand(4, 2, 8, seed=3)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=ember.float64).numpy()
    skpm = _bool_mask((2, 6), 7)

    def call(m, s, tg, a, b):
        return m(s, tg, tgt_mask=a, src_key_padding_mask=b, memory_key_padding_mask=b)
    compare_module(t, e, [src, tgt, tgt_mask, skpm], call=call, int_inputs=(2, 3))
    compare_module(t, e, [src, tgt], train=False, grad=False)


def test_generate_square_subsequent_mask_and_init():
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3).dtype == ember.float32
    ember.manual_seed(0)
    m = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                       dim_feedforward=32)
    assert list(m.state_dict()) == list(torch.nn.Transformer(
        16, 2, 1, 1, 32).state_dict())
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound  # Xavier-uniform


def test_errors():
    m = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                       dim_feedforward=16)
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        m(ember.randn(5, 2, 8), ember.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="feature number of src and tgt must be equal"):
        m(ember.randn(5, 2, 6), ember.randn(4, 2, 6))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(RuntimeError, match=r"TransformerEncoderLayer\(d_model=8\)"):
        nn.TransformerEncoderLayer(8, 2)(ember.randn(3, 2, 5))


@pytest.mark.parametrize("separate", [False, True])
def test_multi_head_attention_forward(separate):
    kw = dict(kdim=6, vdim=5) if separate else {}
    t = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True, **kw).double()
    q = rand(4, 3, 8)
    k, v = (rand(5, 3, 6, seed=1), rand(5, 3, 5, seed=2)) if separate else \
        (rand(5, 3, 8, seed=1), rand(5, 3, 8, seed=2))
    kpm = _bool_mask((3, 5), 3)
    results = []
    for fw in (torch, ember):
        tensors = {name: fw.tensor(p.detach().numpy(), requires_grad=True)
                   for name, p in t.named_parameters()}
        xs = [fw.tensor(a, requires_grad=True) for a in (q, k, v)]
        out, weights = fw.nn.functional.multi_head_attention_forward(
            *xs, 8, 2, tensors.get("in_proj_weight"), tensors["in_proj_bias"],
            tensors["bias_k"], tensors["bias_v"], False, 0.0, tensors["out_proj.weight"],
            tensors["out_proj.bias"], key_padding_mask=fw.tensor(kpm),
            use_separate_proj_weight=separate, q_proj_weight=tensors.get("q_proj_weight"),
            k_proj_weight=tensors.get("k_proj_weight"), v_proj_weight=tensors.get("v_proj_weight"))
        (out * fw.tensor(rand(*out.shape, seed=5))).sum().backward()
        results.append([out, weights] + [x.grad for x in xs] +
                       [tensors[n].grad for n in sorted(tensors)])
    for a, b in zip(*results):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=1e-10)


def _seq2seq(fw):
    mod = fw.nn

    class Seq2Seq(mod.Module):
        def __init__(self):
            super().__init__()
            self.src_emb = mod.Embedding(11, 8)
            self.tgt_emb = mod.Embedding(11, 8)
            self.transformer = mod.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True)
            self.generator = mod.Linear(8, 11)

        def forward(self, src, tgt, tgt_mask, src_pad, tgt_pad):
            out = self.transformer(self.src_emb(src), self.tgt_emb(tgt), tgt_mask=tgt_mask,
                                   src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                                   memory_key_padding_mask=src_pad)
            return self.generator(out)
    return Seq2Seq()


def test_transformer_seq2seq_training_steps_match_torch():
    """The translation-tutorial pattern: embeddings, nn.Transformer with causal and padding
    masks, cross entropy ignoring padding, Adam; the losses of several steps agree."""
    t_model, e_model = _seq2seq(torch).double(), _seq2seq(ember).double()
    copy_weights(t_model, e_model)
    rng = np.random.default_rng(0)
    src = rng.integers(1, 11, (3, 6))
    tgt = rng.integers(1, 11, (3, 5))
    src[0, 4:] = 0
    tgt[1, 3:] = 0
    losses = []
    for fw, model in ((torch, t_model), (ember, e_model)):
        opt = fw.optim.Adam(model.parameters(), lr=0.01)
        mask = fw.nn.Transformer.generate_square_subsequent_mask(4, dtype=fw.float64)
        run = []
        for _ in range(3):
            logits = model(fw.tensor(src), fw.tensor(tgt[:, :-1]), mask,
                           fw.tensor(src == 0), fw.tensor(tgt[:, :-1] == 0))
            loss = fw.nn.functional.cross_entropy(logits.reshape(-1, 11),
                                                  fw.tensor(tgt[:, 1:].reshape(-1)),
                                                  ignore_index=0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.append(float(loss))
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-9)
