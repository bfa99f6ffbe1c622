"""``ember.nn``: ``Module``, ``Parameter``, layers, losses, containers, ``functional``, ``init``
and ``utils``, with PyTorch's names, arguments and default initialisation."""

from ember.nn.parameter import Buffer, Parameter  # noqa: F401
from ember.nn.modules.module import Module, RemovableHandle  # noqa: F401
from ember.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList  # noqa: F401
from ember.nn.modules.linear import Bilinear, Identity, Linear  # noqa: F401
from ember.nn.modules.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from ember.nn.modules.pooling import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
    MaxPool2d,
)
from ember.nn.modules.normalization import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm,
)
from ember.nn.modules.dropout import Dropout, Dropout1d, Dropout2d  # noqa: F401
from ember.nn.modules.sparse import Embedding  # noqa: F401
from ember.nn.modules.activation import (  # noqa: F401
    ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, Mish, ReLU, ReLU6, SiLU, Sigmoid, Softmax,
    Softmin, Softplus, Tanh,
)
from ember.nn.modules.flatten import Flatten, Unflatten  # noqa: F401
from ember.nn.modules.loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss,
    NLLLoss, SmoothL1Loss,
)
from ember.nn.modules.rnn import GRU, LSTM, RNN, RNNBase  # noqa: F401
from ember.nn.modules.attention import MultiheadAttention  # noqa: F401
from ember import _lazy
from ember.nn.modules._lazy_names import LAZY_LAYER_MODULES, LAZY_LAYER_NAMES
from ember.nn import functional, init, utils  # noqa: F401

# `Sequential` is deliberately not bound here: module __getattr__ below serves it.


def __getattr__(name):
    if name in LAZY_LAYER_NAMES:  # a rarely used layer: its module loads on first use
        return _lazy.load(globals(), LAZY_LAYER_NAMES, "ember.nn.modules", name, __name__)
    if name == "parallel":  # loaded on use: it pulls in ember.distributed
        import importlib

        return importlib.import_module("ember.nn.parallel")
    if name == "Sequential":
        # The one deliberate upward reference (nn -> models): the SPEC makes nn.Sequential a
        # Keras-style Model too (compile/fit), and ember.models.Sequential is that class, built
        # on the plain container. Resolved on use, so importing ember.nn never imports models.
        from ember.nn.modules.container import Sequential as _Container

        try:
            import importlib

            models = importlib.import_module("ember.models")
            seq = getattr(models, "Sequential", None)
        except ImportError:
            seq = None
        if isinstance(seq, type) and issubclass(seq, _Container):
            globals()["Sequential"] = seq  # cache: later lookups skip this function
            return seq
        return _Container
    raise AttributeError(f"module 'ember.nn' has no attribute {name!r}")


def __dir__():  # tab completion and dir() show the layers that load on first use too
    return _lazy.names(globals(), LAZY_LAYER_NAMES, ("Sequential", "parallel"))


__all__ = [
    "Parameter", "Buffer", "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
    "ParameterDict", "Identity", "Linear", "Bilinear", "Conv1d", "Conv2d", "ConvTranspose1d",
    "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "BatchNorm1d", "BatchNorm2d", "InstanceNorm1d",
    "InstanceNorm2d",
    "LayerNorm", "GroupNorm", "Dropout", "Dropout1d", "Dropout2d", "Embedding", "ReLU", "ReLU6",
    "LeakyReLU", "GELU", "SiLU", "Mish", "ELU", "Softplus", "Hardtanh", "Sigmoid", "Tanh",
    "Softmax", "LogSoftmax", "Softmin", "Flatten", "Unflatten", "MSELoss", "L1Loss", "HuberLoss",
    "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "NLLLoss", "CrossEntropyLoss",
    "RNNBase", "RNN", "LSTM", "GRU", "MultiheadAttention", "functional", "init", "utils",
]
__all__ += [name for names in LAZY_LAYER_MODULES.values() for name in names]
