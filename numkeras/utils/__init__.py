"""Utilities with Keras's names: ``to_categorical``, ``normalize``, ``set_random_seed``, ..."""

from numkeras.utils.numerical_utils import normalize, to_categorical
from numkeras.utils.progbar import Progbar


def set_random_seed(seed: int) -> None:
    """Make initial weights, shuffling and dropout -- so a whole training run -- repeatable."""
    from numkeras import random

    random.set_seed(seed)


def clear_session() -> None:
    """Forget automatic layer names, so the next model's layers are 'dense', 'dense_1', ..."""
    from numkeras.layers.layer import reset_names

    reset_names()


__all__ = ["Progbar", "clear_session", "normalize", "set_random_seed", "to_categorical"]
