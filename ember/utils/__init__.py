"""Utilities: :mod:`ember.utils.data` (datasets, samplers, ``DataLoader``) and graph pictures.

Submodules load on first use, so ``import ember.utils`` costs nothing.
"""

from __future__ import annotations

import importlib

_LAZY = {"data": "ember.utils.data", "dot": "ember.utils.dot"}


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    if name == "to_dot":  # ember.utils.to_dot(tensor): the graph as Graphviz DOT text
        return importlib.import_module("ember.utils.dot").to_dot
    raise AttributeError(f"module 'ember.utils' has no attribute {name!r}")
