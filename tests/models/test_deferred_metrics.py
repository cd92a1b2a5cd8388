"""Metric updates held back while no callback reads per-batch logs (``fit``), and the loss and
metrics of ``evaluate`` computed for groups of batches.

Each check runs the same model twice: once with a callback that reads every batch's logs
(which forces one update per batch, the plain Keras order) and once without; the reported
numbers must agree to float32 rounding. Independent references are computed with NumPy from
``predict``.
"""

from __future__ import annotations

import numpy as np
import pytest

from numkeras import callbacks, layers, losses, metrics, models, optimizers, regularizers
from numkeras.models import model as model_module
from numkeras.utils import set_random_seed, to_categorical

N, FEATURES, CLASSES = 1000, 5, 4
_rng = np.random.default_rng(7)
X = _rng.normal(size=(N, FEATURES)).astype(np.float32)
LABELS = _rng.integers(0, CLASSES, size=N)
Y = to_categorical(LABELS, CLASSES)
WEIGHTS = _rng.uniform(0.1, 2.0, size=N).astype(np.float32)


class ReadsBatchLogs(callbacks.Callback):
    """Forces per-batch metric updates, as it reads the logs after every batch."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict] = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(dict(logs or {}))

    def on_test_batch_end(self, batch, logs=None):
        self.seen.append(dict(logs or {}))


def build(loss="categorical_crossentropy", metric_list=("accuracy",), seed=3,
          regularized=False) -> models.Sequential:
    set_random_seed(seed)
    reg = regularizers.l2(0.01) if regularized else None
    model = models.Sequential([
        layers.Input((FEATURES,)),
        layers.Dense(16, activation="relu", kernel_regularizer=reg),
        layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer=optimizers.RMSprop(1e-2), loss=loss, metrics=list(metric_list))
    return model


def reference(model: models.Sequential, weights=None) -> tuple[float, float]:
    """Per-batch-free reference: mean cross-entropy (Keras's clip) and accuracy from predict."""
    probs = model.predict(X, verbose=0).astype(np.float64)
    p = np.clip(probs / probs.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    per_sample = -np.log(p[np.arange(N), LABELS])
    hits = (probs.argmax(axis=1) == LABELS).astype(np.float64)
    if weights is None:
        return per_sample.mean(), hits.mean()
    return (per_sample * weights).sum() / N, hits.mean()


@pytest.mark.parametrize("batch_size", [32, 128, 999, 1000])
def test_grouped_evaluate_matches_per_batch_evaluate_and_numpy(batch_size):
    model = build()
    model.fit(X, Y, epochs=1, batch_size=64, verbose=0)
    grouped = model.evaluate(X, Y, batch_size=batch_size, verbose=0)
    per_batch = model.evaluate(X, Y, batch_size=batch_size, verbose=0,
                               callbacks=[ReadsBatchLogs()])
    np.testing.assert_allclose(grouped, per_batch, rtol=2e-6)
    loss, acc = reference(model)
    np.testing.assert_allclose(grouped, [loss, acc], rtol=2e-5)


def test_grouped_evaluate_with_sample_weight_and_regularizer():
    model = build(regularized=True)
    model.fit(X, Y, epochs=1, batch_size=50, verbose=0)
    grouped = model.evaluate(X, Y, sample_weight=WEIGHTS, batch_size=30, verbose=0)
    per_batch = model.evaluate(X, Y, sample_weight=WEIGHTS, batch_size=30, verbose=0,
                               callbacks=[ReadsBatchLogs()])
    np.testing.assert_allclose(grouped, per_batch, rtol=2e-6)
    penalty = 0.01 * float(np.sum(model.layers[0].kernel.numpy().astype(np.float64) ** 2))
    loss, acc = reference(model, WEIGHTS)
    np.testing.assert_allclose(grouped, [loss + penalty, acc], rtol=2e-5)


def test_evaluate_steps_limits_the_grouped_batches():
    model = build()
    steps, batch = 3, 100
    grouped = model.evaluate(X, Y, batch_size=batch, steps=steps, verbose=0)
    head = model.evaluate(X[: steps * batch], Y[: steps * batch], batch_size=batch, verbose=0,
                          callbacks=[ReadsBatchLogs()])
    np.testing.assert_allclose(grouped, head, rtol=2e-6)


def test_fit_history_is_the_same_with_and_without_batch_log_readers():
    plain = build(seed=11).fit(X, Y, epochs=3, batch_size=40, validation_split=0.2, verbose=0)
    reader = ReadsBatchLogs()
    read = build(seed=11).fit(X, Y, epochs=3, batch_size=40, validation_split=0.2, verbose=0,
                              callbacks=[reader])
    assert len(reader.seen) == 3 * 20
    assert plain.history.keys() == read.history.keys()
    for key in plain.history:
        np.testing.assert_allclose(plain.history[key], read.history[key], rtol=2e-6,
                                   err_msg=key)


class CallCounting(losses.Loss):
    """A user's loss: not known to average over samples, so evaluate must not group it."""

    def __init__(self) -> None:
        super().__init__(name="counted")
        self.batch_sizes: list[int] = []

    def call(self, y_true, y_pred):
        self.batch_sizes.append(len(y_pred))
        return losses.categorical_crossentropy(y_true, y_pred)


def test_user_loss_is_called_once_per_batch_in_evaluate():
    loss = CallCounting()
    model = build(loss=loss)
    model.evaluate(X, Y, batch_size=300, verbose=0)
    assert loss.batch_sizes == [300, 300, 300, 100]


class LargestBatchMean(metrics.Metric):
    """A user's metric that is not a mean over samples: it must see every batch on its own."""

    def __init__(self) -> None:
        super().__init__(name="largest_batch_mean")
        self.best = self.add_variable(name="best")
        self.sizes: list[int] = []

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.sizes.append(len(y_pred))
        self.best.assign(max(float(self.best.value), float(np.max(y_pred, axis=1).mean())))

    def result(self):
        return self.best.value[()]


def test_user_metric_gets_each_batch_in_order_when_updates_are_held_back():
    metric = LargestBatchMean()
    model = build(metric_list=(metric,))
    history = model.fit(X, Y, epochs=1, batch_size=300, verbose=0, shuffle=False)
    assert metric.sizes == [300, 300, 300, 100]
    metric.sizes.clear()
    reader_history = build(metric_list=(metric,)).fit(
        X, Y, epochs=1, batch_size=300, verbose=0, shuffle=False, callbacks=[ReadsBatchLogs()])
    assert metric.sizes == [300, 300, 300, 100]
    np.testing.assert_allclose(history.history["largest_batch_mean"],
                               reader_history.history["largest_batch_mean"], rtol=1e-6)


@pytest.mark.parametrize(
    "loss, groups",
    [
        ("categorical_crossentropy", True),
        (losses.CategoricalCrossentropy(), True),
        (losses.CategoricalCrossentropy(reduction="sum"), False),
        (losses.SparseCategoricalCrossentropy(ignore_class=0), False),
        (losses.SparseCategoricalCrossentropy(), True),
        (CallCounting(), False),
        (lambda y_true, y_pred: losses.categorical_crossentropy(y_true, y_pred), False),
    ],
)
def test_which_losses_are_grouped_in_evaluate(loss, groups):
    model = build()
    model.compile(loss=loss)
    assert model._loss_adds_up() is groups


def test_built_in_metrics_add_up_and_user_ones_do_not():
    assert model_module._adds_up(metrics.CategoricalAccuracy())
    assert model_module._adds_up(metrics.Mean())
    assert not model_module._adds_up(LargestBatchMean())
    assert not model_module._adds_up(metrics.MeanMetricWrapper(lambda t, p: (t == p).mean(-1)))


def test_held_back_updates_flushed_many_times_give_the_same_history(monkeypatch):
    monkeypatch.setattr(model_module, "_DEFERRED_ROWS", 64)  # flush every few batches
    plain = build(seed=5).fit(X, Y, epochs=2, batch_size=24, verbose=0)
    read = build(seed=5).fit(X, Y, epochs=2, batch_size=24, verbose=0,
                             callbacks=[ReadsBatchLogs()])
    for key in plain.history:
        np.testing.assert_allclose(plain.history[key], read.history[key], rtol=2e-6,
                                   err_msg=key)
    model = build(seed=5)
    grouped = model.evaluate(X, Y, batch_size=24, verbose=0)
    per_batch = model.evaluate(X, Y, batch_size=24, verbose=0, callbacks=[ReadsBatchLogs()])
    np.testing.assert_allclose(grouped, per_batch, rtol=2e-6)


@pytest.mark.parametrize("interactive", [False, True])
def test_progress_bar_gets_running_metrics_only_on_a_terminal(interactive, monkeypatch, capsys):
    from numkeras import callbacks as callbacks_module
    from numkeras.utils.progbar import Progbar

    monkeypatch.setattr(callbacks_module, "_is_interactive", lambda stream: interactive)
    seen: list[list] = []
    real_update = Progbar.update

    def spy(self, current, values=None, finalize=None):
        if not finalize:
            seen.append(list(values or ()))
        real_update(self, current, values, finalize)

    monkeypatch.setattr(Progbar, "update", spy)
    history = build(seed=4).fit(X, Y, epochs=2, batch_size=100, verbose=1)
    quiet = build(seed=4).fit(X, Y, epochs=2, batch_size=100, verbose=0)
    # one update per batch; running values in them only when a live bar shows them
    assert [bool(values) for values in seen] == [interactive] * (2 * 10)
    for key in quiet.history:
        np.testing.assert_allclose(history.history[key], quiet.history[key], rtol=2e-6)
    printed = capsys.readouterr().out
    assert f"accuracy: {history.history['accuracy'][-1]:.4f}" in printed
