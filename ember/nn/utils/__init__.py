"""``ember.nn.utils``: gradient clipping and parameter/vector conversion."""

from ember.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm  # noqa: F401
from ember.nn.utils.convert_parameters import (  # noqa: F401
    parameters_to_vector, vector_to_parameters,
)
from ember.nn.utils import rnn  # noqa: F401
from ember.nn.utils.weight_norm import (  # noqa: F401
    remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm,
)


def __getattr__(name):
    # parametrize pulls in the containers; loaded on first use
    if name in ("parametrize", "parametrizations"):
        import importlib

        return importlib.import_module(f"ember.nn.utils.{name}")
    raise AttributeError(f"module 'ember.nn.utils' has no attribute {name!r}")


__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters", "rnn",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm",
           "parametrize", "parametrizations"]
