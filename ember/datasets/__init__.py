"""Ready-made datasets: ``Iris`` (shipped inside the package), ``MNIST`` and ``FashionMNIST``
(read from local IDX files, or downloaded with a checksum into a cache), and Keras'
``mnist.load_data()`` / ``fashion_mnist.load_data()``."""

from ember.datasets.iris import Iris, iris_split_indices
from ember.datasets import fashion_mnist, mnist  # noqa: F401  (Keras style: mnist.load_data())
from ember.datasets.mnist import MNIST, DatasetFileError, FashionMNIST, read_idx

__all__ = ["Iris", "iris_split_indices", "MNIST", "FashionMNIST", "DatasetFileError", "read_idx",
           "mnist", "fashion_mnist"]
