"""Reference for the Iris lab: what PyTorch reaches on exactly the lab's splits.

The same 10 stratified 120/30 splits (seeds 0-9) and standardisation as ``ember lab``, a linear
softmax classifier and a 4-16-3 ReLU network trained full-batch with Adam (lr 0.01) for 3000
steps on all 120 training flowers, with and without weight decay. It answers whether a miss
against the SPEC's Iris targets is ember's doing or the data's.

    python -m benchmarks.iris_reference
"""

from __future__ import annotations

import numpy as np
import torch

from ember import lab


def reference(kind: str, weight_decay: float, steps: int = 3000) -> list[float]:
    torch.manual_seed(0)
    accuracies = []
    for split_seed in lab.IRIS_SPLIT_SEEDS:
        d = lab.iris_data(split_seed)
        x = torch.tensor(np.concatenate([d.x_train, d.x_val]))
        y = torch.tensor(np.concatenate([d.y_train, d.y_val]))
        model = (torch.nn.Linear(4, 3) if kind == "linear" else
                 torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)))
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=weight_decay)
        for _ in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        with torch.no_grad():
            pred = model(torch.tensor(d.x_test)).argmax(1).numpy()
        accuracies.append(float((pred == d.y_test).mean()))
    return accuracies


def main() -> None:
    print("PyTorch on the lab's Iris splits (seeds 0-9), test accuracy %")
    print(f"{'model':8s} {'weight decay':>12s} {'mean':>7s} {'seed 0':>7s}  per split")
    for kind in ("linear", "mlp"):
        for wd in (0.0, 1e-3):
            accs = reference(kind, wd)
            per = " ".join(f"{a * 100:.1f}" for a in accs)
            print(f"{kind:8s} {wd:12g} {np.mean(accs) * 100:7.2f} {accs[0] * 100:7.2f}  {per}")


if __name__ == "__main__":
    main()
