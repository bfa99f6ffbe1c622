"""The layer modules ``import ember.nn`` leaves unloaded until one of their names is used.

Rarely used layers (3-D convolutions, lazy layers, transformers, paddings, the less common
activations and losses) cost memory and import time in every program; ``ember.nn`` and
``ember.nn.modules`` answer these names through ``__getattr__``, loading the module on first
use. ``tests/test_lazy_nn.py`` checks this table against each module's ``__all__``."""

# module under ember.nn.modules -> its public names (its __all__)
LAZY_LAYER_MODULES = {
    "transformer": (
        "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
        "TransformerDecoderLayer",
    ),
    "rnn_cell": (
        "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    ),
    "padding": (
        "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
        "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
        "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
    ),
    "upsampling": (
        "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
        "PixelUnshuffle", "ChannelShuffle", "Unfold", "Fold",
    ),
    "activation_more": (
        "SELU", "CELU", "GLU", "Hardswish", "Hardsigmoid", "Hardshrink", "Softshrink", "Softsign",
        "Tanhshrink", "LogSigmoid", "Threshold", "RReLU", "PReLU", "Softmax2d",
    ),
    "layers_more": (
        "CosineSimilarity", "PairwiseDistance", "RMSNorm", "LocalResponseNorm", "EmbeddingBag",
        "AlphaDropout", "FeatureAlphaDropout", "Dropout3d",
    ),
    "loss_more": (
        "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "SoftMarginLoss",
        "TripletMarginLoss", "TripletMarginWithDistanceLoss", "MultiMarginLoss",
        "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
        "CTCLoss",
    ),
    "conv3d": (
        "Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d",
        "AdaptiveMaxPool3d", "AdaptiveMaxPool1d", "BatchNorm3d", "InstanceNorm3d",
    ),
    "lazy": (
        "LazyModuleMixin", "UninitializedParameter", "UninitializedBuffer", "LazyLinear",
        "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
        "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
        "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "DataParallel",
    ),
    "pool_more": (
        "LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
        "SyncBatchNorm", "CrossMapLRN2d", "NLLLoss2d", "LinearCrossEntropyLoss",
        "AdaptiveLogSoftmaxWithLoss", "FractionalMaxPool2d", "FractionalMaxPool3d",
    ),
}

# name -> the module that defines it
LAZY_LAYER_NAMES = {name: module for module, names in LAZY_LAYER_MODULES.items() for name in names}
