"""Stateful metrics with Keras 3's names and semantics, computed with plain NumPy.

A metric accumulates over batches: ``update_state(y_true, y_pred, sample_weight=None)``
adds a batch, ``result()`` gives the value so far (a float32 NumPy scalar), and
``reset_state()`` starts again (the trainer does so at the start of each epoch). Most are
a running weighted mean, ``sum(w * value) / sum(w)`` over every sample seen, so the result
after an epoch is the mean over the epoch's samples, not a mean of batch means.

Metrics need no gradients, so nothing here goes through ``numkeras.ops`` or a tape.
``categorical_accuracy`` (the seed's ``'accuracy'``) has a compiled twin, as the ops on the
training path do: NumPy's ``argmax`` along a short last axis costs ~40 ns a row.

The string ``'accuracy'`` means different things for different labels: ``model.compile``
resolves it with :func:`resolve_accuracy` (as Keras 3 does, from the shapes), while
``get('accuracy')`` returns ``Accuracy()``, the exact-equality metric (also as Keras).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from numkeras import _compiled
from numkeras import losses as losses_module
from numkeras.autodiff import Variable, value_of

_FLOATX = np.float32


def _array(x: Any) -> np.ndarray:
    return np.asarray(value_of(x))


def _same_rank(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's rank rule (``losses.squeeze_or_expand_to_same_rank``) on NumPy arrays."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, x2[..., None]) if x2.ndim == 1 else (x1[..., 0], x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (x1[..., None], x2) if x1.ndim == 1 else (x1, x2[..., 0])
    return x1, x2


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


# --- base classes --------------------------------------------------------------------------------
class Metric:
    """Base class: state in variables made by ``add_variable`` in ``__init__``, changed by
    ``update_state``, read by ``result``. ``reset_state`` sets every variable to zero."""

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:
        self.name = name or _snake_case(type(self).__name__)
        self._dtype = np.dtype(dtype or "float32")
        self._variables: list[Variable] = []

    @property
    def dtype(self) -> str:
        return self._dtype.name

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def add_variable(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
    ) -> Variable:
        """A non-trainable state variable, reset to zeros by ``reset_state``."""
        if not hasattr(self, "_variables"):
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() in __init__ before add_variable"
            )
        if initializer is None or isinstance(initializer, str):
            from numkeras import initializers

            initializer = initializers.get(initializer or "zeros")
        variable = Variable(initializer, shape=tuple(shape), dtype=dtype or self._dtype,
                            trainable=False, name=name)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape: Sequence[int] = (), initializer: Any = None, dtype: Any = None,
                   name: str | None = None) -> Variable:
        """Alias of ``add_variable`` (Keras keeps it for backwards compatibility)."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        for variable in self._variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _samplewise(values: Any, sample_weight: Any, reduce: Callable, dtype: np.dtype) -> tuple:
    """Reduce ``values`` to one number per sample and weight them, as Keras 3 does.

    Axes of ``values`` beyond the weights' rank are reduced first (so per-sample weights
    apply to all of a sample's entries); a scalar weight weighs the whole batch's reduced
    value once. Returns the weighted values and the weights per sample (or None).
    """
    values = np.asarray(value_of(values), dtype=dtype)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(value_of(sample_weight), dtype=dtype)
        values, weights = _same_rank(values, weights)
        if values.ndim > weights.ndim:
            values = reduce(values, axis=tuple(range(weights.ndim, values.ndim)))
        try:
            weights = np.broadcast_to(weights, values.shape)
        except ValueError:
            raise ValueError(
                f"sample_weight of shape {np.shape(value_of(sample_weight))} does not fit "
                f"values of shape {values.shape}; give one weight per sample"
            ) from None
        values = values * weights
        if weights.ndim > 1:
            weights = reduce(weights, axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, weights


class Sum(Metric):
    """The (weighted) sum of all values seen."""

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, _ = _samplewise(values, sample_weight, np.sum, self._dtype)
        self.total.assign_add(values.sum(dtype=self._dtype))

    def result(self) -> np.generic:
        return self.total.value[()]


class Mean(Metric):
    """The (weighted) mean of all values seen: ``sum(w * value) / sum(w)``, 0 before any."""

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, weights = _samplewise(values, sample_weight, np.mean, self._dtype)
        if weights is not None:
            count = weights.sum(dtype=self._dtype)
        else:
            count = values.shape[0] if values.ndim else 1
        self.total.assign_add(values.sum(dtype=self._dtype))
        self.count.assign_add(count)

    def result(self) -> np.generic:
        count = self.count.value[()]
        if count == 0:
            return self._dtype.type(0)
        return self._dtype.type(self.total.value[()] / count)


class MeanMetricWrapper(Mean):
    """The running weighted mean of ``fn(y_true, y_pred, **kwargs)``, one value per sample.

    ``fn`` may be a NumPy function or a ``numkeras.losses`` function. The default name is
    the function's name (Keras uses ``'mean_metric_wrapper'``).
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper",
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        values = self._fn(_array(y_true), _array(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype,
                "fn": getattr(self._fn, "__name__", self._fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = _function(config["fn"])
        return cls(**config)


# --- per-sample metric functions (NumPy) ---------------------------------------------------------
def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """How often ``y_pred`` equals ``y_true`` exactly, averaged over the last axis."""
    y_pred = _array(y_pred)
    y_true = _array(y_true)
    y_true, y_pred = _same_rank(y_true, y_pred)
    return np.mean(y_true == y_pred, axis=-1, dtype=_FLOATX)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """How often ``y_pred > threshold`` equals the 0/1 label, averaged over the last axis."""
    y_true = _array(y_true)
    y_pred = _array(y_pred)
    y_true, y_pred = _same_rank(y_true, y_pred)
    return np.mean(y_true == (y_pred > threshold), axis=-1, dtype=_FLOATX)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1 where the largest ``y_pred`` is at the one-hot label's class, else 0 (per sample).

    Raises ``ValueError`` when ``y_true`` holds integer labels (Keras would take the argmax
    across the batch and report nonsense): use ``sparse_categorical_accuracy`` for those.
    """
    y_true = _array(y_true)
    y_pred = _array(y_pred)
    if y_true.shape != y_pred.shape:
        t, p = y_true.shape, y_pred.shape
        if p and (t == p[:-1] or t == p[:-1] + (1,)):
            raise ValueError(
                f"categorical_accuracy: y_true has shape {t}, integer class labels, but "
                f"this metric expects one-hot labels of y_pred's shape {p}; use "
                f"'sparse_categorical_accuracy' (SparseCategoricalAccuracy) instead"
            )
        raise ValueError(
            f"categorical_accuracy: y_true has shape {t} but y_pred has shape {p}; "
            f"they must be equal"
        )
    if y_pred.ndim >= 2:  # the compiled twin: both argmaxes of a row in one pass
        twin = _compiled.function("categorical_accuracy", y_pred.dtype)
        hits = np.empty(y_pred.shape[:-1], y_pred.dtype) if twin is not None else None
        if hits is not None and twin(y_true, y_pred, hits, y_pred.shape[-1]):
            return hits.astype(_FLOATX, copy=False)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(_FLOATX)


def _sparse_labels(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of size 1 dropped)."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = y_true.reshape(y_true.shape[:-1])
    if y_true.shape != y_pred.shape[:-1]:
        if y_true.shape == y_pred.shape:
            raise ValueError(
                f"{name}: y_true has shape {y_true.shape}, the shape of y_pred: that looks "
                f"like one-hot labels, but this metric expects integer labels; use the "
                f"categorical version instead"
            )
        raise ValueError(
            f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; "
            f"expected integer labels of shape {y_pred.shape[:-1]}"
        )
    return y_true


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1 where the largest ``y_pred`` is at the integer label's class, else 0 (per sample).

    Labels may have shape ``(n,)`` or ``(n, 1)`` for predictions ``(n, num_classes)``.
    """
    y_pred = _array(y_pred)
    labels = _sparse_labels("sparse_categorical_accuracy", _array(y_true), y_pred)
    return (labels == np.argmax(y_pred, axis=-1)).astype(_FLOATX)


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Whether each label's score is among the ``k`` largest (ties count, as TF's in_top_k)."""
    index = labels.astype(np.intp)[..., None]
    if index.size and (index.min() < 0 or index.max() >= y_pred.shape[-1]):
        bad = index[(index < 0) | (index >= y_pred.shape[-1])].flat[0]
        raise ValueError(f"top-k accuracy: label {bad} is outside [0, {y_pred.shape[-1]})")
    score = np.take_along_axis(y_pred, index, axis=-1)
    higher = np.sum(y_pred > score, axis=-1)
    return ((higher < k) & np.isfinite(score[..., 0])).astype(_FLOATX)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1 where the one-hot label's class is among the ``k`` largest predictions."""
    y_pred = _array(y_pred)
    return _in_top_k(np.argmax(_array(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1 where the integer label's class is among the ``k`` largest predictions."""
    y_pred = _array(y_pred)
    labels = _sparse_labels("sparse_top_k_categorical_accuracy", _array(y_true), y_pred)
    return _in_top_k(labels, y_pred, k)


def _regression_pair(name: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_pred = _array(y_pred)
    y_true = _array(y_true).astype(y_pred.dtype, copy=False)
    y_true, y_pred = _same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; "
            f"they must be equal"
        )
    return y_true, y_pred


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean((y_true - y_pred) ** 2)`` over the last axis."""
    y_true, y_pred = _regression_pair("mean_squared_error", y_true, y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean(|y_true - y_pred|)`` over the last axis."""
    y_true, y_pred = _regression_pair("mean_absolute_error", y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def _loss_values(fn: Callable) -> Callable:
    """A ``numkeras.losses`` function returning NumPy values (for crossentropy metrics)."""

    def values(y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
        return np.asarray(value_of(fn(y_true, y_pred, **kwargs)))

    values.__name__ = fn.__name__
    return values


categorical_crossentropy = _loss_values(losses_module.categorical_crossentropy)
sparse_categorical_crossentropy = _loss_values(losses_module.sparse_categorical_crossentropy)
binary_crossentropy = _loss_values(losses_module.binary_crossentropy)


# --- metric classes ------------------------------------------------------------------------------
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (for class ids; see ``resolve_accuracy``)."""

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches 0/1 labels."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        if threshold is not None and not 0 < threshold < 1:
            raise ValueError(
                f"BinaryAccuracy: threshold must be in the open interval (0, 1); got {threshold}"
            )
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of ``y_pred`` matches one-hot labels."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of ``y_pred`` matches integer labels ``(n,)`` or ``(n, 1)``."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` largest predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label's class is among the ``k`` largest predictions."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class MeanSquaredError(MeanMetricWrapper):
    """The running mean of the squared error."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_error, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsoluteError(MeanMetricWrapper):
    """The running mean of the absolute error."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_error, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class CategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of ``losses.categorical_crossentropy``."""

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1) -> None:
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of ``losses.sparse_categorical_crossentropy``."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, axis: int = -1) -> None:
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)
        self.from_logits, self.axis = from_logits, axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "axis": self.axis}


class BinaryCrossentropy(MeanMetricWrapper):
    """The running mean of ``losses.binary_crossentropy``."""

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


# --- lookup --------------------------------------------------------------------------------------
ALL_OBJECTS = (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, BinaryCrossentropy,
)
ALL_OBJECTS_DICT: dict[str, Any] = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
})

_FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error, categorical_crossentropy, sparse_categorical_crossentropy,
    binary_crossentropy,
)}


def _function(name: str) -> Callable:
    if name not in _FUNCTIONS:
        raise ValueError(f"Unknown metric function {name!r}. Valid names are: "
                         f"{', '.join(sorted(_FUNCTIONS))}")
    return _FUNCTIONS[name]


def get(identifier: Any) -> Any:
    """A metric from a name, a config dict, a ``Metric`` class or instance, or a function.

    Names are Keras's: class names (``'CategoricalAccuracy'``), their snake_case
    (``'categorical_accuracy'``) and ``'mse'``, ``'MSE'``, ``'mae'``, ``'MAE'``, ``'bce'``,
    ``'BCE'``; each gives a new instance. ``'accuracy'`` gives ``Accuracy()`` (exact
    equality), as ``keras.metrics.get`` does; the trainer should resolve ``'accuracy'``
    and ``'acc'`` with :func:`resolve_accuracy` instead. An unknown name raises
    ``ValueError`` listing the valid ones.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"Cannot interpret metric config {identifier!r}: it needs a "
                             f"'class_name'")
        cls = ALL_OBJECTS_DICT.get(identifier["class_name"])
        if cls is None:
            get(identifier["class_name"])  # raises, listing the valid names
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        if identifier not in ALL_OBJECTS_DICT:
            hint = (" ('acc' depends on the labels: use resolve_accuracy, as model.compile "
                    "does)" if identifier.lower() == "acc" else "")
            raise ValueError(
                f"Unknown metric {identifier!r}{hint}. Valid names are: "
                f"{', '.join(sorted(ALL_OBJECTS_DICT, key=str.lower))}"
            )
        return ALL_OBJECTS_DICT[identifier]()
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric: Metric) -> dict:
    """A metric as ``{"class_name": ..., "config": ...}``."""
    return {"module": "numkeras.metrics", "class_name": type(metric).__name__,
            "config": metric.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> Metric:
    """The inverse of :func:`serialize`."""
    custom = (custom_objects or {}).get(config.get("class_name"))
    if custom is not None:
        return custom.from_config(config.get("config") or {})
    return get(config)


def resolve_accuracy(
    loss: Any,
    y_true_shape: Sequence[int],
    y_pred_shape: Sequence[int],
    name: str = "accuracy",
) -> Metric:
    """The accuracy metric that ``'accuracy'``/``'acc'`` means for these labels, as Keras 3.

    Keras 3's ``compile`` decides from the shapes alone (it ignores the loss):

    * ``y_pred`` has one output per sample (last axis 1): ``BinaryAccuracy``;
    * ``y_true`` has fewer axes than ``y_pred``, or a last axis of 1 against several
      classes: ``SparseCategoricalAccuracy``;
    * otherwise (one-hot labels): ``CategoricalAccuracy``.

    Differences, to avoid nonsense Keras would report: a rank-1 ``y_pred`` (one output per
    sample, no feature axis) also gives ``BinaryAccuracy``; and a ``binary_crossentropy``
    loss with several outputs (multi-label) still gives ``CategoricalAccuracy``, as in
    Keras, but with a warning suggesting ``BinaryAccuracy``. The metric is named ``name``.
    """
    t, p = tuple(y_true_shape), tuple(y_pred_shape)
    is_binary = len(p) <= 1 or p[-1] == 1
    is_sparse = len(t) < len(p) or (bool(t) and t[-1] == 1 and p[-1] > 1)
    if is_binary:
        return BinaryAccuracy(name=name)
    if is_sparse:
        return SparseCategoricalAccuracy(name=name)
    if _is_binary_crossentropy(loss):
        warnings.warn(
            f"'{name}' with binary_crossentropy and {p[-1]} outputs per sample resolves to "
            f"CategoricalAccuracy (as in Keras), which compares only the largest output; for "
            f"multi-label outputs use metrics=[numkeras.metrics.BinaryAccuracy()]",
            stacklevel=2,
        )
    return CategoricalAccuracy(name=name)


def _is_binary_crossentropy(loss: Any) -> bool:
    if isinstance(loss, str):
        return loss in ("binary_crossentropy", "BinaryCrossentropy", "bce", "BCE")
    return (loss is losses_module.binary_crossentropy
            or isinstance(loss, losses_module.BinaryCrossentropy))


def get_metric(
    identifier: Any,
    y_true_shape: Sequence[int],
    y_pred_shape: Sequence[int],
    loss: Any = None,
) -> Metric:
    """What ``model.compile(metrics=[identifier])`` makes of an identifier, as Keras 3.

    ``'accuracy'``/``'acc'`` go through :func:`resolve_accuracy`; other identifiers through
    :func:`get`; a plain function is wrapped in ``MeanMetricWrapper`` named after it (or
    after the string that named it).
    """
    if identifier is None:
        raise ValueError("Expected a metric, got None")
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        return resolve_accuracy(loss, y_true_shape, y_pred_shape, name=identifier)
    metric = get(identifier)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric, name=getattr(metric, "__name__", None))
    if isinstance(identifier, str):
        metric.name = identifier  # Keras names a metric given as a string by that string
    return metric
