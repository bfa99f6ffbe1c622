"""Autograd: backward, accumulation, no_grad, detach, retain_grad, autograd.grad, higher order."""
import numpy as np
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 2 + 3 * x).sum()
y.backward()
print("grad", x.grad.tolist())

# gradients accumulate until zeroed
(x * x).sum().backward()
print("accumulated", x.grad.tolist())
x.grad.zero_()
print("zeroed", x.grad.tolist())

# a small graph with matrices
w = torch.tensor(np.array([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.6]], dtype=np.float32),
                 requires_grad=True)
b = torch.tensor([0.1, -0.1], requires_grad=True)
h = torch.tanh(x @ w + b)
loss = (h ** 2).mean()
loss.backward()
print("loss", loss.item())
print("w.grad", w.grad.tolist())
print("b.grad", b.grad.tolist())

# no_grad and detach
with torch.no_grad():
    z = x * 2
print("no_grad requires_grad", z.requires_grad)
d = x.detach()
print("detach requires_grad", d.requires_grad, "is_leaf", x.is_leaf)

# retain_grad on an intermediate
a = torch.tensor([0.5, -1.5], requires_grad=True)
m = a.exp()
m.retain_grad()
m.sum().backward()
print("intermediate grad", m.grad.tolist(), "leaf grad", a.grad.tolist())

# torch.autograd.grad and second derivatives
t = torch.tensor(0.7, requires_grad=True)
f = torch.sin(t) * t ** 3
(g,) = torch.autograd.grad(f, t, create_graph=True)
(gg,) = torch.autograd.grad(g, t)
print("first", g.item(), "second", gg.item())

# gradient of a non-scalar output with an explicit upstream gradient
v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
out = v * torch.tensor([2.0, 3.0, 4.0])
out.backward(torch.tensor([1.0, 0.1, 0.01]))
print("vector-Jacobian", v.grad.tolist())

# requires_grad_ and set_grad_enabled
p = torch.ones(2)
p.requires_grad_()
with torch.set_grad_enabled(False):
    q = p * 3
print("set_grad_enabled", q.requires_grad, torch.is_grad_enabled())
