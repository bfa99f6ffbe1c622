"""Keras' smaller ``Model`` methods: ``layers``, ``count_params``, ``train_on_batch`` /
``test_on_batch`` / ``predict_on_batch``, and ``get_config`` / ``from_config``.

A layer's config is read from the attributes PyTorch-style layers keep under their constructor
arguments' names (``Linear.in_features``, ``Conv2d.kernel_size``, ``Dropout.p``, ...), so every
ember layer has one without code of its own; a layer that keeps an argument under another name
(or a model whose ``forward`` is hand-written) has none, and ``get_config`` says so. Classes are
looked up only in ``ember.nn`` (and in ``custom_objects``): a config names classes, it never runs
code of its own.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ember.nn import Module
from ember.tensor import Tensor

# constructor arguments a config leaves out: where a layer lives is not part of its architecture
_SKIPPED = {"device", "dtype", "_stacklevel"}


def _json_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_json_value(v, where) for v in value]
    raise NotImplementedError(f"{where} is a {type(value).__name__}, which a config cannot hold")


def layer_config(layer: Module) -> dict[str, Any]:
    """``{"class_name", "config"}`` for an ember layer (``Sequential`` nests its layers)."""
    from ember.models.sequential import Sequential

    cls = type(layer)
    if isinstance(layer, Sequential) or cls.__name__ == "Sequential":
        return {"class_name": "Sequential",
                "config": {"layers": [layer_config(m) for m in layer.children()]}}
    config: dict[str, Any] = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or name in _SKIPPED or param.kind in (param.VAR_POSITIONAL,
                                                                  param.VAR_KEYWORD):
            continue
        if name in layer.__dict__.get("_parameters", {}) or name in layer.__dict__.get("_buffers", {}):
            # PyTorch's bias=True/False argument becomes a Parameter or None attribute
            config[name] = getattr(layer, name) is not None
            continue
        if name not in layer.__dict__:
            if param.default is param.empty:
                raise NotImplementedError(
                    f"{cls.__name__} keeps no attribute {name!r} for its constructor argument, so "
                    "its config cannot be read; give the model a get_config() of its own")
            continue
        value = layer.__dict__[name]
        if isinstance(value, (Tensor, Module)):
            raise NotImplementedError(f"{cls.__name__}.{name} is a {type(value).__name__}; "
                                      "a config holds only numbers, strings and lists")
        config[name] = _json_value(value, f"{cls.__name__}.{name}")
    return {"class_name": cls.__name__, "config": config}


def _class_for(name: str, custom_objects: dict | None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    from ember import nn
    from ember.models.sequential import Sequential

    if name == "Sequential":
        return Sequential
    cls = getattr(nn, name, None)
    if not (inspect.isclass(cls) and issubclass(cls, Module)):
        raise ValueError(f"unknown layer class {name!r} in the config: not in ember.nn; pass "
                         f"custom_objects={{{name!r}: YourLayer}}")
    return cls


def layer_from_config(spec: dict[str, Any], custom_objects: dict | None = None) -> Module:
    """The layer (or ``Sequential``) described by :func:`layer_config`'s output."""
    cls = _class_for(spec["class_name"], custom_objects)
    config = dict(spec.get("config") or {})
    if spec["class_name"] == "Sequential" and "layers" in config:
        return cls(*[layer_from_config(s, custom_objects) for s in config["layers"]])
    # JSON has no tuples; layers' shape arguments (kernel_size, normalized_shape, ...) are
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})


class KerasAPI:
    """The methods of this module's docstring, mixed into :class:`~ember.models.Model`."""

    @property
    def layers(self) -> list[Module]:
        """The model's top-level layers, in order (its child modules; a wrapped module with no
        children is itself the one layer)."""
        children = list(self.children())
        wrapped = self.__dict__.get("_wrapped")
        return [wrapped] if not children and wrapped is not None else children

    def count_params(self) -> int:
        """The number of scalar parameters (trainable or not), as Keras counts them."""
        return int(sum(p.numel() for p in self.parameters()))

    # ------------------------------------------------------------------------ on one batch

    def _batch_tensors(self, *values):
        from ember.models.data_adapter import as_array

        device = next(iter(self.parameters()), None)
        device = device.device if device is not None else None
        out = []
        for i, v in enumerate(values):
            if v is None:
                out.append(None)
                continue
            t = v if isinstance(v, Tensor) else Tensor._wrap(as_array(v, "batch", i == 0))
            out.append(t.to(device) if device is not None and t.device != device else t)
        return out

    def _batch_result(self, logs: dict, return_dict: bool):
        from ember.models.epoch_logs import as_scalar

        logs = {k: as_scalar(v) for k, v in logs.items()}
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[n] for n in self.metrics_names if n in logs]
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight: dict | None = None,
                       return_dict: bool = False):
        """One gradient step on the batch ``(x, y)``; returns its loss (a float) when no metrics
        are compiled, else ``[loss, metric, ...]``, or a dict with ``return_dict=True``.

        As in Keras 3, the metrics keep accumulating over successive calls until
        :meth:`reset_metrics`; the loss is this batch's. ``class_weight`` maps class indices to
        weights for this batch (multiplied into ``sample_weight``).
        """
        self._check_compiled("train_on_batch")
        x, y, w = self._batch_tensors(x, y, sample_weight)
        if class_weight is not None:
            from ember.models.weighting import class_weight_table

            labels = np.asarray(y.detach()).reshape(len(y), -1)
            labels = labels.argmax(1) if labels.shape[1] > 1 else np.rint(labels[:, 0]).astype(int)
            table = class_weight_table(class_weight, int(labels.max()) + 1, self._loss_kind)
            cw = Tensor._wrap(table[labels].astype(np.float32))
            w = cw if w is None else w * cw.to(w.device)
        self.train()
        logs = self.train_step((x, y) if w is None else (x, y, w))
        return self._batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss and metrics on one batch without training (eval mode, no gradients); returns
        as :meth:`train_on_batch` does."""
        from ember.autograd.grad_mode import no_grad

        self._check_compiled("test_on_batch")
        x, y, w = self._batch_tensors(x, y, sample_weight)
        self.eval()
        with no_grad():
            logs = self.test_step((x, y) if w is None else (x, y, w))
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """The model's output on one batch, as a NumPy array (eval mode, no gradients)."""
        from ember.autograd.grad_mode import no_grad

        (x,) = self._batch_tensors(x)
        self.eval()
        with no_grad():
            out = self.predict_step((x,))
        return np.asarray(out.detach().cpu()) if isinstance(out, Tensor) else out

    # ---------------------------------------------------------------------------- configs

    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-able data: for a ``Sequential`` (or ``Model(module)`` of one)
        its layers' classes and constructor arguments; :meth:`from_config` builds it again.

        Raises:
            NotImplementedError: for a model whose ``forward`` is its own code (a subclass, or a
                wrapped custom module): override ``get_config``/``from_config`` there.
        """
        from ember.models.sequential import Sequential

        wrapped = self.__dict__.get("_wrapped")
        target = self if wrapped is None else wrapped
        if isinstance(target, Sequential) or type(target).__name__ == "Sequential":
            spec = layer_config(target)
            return {"name": type(self).__name__, "layers": spec["config"]["layers"]}
        raise NotImplementedError(
            f"{type(target).__name__} has its own forward(), so its architecture cannot be read "
            "from its layers; define get_config() (and a classmethod from_config(config)) on it, "
            "or build it as a Sequential")

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None):
        """A new model (fresh weights) from :meth:`get_config`'s output."""
        from ember.models.sequential import Sequential

        layers = [layer_from_config(s, custom_objects) for s in config["layers"]]
        target = cls if issubclass(cls, Sequential) else Sequential
        return target(*layers)
