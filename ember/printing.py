"""How tensors print, by PyTorch's rules: ``repr(t)``, ``str(t)``, ``print(t)`` and
:func:`set_printoptions` / :func:`get_printoptions`.

Loaded on the first print (``Tensor.__repr__`` imports it), so ``import ember`` does not pay
for it; ``ember.set_printoptions`` loads it too.
"""

from __future__ import annotations

import math

import numpy as np

from ember import backend
from ember.tensor import Tensor

_PRINT_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_PRINT_OPTS = dict(_PRINT_PROFILES["default"], sci_mode=None)


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as ``torch.set_printoptions``.

    ``precision``: digits after the point (4); ``threshold``: element count past which only
    ``edgeitems`` (3) items at each end of each dim are shown (1000); ``linewidth``: characters
    per line (80); ``profile``: ``"default"``, ``"short"`` or ``"full"`` (everything printed) sets
    all four first; ``sci_mode``: ``True`` always scientific, ``False`` never, ``None``
    automatic. As in PyTorch, ``sci_mode`` is reset to ``None`` whenever it is not passed.
    """
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of "
                             f"{sorted(_PRINT_PROFILES)}")
        _PRINT_OPTS.update(_PRINT_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _PRINT_OPTS[key] = value
    _PRINT_OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options (the keys :func:`set_printoptions` takes, without ``profile``);
    ``set_printoptions(**get_printoptions())`` restores them."""
    return dict(_PRINT_OPTS)


class _ElementFormat:
    """How every element of one tensor prints, as PyTorch decides it from the values shown: one
    common width and, for floats, fixed point with ``precision`` decimals, whole numbers as
    ``"1."``, or scientific notation (when the nonzero magnitudes span more than 1000x, exceed
    1e8 or fall below 1e-4, unless ``sci_mode`` decides). With no finite nonzero value the
    format stays whole-number style of width 1."""

    def __init__(self, shown: np.ndarray):
        self.floating = shown.dtype.kind == "f"
        self.precision = int(_PRINT_OPTS["precision"])
        self.whole, self.sci, self.width = True, False, 1
        if not self.floating:
            self.width = max((len(str(v)) for v in shown.ravel().tolist()), default=1)
            return
        values = shown.astype(np.float64).ravel()
        finite = values[np.isfinite(values) & (values != 0)]
        if finite.size:
            mags = np.abs(finite)
            low, high = float(mags.min()), float(mags.max())
            self.whole = bool(np.all(finite == np.ceil(finite)))
            forced = _PRINT_OPTS["sci_mode"]
            self.sci = (high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4) if forced is None \
                else bool(forced)
            p = self.precision
            numbers = finite.tolist()
            if self.sci:
                self.width = max(len(f"{v:.{p}e}") for v in numbers)
            elif self.whole:
                self.width = max(len(f"{v:.0f}") for v in numbers) + 1  # the trailing "."
            else:
                self.width = max(len(f"{v:.{p}f}") for v in numbers)

    def __call__(self, v) -> str:
        if not self.floating:
            text = str(v)
        elif self.sci:
            text = f"{v:.{self.precision}e}"
        elif self.whole:
            text = f"{v:.0f}" + ("." if math.isfinite(v) else "")
        else:
            text = f"{v:.{self.precision}f}"
        return text.rjust(self.width)


def _summarized(a: np.ndarray, edge: int) -> np.ndarray:
    """The elements a summarised print shows (``edge`` at each end of each dim), to choose the
    format from."""
    if a.ndim == 0:
        return a
    n = a.shape[0]
    if a.ndim == 1:
        return np.concatenate((a[:edge], a[n - edge:])) if n > 2 * edge else a
    if not edge:
        return a[:0]
    rows = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return np.stack([_summarized(a[i], edge) for i in rows])


def _nested_text(a: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormat) -> str:
    """The bracketed values of ``a``, each row wrapped to the line width, PyTorch's layout."""
    edge = int(_PRINT_OPTS["edgeitems"])
    if a.ndim == 0:
        return fmt(a.item())
    n = a.shape[0]
    cut = summarize and n > 2 * edge
    if a.ndim == 1:
        if summarize and not edge:
            items = ["..."]
        elif cut:
            items = ([fmt(v) for v in a[:edge].tolist()] + [" ..."]
                     + [fmt(v) for v in a[n - edge:].tolist()])
        else:
            items = [fmt(v) for v in a.tolist()]
        per_line = max(1, (int(_PRINT_OPTS["linewidth"]) - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = list(range(edge)) + [None] + list(range(n - edge, n)) if cut else range(n)
    parts = ["..." if i is None else _nested_text(a[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _format_array(a: np.ndarray, indent: int = len("tensor(")) -> str:
    """The values part of a tensor's repr under the current print options, as PyTorch prints."""
    if a.size == 0:
        return "[]"
    threshold = _PRINT_OPTS["threshold"]
    summarize = threshold != math.inf and a.size > threshold
    shown = _summarized(a, int(_PRINT_OPTS["edgeitems"])) if summarize else a
    return _nested_text(a, indent, summarize, _ElementFormat(shown))


def _with_suffixes(text: str, suffixes: list, indent: int) -> str:
    """``text`` followed by ``, suffix`` items, each moved to its own line when it would pass
    the line width, then the closing parenthesis."""
    width = int(_PRINT_OPTS["linewidth"])
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > width:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t: Tensor) -> str:
    """``repr(t)``: ``tensor(<values>, <suffixes>)``, the values laid out as PyTorch does and the
    suffixes (device, dtype, size, grad_fn or requires_grad) where PyTorch shows them."""
    a = backend.move_array(t._data, backend.CPU)
    prefix = "tensor("
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    d = t.dtype
    default = backend.get_default_dtype()
    if a.size == 0:
        if a.ndim != 1:  # as NumPy, the shape of an empty tensor shows unless it is (0,)
            suffixes.append(f"size={tuple(a.shape)}")
        if d != default:  # no element to tell an integer tensor by
            suffixes.append(f"dtype={d}")
    elif d not in (default, backend.int64, backend.bool_):
        suffixes.append(f"dtype={d}")
    if t._node is not None:
        suffixes.append(f"grad_fn=<{t._node.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + _format_array(a, len(prefix)), suffixes, len(prefix))
