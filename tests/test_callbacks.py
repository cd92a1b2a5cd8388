"""Callbacks, driven by a hand-written training loop over a fake model."""

from __future__ import annotations

import csv
import math
import re
import sys

import numpy as np
import pytest

from numkeras import callbacks as cb


class FakeOptimizer:
    def __init__(self, learning_rate: float = 0.1) -> None:
        self.learning_rate = learning_rate


class FakeMetric:
    def __init__(self, name: str, direction: str) -> None:
        self.name = name
        self._direction = direction


class FakeModel:
    """What callbacks may use of a model; saves are recorded rather than written."""

    def __init__(self) -> None:
        self.stop_training = False
        self.weights = [np.zeros(3), np.zeros(2)]
        self.optimizer = FakeOptimizer()
        self.saved: list[str] = []
        self.saved_weights: list[str] = []
        self.history = None

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath: str) -> None:
        self.saved.append(filepath)

    def save_weights(self, filepath: str) -> None:
        self.saved_weights.append(filepath)


def fit(callbacks, model, epoch_logs, steps=2, batch_logs=None, verbose=0):
    """A tiny ``fit``: epoch ``e`` sets every weight to ``e`` and ends with ``epoch_logs[e]``.

    Returns the number of epochs run (training stops when ``model.stop_training`` is set).
    """
    callback_list = cb.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=len(epoch_logs),
        steps=steps,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    logs = None
    epochs_run = 0
    for epoch, logs in enumerate(epoch_logs):
        callback_list.on_epoch_begin(epoch)
        for step in range(steps):
            callback_list.on_train_batch_begin(step)
            model.weights = [np.full_like(w, epoch) for w in model.weights]
            step_logs = batch_logs(epoch, step) if batch_logs else {"loss": 1.0}
            callback_list.on_train_batch_end(step, step_logs)
            if model.stop_training:
                break
        callback_list.on_epoch_end(epoch, dict(logs))
        epochs_run += 1
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return epochs_run


def loss_logs(*values, key="loss"):
    return [{key: v} for v in values]


class Recorder(cb.Callback):
    """Records every hook call as ``(hook, *arguments, logs)``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def _record(self, hook, *args, logs):
        self.calls.append((hook, *args, None if logs is None else dict(logs)))

    def on_train_begin(self, logs=None):
        self._record("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._record("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._record("on_train_batch_end", batch, logs=logs)

    def on_test_begin(self, logs=None):
        self._record("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._record("on_test_end", logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._record("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._record("on_test_batch_end", batch, logs=logs)

    def on_predict_begin(self, logs=None):
        self._record("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._record("on_predict_end", logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._record("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._record("on_predict_batch_end", batch, logs=logs)


# --- Callback and CallbackList ---------------------------------------------------------


def test_hooks_are_called_in_order_with_their_arguments():
    rec = Recorder()
    model = FakeModel()
    callbacks = cb.CallbackList([rec], model=model, verbose=0, epochs=2, steps=2)
    assert rec.model is model and rec.params == {"verbose": 0, "epochs": 2, "steps": 2}

    callbacks.on_train_begin()
    for epoch in range(2):
        callbacks.on_epoch_begin(epoch)
        for step in range(2):
            callbacks.on_train_batch_begin(step)
            callbacks.on_train_batch_end(step, {"loss": 1.0 + step})
        callbacks.on_test_begin()
        callbacks.on_test_batch_begin(0)
        callbacks.on_test_batch_end(0, {"loss": 5.0})
        callbacks.on_test_end({"loss": 5.0})
        callbacks.on_epoch_end(epoch, {"loss": 1.5, "val_loss": 5.0})
    callbacks.on_train_end({"loss": 1.5, "val_loss": 5.0})
    callbacks.on_predict_begin()
    callbacks.on_predict_batch_begin(0)
    callbacks.on_predict_batch_end(0, {"outputs": 1})
    callbacks.on_predict_end()

    epoch_calls = []
    for epoch in range(2):
        epoch_calls += [
            ("on_epoch_begin", epoch, {}),
            ("on_train_batch_begin", 0, {}),
            ("on_train_batch_end", 0, {"loss": 1.0}),
            ("on_train_batch_begin", 1, {}),
            ("on_train_batch_end", 1, {"loss": 2.0}),
            ("on_test_begin", {}),
            ("on_test_batch_begin", 0, {}),
            ("on_test_batch_end", 0, {"loss": 5.0}),
            ("on_test_end", {"loss": 5.0}),
            ("on_epoch_end", epoch, {"loss": 1.5, "val_loss": 5.0}),
        ]
    assert rec.calls == [
        ("on_train_begin", {}),
        *epoch_calls,
        ("on_train_end", {"loss": 1.5, "val_loss": 5.0}),
        ("on_predict_begin", {}),
        ("on_predict_batch_begin", 0, {}),
        ("on_predict_batch_end", 0, {"outputs": 1}),
        ("on_predict_end", {}),
    ]


def test_batch_logs_are_sorted_and_made_python_floats():
    seen = []
    lam = cb.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))
    callbacks = cb.CallbackList([lam])
    callbacks.on_train_batch_end(0, {"loss": np.float32(0.5), "accuracy": np.array(0.25)})
    assert list(seen[0]) == ["accuracy", "loss"]
    assert all(type(v) is float for v in seen[0].values())
    assert seen[0] == {"accuracy": 0.25, "loss": 0.5}


def test_batch_aliases_are_called_by_default():
    class Old(cb.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_batch_begin(self, batch, logs=None):
            self.calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.calls.append(("end", batch, logs))

    old = Old()
    callbacks = cb.CallbackList([old])
    callbacks.on_train_batch_begin(3)
    callbacks.on_train_batch_end(3, {"loss": 2})
    assert old.calls == [("begin", 3), ("end", 3, {"loss": 2.0})]


def test_default_callbacks_are_appended_history_then_progbar():
    user = cb.Callback()
    model = FakeModel()
    callbacks = cb.CallbackList([user], add_history=True, add_progbar=True, model=model)
    kinds = [type(c) for c in callbacks.callbacks]
    assert kinds == [cb.Callback, cb.History, cb.ProgbarLogger]
    assert model.history is callbacks.callbacks[1]


def test_existing_history_and_progbar_are_not_duplicated():
    history, progbar = cb.History(), cb.ProgbarLogger()
    model = FakeModel()
    callbacks = cb.CallbackList(
        [[progbar], history], add_history=True, add_progbar=True, model=model
    )
    assert callbacks.callbacks == [progbar, history]
    assert model.history is history


def test_single_callback_and_append():
    first, second = cb.Callback(), cb.Callback()
    model = FakeModel()
    callbacks = cb.CallbackList(first, model=model, epochs=3)
    callbacks.append(second)
    assert list(callbacks) == [first, second]
    assert second.model is model and second.params == {"epochs": 3}


# --- History ---------------------------------------------------------------------------


def test_history_records_every_epoch():
    model = FakeModel()
    logs = [{"loss": 0.5, "val_loss": 0.7}, {"loss": 0.4, "val_loss": 0.6}]
    fit([], model, logs)
    assert model.history.history == {"loss": [0.5, 0.4], "val_loss": [0.7, 0.6]}
    assert model.history.epoch == [0, 1]


# --- EarlyStopping ---------------------------------------------------------------------


def test_early_stopping_patience():
    stopper = cb.EarlyStopping(monitor="loss", patience=2)
    runs = fit([stopper], FakeModel(), loss_logs(1.0, 0.9, 0.95, 0.96, 0.97, 0.5))
    # Best at epoch 1; epochs 2 and 3 do not improve; patience 2 is exhausted at epoch 3.
    assert runs == 4 and stopper.stopped_epoch == 3


def test_early_stopping_patience_zero_stops_at_the_first_non_improvement():
    stopper = cb.EarlyStopping(monitor="loss")
    assert fit([stopper], FakeModel(), loss_logs(1.0, 0.8, 0.9, 0.1)) == 3
    assert stopper.stopped_epoch == 2


def test_early_stopping_min_delta():
    logs = loss_logs(1.0, 0.95, 0.92, 0.91)
    assert fit([cb.EarlyStopping(monitor="loss", patience=1)], FakeModel(), logs) == 4
    strict = cb.EarlyStopping(monitor="loss", patience=1, min_delta=0.1)
    assert fit([strict], FakeModel(), logs) == 2  # 0.95 is not 0.1 better than 1.0.


def test_early_stopping_min_delta_sign_is_ignored():
    strict = cb.EarlyStopping(monitor="loss", patience=1, min_delta=-0.1)
    assert fit([strict], FakeModel(), loss_logs(1.0, 0.95, 0.92, 0.91)) == 2


def test_early_stopping_modes():
    accuracies = loss_logs(0.5, 0.6, 0.55, 0.9, key="val_accuracy")
    # "auto" knows accuracy goes up: stops when it drops at epoch 2.
    assert fit([cb.EarlyStopping(monitor="val_accuracy")], FakeModel(), accuracies) == 3
    assert fit([cb.EarlyStopping("val_accuracy", mode="max")], FakeModel(), accuracies) == 3
    # Minimizing accuracy, the rise at epoch 1 is already no improvement.
    assert fit([cb.EarlyStopping("val_accuracy", mode="min")], FakeModel(), accuracies) == 2
    losses = loss_logs(1.0, 0.9, 1.2, key="val_loss")
    assert fit([cb.EarlyStopping()], FakeModel(), losses) == 3


def test_early_stopping_auto_mode_reads_the_models_metric_direction():
    model = FakeModel()
    model.metrics = [FakeMetric("score", "up")]
    logs = loss_logs(0.1, 0.2, 0.15, key="val_score")
    assert fit([cb.EarlyStopping(monitor="val_score")], model, logs) == 3
    model.metrics = [FakeMetric("score", "down")]
    assert fit([cb.EarlyStopping(monitor="val_score")], model, logs) == 2


def test_early_stopping_auto_mode_unknown_metric_raises():
    with pytest.raises(ValueError, match="mode='max'"):
        fit([cb.EarlyStopping(monitor="val_mystery")], FakeModel(), loss_logs(1, key="val_mystery"))


def test_early_stopping_unknown_mode_warns_and_uses_auto():
    with pytest.warns(UserWarning, match="unknown"):
        stopper = cb.EarlyStopping(monitor="loss", mode="sideways")
    assert stopper.mode == "auto"


def test_early_stopping_baseline_not_beaten_keeps_counting():
    logs = loss_logs(0.9, 0.8, 0.85, 0.84, 0.83)
    # Without a baseline: best at epoch 1, then two epochs of patience.
    assert fit([cb.EarlyStopping(monitor="loss", patience=2)], FakeModel(), logs) == 4
    # Baseline 0.5 is never beaten: the counter never resets, stop at the first non-improvement.
    below = cb.EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    assert fit([below], FakeModel(), logs) == 3


def test_early_stopping_baseline_beaten_resets_the_counter():
    logs = loss_logs(0.9, 0.8, 0.85, 0.84, 0.83)
    stopper = cb.EarlyStopping(monitor="loss", patience=2, baseline=0.85)
    assert fit([stopper], FakeModel(), logs) == 4


def test_early_stopping_start_from_epoch():
    logs = loss_logs(1.0, 2.0, 3.0, 4.0, 5.0)
    assert fit([cb.EarlyStopping(monitor="loss")], FakeModel(), logs) == 2
    warm = cb.EarlyStopping(monitor="loss", start_from_epoch=2)
    assert fit([warm], FakeModel(), logs) == 4
    assert warm.stopped_epoch == 3


def test_early_stopping_restores_the_best_weights_when_stopped():
    model = FakeModel()
    stopper = cb.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    assert fit([stopper], model, loss_logs(1.0, 0.5, 0.7, 0.8, 0.1)) == 4
    assert stopper.best_epoch == 1
    assert all(np.array_equal(w, np.full_like(w, 1)) for w in model.weights)
    assert [w.shape for w in model.weights] == [(3,), (2,)]


def test_early_stopping_restores_the_best_weights_even_when_not_stopped():
    model = FakeModel()
    stopper = cb.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)
    assert fit([stopper], model, loss_logs(1.0, 0.5, 0.7)) == 3
    assert stopper.stopped_epoch == 0
    assert all(np.array_equal(w, np.full_like(w, 1)) for w in model.weights)


def test_early_stopping_keeps_the_last_weights_by_default():
    model = FakeModel()
    fit([cb.EarlyStopping(monitor="loss", patience=2)], model, loss_logs(1.0, 0.5, 0.7, 0.8))
    assert all(np.array_equal(w, np.full_like(w, 3)) for w in model.weights)


def test_early_stopping_messages(capsys):
    model = FakeModel()
    stopper = cb.EarlyStopping(monitor="loss", verbose=1, restore_best_weights=True)
    fit([stopper], model, loss_logs(1.0, 0.5, 0.7))
    out = capsys.readouterr().out
    assert out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )


def test_early_stopping_warns_when_the_monitor_is_missing():
    stopper = cb.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match=r"`val_loss` .*Available metrics are: loss,accuracy"):
        fit([stopper], FakeModel(), [{"loss": 1.0, "accuracy": 0.5}])


def test_early_stopping_can_be_reused():
    model = FakeModel()
    stopper = cb.EarlyStopping(monitor="loss", patience=1)
    assert fit([stopper], model, loss_logs(0.1, 0.2, 0.3)) == 2
    # A new run starts afresh: 0.5 would not beat the old best 0.1.
    assert fit([stopper], model, loss_logs(0.5, 0.4, 0.3)) == 3
    assert stopper.stopped_epoch == 0


# --- ModelCheckpoint -------------------------------------------------------------------


def test_checkpoint_every_epoch_formats_the_path(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    logs = [{"loss": 1.0, "val_loss": 0.5}, {"loss": 0.9, "val_loss": 0.625}]
    fit([cb.ModelCheckpoint(pattern)], model, logs)
    assert model.saved == [
        str(tmp_path / "ckpt-01-0.50.keras"),
        str(tmp_path / "ckpt-02-0.62.keras"),
    ]
    assert model.saved_weights == []


def test_checkpoint_save_best_only(tmp_path):
    model = FakeModel()
    checkpoint = cb.ModelCheckpoint(str(tmp_path / "m{epoch}.keras"), save_best_only=True)
    fit([checkpoint], model, loss_logs(0.5, 0.6, 0.4, 0.4, key="val_loss"))
    assert [p.rsplit("/", 1)[-1] for p in model.saved] == ["m1.keras", "m3.keras"]
    assert checkpoint.best == 0.4


def test_checkpoint_save_best_only_max_mode(tmp_path):
    model = FakeModel()
    checkpoint = cb.ModelCheckpoint(
        str(tmp_path / "m{epoch}.keras"), monitor="val_accuracy", save_best_only=True
    )
    fit([checkpoint], model, loss_logs(0.5, 0.4, 0.7, key="val_accuracy"))
    assert [p.rsplit("/", 1)[-1] for p in model.saved] == ["m1.keras", "m3.keras"]


def test_checkpoint_initial_value_threshold(tmp_path):
    model = FakeModel()
    checkpoint = cb.ModelCheckpoint(
        str(tmp_path / "m{epoch}.keras"), save_best_only=True, initial_value_threshold=0.45
    )
    fit([checkpoint], model, loss_logs(0.5, 0.6, 0.4, key="val_loss"))
    assert [p.rsplit("/", 1)[-1] for p in model.saved] == ["m3.keras"]


@pytest.mark.parametrize("name", ["w.weights.h5", "w.weights.npz"])
def test_checkpoint_weights_only(tmp_path, name):
    model = FakeModel()
    fit([cb.ModelCheckpoint(str(tmp_path / name), save_weights_only=True)], model, loss_logs(1, 2))
    assert model.saved_weights == [str(tmp_path / name)] * 2
    assert model.saved == []


@pytest.mark.parametrize(
    ("name", "weights_only"),
    [
        ("model.h5", False),
        ("model.npz", False),
        ("model", False),
        ("model.keras", True),
        ("w.h5", True),
        ("w.npz", True),
    ],
)
def test_checkpoint_rejects_other_suffixes(name, weights_only):
    with pytest.raises(ValueError, match=re.escape(name)):
        cb.ModelCheckpoint(name, save_weights_only=weights_only)


@pytest.mark.parametrize("freq", ["batch", 0, -2, 1.5, True])
def test_checkpoint_rejects_a_bad_save_freq(freq):
    with pytest.raises(ValueError, match="save_freq"):
        cb.ModelCheckpoint("m.keras", save_freq=freq)


def test_checkpoint_every_n_batches(tmp_path):
    model = FakeModel()
    checkpoint = cb.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.keras"), save_freq=2)
    fit([checkpoint], model, loss_logs(1.0, 1.0), steps=3)
    # Six batches in all, a save after every second one, wherever the epoch boundary falls.
    assert [p.rsplit("/", 1)[-1] for p in model.saved] == [
        "e1-b2.keras",
        "e2-b1.keras",
        "e2-b3.keras",
    ]


def test_checkpoint_creates_the_directory(tmp_path):
    model = FakeModel()
    path = tmp_path / "a" / "b" / "model.keras"
    fit([cb.ModelCheckpoint(path)], model, loss_logs(1.0))
    assert (tmp_path / "a" / "b").is_dir()
    assert model.saved == [str(path)]


def test_checkpoint_missing_format_key_raises(tmp_path):
    checkpoint = cb.ModelCheckpoint(str(tmp_path / "{val_auc:.2f}.keras"))
    with pytest.raises(KeyError, match="val_auc"):
        fit([checkpoint], FakeModel(), loss_logs(1.0))


def test_checkpoint_messages(tmp_path, capsys):
    path = str(tmp_path / "best.keras")
    checkpoint = cb.ModelCheckpoint(path, save_best_only=True, verbose=1)
    fit([checkpoint], FakeModel(), loss_logs(0.5, 0.75, key="val_loss"))
    assert capsys.readouterr().out == (
        f"\nEpoch 1: val_loss improved from inf to 0.50000, saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 0.50000\n"
    )


def test_checkpoint_missing_monitor_warns_and_saves(tmp_path):
    model = FakeModel()
    checkpoint = cb.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)
    with pytest.warns(UserWarning, match="val_loss"):
        fit([checkpoint], model, loss_logs(1.0))
    assert len(model.saved) == 1


# --- TerminateOnNaN --------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_terminate_on_nan(capsys, bad):
    model = FakeModel()
    losses = {(0, 0): 1.0, (0, 1): bad}
    runs = fit(
        [cb.TerminateOnNaN()],
        model,
        loss_logs(1.0, 1.0, 1.0),
        steps=3,
        batch_logs=lambda epoch, step: {"loss": losses.get((epoch, step), 1.0)},
    )
    assert runs == 1 and model.stop_training
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"


def test_terminate_on_nan_ignores_finite_losses():
    model = FakeModel()
    assert fit([cb.TerminateOnNaN()], model, loss_logs(1.0, 2.0)) == 2
    assert not model.stop_training


def test_terminate_on_nan_can_raise():
    callbacks = cb.CallbackList([cb.TerminateOnNaN(raise_error=True)], model=FakeModel())
    with pytest.raises(RuntimeError, match="batch 4"):
        callbacks.on_train_batch_end(4, {"loss": float("nan")})


# --- LambdaCallback --------------------------------------------------------------------


def test_lambda_callback():
    calls = []
    lam = cb.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch)),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append("test_end"),
    )
    fit([lam], FakeModel(), loss_logs(0.5), steps=2)
    cb.CallbackList([lam]).on_test_end()
    assert calls == [
        "train_begin",
        ("epoch_begin", 0),
        ("batch_end", 0),
        ("batch_end", 1),
        ("epoch_end", 0, 0.5),
        "train_end",
        "test_end",
    ]


# --- CSVLogger -------------------------------------------------------------------------


def read_rows(path, delimiter=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    logs = [
        {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5},
        {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.625},
    ]
    fit([cb.CSVLogger(path)], FakeModel(), logs)
    assert read_rows(path) == [
        ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"],
        ["0", "0.75", "0.5", "0.5", "0.625"],
        ["1", "0.875", "0.25", "0.625", "0.5"],
    ]


def test_csv_logger_without_validation_adds_empty_val_columns(tmp_path):
    path = tmp_path / "log.csv"
    fit([cb.CSVLogger(path, separator=";")], FakeModel(), loss_logs(0.5))
    assert read_rows(path, ";") == [["epoch", "loss", "val_loss"], ["0", "0.5", "NA"]]


def test_csv_logger_append(tmp_path):
    path = tmp_path / "log.csv"
    fit([cb.CSVLogger(path)], FakeModel(), loss_logs(0.5))
    fit([cb.CSVLogger(path, append=True)], FakeModel(), loss_logs(0.25))
    assert read_rows(path) == [
        ["epoch", "loss", "val_loss"],
        ["0", "0.5", "NA"],
        ["0", "0.25", "NA"],
    ]
    fit([cb.CSVLogger(path)], FakeModel(), loss_logs(0.125))  # Not appending: overwrite.
    assert read_rows(path) == [["epoch", "loss", "val_loss"], ["0", "0.125", "NA"]]


def test_csv_logger_append_to_a_new_file_writes_the_header(tmp_path):
    path = tmp_path / "new.csv"
    fit([cb.CSVLogger(path, append=True)], FakeModel(), loss_logs(0.5))
    assert read_rows(path)[0] == ["epoch", "loss", "val_loss"]


# --- LearningRateScheduler -------------------------------------------------------------


def test_learning_rate_scheduler():
    model = FakeModel()
    seen = []

    def halve_after_first(epoch, lr):
        seen.append((epoch, lr))
        return lr if epoch == 0 else lr / 2

    fit([cb.LearningRateScheduler(halve_after_first)], model, loss_logs(1, 1, 1))
    assert seen == [(0, 0.1), (1, 0.1), (2, 0.05)]
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    assert model.history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])


def test_learning_rate_scheduler_one_argument_schedule():
    model = FakeModel()
    fit([cb.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], model, loss_logs(1, 1))
    assert model.optimizer.learning_rate == pytest.approx(0.02)


def test_learning_rate_scheduler_reads_array_learning_rates():
    model = FakeModel()
    model.optimizer.learning_rate = np.array(0.5, dtype=np.float32)
    fit([cb.LearningRateScheduler(lambda epoch, lr: lr * 2)], model, loss_logs(1))
    assert model.optimizer.learning_rate == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [1, "0.1", None, True])
def test_learning_rate_scheduler_rejects_non_floats(bad):
    with pytest.raises(ValueError, match="should be a float"):
        fit([cb.LearningRateScheduler(lambda epoch, lr: bad)], FakeModel(), loss_logs(1))


def test_learning_rate_scheduler_verbose(capsys):
    fit([cb.LearningRateScheduler(lambda e, lr: 0.5, verbose=1)], FakeModel(), loss_logs(1))
    assert (
        capsys.readouterr().out
        == "\nEpoch 1: LearningRateScheduler setting learning rate to 0.5.\n"
    )


# --- ReduceLROnPlateau -----------------------------------------------------------------


def test_reduce_lr_on_plateau():
    model = FakeModel()
    reduce = cb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2)
    fit([reduce], model, loss_logs(1.0, 1.0, 1.0, 1.0, 1.0))
    # The rate logged is the one the epoch ran with. Epochs 1 and 2 do not improve: halved
    # after epoch 2; epochs 3 and 4 do not either: halved again after epoch 4.
    assert model.history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_reduce_lr_on_plateau_cooldown_and_min_lr():
    model = FakeModel()
    reduce = cb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2, min_lr=0.03)
    fit([reduce], model, loss_logs(1.0, 1.0, 1.0, 1.0, 1.0, 1.0))
    # Logged rates are those the epochs ran with: halved after epoch 1, two epochs of
    # cooldown, then after epoch 3 halving would go below min_lr, so it stops at 0.03.
    assert model.history.history["learning_rate"] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.03, 0.03]
    )
    assert model.optimizer.learning_rate == pytest.approx(0.03)


def test_reduce_lr_on_plateau_rejects_factor_one():
    with pytest.raises(ValueError, match="factor"):
        cb.ReduceLROnPlateau(factor=1.0)


# --- ProgbarLogger ---------------------------------------------------------------------

TIME = r"\d+s \d+(s|ms|us)/step"


@pytest.fixture
def pipe_stdout(monkeypatch):
    """A non-terminal stdout whatever the environment (notebook/IDE detection off)."""
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


def batch_logs_for(epoch, step):
    return {"loss": 1.0 / (step + 1), "accuracy": 0.5}


def test_progbar_logger_one_line_per_epoch(capsys, pipe_stdout):
    logs = [
        {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5},
        {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.625},
    ]
    fit([], FakeModel(), logs, steps=3, batch_logs=batch_logs_for, verbose=1)
    lines = capsys.readouterr().out.split("\n")
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(
        rf"3/3 ━{{20}} {TIME} - accuracy: 0\.7500 - loss: 0\.5000"
        r" - val_accuracy: 0\.5000 - val_loss: 0\.6250",
        lines[1],
    ), lines[1]
    assert lines[2] == "Epoch 2/2"
    assert re.fullmatch(rf"3/3 ━{{20}} {TIME} - accuracy: 0\.8750 - loss: 0\.2500 .*", lines[3])
    assert lines[4:] == [""]


def test_progbar_logger_single_epoch_has_no_epoch_line(capsys, pipe_stdout):
    fit([], FakeModel(), loss_logs(0.5), steps=2, verbose=1)
    out = capsys.readouterr().out
    assert re.fullmatch(rf"2/2 ━{{20}} {TIME} - loss: 0\.5000\n", out), out


def test_progbar_logger_verbose_2(capsys, pipe_stdout):
    fit([], FakeModel(), loss_logs(0.5, 0.25), steps=4, verbose=2)
    out = capsys.readouterr().out
    assert re.fullmatch(
        r"Epoch 1/2\n4/4 - \d+s - \d+(s|ms|us)/step - loss: 0\.5000\n"
        r"Epoch 2/2\n4/4 - \d+s - \d+(s|ms|us)/step - loss: 0\.2500\n",
        out,
    ), out


def test_progbar_logger_silent_during_validation_but_not_in_evaluate(capsys, pipe_stdout):
    model = FakeModel()
    callbacks = cb.CallbackList(add_progbar=True, model=model, verbose=1, epochs=1, steps=2)
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    callbacks.on_train_batch_end(0, {"loss": 1.0})
    callbacks.on_train_batch_end(1, {"loss": 1.0})
    callbacks.on_test_begin()
    callbacks.on_test_batch_end(0, {"loss": 9.0})
    callbacks.on_test_end({"loss": 9.0})
    callbacks.on_epoch_end(0, {"loss": 1.0, "val_loss": 9.0})
    callbacks.on_train_end()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].endswith("- loss: 1.0000 - val_loss: 9.0000")

    evaluate = cb.CallbackList(add_progbar=True, model=model, verbose=1, epochs=1, steps=1)
    evaluate.on_test_begin()
    evaluate.on_test_batch_end(0, {"loss": 9.0})
    evaluate.on_test_end({"loss": 9.0})
    out = capsys.readouterr().out
    assert re.fullmatch(rf"1/1 ━{{20}} {TIME} - loss: 9\.0000\n", out), out


def test_progbar_logger_unknown_steps_uses_the_count_seen(capsys, pipe_stdout):
    callbacks = cb.CallbackList(add_progbar=True, verbose=1, epochs=1, steps=None)
    callbacks.on_predict_begin()
    for step in range(5):
        callbacks.on_predict_batch_end(step, {"outputs": np.zeros(2)})
    callbacks.on_predict_end()
    assert re.fullmatch(rf"5/5 ━{{20}} {TIME}\n", capsys.readouterr().out)
