"""Keras-style access to Fashion-MNIST: ``ember.datasets.fashion_mnist.load_data()``."""

from __future__ import annotations

import os

from ember.datasets import mnist as _mnist

__all__ = ["load_data"]


def load_data(path: str | os.PathLike | None = None):
    """Fashion-MNIST as Keras' ``keras.datasets.fashion_mnist.load_data()`` returns it.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 NumPy arrays of shapes
    ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``. ``path`` is a folder
    holding ``fashion-mnist/``; the files are looked for there, then in ``EMBER_DATA``, then in
    the cache, and downloaded (checksummed) when missing.
    """
    return _mnist.load_data(path, dataset=_mnist.FashionMNIST)
