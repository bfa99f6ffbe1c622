"""CSVLogger: write each epoch's logs as a row of a CSV file."""

from __future__ import annotations

import csv
import os

from ember.callbacks.callback import Callback


class CSVLogger(Callback):
    """Stream epoch results to a CSV file: an ``epoch`` column, then the log keys sorted by name.

    The columns come from the first epoch's logs (plus the ``val_*`` columns when ``fit``
    validates on later epochs only); a missing value is written as ``NA``.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (no second header) instead of overwriting it.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None) -> None:
        has_header = (self.append and os.path.exists(self.filename)
                      and os.path.getsize(self.filename) > 0)
        directory = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(directory, exist_ok=True)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._header_written = has_header
        self.keys = None
        self._writer = None

    def state_dict(self) -> dict:
        """The file's text so far and its columns: a run resumed by BackupAndRestore writes
        the file back as it was at the backup (rows of epochs redone after it are dropped) and
        appends to it."""
        text = ""
        if self._file is not None:
            self._file.flush()
        if os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                text = f.read()
        return {"text": text, "keys": self.keys}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or "text" not in state or "keys" not in state:
            raise ValueError("CSVLogger.load_state_dict expects {'text', 'keys'} from "
                             f"CSVLogger.state_dict(), got {state!r}")
        if self._file is not None:
            self._file.close()
        with open(self.filename, "w", newline="") as f:
            f.write(state["text"])
        self._file = open(self.filename, "a", newline="")
        self._header_written = bool(state["text"])
        self.keys = list(state["keys"]) if state["keys"] is not None else None
        self._writer = None
        if self.keys is not None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys,
                                          delimiter=self.sep, extrasaction="ignore")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self._file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
            if self.params.get("do_validation") and not any(k.startswith("val_") for k in logs):
                # fit(validation_freq=k) skipped validation on this first epoch: the header must
                # still have the val_* columns that later rows fill
                names = ["loss"] + list(getattr(self.model, "metrics_names", []))
                self.keys = sorted(self.keys + ["val_" + k for k in names if k in logs])
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys,
                                          delimiter=self.sep, extrasaction="ignore")
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch}
        for k in self.keys:
            v = logs.get(k, "NA")
            row[k] = repr(float(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None
