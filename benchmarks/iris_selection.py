"""How the Iris lab's multi-layer network was chosen: 5-fold cross-validation inside the
training parts only.

For each of the lab's 10 splits (seeds 0-9), the 120 training flowers are cut into 5 folds; every
candidate is trained on 4 folds (96 flowers, standardised with their own statistics) and scored
on the fifth. The test flowers are never read. Candidates: a linear softmax layer and 4-H-3
networks (H = 8, 16, 32; ReLU or tanh), AdamW (lr 0.01) with weight decay 0, 0.01 or 0.1,
full-batch, scored after 250, 500, 1000, 2000 and 4000 steps. The ranking is printed; the lab uses
the winner.

The networks are written out by hand in NumPy (forward, backward, AdamW with PyTorch's update
and ember's default initialisation): 3,600 short trainings of a 67-parameter model run ~9 minutes
this way, where the per-op overhead of any framework would make it an hour.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.iris_selection

(one BLAS thread: on 4x8 matrices extra threads only add synchronisation, and with another busy
process on the machine they make the run many times slower.)
"""

from __future__ import annotations

import numpy as np

from ember.datasets.iris import Iris, iris_split_indices

STEPS = (250, 500, 1000, 2000, 4000)
LR = 0.01
FOLDS = 5
GRID = ([(0, "-", wd) for wd in (0.0, 1e-2, 1e-1)]
        + [(h, act, wd) for h in (8, 16, 32) for act in ("relu", "tanh")
           for wd in (0.0, 1e-2, 1e-1)])


def _forward(params, x, hidden, act):
    if hidden == 0:
        return x @ params[0] + params[1], None, None
    a = x @ params[0] + params[1]
    h = np.maximum(a, 0) if act == "relu" else np.tanh(a)
    return h @ params[2] + params[3], a, h


def train(x, y, hidden: int, act: str, weight_decay: float, seed: int) -> dict[int, list]:
    """Full-batch AdamW on softmax cross-entropy; the parameters after each count in STEPS."""
    rng = np.random.default_rng(seed)
    d = x.shape[1]

    def uniform(shape, fan_in):  # nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        return rng.uniform(-1, 1, shape) / np.sqrt(fan_in)

    if hidden == 0:
        params = [uniform((d, 3), d), uniform(3, d)]
    else:
        params = [uniform((d, hidden), d), uniform(hidden, d),
                  uniform((hidden, 3), hidden), uniform(3, hidden)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(3)[y]
    kept = {}
    for t in range(1, max(STEPS) + 1):
        z, a, h = _forward(params, x, hidden, act)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        gz = (p - onehot) / len(x)
        if hidden == 0:
            grads = [x.T @ gz, gz.sum(0)]
        else:
            gh = gz @ params[2].T
            ga = gh * (a > 0) if act == "relu" else gh * (1 - h * h)
            grads = [x.T @ ga, ga.sum(0), h.T @ gz, gz.sum(0)]
        for i, (param, g) in enumerate(zip(params, grads)):
            param *= 1 - LR * weight_decay
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            param -= LR * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
        if t in STEPS:
            kept[t] = [q.copy() for q in params]
    return kept


def cross_validate() -> dict[tuple, list[float]]:
    """Fold accuracies of every (hidden, activation, weight decay, steps) over all 10 splits."""
    x_all, y_all = (np.array(t) for t in Iris().tensors())
    x_all = x_all.astype(np.float64)
    scores: dict[tuple, list[float]] = {}
    for split_seed in range(10):
        train_idx, _ = iris_split_indices(y_all, 0.2, split_seed)  # the test part is not used
        x, y = x_all[train_idx], y_all[train_idx]
        folds = np.array_split(np.arange(len(x)), FOLDS)  # train_idx is already shuffled
        for hidden, act, wd in GRID:
            for k, fold in enumerate(folds):
                fit = np.setdiff1d(np.arange(len(x)), fold)
                mean, std = x[fit].mean(0), x[fit].std(0)
                for steps, params in train((x[fit] - mean) / std, y[fit], hidden, act, wd,
                                           seed=k).items():
                    logits = _forward(params, (x[fold] - mean) / std, hidden, act)[0]
                    scores.setdefault((hidden, act, wd, steps), []).append(
                        float((logits.argmax(1) == y[fold]).mean()))
        print(f"split {split_seed} done", flush=True)
    return scores


def main() -> None:
    ranked = sorted(cross_validate().items(), key=lambda kv: -np.mean(kv[1]))
    print("5-fold CV accuracy inside the training parts of split seeds 0-9 (1,200 predictions)")
    print(f"{'hidden':>6s} {'act':>5s} {'weight decay':>12s} {'steps':>6s} {'CV accuracy %':>14s}")
    for (hidden, act, wd, steps), accs in ranked[:15] + ranked[-3:]:
        name = "linear" if hidden == 0 else str(hidden)
        print(f"{name:>6s} {act:>5s} {wd:12g} {steps:6d} {np.mean(accs) * 100:14.2f}")


if __name__ == "__main__":
    main()
