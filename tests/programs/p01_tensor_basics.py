"""Tensors: creation, dtypes, indexing, broadcasting, reductions, shape ops, matmul, in-place."""
import numpy as np
import torch

x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print("shape", list(x.shape), "numel", x.numel(), "dim", x.dim())
print("dtype float32", x.dtype == torch.float32)
z = torch.zeros(2, 3)
o = torch.ones_like(x)
a = torch.arange(6).reshape(2, 3)
print("arange sum", a.sum().item(), "is long", a.dtype == torch.int64)
print("linspace", torch.linspace(0, 1, 5).tolist())
print("full", torch.full((2, 2), 7.0).sum().item())
print("eye trace", torch.eye(3).trace().item())

# indexing and slicing
print("row 1", x[1].tolist())
print("col 2", x[:, 2].tolist())
print("masked", x[x > 2.5].tolist())
print("fancy", x[[0, 1], [2, 0]].tolist())

# broadcasting and arithmetic
b = torch.tensor([10.0, 20.0, 30.0])
print("broadcast", (x + b).tolist())
print("mul/div", (x * 2 / 4 - 1).tolist())
print("pow", (x ** 2).sum().item(), "sqrt", x.sqrt().sum().item())

# reductions
print("sum dim0", x.sum(dim=0).tolist(), "mean dim1", x.mean(dim=1).tolist())
print("max", x.max().item(), "argmax", x.argmax().item())
vals, idx = x.max(dim=1)
print("max dim1", vals.tolist(), idx.tolist())
print("std", x.std().item(), "var", x.var(dim=0).tolist())
print("norm", x.norm().item(), "prod", x.prod().item())
print("cumsum", x.cumsum(dim=1).tolist())

# shape ops
print("view", x.view(3, 2).tolist())
print("t", x.t().tolist())
print("permute", torch.arange(24).reshape(2, 3, 4).permute(2, 0, 1).shape == (4, 2, 3))
print("cat", torch.cat([x, z], dim=0).shape[0], "stack", torch.stack([x, o]).shape[0])
print("unsqueeze", list(x.unsqueeze(0).shape), "squeeze", list(x.unsqueeze(1).squeeze().shape))
print("flatten", x.flatten().tolist())
chunks = x.chunk(3, dim=1)
print("chunks", [c.sum().item() for c in chunks])

# linear algebra
w = torch.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 10)
print("matmul", (x @ w).tolist())
print("mm", torch.mm(x, w).sum().item(), "bmm", torch.bmm(x[None], w[None]).sum().item())
print("det", torch.linalg.det(torch.tensor([[2.0, 1.0], [1.0, 3.0]])).item())
print("inv", torch.linalg.inv(torch.tensor([[2.0, 1.0], [1.0, 3.0]])).tolist())

# in-place and numpy round trip
y = x.clone()
y.add_(1).mul_(2)
y[0, 0] = -1.0
print("inplace", y.tolist())
n = y.numpy()
print("numpy", float(n.sum()), "from_numpy", torch.from_numpy(np.ones(3)).sum().item())
print("where", torch.where(x > 3, x, torch.zeros_like(x)).tolist())
print("clamp", x.clamp(2, 5).tolist(), "sort", torch.sort(torch.tensor([3.0, 1.0, 2.0]))[0].tolist())
print("topk", torch.topk(x.flatten(), 2).values.tolist())
print("float->int", x.int().tolist(), "to double", x.double().dtype == torch.float64)
