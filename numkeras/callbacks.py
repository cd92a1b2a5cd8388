"""Keras 3's callbacks: hooks into ``fit``, ``evaluate`` and ``predict``.

The model a callback is given needs only what the callbacks below use: a
``stop_training`` attribute, ``get_weights()`` / ``set_weights()``, ``save(path)``,
``save_weights(path)``, an ``optimizer`` whose ``learning_rate`` can be read as a float
and assigned, and a writable ``history`` attribute.

Differences from Keras 3, all deliberate:

* ``CallbackList`` dispatches every hook synchronously (Keras may run batch-end hooks on a
  thread pool); the order in which callbacks see each hook is the same.
* ``mode="auto"`` also infers the direction from common metric names (``accuracy``,
  ``auc``, ``precision``... are maximized; ``loss``, ``mse``, ``crossentropy``... are
  minimized) when the model's metrics do not say; Keras 3 raises instead.
* ``ModelCheckpoint`` accepts ``.keras`` for whole models and ``.weights.h5`` or
  ``.weights.npz`` for weights, the file names numkeras's own formats use.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from numkeras.utils.progbar import Progbar, _is_interactive

Logs = dict[str, Any]

_MODES = ("auto", "min", "max")
# Name fragments of metrics that improve upwards / downwards, for ``mode="auto"``.
_MAXIMIZED = (
    "acc",
    "auc",
    "precision",
    "recall",
    "f1",
    "fbeta",
    "iou",
    "r2",
    "cosine_similarity",
    "true_positives",
    "true_negatives",
)
_MINIMIZED = (
    "loss",
    "error",
    "mse",
    "mae",
    "mape",
    "msle",
    "crossentropy",
    "hinge",
    "log_cosh",
    "logcosh",
    "kl_divergence",
    "poisson",
    "false_positives",
    "false_negatives",
)


def _print_msg(message: str, line_break: bool = True) -> None:
    """Write ``message`` to the current ``sys.stdout`` and flush it."""
    stream = sys.stdout
    if stream is None:
        return
    stream.write(message + "\n" if line_break else message)
    stream.flush()


def _to_float(value: Any) -> float:
    """A learning rate (float, NumPy scalar, 0-d array or numkeras Variable) as a float."""
    return float(np.asarray(value))


class Callback:
    """Base class of callbacks: override the hooks you need.

    Attributes:
        model: The model being trained, evaluated or used for prediction.
        params: Dict of run parameters, such as ``verbose``, ``epochs`` and ``steps``.
    """

    model: Any = None
    params: dict[str, Any] | None = None

    def __init__(self) -> None:
        self.model = None
        self.params = None

    def set_params(self, params: dict[str, Any]) -> None:
        """Store the run's parameters (``verbose``, ``epochs``, ``steps``...)."""
        self.params = params

    def set_model(self, model: Any) -> None:
        """Store the model the callback is attached to."""
        self.model = model

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Alias of ``on_train_batch_begin`` kept for backward compatibility."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Alias of ``on_train_batch_end`` kept for backward compatibility."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of each training epoch (``epoch`` counts from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the end of each training epoch with its metrics (and ``val_`` ones)."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each training batch; calls ``on_batch_begin`` by default."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each training batch with the epoch's running metrics so far."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each ``evaluate`` (or validation) batch."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each ``evaluate`` (or validation) batch with running metrics."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each ``predict`` batch."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each ``predict`` batch."""

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once when training starts."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once when training ends, with the last epoch's logs."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called when evaluation (or validation) starts."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called when evaluation (or validation) ends, with its metrics."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called when prediction starts."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called when prediction ends."""


def _flatten(callbacks: Any) -> list[Callback]:
    """A callback, or nested lists/tuples of them, as a flat list."""
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return [cb for item in callbacks for cb in _flatten(item)]
    return [callbacks]


def _pythonify_logs(logs: Logs) -> Logs:
    """Logs sorted by key, nested dicts flattened, scalars converted to ``float``."""
    result: Logs = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            result.update(_pythonify_logs(value))
            continue
        if not isinstance(value, (str, bytes)) and np.ndim(value) == 0:
            try:
                value = float(value)
            except (TypeError, ValueError):
                pass
        result[key] = value
    return result


class CallbackList(Callback):
    """Calls every hook on each of its callbacks, in order.

    Args:
        callbacks: Callbacks (a list, possibly nested, or a single one).
        add_history: Append a ``History`` unless the list already has one.
        add_progbar: Append a ``ProgbarLogger`` unless the list already has one.
        model: Model given to every callback; the ``History`` becomes ``model.history``.
        **params: Run parameters given to every callback (``verbose``, ``epochs``,
            ``steps``).
    """

    def __init__(
        self,
        callbacks: Any = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        self.callbacks = _flatten(callbacks)
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def append(self, callback: Callback) -> None:
        """Add ``callback`` at the end, giving it the list's model and parameters."""
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)

    def set_params(self, params: dict[str, Any]) -> None:
        """Give ``params`` to every callback (when there are any)."""
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model: Any) -> None:
        """Give ``model`` to every callback and set ``model.history``."""
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs=logs or {})

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = _pythonify_logs(logs) if logs else {}
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs=logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = _pythonify_logs(logs) if logs else {}
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = _pythonify_logs(logs) if logs else {}
        for callback in self.callbacks:
            callback.on_test_batch_end(batch, logs=logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_predict_batch_end(batch, logs=logs)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_test_end(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        logs = logs or {}
        for callback in self.callbacks:
            callback.on_predict_end(logs)


class History(Callback):
    """Records each epoch's logs; ``fit`` adds one and returns it.

    Attributes:
        history: Dict mapping each log key to its list of per-epoch values.
        epoch: The indices of the epochs recorded.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a ``Progbar`` per epoch (and for ``evaluate``/``predict``).

    Its settings come from the run's params: ``verbose``, ``epochs`` and ``steps``.
    Validation inside ``fit`` is silent.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    @property
    def _reads_batch_logs(self) -> bool:
        """Whether the per-batch logs are shown: only by a live bar on a terminal. Elsewhere
        the bar is written once per epoch, so the model need not compute running metrics for
        every batch (``Model.fit`` asks this before overriding-based detection)."""
        return self.verbose == 1 and _is_interactive(sys.stdout)

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._called_in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._called_in_fit = False

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            _print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._finalize_progbar(logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._finalize_progbar(logs)

    def _reset_progbar(self) -> None:
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> Progbar:
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")
        return self.progbar

    def _update_progbar(self, batch: int, logs: Logs | None) -> None:
        progbar = self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs: Logs | None) -> None:
        progbar = self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            progbar.target = self.target
        # Sorted, as the batch logs are: keys first seen here (``val_*``) then show in
        # the order Keras 3 prints them, ``val_accuracy`` before ``val_loss``.
        progbar.update(self.target, sorted((logs or {}).items()), finalize=True)


class LambdaCallback(Callback):
    """A callback built from plain functions, as ``keras.callbacks.LambdaCallback``.

    ``on_epoch_begin``/``on_epoch_end`` get ``(epoch, logs)``, ``on_train_begin``/
    ``on_train_end`` get ``(logs)``, and the batch hooks get ``(batch, logs)``. Any other
    hook can be given by name as a keyword argument, e.g. ``on_test_end=fn``.
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any],
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)


def _check_mode(mode: str, owner: str) -> str:
    """``mode`` if valid, else a warning and ``"auto"`` (as Keras)."""
    if mode not in _MODES:
        warnings.warn(f"{owner} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def _metric_direction(model: Any, name: str) -> str | None:
    """``"up"`` or ``"down"`` from a model metric's ``_direction``, when it has one."""
    for metric in _iter_metrics(getattr(model, "metrics", None) or ()):
        if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
            return "up" if metric._direction == "up" else "down"
    return None


def _iter_metrics(metrics: Iterable[Any]) -> Iterator[Any]:
    """The metrics, with containers (objects holding ``.metrics``) opened up."""
    for metric in metrics:
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, (list, tuple)):
            yield from _iter_metrics(inner)
        else:
            yield metric


def _infer_maximize(monitor: str, model: Any, owner: str) -> bool:
    """Whether ``monitor`` improves upwards, for ``mode="auto"``."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return False
    direction = _metric_direction(model, name)
    if direction is not None:
        return direction == "up"
    if any(part in name for part in _MAXIMIZED):
        return True
    if any(part in name for part in _MINIMIZED):
        return False
    raise ValueError(
        f"{owner} callback received monitor={monitor}, but numkeras isn't able to "
        "automatically determine whether that metric should be maximized or minimized. "
        "Pass `mode='max'` in order to monitor based on the highest metric value, or "
        "pass `mode='min'` in order to use the lowest value."
    )


class MonitorCallback(Callback):
    """Base of callbacks that watch one logged quantity for improvement.

    Args:
        monitor: The log key to watch, e.g. ``"val_loss"``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (inferred from the name on first use).
        baseline: Initial best value; ``None`` means the first value seen is the best.
        min_delta: Smallest change that counts as an improvement.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.mode = _check_mode(mode, type(self).__name__)
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op: Callable[[Any, Any], Any] | None = None

    def _set_monitor_op(self) -> None:
        """Choose the comparison once: the mode, or the direction inferred for ``auto``."""
        if self.mode == "auto":
            maximize = _infer_maximize(self.monitor, self.model, type(self).__name__)
        else:
            maximize = self.mode == "max"
        self.monitor_op = np.greater if maximize else np.less
        if not maximize:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value: Any, reference_value: Any) -> bool:
        """Whether ``monitor_value`` beats ``reference_value`` by more than ``min_delta``."""
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored quantity has stopped improving.

    Args:
        monitor: Quantity to watch. Defaults to ``"val_loss"``.
        min_delta: Minimum change that counts as an improvement.
        patience: Number of epochs without improvement after which training stops.
        verbose: 1 prints a message when the callback acts.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (inferred from the monitor's name).
        baseline: Value to beat: until an epoch beats it, the patience counter keeps
            running even when the monitored value improves.
        restore_best_weights: At the end of training, restore the weights of the best
            epoch (whether or not training was stopped early).
        start_from_epoch: Number of warm-up epochs that are not monitored.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, None, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The patience counter restarts only once the baseline is beaten too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print_msg(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: Logs | None) -> Any:
        """The monitored value from ``logs``; warns (listing the keys) when it is missing."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs)}",
                stacklevel=2,
            )
        return value


_MODEL_SUFFIXES = (".keras",)
_WEIGHTS_SUFFIXES = (".weights.h5", ".weights.npz")


class ModelCheckpoint(MonitorCallback):
    """Save the model, or only its weights, after every epoch or every few batches.

    Args:
        filepath: Where to save. May hold ``str.format`` fields filled with ``epoch``
            (counting from 1), ``batch`` (with an integer ``save_freq``) and the log
            keys, e.g. ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``. Whole models need a
            ``.keras`` name; weights need ``.weights.h5`` or ``.weights.npz``.
        monitor: The log key compared when ``save_best_only``.
        verbose: 1 prints a message at each save decision.
        save_best_only: Save only when the monitored value improves on the best so far.
        save_weights_only: Call ``model.save_weights`` instead of ``model.save``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (inferred from the monitor's name).
        save_freq: ``"epoch"``, or save every this many training batches.
        initial_value_threshold: Initial best value to beat when ``save_best_only``.
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' "
                "or a positive integer (a number of batches)."
            )
        if save_weights_only:
            if not self.filepath.endswith(_WEIGHTS_SUFFIXES):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the "
                    "filepath provided must end in `.weights.h5` or `.weights.npz` "
                    f"(numkeras weights formats). Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith(_MODEL_SUFFIXES):
            raise ValueError(
                "The filepath provided must end in `.keras` (numkeras model format), or "
                "pass `save_weights_only=True` with a `.weights.h5` or `.weights.npz` "
                f"filepath. Received: filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._ensure_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        """Count batches (a batch index not above the last one starts a new epoch)."""
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch: int, logs: Logs, filepath: str) -> bool:
        """Whether to save now: always, unless ``save_best_only`` and no improvement."""
        if not self.save_best_only:
            if self.verbose > 0:
                _print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
            return True
        if np.ndim(current) > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. "
                f"Received: {current}. Falling back to `save_best_only=False`.",
                stacklevel=2,
            )
            return True
        self._ensure_monitor_op()
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                _print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            _print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _ensure_monitor_op(self) -> None:
        """Choose the comparison on first use; with no threshold, the best starts at +/-inf."""
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.best is None:
            self.best = -math.inf if self.monitor_op is np.greater else math.inf

    def _save_model(self, epoch: int, batch: int | None, logs: Logs | None) -> None:
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)

    def _get_file_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        """``filepath`` with ``epoch`` (from 1), ``batch`` (from 1) and log keys filled in."""
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}'
            ) from error


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite.

    Args:
        raise_error: Raise ``RuntimeError`` at once instead of setting
            ``model.stop_training`` (which lets ``on_train_end`` hooks run).
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        _print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file.

    The header is ``epoch`` and the first epoch's keys, sorted; when that epoch has no
    ``val_`` keys, ``val_`` columns are added for each key (``NA`` until filled).

    Args:
        filename: Path of the CSV file.
        separator: Field separator.
        append: Append to an existing file (without repeating its header) instead of
            overwriting it.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer: Any = None  # a csv.DictWriter once the file is open
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        mode = "w"
        if self.append:
            mode = "a"
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not f.readline()
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self.writer is None:
            import csv

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value: Any) -> Any:
    """Strings and scalars as they are; other iterables as ``"[a, b, ...]"``."""
    if isinstance(value, str) or np.ndim(value) == 0:
        return value
    return f'"[{", ".join(map(str, value))}]"'


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of every epoch.

    Args:
        schedule: ``schedule(epoch, lr) -> new_lr`` (``epoch`` counts from 0); a
            one-argument ``schedule(epoch)`` is accepted too. It must return a float.
        verbose: 1 prints the new learning rate each epoch.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        learning_rate = self._call_schedule(epoch, _to_float(optimizer.learning_rate))
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (float, np.floating)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            _print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{learning_rate}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = _to_float(self.model.optimizer.learning_rate)

    def _call_schedule(self, epoch: int, learning_rate: float) -> Any:
        """``schedule(epoch, lr)``, or ``schedule(epoch)`` for a one-argument schedule."""
        try:
            import inspect

            inspect.signature(self.schedule).bind(epoch, learning_rate)
        except TypeError:
            return self.schedule(epoch)
        except ValueError:  # No signature available (some builtins): try both.
            try:
                return self.schedule(epoch, learning_rate)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, learning_rate)


class ReduceLROnPlateau(Callback):
    """Reduce the learning rate when a monitored quantity has stopped improving.

    Args:
        monitor: Quantity to watch.
        factor: ``new_lr = lr * factor``; must be below 1.
        patience: Epochs without improvement after which the rate is reduced.
        verbose: 1 prints a message at each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``max`` when the name holds ``acc``).
        min_delta: Smallest change that counts as an improvement.
        cooldown: Epochs to wait after a reduction before counting again.
        min_lr: Lower bound on the learning rate.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = _check_mode(mode, "Learning rate reduction")
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0.0
        self._reset()

    def _reset(self) -> None:
        """Reset the counters and the best value."""
        self._maximize = self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)
        self.best = -math.inf if self._maximize else math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improves(self, current: float) -> bool:
        if self._maximize:
            return bool(current > self.best + self.min_delta)
        return bool(current < self.best - self.min_delta)

    def in_cooldown(self) -> bool:
        """Whether a reduction happened less than ``cooldown`` epochs ago."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _to_float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        old_lr = _to_float(self.model.optimizer.learning_rate)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            self.model.optimizer.learning_rate = new_lr
            if self.verbose > 0:
                _print_msg(
                    f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}."
                )
            self.cooldown_counter = self.cooldown
            self.wait = 0
