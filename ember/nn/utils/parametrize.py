"""Parametrizations, as ``torch.nn.utils.parametrize``: a module's tensor (``weight``, ...) is
replaced by a property that computes ``parametrization(original)`` on each access, with the
learned ``original`` kept under ``module.parametrizations.<name>.original`` (so state dicts carry
PyTorch's keys)."""

from __future__ import annotations

import contextlib

from ember.autograd.grad_mode import no_grad as _NoGrad
from ember.nn.modules.container import ModuleDict, ModuleList
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.tensor import Tensor

_cache_enabled = 0
_cache: dict = {}


@contextlib.contextmanager
def cached():
    """Within this context each parametrized tensor is computed once and reused (useful when a
    weight is read many times per forward, as in a recurrent loop)."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the ``original`` tensor(s) they
    start from (``original``, or ``original0``, ``original1``, ... when the first one's
    ``right_inverse`` returns several)."""

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        with _NoGrad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if not unsafe and (tuple(new.shape) != tuple(original.shape)
                               or new.dtype != original.dtype):
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype or "
                    f"shape.\noriginal.dtype: {original.dtype}\nright_inverse(original).dtype: "
                    f"{new.dtype}\noriginal.shape: {tuple(original.shape)}\n"
                    f"right_inverse(original).shape: {tuple(new.shape)}")
            if isinstance(original, Parameter):
                if new is not original:
                    original.data = new.detach()
                self.original = original
            else:
                self.register_buffer("original", new.detach())
        else:
            for i, t in enumerate(new):
                if isinstance(original, Parameter):
                    setattr(self, f"original{i}", Parameter(t.detach(),
                                                            original.requires_grad))
                else:
                    self.register_buffer(f"original{i}", t.detach())

    def right_inverse(self, value: Tensor) -> None:
        """Set the original(s) so that the parametrized tensor becomes ``value``."""
        with _NoGrad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                else:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
            if self.is_tensor:
                self.original.data = value.detach()
            else:
                for i, t in enumerate(value):
                    getattr(self, f"original{i}").data = t.detach()

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _property(name: str) -> property:
    def getter(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def setter(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(getter, setter)


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (on ``tensor_name``, when given)."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the current
    tensor (or, when already parametrized, append ``parametrization`` to the chain)."""
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        before = getattr(module, tensor_name)
        if not unsafe:
            after = parametrization(before)
            if not isinstance(after, Tensor) or tuple(after.shape) != tuple(before.shape) \
                    or after.dtype != before.dtype:
                raise ValueError(
                    "Registering a parametrization may not change the shape or dtype of the "
                    f"tensor, unless `unsafe` flag is enabled.\nunparametrized dtype: "
                    f"{before.dtype}\nunparametrized shape: {tuple(before.shape)}")
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not unsafe:
        out = plist()
        if not isinstance(out, Tensor):
            raise ValueError(f"A parametrization must return a tensor. Got {type(out).__name__}.")
        if tuple(out.shape) != tuple(original.shape) or out.dtype != original.dtype:
            raise ValueError(
                "Registering a parametrization may not change the shape or dtype of the tensor, "
                f"unless `unsafe` flag is enabled.\nunparametrized dtype: {original.dtype}\n"
                f"parametrized dtype: {out.dtype}\nunparametrized shape: "
                f"{tuple(original.shape)}\nparametrized shape: {tuple(out.shape)}")
    delattr(module, tensor_name)
    if not is_parametrized(module):
        cls = module.__class__
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"__module__":
                                                                         cls.__module__})
        module.parametrizations = ModuleDict()
    setattr(module.__class__, tensor_name, _property(tensor_name))
    module.parametrizations[tensor_name] = plist
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo :func:`register_parametrization` for ``tensor_name``: the tensor becomes a plain
    parameter (or buffer) again, holding the parametrized value (``leave_parametrized``) or the
    original one."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with _NoGrad():
                value = getattr(module, tensor_name)
            original.data = value.detach()
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with _NoGrad():
            value = getattr(module, tensor_name)
        first = plist.original0
        original = Parameter(value.detach(), first.requires_grad) if isinstance(
            first, Parameter) else value.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before parametrizations were registered on it."""
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register ``from_module``'s parametrizations (and their originals) on ``to_module``."""
    names = [tensor_name] if tensor_name is not None else list(from_module.parametrizations)
    for name in names:
        plist = from_module.parametrizations[name]
        if not is_parametrized(to_module, name):
            for p in plist:
                register_parametrization(to_module, name, p)
        target = to_module.parametrizations[name]
        if plist.is_tensor:
            target.original = plist.original
        else:
            for i in range(plist.ntensors):
                setattr(target, f"original{i}", getattr(plist, f"original{i}"))
    return to_module


__all__ = ["cached", "ParametrizationList", "register_parametrization",
           "remove_parametrizations", "is_parametrized", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]
