"""``to_categorical`` and ``normalize``, with Keras 3's semantics for NumPy input.

Where Keras is silent about bad labels (it wraps negative ones around and truncates 1.5 to
1), ``to_categorical`` raises a ``ValueError`` naming the value and its position instead.
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike


def to_categorical(x: ArrayLike, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels, with the class axis last.

    Shapes: ``(n,)`` and ``(n, 1)`` give ``(n, num_classes)``; any other shape ``s`` gives
    ``s + (num_classes,)`` after dropping a trailing axis of size 1 (rank >= 2 only).
    ``num_classes=None`` infers ``max(x) + 1``. The result is float64, as Keras returns
    for NumPy input.

    Raises ``ValueError`` for labels that are negative, not whole numbers, or not below
    ``num_classes`` (Keras does not check), and for a ``num_classes`` below 1.
    """
    labels = np.asarray(x)
    _check_labels(labels)
    n_classes = _resolve_num_classes(labels, num_classes)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1).astype(np.intp)
    categorical = np.zeros((flat.size, n_classes), dtype=np.float64)
    categorical[np.arange(flat.size), flat] = 1.0
    return categorical.reshape(shape + (n_classes,))


def _check_labels(labels: np.ndarray) -> None:
    """Raise ``ValueError`` unless every label is a non-negative whole number."""
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"to_categorical needs integer class labels, got dtype {labels.dtype}")
    if labels.dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.round(labels))
        _raise_at(labels, bad, "is not a whole number")
    if labels.dtype.kind in "if":
        _raise_at(labels, labels < 0, "is negative")


def _resolve_num_classes(labels: np.ndarray, num_classes: int | None) -> int:
    """``num_classes`` checked against the labels, or ``max(labels) + 1`` when None."""
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("to_categorical cannot infer num_classes from empty labels")
        return int(labels.max()) + 1
    try:
        n_classes = operator.index(num_classes)
    except TypeError:
        raise ValueError(f"num_classes must be an integer, got {num_classes!r}") from None
    if n_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {n_classes}")
    _raise_at(labels, labels >= n_classes, f"is not below num_classes={n_classes}")
    return n_classes


def _raise_at(labels: np.ndarray, bad: np.ndarray, problem: str) -> None:
    """Raise a ``ValueError`` naming the first label flagged in ``bad`` and its position."""
    if not np.any(bad):
        return
    flat_index = int(np.flatnonzero(bad)[0])
    position = tuple(int(i) for i in np.unravel_index(flat_index, labels.shape))
    value = labels.reshape(-1)[flat_index].item()
    count = int(np.count_nonzero(bad))
    others = f" ({count - 1} more such label(s))" if count > 1 else ""
    raise ValueError(f"label {value!r} at position {position} {problem}{others}")


def normalize(x: ArrayLike, axis: int = -1, order: int | float = 2) -> np.ndarray:
    """A copy of ``x`` with each vector along ``axis`` divided by its ``order``-norm.

    Vectors whose norm is zero are returned unchanged. Floating-point inputs keep their
    dtype; others become float64. The result always has the shape of ``x``; unlike Keras's
    NumPy branch, ``axis=0`` is honoured and 1-D input stays 1-D.
    """
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"normalize needs a numeric array, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError("normalize needs an array of at least one dimension, got a scalar")
    try:
        axis = operator.index(axis)
    except TypeError:
        raise ValueError(f"axis must be an integer, got {axis!r}") from None
    if not -array.ndim <= axis < array.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of rank {array.ndim}")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    norm = np.linalg.norm(array, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return array / norm
