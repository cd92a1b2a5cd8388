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


def fake_report(commit, hand_epochs, numkeras_epochs):
    """A run.py report with rounds of the hand loop and numkeras (only what pooling reads)."""
    runs = []
    for i, (hand, nk) in enumerate(zip(hand_epochs, numkeras_epochs, strict=True), start=1):
        for name, epoch in (("hand_numpy", hand), ("numkeras", nk)):
            runs.append({"name": name, "run": i, "epoch_times": [9.0, epoch, epoch],
                         "noisy": False, "other_load_cores": 0.0, "peak_rss_mib": 100.0,
                         "predict_images_per_s": 1000.0, "evaluate_images_per_s": 1000.0})
    return {"config": {"runs": len(hand_epochs), "epochs": 3}, "environment": {"commit": commit},
            "imports": {"numpy": 0.1, "numkeras": 0.12, "numkeras_minus_numpy_ms": 20.0,
                        "repeats": 7},
            "runs": runs}


def test_pooled_reports_pair_rounds_within_each_report(tmp_path, monkeypatch, capsys):
    """Round 1 of one report never pairs with round 1 of another: a slow report (hand 4 s,
    numkeras 2 s) and a fast one (hand 1 s, numkeras 0.9 s) pool to paired ratios 0.5, 0.5,
    0.9, 0.9 (median 0.7), where cross-pairing would give 2.0 or 0.225."""
    import json

    monkeypatch.syspath_prepend(str(CONTENDERS.parent))
    import run

    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    paths[0].write_text(json.dumps(fake_report("abc1234", [4.0, 4.0], [2.0, 2.0])))
    paths[1].write_text(json.dumps(fake_report("def5678", [1.0, 1.0], [0.9, 0.9])))
    report = run.pool_reports(paths)
    numkeras = report["summary"]["numkeras"]
    assert numkeras["runs"] == 4
    assert numkeras["paired_epoch_ratio"] == pytest.approx(0.7)
    assert numkeras["epoch_ratio"] == pytest.approx(1.45 / 2.5)  # medians over the 4 rounds
    assert report["config"]["runs"] == 4
    assert report["imports"]["numkeras_minus_numpy_ms"] == 20.0
    assert report["environment"]["commit"] == "abc1234, def5678"
    assert "different commits" in capsys.readouterr().err
