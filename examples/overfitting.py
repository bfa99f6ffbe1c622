"""Over-fitting in one picture: five noisy points from a line, fitted by a line and by a
degree-6 polynomial.

    python examples/overfitting.py               # writes runs/overfitting/overfitting.png
    python examples/overfitting.py --steps 500   # fewer optimisation steps (tests use this)

The line has 2 parameters, the polynomial 7. With 7 parameters and 5 points the polynomial can
pass through every training point (training error ~0) but it wiggles between them, so on fresh
points from the same line (the validation set) its error is larger than the line's. Both models
are ember modules trained with the low-level API: a loss, ``backward()`` and an optimizer.
"""

import argparse
import os

import numpy as np

import _common  # noqa: F401  (makes `import ember` work from a checkout)

import ember
import ember.nn as nn

SLOPE, INTERCEPT, NOISE = 2.0, 1.0, 0.4


class Polynomial(nn.Module):
    """``y = w0 + w1 x + ... + wd x^d``: ``degree + 1`` parameters."""

    def __init__(self, degree: int):
        super().__init__()
        self.degree = degree
        self.coef = nn.Parameter(ember.zeros(degree + 1))

    def forward(self, x):
        powers = ember.stack([x ** k for k in range(self.degree + 1)], dim=-1)  # (N, degree+1)
        return powers @ self.coef


def make_points(n: int, rng: np.random.Generator, spread: bool = False):
    """``n`` points of ``y = 2x + 1`` plus Gaussian noise, x in [-1, 1]."""
    x = np.linspace(-1, 1, n) if spread else np.sort(rng.uniform(-1, 1, n))
    y = SLOPE * x + INTERCEPT + rng.normal(0, NOISE, n)
    return x.astype(np.float32), y.astype(np.float32)


def fit(model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int, lr: float) -> float:
    """Minimise the mean squared error on (x, y) with Adam; returns the final training MSE."""
    opt = ember.optim.Adam(model.parameters(), lr=lr)
    xt, yt = ember.tensor(x), ember.tensor(y)
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
    return mse(model, x, y)


def mse(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of ``model`` on (x, y), without recording a graph."""
    with ember.no_grad():
        return float(((model(ember.tensor(x)) - ember.tensor(y)) ** 2).mean())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=int(os.environ.get("EMBER_STEPS", 3000)),
                        help="Adam steps per model (default 3000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("runs", "overfitting"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    ember.manual_seed(args.seed)
    x_train, y_train = make_points(5, rng)
    x_val, y_val = make_points(50, rng)

    models = {"line (2 parameters)": Polynomial(1), "polynomial (7 parameters)": Polynomial(6)}
    rows = []
    for name, model in models.items():
        train_err = fit(model, x_train, y_train, args.steps, lr=0.05)
        val_err = mse(model, x_val, y_val)
        n_params = sum(p.numel() for p in model.parameters())
        rows.append((name, n_params, train_err, val_err))

    print(f"5 training points, 50 validation points, y = {SLOPE}x + {INTERCEPT} + noise "
          f"(std {NOISE}); {args.steps} Adam steps per model")
    print(f"{'model':28s} {'params':>6s} {'train MSE':>10s} {'val MSE':>10s}")
    for name, n, tr, va in rows:
        print(f"{name:28s} {n:6d} {tr:10.5f} {va:10.5f}")
    (_, _, line_tr, line_va), (_, _, poly_tr, poly_va) = rows
    verdict = ("the polynomial over-fits: lower training error, higher validation error"
               if poly_tr < line_tr and poly_va > line_va else
               "no over-fitting visible at these settings (try more --steps)")
    print(verdict)

    path = plot(models, x_train, y_train, x_val, y_val, rows, args.out)
    if path:
        print(f"wrote {path}")
    return 0


def plot(models, x_train, y_train, x_val, y_val, rows, out):
    """Draw the points and both fits to ``out/overfitting.png`` (skipped without matplotlib)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("(matplotlib is not installed: no picture)")
        return None
    fig = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    grid = np.linspace(-1.05, 1.05, 300).astype(np.float32)
    ax.plot(grid, SLOPE * grid + INTERCEPT, color="gray", linestyle=":", label="true line")
    with ember.no_grad():
        for (name, model), (_, _, tr, va) in zip(models.items(), rows):
            ax.plot(grid, np.asarray(model(ember.tensor(grid))),
                    label=f"{name}: train MSE {tr:.3f}, val MSE {va:.3f}")
    ax.scatter(x_val, y_val, s=12, color="tab:green", alpha=0.5, label="validation points")
    ax.scatter(x_train, y_train, s=50, color="black", zorder=3, label="training points")
    ax.set_ylim(min(y_val.min(), y_train.min()) - 1.5, max(y_val.max(), y_train.max()) + 1.5)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Over-fitting: 7 parameters for 5 points")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "overfitting.png")
    fig.savefig(path)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
