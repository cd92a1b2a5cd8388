"""The training API (compile / fit / evaluate / predict / train_on_batch) on tiny synthetic data.

Expected losses are computed here from ``model.predict`` outputs with NumPy, and one SGD step
is computed by hand from the softmax cross-entropy gradient.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from numkeras import callbacks, layers, models, optimizers
from numkeras.utils import set_random_seed, to_categorical

N, FEATURES, CLASSES = 40, 6, 3
_rng = np.random.default_rng(2024)
X = _rng.normal(size=(N, FEATURES)).astype(np.float32)
LABELS = _rng.integers(0, CLASSES, size=N)
Y = to_categorical(LABELS, CLASSES).astype(np.float32)


def small_model(dropout: float = 0.0, optimizer="rmsprop", metrics=("accuracy",),
                loss="categorical_crossentropy") -> models.Sequential:
    stack = [layers.Input((FEATURES,)), layers.Dense(8, activation="relu")]
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(CLASSES, activation="softmax"))
    model = models.Sequential(stack)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


def frozen_sgd_model(**kwargs) -> models.Sequential:
    """SGD with learning rate 0: fit reports losses of weights that predict() also sees."""
    return small_model(optimizer=optimizers.SGD(learning_rate=0.0), **kwargs)


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(probs.astype(np.float64)[np.arange(len(labels)), labels], 1e-7, 1))


class BatchCounter(callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.epochs: list[int] = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


# --- fit -------------------------------------------------------------------------------------
def test_fit_returns_history_with_validation_split():
    model = small_model()
    history = model.fit(X, Y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert model.history is history
    # Keras's rule: the validation set is the last 25% of the samples, unshuffled.
    val = model.evaluate(X[30:], Y[30:], verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["val_loss"][-1], val["loss"], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_accuracy"][-1], val["accuracy"])


def test_fit_with_validation_data():
    model = small_model()
    history = model.fit(X[:30], Y[:30], epochs=2, validation_data=(X[30:], Y[30:]), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    val = model.evaluate(X[30:], Y[30:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1], val[0], rtol=1e-6)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(X, Y, validation_data=X, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(X, Y, validation_split=1.0, verbose=0)


@pytest.mark.parametrize(("n", "batch_size", "steps"), [(70, None, 3), (64, None, 2),
                                                        (10, 3, 4), (5, 100, 1)])
def test_batches_per_epoch(n, batch_size, steps):
    model = small_model()
    x = np.resize(X, (n, FEATURES))
    y = np.resize(Y, (n, CLASSES))
    counter = BatchCounter()
    model.fit(x, y, batch_size=batch_size, epochs=2, callbacks=[counter], verbose=0)
    assert counter.batches == list(range(steps)) * 2
    assert steps == math.ceil(n / (batch_size or 32))


def test_each_fit_returns_a_fresh_history():
    model = small_model()
    first = model.fit(X, Y, epochs=2, verbose=0)
    second = model.fit(X, Y, epochs=3, verbose=0)
    assert first is not second and model.history is second
    assert len(first.history["loss"]) == 2 and len(second.history["loss"]) == 3
    assert second.epoch == [0, 1, 2]


def test_validation_freq():
    model = small_model()
    history = model.fit(X, Y, epochs=4, validation_data=(X, Y), validation_freq=2, verbose=0)
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2


def test_initial_epoch():
    model = small_model()
    counter = BatchCounter()
    history = model.fit(X, Y, epochs=4, initial_epoch=2, callbacks=[counter], verbose=0)
    assert counter.epochs == [2, 3] and history.epoch == [2, 3]
    assert len(history.history["loss"]) == 2


def test_shuffle_changes_batch_order_and_false_keeps_it():
    seen: list[np.ndarray] = []

    class Spy(models.Sequential):
        def train_step(self, x, y, sample_weight=None):
            seen.append(np.array(x))
            return super().train_step(x, y, sample_weight)

    model = Spy([layers.Input((FEATURES,)), layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.0), loss="categorical_crossentropy")
    model.fit(X, Y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(seen[-1], X)
    set_random_seed(0)
    model.fit(X, Y, batch_size=N, epochs=1, shuffle=True, verbose=0)
    shuffled = seen[-1]
    assert not np.array_equal(shuffled, X)
    # A permutation of the same rows.
    np.testing.assert_array_equal(np.sort(shuffled, axis=0), np.sort(X, axis=0))


def test_sample_weight_changes_the_loss_as_expected():
    model = frozen_sgd_model()
    weights = np.linspace(0.0, 2.0, N).astype(np.float32)
    ce = cross_entropy(model.predict(X, verbose=0), LABELS)
    expected = (weights * ce).mean()  # Keras: sum(w * loss) / number of samples
    loss = model.evaluate(X, Y, sample_weight=weights, batch_size=N, verbose=0)[0]
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    history = model.fit(X, Y, sample_weight=weights, batch_size=N, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    unweighted = model.evaluate(X, Y, batch_size=N, verbose=0)[0]
    np.testing.assert_allclose(unweighted, ce.mean(), rtol=1e-5)


@pytest.mark.parametrize("label_form", ["one_hot", "integers", "column"])
def test_class_weight_changes_the_loss_as_expected(label_form):
    loss = "categorical_crossentropy" if label_form == "one_hot" else \
        "sparse_categorical_crossentropy"
    model = frozen_sgd_model(loss=loss)
    y = {"one_hot": Y, "integers": LABELS, "column": LABELS.reshape(-1, 1)}[label_form]
    class_weight = {0: 0.5, 1: 3.0}  # class 2 is not mentioned: it weighs 1 (Keras 3)
    per_sample = np.array([class_weight.get(int(c), 1.0) for c in LABELS])
    ce = cross_entropy(model.predict(X, verbose=0), LABELS)
    history = model.fit(X, y, class_weight=class_weight, batch_size=N, shuffle=False,
                        verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], (per_sample * ce).mean(), rtol=1e-5)
    # The same as passing those weights per sample to evaluate.
    evaluated = model.evaluate(X, y, sample_weight=per_sample, batch_size=N, verbose=0)[0]
    np.testing.assert_allclose(history.history["loss"][0], evaluated, rtol=1e-6)


def test_class_weight_applies_to_training_only():
    model = frozen_sgd_model()
    history = model.fit(X, Y, class_weight={0: 10.0, 1: 10.0, 2: 10.0}, batch_size=N,
                        validation_data=(X, Y), verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], 10 * history.history["val_loss"][0],
                               rtol=1e-5)


def test_frozen_layer_does_not_change_in_fit():
    model = small_model()
    model.layers[0].trainable = False
    before = model.get_weights()
    model.fit(X, Y, epochs=2, verbose=0)
    after = model.get_weights()
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert not np.array_equal(after[2], before[2])


# --- evaluate / predict / train_on_batch -----------------------------------------------------
def test_evaluate_return_forms():
    model = small_model(metrics=())
    loss = model.evaluate(X, Y, verbose=0)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, cross_entropy(model.predict(X, verbose=0), LABELS).mean(),
                               rtol=1e-5)
    model = small_model()
    loss, accuracy = model.evaluate(X, Y, verbose=0)
    probs = model.predict(X, verbose=0)
    np.testing.assert_allclose(accuracy, np.mean(probs.argmax(axis=1) == LABELS), rtol=1e-6)
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert model.metrics_names == ["loss", "accuracy"]
    np.testing.assert_allclose(logs["loss"], loss, rtol=1e-6)


def test_evaluate_in_batches_equals_full_batch():
    model = small_model()
    full = model.evaluate(X, Y, batch_size=N, verbose=0)
    batched = model.evaluate(X, Y, batch_size=7, verbose=0)  # uneven last batch
    np.testing.assert_allclose(batched, full, rtol=1e-5)


def test_predict_returns_probabilities():
    model = models.Sequential([layers.Input((FEATURES,)), layers.Dense(16, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    probs = model.predict(X, batch_size=7, verbose=0)
    assert probs.shape == (N, 10) and probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(X), probs, rtol=1e-6)
    # predict needs no compile, and casts uint8 / float64 inputs.
    assert model.predict(X.astype(np.float64), verbose=0).dtype == np.float32
    assert model.predict(np.ones((3, FEATURES), np.uint8), verbose=0).shape == (3, 10)


def test_integer_labels_with_sparse_categorical_crossentropy():
    model = small_model(loss="sparse_categorical_crossentropy")
    history = model.fit(X, LABELS, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    loss, accuracy = model.evaluate(X, LABELS, verbose=0)
    probs = model.predict(X, verbose=0)
    np.testing.assert_allclose(loss, cross_entropy(probs, LABELS).mean(), rtol=1e-5)
    np.testing.assert_allclose(accuracy, np.mean(probs.argmax(1) == LABELS), rtol=1e-6)


def test_train_on_batch_and_test_on_batch():
    model = small_model()
    before = model.get_weights()
    loss, accuracy = model.train_on_batch(X, Y)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    assert not np.array_equal(before[0], model.get_weights()[0])
    logs = model.test_on_batch(X, Y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}


def test_one_sgd_step_equals_hand_computed_update():
    """Keras equivalence: one SGD step (lr 0.1) on Dense softmax with fixed weights equals
    W - lr * x.T (p - y) / n, b - lr * mean(p - y), the mean cross-entropy gradient."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    labels = np.array([0, 2, 1, 2, 0])
    y = to_categorical(labels, 3).astype(np.float32)
    kernel = rng.normal(scale=0.5, size=(4, 3)).astype(np.float32)
    bias = np.array([0.1, -0.2, 0.05], np.float32)
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.set_weights([kernel, bias])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    loss = model.train_on_batch(x, y)

    z = x.astype(np.float64) @ kernel + bias
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(loss, -np.log(p[np.arange(5), labels]).mean(), rtol=1e-6)
    grad_z = (p - y) / len(x)
    new_kernel = kernel - 0.1 * x.T.astype(np.float64) @ grad_z
    new_bias = bias - 0.1 * grad_z.sum(axis=0)
    got_kernel, got_bias = model.get_weights()
    np.testing.assert_allclose(got_kernel, new_kernel, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got_bias, new_bias, rtol=1e-5, atol=1e-7)
    # fit with one full batch does the same step.
    again = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    again.set_weights([kernel, bias])
    again.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    again.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_small_mlp_learns_a_linearly_separable_problem():
    set_random_seed(42)
    rng = np.random.default_rng(42)
    x = rng.normal(size=(600, 4)).astype(np.float32)
    direction = np.array([1.0, -2.0, 0.5, 1.5], np.float32)
    score = x @ direction
    x, labels = x[np.abs(score) > 0.3], (score[np.abs(score) > 0.3] > 0).astype(np.int64)
    model = models.Sequential([layers.Input((4,)), layers.Dense(16, activation="relu"),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.RMSprop(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.95
    assert model.evaluate(x, labels, verbose=0)[1] > 0.95


# --- verbosity -------------------------------------------------------------------------------
def test_verbose_zero_prints_nothing(capsys):
    model = small_model()
    model.fit(X, Y, epochs=2, validation_split=0.2, verbose=0)
    model.evaluate(X, Y, verbose=0)
    model.predict(X, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_two_prints_one_line_per_epoch(capsys):
    model = small_model()
    model.fit(X, Y, epochs=3, batch_size=8, validation_split=0.25, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    summaries = [line for line in lines if "loss:" in line]
    assert len(summaries) == 3
    assert all("val_loss:" in line and "accuracy:" in line for line in summaries)
    assert [line for line in lines if line.startswith("Epoch")] == [
        "Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert len(lines) == 6


# --- errors ----------------------------------------------------------------------------------
def test_fit_before_compile_is_runtime_error():
    model = models.Sequential([layers.Input((FEATURES,)), layers.Dense(CLASSES)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(X, Y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.evaluate(X, Y, verbose=0)


def test_data_errors():
    model = small_model()
    with pytest.raises(ValueError) as info:
        model.fit(X, Y[:30], verbose=0)
    assert "40" in str(info.value) and "30" in str(info.value)
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.zeros((0, FEATURES), np.float32), np.zeros((0, CLASSES)), verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X, Y, sample_weight=np.ones(5), verbose=0)
    with pytest.raises(ValueError, match="`y`"):
        model.fit(X, verbose=0)
    for bad in (0, -4):
        with pytest.raises(ValueError, match="batch_size"):
            model.fit(X, Y, batch_size=bad, verbose=0)
    with pytest.raises(TypeError, match="batch_size"):
        model.fit(X, Y, batch_size=2.5, verbose=0)
    with pytest.raises(ValueError, match="verbose"):
        model.fit(X, Y, verbose=3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_name_the_first_index(bad):
    model = small_model()
    before = model.get_weights()
    x = X.copy()
    x[17, 4] = bad
    x[30, 1] = bad
    with pytest.raises(ValueError) as info:
        model.fit(x, Y, verbose=0)
    assert "(17, 4)" in str(info.value) and "2 NaN or infinite" in str(info.value)
    for a, b in zip(before, model.get_weights()):  # nothing trained
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"\(17, 4\)"):
        model.predict(x, verbose=0)


def test_integer_labels_with_categorical_crossentropy_explains_the_fix():
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError) as info:
        model.fit(X, LABELS, verbose=0)
    message = str(info.value)
    assert "sparse_categorical_crossentropy" in message and "to_categorical" in message
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unknown_optimizer_loss_metric_list_valid_names():
    model = models.Sequential([layers.Input((FEATURES,)), layers.Dense(CLASSES)])
    with pytest.raises(ValueError) as info:
        model.compile(optimizer="adamm", loss="mse")
    assert "adamm" in str(info.value) and "rmsprop" in str(info.value)
    with pytest.raises(ValueError) as info:
        model.compile(optimizer="sgd", loss="categorical_crossentropyy")
    assert "categorical_crossentropy" in str(info.value) and "mse" in str(info.value)
    # A misspelled metric fails in compile, before any training step changes a weight.
    with pytest.raises(ValueError) as info:
        model.compile(optimizer="sgd", loss="mse", metrics=["accuracyy"])
    assert "accuracyy" in str(info.value) and "categorical_accuracy" in str(info.value)


def test_compile_without_loss():
    model = models.Sequential([layers.Input((FEATURES,)), layers.Dense(CLASSES)])
    model.compile(optimizer="sgd")
    assert model.predict(X, verbose=0).shape == (N, CLASSES)
    with pytest.raises(ValueError, match="loss"):
        model.fit(X, Y, verbose=0)


# --- reproducibility -------------------------------------------------------------------------
def run_seeded(seed: int):
    set_random_seed(seed)
    model = small_model(dropout=0.3)
    history = model.fit(X, Y, epochs=3, batch_size=8, validation_split=0.2, verbose=0)
    return history.history, model.get_weights()


def test_set_random_seed_makes_training_bit_identical():
    history_a, weights_a = run_seeded(7)
    history_b, weights_b = run_seeded(7)
    assert history_a == history_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    history_c, _ = run_seeded(8)
    assert history_c != history_a


class BatchLogRecorder(callbacks.Callback):
    """Overrides the per-batch hooks (the legacy ``on_batch_end`` included) to see their logs."""

    def __init__(self) -> None:
        super().__init__()
        self.train_logs: list[dict] = []
        self.legacy_logs: list[dict] = []
        self.test_logs: list[dict] = []

    def on_batch_end(self, batch, logs=None):
        self.legacy_logs.append(dict(logs))

    def on_test_batch_end(self, batch, logs=None):
        self.test_logs.append(dict(logs))


def test_callbacks_that_override_batch_hooks_receive_running_metrics():
    recorder = BatchLogRecorder()
    model = frozen_sgd_model()
    model.fit(X, Y, epochs=1, batch_size=10, shuffle=False, verbose=0, callbacks=[recorder])
    assert len(recorder.legacy_logs) == 4
    assert all(set(logs) == {"loss", "accuracy"} for logs in recorder.legacy_logs)
    # Running means over the epoch so far: the first batch's loss is that batch's mean loss.
    first = cross_entropy(model.predict(X[:10], verbose=0), LABELS[:10]).mean()
    assert recorder.legacy_logs[0]["loss"] == pytest.approx(first, rel=1e-5)
    model.evaluate(X, Y, batch_size=20, verbose=0, callbacks=[recorder])
    assert len(recorder.test_logs) == 2 and recorder.test_logs[-1]["loss"] == pytest.approx(
        cross_entropy(model.predict(X, verbose=0), LABELS).mean(), rel=1e-5)


def test_large_finite_inputs_are_not_mistaken_for_infinity():
    """The NaN check sums chunks first; a sum that overflows must not count as bad data."""
    model = small_model(optimizer=optimizers.SGD(learning_rate=0.0))
    huge = np.full((N, FEATURES), 3e38, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        model.predict(huge, verbose=0)  # no ValueError: every value is finite


def test_loss_weights_scale_the_loss_of_a_single_output():
    plain, weighted = frozen_sgd_model(), frozen_sgd_model()
    weighted.set_weights(plain.get_weights())
    weighted.compile(optimizer=optimizers.SGD(learning_rate=0.0),
                     loss="categorical_crossentropy", loss_weights=[0.25])
    expected = cross_entropy(plain.predict(X, verbose=0), LABELS).mean() * 0.25
    assert weighted.evaluate(X, Y, batch_size=N, verbose=0) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="loss_weights"):
        plain.compile("sgd", "categorical_crossentropy", ["accuracy"])


def test_metrics_given_as_strings_are_named_by_those_strings():
    model = models.Sequential([layers.Input((FEATURES,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mean_squared_error"])
    history = model.fit(X, X.sum(axis=1), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae", "mean_squared_error"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_finiteness_check_finds_values_in_any_chunk_and_rank(dtype):
    from numkeras.models.model import _check_finite

    images = np.zeros((9000, 7, 4), dtype=dtype)
    _check_finite("fit", images)  # all finite: silent
    images[8999, 6, 3] = np.nan  # the last value of the third chunk
    with pytest.raises(ValueError, match=r"1 NaN or infinite values \(first at index "
                                         r"\(8999, 6, 3\)\)"):
        _check_finite("fit", images)
    images[8999, 6, 3] = 0
    images[5000, 0, 0], images[5000, 0, 1] = np.inf, -np.inf  # would sum to NaN
    with pytest.raises(ValueError, match=r"\(5000, 0, 0\)"):
        _check_finite("fit", images)


def test_finiteness_check_accepts_finite_values_whose_sum_overflows():
    from numkeras.models.model import _check_finite

    big = np.full((100, 3), np.finfo(np.float32).max, np.float32)
    _check_finite("fit", big)
    _check_finite("fit", np.zeros((0, 5), np.float32))


@pytest.mark.parametrize("method, verb", [("fit", "train on"), ("evaluate", "evaluate"),
                                          ("predict", "predict")])
def test_empty_x_is_refused_with_the_method_named(method, verb):
    model = small_model()
    args = (X[:0], Y[:0]) if method != "predict" else (X[:0],)
    with pytest.raises(ValueError, match=rf"{method}: `x` is empty .* nothing to {verb}$"):
        getattr(model, method)(*args, verbose=0)


# --- fit leaves a long optimizer update running on the helper while it gathers the next batch
BIG_IN, BIG_UNITS = 600, 256  # a 153,600-element kernel: long enough for the helper thread


def background_run(monkeypatch, *, callbacks_=(), model_class=models.Sequential,
                   optimizer=None, epochs=2):
    """Train a model with one long kernel; its final weights and how many of fit's waits found
    an update still left running on the helper thread."""
    from numkeras import _compiled
    from numkeras.optimizers import kernels

    if _compiled.extension() is None:
        pytest.fail("numkeras/_fused.c was not built")
    _compiled.extension().use_helper_thread(True)
    waits = []
    real_finish = kernels.finish_background

    def counting_finish():
        found = real_finish()
        waits.append(found)
        return found

    monkeypatch.setattr(kernels, "finish_background", counting_finish)
    set_random_seed(3)
    rng = np.random.default_rng(5)
    x = rng.random((512, BIG_IN), dtype=np.float32)
    y = to_categorical(rng.integers(0, CLASSES, 512), CLASSES)
    model = model_class([layers.Input((BIG_IN,)), layers.Dense(BIG_UNITS, activation="relu"),
                         layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer or optimizers.RMSprop(), "categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=list(callbacks_))
    assert real_finish() is False  # nothing is left running once fit returns
    return [w.numpy() for w in model.weights], sum(waits)


def test_fit_leaves_long_updates_to_the_helper_with_the_same_weights(monkeypatch, until_shared):
    weights, left_running = background_run(monkeypatch)
    hook = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)
    reference, none_left = background_run(monkeypatch, callbacks_=[hook])
    assert left_running > 0
    assert none_left == 0  # a per-batch callback might read the weights: no background then
    for got, want in zip(weights, reference, strict=True):
        np.testing.assert_array_equal(got, want)


class CustomStep(models.Sequential):
    def train_step(self, x, y, sample_weight=None):
        super().train_step(x, y, sample_weight)
        self.kernel_norms = float(np.linalg.norm(self.layers[0].kernel.numpy()))


class ClippedRMSprop(optimizers.RMSprop):
    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        variable.assign(np.clip(variable.numpy(), -0.05, 0.05))


@pytest.mark.parametrize("case", ["train_step", "optimizer", "batch_callback"])
def test_no_update_is_left_running_where_user_code_may_read_the_weights(monkeypatch, case,
                                                                         until_shared):
    class Reader(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            self.seen = self.model.layers[0].kernel.numpy()

    kwargs = {"train_step": {"model_class": CustomStep},
              "optimizer": {"optimizer": ClippedRMSprop()},
              "batch_callback": {"callbacks_": [Reader()]}}[case]
    _, left_running = background_run(monkeypatch, epochs=1, **kwargs)
    assert left_running == 0


def test_an_error_in_fit_leaves_no_update_running(monkeypatch, until_shared):
    from numkeras.optimizers import kernels

    calls = []
    real_update = models.Sequential._update_metrics

    def failing_update(self, *args):  # runs after the optimizer's update in train_step
        calls.append(1)
        if len(calls) == 3:
            assert kernels._thread.background  # an update may be running right now
            raise RuntimeError("stop here")
        return real_update(self, *args)

    monkeypatch.setattr(models.Sequential, "_update_metrics", failing_update)
    with pytest.raises(RuntimeError, match="stop here"):
        background_run(monkeypatch, epochs=1)
    assert kernels.finish_background() is False
    assert not getattr(kernels._thread, "background", False)


def test_lambda_callback_batch_hooks_get_the_running_logs():
    seen = []
    model = small_model()
    hook = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))
    model.fit(X, Y, batch_size=20, epochs=1, verbose=0, callbacks=[hook])
    assert len(seen) == 2 and all(set(logs) == {"loss", "accuracy"} for logs in seen)
