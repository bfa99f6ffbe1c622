"""The :class:`Optimizer` base class: parameter groups, per-parameter state, ``state_dict``.

Subclasses implement ``step`` on raw arrays (``p._data``, ``p.grad._data``) with in-place NumPy/CuPy
ufuncs: no graph is recorded and no Tensor is allocated per update, which keeps the optimizer out of
the training loop's profile. Every in-place change of a parameter bumps ``p._version`` so autograd
notices a parameter that was saved for a backward pass and then changed.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

import numpy as np

from ember import backend
from ember.optim import _optimizer_hooks as _hooks
from ember.optim._optimizer_hooks import (  # noqa: F401  (PyTorch's names in this module)
    register_optimizer_step_post_hook, register_optimizer_step_pre_hook)
from ember.tensor import Tensor


class _RequiredParameter:
    """Marks a constructor argument that has no default and must be given (per group or globally)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _fmt_param(p: Tensor) -> str:
    return f"tensor of shape {tuple(p.shape)}"


def _unordered_params_error() -> TypeError:
    return TypeError(
        "optimizer parameters need to be organized in ordered collections, but the ordering "
        "of tensors in sets will change between runs. Please use a list instead."
    )


class Optimizer:
    """Base class of every optimizer, mirroring ``torch.optim.Optimizer``.

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) each with a ``"params"`` entry
            and optional per-group hyper-parameters that override ``defaults``.
        defaults: the hyper-parameters every group gets unless it sets its own.

    Attributes:
        param_groups: list of dicts, one per group, with every hyper-parameter filled in. Change
            ``param_groups[i]["lr"]`` to change a group's learning rate (schedulers do exactly that).
        state: dict mapping a parameter tensor to a dict of its running buffers.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # every step method runs the step hooks
            cls.step = _hooks.with_step_hooks(cls.__dict__["step"])

    register_step_pre_hook = _hooks.register_step_pre_hook
    register_step_post_hook = _hooks.register_step_post_hook
    register_state_dict_pre_hook = _hooks.register_state_dict_pre_hook
    register_state_dict_post_hook = _hooks.register_state_dict_post_hook
    register_load_state_dict_pre_hook = _hooks.register_load_state_dict_pre_hook
    register_load_state_dict_post_hook = _hooks.register_load_state_dict_post_hook

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a single Tensor; wrap it in a list: [tensor]"
            )
        if isinstance(params, dict):
            params = [params]
        if isinstance(params, (set, frozenset)):
            raise _unordered_params_error()
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------------------ groups

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``"params"`` and optional hyper-parameters).

        Useful to start training layers that were frozen: they join with their own settings.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("a parameter group needs a 'params' entry (a list of tensors)")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise _unordered_params_error()
        else:
            params = list(params)
        seen: set[int] = set()
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor ({_fmt_param(p)}); optimize the leaf it was "
                    "computed from, or call .detach().requires_grad_() to make a new leaf"
                )
            if id(p) in seen:
                raise ValueError(
                    f"a parameter group contains the same parameter twice ({_fmt_param(p)}); "
                    "list each parameter once"
                )
            seen.add(id(p))
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter "
                    f"{name!r}"
                )
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing & seen:
            raise ValueError(
                "some parameters appear in more than one parameter group; each parameter may belong "
                "to one group only"
            )
        self.param_groups.append(group)

    # --------------------------------------------------------------------------- gradients

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set every ``p.grad`` to ``None`` (default) or to zeros.

        Zeros are written into a fresh array rather than over the old gradient, because a gradient
        array may be shared with another tensor.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad._data
                    p.grad = Tensor._wrap(backend.get_array_module(g).zeros_like(g))

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given.

        Each group's parameters that have a gradient go to :meth:`_update_group` together; its
        default calls the subclass's per-parameter :meth:`_update` for each of them.
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._update_group(params, group)
                for p in params:
                    p._version += 1
        return loss

    def _update_group(self, params: list[Tensor], group: dict[str, Any]) -> None:
        """Update all ``params`` (those of ``group`` that have a gradient) in one pass.

        The default applies :meth:`_update` to each. An optimizer may override it with a fused
        rule over all the parameters (see ``SGD``); :meth:`step` bumps the versions afterwards.
        """
        for p in params:
            self._update(p, group)

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        """Apply the update rule to ``p._data`` in place, from ``p.grad`` and ``group``'s settings.

        :meth:`step` calls it only for parameters that have a gradient, and bumps ``p._version``.
        """
        raise NotImplementedError(f"{type(self).__name__} must define _update(p, group) or override "
                                  "step()")

    @staticmethod
    def _eval_closure(closure):
        if closure is None:
            return None
        from ember.autograd import enable_grad

        with enable_grad():
            return closure()

    def _state_for(self, p: Tensor) -> dict[str, Any]:
        st = self.state.get(p)
        if st is None:
            st = self.state[p] = {}
        return st

    # ------------------------------------------------------------------------- state dicts

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout.

        ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]}``, where
        parameters are numbered consecutively across the groups in order. The buffers are
        references, not copies (as in PyTorch); :meth:`load_state_dict` copies them.
        """
        index: dict[int, int] = {}
        groups = []
        next_index = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if id(p) not in index:
                    index[id(p)] = next_index
                    next_index += 1
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = dict(st)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and buffers saved by :meth:`state_dict` (copied, not shared).

        The optimizer must have been built over the same parameters in the same order. Floating
        buffers are cast to their parameter's dtype and moved to its device.
        """
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(
                "load_state_dict expects a dict with 'state' and 'param_groups' as returned by "
                "Optimizer.state_dict()"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups but this optimizer "
                f"has {len(self.param_groups)}"
            )
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group ({i}) of {len(saved['params'])} "
                    f"parameters that doesn't match the size of the optimizer's group "
                    f"({len(mine['params'])} parameters)"
                )
        index_to_param: dict[int, Tensor] = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            for idx, p in zip(saved["params"], mine["params"]):
                index_to_param[int(idx)] = p
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, st in state_dict.get("state", {}).items():
            k = int(key)  # a JSON round trip turns integer keys into strings
            if k not in index_to_param:
                raise ValueError(f"loaded state dict has state for parameter index {k}, which no "
                                 "parameter group lists")
            p = index_to_param[k]
            new_state[p] = {name: _cast_state(name, v, p) for name, v in st.items()}
        self.state = new_state
        new_groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            group = {k: _plain(v, mine.get(k)) for k, v in saved.items() if k != "params"}
            group["params"] = mine["params"]
            new_groups.append(group)
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


Optimizer.step = _hooks.with_step_hooks(Optimizer.step)
Optimizer.state_dict = _hooks.with_state_dict_hooks(Optimizer.state_dict)
Optimizer.load_state_dict = _hooks.with_load_state_dict_hooks(Optimizer.load_state_dict)


def _plain(v, current):
    """A copy of a saved hyper-parameter; a list where the group holds a tuple (``betas`` after a
    round trip through a format without tuples) becomes a tuple again."""
    v = copy.deepcopy(v)
    if isinstance(v, list) and isinstance(current, tuple):
        return tuple(v)
    return v


def _cast_state(name: str, value, p: Tensor):
    """A private copy of one saved buffer, matching ``p``'s dtype (floating buffers) and device."""
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        return copy.deepcopy(value)
    if name == "step":
        # torch keeps the step count as a tensor; ember keeps a Python number
        return float(arr.item()) if arr.dtype.kind == "f" else int(arr.item())
    if arr.dtype.kind == "f" and arr.dtype != p._data.dtype:
        arr = arr.astype(p._data.dtype)
    arr = backend.move_array(arr, p.device)
    xp = backend.get_array_module(arr)
    return Tensor._wrap(xp.array(arr, copy=True))
