"""The idioms of PyTorch's "Tensors" tutorial and of everyday scripts: the dtype aliases
(torch.float, torch.long), size= keywords, NumPy-style axis=, formatting a 0-d tensor with a
format spec, and numpy() under no_grad on a tensor that requires grad."""
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
x_ones = torch.ones_like(x_data)
x_float = torch.zeros_like(x_data, dtype=torch.float)
print("ones", x_ones.tolist(), "float zeros", x_float.tolist(), x_float.dtype == torch.float32)
shape = (2, 3)
print("zeros(size=)", torch.zeros(size=shape).sum().item(),
      "ones(size=)", torch.ones(size=shape).sum().item())
tensor = torch.tensor(np.arange(12).reshape(3, 4), dtype=torch.float)
print("sum(axis=0)", tensor.sum(axis=0).tolist(), "mean(axis=1)", tensor.mean(axis=1).tolist())
print("long", tensor.to(torch.long).sum().item(), torch.tensor([1.5]).to(torch.int).tolist())
agg = tensor.sum()
print(f"total {agg:.2f} signed {agg:+.1f}")
print("format via str.format {:.3f}".format(torch.tensor(2.0) / 3))
w = torch.tensor([1.0, 2.0], requires_grad=True)
with torch.no_grad():
    print("numpy under no_grad", (w * 2).numpy().tolist(), w.numpy().tolist())
