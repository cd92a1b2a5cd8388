"""Datasets with Keras's loaders: ``mnist.load_data()`` and ``fashion_mnist.load_data()``.

Each loader looks for a local copy (a given path, numkeras's and Keras's caches, system
packages) before downloading; every failure raises ``DatasetError`` saying what was tried.
"""

from numkeras.datasets import fashion_mnist, mnist
from numkeras.datasets._fetch import DatasetError

__all__ = ["DatasetError", "fashion_mnist", "mnist"]
