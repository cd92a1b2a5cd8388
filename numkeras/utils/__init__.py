"""Utilities with Keras's names: ``to_categorical``, ``normalize``, ``set_random_seed``."""

from numkeras.utils.numerical_utils import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
