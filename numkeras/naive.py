"""Tensor operations written as plain loops, exactly as chapter 2 explains them.

Each function here does one thing the slow, obvious way: it walks over every index with a
Python loop. That makes them easy to read and easy to trust, so they serve two purposes:

* learning: they show what ``np.maximum``, ``np.add`` and ``np.dot`` actually compute;
* testing: the fast NumPy path in ``numkeras.ops`` is checked against them.

They are slow by design; never use them to train a model.

Results match NumPy for the same inputs, including the result dtype (``np.result_type``):
``add(int32, float32)`` is float64, ``vector_dot(float32, float32)`` stays float32, and
integers wrap around on overflow like NumPy's fixed-width integers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

# ---------------------------------------------------------------------------------------------
# Helpers


def _dtype_operand(x: ArrayLike) -> Any:
    """What to hand ``np.result_type``: Python numbers as they are, so NumPy treats them as
    "weak" (``float32 array + 2.0`` stays float32), everything else as an array."""
    if isinstance(x, (bool, int, float, complex, np.generic)):
        return x
    return np.asarray(x)


def _result_dtype(*operands: ArrayLike) -> np.dtype:
    return np.result_type(*(_dtype_operand(x) for x in operands))


def _numpy_style(result: np.ndarray) -> Any:
    """NumPy returns a scalar, not a 0-d array, when a result has rank 0; do the same."""
    if result.ndim == 0:
        return result[()]
    return result


def _larger(a: Any, b: Any) -> Any:
    """max(a, b) for two numbers, with NumPy's rule that NaN wins (NaN means "unknown")."""
    if a != a:  # only NaN is unequal to itself
        return a
    if b != b:
        return b
    return a if a > b else b


# ---------------------------------------------------------------------------------------------
# relu: the seed's naive_relu, for any rank


def relu(x: ArrayLike) -> Any:
    """Rectified linear unit, ``max(x, 0)`` for every entry, one index at a time.

    The seed's ``naive_relu`` only handled rank-2 tensors with two nested loops;
    ``np.ndindex`` yields every index tuple of any shape, so one loop handles any rank.
    The input is never modified: the result is a new array of the same dtype.
    """
    x = np.asarray(x)
    dtype = _result_dtype(x, 0)
    zero = dtype.type(0)
    result = np.array(x, dtype=dtype)  # a copy, so the caller's tensor is left alone
    for index in np.ndindex(x.shape):
        result[index] = _larger(result[index], zero)
    return _numpy_style(result)


# ---------------------------------------------------------------------------------------------
# Broadcasting, in the seed's two steps


def _normalize_shape(shape: Sequence[int]) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    dims = tuple(int(d) for d in shape)
    if any(d < 0 for d in dims):
        raise ValueError(f"shape {dims} has a negative size")
    return dims


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape that tensors of the given shapes broadcast to.

    Shapes are lined up on the right (step 1 of the seed: missing leading axes count as
    size 1). On every axis the sizes must either be equal or be 1; a size-1 axis is
    stretched to the other size (step 2). Example: ``(64, 3, 32, 10)`` and ``(32, 10)``
    broadcast to ``(64, 3, 32, 10)``.

    Raises ``ValueError`` naming the two clashing shapes if no such shape exists.
    """
    shapes = tuple(_normalize_shape(shape) for shape in shapes)
    rank = max((len(shape) for shape in shapes), default=0)
    result = []
    for axis in range(-rank, 0):
        size = 1
        owner: tuple[int, ...] | None = None  # the shape that set `size`, for error messages
        for shape in shapes:
            if -axis > len(shape) or shape[axis] == 1:
                continue  # a missing or size-1 axis fits any size
            if owner is None or shape[axis] == size:
                size, owner = shape[axis], shape
                continue
            raise ValueError(
                f"shapes {owner} and {shape} cannot be broadcast together: axis {axis} has "
                f"sizes {size} and {shape[axis]} (sizes must be equal, or one of them 1)"
            )
        result.append(size)
    return tuple(result)


def expand_and_repeat(x: ArrayLike, shape: Sequence[int]) -> np.ndarray:
    """Broadcast ``x`` to ``shape`` by spelling out the seed's two steps.

    1. Add leading axes of size 1 until ``x`` has as many axes as ``shape``.
    2. Repeat ``x`` along every axis where it has size 1 and ``shape`` does not.

    Returns a new array (never a view of ``x``). Raises ``ValueError`` naming both shapes
    when ``x`` cannot be broadcast to ``shape``.
    """
    x = np.array(x)  # a copy
    shape = _normalize_shape(shape)
    if x.ndim > len(shape):
        raise ValueError(
            f"cannot broadcast shape {x.shape} to {shape}: it has more axes than the target"
        )

    # Step 1: new axes of size 1 in front, e.g. (32, 10) -> (1, 1, 32, 10).
    missing = len(shape) - x.ndim
    x = x.reshape((1,) * missing + x.shape)

    # Step 2: repeat along the size-1 axes, e.g. (1, 1, 32, 10) -> (64, 3, 32, 10).
    for axis, (have, want) in enumerate(zip(x.shape, shape, strict=True)):
        if have == want:
            continue
        if have != 1:
            original = x.shape[missing:]
            raise ValueError(
                f"cannot broadcast shape {original} to {shape}: on target axis {axis} it has "
                f"size {have}, which is neither {want} nor 1"
            )
        x = np.repeat(x, want, axis=axis)
    return x


def _elementwise(op: Callable[[Any, Any], Any], x: ArrayLike, y: ArrayLike) -> Any:
    """Broadcast ``x`` and ``y`` to a common shape, then apply ``op`` index by index."""
    dtype = _result_dtype(x, y)
    x = np.asarray(x).astype(dtype)
    y = np.asarray(y).astype(dtype)
    shape = broadcast_shapes(x.shape, y.shape)
    x = expand_and_repeat(x, shape)
    y = expand_and_repeat(y, shape)
    result = np.empty(shape, dtype=dtype)
    for index in np.ndindex(shape):
        result[index] = op(x[index], y[index])
    return _numpy_style(result)


def add(x: ArrayLike, y: ArrayLike) -> Any:
    """Element-wise ``x + y`` with broadcasting, looping over every index (like ``np.add``)."""
    return _elementwise(operator.add, x, y)


def maximum(x: ArrayLike, y: ArrayLike) -> Any:
    """Element-wise ``max(x, y)`` with broadcasting, like ``np.maximum``.

    The seed's example: ``maximum(x, y)`` with ``x.shape == (64, 3, 32, 10)`` and
    ``y.shape == (32, 10)`` has shape ``(64, 3, 32, 10)``. NaN in either input gives NaN.
    """
    return _elementwise(_larger, x, y)


# ---------------------------------------------------------------------------------------------
# Dot products, built up from the vector dot product as in the seed


def _require_ranks(name: str, x: np.ndarray, y: np.ndarray, x_rank: int, y_rank: int) -> None:
    if x.ndim != x_rank or y.ndim != y_rank:
        raise ValueError(
            f"{name} needs tensors of rank {x_rank} and {y_rank}, got shapes {x.shape} and "
            f"{y.shape}"
        )


def vector_dot(x: ArrayLike, y: ArrayLike) -> Any:
    """Dot product of two vectors: ``sum(x[i] * y[i])``, a scalar.

    Both vectors need the same number of entries. The sum is kept in the result dtype
    (``np.result_type(x, y)``), so float32 vectors give a float32 scalar, like ``np.dot``.
    """
    x, y = np.asarray(x), np.asarray(y)
    _require_ranks("vector_dot", x, y, 1, 1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"vector_dot needs vectors of equal length, got shapes {x.shape} and {y.shape}"
        )
    dtype = _result_dtype(x, y)
    x, y = x.astype(dtype), y.astype(dtype)
    total = dtype.type(0)
    for i in range(x.shape[0]):
        total += x[i] * y[i]
    return total


def matrix_vector_dot(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Matrix times vector: entry ``i`` is the dot product of row ``i`` of ``x`` with ``y``.

    ``x`` has shape ``(n, m)`` and ``y`` shape ``(m,)``; the result has shape ``(n,)``.
    """
    x, y = np.asarray(x), np.asarray(y)
    _require_ranks("matrix_vector_dot", x, y, 2, 1)
    if x.shape[1] != y.shape[0]:
        raise ValueError(
            f"matrix_vector_dot needs x.shape[1] == y.shape[0], got shapes {x.shape} and {y.shape}"
        )
    result = np.zeros(x.shape[0], dtype=_result_dtype(x, y))
    for i in range(x.shape[0]):
        result[i] = vector_dot(x[i, :], y)
    return result


def matrix_dot(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Matrix product: entry ``(i, j)`` is row ``i`` of ``x`` dotted with column ``j`` of ``y``.

    ``x`` has shape ``(n, m)`` and ``y`` shape ``(m, k)``; the result has shape ``(n, k)``.
    The number of columns of ``x`` must equal the number of rows of ``y``.
    """
    x, y = np.asarray(x), np.asarray(y)
    _require_ranks("matrix_dot", x, y, 2, 2)
    if x.shape[1] != y.shape[0]:
        raise ValueError(
            f"matrix_dot needs x.shape[1] == y.shape[0], got shapes {x.shape} and {y.shape}"
        )
    result = np.zeros((x.shape[0], y.shape[1]), dtype=_result_dtype(x, y))
    for i in range(x.shape[0]):
        for j in range(y.shape[1]):
            row_x = x[i, :]
            column_y = y[:, j]
            result[i, j] = vector_dot(row_x, column_y)
    return result


__all__ = [
    "add",
    "broadcast_shapes",
    "expand_and_repeat",
    "matrix_dot",
    "matrix_vector_dot",
    "maximum",
    "relu",
    "vector_dot",
]
