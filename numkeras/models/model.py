"""``Model``: compile / fit / evaluate / predict, the Keras training API.

``fit`` is the seed's training loop, four steps per batch:

1. draw a batch of samples ``x`` and targets ``y`` (the sample axis sliced, after shuffling);
2. run the network on ``x`` -- the forward pass -- to get predictions ``y_pred``;
3. measure the loss between ``y_pred`` and ``y``;
4. compute the gradient of the loss with respect to every weight (backpropagation, by the
   chain rule: ``GradientTape``) and move the weights a little against it (the optimizer).
"""

from __future__ import annotations

import math
import os
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from numkeras import callbacks as callbacks_module
from numkeras import losses as losses_module
from numkeras import metrics as metrics_module
from numkeras import optimizers
from numkeras.autodiff import GradientTape, Tensor, value_of
from numkeras.layers.layer import Layer
from numkeras.optimizers import kernels

Batch = tuple[np.ndarray, Any, Any]


class Model(Layer):
    """A layer that can be trained. ``Sequential`` is the kind the seed uses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optimizer: Any = None
        self.stop_training = False
        self.history: Any = None
        self.compiled = False
        self._compile_config: dict | None = None
        # Metric updates held back while nobody reads the logs (see _update_metrics), and
        # how many samples they cover.
        self._deferred_updates: list[tuple] | None = None
        self._deferred_rows = 0

    # --- compile ---------------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Sequence[Any] | None = None,
        weighted_metrics: Sequence[Any] | None = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Choose how the model learns: the optimizer, the loss to minimise, and the metrics
        to report. Keras's graph-compilation options are accepted and have no effect."""
        self._loss_weight = _single_loss_weight(loss_weights)
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._loss_fn = None if loss is None else _as_loss(loss)
        self._metric_ids = list(metrics or [])
        self._weighted_metric_ids = list(weighted_metrics or [])
        for identifier in self._metric_ids + self._weighted_metric_ids:
            # Metrics resolve on the first batch (they depend on the labels' shape); a
            # misspelled name must fail here, before a training step has changed any weight.
            if isinstance(identifier, str) and identifier.lower() not in ("accuracy", "acc"):
                metrics_module.get(identifier)
        self._metrics: list[Any] | None = None  # resolved on the first batch (shapes known)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._compile_config = {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": _serialize_loss(loss),
            "metrics": [m if isinstance(m, str) else getattr(m, "name", str(m))
                        for m in self._metric_ids],
            "loss_weights": self._loss_weight,
        }
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model ({what}).")
        if self._loss_fn is None and what != "predict":
            raise ValueError(f"{what}: the model was compiled without a `loss`; pass loss=...")

    def _resolve_metrics(self, y_true: Any, y_pred: Any) -> list[Any]:
        if self._metrics is None:
            resolved = []
            for weighted, ids in ((False, self._metric_ids), (True, self._weighted_metric_ids)):
                for identifier in ids:
                    metric = _resolve_metric(identifier, self.loss, y_true, y_pred)
                    metric._numkeras_weighted = weighted
                    if weighted:
                        metric.name = f"weighted_{metric.name}"
                    resolved.append(metric)
            self._metrics = resolved
        return self._metrics

    @property
    def metrics(self) -> list[Any]:
        if not self.compiled:
            return []
        return [self._loss_tracker] + list(self._metrics or [])

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        if self._deferred_updates:
            self._deferred_updates, self._deferred_rows = [], 0
        for metric in self.metrics:
            metric.reset_state()

    def _logs(self) -> dict[str, float]:
        self._apply_deferred_updates()
        return {m.name: float(m.result()) for m in self.metrics}

    # --- one step --------------------------------------------------------------------------
    def compute_loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The compiled loss plus every layer's regularization penalty."""
        loss = self._loss_fn(y, y_pred, sample_weight=sample_weight)
        if self._loss_weight is not None:
            loss = loss * self._loss_weight
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def train_step(self, x: np.ndarray, y: Any, sample_weight: Any = None) -> None:
        """Steps 2-4 of the seed's loop for one batch, then the metrics."""
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        weights = self.trainable_weights
        gradients = tape.gradient(loss, weights)
        self.optimizer.apply(gradients, weights)
        self._update_metrics(loss, y, y_pred, sample_weight, len(x))

    def test_step(self, x: np.ndarray, y: Any, sample_weight: Any = None) -> None:
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        self._update_metrics(loss, y, y_pred, sample_weight, len(x))

    def _update_metrics(self, loss: Any, y: Any, y_pred: Any, sample_weight: Any,
                        batch_size: int) -> None:
        """Add one batch to the loss tracker and the metrics -- now, or, inside a loop where
        no callback reads per-batch logs, at the next read (``_logs``)."""
        loss, y_pred = value_of(loss), value_of(y_pred)
        if self._deferred_updates is None:
            self._loss_tracker.update_state(loss, sample_weight=batch_size)
            self._update_each_metric(y, y_pred, sample_weight)
            return
        self._deferred_updates.append((loss, y, y_pred, sample_weight, batch_size))
        self._deferred_rows += batch_size
        if self._deferred_rows >= _DEFERRED_ROWS:
            self._apply_deferred_updates()

    def _update_each_metric(self, y: Any, y_pred: Any, sample_weight: Any) -> None:
        for metric in self._resolve_metrics(y, y_pred):
            weights = sample_weight if metric._numkeras_weighted else None
            metric.update_state(y, y_pred, sample_weight=weights)

    def _apply_deferred_updates(self) -> None:
        """Apply the held-back batch updates: the metrics see the same values as if each
        batch had been added at once, only in fewer, larger NumPy calls.

        Nobody looks at a running metric between two log reads, so this changes no reported
        number beyond float32 rounding of the running sums. Built-in metrics -- means of
        per-sample values -- take the held-back batches as one concatenated batch; any other
        metric gets them one by one, in order.
        """
        pending = self._deferred_updates
        if not pending:
            return
        self._deferred_updates, self._deferred_rows = [], 0
        if all(getattr(item[0], "ndim", None) == 0 or np.ndim(item[0]) == 0 for item in pending):
            losses = np.array([item[0] for item in pending])
            sizes = np.array([item[4] for item in pending])
            self._loss_tracker.update_state(losses, sample_weight=sizes)
        else:  # unreduced losses (reduction=None): one update per batch, as they came
            for item in pending:
                self._loss_tracker.update_state(item[0], sample_weight=item[4])
        metrics = self._resolve_metrics(pending[0][1], pending[0][2])
        if len(pending) > 1 and all(_adds_up(m) for m in metrics):
            y, y_pred, weights = _joined([item[1:4] for item in pending])
            self._update_each_metric(y, y_pred, weights)
        else:
            for _, y, y_pred, weights, _ in pending:
                self._update_each_metric(y, y_pred, weights)

    # --- fit -------------------------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> Any:
        """Train for ``epochs`` passes over ``(x, y)``; returns a ``History``."""
        self._require_compiled("fit")
        batch_size = _check_batch_size(batch_size)
        x, y, sample_weight = _check_data("fit", x, y, sample_weight, require_y=True)
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is None:
            x, y, sample_weight, validation_data = _split_off_validation(
                x, y, sample_weight, validation_split
            )
        if class_weight is not None:
            sample_weight = _apply_class_weight(y, class_weight, sample_weight)
        if validation_data is not None:
            validation_data = _unpack_validation(validation_data)
        verbose = _resolve_verbose(verbose)
        steps = math.ceil(len(x) / batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        self.stop_training = False
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=steps,
        )
        callback_list.on_train_begin()
        batch_logs = _uses_batch_logs(callback_list, "on_train_batch_end", "on_batch_end")
        # Between two steps fit reads no weight itself, so a long optimizer update may finish
        # on the helper thread while the next batch is gathered -- unless a custom train_step,
        # optimizer or per-batch callback might read one then.
        background = (type(self).train_step is Model.train_step
                      and _from_numkeras(self.optimizer)
                      and not _may_read_weights_between_steps(callback_list))
        epoch_logs: dict[str, float] = {}
        try:
            for epoch in range(initial_epoch, epochs):
                # Without per-batch log readers, metric updates wait for the epoch's end.
                self._deferred_updates, self._deferred_rows = (None if batch_logs else []), 0
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                batches = _batches(x, y, sample_weight, batch_size, shuffle, self.dtype)
                with kernels.background_updates(background):  # all finished on leaving
                    for step, (xb, yb, swb) in zip(range(steps), batches):
                        callback_list.on_train_batch_begin(step)
                        kernels.finish_background()  # the step reads the weights
                        self.train_step(xb, yb, swb)
                        callback_list.on_train_batch_end(step, self._logs() if batch_logs else {})
                        if self.stop_training:
                            break
                epoch_logs = self._logs()
                if validation_data is not None and (epoch + 1) % validation_freq == 0:
                    x_val, y_val, sw_val = validation_data
                    val_logs = self.evaluate(
                        x_val, y_val, sample_weight=sw_val,
                        batch_size=validation_batch_size or batch_size,
                        steps=validation_steps, verbose=0, return_dict=True,
                    )
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                callback_list.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        finally:
            self._deferred_updates = None
        callback_list.on_train_end(epoch_logs)
        return self.history

    # --- evaluate / predict ----------------------------------------------------------------
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss and metrics on ``(x, y)``: a scalar, ``[loss, *metrics]``, or a dict."""
        self._require_compiled("evaluate")
        batch_size = _check_batch_size(batch_size)
        x, y, sample_weight = _check_data("evaluate", x, y, sample_weight, require_y=True)
        n_steps, callback_list = self._inference_loop_setup(x, batch_size, verbose, steps,
                                                            callbacks)
        self.reset_metrics()
        callback_list.on_test_begin()
        batch_logs = _uses_batch_logs(callback_list, "on_test_batch_end")
        outer = self._deferred_updates, self._deferred_rows
        try:
            logs = self._evaluate_batches(x, y, sample_weight, batch_size, n_steps,
                                          callback_list, batch_logs)
        finally:
            self._deferred_updates, self._deferred_rows = outer
        callback_list.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _evaluate_batches(self, x: np.ndarray, y: Any, sample_weight: Any, batch_size: int,
                          n_steps: int, callback_list: Any, batch_logs: bool) -> dict:
        """Run ``evaluate``'s batches; returns the final logs.

        Without per-batch log readers, and with a built-in loss averaged over the batch
        (:meth:`_loss_adds_up`), the forward pass still runs batch by batch, but the loss and
        metrics are computed once for every few thousand rows of predictions: the same
        numbers up to float32 rounding, in far fewer small NumPy calls.
        """
        group = not batch_logs and self._loss_adds_up()
        self._deferred_updates, self._deferred_rows = (None if batch_logs else []), 0
        predictions: list[np.ndarray] = []
        first = done = 0  # the held predictions are of the rows first:done (batches in order)
        batches = _batches(x, y, sample_weight, batch_size, False, self.dtype)
        for step, (xb, yb, swb) in zip(range(n_steps), batches):
            callback_list.on_test_batch_begin(step)
            if group:
                predictions.append(np.asarray(value_of(self(xb, training=False))))
                done += len(xb)
                if done - first >= _DEFERRED_ROWS:
                    self._test_rows(y, sample_weight, first, done, predictions)
                    predictions, first = [], done
            else:
                self.test_step(xb, yb, swb)
            callback_list.on_test_batch_end(step, self._logs() if batch_logs else {})
        if predictions:
            self._test_rows(y, sample_weight, first, done, predictions)
        return self._logs()

    def _test_rows(self, y: Any, sample_weight: Any, first: int, stop: int,
                   predictions: list[np.ndarray]) -> None:
        """``test_step``'s loss and metrics for rows ``first:stop``, given their predictions."""
        y_pred = np.concatenate(predictions)
        y, weights = y[first:stop], None if sample_weight is None else sample_weight[first:stop]
        loss = self.compute_loss(None, y, y_pred, weights)
        self._update_metrics(loss, y, y_pred, weights, len(y_pred))

    def _loss_adds_up(self) -> bool:
        """Whether the compiled loss of several batches at once, weighted by their number of
        samples, equals the per-batch losses weighted by theirs (Keras's loss tracker): true
        for numkeras's own losses averaged over the batch -- not ``reduction="sum"``, not
        with ``ignore_class`` -- as long as ``test_step`` and ``compute_loss`` are not
        overridden."""
        loss = self._loss_fn
        cls = type(self)
        return (
            cls.test_step is Model.test_step
            and cls.compute_loss is Model.compute_loss
            and _from_numkeras(loss)
            and loss.reduction in ("sum_over_batch_size", "mean")
            and getattr(loss, "ignore_class", None) is None
            and (not isinstance(loss, losses_module.LossFunctionWrapper)
                 or _from_numkeras(loss.fn))
        )

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
    ) -> np.ndarray:
        """The model's outputs for ``x``, computed batch by batch, as one NumPy array."""
        batch_size = _check_batch_size(batch_size)
        x, _, _ = _check_data("predict", x, None, None, require_y=False)
        n_steps, callback_list = self._inference_loop_setup(x, batch_size, verbose, steps,
                                                            callbacks)
        callback_list.on_predict_begin()
        outputs = []
        batches = _batches(x, None, None, batch_size, False, self.dtype)
        for step, (xb, _, _) in zip(range(n_steps), batches):
            callback_list.on_predict_batch_begin(step)
            out = np.asarray(value_of(self(xb, training=False)))
            outputs.append(out)
            callback_list.on_predict_batch_end(step, {"outputs": out})
        callback_list.on_predict_end()
        return np.concatenate(outputs, axis=0)

    def _inference_loop_setup(self, x: np.ndarray, batch_size: int, verbose: Any,
                              steps: int | None, callbacks: Any) -> tuple[int, Any]:
        """The number of batches, and the callbacks (with a progress bar unless verbose=0)."""
        verbose = _resolve_verbose(verbose)
        n_steps = math.ceil(len(x) / batch_size)
        if steps is not None:
            n_steps = min(n_steps, int(steps))
        callback_list = callbacks_module.CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=n_steps,
        )
        return n_steps, callback_list

    def predict_on_batch(self, x: Any) -> np.ndarray:
        return self.predict(x, batch_size=len(x), verbose=0)

    def train_on_batch(self, x: Any, y: Any, sample_weight: Any = None,
                       return_dict: bool = False) -> Any:
        """One training step on exactly this batch; returns the loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x, y, sample_weight = _check_data("train_on_batch", x, y, sample_weight, True)
        self.reset_metrics()
        self.train_step(_as_batch(x, self.dtype), y, sample_weight)
        logs = self._logs()
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        return self.evaluate(x, y, batch_size=len(x), sample_weight=sample_weight, verbose=0,
                             return_dict=return_dict)

    # --- saving ----------------------------------------------------------------------------
    def save(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Architecture, weights and optimizer state in one ``.keras`` file (atomic write)."""
        from numkeras.models import saving

        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Only the weights, in a ``.weights.npz`` file (atomic write)."""
        from numkeras.models import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        from numkeras.models import saving

        saving.load_weights(self, filepath)

    def get_compile_config(self) -> dict | None:
        return self._compile_config


# --- helpers: data -----------------------------------------------------------------------------
def _single_loss_weight(loss_weights: Any) -> float | None:
    """A one-output model's ``loss_weights``: a number, or a list/dict holding one number."""
    if loss_weights is None:
        return None
    value = loss_weights
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    elif isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(
            f"compile: loss_weights must be a number (or a list or dict with one number) for "
            f"a model with one output, got {loss_weights!r}; note that compile's third "
            f"positional argument is loss_weights, so pass metrics=... by name"
        )
    return float(value)


def _check_batch_size(batch_size: Any) -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    return int(batch_size)


def _to_array(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value_of(value))
    if array.dtype == object:
        raise TypeError(f"{name}: expected a numeric array, got an array of Python objects")
    return array


def _check_data(
    where: str, x: Any, y: Any, sample_weight: Any, require_y: bool
) -> tuple[np.ndarray, Any, Any]:
    """Convert to arrays and check what can be checked before training touches a weight."""
    if x is None:
        raise ValueError(f"{where}: `x` is required")
    x = _to_array("x", x)
    if x.ndim == 0 or len(x) == 0:
        verb = {"fit": "train on", "train_on_batch": "train on"}.get(where, where.split("_")[0])
        raise ValueError(f"{where}: `x` is empty (shape {x.shape}); there is nothing to {verb}")
    _check_finite(where, x)
    if y is None:
        if require_y:
            raise ValueError(f"{where}: `y` (the targets) is required")
    else:
        y = _to_array("y", y)
        if len(y) != len(x):
            raise ValueError(
                f"{where}: data cardinality is ambiguous: x has {len(x)} samples (shape "
                f"{x.shape}) but y has {len(y)} (shape {y.shape}); make sure all arrays contain "
                f"the same number of samples"
            )
    if sample_weight is not None:
        sample_weight = _to_array("sample_weight", sample_weight)
        if len(sample_weight) != len(x):
            raise ValueError(
                f"{where}: sample_weight has {len(sample_weight)} entries (shape "
                f"{sample_weight.shape}) but x has {len(x)} samples"
            )
    return x, y, sample_weight


def _check_finite(where: str, x: np.ndarray, rows_per_chunk: int = 4096) -> None:
    """Raise on NaN or infinity in ``x``, checked in chunks (no temporary the size of x).

    A chunk's sum is finite when all its values are (NaN and infinities propagate); summing is
    several times faster than ``isfinite``, which only runs to find the culprit. For float32 and
    float64 each chunk is summed as ``chunk @ ones`` (a BLAS matrix-vector product on every core,
    2-3x faster than ``np.sum`` here), then the row sums are added.
    """
    if not np.issubdtype(x.dtype, np.floating) or x.size == 0:
        return
    features = x.size // len(x)
    ones = np.ones(features, dtype=x.dtype) if x.dtype in (np.float32, np.float64) else None
    for start in range(0, len(x), rows_per_chunk):
        chunk = x[start:start + rows_per_chunk].reshape(-1, features)
        with np.errstate(over="ignore", invalid="ignore"):  # a sum may overflow: recheck
            total = np.add.reduce(chunk @ ones if ones is not None else chunk, axis=None)
        if not np.isfinite(total) and not np.isfinite(chunk).all():
            bad = np.argwhere(~np.isfinite(x))
            raise ValueError(
                f"{where}: `x` contains {len(bad)} NaN or infinite values (first at index "
                f"{tuple(int(i) for i in bad[0])}); clean the data before training"
            )


def _as_batch(x: np.ndarray, dtype: str) -> np.ndarray:
    """Inputs in the model's float type (images arrive as uint8, NumPy defaults to float64)."""
    return x if x.dtype == dtype else x.astype(dtype)


def _batches(
    x: np.ndarray, y: Any, sample_weight: Any, batch_size: int, shuffle: bool, dtype: str
) -> Iterator[Batch]:
    """The seed's ``train_images[128 * n : 128 * (n + 1)]``, after an optional shuffle.

    Shuffled batches of float data are gathered into one reused buffer (the batch is only
    read during its own step), so an epoch allocates no per-step input arrays.
    """
    n = len(x)
    if not shuffle:
        for start in range(0, n, batch_size):
            end = start + batch_size
            yield (
                _as_batch(x[start:end], dtype),
                None if y is None else y[start:end],
                None if sample_weight is None else sample_weight[start:end],
            )
        return
    from numkeras import _compiled, random

    order = random.generator().permutation(n)
    buffer = np.empty((min(batch_size, n),) + x.shape[1:], dtype=x.dtype)
    take_rows = _compiled.function("take_rows", x.dtype)  # its compiled twin, shared by 2 threads
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        xb = buffer[: len(index)]
        if take_rows is None or not take_rows(x, index, xb):
            # mode="clip" (indices are valid anyway) lets NumPy write straight into `out`; the
            # method rather than np.take skips a Python wrapper on every step.
            x.take(index, axis=0, out=xb, mode="clip")
        yield (
            _as_batch(xb, dtype),
            None if y is None else y.take(index, axis=0),
            None if sample_weight is None else sample_weight.take(index, axis=0),
        )


def _split_off_validation(x: np.ndarray, y: Any, sample_weight: Any,
                          fraction: float) -> tuple:
    """Keras's rule: the validation set is the *last* ``fraction`` of samples, unshuffled."""
    split = int(len(x) * (1 - fraction))
    if split == 0 or split == len(x):
        raise ValueError(
            f"fit: validation_split={fraction} leaves {split} training and {len(x) - split} "
            f"validation samples out of {len(x)}; both must be non-empty"
        )
    val_sw = None if sample_weight is None else sample_weight[split:]
    train_sw = None if sample_weight is None else sample_weight[:split]
    return x[:split], y[:split], train_sw, (x[split:], y[split:], val_sw)


def _unpack_validation(data: Any) -> tuple:
    if not isinstance(data, tuple | list) or len(data) not in (2, 3):
        raise ValueError(
            "fit: validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
            f"val_sample_weight), got {type(data).__name__}"
            + (f" of length {len(data)}" if isinstance(data, tuple | list) else "")
        )
    x_val, y_val = data[0], data[1]
    sw = data[2] if len(data) == 3 else None
    return x_val, y_val, sw


def _apply_class_weight(y: np.ndarray, class_weight: dict, sample_weight: Any) -> np.ndarray:
    """Per-sample weights from per-class weights, as Keras 3: labels are integers, ``(n, 1)``
    columns or one-hot rows (rounded to the nearest class); a class that ``class_weight``
    does not mention weighs 1."""
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y))
    labels = np.round(labels).astype(np.int64)
    weights = np.ones(len(labels), dtype=np.float32)
    for cls, weight in class_weight.items():
        weights[labels == int(cls)] = weight
    return weights if sample_weight is None else weights * sample_weight


# Held-back metric updates are applied once they cover this many samples (bounds the memory
# they hold: predictions and labels of a few thousand samples).
_DEFERRED_ROWS = 4096


def _joined(batches: list[tuple]) -> list[Any]:
    """Several batches' tuples of per-sample arrays, each position joined along the sample
    axis (``None`` where the batches have none, e.g. no sample weights)."""
    return [None if column[0] is None else np.concatenate([np.asarray(a) for a in column])
            for column in zip(*batches)]


def _from_numkeras(obj: Any) -> bool:
    """Whether a function or class -- or, for any other object, its class -- is defined in
    numkeras."""
    owner = obj if isinstance(obj, type | types.FunctionType) else type(obj)
    return owner.__module__.startswith("numkeras.")


def _adds_up(metric: Any) -> bool:
    """Whether updating ``metric`` with two batches at once equals updating it with each
    in turn: numkeras's own metrics, which keep (weighted) sums of per-sample values."""
    if not _from_numkeras(metric):
        return False
    fn = getattr(metric, "_fn", None)
    return fn is None or _from_numkeras(fn)


def _overrides(callback: Any, hook: str) -> bool:
    """Whether ``callback`` has its own ``hook``: a method of its class, or a function set on
    the instance (as ``LambdaCallback`` does)."""
    own = getattr(callback, hook)
    return getattr(own, "__func__", own) is not getattr(callbacks_module.Callback, hook)


def _uses_batch_logs(callback_list: Any, *hooks: str) -> bool:
    """Whether any callback reads per-batch logs: one that says so (``_reads_batch_logs``, as
    the progress bar does), or else one that overrides one of these per-batch hooks. Running
    metric results are only computed for each batch when somebody looks at them."""
    for cb in callback_list.callbacks:
        says = getattr(cb, "_reads_batch_logs", None)
        if says is not None:
            if says:
                return True
        elif any(_overrides(cb, hook) for hook in hooks):
            return True
    return False


def _may_read_weights_between_steps(callback_list: Any) -> bool:
    """Whether a callback may look at the model between two training steps: any with a
    per-batch hook of its own, except numkeras's progress bar (which prints the logs)."""
    hooks = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
    return any(type(cb) is not callbacks_module.ProgbarLogger
               and any(_overrides(cb, hook) for hook in hooks)
               for cb in callback_list.callbacks)


def _resolve_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


# --- helpers: losses and metrics ------------------------------------------------------------
def _as_loss(identifier: Any) -> Callable:
    """A loss object whose call reduces to one scalar (Keras wraps loss functions the same)."""
    loss = losses_module.get(identifier)
    if isinstance(loss, losses_module.Loss):
        return loss
    return losses_module.LossFunctionWrapper(loss, name=getattr(loss, "__name__", "loss"))


def _serialize_loss(loss: Any) -> Any:
    if loss is None or isinstance(loss, str):
        return loss
    return losses_module.serialize(loss)


def _resolve_metric(identifier: Any, loss: Any, y_true: Any, y_pred: Any) -> Any:
    return metrics_module.get_metric(identifier, np.shape(y_true), np.shape(y_pred), loss=loss)
