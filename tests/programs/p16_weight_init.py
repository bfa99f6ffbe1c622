"""Weight initialisation: model.apply with an init function, the deterministic nn.init
functions (constant_, ones_, zeros_, eye_, dirac_), calculate_gain, and the bounds and
properties of the random ones (uniform_, kaiming_uniform_, xavier_uniform_, orthogonal_)."""
import math

import torch
import torch.nn as nn


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.05)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Conv2d):
        nn.init.dirac_(m.weight)
        nn.init.ones_(m.bias)


model = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
model.apply(init_weights)
x = torch.arange(32.0).reshape(1, 2, 4, 4)
print("output", model(x).tolist())
print("gains", [nn.init.calculate_gain(n) for n in ["linear", "relu", "tanh", "sigmoid"]],
      nn.init.calculate_gain("leaky_relu", 0.2))

w = torch.empty(5, 5)
nn.init.eye_(w)
print("eye trace", w.trace().item())
torch.manual_seed(0)
w = torch.empty(64, 32)
nn.init.uniform_(w, -0.3, 0.3)
print("uniform in bounds", bool(w.abs().max() <= 0.3))
nn.init.kaiming_uniform_(w, a=math.sqrt(5))
bound = math.sqrt(6 / ((1 + 5) * 32))
print("kaiming in bounds", bool(w.abs().max() <= bound + 1e-7))
nn.init.xavier_uniform_(w, gain=2.0)
print("xavier in bounds", bool(w.abs().max() <= 2.0 * math.sqrt(6 / 96) + 1e-7))
nn.init.normal_(w, mean=3.0, std=0.01)
print("normal mean", round(w.mean().item(), 1))
q = torch.empty(6, 4)
nn.init.orthogonal_(q)
print("orthogonal", round((q.t() @ q - torch.eye(4)).abs().max().item(), 4))
nn.init.trunc_normal_(q, std=1.0, a=-0.5, b=0.5)
print("trunc_normal in bounds", bool(q.abs().max() <= 0.5))
