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
from ember.nn.modules.transformer import *  # noqa: F401,F403
from ember.nn.modules.rnn_cell import *  # noqa: F401,F403
from ember.nn.modules.padding import *  # noqa: F401,F403
from ember.nn.modules.upsampling import *  # noqa: F401,F403
from ember.nn.modules.activation_more import *  # noqa: F401,F403
from ember.nn.modules.layers_more import *  # noqa: F401,F403
from ember.nn.modules.loss_more import *  # noqa: F401,F403
from ember.nn.modules.conv3d import *  # noqa: F401,F403
from ember.nn.modules.lazy import *  # noqa: F401,F403
from ember.nn.modules.pool_more import *  # noqa: F401,F403
