"""Sequential: building (Input, input_shape=, deferred), structure, weights, summary, config."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from numkeras import layers, models
from numkeras.autodiff import value_of
from numkeras.utils import clear_session

RNG = np.random.default_rng(3)


def arr(x) -> np.ndarray:
    return np.asarray(value_of(x))


def seed_network() -> models.Sequential:
    """The seed's network: Dense 512 relu on 784 inputs, then Dense 10 softmax."""
    clear_session()
    return models.Sequential([
        layers.Input(shape=(784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


# --- building ----------------------------------------------------------------------------------
def test_input_builds_at_once():
    model = seed_network()
    assert model.built
    assert model.input_shape == (None, 784) and model.output_shape == (None, 10)
    assert [w.shape for w in model.weights] == [(784, 512), (512,), (512, 10), (10,)]
    assert model.count_params() == 784 * 512 + 512 + 512 * 10 + 10 == 407_050


def test_input_shape_argument_builds_at_once():
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    assert model.built and model.input_shape == (None, 3) and model.output_shape == (None, 2)
    assert len(model.weights) == 4


def test_deferred_build_on_first_call():
    model = models.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built and model.weights == [] and model.input_shape is None
    out = model(np.ones((5, 7), np.float32))
    assert arr(out).shape == (5, 2)
    assert model.built and model.input_shape == (None, 7)
    assert [w.shape for w in model.weights] == [(7, 4), (4,), (4, 2), (2,)]


def test_explicit_build_and_unknown_input_shape_error():
    model = models.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="input shape"):
        model.build()
    model.build((None, 5))
    assert model.built and model.layers[0].kernel.shape == (5, 3)
    with pytest.raises(ValueError, match="known"):
        models.Sequential([layers.Dense(3)]).build((None, None))


def test_add_builds_when_the_input_is_known():
    model = models.Sequential([layers.Input((6,))])
    model.add(layers.Dense(4))
    assert model.built and model.output_shape == (None, 4)
    model.add(layers.Flatten())
    model.add(layers.Dense(2))
    assert model.output_shape == (None, 2)
    assert len(model.layers) == 3


def test_pop_removes_the_last_layer():
    model = models.Sequential([layers.Input((3,)), layers.Dense(4), layers.Dense(2)])
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and popped.units == 2
    assert len(model.layers) == 1 and len(model.weights) == 2
    assert model.output_shape == (None, 4)
    model.pop()
    with pytest.raises(IndexError):
        model.pop()


def test_structure_errors():
    with pytest.raises(TypeError, match="expected a Layer"):
        models.Sequential([layers.Dense(2), "relu"])
    with pytest.raises(TypeError, match="expected a Layer"):
        models.Sequential().add(np.zeros(3))
    with pytest.raises(ValueError, match="unique names"):
        models.Sequential([layers.Dense(2, name="same"), layers.Dense(2, name="same")])
    with pytest.raises(ValueError, match="first layer"):
        models.Sequential([layers.Dense(2), layers.Input((3,))])


# --- calling -----------------------------------------------------------------------------------
def test_calling_on_numpy_casts_to_float32_and_matches_numpy():
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"),
                               layers.Dense(2)])
    k1, b1, k2, b2 = (w.astype(np.float64) for w in model.get_weights())
    for x in (RNG.integers(0, 256, size=(5, 4)).astype(np.uint8), RNG.normal(size=(5, 4))):
        out = arr(model(x))
        assert out.dtype == np.float32
        x32 = x.astype(np.float32).astype(np.float64)
        expected = np.maximum(x32 @ k1 + b1, 0) @ k2 + b2
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
    assert arr(model([[1.0, 2.0, 3.0, 4.0]])).shape == (1, 2)  # nested lists too


# --- weights -----------------------------------------------------------------------------------
def test_get_set_weights_round_trip_and_errors():
    model = models.Sequential([layers.Input((3,)), layers.Dense(4), layers.Dense(2)])
    new = [RNG.normal(size=w.shape).astype(np.float32) for w in model.weights]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    other = models.Sequential([layers.Input((3,)), layers.Dense(4), layers.Dense(2)])
    other.set_weights(model.get_weights())
    x = RNG.normal(size=(6, 3)).astype(np.float32)
    np.testing.assert_array_equal(arr(model(x)), arr(other(x)))
    with pytest.raises(ValueError, match="4 weight arrays.*received 3"):
        model.set_weights(new[:3])
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(2, 4\)"):
        model.set_weights(new[:2] + [new[2].T, new[3]])
    for got, want in zip(model.get_weights(), new):  # unchanged after the failures
        np.testing.assert_array_equal(got, want)


def test_trainable_weights_follow_trainable_flags():
    model = models.Sequential([layers.Input((3,)), layers.Dense(4), layers.Dropout(0.5),
                               layers.Dense(2)])
    assert len(model.trainable_weights) == 4 and model.non_trainable_weights == []
    model.layers[0].trainable = False
    assert [w.shape for w in model.trainable_weights] == [(4, 2), (2,)]
    assert [w.shape for w in model.non_trainable_weights] == [(3, 4), (4,)]
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4


# --- summary -----------------------------------------------------------------------------------
def test_summary_of_the_seed_network(capsys):
    model = seed_network()
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "sequential"' in out
    assert "Layer (type)" in out and "Output Shape" in out and "Param #" in out
    lines = out.splitlines()
    first = next(line for line in lines if "dense (Dense)" in line)
    second = next(line for line in lines if "dense_1 (Dense)" in line)
    assert "(None, 512)" in first and "401,920" in first
    assert "(None, 10)" in second and "5,130" in second
    assert "Total params: 407,050 (1.55 MB)" in out
    assert "Trainable params: 407,050 (1.55 MB)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out
    assert "┏" in out and "┃" in out and "└" in out  # Keras's box drawing


def test_summary_after_training_counts_optimizer_params(capsys):
    model = seed_network()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.train_on_batch(np.zeros((2, 784), np.float32), np.eye(10, dtype=np.float32)[:2])
    model.summary()
    # RMSprop: one velocity per weight, plus its iteration counter and learning rate.
    assert "Optimizer params: 407,052" in capsys.readouterr().out


def test_summary_counts_frozen_layers_as_non_trainable(capsys):
    model = seed_network()
    model.layers[0].trainable = False
    model.summary()
    out = capsys.readouterr().out
    assert "Total params: 407,050" in out
    assert "Trainable params: 5,130" in out
    assert "Non-trainable params: 401,920" in out


def test_summary_falls_back_to_ascii(monkeypatch):
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    seed_network().summary()  # must not raise UnicodeEncodeError
    stream.flush()
    text = buffer.getvalue().decode("ascii")
    assert "dense (Dense)" in text and "Total params: 407,050" in text
    assert "+" in text and "|" in text


def test_summary_print_fn_and_unbuilt_model():
    lines: list[str] = []
    clear_session()
    models.Sequential([layers.Dense(3)]).summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "dense (Dense)" in text and "0 (unbuilt)" in text and "Total params: 0" in text


# --- config ------------------------------------------------------------------------------------
def test_get_config_from_config_round_trip():
    model = models.Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                               layers.Dropout(0.25), layers.Dense(3, activation="softmax")],
                              name="net")
    config = model.get_config()
    assert config["name"] == "net"
    assert [e["class_name"] for e in config["layers"]] == ["InputLayer", "Dense", "Dropout",
                                                           "Dense"]
    again = models.Sequential.from_config(config)
    assert again.get_config() == config
    assert again.built and [w.shape for w in again.weights] == [w.shape for w in model.weights]


def test_from_config_unknown_layer_and_custom_objects():
    class Twice(layers.Layer):
        def call(self, inputs, training=False):
            return inputs * 2

    model = models.Sequential([layers.Input((2,)), Twice(name="twice")])
    config = model.get_config()
    with pytest.raises(ValueError, match="custom_objects"):
        models.Sequential.from_config(config)
    again = models.Sequential.from_config(config, custom_objects={"Twice": Twice})
    np.testing.assert_array_equal(arr(again(np.ones((1, 2), np.float32))), [[2.0, 2.0]])
