"""Loss functions and ``Loss`` classes with Keras 3's names, defaults and reductions.

Every loss is built from ``numkeras.ops``, so a ``GradientTape`` differentiates it: the
trainer calls a ``Loss`` instance inside the tape and asks for the gradient of its result.

A function (``categorical_crossentropy``) returns one loss per sample; a ``Loss`` instance
(``CategoricalCrossentropy()``) also weights the samples and reduces them to one number.

Where Keras silently broadcasts mismatched shapes or reads labels of the wrong kind, these
losses raise a ``ValueError`` that names the shapes or the value and says what to do
(the checks compare shapes and take a min and a max, so they cost next to nothing):

* ``y_true`` and ``y_pred`` of different shapes (categorical, binary, mean squared/absolute
  error), where Keras broadcasts or fails deep inside the backend;
* integer labels given to ``categorical_crossentropy`` and one-hot labels given to
  ``sparse_categorical_crossentropy``;
* sparse labels outside ``[0, num_classes)`` or not whole numbers, which Keras gathers
  as garbage (or clips silently, depending on the backend);
* a ``sample_weight`` whose shape does not fit the per-sample losses.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from numkeras import ops
from numkeras.autodiff import Tensor, _shape_of, value_of

EPSILON = ops.EPSILON  # Keras's backend epsilon, shared with ops.categorical_crossentropy

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# --- helpers ---------------------------------------------------------------------------------
def _as_pred(y_pred: Any) -> Any:
    """``y_pred`` as a floating Tensor or array, keeping its identity (so a tape that watches
    it still sees it); lists and integer arrays become float32 as Keras's floatx."""
    if isinstance(y_pred, Tensor):
        return y_pred if y_pred.dtype.kind == "f" else ops.cast(y_pred, "float32")
    if not isinstance(y_pred, np.ndarray):
        y_pred = ops.convert_to_tensor(y_pred).value
    return y_pred if y_pred.dtype.kind == "f" else y_pred.astype(np.float32)


def _as_target(y_true: Any, dtype: np.dtype) -> Any:
    """``y_true`` in ``dtype`` (targets take part in the arithmetic with ``y_pred``)."""
    if isinstance(y_true, Tensor):
        return y_true if y_true.dtype == dtype else ops.cast(y_true, dtype)
    value = np.asarray(y_true)
    return value if value.dtype == dtype else value.astype(dtype)


def squeeze_or_expand_to_same_rank(x1: Any, x2: Any, expand_rank_1: bool = True) -> tuple:
    """Make ranks equal when they differ by one and the longer has a last axis of size 1.

    Keras's rule: ``(n,)`` against ``(n, 1)`` expands the ``(n,)`` (for rank 1, with
    ``expand_rank_1``), otherwise the size-1 axis of the longer one is squeezed.
    The reshaping goes through ``numkeras.ops``, so a tape keeps track of either argument.
    """
    s1, s2 = _shape_of(x1), _shape_of(x2)
    if len(s1) == len(s2) + 1 and s1[-1] == 1:
        if len(s2) == 1 and expand_rank_1:
            return x1, ops.expand_dims(x2, -1)
        return ops.squeeze(x1, -1), x2
    if len(s2) == len(s1) + 1 and s2[-1] == 1:
        if len(s1) == 1 and expand_rank_1:
            return ops.expand_dims(x1, -1), x2
        return x1, ops.squeeze(x2, -1)
    return x1, x2


def _clip_probabilities(prob: Any) -> Any:
    """Clip to ``[EPSILON, 1 - EPSILON]`` as Keras; skipped (same value, same gradient) when
    every probability is already inside, which saves an op on the tape."""
    value = value_of(prob)
    if value.min() >= EPSILON and value.max() <= 1.0 - EPSILON:
        return prob
    return ops.clip(prob, EPSILON, 1.0 - EPSILON)


def _negated(x: Any) -> Any:
    """``-x``: free for constant labels (NumPy), an op only for a Tensor."""
    return ops.negative(x) if isinstance(x, Tensor) else -x


def _check_same_shape(loss: str, y_true: Any, y_pred: Any) -> None:
    t, p = _shape_of(y_true), _shape_of(y_pred)
    if t != p:
        raise ValueError(
            f"{loss}: y_true has shape {t} but y_pred has shape {p}; they must be equal "
            f"(Keras would broadcast them, which silently computes the wrong loss)"
        )


def _check_one_hot_shapes(loss: str, y_true: Any, y_pred: Any) -> None:
    """Equal shapes, and a clear message when integer class labels were passed instead."""
    t, p = _shape_of(y_true), _shape_of(y_pred)
    if t == p:
        return
    if p and p[-1] > 1 and (t == p[:-1] or t == p[:-1] + (1,)):
        raise ValueError(
            f"{loss}: y_true has shape {t}, one integer class label per sample, but this loss "
            f"expects one-hot labels of y_pred's shape {p}. Use "
            f"'sparse_categorical_crossentropy' for integer labels, or one-hot encode them "
            f"with numkeras.utils.to_categorical(y, num_classes={p[-1]})"
        )
    hint = ""
    if len(t) == len(p) and t[:-1] == p[:-1]:
        hint = (f": y_true has {t[-1]} classes but y_pred has {p[-1]} (check num_classes in "
                f"to_categorical and the units of the last layer)")
    raise ValueError(f"{loss}: y_true has shape {t} but y_pred has shape {p}; they must be "
                     f"equal{hint}")


# --- per-sample loss functions ---------------------------------------------------------------
def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Cross-entropy between one-hot (or soft) labels and predicted class probabilities.

    ``-sum(y_true * log(p))`` along ``axis``. With ``from_logits=False`` (Keras's default),
    ``y_pred`` is first rescaled to sum to 1 and clipped to ``[1e-7, 1 - 1e-7]``, as Keras
    does, so a zero probability costs ``-log(1e-7) ~= 16.1`` instead of infinity. (That is
    Keras's formula on its JAX, PyTorch and NumPy backends. On the TensorFlow backend, Keras
    uses the logits a softmax activation cached on its output instead, when there are any,
    and then neither rescales nor clips; numkeras always takes the probabilities it is
    given.) With
    ``from_logits=True`` it uses a stable log-softmax. ``label_smoothing`` replaces the
    labels by ``y_true * (1 - label_smoothing) + label_smoothing / num_classes``.

    Raises ``ValueError`` (Keras would broadcast or fail obscurely) when the shapes differ,
    saying what to do when ``y_true`` holds integer labels of shape ``(n,)`` or ``(n, 1)``.
    """
    if isinstance(axis, bool):
        raise ValueError(f"categorical_crossentropy: `axis` must be an int, got {axis!r}")
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred.dtype)
    _check_one_hot_shapes("categorical_crossentropy", y_true, y_pred)
    num_classes = y_pred.shape[axis]
    if num_classes == 1:
        warnings.warn(
            f"categorical_crossentropy: y_pred has shape {y_pred.shape}, a single class; the "
            f"loss is always 0. Use 'binary_crossentropy' for two classes with one output",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor:
    """Cross-entropy between integer class labels and predicted class probabilities.

    ``y_true`` holds one integer label per sample: shape ``y_pred.shape`` without ``axis``,
    or that with a trailing 1 (``(n,)`` or ``(n, 1)`` for ``(n, num_classes)``). The same
    probability handling as ``categorical_crossentropy`` (rescale, clip to ``1e-7``) applies
    when ``from_logits=False``. Samples whose label is ``ignore_class`` get loss 0; the
    ``SparseCategoricalCrossentropy`` class also leaves them out of the average.

    Raises ``ValueError`` for one-hot labels, for labels that are not whole numbers, and
    for labels outside ``[0, num_classes)`` (other than ``ignore_class``), naming the value.
    """
    return _sparse_crossentropy(y_true, y_pred, from_logits, ignore_class, axis)[0]


def _sparse_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool, ignore_class: int | None, axis: int
) -> tuple[Tensor, np.ndarray | None]:
    """The per-sample losses and the mask of samples not ignored (None without ignore_class)."""
    name = "sparse_categorical_crossentropy"
    y_pred = _as_pred(y_pred)
    pred_shape = y_pred.shape
    if not pred_shape:
        raise ValueError(f"{name}: y_pred must have a class axis; got a scalar")
    axis = axis % len(pred_shape)
    num_classes = pred_shape[axis]
    labels = np.asarray(value_of(y_true))
    if labels.ndim == len(pred_shape) and labels.shape[axis] == 1:
        labels = labels.reshape(labels.shape[:axis] + labels.shape[axis + 1:])
    expected = pred_shape[:axis] + pred_shape[axis + 1:]
    if labels.shape != expected:
        if labels.shape == pred_shape:
            raise ValueError(
                f"{name}: y_true has shape {labels.shape}, the shape of y_pred: that looks "
                f"like one-hot labels, but this loss expects one integer class label per "
                f"sample, shape {expected}. Use 'categorical_crossentropy' for one-hot "
                f"labels, or turn them into integers with np.argmax(y_true, axis=-1)"
            )
        raise ValueError(
            f"{name}: y_true has shape {np.shape(value_of(y_true))} but y_pred has shape "
            f"{pred_shape}; expected integer labels of shape {expected} (or "
            f"{expected + (1,)})"
        )
    index = _class_indices(name, labels, num_classes, ignore_class)
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        index = np.where(valid, index, 0)
    # y_pred[i, j, ..., index[i, j, ...], ...]: each sample's entry at its label, shape `expected`.
    key = list(np.ix_(*(range(n) for n in expected))) if expected else []
    key.insert(axis, index)
    key = tuple(key)
    if from_logits:
        log_prob = ops.getitem(ops.log_softmax(y_pred, axis=axis), key)
    else:
        prob = ops.divide(ops.getitem(y_pred, key), ops.sum(y_pred, axis=axis))
        log_prob = ops.log(_clip_probabilities(prob))
    losses = ops.negative(log_prob)
    if valid is not None:
        losses = ops.where(valid, losses, 0.0)
    return losses, valid


def _class_indices(
    name: str, labels: np.ndarray, num_classes: int, ignore_class: int | None
) -> np.ndarray:
    """Integer labels as indices; ``ValueError`` naming the first bad one."""
    if labels.dtype.kind in "iu":
        index = labels
    elif labels.dtype.kind in "fb":
        index = labels.astype(np.intp)
        if labels.dtype.kind == "f" and not np.array_equal(index, labels):
            bad = labels[index != labels].flat[0]
            raise ValueError(
                f"{name}: labels must be whole numbers (class indices); got {bad}. For "
                f"probabilities or one-hot labels use 'categorical_crossentropy'"
            )
    else:
        raise ValueError(f"{name}: labels must be integers; got dtype {labels.dtype}")
    if index.size == 0:
        return index
    low, high = index.min(), index.max()
    if low >= 0 and high < num_classes:
        return index
    outside = (index < 0) | (index >= num_classes)
    if ignore_class is not None:
        outside &= index != ignore_class
        if not outside.any():
            return index
    bad = index[outside].flat[0]
    hint = ""
    if bad < 0 and ignore_class is None:
        hint = f"; if {bad} marks samples to skip, pass ignore_class={bad}"
    elif bad >= num_classes:
        hint = (f"; y_pred has only {num_classes} classes (check the units of the last "
                f"layer)")
    raise ValueError(
        f"{name}: label {bad} is outside [0, {num_classes}){hint}"
    )


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Binary cross-entropy of each output, averaged over ``axis`` (the last by default).

    With ``from_logits=False`` probabilities are clipped to ``[1e-7, 1 - 1e-7]`` as in
    Keras; with ``from_logits=True`` the stable form ``softplus(x) - y_true * x`` is used
    (what Keras's TensorFlow and JAX backends compute). ``label_smoothing`` squeezes the
    labels towards 0.5: ``y_true * (1 - label_smoothing) + 0.5 * label_smoothing``.

    ``(n,)`` against ``(n, 1)`` is accepted (Keras's rank rule); any other shape mismatch
    raises ``ValueError`` naming both shapes.
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = ops.subtract(ops.softplus(y_pred), ops.multiply(y_true, y_pred))
        return ops.mean(bce, axis=axis)
    prob = _clip_probabilities(y_pred)
    # -(t log p + (1 - t) log(1 - p)), with the signs folded into the label factors.
    bce = ops.add(ops.multiply(_negated(y_true), ops.log(prob)),
                  ops.multiply(y_true - 1.0, ops.log(ops.subtract(1.0, prob))))
    return ops.mean(bce, axis=axis)


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(square(y_true - y_pred))`` over the last axis.

    ``(n,)`` against ``(n, 1)`` is accepted (Keras's rank rule); any other shape mismatch
    raises ``ValueError`` naming both shapes, where Keras would broadcast silently.
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_same_shape("mean_squared_error", y_true, y_pred)
    return ops.mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(abs(y_true - y_pred))`` over the last axis (shape rules as for MSE)."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_same_shape("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# --- reduction -------------------------------------------------------------------------------
def _standardize_reduction(reduction: str | None) -> str | None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid reduction {reduction!r}; expected one of "
            f"{', '.join(repr(r) for r in REDUCTIONS)}"
        )
    return reduction


def _weights_for(values: Any, sample_weight: Any, dtype: np.dtype) -> np.ndarray:
    """``sample_weight`` as an array that multiplies ``values`` element-wise."""
    weights = np.asarray(value_of(sample_weight), dtype=dtype)
    shape = _shape_of(values)
    if weights.ndim < len(shape):
        # Per-sample weights for losses with more axes (e.g. per time step) apply to every
        # entry of their sample: align from the left, as Keras 2 did.
        weights = weights.reshape(weights.shape + (1,) * (len(shape) - weights.ndim))
    try:
        fits = np.broadcast_shapes(weights.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"sample_weight of shape {np.shape(value_of(sample_weight))} does not fit the "
            f"per-sample losses of shape {shape}; give one weight per sample"
        )
    return weights


def reduce_weighted_values(
    values: Any,
    sample_weight: Any = None,
    mask: np.ndarray | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> Tensor:
    """Weight per-sample losses and reduce them, exactly as Keras 3's ``Loss.__call__``.

    * ``"sum"``: ``sum(w * loss)``;
    * ``"sum_over_batch_size"`` and ``"mean"``: ``sum(w * loss) / number of losses``, where
      masked-out losses (``ignore_class``) are not counted;
    * ``"mean_with_sample_weight"``: ``sum(w * loss) / sum(w)`` (0 when ``sum(w)`` is 0);
    * ``None`` / ``"none"``: the weighted losses themselves.

    Weights of lower rank than the losses (one per sample against per-time-step losses)
    apply to all of a sample's losses, as in Keras 2; Keras 3 would broadcast them against
    the last axis instead. Weights that cannot apply raise ``ValueError``.
    """
    reduction = _standardize_reduction(reduction)
    dtype = np.asarray(value_of(values)).dtype
    if mask is not None:
        mask = mask.astype(dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # Valid losses get weight total/valid, so dividing by the total divides by valid.
            valid = mask.sum()
            mask = mask * (mask.size / valid if valid else 0.0)
        if sample_weight is None:
            sample_weight = mask
        else:
            sample_weight = np.asarray(value_of(sample_weight), dtype=dtype)
            mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
            sample_weight = value_of(sample_weight) * value_of(mask)
    if sample_weight is not None:
        sample_weight = np.asarray(value_of(sample_weight), dtype=dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        sample_weight = value_of(sample_weight)
        values = ops.multiply(values, _weights_for(values, sample_weight, dtype))
    shape = _shape_of(values)
    if reduction in (None, "none") or shape == () or shape == (0,):
        return values
    if reduction == "sum":
        return ops.sum(values)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(sample_weight.sum())
        return ops.sum(values) / divisor if divisor else ops.sum(values) * 0.0
    return ops.mean(values)


# --- Loss classes ----------------------------------------------------------------------------
def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class Loss:
    """Base class of losses: ``loss(y_true, y_pred, sample_weight=None)`` returns one number.

    Subclasses implement ``call(y_true, y_pred)``, returning one loss per sample; ``__call__``
    converts both inputs to ``dtype`` (float32 unless given), calls it, applies
    ``sample_weight`` and the ``reduction`` (see :func:`reduce_weighted_values`).
    ``sample_weight`` may be a scalar, one weight per sample (``(n,)`` or ``(n, 1)``), or the
    shape of the per-sample losses.
    """

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        self._dtype = np.dtype(dtype or "float32")

    @property
    def dtype(self) -> str:
        return self._dtype.name

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        # As Keras, `call` gets Tensors of the loss's dtype. The cast also wraps a (watched)
        # NumPy array in a recorded op, so Python operators in `call` reach the tape.
        if not (isinstance(y_pred, Tensor) and y_pred.dtype == self._dtype):
            y_pred = ops.cast(_as_pred(y_pred), self._dtype)
        y_true = _as_target(y_true, self._dtype)
        if not isinstance(y_true, Tensor):
            y_true = Tensor(y_true)
        losses, mask = self._call_with_mask(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction)

    def _call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Any, np.ndarray | None]:
        """``call``'s losses and a mask of the losses that count (None: all of them)."""
        return self.call(y_true, y_pred), None

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """One loss per sample; subclasses implement it with ``numkeras.ops``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement call(y_true, y_pred), returning one loss "
            f"per sample"
        )

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name} reduction={self.reduction}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` that calls ``fn(y_true, y_pred, **kwargs)`` for its per-sample losses.

    As in Keras, ``(n,)`` labels against ``(n, 1)`` predictions (or the reverse) are brought
    to the same rank first. The default name is the function's name.
    """

    def __init__(
        self,
        fn: Callable,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["fn"] = serialize(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        fn_name = getattr(self.fn, "__name__", self.fn)
        return f"<LossFunctionWrapper({fn_name}, kwargs={self._fn_kwargs})>"


class CategoricalCrossentropy(LossFunctionWrapper):
    """:func:`categorical_crossentropy` as a ``Loss``: one-hot labels, ``(n, num_classes)``."""

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """:func:`sparse_categorical_crossentropy` as a ``Loss``: integer labels ``(n,)``/``(n, 1)``.

    Samples labelled ``ignore_class`` count neither in the sum nor in the number of samples
    that ``"sum_over_batch_size"`` divides by (Keras's masking).
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def _call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Any, np.ndarray | None]:
        if type(self).call is not LossFunctionWrapper.call:  # a subclass overrode call
            return self.call(y_true, y_pred), None
        return _sparse_crossentropy(y_true, y_pred, self.from_logits, self.ignore_class, -1)

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


class BinaryCrossentropy(LossFunctionWrapper):
    """:func:`binary_crossentropy` as a ``Loss``: labels 0/1 of ``y_pred``'s shape."""

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class MeanSquaredError(LossFunctionWrapper):
    """:func:`mean_squared_error` as a ``Loss``."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return Loss.get_config(self)


class MeanAbsoluteError(LossFunctionWrapper):
    """:func:`mean_absolute_error` as a ``Loss``."""

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return Loss.get_config(self)


# --- lookup and serialization ----------------------------------------------------------------
ALL_OBJECTS = (
    Loss, LossFunctionWrapper, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    BinaryCrossentropy, MeanSquaredError, MeanAbsoluteError,
    categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
    mean_squared_error, mean_absolute_error,
)
ALL_OBJECTS_DICT: dict[str, Any] = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
})


def serialize(loss: Any) -> dict | str:
    """A ``Loss`` instance as ``{"class_name", "config", ...}``; a loss function by name."""
    if isinstance(loss, Loss):
        return {"module": "numkeras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    name = getattr(loss, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize loss {loss!r}: expected a Loss or a function")
    return {"module": "numkeras.losses", "class_name": "function", "config": name,
            "registered_name": name}


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Any:
    """The inverse of :func:`serialize` (also accepts a plain name)."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    if isinstance(config, str):
        return _lookup(config, objects)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize loss from {config!r}: expected a name or a dict "
                         f"with 'class_name' and 'config'")
    if config["class_name"] == "function":
        return _lookup(config["config"], objects)
    cls = _lookup(config["class_name"], objects)
    if not (isinstance(cls, type) and issubclass(cls, Loss)):
        raise ValueError(f"Cannot deserialize loss: {config['class_name']!r} is not a Loss class")
    return cls.from_config(config.get("config") or {})


def _lookup(name: str, objects: dict) -> Any:
    if name not in objects:
        raise ValueError(
            f"Unknown loss {name!r}. Valid names are: {', '.join(sorted(objects, key=str.lower))}"
        )
    return objects[name]


def get(identifier: Any) -> Any:
    """A loss from a name, a config dict, a ``Loss`` class or instance, or a function.

    Names are Keras's: function names (``'categorical_crossentropy'``, returned as the
    function), class names (``'CategoricalCrossentropy'``, returned as a new instance) and
    the aliases ``'mse'``, ``'MSE'``, ``'mae'``, ``'MAE'``, ``'bce'``, ``'BCE'``. ``None``
    gives ``None``. An unknown name raises ``ValueError`` listing the valid ones.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _lookup(identifier, ALL_OBJECTS_DICT)
    else:
        obj = identifier
    if isinstance(obj, type):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
