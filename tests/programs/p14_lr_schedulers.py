"""Learning-rate schedulers stepping with an optimizer: StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, LambdaLR, OneCycleLR, LinearLR, ReduceLROnPlateau, get_last_lr."""
import torch
import torch.nn as nn
from torch.optim import lr_scheduler


def run(make_scheduler, steps=8, plateau=False):
    param = nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _step in range(steps):
        optimizer.zero_grad()
        loss = (param ** 2).sum()
        loss.backward()
        optimizer.step()
        if plateau:
            scheduler.step(1.0)  # a loss that never improves
        else:
            scheduler.step()
        lrs.append(round(optimizer.param_groups[0]["lr"], 8))
    return lrs, param.detach().tolist()


print("StepLR", run(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5)))
print("MultiStepLR", run(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1)))
print("ExponentialLR", run(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.8)))
print("CosineAnnealingLR", run(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01)))
print("LambdaLR", run(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 1 / (1 + e))))
print("OneCycleLR", run(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=8)))
print("LinearLR", run(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4)))
print("ReduceLROnPlateau", run(lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5),
                               plateau=True))
opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)
opt.step()
sched.step()
print("get_last_lr", sched.get_last_lr())
