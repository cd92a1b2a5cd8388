"""numkeras.regularizers: penalties and their gradients against formulas written here, and
their effect on a layer's ``losses`` and on the training loss."""

from __future__ import annotations

import numpy as np
import pytest

from numkeras import layers, models, optimizers, regularizers
from numkeras.autodiff import GradientTape, value_of

W = np.array([[0.5, -1.5, 2.0], [-0.25, 0.0, 3.0]], dtype=np.float32)
W64 = W.astype(np.float64)


def val(x) -> float:
    return float(np.asarray(value_of(x)))


def test_penalties_match_formulas():
    np.testing.assert_allclose(val(regularizers.L1(0.3)(W)), 0.3 * np.abs(W64).sum(), rtol=1e-6)
    np.testing.assert_allclose(val(regularizers.L2(0.2)(W)), 0.2 * (W64**2).sum(), rtol=1e-6)
    np.testing.assert_allclose(
        val(regularizers.L1L2(l1=0.1, l2=0.05)(W)),
        0.1 * np.abs(W64).sum() + 0.05 * (W64**2).sum(), rtol=1e-6,
    )
    assert val(regularizers.L1L2()(W)) == 0.0


def test_keras_defaults_and_aliases():
    assert regularizers.get("l1").l1 == 0.01
    assert regularizers.get("l2").l2 == 0.01
    both = regularizers.get("l1_l2")
    assert (both.l1, both.l2) == (0.0, 0.0)
    assert regularizers.l2 is regularizers.L2 and regularizers.l1_l2 is regularizers.L1L2
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.5)
    assert regularizers.get(reg) is reg


def test_gradients_match_formulas():
    for reg, expected in [
        (regularizers.L2(0.2), 2 * 0.2 * W64),
        (regularizers.L1(0.3), 0.3 * np.sign(W64)),
    ]:
        with GradientTape() as tape:
            tape.watch(W)
            penalty = reg(W)
        grad = np.asarray(tape.gradient(penalty, W))
        # Where w == 0, |w| has no derivative; check everything else.
        nonzero = W64 != 0
        np.testing.assert_allclose(grad[nonzero], expected[nonzero], rtol=1e-6)


def test_config_round_trip():
    for reg in (regularizers.L1(0.3), regularizers.L2(0.02), regularizers.L1L2(0.1, 0.2)):
        again = regularizers.get(regularizers.serialize(reg))
        assert type(again) is type(reg)
        assert again.get_config() == reg.get_config()
    assert regularizers.serialize(None) is None


def test_errors():
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        regularizers.L2(-0.1)
    with pytest.raises(ValueError, match="l1 must be >= 0"):
        regularizers.L1L2(l1=-1.0)
    with pytest.raises(ValueError, match="l1, l2, l1_l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Unknown regularizer config"):
        regularizers.get({"class_name": "L3", "config": {}})


def test_dense_regularizers_add_to_losses_and_training_loss():
    model = models.Sequential([
        layers.Input((4,)),
        layers.Dense(3, activation="softmax", kernel_regularizer=regularizers.L2(0.1),
                     bias_regularizer=regularizers.L1(0.5),
                     bias_initializer="ones"),
    ])
    dense = model.layers[0]
    kernel, bias = (w.astype(np.float64) for w in dense.get_weights())
    expected = [0.1 * (kernel**2).sum(), 0.5 * np.abs(bias).sum()]
    np.testing.assert_allclose([val(x) for x in dense.losses], expected, rtol=1e-6)
    np.testing.assert_allclose([val(x) for x in model.losses], expected, rtol=1e-6)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    labels = rng.integers(0, 3, size=8)
    y = np.eye(3, dtype=np.float32)[labels]
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="categorical_crossentropy")
    probs = model.predict(x, verbose=0).astype(np.float64)
    cross_entropy = -np.log(probs[np.arange(8), labels]).mean()
    total = cross_entropy + sum(expected)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0), total, rtol=1e-5)
    # fit reports the same (SGD with learning rate 0 leaves the weights alone).
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], total, rtol=1e-5)


def test_regularizer_pulls_weights_towards_zero():
    # With zero data gradient (lr 0.5, x = 0, mse against 0 outputs of a bias-free layer),
    # one SGD step is exactly w - lr * 2 * l2 * w.
    model = models.Sequential([
        layers.Input((2,)),
        layers.Dense(2, use_bias=False, kernel_regularizer=regularizers.L2(0.1)),
    ])
    before = model.get_weights()[0].astype(np.float64)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="mse")
    model.train_on_batch(np.zeros((4, 2), np.float32), np.zeros((4, 2), np.float32))
    np.testing.assert_allclose(model.get_weights()[0], before * (1 - 0.5 * 2 * 0.1), rtol=1e-6)
