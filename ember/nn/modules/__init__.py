"""The layers of :mod:`ember.nn`, one module per concept."""

from ember.nn.modules.module import Module, RemovableHandle  # noqa: F401
from ember.nn.modules.container import *  # noqa: F401,F403
from ember.nn.modules.linear import *  # noqa: F401,F403
from ember.nn.modules.linear import NonDynamicallyQuantizableLinear  # noqa: F401
from ember.nn.modules.conv import *  # noqa: F401,F403
from ember.nn.modules.pooling import *  # noqa: F401,F403
from ember.nn.modules.normalization import *  # noqa: F401,F403
from ember.nn.modules.dropout import *  # noqa: F401,F403
from ember.nn.modules.sparse import *  # noqa: F401,F403
from ember.nn.modules.activation import *  # noqa: F401,F403
from ember.nn.modules.flatten import *  # noqa: F401,F403
from ember.nn.modules.loss import *  # noqa: F401,F403
from ember.nn.modules.rnn import *  # noqa: F401,F403
from ember.nn.modules.attention import *  # noqa: F401,F403
from ember import _lazy
from ember.nn.modules._lazy_names import LAZY_LAYER_NAMES as _LAZY


def __getattr__(name):
    # the rarely used layer modules load on first use (ember/nn/modules/_lazy_names.py)
    return _lazy.load(globals(), _LAZY, "ember.nn.modules", name, __name__)


def __dir__():
    return _lazy.names(globals(), _LAZY)
