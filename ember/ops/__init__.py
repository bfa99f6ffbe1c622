"""All tensor ops, one module per family. Importing this package attaches each op to
:class:`~ember.Tensor` as a method (and operator), and ``ember`` re-exports the public names.

The families most programs use load here. The rest (``LAZY_FAMILIES``: decompositions,
convolution, the functional layers, sampling, sorting, special functions, statistics, PyTorch's
aliases, ...) load on first use, which keeps ``import ember`` fast: their functions answer
through this package's ``__getattr__`` (and ``ember``'s), and their Tensor methods are
placeholders (:class:`_LazyAttribute`) that load the family on first look-up.
``_lazy_table.py`` lists what each lazy family provides; it is written by
``tools/lazy_ops_table.py`` and checked by ``tests/test_lazy_ops.py``.
"""

from ember.ops.elementwise import *  # noqa: F401,F403
from ember.ops.unary import *  # noqa: F401,F403
from ember.ops.activation import *  # noqa: F401,F403
from ember.ops.compare import *  # noqa: F401,F403
from ember.ops.reduce import *  # noqa: F401,F403
from ember.ops.linalg import *  # noqa: F401,F403
from ember.ops.shape import *  # noqa: F401,F403
from ember.ops.indexing import *  # noqa: F401,F403
from ember.ops.device import *  # noqa: F401,F403

from importlib import import_module as _import_module  # noqa: E402

from ember import _lazy  # noqa: E402
from ember.ops import (  # noqa: E402
    activation, compare, device, elementwise, indexing, linalg, reduce, shape, unary,
)
from ember.ops._lazy_table import FUNCTIONS as _FAMILY_FUNCTIONS  # noqa: E402
from ember.ops._lazy_table import METHODS as _FAMILY_METHODS  # noqa: E402
from ember.tensor import Tensor as _Tensor  # noqa: E402

# Loaded on first use, in this order when all are (the order tools/lazy_ops_table.py loads them).
LAZY_FAMILIES = ("linalg_decomp", "conv", "nn_ops", "sampling", "sorting", "special", "stats",
                 "scatter_more", "runtime", "linalg_torch", "windows", "transforms", "aliases")

EAGER_NAMES = [name for mod in (elementwise, unary, activation, compare, reduce, linalg, shape,
                                indexing, device)
               for name in mod.__all__]
LAZY_NAMES = {name: family for family, names in _FAMILY_FUNCTIONS.items() for name in names}

# Only op names are public: without this, `from ember.ops import *` would also export the
# submodules themselves (and `ember.ops.device` would shadow `ember.device`). A star import
# loads the lazy families.
__all__ = EAGER_NAMES + list(LAZY_NAMES)


def _load_family(family: str):
    return _import_module("ember.ops." + family)


def __getattr__(name: str):
    if name in LAZY_FAMILIES:
        return _load_family(name)
    # an op of a lazy family: loaded, then answered directly from this module's globals
    return _lazy.load(globals(), LAZY_NAMES, "ember.ops", name, __name__)


def __dir__() -> list:
    return _lazy.names(globals(), LAZY_NAMES, LAZY_FAMILIES)


class _LazyAttribute:
    """A Tensor attribute of a family not loaded yet. Looking it up (``t.lgamma``,
    ``Tensor.lgamma``, or an operator such as ``t << 1``) loads the family, whose ``attach``
    replaces this placeholder, and answers with the real attribute."""

    __slots__ = ("name", "family")

    def __init__(self, name: str, family: str):
        self.name, self.family = name, family

    def __get__(self, obj, owner=None):
        _load_family(self.family)
        if _Tensor.__dict__.get(self.name) is self:  # the family no longer attaches it
            raise AttributeError(f"ember.ops.{self.family} did not attach Tensor.{self.name}; "
                                 "run python tools/lazy_ops_table.py")
        return getattr(owner if obj is None else obj, self.name)

    def __repr__(self) -> str:
        return f"<Tensor.{self.name}, loaded from ember.ops.{self.family} on first use>"


def _install_placeholders() -> None:
    import sys

    for family, names in _FAMILY_METHODS.items():
        if "ember.ops." + family not in sys.modules:  # loaded already: its methods are in place
            for name in names:
                setattr(_Tensor, name, _LazyAttribute(name, family))


_install_placeholders()
