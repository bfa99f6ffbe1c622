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


MARKER_EPOCHS = 30  # markers on every point up to this many epochs; lines alone beyond


def _higher_is_better(name: str) -> bool:
    return not any(w in name for w in ("loss", "error", "mse", "mae", "entropy", "divergence"))


def plot_history(history, path: str | os.PathLike | None = None,
                 metrics: list[str] | None = None, title: str | None = None) -> Any:
    """Draw ``history``'s curves; see :meth:`ember.callbacks.history.History.plot`."""
    from matplotlib.ticker import MaxNLocator

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
    if title is None:
        title = (getattr(history, "settings", None) or {}).get("model")

    def xs_of(key):  # 1-based, as the progress bar numbers epochs
        return [e + 1 for e in history.epochs_for(key)]

    best = best_x = None
    if data.get("val_loss"):
        vl = data["val_loss"]
        finite = [i for i, v in enumerate(vl) if math.isfinite(float(v))]
        if finite:
            best = min(finite, key=lambda i: vl[i])
            best_x = xs_of("val_loss")[best]
    n_epochs = max((len(v) for v in data.values()), default=0)
    marker = "o" if n_epochs <= MARKER_EPOCHS else None
    last_x = max((xs_of(k)[-1] for k in data if data[k]), default=1)

    cols = min(len(metrics), 2)
    rows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(6 * cols, 4 * rows + (0.4 if title else 0)), dpi=100)
    FigureCanvasAgg(fig)
    for n, name in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, n + 1)
        curves = {}
        for key, label, style in ((name, "training", "-"), ("val_" + name, "validation", "--")):
            values = data.get(key)
            if values:
                xs, ys = xs_of(key), [float(v) for v in values]
                curves[label] = dict(zip(xs, ys))
                ax.plot(xs, ys, style, marker=marker, markersize=3, linewidth=1.5, label=label)
        if len(curves) == 2:
            # the generalisation gap, where both curves have a value
            common = [x for x in curves["validation"] if x in curves["training"]]
            ax.fill_between(common, [curves["training"][x] for x in common],
                            [curves["validation"][x] for x in common], color="tab:red",
                            alpha=0.12, linewidth=0, label="validation - training gap")
        if best_x is not None:
            ax.axvline(best_x, color="gray", linestyle=":", linewidth=1.5)
            text = f"best epoch {best_x}"
            if name == "loss":
                text += f"\nval_loss {float(data['val_loss'][best]):.4f}"
            # inside the axes: left of the line when it is in the right half; at the bottom for
            # accuracy-like curves (they approach the top), at the top for losses
            right_half = best_x > 1 + 0.5 * (last_x - 1)
            top = not _higher_is_better(name)
            ax.annotate(text, xy=(best_x, 0.98 if top else 0.02),
                        xycoords=("data", "axes fraction"),
                        xytext=(-4 if right_half else 4, 0), textcoords="offset points",
                        ha="right" if right_half else "left", va="top" if top else "bottom",
                        fontsize=8, color="dimgray",
                        bbox=dict(boxstyle="round,pad=0.2", facecolor="white", alpha=0.8,
                                  edgecolor="none"))
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if last_x <= 1:
            ax.set_xlim(0.5, 1.5)
        ax.grid(True, alpha=0.3)
    # one legend for the figure, below the panels, so that it never covers a curve or a label
    handles, labels = fig.axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9,
                   frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    legend_room = 0.45 / fig.get_figheight() if handles else 0.0
    fig.tight_layout(rect=(0, legend_room, 1, 1))
    if path is None:
        return fig
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fig.savefig(path, format="png")
    return path
