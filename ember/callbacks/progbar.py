"""ProgbarLogger: progress bars (tqdm) or one line per epoch, the output of ``fit(verbose=...)``."""

from __future__ import annotations

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


def format_logs(logs: dict) -> str:
    """``"loss: 0.1234 - accuracy: 0.9500"``, the order the logs came in."""
    parts = []
    for k, v in logs.items():
        if isinstance(v, float):
            parts.append(f"{k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{k}: {v:.4e}")
        elif isinstance(v, int) and not isinstance(v, bool):
            parts.append(f"{k}: {v}")
    return " - ".join(parts)


class ProgbarLogger(Callback):
    """Prints training progress: ``verbose=1`` a tqdm bar per epoch, ``2`` one line per epoch.

    ``fit`` adds one automatically when ``verbose`` is not 0; it reads ``epochs``, ``steps`` and
    ``verbose`` from ``self.params``. ``tqdm`` is needed for ``verbose=1`` only.
    """

    def __init__(self, verbose: int | str = "auto"):
        super().__init__()
        self.verbose = resolve_verbose(verbose)
        self._bar = None
        self._start = 0.0
        self._in_fit = False
        self._test_start = 0.0

    def _make_bar(self, total, desc: str):
        try:
            from tqdm.auto import tqdm
        except ImportError as e:
            raise ImportError(
                "progress bars (verbose=1) need tqdm: pip install tqdm, or use verbose=2"
            ) from e
        return tqdm(total=total, desc=desc, unit="batch", file=sys.stdout, leave=True,
                    dynamic_ncols=True)

    def on_train_begin(self, logs=None) -> None:
        self._in_fit = True

    def on_train_end(self, logs=None) -> None:
        self._close()
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._start = time.perf_counter()
        epochs = self.params.get("epochs", "?")
        if self.verbose == 1:
            self._bar = self._make_bar(self.params.get("steps"), f"Epoch {epoch + 1}/{epochs}")

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        elapsed = time.perf_counter() - self._start
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._close()
        elif self.verbose == 2:
            epochs = self.params.get("epochs", "?")
            print(f"Epoch {epoch + 1}/{epochs} - {elapsed:.2f}s - {text}", flush=True)

    def on_test_begin(self, logs=None) -> None:
        if not self._in_fit:
            self._test_start = time.perf_counter()
            if self.verbose == 1:
                self._bar = self._make_bar(self.params.get("steps"), "Evaluate")

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        if not self._in_fit and self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)

    def on_test_end(self, logs=None) -> None:
        if self._in_fit:
            return
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._close()
        elif self.verbose == 2:
            print(f"Evaluate - {time.perf_counter() - self._test_start:.2f}s - {text}", flush=True)

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
