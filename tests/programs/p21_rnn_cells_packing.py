"""Variable-length sequences: nn.utils.rnn.pad_sequence / pack_padded_sequence /
pad_packed_sequence through an nn.GRU, and a hand-unrolled nn.LSTMCell loop."""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

rng = np.random.default_rng(21)
lengths = [5, 3, 2]
seqs = [torch.tensor(rng.standard_normal((n, 4)).astype(np.float32)) for n in lengths]
padded = pad_sequence(seqs, batch_first=True)
print("padded", list(padded.shape), padded[2, 2:].abs().sum().item())
gru = nn.GRU(4, 6, batch_first=True)
cell = nn.LSTMCell(4, 6)
with torch.no_grad():
    for module in (gru, cell):
        for _name, p in sorted(module.named_parameters()):
            p.copy_(torch.tensor(rng.uniform(-0.4, 0.4, tuple(p.shape)).astype(np.float32)))
packed = pack_padded_sequence(padded, torch.tensor(lengths), batch_first=True)
out, h = gru(packed)
unpacked, out_lengths = pad_packed_sequence(out, batch_first=True)
print("unpacked", list(unpacked.shape), out_lengths.tolist())
print("last hidden", [round(v, 5) for v in h[0].sum(1).tolist()])
hx, cx = torch.zeros(3, 6), torch.zeros(3, 6)
for t in range(padded.shape[1]):
    hx, cx = cell(padded[:, t], (hx, cx))
print("cell state", [round(v, 5) for v in cx.sum(1).tolist()])
(hx.sum() + unpacked.sum()).backward()
print("grad", round(sum(p.grad.abs().sum().item() for p in cell.parameters()), 4))
