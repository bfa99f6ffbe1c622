"""Weights and checkpoints of a ``Model``: NumPy copies, safetensors files, and a checkpoint
that also holds the optimizer's state."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ember import serialization


class WeightsIO:
    """The ``get_weights``/``set_weights``/``save_weights``/``load_weights``/``save``/``load``
    methods of :class:`~ember.models.Model` (for a module with ``state_dict`` and an
    ``optimizer`` attribute)."""

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every ``state_dict`` entry as NumPy arrays, in ``state_dict`` order."""
        return [np.array(v.detach()) for v in self.state_dict().values()]

    def set_weights(self, weights: list) -> None:
        """Load arrays in the order of :meth:`get_weights`."""
        from ember.creation import tensor

        keys = list(self.state_dict())
        if len(weights) != len(keys):
            raise ValueError(f"set_weights expects {len(keys)} arrays (one per state_dict entry), "
                             f"got {len(weights)}")
        self.load_state_dict({k: tensor(np.asarray(w)) for k, w in zip(keys, weights)})

    def save_weights(self, path: str | os.PathLike) -> None:
        """Write ``state_dict()`` to a safetensors file (atomically, via :func:`ember.save`)."""
        serialization.save(self.state_dict(), os.fspath(path))

    def load_weights(self, path: str | os.PathLike, strict: bool = True):
        """Load weights written by :meth:`save_weights` (or any safetensors state dict)."""
        return self.load_state_dict(serialization.load(os.fspath(path)), strict=strict)

    def save(self, path: str | os.PathLike) -> None:
        """Write a checkpoint: ``{"model": state_dict, "optimizer": optimizer state}`` (the
        optimizer part only when compiled), one safetensors file written atomically.

        :meth:`load` reads it back; ``ember.load(path)["model"]`` is a plain state dict.
        """
        state: dict[str, Any] = {"model": self.state_dict()}
        if self.optimizer is not None:
            state["optimizer"] = self.optimizer.state_dict()
        serialization.save(state, os.fspath(path))

    def load(self, path: str | os.PathLike, strict: bool = True) -> None:
        """Restore a :meth:`save` checkpoint: the weights, and the optimizer's state when this
        model is compiled and the file has one."""
        state = serialization.load(os.fspath(path))
        if not isinstance(state, dict) or "model" not in state:
            raise ValueError(
                f"{os.fspath(path)!r} is not a Model.save checkpoint (no 'model' entry); for a "
                "plain state dict use load_weights()"
            )
        self.load_state_dict(state["model"], strict=strict)
        if self.optimizer is not None and "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
