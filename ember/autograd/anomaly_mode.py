"""Anomaly detection, as ``torch.autograd.detect_anomaly`` / ``set_detect_anomaly``.

While it is on, every recorded op keeps a short traceback of where it was created, and each
backward step checks the gradients it produced: a NaN raises an error naming the op and showing
that traceback. While it is off (the default) the only cost is one flag test per recorded op and
per backward step: nothing is captured.
"""

from __future__ import annotations

import functools
import traceback
import weakref

from ember.autograd import graph

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

_CHECK_NAN = True
# node -> the stack at its creation; weak, so the tracebacks go away with the graph
_CREATED_AT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STACK_LIMIT = 24  # frames kept per op: enough to find the model's line, cheap enough to record


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return graph.ANOMALY_ENABLED


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward results for NaN."""
    return _CHECK_NAN


def _set(mode: bool, check_nan: bool) -> None:
    global _CHECK_NAN
    graph.ANOMALY_ENABLED = bool(mode)
    _CHECK_NAN = bool(check_nan)


def remember_creation(node) -> None:
    """Called by ``graph.record`` for each new node while anomaly mode is on."""
    stack = traceback.extract_stack(limit=_STACK_LIMIT)
    # drop the frames of ember's own recording machinery; keep the op and its callers
    while stack and stack[-1].filename.endswith(("graph.py", "anomaly_mode.py")):
        stack.pop()
    _CREATED_AT[node] = stack


def creation_trace(node) -> str:
    """The formatted stack where ``node`` was recorded ('' when it was recorded with anomaly
    mode off)."""
    stack = _CREATED_AT.get(node)
    return "".join(traceback.format_list(stack)) if stack else ""


def check_backward(node, grads) -> None:
    """Called by the engine after each backward step while anomaly mode is on."""
    if not _CHECK_NAN:
        return
    from ember.backend import get_array_module

    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._data
        if data.dtype.kind not in "fc":
            continue
        if bool(get_array_module(data).isnan(data).any()):
            trace = creation_trace(node)
            where = (f"\nTraceback of the forward call that created {node.name}:\n{trace}"
                     if trace else "\n(the op was recorded before anomaly detection was turned "
                                   "on, so where it was created is unknown)")
            raise RuntimeError(f"Function '{node.name}Backward' returned nan values in its {i}th "
                               f"output.{where}")


class detect_anomaly:
    """Turn anomaly detection on for a ``with`` block or a decorated function.

    ``check_nan=False`` records the creation tracebacks without checking for NaN.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self.prev = (graph.ANOMALY_ENABLED, _CHECK_NAN)

    def __enter__(self):
        self.prev = (graph.ANOMALY_ENABLED, _CHECK_NAN)
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc) -> bool:
        _set(*self.prev)
        return False

    def __call__(self, fn):
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off: immediately (``set_detect_anomaly(True)``), or for a
    ``with`` block after which the previous setting comes back."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (graph.ANOMALY_ENABLED, _CHECK_NAN)
        _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        _set(*self.prev)
        return False
