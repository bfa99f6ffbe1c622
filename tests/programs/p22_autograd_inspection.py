"""Looking at the graph as PyTorch tutorials do: grad_fn and its name(), next_functions,
is_leaf, requires_grad of results, the device properties (is_cpu)."""
import torch

a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
loss = Q.sum()
print("leaf", a.is_leaf, Q.is_leaf, "requires_grad", Q.requires_grad)
print("grad_fn", loss.grad_fn is not None, len(loss.grad_fn.next_functions))
print("grad_fn name", type(loss.grad_fn).__name__.startswith("Sum"), loss.grad_fn.name().startswith("Sum"))
loss.backward()
print("grads", a.grad.tolist(), b.grad.tolist())
print("device", a.device.type, a.is_cpu, a.is_cuda)
