"""numkeras.random and the seeding utilities (set_random_seed, clear_session)."""

from __future__ import annotations

import random as python_random

import numpy as np
import pytest

from numkeras import layers
from numkeras import random as nk_random
from numkeras.autodiff import value_of
from numkeras.utils import clear_session, set_random_seed


def arr(x) -> np.ndarray:
    return np.asarray(value_of(x))


def draw_everything() -> list[np.ndarray]:
    return [arr(nk_random.uniform((50,))), arr(nk_random.normal((50,))),
            arr(nk_random.truncated_normal((50,))), arr(nk_random.randint((50,), 0, 10)),
            arr(nk_random.shuffle(np.arange(20)))]


def test_set_random_seed_repeats_every_draw():
    set_random_seed(17)
    first = draw_everything() + [np.array([python_random.random(), np.random.rand()])]
    set_random_seed(17)
    second = draw_everything() + [np.array([python_random.random(), np.random.rand()])]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    set_random_seed(18)
    assert not np.array_equal(draw_everything()[0], first[0])


def test_explicit_seeds_do_not_touch_the_global_generator():
    set_random_seed(3)
    reference = arr(nk_random.uniform((5,)))
    set_random_seed(3)
    np.testing.assert_array_equal(arr(nk_random.normal((4,), seed=99)),
                                  arr(nk_random.normal((4,), seed=99)))
    np.testing.assert_array_equal(arr(nk_random.uniform((5,))), reference)


def test_distributions_shapes_dtypes_and_ranges():
    set_random_seed(0)
    uniform = arr(nk_random.uniform((100, 100), minval=-2.0, maxval=3.0))
    assert uniform.shape == (100, 100) and uniform.dtype == np.float32
    assert uniform.min() >= -2.0 and uniform.max() < 3.0
    np.testing.assert_allclose(uniform.mean(), 0.5, atol=0.05)
    normal = arr(nk_random.normal((100, 100), mean=1.0, stddev=2.0, dtype="float64"))
    assert normal.dtype == np.float64
    np.testing.assert_allclose([normal.mean(), normal.std()], [1.0, 2.0], atol=0.06)
    truncated = arr(nk_random.truncated_normal((100, 100), mean=1.0, stddev=0.5))
    assert np.all(np.abs(truncated - 1.0) <= 1.0 + 1e-6)  # within two stddevs
    ints = arr(nk_random.randint((1000,), 3, 7))
    assert ints.dtype == np.int32 and set(np.unique(ints).tolist()) == {3, 4, 5, 6}
    matrix = np.arange(12).reshape(3, 4)
    shuffled = arr(nk_random.shuffle(matrix, axis=1, seed=1))
    np.testing.assert_array_equal(np.sort(shuffled, axis=1), matrix)


@pytest.mark.parametrize("seed", [1.5, "3", None, True])
def test_set_random_seed_rejects_non_integers(seed):
    with pytest.raises(ValueError, match="integer"):
        set_random_seed(seed)


def test_set_random_seed_accepts_numpy_integers():
    set_random_seed(np.int64(5))
    a = arr(nk_random.uniform((3,)))
    set_random_seed(5)
    np.testing.assert_array_equal(arr(nk_random.uniform((3,))), a)


def test_clear_session_restarts_layer_names():
    clear_session()
    names = [layers.Dense(1).name, layers.Dense(1).name, layers.Flatten().name]
    assert names == ["dense", "dense_1", "flatten"]
    clear_session()
    assert layers.Dense(1).name == "dense"
