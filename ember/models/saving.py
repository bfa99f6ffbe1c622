"""Weights and whole models as safetensors files: ``get_weights``/``set_weights``,
``save_weights``/``load_weights``, ``save``/``load`` and :func:`load_model`.

``model.save(path)`` writes one safetensors file: the ``state_dict`` under its own keys (so
``model.load_state_dict(ember.load(path))`` and PyTorch's ``safetensors.torch.load_file`` read
it as a state dict), the optimizer's state beside it under ``optimizer.*`` keys (read back with
``ember.load(path, extra="optimizer")``), and in the header's metadata, as JSON, the
architecture (``get_config``) and the ``compile`` arguments that were names. No pickle: a file
names classes of ``ember.nn``, it never carries code.
"""

from __future__ import annotations

import inspect
import json
import os
from typing import Any

import numpy as np

from ember import serialization

# the metadata key of a model file: JSON with "class_name", "config", "compile"
MODEL_KEY = "ember.model"

check_suffix = serialization.check_suffix


def _compile_spec(model) -> dict[str, Any] | None:
    """The ``compile`` arguments that can be written as names (others are left out)."""
    args = model.__dict__.get("_compile_args")
    if not args:
        return None
    spec: dict[str, Any] = {}
    if isinstance(args["loss"], str):
        spec["loss"] = args["loss"]
    names = [m for m in args["metrics"] if isinstance(m, str)]
    if names and len(names) == len(args["metrics"]):
        spec["metrics"] = names
    opt = model.optimizer
    if opt is not None:
        group = opt.param_groups[0]
        hyper = {}
        for k, v in group.items():
            if k == "params":
                continue
            try:
                json.dumps(v)
            except (TypeError, ValueError):
                continue
            hyper[k] = v
        spec["optimizer"] = {"class_name": type(opt).__name__, "config": hyper}
    return spec


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
        check_suffix(path, "save_weights")
        serialization.save(self.state_dict(), os.fspath(path))

    def load_weights(self, path: str | os.PathLike, strict: bool = True):
        """Load weights written by :meth:`save_weights` or :meth:`save` (or any safetensors
        state dict)."""
        return self.load_state_dict(serialization.load(os.fspath(path)), strict=strict)

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole model to one safetensors file, atomically: the weights (a plain
        state dict), the optimizer's state when compiled, and the architecture and compile
        names as JSON metadata (see the module docstring).

        :func:`ember.models.load_model` rebuilds the model from it (for a model with a
        ``get_config``); :meth:`load` restores an existing model; ``load_state_dict(ember.load(
        path))`` and :meth:`load_weights` read its weights.
        """
        check_suffix(path, "save")
        try:
            config = self.get_config()
        except NotImplementedError:
            config = None
        meta = {"class_name": type(self).__name__, "config": config,
                "compile": _compile_spec(self)}
        extras: dict[str, Any] = {MODEL_KEY: json.dumps(meta)}
        if self.optimizer is not None:
            extras["optimizer"] = self.optimizer.state_dict()
        serialization.save(self.state_dict(), os.fspath(path), extras=extras)

    def load(self, path: str | os.PathLike, strict: bool = True) -> None:
        """Restore a :meth:`save` file: the weights, and the optimizer's state when this
        model is compiled and the file has one."""
        name = os.fspath(path)
        meta = serialization.load_metadata(name)
        if MODEL_KEY not in meta:
            state = serialization.load(name)
            if not isinstance(state, dict) or "model" not in state:
                raise ValueError(
                    f"{name!r} is not a Model.save file (no model metadata); for a plain state "
                    "dict use load_weights()"
                )
            # the older layout: {"model": state_dict, "optimizer": state}
            self.load_state_dict(state["model"], strict=strict)
            if self.optimizer is not None and "optimizer" in state:
                self.optimizer.load_state_dict(state["optimizer"])
            return
        self.load_state_dict(serialization.load(name), strict=strict)
        if self.optimizer is not None and "ember.extra.optimizer" in meta:
            self.optimizer.load_state_dict(serialization.load(name, extra="optimizer"))


def load_model(path: str | os.PathLike, custom_objects: dict | None = None,
               compile: bool = True):
    """A model rebuilt from a :meth:`Model.save` file: architecture, weights, and (with
    ``compile=True``) the compile settings that were names, with the optimizer's state.

    Args:
        path: a ``.safetensors`` file written by ``model.save``.
        custom_objects: ``{class name: class}`` for layers that are not in ``ember.nn``.
        compile: compile the model again when the file records a loss name.

    Raises:
        ValueError: the file has no architecture (a weights-only file, or a model without
            ``get_config``: build the model in code and call ``model.load(path)``).
    """
    from ember import optim
    from ember.models.model import Model
    from ember.models.sequential import Sequential

    name = os.fspath(path)
    check_suffix(name, "load_model")
    meta_text = serialization.load_metadata(name).get(MODEL_KEY)
    meta = json.loads(meta_text) if meta_text else None
    if not meta or not meta.get("config"):
        raise ValueError(
            f"{name!r} holds weights but no architecture ("
            + ("not written by Model.save" if not meta else
               f"{meta.get('class_name')} has no get_config") +
            "); build the model in code and call model.load(path) or model.load_weights(path)")
    cls = Sequential if meta["class_name"] == "Sequential" else Model
    model = cls.from_config(meta["config"], custom_objects=custom_objects)
    if cls is Model:
        model = Model(model)
    model.load_state_dict(serialization.load(name))
    spec = meta.get("compile") or {}
    if compile and spec.get("loss"):
        opt_spec = spec.get("optimizer")
        opt: Any = "rmsprop"
        if opt_spec and hasattr(optim, opt_spec["class_name"]):
            opt_cls = getattr(optim, opt_spec["class_name"])
            accepted = inspect.signature(opt_cls.__init__).parameters
            config = {k: tuple(v) if isinstance(v, list) else v
                      for k, v in opt_spec["config"].items() if k in accepted}
            opt = opt_cls(model.parameters(), **config)
        model.compile(optimizer=opt, loss=spec["loss"], metrics=spec.get("metrics"))
        try:
            model.optimizer.load_state_dict(serialization.load(name, extra="optimizer"))
        except KeyError:
            pass
    return model
