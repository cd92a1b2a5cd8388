"""The core layers and the Layer base class, against NumPy computations written here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numkeras import initializers, layers, ops
from numkeras.autodiff import GradientTape, Tensor, value_of
from numkeras.layers.layer import Layer
from numkeras.utils import clear_session, set_random_seed

RNG = np.random.default_rng(7)


def arr(x) -> np.ndarray:
    return np.asarray(value_of(x))


def np_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- Dense ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("activation", "reference"),
    [(None, lambda z: z), ("relu", lambda z: np.maximum(z, 0)), ("softmax", np_softmax),
     ("sigmoid", lambda z: 1 / (1 + np.exp(-z))), ("tanh", np.tanh)],
)
def test_dense_output_is_activation_of_affine_map(activation, reference):
    layer = layers.Dense(5, activation=activation, bias_initializer="random_normal")
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    out = layer(x)
    kernel, bias = (w.astype(np.float64) for w in layer.get_weights())
    assert kernel.shape == (4, 5) and bias.shape == (5,)
    np.testing.assert_allclose(arr(out), reference(x.astype(np.float64) @ kernel + bias),
                               rtol=1e-5, atol=1e-6)
    assert arr(out).dtype == np.float32


def test_dense_default_initializers_glorot_uniform_and_zeros():
    set_random_seed(3)
    layer = layers.Dense(300)
    layer(np.zeros((1, 200), np.float32))
    kernel, bias = layer.get_weights()
    limit = math.sqrt(6 / (200 + 300))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.99 * limit
    np.testing.assert_allclose(kernel.astype(np.float64).var(), limit**2 / 3, rtol=0.03)
    assert abs(kernel.mean()) < 4 * limit / math.sqrt(3 * kernel.size)
    np.testing.assert_array_equal(bias, np.zeros(300, np.float32))


def test_dense_without_bias():
    layer = layers.Dense(3, use_bias=False)
    x = RNG.normal(size=(2, 4)).astype(np.float32)
    out = layer(x)
    assert len(layer.weights) == 1 and layer.bias is None
    np.testing.assert_allclose(arr(out), x @ layer.get_weights()[0], rtol=1e-6)
    assert layer.count_params() == 12


def test_dense_on_higher_rank_inputs_uses_last_axis():
    layer = layers.Dense(5)
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    out = arr(layer(x))
    assert layer.kernel.shape == (4, 5)
    assert out.shape == (2, 3, 5)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, np.einsum("btf,fu->btu", x, kernel) + bias, rtol=1e-5,
                               atol=1e-6)


def test_dense_input_feature_mismatch_names_layer_and_shapes():
    layer = layers.Dense(3, name="my_dense")
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError) as info:
        layer(np.zeros((2, 5), np.float32))
    message = str(info.value)
    assert "my_dense" in message and "4" in message and "(2, 5)" in message


@pytest.mark.parametrize("units", [0, -3, 2.5, True, "8"])
def test_dense_units_must_be_positive_integer(units):
    with pytest.raises(ValueError, match="units"):
        layers.Dense(units)


def test_dense_unknown_keyword_is_type_error():
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(3, kernel_initialiser="zeros")


def test_dense_gradients_match_numpy():
    layer = layers.Dense(3)
    x = RNG.normal(size=(4, 2)).astype(np.float32)
    layer(x)
    with GradientTape() as tape:
        loss = ops.sum(ops.square(layer(x)))
    g_kernel, g_bias = tape.gradient(loss, [layer.kernel, layer.bias])
    kernel, bias = layer.get_weights()
    upstream = 2 * (x @ kernel + bias)
    np.testing.assert_allclose(arr(g_kernel), x.T @ upstream, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arr(g_bias), upstream.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_float64_and_integer_inputs_give_float32_outputs():
    layer = layers.Dense(2)
    x = RNG.normal(size=(3, 4))
    out = layer(x)  # float64 NumPy input is cast to the layer's float32 (Keras's autocast)
    assert arr(out).dtype == np.float32
    np.testing.assert_allclose(arr(out), x.astype(np.float32) @ layer.get_weights()[0],
                               rtol=1e-5, atol=1e-6)
    assert arr(layer(np.ones((3, 4), np.uint8))).dtype == np.float32
    wide = layers.Dense(2, dtype="float64")
    assert arr(wide(x.astype(np.float32))).dtype == np.float64


def test_dense_config_round_trip():
    layer = layers.Dense(7, activation="relu", use_bias=False, name="d7",
                         kernel_initializer=initializers.HeNormal(seed=1),
                         kernel_regularizer="l2")
    config = layer.get_config()
    assert config["units"] == 7 and config["activation"] == "relu"
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    again = layers.Dense.from_config(config)
    assert again.get_config() == config
    x = RNG.normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_array_equal(arr(layer(x)), arr(again(x)))  # same seeded initializer


# --- Layer base: deferred build, weights ------------------------------------------------------
def test_deferred_build_on_first_call():
    layer = layers.Dense(4)
    assert not layer.built and layer.weights == [] and layer.kernel is None
    layer(np.zeros((2, 6), np.float32))
    assert layer.built
    assert [w.shape for w in layer.weights] == [(6, 4), (4,)]
    assert [w.name for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]


def test_automatic_names_restart_after_clear_session():
    clear_session()
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.Dropout(0.5).name == "dropout"
    clear_session()
    assert layers.Dense(1).name == "dense"


def test_get_set_weights_round_trip_and_errors():
    layer = layers.Dense(3)
    layer(np.zeros((1, 2), np.float32))
    new = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2, 3], np.float32)]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    # get_weights returns copies: editing them does not change the layer.
    layer.get_weights()[0][:] = 99
    np.testing.assert_array_equal(layer.get_weights()[0], new[0])
    with pytest.raises(ValueError, match="2 weights"):
        layer.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        layer.set_weights([new[0].T, new[1]])
    for got, want in zip(layer.get_weights(), new):  # a failed set changes nothing
        np.testing.assert_array_equal(got, want)


def test_trainable_flag():
    layer = layers.Dense(2)
    layer(np.zeros((1, 3), np.float32))
    assert len(layer.trainable_weights) == 2 and layer.non_trainable_weights == []
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


def test_custom_layer_with_add_weight_and_regularizer():
    class Scale(Layer):
        def build(self, input_shape):
            self.scale = self.add_weight((input_shape[-1],), initializer="ones",
                                         regularizer="l2", name="scale")
            self.counter = self.add_weight((), initializer="zeros", trainable=False,
                                           name="counter")

        def call(self, inputs, training=False):
            return ops.multiply(inputs, self.scale)

    layer = Scale()
    x = RNG.normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(arr(layer(x)), x)
    assert len(layer.trainable_weights) == 1 and len(layer.non_trainable_weights) == 1
    np.testing.assert_allclose([float(arr(p)) for p in layer.losses], [0.01 * 3])
    assert layer.count_params() == 4


def test_base_layer_call_not_implemented():
    with pytest.raises(NotImplementedError):
        Layer()(np.zeros((1, 2)))


# --- Dropout ------------------------------------------------------------------------------------
def test_dropout_is_identity_at_inference():
    x = RNG.normal(size=(50, 40)).astype(np.float32)
    layer = layers.Dropout(0.5)
    np.testing.assert_array_equal(arr(layer(x)), x)
    np.testing.assert_array_equal(arr(layer(x, training=False)), x)
    np.testing.assert_array_equal(arr(layers.Dropout(0.0)(x, training=True)), x)


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_dropout_in_training_zeroes_rate_and_scales_the_rest(rate):
    set_random_seed(0)
    x = RNG.uniform(0.5, 2.0, size=(200, 100)).astype(np.float32)  # no zeros of its own
    out = arr(layers.Dropout(rate)(x, training=True))
    dropped = out == 0
    n = x.size
    # Binomial(n, rate): within 5 standard deviations.
    assert abs(dropped.sum() - rate * n) < 5 * math.sqrt(n * rate * (1 - rate))
    kept = ~dropped
    np.testing.assert_allclose(out[kept], x[kept] / (1 - rate), rtol=1e-6)
    assert out.dtype == np.float32


def test_dropout_rate_one_zeroes_everything():
    x = np.ones((4, 5), np.float32)
    np.testing.assert_array_equal(arr(layers.Dropout(1.0)(x, training=True)), np.zeros_like(x))


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_dropout_rate_validation(rate):
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(rate)


def test_dropout_noise_shape_shares_the_mask():
    set_random_seed(1)
    x = np.ones((100, 6), np.float32)
    out = arr(layers.Dropout(0.5, noise_shape=(None, 1))(x, training=True))
    # Each row is either all dropped or all kept (and scaled by 2).
    assert set(np.unique(out, axis=1).ravel().tolist()) <= {0.0, 2.0}
    assert all(len(set(row.tolist())) == 1 for row in out)
    assert 0 < (out[:, 0] == 0).sum() < 100


def test_dropout_reproducible_with_set_random_seed_and_with_seed():
    x = np.ones((30, 30), np.float32)
    set_random_seed(123)
    a = arr(layers.Dropout(0.5)(x, training=True))
    set_random_seed(123)
    b = arr(layers.Dropout(0.5)(x, training=True))
    np.testing.assert_array_equal(a, b)
    c = arr(layers.Dropout(0.5)(x, training=True))
    assert not np.array_equal(a, c)  # the generator moved on
    first, second = layers.Dropout(0.5, seed=4), layers.Dropout(0.5, seed=4)
    np.testing.assert_array_equal(arr(first(x, training=True)), arr(second(x, training=True)))


def test_dropout_gradient_is_the_mask_times_scale():
    set_random_seed(2)
    x = RNG.normal(size=(10, 10)).astype(np.float32)
    with GradientTape() as tape:
        tape.watch(x)
        out = layers.Dropout(0.25)(x, training=True)
    grad = arr(tape.gradient(out, x))
    expected = np.where(arr(out) != 0, np.float32(1 / 0.75), 0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


# --- Flatten, Reshape, Input ------------------------------------------------------------------
def test_flatten_shapes():
    flatten = layers.Flatten()
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(arr(flatten(x)), x.reshape(2, 12))
    assert arr(flatten(np.zeros((5, 28, 28), np.float32))).shape == (5, 784)
    # A batch of scalars gains a feature axis (Keras's documented behaviour).
    assert arr(flatten(np.zeros((7,), np.float32))).shape == (7, 1)


def test_reshape_shapes_and_errors():
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(arr(layers.Reshape((4, 3))(x)), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(arr(layers.Reshape((-1, 2))(x)), x.reshape(2, 6, 2))
    np.testing.assert_array_equal(arr(layers.Reshape((12,))(x)), x.reshape(2, 12))
    with pytest.raises(ValueError) as info:
        layers.Reshape((5,), name="bad_reshape")(x)
    assert "bad_reshape" in str(info.value) and "(3, 4)" in str(info.value)
    with pytest.raises(ValueError, match="target_shape"):
        layers.Reshape((5, -1))(x)
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="positive"):
        layers.Reshape((0, 12))
    assert layers.Reshape((4, 3)).get_config()["target_shape"] == [4, 3]


def test_input_layer():
    inp = layers.Input(shape=(28, 28), name="pixels")
    assert isinstance(inp, layers.InputLayer)
    assert inp.shape == (28, 28) and inp.name == "pixels" and inp.built
    x = np.zeros((3, 28, 28), np.float32)
    assert arr(inp(x)) is x or np.array_equal(arr(inp(x)), x)
    assert layers.InputLayer(input_shape=(5,)).shape == (5,)
    with pytest.raises(ValueError, match="shape"):
        layers.InputLayer()


def test_layer_call_on_tensor_keeps_the_tape():
    layer = layers.Dense(2)
    x = Tensor(RNG.normal(size=(3, 4)).astype(np.float64))
    with GradientTape() as tape:
        tape.watch(x)
        out = ops.sum(layer(x))  # cast to float32 inside: the gradient still reaches x
    grad = arr(tape.gradient(out, x))
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, np.tile(layer.get_weights()[0].sum(axis=1), (3, 1)),
                               rtol=1e-6)
