"""A data pipeline: a custom Dataset with a transform, random_split with a seeded Generator,
DataLoader batching (drop_last, a collate_fn), and a loop over epochs."""
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split


class Squares(Dataset):
    def __init__(self, n, transform=None):
        self.x = np.arange(n, dtype=np.float32)
        self.transform = transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        x = torch.tensor([self.x[i]])
        y = x ** 2
        if self.transform is not None:
            x = self.transform(x)
        return x, y


ds = Squares(100, transform=lambda x: x / 100)
print("len", len(ds), "item 7", [v.item() for v in ds[7]])
train, val = random_split(ds, [80, 20], generator=torch.Generator().manual_seed(0))
print("split sizes", len(train), len(val))
print("split covers all", sorted(list(train.indices) + list(val.indices)) == list(range(100)))
fractions = random_split(range(10), [0.7, 0.3], generator=torch.Generator().manual_seed(1))
print("fraction split sizes", [len(f) for f in fractions])

loader = DataLoader(ds, batch_size=16, shuffle=False, drop_last=True)
print("batches", len(loader))
for i, (xb, yb) in enumerate(loader):
    if i < 2:
        print("batch", i, list(xb.shape), xb.sum().item(), yb.sum().item())
print("last batch first value", xb[0].item())


def collate(batch):
    xs, ys = zip(*batch)
    return torch.cat(xs), torch.stack(ys).sum()


loader = DataLoader(ds, batch_size=30, collate_fn=collate)
print("collated", [(list(x.shape), round(s.item(), 2)) for x, s in loader])

tensors = TensorDataset(torch.arange(10.0), torch.arange(10) % 3)
for epoch in range(2):
    total = 0.0
    for xb, yb in DataLoader(tensors, batch_size=4):
        total += (xb * yb).sum().item()
    print("epoch", epoch, "total", total)
sampler_loader = DataLoader(tensors, batch_size=3, sampler=torch.utils.data.SequentialSampler(tensors))
print("sequential sampler", [xb.tolist() for xb, _ in sampler_loader][-1])
