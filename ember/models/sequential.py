"""``Sequential``: a stack of layers that is both an ``nn.Sequential`` container and a Model."""

from __future__ import annotations

from ember.models.model import Model
from ember.nn.modules.container import Sequential as _SequentialContainer


class Sequential(Model, _SequentialContainer):
    """Layers applied in order, trainable with ``compile``/``fit``; also ``ember.nn.Sequential``.

    It keeps all of the container's behaviour: ``Sequential(l1, l2)`` or
    ``Sequential(OrderedDict(...))``, indexing and slicing, ``append``, ``len``, iteration.

    >>> model = Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    """

    def add(self, layer) -> "Sequential":
        """Append a layer (Keras' name for :meth:`append`)."""
        return self.append(layer)
