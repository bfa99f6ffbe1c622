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
from ember.nn.modules.transformer import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
)
from ember.nn.modules.rnn_cell import GRUCell, LSTMCell, RNNCell, RNNCellBase  # noqa: F401
from ember.nn.modules.padding import (  # noqa: F401
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d,
)
from ember.nn.modules.padding import __all__ as _padding_names
from ember.nn.modules.upsampling import (  # noqa: F401
    ChannelShuffle, Fold, PixelShuffle, PixelUnshuffle, Unfold, Upsample, UpsamplingBilinear2d,
    UpsamplingNearest2d,
)
from ember.nn.modules.activation_more import (  # noqa: F401
    CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, LogSigmoid, PReLU, RReLU, Softmax2d,
    Softshrink, Softsign, Tanhshrink, Threshold,
)
from ember.nn.modules.layers_more import (  # noqa: F401
    AlphaDropout, CosineSimilarity, Dropout3d, EmbeddingBag, FeatureAlphaDropout,
    LocalResponseNorm, PairwiseDistance, RMSNorm,
)
from ember.nn.modules.loss_more import (  # noqa: F401
    CosineEmbeddingLoss, CTCLoss, GaussianNLLLoss, HingeEmbeddingLoss, MarginRankingLoss,
    MultiLabelMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss,
    SoftMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss,
)
from ember.nn.modules import activation_more as _am, layers_more as _lm, loss_more as _lsm
from ember.nn.modules.conv3d import (  # noqa: F401
    AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool3d, AvgPool3d, BatchNorm3d, Conv3d,
    ConvTranspose3d, InstanceNorm3d, MaxPool3d,
)
from ember.nn.modules import conv3d as _c3
from ember.nn.modules.lazy import (  # noqa: F401
    DataParallel, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d,
    LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d,
    LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d, LazyLinear, LazyModuleMixin,
    UninitializedBuffer, UninitializedParameter,
)
from ember.nn.modules import lazy as _lazy
from ember.nn.modules.pool_more import (  # noqa: F401
    AdaptiveLogSoftmaxWithLoss, CrossMapLRN2d, FractionalMaxPool2d, FractionalMaxPool3d,
    LinearCrossEntropyLoss, LPPool1d, LPPool2d,
    LPPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, NLLLoss2d, SyncBatchNorm,
)
from ember.nn.modules import pool_more as _pm
from ember.nn import functional, init, utils  # noqa: F401

# `Sequential` is deliberately not bound here: module __getattr__ below serves it.


def __getattr__(name):
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
__all__ += [
    "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
    "TransformerDecoderLayer", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "ChannelShuffle", "Fold", "Unfold", *_padding_names, *_am.__all__, *_lm.__all__,
    *_lsm.__all__, *_c3.__all__, *_lazy.__all__, *_pm.__all__,
]
