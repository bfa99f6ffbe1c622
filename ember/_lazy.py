"""Names a module answers by loading another module on first use (PEP 562 ``__getattr__``).

``ember.ops``, ``ember.nn``, ``ember.nn.modules`` and ``ember.nn.functional`` keep tables of the
names that live in rarely used modules; their ``__getattr__`` and ``__dir__`` hand the look-up to
these two functions, which load the module, cache the value in the asking module, and list the
names.
"""

from __future__ import annotations

import importlib


def load(namespace: dict, table: dict, package: str, name: str, owner: str):
    """``name`` from module ``package + "." + table[name]``, cached in ``namespace`` (the asking
    module's globals, whose name is ``owner``); AttributeError for a name not in ``table``."""
    if name not in table:
        raise AttributeError(f"module {owner!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{package}.{table[name]}"), name)
    namespace[name] = value
    return value


def names(namespace: dict, table: dict, extra=()) -> list:
    """What ``dir()`` of the asking module shows: its globals, the lazy names and ``extra``."""
    return sorted(set(namespace) | set(table) | set(extra))
