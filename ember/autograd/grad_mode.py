"""Switching gradient recording off and on: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``.

Each works as a context manager and as a decorator, as in PyTorch.
"""

from __future__ import annotations

import functools

from ember.autograd import graph


def is_grad_enabled() -> bool:
    """True when ops record a graph for backward."""
    return graph.GRAD_ENABLED


class set_grad_enabled:
    """Turn gradient recording on or off: immediately, or for a ``with`` block or a function."""

    def __init__(self, mode: bool):
        self.prev = graph.GRAD_ENABLED
        self.mode = bool(mode)
        graph.GRAD_ENABLED = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        graph.GRAD_ENABLED = self.prev
        return False

    def __call__(self, fn):
        graph.GRAD_ENABLED = self.prev  # used as a decorator: undo the immediate switch
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class _GradSwitch:
    mode = True

    def __enter__(self):
        self.prev = graph.GRAD_ENABLED
        graph.GRAD_ENABLED = self.mode
        return self

    def __exit__(self, *exc):
        graph.GRAD_ENABLED = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = graph.GRAD_ENABLED
            graph.GRAD_ENABLED = mode
            try:
                return fn(*args, **kwargs)
            finally:
                graph.GRAD_ENABLED = prev

        return wrapper


class no_grad(_GradSwitch):
    """Ops inside record no graph: for evaluation and for parameter updates."""

    mode = False


class enable_grad(_GradSwitch):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


_INFERENCE = False  # read by is_inference_mode_enabled()


def is_inference_mode_enabled() -> bool:
    """True inside an ``inference_mode()`` block (or a function decorated with it)."""
    return _INFERENCE


class inference_mode:
    """Ops inside record no graph: ``with ember.inference_mode():`` or ``@ember.inference_mode``.

    As in PyTorch, ``inference_mode(True)`` turns recording off and ``inference_mode(False)``
    turns it on (even inside ``no_grad``); it works as a context manager and as a decorator,
    with or without parentheses. Tensors created inside have ``requires_grad=False``.

    Unlike PyTorch, it is exactly ``no_grad`` otherwise: ember has no "inference tensors", so a
    tensor made inside may later be used in recorded ops or changed in place without the
    errors PyTorch raises for them (there is no extra speed to gain either; ``no_grad`` already
    skips all bookkeeping).
    """

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # used as @inference_mode, bare
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        global _INFERENCE
        self._prev = (graph.GRAD_ENABLED, _INFERENCE)
        graph.GRAD_ENABLED = not self.mode
        _INFERENCE = self.mode
        return self

    def __exit__(self, *exc):
        global _INFERENCE
        graph.GRAD_ENABLED, _INFERENCE = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self) -> inference_mode:
        """A new context manager with the same mode (PyTorch's API)."""
        return inference_mode(self.mode)
