"""ProgbarLogger: progress bars (tqdm) or one line per epoch, the output of ``fit(verbose=...)``.

The per-epoch summary always shows every metric: it is wrapped onto further lines (indented)
at the terminal's width instead of being cut, as Keras' summary wraps. The live batch bar
(``verbose=1``) shrinks to the width and shows only the metrics that fit; it is drawn only on a
terminal or in Jupyter, so logs written to a file or pipe get the summary lines alone.
"""

from __future__ import annotations

import shutil
import sys
import time

from ember.callbacks.callback import Callback


def in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        return shell.get_ipython() is not None
    except Exception:
        return False


def resolve_verbose(verbose) -> int:
    """``0``, ``1`` or ``2`` from a ``verbose`` argument.

    ``"auto"`` is 1 (a live progress bar) in a terminal or Jupyter, and 2 (one line per epoch)
    when output goes to a file or pipe, so logs stay free of progress-bar redraws.
    """
    if verbose == "auto":
        try:
            tty = sys.stdout.isatty()
        except (AttributeError, ValueError):
            tty = False
        return 1 if tty or in_notebook() else 2
    if verbose in (0, 1, 2) or verbose in (False, True):
        return int(verbose)
    raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")


def log_fields(logs: dict) -> list[str]:
    """``["loss: 0.1234", "accuracy: 0.9500"]``, in the order the logs came in."""
    parts = []
    for k, v in logs.items():
        if isinstance(v, float):
            parts.append(f"{k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{k}: {v:.4e}")
        elif isinstance(v, int) and not isinstance(v, bool):
            parts.append(f"{k}: {v}")
    return parts


def format_logs(logs: dict) -> str:
    """``"loss: 0.1234 - accuracy: 0.9500"``, the order the logs came in."""
    return " - ".join(log_fields(logs))


def terminal_width() -> int:
    """The width of the terminal (``COLUMNS`` when set; 80 when it cannot be known)."""
    return max(20, shutil.get_terminal_size(fallback=(80, 24)).columns)


def wrap_fields(fields: list[str], width: int, indent: str = "    ") -> str:
    """``fields`` joined by ``" - "``, broken into lines of at most ``width`` characters between
    fields (never inside one); lines after the first start with ``indent``."""
    lines: list[str] = []
    line = ""
    for f in fields:
        if not line:
            line = (indent if lines else "") + f
        elif len(line) + 3 + len(f) <= width:
            line += " - " + f
        else:
            lines.append(line)
            line = indent + f
    if line:
        lines.append(line)
    return "\n".join(lines)


def _fitting(fields: list[str], room: int) -> str:
    """As many leading ``fields`` as fit in ``room`` characters."""
    out = ""
    for f in fields:
        candidate = f if not out else out + " - " + f
        if len(candidate) > room:
            break
        out = candidate
    return out


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}"
BAR_META = 40  # the characters the bar's own text takes besides the description and postfix


class ProgbarLogger(Callback):
    """Prints training progress: ``verbose=1`` a tqdm bar per epoch, ``2`` one line per epoch.

    Both end each epoch with a summary of every metric, wrapped at the terminal's width (see the
    module doc). ``fit`` adds one automatically when ``verbose`` is not 0; it reads ``epochs``,
    ``steps`` and ``verbose`` from ``self.params``. ``tqdm`` is needed for ``verbose=1`` on a
    terminal only.
    """

    def __init__(self, verbose: int | str = "auto"):
        super().__init__()
        self.verbose = resolve_verbose(verbose)
        self._bar = None
        self._start = 0.0
        self._in_fit = False
        self._test_start = 0.0
        self._seen = 0

    def _make_bar(self, total, desc: str):
        notebook = in_notebook()
        if not notebook and not _is_terminal(sys.stdout):
            return None  # a file or pipe: no redraws, the summary lines only
        try:
            from tqdm.auto import tqdm
        except ImportError as e:
            raise ImportError(
                "progress bars (verbose=1) need tqdm: pip install tqdm, or use verbose=2"
            ) from e
        if notebook:
            return tqdm(total=total, desc=desc, unit="batch", leave=False)
        return tqdm(total=total, desc=desc, unit="batch", file=sys.stdout, leave=False,
                    dynamic_ncols=True, bar_format=BAR_FORMAT)

    def _postfix(self, logs: dict | None) -> None:
        if self._bar is not None:
            room = terminal_width() - BAR_META - len(self._bar.desc) - 2
            self._bar.set_postfix_str(_fitting(log_fields(logs or {}), room), refresh=False)

    def _steps(self) -> str:
        """``" - 3/3"`` (batches done / per epoch) under ``verbose=1``, as the bar showed."""
        if self.verbose != 1:
            return ""
        total = self.params.get("steps")
        return f" - {self._seen}/{total if total else self._seen}"

    def _summary(self, head: str, logs: dict | None) -> None:
        # wrapped on a terminal only: a log file keeps one greppable line per epoch
        width = terminal_width() if _is_terminal(sys.stdout) else 1 << 30
        print(wrap_fields([head] + log_fields(logs or {}), width), flush=True)

    def on_train_begin(self, logs=None) -> None:
        self._in_fit = True

    def on_train_end(self, logs=None) -> None:
        self._close()
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._start = time.perf_counter()
        self._seen = 0
        epochs = self.params.get("epochs", "?")
        if self.verbose == 1:
            self._bar = self._make_bar(self.params.get("steps"), f"Epoch {epoch + 1}/{epochs}")

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._seen += 1
        if self._bar is not None:
            self._bar.update(1)
            self._postfix(logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        elapsed = time.perf_counter() - self._start
        self._close()
        if self.verbose in (1, 2):
            epochs = self.params.get("epochs", "?")
            self._summary(f"Epoch {epoch + 1}/{epochs}{self._steps()} - {elapsed:.2f}s", logs)

    def on_test_begin(self, logs=None) -> None:
        if not self._in_fit:
            self._test_start = time.perf_counter()
            self._seen = 0
            if self.verbose == 1:
                self._bar = self._make_bar(self.params.get("steps"), "Evaluate")

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        if not self._in_fit:
            self._seen += 1
        if not self._in_fit and self._bar is not None:
            self._bar.update(1)
            self._postfix(logs)

    def on_test_end(self, logs=None) -> None:
        if self._in_fit:
            return
        self._close()
        if self.verbose in (1, 2):
            self._summary(f"Evaluate{self._steps()} - "
                          f"{time.perf_counter() - self._test_start:.2f}s", logs)

    def on_predict_begin(self, logs=None) -> None:
        if self.verbose == 1:
            self._bar = self._make_bar(self.params.get("steps"), "Predict")

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def on_predict_end(self, logs=None) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
