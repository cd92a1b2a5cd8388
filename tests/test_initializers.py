"""numkeras.initializers: shapes, dtypes, and the statistics Keras documents for each one.

Every random initializer is checked on a 200 x 300 sample (60,000 values) against the
variance its formula promises, computed here from the shape, with tolerances of a few
standard errors; with a fixed seed the checks are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from numkeras import initializers
from numkeras.utils import set_random_seed

SHAPE = (200, 300)  # fan_in 200, fan_out 300
FAN_IN, FAN_OUT = 200.0, 300.0
FAN_AVG = (FAN_IN + FAN_OUT) / 2
TRUNCATED_STD = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(initializers._BY_NAME))
def test_every_initializer_gives_shape_and_dtype(name, dtype):
    values = initializers.get(name)((4, 5), dtype=dtype)
    assert values.shape == (4, 5)
    assert values.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(values))


def test_constant_initializers():
    np.testing.assert_array_equal(initializers.get("zeros")((3, 2)), np.zeros((3, 2)))
    np.testing.assert_array_equal(initializers.get("ones")((3,)), np.ones(3))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))


def check_uniform(values: np.ndarray, limit: float) -> None:
    assert values.min() >= -limit and values.max() <= limit
    assert values.max() > 0.99 * limit and values.min() < -0.99 * limit  # fills the range
    assert abs(values.mean()) < 4 * limit / math.sqrt(3 * values.size)
    np.testing.assert_allclose(values.var(), limit**2 / 3, rtol=0.03)


def check_normal(values: np.ndarray, stddev: float, truncated: bool) -> None:
    assert abs(values.mean()) < 4 * stddev / math.sqrt(values.size)
    np.testing.assert_allclose(values.std(), stddev, rtol=0.03)
    if truncated:
        # The sample is drawn with stddev / 0.8796 and cut at two of *those* deviations.
        bound = 2 * stddev / TRUNCATED_STD
        assert np.abs(values).max() <= bound * (1 + 1e-6)
        assert np.abs(values).max() > 0.98 * bound
    else:
        assert np.abs(values).max() > 3.5 * stddev  # an untruncated tail is present


@pytest.mark.parametrize(
    ("name", "n", "scale", "distribution"),
    [
        ("glorot_uniform", FAN_AVG, 1.0, "uniform"),
        ("glorot_normal", FAN_AVG, 1.0, "truncated_normal"),
        ("he_uniform", FAN_IN, 2.0, "uniform"),
        ("he_normal", FAN_IN, 2.0, "truncated_normal"),
        ("lecun_uniform", FAN_IN, 1.0, "uniform"),
        ("lecun_normal", FAN_IN, 1.0, "truncated_normal"),
    ],
)
def test_named_variance_scaling_statistics(name, n, scale, distribution):
    set_random_seed(11)
    values = initializers.get(name)(SHAPE).astype(np.float64)
    variance = scale / n
    if distribution == "uniform":
        check_uniform(values, math.sqrt(3 * variance))
    else:
        check_normal(values, math.sqrt(variance), truncated=True)


def test_glorot_uniform_limit_is_keras_formula():
    limit = math.sqrt(6 / (FAN_IN + FAN_OUT))
    values = initializers.GlorotUniform(seed=3)(SHAPE).astype(np.float64)
    check_uniform(values, limit)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["uniform", "untruncated_normal", "truncated_normal"])
def test_variance_scaling_modes_and_distributions(mode, distribution):
    scale = 3.0
    n = {"fan_in": FAN_IN, "fan_out": FAN_OUT, "fan_avg": FAN_AVG}[mode]
    init = initializers.VarianceScaling(scale=scale, mode=mode, distribution=distribution,
                                        seed=5)
    values = init(SHAPE).astype(np.float64)
    if distribution == "uniform":
        check_uniform(values, math.sqrt(3 * scale / n))
    else:
        check_normal(values, math.sqrt(scale / n), truncated=distribution == "truncated_normal")


def test_variance_scaling_fans_of_conv_kernels_and_vectors():
    # Conv kernel (3, 3, in=8, out=16): receptive field 9, fan_in 72, fan_out 144.
    values = initializers.VarianceScaling(1.0, "fan_out", "uniform", seed=0)((3, 3, 8, 16))
    check_uniform(values.astype(np.float64), math.sqrt(3 / 144))
    values = initializers.VarianceScaling(1.0, "fan_in", "uniform", seed=0)((3, 3, 8, 16))
    check_uniform(values.astype(np.float64), math.sqrt(3 / 72))
    # A vector: fan_in = fan_out = its length. Small fans are clamped at 1 (variance <= scale).
    values = initializers.VarianceScaling(1.0, "fan_in", "uniform", seed=0)((40000,))
    check_uniform(values.astype(np.float64), math.sqrt(3 / 40000))
    scalar = initializers.VarianceScaling(1.0, "fan_in", "uniform", seed=0)(())
    assert scalar.shape == () and abs(float(scalar)) <= math.sqrt(3.0)


def test_random_uniform_normal_truncated_defaults():
    check_uniform(initializers.RandomUniform(seed=1)(SHAPE).astype(np.float64), 0.05)
    uniform = initializers.RandomUniform(minval=2.0, maxval=4.0, seed=1)(SHAPE)
    assert uniform.min() >= 2.0 and uniform.max() <= 4.0
    np.testing.assert_allclose(uniform.mean(), 3.0, atol=0.01)
    normal = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=2)(SHAPE).astype(np.float64)
    np.testing.assert_allclose(normal.mean(), 1.0, atol=0.01)
    np.testing.assert_allclose(normal.std(), 0.5, rtol=0.03)
    truncated = initializers.TruncatedNormal(mean=0.0, stddev=0.05, seed=3)(SHAPE)
    assert np.abs(truncated).max() <= 0.1 + 1e-7  # two stddevs
    np.testing.assert_allclose(truncated.std(), 0.05 * TRUNCATED_STD, rtol=0.03)


@pytest.mark.parametrize("name", ["random_uniform", "random_normal", "truncated_normal",
                                  "glorot_uniform", "he_normal", "lecun_uniform"])
def test_seeds_are_reproducible(name):
    cls = type(initializers.get(name))
    a = cls(seed=42)((6, 7))
    b = cls(seed=42)((6, 7))
    np.testing.assert_array_equal(a, b)
    # A seeded initializer gives the same values on every call (Keras 3's documented rule).
    init = cls(seed=42)
    np.testing.assert_array_equal(init((6, 7)), init((6, 7)))
    assert not np.array_equal(a, cls(seed=43)((6, 7)))
    # Unseeded ones follow the global seed.
    set_random_seed(9)
    c = initializers.get(name)((6, 7))
    set_random_seed(9)
    np.testing.assert_array_equal(c, initializers.get(name)((6, 7)))


@pytest.mark.parametrize(
    ("snake", "cls"),
    [("glorot_uniform", "GlorotUniform"), ("he_normal", "HeNormal"), ("zeros", "Zeros"),
     ("random_normal", "RandomNormal"), ("variance_scaling", "VarianceScaling"),
     ("truncated_normal", "TruncatedNormal"), ("lecun_normal", "LecunNormal")],
)
def test_get_by_snake_and_class_names(snake, cls):
    assert type(initializers.get(snake)).__name__ == cls
    assert type(initializers.get(cls)).__name__ == cls
    instance = initializers.get(cls)
    assert initializers.get(instance) is instance


def test_config_round_trip():
    init = initializers.RandomNormal(mean=0.5, stddev=2.0, seed=7)
    again = initializers.get(initializers.serialize(init))
    assert type(again) is initializers.RandomNormal
    assert again.get_config() == {"mean": 0.5, "stddev": 2.0, "seed": 7}
    np.testing.assert_array_equal(again((3, 3)), init((3, 3)))
    glorot = initializers.get(initializers.serialize(initializers.GlorotUniform(seed=1)))
    assert type(glorot) is initializers.GlorotUniform and glorot.seed == 1


def test_unknown_names_and_bad_arguments():
    with pytest.raises(ValueError) as info:
        initializers.get("glorot_uniformm")
    assert "glorot_uniform" in str(info.value) and "he_normal" in str(info.value)
    with pytest.raises(ValueError, match="Unknown initializer config"):
        initializers.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
