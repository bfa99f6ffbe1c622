"""All tensor ops, one module per family. Importing this package attaches each op to
:class:`~ember.Tensor` as a method (and operator), and ``ember`` re-exports the public names."""

from ember.ops.elementwise import *  # noqa: F401,F403
from ember.ops.unary import *  # noqa: F401,F403
from ember.ops.activation import *  # noqa: F401,F403
from ember.ops.compare import *  # noqa: F401,F403
from ember.ops.reduce import *  # noqa: F401,F403
from ember.ops.linalg import *  # noqa: F401,F403
from ember.ops.linalg_decomp import *  # noqa: F401,F403
from ember.ops.shape import *  # noqa: F401,F403
from ember.ops.indexing import *  # noqa: F401,F403
from ember.ops.conv import *  # noqa: F401,F403
from ember.ops.nn_ops import *  # noqa: F401,F403
from ember.ops.device import *  # noqa: F401,F403
from ember.ops.sampling import *  # noqa: F401,F403
from ember.ops.sorting import *  # noqa: F401,F403
from ember.ops.special import *  # noqa: F401,F403
from ember.ops.stats import *  # noqa: F401,F403
from ember.ops.scatter_more import *  # noqa: F401,F403
from ember.ops.runtime import *  # noqa: F401,F403
from ember.ops.linalg_torch import *  # noqa: F401,F403
from ember.ops.windows import *  # noqa: F401,F403
from ember.ops.transforms import *  # noqa: F401,F403
from ember.ops.aliases import *  # noqa: F401,F403

from ember.ops import (  # noqa: E402
    activation, compare, conv, device, elementwise, indexing, linalg, linalg_decomp, nn_ops, reduce,
    sampling, shape, sorting, unary,
)
from ember.ops import (  # noqa: E402
    aliases, linalg_torch, runtime, scatter_more, special, stats, transforms, windows,
)

# Only op names are public: without this, `from ember.ops import *` would also export the
# submodules themselves (and `ember.ops.device` would shadow `ember.device`).
__all__ = [name for mod in (elementwise, unary, activation, compare, reduce, linalg, linalg_decomp, shape,
                            indexing, conv, nn_ops, device, sampling, sorting,
                            special, stats, scatter_more, runtime, linalg_torch, windows,
                            transforms, aliases)
           for name in mod.__all__]
