"""ember: a deep-learning framework with PyTorch's low-level API and Keras' high-level one."""

from ember.backend import (  # noqa: F401
    bool_ as bool,
    can_cast,
    device,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    promote_dtypes as promote_types,
    set_default_dtype,
    uint8,
)
from ember.tensor import (  # noqa: F401
    Size,
    Tensor,
    is_floating_point,
    is_tensor,
    layout,
    numel,
    strided,
)
from ember.autograd import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from ember import ops as _ops  # noqa: E402

# The ops of the families loaded at import; the others answer through __getattr__ below.
globals().update({_name: getattr(_ops, _name) for _name in _ops.EAGER_NAMES})
from ember.creation import *  # noqa: F401,F403,E402
from ember.random import (  # noqa: F401,E402
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

# PyTorch's other names for the dtypes (``ember.float`` is float32, ``ember.int`` int32, ...)
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
__version__ = "0.1.0"

# Fewer BLAS threads than cores when other processes are busy (ember/threads.py says why).
from ember import threads as _threads  # noqa: E402

_threads.apply_default()

# Freed buffers stay with the process for the next step to reuse (ember/_malloc.py says why).
from ember import _malloc  # noqa: E402

_malloc.keep_freed_memory()


def _seed_gpu_generators() -> None:
    # When CuPy first loads, ember.cuda gives its generators ember's seed (so a manual_seed made
    # before the first GPU op governs GPU randomness); hooked here so that the backend, a lower
    # layer, need not import ember.cuda, and a CPU-only run never loads it.
    from ember import cuda

    cuda._on_cupy_loaded()


from ember import backend as _backend  # noqa: E402

_backend.CUPY_LOADED_HOOKS.append(_seed_gpu_generators)

# Subpackages load on first use, so `import ember` stays fast (it is benchmarked against torch).
_LAZY_MODULES = {
    "nn", "optim", "utils", "datasets", "autograd", "cuda", "distributed", "callbacks",
    "metrics", "models", "transforms", "serialization", "linalg", "losses", "special",
    "backends",
}
_LAZY_NAMES = {
    "save": ("ember.serialization", "save"),
    "load": ("ember.serialization", "load"),
    "Model": ("ember.models", "Model"),
    "History": ("ember.callbacks", "History"),
    "set_num_threads": ("ember.threads", "set_num_threads"),
    "get_num_threads": ("ember.threads", "get_num_threads"),
    "set_printoptions": ("ember.printing", "set_printoptions"),
    "get_printoptions": ("ember.printing", "get_printoptions"),
}


def __getattr__(name):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"ember.{name}")
    if name in _LAZY_NAMES:
        mod, attr = _LAZY_NAMES[name]
        return getattr(importlib.import_module(mod), attr)
    if name in _ops.LAZY_NAMES:  # an op of a family loaded on first use
        value = globals()[name] = getattr(_ops, name)
        return value
    raise AttributeError(f"module 'ember' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | _LAZY_MODULES | set(_LAZY_NAMES) | set(_ops.LAZY_NAMES))
