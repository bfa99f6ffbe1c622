"""Switching gradient recording off and on: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

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
