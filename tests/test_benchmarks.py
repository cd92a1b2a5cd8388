"""The benchmarks' reference loops compute what their docstrings claim
(``benchmarks/contenders/hand_numpy.py``); timing itself is never tested here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from numkeras import layers, models, utils

CONTENDERS = Path(__file__).resolve().parents[1] / "benchmarks" / "contenders"


@pytest.fixture
def hand_numpy(monkeypatch):
    monkeypatch.syspath_prepend(str(CONTENDERS))
    import hand_numpy

    return hand_numpy


def test_the_kernel_loop_takes_the_step_that_fit_takes(hand_numpy):
    """numkeras's kernels in a bare loop and numkeras's ``fit``, from the same weights over the
    same batch, end with the same weights, bit for bit: the loop's time is the compute floor of
    ``fit``, and ``fit`` minus it is the framework's cost."""
    rng = np.random.default_rng(0)
    x = rng.random((128, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 128)
    loop = hand_numpy.KernelLoopMLP(np, 1, 128)
    model = models.Sequential([layers.Input((784,)), layers.Dense(512, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.set_weights([p.copy() for p in loop.params])

    history = model.fit(x, utils.to_categorical(labels, 10), batch_size=128, epochs=1,
                        shuffle=False, verbose=0)
    probabilities = loop.forward(x)
    loss_sum, _ = loop.loss_and_hits(probabilities, labels)
    loop.backward(x, probabilities, labels)
    loop.update()

    for got, want in zip(model.get_weights(), loop.params, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(loop.params[0], hand_numpy.KernelLoopMLP(np, 1, 128).params[0])
    np.testing.assert_allclose(history.history["loss"][0], loss_sum / 128, rtol=1e-6)
