"""Optimizer hooks, as PyTorch's: step hooks (``register_step_pre_hook`` /
``register_step_post_hook`` on one optimizer, ``register_optimizer_step_pre_hook`` / ``..._post_hook``
for every optimizer) and state-dict hooks (``register_state_dict_pre_hook`` and friends).

Every ``step`` method (the base class's and each subclass's own) is wrapped once, when its class
is created. The wrapper costs one dict lookup per step while no hook is registered.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any, Callable

from ember.nn.modules.module import RemovableHandle

_GLOBAL_PRE: OrderedDict[int, Callable] = OrderedDict()
_GLOBAL_POST: OrderedDict[int, Callable] = OrderedDict()


def _register(hooks: OrderedDict, hook: Callable, prepend: bool = False) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _own_hooks(optimizer, name: str) -> OrderedDict:
    return optimizer.__dict__.setdefault(name, OrderedDict())


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``; it may return a
    new ``(args, kwargs)``."""
    return _register(_GLOBAL_PRE, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    return _register(_GLOBAL_POST, hook)


def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before this optimizer's ``step``; it may return a
    new ``(args, kwargs)`` to call ``step`` with (``args[0]`` is the optimizer, as in PyTorch).
    Returns a handle whose ``remove()`` unregisters
    it."""
    return _register(self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict()), hook)


def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after this optimizer's ``step``."""
    return _register(self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict()), hook)


def with_step_hooks(step: Callable) -> Callable:
    """Wrap an optimizer's ``step`` so that the registered hooks run around it (once, even when
    a subclass's ``step`` calls ``super().step()``)."""
    if getattr(step, "_runs_step_hooks", False):
        return step

    @functools.wraps(step)
    def step_with_hooks(self, *args: Any, **kwargs: Any):
        own = self.__dict__
        pre = own.get("_optimizer_step_pre_hooks")
        post = own.get("_optimizer_step_post_hooks")
        if not (pre or post or _GLOBAL_PRE or _GLOBAL_POST) or own.get("_in_step_hooks"):
            return step(self, *args, **kwargs)
        own["_in_step_hooks"] = True
        args = (self, *args)  # as in PyTorch, the hooks see the optimizer as the first argument
        try:
            for hook in [*_GLOBAL_PRE.values(), *(pre or {}).values()]:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"an optimizer step pre-hook must return None or a tuple "
                            f"(new_args, new_kwargs), but got {result!r}")
                    args, kwargs = result
            out = step(*args, **kwargs)
            for hook in [*_GLOBAL_POST.values(), *(post or {}).values()]:
                hook(self, args, kwargs)
            return out
        finally:
            own["_in_step_hooks"] = False

    step_with_hooks._runs_step_hooks = True
    return step_with_hooks


def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
    """Call ``hook(optimizer)`` before :meth:`state_dict` builds the dict (``prepend=True`` runs
    it before the hooks already registered)."""
    return _register(_own_hooks(self, "_optimizer_state_dict_pre_hooks"), hook, prepend)


def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
    """Call ``hook(optimizer, state_dict)`` on the dict :meth:`state_dict` built; a returned
    dict replaces it."""
    return _register(_own_hooks(self, "_optimizer_state_dict_post_hooks"), hook, prepend)


def register_load_state_dict_pre_hook(self, hook: Callable,
                                      prepend: bool = False) -> RemovableHandle:
    """Call ``hook(optimizer, state_dict)`` before :meth:`load_state_dict`; a returned dict is
    loaded instead."""
    return _register(_own_hooks(self, "_optimizer_load_state_dict_pre_hooks"), hook, prepend)


def register_load_state_dict_post_hook(self, hook: Callable,
                                       prepend: bool = False) -> RemovableHandle:
    """Call ``hook(optimizer)`` after :meth:`load_state_dict` has loaded the state."""
    return _register(_own_hooks(self, "_optimizer_load_state_dict_post_hooks"), hook, prepend)


def with_state_dict_hooks(state_dict: Callable) -> Callable:
    """Wrap ``Optimizer.state_dict`` so the state-dict hooks run around it."""

    @functools.wraps(state_dict)
    def state_dict_with_hooks(self):
        for hook in list(self.__dict__.get("_optimizer_state_dict_pre_hooks", {}).values()):
            hook(self)
        result = state_dict(self)
        for hook in list(self.__dict__.get("_optimizer_state_dict_post_hooks", {}).values()):
            changed = hook(self, result)
            if changed is not None:
                result = changed
        return result

    return state_dict_with_hooks


def with_load_state_dict_hooks(load_state_dict: Callable) -> Callable:
    """Wrap ``Optimizer.load_state_dict`` so the load hooks run around it."""

    @functools.wraps(load_state_dict)
    def load_state_dict_with_hooks(self, state_dict):
        for hook in list(self.__dict__.get("_optimizer_load_state_dict_pre_hooks", {}).values()):
            changed = hook(self, state_dict)
            if changed is not None:
                state_dict = changed
        load_state_dict(self, state_dict)
        for hook in list(self.__dict__.get("_optimizer_load_state_dict_post_hooks", {}).values()):
            hook(self)

    return load_state_dict_with_hooks
