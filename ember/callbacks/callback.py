"""The :class:`Callback` base class and :class:`CallbackList`, which fans every event out."""

from __future__ import annotations

from typing import Any, Iterable


class Callback:
    """Base class of objects that ``fit``/``evaluate``/``predict`` notify as they run.

    Override the ``on_*`` methods you need; each receives a ``logs`` dict (epoch-level logs hold
    ``loss``, the metrics, and their ``val_`` counterparts). ``self.model`` is the model being
    trained (set by :meth:`set_model`) and ``self.params`` holds ``epochs``, ``steps``,
    ``verbose``. Setting ``self.model.stop_training = True`` ends training after the current
    batch.
    """

    def __init__(self) -> None:
        self.model = None
        self.params: dict[str, Any] = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    # resumable state (BackupAndRestore saves it with the model and restores it in a new process)
    def state_dict(self) -> dict[str, Any]:
        """What this callback has learnt during training (best values, counters, snapshots),
        so that a run resumed by :class:`~ember.callbacks.BackupAndRestore` carries on exactly.

        Values are numbers, strings, ``None``, Tensors and lists/dicts of those. A stateless
        callback returns ``{}`` (the default); override together with :meth:`load_state_dict`.
        """
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back a :meth:`state_dict` (called after ``on_train_begin`` of a resumed fit)."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, but was given "
                             f"{sorted(state)}; override load_state_dict to restore it")

    # training
    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # evaluation (also the validation pass at the end of each epoch)
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # prediction
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


_EVENTS = [
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
    "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
    "on_predict_batch_end",
]


class CallbackList(Callback):
    """Several callbacks behaving as one: every event is passed to each, in order.

    Args:
        callbacks: the callbacks (``None`` for none).
        model: the model to give each callback.
        **params: ``epochs``, ``steps``, ``verbose`` ... given to each callback's ``set_params``.
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None, model=None, **params):
        super().__init__()
        self.callbacks: list[Callback] = []
        if isinstance(callbacks, Callback):
            raise TypeError(
                f"callbacks must be a list of Callback objects, got a single "
                f"{type(callbacks).__name__}; pass callbacks=[{type(callbacks).__name__}(...)]"
            )
        for cb in callbacks or []:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be ember.callbacks.Callback instances, got {type(cb).__name__}"
                    " (did you pass the class instead of an instance, e.g. EarlyStopping instead "
                    "of EarlyStopping()?)"
                )
            self.callbacks.append(cb)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)

    def set_model(self, model) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)


def _fan_out(name: str):
    def call(self, *args, **kwargs):
        for cb in self.callbacks:
            getattr(cb, name)(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"Call ``{name}`` on every callback."
    return call


for _name in _EVENTS:
    setattr(CallbackList, _name, _fan_out(_name))
del _name


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``.

    Any keyword named like a :class:`Callback` event (``on_epoch_end``, ``on_train_batch_end`` ...)
    is called with that event's arguments.
    """

    def __init__(self, **functions):
        super().__init__()
        unknown = sorted(set(functions) - set(_EVENTS))
        if unknown:
            raise ValueError(f"LambdaCallback: unknown events {unknown}; valid events: {_EVENTS}")
        for name, fn in functions.items():
            setattr(self, name, fn)
