"""Random numbers with ``keras.random`` names, from one seedable generator.

``numkeras.utils.set_random_seed(s)`` reseeds the generator here (and Python's and NumPy's
global ones), which makes initial weights, shuffling and dropout -- and therefore a whole
training run -- repeat exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras.autodiff import Tensor

# Created on first use: ``numpy.random`` takes ~20 ms to import, which ``import numkeras``
# should not pay before anything random is asked for.
_generator: np.random.Generator | None = None


def set_seed(seed: int) -> None:
    """Reseed numkeras's generator, Python's ``random`` and NumPy's global generator."""
    global _generator
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise ValueError(  # Keras raises ValueError here
            f"Expected `seed` to be an integer, got {seed!r} (of type {type(seed).__name__})"
        )
    import random as python_random

    _generator = np.random.default_rng(int(seed))
    python_random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def generator(seed: int | None = None) -> np.random.Generator:
    """A fresh generator for an explicit ``seed``; otherwise the shared one."""
    global _generator
    if seed is not None:
        return np.random.default_rng(seed)
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator


def uniform(
    shape: Sequence[int], minval: float = 0.0, maxval: float = 1.0, dtype: Any = "float32",
    seed: int | None = None,
) -> Tensor:
    return Tensor(generator(seed).uniform(minval, maxval, size=tuple(shape)).astype(dtype))


def normal(
    shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
    seed: int | None = None,
) -> Tensor:
    return Tensor(generator(seed).normal(mean, stddev, size=tuple(shape)).astype(dtype))


def truncated_standard_normal(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """Standard normal samples, each redrawn until it lies within [-2, 2]."""
    values = rng.standard_normal(size=tuple(shape))
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2
    return values


def truncated_normal(
    shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
    seed: int | None = None,
) -> Tensor:
    """Normal samples, redrawn until each lies within two standard deviations of the mean."""
    values = truncated_standard_normal(generator(seed), shape)
    return Tensor((mean + stddev * values).astype(dtype))


def shuffle(x: Any, axis: int = 0, seed: int | None = None) -> Tensor:
    array = np.asarray(x.value if isinstance(x, Tensor) else x)
    order = generator(seed).permutation(array.shape[axis])
    return Tensor(np.take(array, order, axis=axis))


def randint(
    shape: Sequence[int], minval: int, maxval: int, dtype: Any = "int32", seed: int | None = None,
) -> Tensor:
    return Tensor(generator(seed).integers(minval, maxval, size=tuple(shape)).astype(dtype))
