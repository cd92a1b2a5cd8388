"""Tensor operations with ``keras.ops`` names, each with its vector-Jacobian product beside it.

Every op here does two things: compute its result with NumPy (vectorised; ``numkeras.naive``
has the same ideas as readable loops), and say how a gradient flows back through it: the
``vjp(g, wanted)`` closure receives the gradient ``g`` of the op's output and returns the
gradient of each input whose ``wanted`` flag is set. ``record`` (in ``autodiff``) lets an open
``GradientTape`` remember the pair. Broadcast operands need no care here: the tape sums
gradients back to each operand's shape in one place (``autodiff.unbroadcast``).

A few ops that run on every training step (softmax, crossentropy, Dense's bias + relu, relu's
VJP, Dense's bias gradient) first try a compiled twin of their NumPy code (``_kernel``, from
``numkeras/_fused.c``): the same arithmetic in one call instead of up to a dozen small NumPy
calls. The NumPy code below each is the reference and runs whenever the twin is missing or
declines an input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras import _compiled
from numkeras.autodiff import (
    Tensor,
    Variable,
    _floatx_asarray,
    _shape_of,
    record,
    unbroadcast,
    value_of,
)

Axis = int | Sequence[int] | None


def _kernel(name: str, a: Any, axis: int = -1) -> Any:
    """The compiled twin of op ``name`` for the float32/float64 array ``a`` working on rows
    along its last axis, or None (no compiled module, another type, another axis).

    The twin returns False, touching nothing, for arrays it cannot take (not C-contiguous,
    mixed types, wrong lengths, overlapping); the caller then runs its NumPy code.
    """
    if type(a) is not np.ndarray or a.ndim == 0 or axis not in (-1, a.ndim - 1):
        return None
    return _compiled.function(name, a.dtype)


# --- conversion ------------------------------------------------------------------------------
def convert_to_tensor(x: Any, dtype: Any = None) -> Tensor:
    """``x`` as a Tensor (Python float lists become float32, as Keras's floatx)."""
    if isinstance(x, Tensor) and (dtype is None or x.dtype == np.dtype(dtype)):
        return x
    return Tensor(_floatx_asarray(value_of(x), dtype))


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array."""
    return np.asarray(value_of(x))


def _check_broadcast(name: str, a: Any, b: Any) -> None:
    sa, sb = np.shape(a), np.shape(b)
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(
            f"{name}: shapes {sa} and {sb} cannot be broadcast together "
            f"(trailing axes must be equal or 1)"
        ) from None


def _snapshot(out: Any, x: Any) -> Any:
    """A copy of ``out`` if it is a view of a Variable, which ``assign`` changes in place.

    Ops such as ``reshape`` or slicing return NumPy views; a Tensor is immutable, so it must
    not see a later ``assign`` to the Variable it was read from.
    """
    if isinstance(x, Variable) and np.may_share_memory(out, x.value):
        return out.copy()
    return out


def _binary(name: str, fn: Any, x: Any, y: Any) -> np.ndarray:
    a, b = value_of(x), value_of(y)
    try:
        return fn(a, b)
    except ValueError:
        _check_broadcast(name, a, b)
        raise


# --- element-wise arithmetic -----------------------------------------------------------------
def add(x: Any, y: Any) -> Tensor:
    def vjp(g, wanted):
        return g, g

    return record(_binary("add", np.add, x, y), (x, y), vjp)


def subtract(x: Any, y: Any) -> Tensor:
    def vjp(g, wanted):
        return g, (-g if wanted[1] else None)

    return record(_binary("subtract", np.subtract, x, y), (x, y), vjp)


def multiply(x: Any, y: Any) -> Tensor:
    a, b = value_of(x), value_of(y)

    def vjp(g, wanted):
        return (g * b if wanted[0] else None), (g * a if wanted[1] else None)

    return record(_binary("multiply", np.multiply, a, b), (x, y), vjp)


def divide(x: Any, y: Any) -> Tensor:
    a, b = value_of(x), value_of(y)

    def vjp(g, wanted):
        gx = g / b
        return gx, (-gx * a / b if wanted[1] else None)

    return record(_binary("divide", np.true_divide, a, b), (x, y), vjp)


true_divide = divide


def power(x: Any, y: Any) -> Tensor:
    a, b = value_of(x), value_of(y)
    out = _binary("power", np.power, a, b)

    def vjp(g, wanted):
        gx = g * b * np.power(a, b - 1) if wanted[0] else None
        gy = g * out * np.log(np.where(a > 0, a, 1).astype(out.dtype)) if wanted[1] else None
        return gx, gy

    return record(out, (x, y), vjp)


def negative(x: Any) -> Tensor:
    return record(np.negative(value_of(x)), (x,), lambda g, wanted: (-g,))


def abs(x: Any) -> Tensor:  # noqa: A001 -- keras.ops name
    a = value_of(x)
    return record(np.abs(a), (x,), lambda g, wanted: (g * np.sign(a),))


absolute = abs


def sign(x: Any) -> Tensor:
    return record(np.sign(value_of(x)), (x,), lambda g, wanted: (None,))


def square(x: Any) -> Tensor:
    a = value_of(x)
    return record(np.square(a), (x,), lambda g, wanted: (2 * g * a,))


def sqrt(x: Any) -> Tensor:
    out = np.sqrt(value_of(x))
    return record(out, (x,), lambda g, wanted: (g / (2 * out),))


def exp(x: Any) -> Tensor:
    out = np.exp(value_of(x))
    return record(out, (x,), lambda g, wanted: (g * out,))


def log(x: Any) -> Tensor:
    a = value_of(x)
    return record(np.log(a), (x,), lambda g, wanted: (g / a,))


def maximum(x: Any, y: Any) -> Tensor:
    """Element-wise larger value; where they tie, the gradient is split equally (as TF)."""
    return _select_extreme("maximum", np.maximum, np.greater, x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Element-wise smaller value; where they tie, the gradient is split equally (as TF)."""
    return _select_extreme("minimum", np.minimum, np.less, x, y)


def _select_extreme(name: str, pick: Any, wins: Any, x: Any, y: Any) -> Tensor:
    a, b = value_of(x), value_of(y)
    out = _binary(name, pick, a, b)

    def vjp(g, wanted):
        share = np.where(wins(a, b), 1.0, np.where(a == b, 0.5, 0.0)).astype(g.dtype)
        return (g * share if wanted[0] else None), (g * (1 - share) if wanted[1] else None)

    return record(out, (x, y), vjp)


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """Limit values to [x_min, x_max]; the gradient is zero where a value was clipped."""
    a = value_of(x)
    out = np.clip(a, x_min, x_max)

    def vjp(g, wanted):
        return (g * ((a >= x_min) & (a <= x_max)),)

    return record(out, (x,), vjp)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    c = np.asarray(value_of(condition), dtype=bool)
    out = np.where(c, value_of(x), value_of(y))

    def vjp(g, wanted):
        return None, (np.where(c, g, 0) if wanted[1] else None), (
            np.where(c, 0, g) if wanted[2] else None
        )

    return record(out, (condition, x, y), vjp)


def cast(x: Any, dtype: Any) -> Tensor:
    a = np.asarray(value_of(x))
    out = _snapshot(a.astype(dtype, copy=False), x)
    differentiable = np.issubdtype(out.dtype, np.floating) and np.issubdtype(a.dtype, np.floating)
    return record(out, (x,), lambda g, wanted: (g.astype(a.dtype) if differentiable else None,))


def stop_gradient(x: Any) -> Tensor:
    """The same value, but no gradient flows back through it."""
    return Tensor(_snapshot(np.asarray(value_of(x)), x))


# --- activations ---------------------------------------------------------------------------
def relu(x: Any) -> Tensor:
    """max(x, 0) element-wise: the seed's ``naive_relu``, vectorised."""
    out = np.maximum(value_of(x), 0)
    return record(out, (x,), lambda g, wanted: (_relu_vjp(g, out),))


def _relu_vjp(g: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The gradient through relu, given its output: ``g`` where the output is positive.
    ``g * mask``, not ``np.where(mask, g, 0)``: the same values, ten times faster in NumPy."""
    twin = _kernel("relu_vjp", out)
    if twin is not None and type(g) is np.ndarray and g.shape == out.shape:
        result = np.empty(out.shape, out.dtype)
        if twin(g, out, result, out.shape[-1]):
            return result
    return g * (out > 0)


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    out = _sigmoid(value_of(x))
    return record(out, (x,), lambda g, wanted: (g * out * (1 - out),))


def _sigmoid(a: Any) -> np.ndarray:
    z = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + z), z / (1 + z))


def tanh(x: Any) -> Tensor:
    out = np.tanh(value_of(x))
    return record(out, (x,), lambda g, wanted: (g * (1 - out * out),))


def softplus(x: Any) -> Tensor:
    """log(1 + exp(x)), stable for large |x|."""
    a = value_of(x)
    out = np.logaddexp(a, 0).astype(np.result_type(a, np.float32))
    return record(out, (x,), lambda g, wanted: (g * _sigmoid(a),))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``; the max is subtracted first, so it never overflows."""
    a = value_of(x)
    twin = _kernel("softmax", a, axis)
    out = np.empty_like(a) if twin is not None else None
    if out is None or not twin(a, out, a.shape[-1]):
        e = np.exp(a - np.maximum.reduce(a, axis=axis, keepdims=True))
        out = e / np.add.reduce(e, axis=axis, keepdims=True)

    def vjp(g, wanted):
        twin = _kernel("softmax_vjp", out, axis)
        if twin is not None:
            d = np.empty_like(out)
            if twin(g, out, d, out.shape[-1]):
                return (d,)
        return (out * (g - np.add.reduce(g * out, axis=axis, keepdims=True)),)

    return record(out, (x,), vjp)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - log(sum(exp(x))) along ``axis``, stable for large inputs (log-sum-exp trick)."""
    a = value_of(x)
    shifted = a - a.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def vjp(g, wanted):
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)

    return record(out, (x,), vjp)


def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Per-sample ``-sum(target * log(probabilities))`` along ``axis``, as one op.

    ``from_logits=False`` (Keras's default): ``output`` is rescaled to sum to 1 and clipped to
    ``[1e-7, 1 - 1e-7]`` before the log, exactly as Keras does, so a zero probability costs
    ``-log(1e-7)`` instead of infinity; the gradient is zero where the clip is active.
    ``from_logits=True``: a stable log-softmax of ``output``. One fused op instead of five
    small ones, because it runs on every training step.
    """
    t, o = value_of(target), value_of(output)
    o_shape = _shape_of(o)
    last_axis = axis in (-1, len(o_shape) - 1)
    # The compiled twin of the probability path (not of from_logits), same shapes only.
    twin = None if from_logits or _shape_of(t) != o_shape else _kernel("crossentropy", o, axis)
    out = np.empty(o.shape[:-1], o.dtype) if twin is not None else None
    compiled = out is not None and twin(t, o, out, EPSILON, o.shape[-1])
    terms = None if compiled else _crossentropy_terms(o, from_logits, axis)
    if not compiled:
        out = -np.add.reduce(t * terms[-1], axis=axis)

    def vjp(g, wanted):
        nonlocal terms
        d_output = None
        if wanted[1] and compiled:
            d_output = np.empty_like(o)
            twin = _kernel("crossentropy_vjp", o, axis)  # None if switched off since
            if twin is None or not twin(t, o, g, d_output, EPSILON, o.shape[-1]):
                d_output = None
            elif not wanted[0]:
                return None, d_output
        if terms is None:
            terms = _crossentropy_terms(o, from_logits, axis)
        total, prob, clipped, log_prob = terms
        g = g[..., np.newaxis] if last_axis else np.expand_dims(g, axis)
        d_target = -log_prob * g if wanted[0] else None
        if not wanted[1] or d_output is not None:
            return d_target, d_output
        tg = t * g
        if from_logits:
            d_output = np.exp(log_prob) * np.add.reduce(tg, axis=axis, keepdims=True) - tg
        else:
            inside = clipped == prob  # where the clip changed nothing, the gradient flows
            h = -tg * inside / clipped
            d_output = (h - np.add.reduce(h * prob, axis=axis, keepdims=True)) / total
        return d_target, d_output

    return record(out, (target, output), vjp)


def _crossentropy_terms(o: np.ndarray, from_logits: bool, axis: int) -> tuple:
    """(total, prob, clipped, log_prob) of crossentropy's NumPy path; only log_prob (the log
    softmax) with ``from_logits``.

    np.add.reduce / np.maximum.reduce rather than .sum() / .max(): the same numbers without
    NumPy's Python-level wrappers, which cost more than the arithmetic on a small batch.
    """
    if from_logits:
        log_prob = o - np.maximum.reduce(o, axis=axis, keepdims=True)
        log_prob = log_prob - np.log(np.add.reduce(np.exp(log_prob), axis=axis, keepdims=True))
        return None, None, None, log_prob
    total = np.add.reduce(o, axis=axis, keepdims=True)
    prob = o / total
    clipped = np.minimum(np.maximum(prob, EPSILON), 1 - EPSILON)
    return total, prob, clipped, np.log(clipped)


EPSILON = 1e-7  # Keras's backend epsilon, the probability clip of crossentropy


# --- products --------------------------------------------------------------------------------
def _check_matmul(name: str, a: Any, b: Any) -> None:
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim >= 1 and b.ndim >= 2
            and a.shape[-1] == b.shape[-2]):
        return  # the common case, checked cheaply
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        raise ValueError(f"{name}: operands must have rank >= 1, got shapes {np.shape(a)} and "
                         f"{np.shape(b)}")
    if np.shape(a)[-1] != np.shape(b)[-2 if b_nd > 1 else 0]:
        raise ValueError(
            f"{name}: shapes {np.shape(a)} and {np.shape(b)} are incompatible: the last axis "
            f"of the first ({np.shape(a)[-1]}) must equal the "
            f"{'second-to-last' if b_nd > 1 else 'only'} axis of the second"
        )


def _matmul_vjp(a: np.ndarray, b: np.ndarray, g: np.ndarray, want_a: bool,
                want_b: bool) -> tuple[Any, Any]:
    """Gradients of ``np.matmul(a, b)`` for the output gradient ``g``: ``g @ b.T`` and
    ``a.T @ g``, with 1-D operands treated as a row (``a``) or column (``b``)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == b.ndim == 2:
        return (np.matmul(g, b.T) if want_a else None), (np.matmul(a.T, g) if want_b else None)
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    a2 = a[None, :] if a_nd == 1 else a
    b2 = b[:, None] if b_nd == 1 else b
    g2 = g
    if b_nd == 1:
        g2 = np.expand_dims(g2, -1)
    if a_nd == 1:
        g2 = np.expand_dims(g2, -2)
    ga = gb = None
    if want_a:
        ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
        ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if a_nd == 1 else ga
    if want_b:
        gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
        gb = gb.reshape(gb.shape[:-1]) if b_nd == 1 else gb
    return ga, gb


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product (batched over leading axes, as ``np.matmul``)."""
    a, b = value_of(x), value_of(y)
    _check_matmul("matmul", a, b)

    def vjp(g, wanted):
        return _matmul_vjp(a, b, g, wanted[0], wanted[1])

    return record(np.matmul(a, b), (x, y), vjp)


def affine(x: Any, kernel: Any, bias: Any = None, relu: bool = False) -> Tensor:
    """``matmul(x, kernel) + bias``: the seed's affine map, as one op (Dense's forward).

    Not a ``keras.ops`` name. It computes the same numbers as ``add(matmul(x, kernel), bias)``
    (then ``relu`` of that, with ``relu=True``) but works in place on the fresh product: one
    pass over memory and one record on the tape fewer per step for each bias and each relu.
    The bias's gradient is the output gradient summed over the batch axes, done by the tape's
    un-broadcasting (or, for a 2-D batch, by a compiled twin: ``_bias_vjp``, in relu's pass
    with ``relu=True``); relu's lets the gradient through where the output is positive.
    """
    a, w = value_of(x), value_of(kernel)
    _check_matmul("affine", a, w)
    out = np.matmul(a, w)
    product_shape = None  # set when the bias needs another shape or dtype than the product
    inputs: tuple = (x, kernel)
    relu_done = row_bias = False  # row_bias: one bias value per output column
    if bias is not None:
        b = value_of(bias)
        row_bias = _shape_of(b) == out.shape[-1:]
        if (row_bias and type(b) is np.ndarray and type(out) is np.ndarray
                and b.dtype == out.dtype):
            twin = _kernel("bias_relu", out)  # both in one pass over the product
            if twin is not None and twin(out, b, 1.0 if relu else 0.0, out.shape[-1]):
                relu_done = relu
            else:
                np.add(out, b, out=out)
        else:  # the sum needs another shape or dtype than the product's
            product_shape = _shape_of(out)  # a bias of more dimensions broadcasts it wider
            out = _binary("affine", np.add, out, b)
        inputs = (x, kernel, bias)
    if relu and not relu_done:
        out = np.maximum(out, 0, out=out) if type(out) is np.ndarray else np.maximum(out, 0)

    def vjp(g, wanted):
        summed = _bias_vjp(g, out, relu) if row_bias and wanted[2] else None
        if summed is not None:  # relu's VJP and the bias's gradient, in one compiled pass
            g, bias_grad = summed
            return _matmul_vjp(a, w, g, wanted[0], wanted[1]) + (bias_grad,)
        if relu:
            g = _relu_vjp(g, out)
        g_product = g if product_shape is None else unbroadcast(g, product_shape)
        return (_matmul_vjp(a, w, g_product, wanted[0], wanted[1])
                + ((g,) if len(wanted) == 3 else ()))

    return record(out, inputs, vjp)


def _bias_vjp(g: Any, out: np.ndarray, relu: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """The compiled twin of ``affine``'s backward for a 2-D batch and a bias of one value per
    output column: ``(g through relu, the bias's gradient)``, or None when it declines.

    The bias's gradient is that ``g`` summed over the rows -- the sum the tape's ``unbroadcast``
    does on the NumPy path, in NumPy's order (bit for bit) -- in one call, and with
    ``relu=True`` in the same pass that applies relu's mask, not in a second one.
    """
    if type(g) is not np.ndarray or g.ndim != 2 or g.shape != out.shape:
        return None
    twin = _kernel("relu_bias_vjp" if relu else "bias_vjp", out)
    if twin is None:
        return None
    k = out.shape[-1]
    bias_grad = np.empty(k, out.dtype)
    if not relu:
        return (g, bias_grad) if twin(g, bias_grad, k) else None
    through = np.empty(out.shape, out.dtype)
    return (through, bias_grad) if twin(g, out, through, bias_grad, k) else None


def tensordot(x: Any, y: Any, axes: Any = 2) -> Tensor:
    """Sum of products over the given axes of ``x`` and ``y`` (as ``np.tensordot``)."""
    a, b = np.asarray(value_of(x)), np.asarray(value_of(y))
    if isinstance(axes, int):
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = [list(np.atleast_1d(ax)) for ax in axes]
    ax_a = [int(i) % a.ndim for i in ax_a]
    ax_b = [int(i) % b.ndim for i in ax_b]
    if [a.shape[i] for i in ax_a] != [b.shape[i] for i in ax_b]:
        raise ValueError(
            f"tensordot: shapes {a.shape} and {b.shape} do not match along axes {ax_a} and {ax_b}"
        )
    out = np.tensordot(a, b, axes=(ax_a, ax_b))
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]

    def vjp(g, wanted):
        ga = gb = None
        g_a_axes = list(range(len(free_a)))
        g_b_axes = list(range(len(free_a), g.ndim))
        if wanted[0]:  # t's axes: free_a..., then b's contracted axes in increasing order
            t = np.tensordot(g, b, axes=(g_b_axes, free_b))
            ga = np.transpose(t, np.argsort(free_a + [ax_a[i] for i in np.argsort(ax_b)]))
        if wanted[1]:  # t's axes: a's contracted axes in increasing order, then free_b...
            t = np.tensordot(a, g, axes=(free_a, g_a_axes))
            gb = np.transpose(t, np.argsort([ax_b[i] for i in np.argsort(ax_a)] + free_b))
        return ga, gb

    return record(out, (x, y), vjp)


def dot(x: Any, y: Any) -> Tensor:
    """The seed's dot product, with ``np.dot``'s rules: scalars multiply, vectors and matrices
    contract the last axis of ``x`` with the second-to-last of ``y``."""
    a_nd, b_nd = np.ndim(value_of(x)), np.ndim(value_of(y))
    if a_nd == 0 or b_nd == 0:
        return multiply(x, y)
    if b_nd <= 2:
        return matmul(x, y)
    return tensordot(x, y, axes=([-1], [-2]))


# --- reductions -------------------------------------------------------------------------------
def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes) if ndim else ()


def _keep(g: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Give a reduced gradient its reduced axes back (size 1) so it broadcasts to the input."""
    return g if keepdims else np.expand_dims(g, axes)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    a = np.asarray(value_of(x))
    axes = _axes(axis, a.ndim)

    def vjp(g, wanted):
        return (np.broadcast_to(_keep(g, axes, keepdims), a.shape),)

    return record(np.sum(a, axis=axes, keepdims=keepdims), (x,), vjp)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    a = np.asarray(value_of(x))
    axes = _axes(axis, a.ndim)
    count = a.size if axis is None else math.prod(a.shape[i] for i in axes)
    if a.dtype.kind == "f" and a.dtype.itemsize >= 4 and count:
        # np.mean's own arithmetic (a sum in the array's type, divided by the count as
        # np.intp), without its Python wrapper: this runs on every training step. (A keyword
        # argument costs ufunc.reduce more than summing the seed's 128 losses: none unless needed.)
        total = np.add.reduce(a, axes, None, None, True) if keepdims else np.add.reduce(a, axes)
        if type(total) is not np.ndarray and a.dtype.itemsize <= 8:  # a loss: one number
            out = a.dtype.type(float(total) / count)  # the same float64 division, rounded
        else:
            out = np.true_divide(total, np.intp(count)).astype(a.dtype, copy=False)
    else:
        out = np.mean(a, axis=axes, keepdims=keepdims)
        if np.issubdtype(a.dtype, np.floating):
            out = out.astype(a.dtype, copy=False)

    def vjp(g, wanted):
        if g.ndim == 0:  # a mean of everything (a loss): every entry gets the same share
            share = np.empty(a.shape, g.dtype)
            share.fill(g / g.dtype.type(count))
            return (share,)
        return (np.broadcast_to(_keep(g, axes, keepdims) / g.dtype.type(count), a.shape),)

    return record(out, (x,), vjp)


def _extreme(reduce: Any, x: Any, axis: Axis, keepdims: bool) -> Tensor:
    a = np.asarray(value_of(x))
    axes = _axes(axis, a.ndim)
    out = reduce(a, axis=axes, keepdims=keepdims)

    def vjp(g, wanted):
        hit = a == _keep(out, axes, keepdims)
        share = hit / hit.sum(axis=axes, keepdims=True)
        return (_keep(g, axes, keepdims) * share.astype(g.dtype),)

    return record(out, (x,), vjp)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest value along ``axis``; ties share the gradient equally (as TF)."""
    return _extreme(np.max, x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest value along ``axis``; ties share the gradient equally (as TF)."""
    return _extreme(np.min, x, axis, keepdims)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return Tensor(np.argmax(value_of(x), axis=axis, keepdims=keepdims))


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return Tensor(np.argmin(value_of(x), axis=axis, keepdims=keepdims))


# --- shapes -----------------------------------------------------------------------------------
def reshape(x: Any, newshape: Sequence[int] | int) -> Tensor:
    a = np.asarray(value_of(x))
    try:
        out = np.reshape(a, newshape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} values) "
            f"into shape {tuple(int(n) for n in np.atleast_1d(newshape))}"
        ) from None
    return record(_snapshot(out, x), (x,), lambda g, wanted: (np.reshape(g, a.shape),))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    a = np.asarray(value_of(x))
    inverse = None if axes is None else np.argsort([i % a.ndim for i in axes])
    out = _snapshot(np.transpose(a, axes), x)
    return record(out, (x,), lambda g, wanted: (np.transpose(g, inverse),))


def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    a = np.asarray(value_of(x))
    out = _snapshot(np.expand_dims(a, axis), x)
    return record(out, (x,), lambda g, wanted: (np.reshape(g, a.shape),))


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    a = np.asarray(value_of(x))
    try:
        out = np.squeeze(a, axis)
    except ValueError:
        raise ValueError(f"squeeze: axis {axis} of shape {a.shape} does not have size 1") from None
    return record(_snapshot(out, x), (x,), lambda g, wanted: (np.reshape(g, a.shape),))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    a = value_of(x)
    try:
        out = np.broadcast_to(a, tuple(shape))
    except ValueError:
        raise ValueError(
            f"broadcast_to: cannot broadcast shape {np.shape(a)} to {tuple(shape)}"
        ) from None
    return record(_snapshot(out, x), (x,), lambda g, wanted: (g,))


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    arrays = [np.asarray(value_of(x)) for x in xs]
    try:
        out = np.concatenate(arrays, axis=axis)
    except ValueError:
        shapes = [a.shape for a in arrays]
        raise ValueError(
            f"concatenate: shapes {shapes} must match on every axis except axis {axis}"
        ) from None
    cuts = np.cumsum([a.shape[axis] for a in arrays])[:-1]

    def vjp(g, wanted):
        return np.split(g, cuts, axis=axis)

    return record(out, tuple(xs), vjp)


def stack(xs: Sequence[Any], axis: int = 0) -> Tensor:
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Gather entries of ``x`` at ``indices`` along ``axis`` (flattened when ``axis`` is None)."""
    a = np.asarray(value_of(x))
    idx = np.asarray(value_of(indices))
    out = np.take(a, idx, axis=axis)

    def vjp(g, wanted):
        grad = np.zeros(a.size if axis is None else a.shape, dtype=g.dtype)
        if axis is None:
            np.add.at(grad, idx, g)
            return grad.reshape(a.shape), None
        ax = axis % a.ndim
        moved = np.moveaxis(grad, ax, 0)
        g_moved = np.moveaxis(g, list(range(ax, ax + idx.ndim)), list(range(idx.ndim)))
        np.add.at(moved, idx, g_moved)
        return grad, None

    return record(out, (x, indices), vjp)


def take_along_axis(x: Any, indices: Any, axis: int) -> Tensor:
    a = np.asarray(value_of(x))
    idx = np.asarray(value_of(indices))
    out = np.take_along_axis(a, idx, axis=axis)

    def vjp(g, wanted):
        # ``indices`` may broadcast against ``x`` on the other axes: scatter into the output's
        # shape there; the tape then sums any stretched axis back to ``x``'s shape.
        ax = axis % a.ndim
        grad = np.zeros(out.shape[:ax] + a.shape[ax : ax + 1] + out.shape[ax + 1 :], g.dtype)
        where_ = list(np.indices(out.shape, sparse=True))
        where_[ax] = idx
        np.add.at(grad, tuple(where_), g)
        return grad, None

    return record(out, (x, indices), vjp)


def getitem(x: Any, key: Any) -> Tensor:
    """``x[key]`` (basic and advanced indexing); the gradient scatters back, adding repeats."""
    a = np.asarray(value_of(x))
    if isinstance(key, Tensor):
        key = key.value
    out = _snapshot(a[key], x)

    def vjp(g, wanted):
        grad = np.zeros_like(a, dtype=g.dtype)
        np.add.at(grad, key, g)
        return (grad,)

    return record(out, (x,), vjp)


# --- comparisons (no gradient) ------------------------------------------------------------------
def _compare(name: str, fn: Any, x: Any, y: Any) -> Tensor:
    return Tensor(np.asarray(_binary(name, fn, x, y)))


def equal(x: Any, y: Any) -> Tensor:
    return _compare("equal", np.equal, x, y)


def not_equal(x: Any, y: Any) -> Tensor:
    return _compare("not_equal", np.not_equal, x, y)


def greater(x: Any, y: Any) -> Tensor:
    return _compare("greater", np.greater, x, y)


def greater_equal(x: Any, y: Any) -> Tensor:
    return _compare("greater_equal", np.greater_equal, x, y)


def less(x: Any, y: Any) -> Tensor:
    return _compare("less", np.less, x, y)


def less_equal(x: Any, y: Any) -> Tensor:
    return _compare("less_equal", np.less_equal, x, y)


# --- creation (no gradient) -----------------------------------------------------------------------
def zeros(shape: Sequence[int] | int, dtype: Any = "float32") -> Tensor:
    return Tensor(np.zeros(shape, dtype=dtype))


def ones(shape: Sequence[int] | int, dtype: Any = "float32") -> Tensor:
    return Tensor(np.ones(shape, dtype=dtype))


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    return Tensor(np.zeros_like(value_of(x), dtype=dtype))


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    return Tensor(np.ones_like(value_of(x), dtype=dtype))


def shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(value_of(x)))
