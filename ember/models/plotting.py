"""Learning-curve figures for :meth:`History.plot` (matplotlib, off-screen)."""

from __future__ import annotations

import math
import os
from typing import Any


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("History.plot needs matplotlib: pip install matplotlib") from e
    return Figure, FigureCanvasAgg


def plot_history(history, path: str | os.PathLike | None = None,
                 metrics: list[str] | None = None) -> Any:
    """Draw ``history``'s curves; see :meth:`ember.models.history.History.plot`."""
    Figure, FigureCanvasAgg = _matplotlib()
    data = history.history
    if metrics is None:
        metrics = [k for k in data if not k.startswith("val_") and k != "learning_rate"]
        metrics += [k[4:] for k in data if k.startswith("val_") and k[4:] not in data]
    else:
        unknown = [m for m in metrics if m not in data and "val_" + m not in data]
        if unknown:
            raise KeyError(f"History.plot: no values for {unknown}; recorded: {', '.join(data)}")
    if not metrics:
        raise ValueError("History.plot: the history is empty; train the model first")

    def xs_of(key):  # 1-based, as the progress bar numbers epochs
        return [e + 1 for e in history.epochs_for(key)]

    best = best_x = None
    if data.get("val_loss"):
        vl = data["val_loss"]
        finite = [i for i, v in enumerate(vl) if math.isfinite(float(v))]
        if finite:
            best = min(finite, key=lambda i: vl[i])
            best_x = xs_of("val_loss")[best]

    cols = min(len(metrics), 2)
    rows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(6 * cols, 4 * rows), dpi=100)
    FigureCanvasAgg(fig)
    for n, name in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, n + 1)
        for key, label, style in ((name, "training", "-"), ("val_" + name, "validation", "--")):
            values = data.get(key)
            if values:
                ax.plot(xs_of(key), [float(v) for v in values], style, marker="o",
                        markersize=3, label=label)
        if best_x is not None:
            ax.axvline(best_x, color="gray", linestyle=":", linewidth=1.5)
            text = f"best epoch {best_x}"
            if name == "loss":
                text += f"\nval_loss {float(data['val_loss'][best]):.4f}"
            ax.annotate(text, xy=(best_x, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(4, -4), textcoords="offset points", va="top", fontsize=8,
                        color="dimgray")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    if path is None:
        return fig
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fig.savefig(path, format="png")
    return path
