"""Every differentiable op in numkeras.ops, checked against independent references.

Each case in ``CASES`` names an op, the shapes of its differentiable inputs (including
broadcast ones) and the domain they are drawn from. For each case:

* the forward value must equal PyTorch's;
* the gradient of ``sum(out * w)`` for a random ``w`` (passed as ``output_gradients``) must
  equal central finite differences in float64, and PyTorch's autograd;
* with float32 inputs, the output, the gradient and every gradient flowing out of the op
  stay float32.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from numkeras import ops
from numkeras.autodiff import GradientTape, Tensor, record, value_of

torch = pytest.importorskip("torch")

# Fixed non-differentiable arguments (conditions, indices), drawn once.
_rng = np.random.default_rng(0)
COND = _rng.random((4, 1, 3)) > 0.5
FLAT_IDX = np.array([[0, 5, 5], [11, 0, -1]])  # repeated and negative indices
ROW_IDX = np.array([2, 0, 2, 2])
IDX_2D = np.array([[3, 0], [3, 3]])
ALONG_IDX = np.array([[0, 3, 3, 1, 0], [2, 2, 2, 2, 2], [1, 0, 3, 3, 0]])
ALONG_IDX_BCAST = np.array([[3, 0, 3]])  # size 1 on axis 0: broadcasts against x


def tt(a: np.ndarray) -> Any:
    return torch.as_tensor(np.asarray(a))


@dataclass(frozen=True)
class Case:
    """``fn(*tensors)`` with numkeras, ``ref(*torch_tensors)`` with PyTorch."""

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]
    domains: tuple[str, ...] = ()  # one per input; "real" when left out

    def domain(self, i: int) -> str:
        return self.domains[i] if i < len(self.domains) else "real"


def C(name, fn, ref, *shapes, domains=()):  # noqa: N802 -- a table row
    return pytest.param(Case(name, fn, ref, shapes, domains), id=name)


def _take_axis(x, idx, axis):
    axis %= x.dim()
    flat = torch.index_select(x, axis, tt(idx).reshape(-1) % x.shape[axis])
    return flat.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1 :])


CASES = [
    # element-wise arithmetic, with broadcast operands
    C("add", ops.add, torch.add, (2, 3), (2, 3)),
    C("add_bcast", ops.add, torch.add, (4, 1, 3), (2, 3)),
    C("add_scalar_shape", ops.add, torch.add, (), (2, 3)),
    C("subtract_bcast", ops.subtract, torch.sub, (3, 1), (1, 4)),
    C("multiply_bcast", ops.multiply, torch.mul, (4, 1, 3), (2, 3)),
    C("divide_bcast", ops.divide, torch.div, (2, 3), (3,), domains=("real", "nonzero")),
    C("divide_bcast_rev", ops.divide, torch.div, (3,), (2, 3), domains=("real", "nonzero")),
    C("power", ops.power, torch.pow, (2, 3), (2, 3), domains=("pos", "real")),
    C("power_bcast", ops.power, torch.pow, (4, 1, 3), (2, 1), domains=("pos", "real")),
    C("power_int_exponent", lambda x: ops.power(x, 3), lambda x: x**3, (2, 3)),
    C("power_operator", lambda x, y: x**y, lambda x, y: x**y, (3,), (2, 3),
      domains=("pos", "real")),
    C("negative", ops.negative, torch.neg, (2, 3)),
    C("abs", ops.abs, torch.abs, (2, 3), domains=("nonzero",)),
    C("square", ops.square, torch.square, (2, 3)),
    C("sqrt", ops.sqrt, torch.sqrt, (2, 3), domains=("pos",)),
    C("exp", ops.exp, torch.exp, (2, 3)),
    C("log", ops.log, torch.log, (2, 3), domains=("pos",)),
    C("maximum_bcast", ops.maximum, torch.maximum, (4, 1, 3), (2, 3)),
    C("minimum_bcast", ops.minimum, torch.minimum, (3, 1), (1, 4)),
    C("clip", lambda x: ops.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5), (4, 5),
      domains=("clip",)),
    C("where_bcast", lambda x, y: ops.where(COND, x, y),
      lambda x, y: torch.where(tt(COND), x, y), (2, 3), (4, 1, 1)),
    C("cast", lambda x: ops.cast(x, "float64"), lambda x: x.to(torch.float64), (2, 3)),
    # activations
    C("relu", ops.relu, torch.relu, (3, 4), domains=("nonzero",)),
    C("sigmoid", ops.sigmoid, torch.sigmoid, (3, 4)),
    C("tanh", ops.tanh, torch.tanh, (3, 4)),
    C("softplus", ops.softplus, torch.nn.functional.softplus, (3, 4)),
    C("softmax", ops.softmax, lambda x: torch.softmax(x, -1), (3, 4)),
    C("softmax_axis0", lambda x: ops.softmax(x, axis=0), lambda x: torch.softmax(x, 0), (3, 4)),
    C("softmax_3d_axis1", lambda x: ops.softmax(x, axis=1), lambda x: torch.softmax(x, 1),
      (2, 3, 4)),
    C("log_softmax", ops.log_softmax, lambda x: torch.log_softmax(x, -1), (3, 4)),
    C("log_softmax_axis0", lambda x: ops.log_softmax(x, axis=0),
      lambda x: torch.log_softmax(x, 0), (3, 4)),
    # products
    C("matmul_1d_1d", ops.matmul, torch.matmul, (3,), (3,)),
    C("matmul_1d_2d", ops.matmul, torch.matmul, (3,), (3, 4)),
    C("matmul_2d_1d", ops.matmul, torch.matmul, (2, 3), (3,)),
    C("matmul_2d", ops.matmul, torch.matmul, (2, 3), (3, 4)),
    C("matmul_batched", ops.matmul, torch.matmul, (2, 3, 4), (2, 4, 5)),
    C("matmul_bcast_batch", ops.matmul, torch.matmul, (2, 1, 3, 4), (3, 4, 2)),
    C("matmul_3d_2d", ops.matmul, torch.matmul, (2, 3, 4), (4, 5)),
    C("matmul_1d_3d", ops.matmul, torch.matmul, (3,), (2, 3, 4)),
    C("matmul_3d_1d", ops.matmul, torch.matmul, (2, 3, 4), (4,)),
    C("affine", ops.affine, lambda x, w, b: x @ w + b, (2, 3), (3, 4), (4,)),
    C("affine_3d", ops.affine, lambda x, w, b: x @ w + b, (2, 5, 3), (3, 4), (4,)),
    C("affine_no_bias", ops.affine, lambda x, w: x @ w, (2, 3), (3, 4)),
    C("affine_relu", lambda x, w, b: ops.affine(x, w, b, relu=True),
      lambda x, w, b: torch.relu(x @ w + b), (5, 3), (3, 4), (4,)),
    C("affine_relu_no_bias", lambda x, w: ops.affine(x, w, relu=True),
      lambda x, w: torch.relu(x @ w), (5, 3), (3, 4)),
    C("affine_bias_per_row", ops.affine, lambda x, w, b: x @ w + b, (2, 3), (3, 4), (2, 4)),
    C("affine_bias_widens", ops.affine, lambda x, w, b: x @ w + b, (3,), (3, 4), (2, 4)),
    C("affine_bias_widens_columns", ops.affine, lambda x, w, b: x @ w + b, (3, 2), (2, 1), (4,)),
    C("affine_relu_bias_widens_rows", lambda x, w, b: ops.affine(x, w, b, relu=True),
      lambda x, w, b: torch.relu(x @ w + b), (1, 3), (3, 4), (5, 4)),
    C("matmul_operator", lambda x, y: x @ y, lambda x, y: x @ y, (2, 3), (3, 4)),
    C("tensordot_2", ops.tensordot, lambda x, y: torch.tensordot(x, y, 2), (2, 3, 4), (3, 4, 5)),
    C("tensordot_1", lambda x, y: ops.tensordot(x, y, axes=1),
      lambda x, y: torch.tensordot(x, y, 1), (2, 3), (3, 4)),
    C("tensordot_unsorted_axes", lambda x, y: ops.tensordot(x, y, axes=([0, 1], [1, 0])),
      lambda x, y: torch.tensordot(x, y, ([0, 1], [1, 0])), (2, 3, 4), (3, 2, 5)),
    C("tensordot_unsorted_axes_2", lambda x, y: ops.tensordot(x, y, axes=([2, 0], [0, 2])),
      lambda x, y: torch.tensordot(x, y, ([2, 0], [0, 2])), (2, 3, 4), (4, 5, 2)),
    C("dot_vectors", ops.dot, torch.dot, (4,), (4,)),
    C("dot_matrices", ops.dot, torch.mm, (2, 3), (3, 4)),
    C("dot_scalar", ops.dot, torch.mul, (), (2, 3)),
    C("dot_3d_1d", ops.dot, torch.matmul, (2, 3, 4), (4,)),
    C("dot_2d_3d", ops.dot, lambda x, y: torch.tensordot(x, y, ([1], [1])), (2, 3), (4, 3, 5)),
    # reductions
    C("sum_all", ops.sum, torch.sum, (2, 3, 4)),
    C("sum_axis", lambda x: ops.sum(x, axis=1), lambda x: x.sum(1), (2, 3, 4)),
    C("sum_axes_keepdims", lambda x: ops.sum(x, axis=(0, -1), keepdims=True),
      lambda x: x.sum((0, 2), keepdim=True), (2, 3, 4)),
    C("mean_all_keepdims", lambda x: ops.mean(x, keepdims=True),
      lambda x: x.mean((0, 1, 2), keepdim=True), (2, 3, 4)),
    C("mean_axis", lambda x: ops.mean(x, axis=-1), lambda x: x.mean(-1), (2, 3, 4)),
    C("mean_axes", lambda x: ops.mean(x, axis=(0, 2)), lambda x: x.mean((0, 2)), (2, 3, 4)),
    C("max_all", ops.max, torch.amax, (2, 3, 4)),
    C("max_axis", lambda x: ops.max(x, axis=1), lambda x: x.amax(1), (2, 3, 4)),
    C("max_axes_keepdims", lambda x: ops.max(x, axis=(0, 2), keepdims=True),
      lambda x: x.amax((0, 2), keepdim=True), (2, 3, 4)),
    C("min_all", ops.min, torch.amin, (2, 3, 4)),
    C("min_axis_keepdims", lambda x: ops.min(x, axis=-1, keepdims=True),
      lambda x: x.amin(-1, keepdim=True), (2, 3, 4)),
    C("min_axes", lambda x: ops.min(x, axis=(1, 2)), lambda x: x.amin((1, 2)), (2, 3, 4)),
    # shapes
    C("reshape", lambda x: ops.reshape(x, (6, -1)), lambda x: x.reshape(6, -1), (2, 3, 4)),
    C("transpose", ops.transpose, lambda x: x.permute(2, 1, 0), (2, 3, 4)),
    C("transpose_axes", lambda x: ops.transpose(x, (1, 2, 0)), lambda x: x.permute(1, 2, 0),
      (2, 3, 4)),
    C("transpose_negative_axes", lambda x: ops.transpose(x, (0, -1, 1)),
      lambda x: x.permute(0, 2, 1), (2, 3, 4)),
    C("transpose_property", lambda x: x.T, lambda x: x.T, (2, 3)),
    C("expand_dims", lambda x: ops.expand_dims(x, 1), lambda x: x.unsqueeze(1), (2, 3)),
    C("expand_dims_last", lambda x: ops.expand_dims(x, -1), lambda x: x.unsqueeze(-1), (2, 3)),
    C("squeeze", ops.squeeze, torch.squeeze, (2, 1, 3, 1)),
    C("squeeze_axis", lambda x: ops.squeeze(x, 1), lambda x: x.squeeze(1), (2, 1, 3, 1)),
    C("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)),
      lambda x: torch.broadcast_to(x, (2, 3, 4)), (3, 1)),
    C("concatenate", lambda x, y: ops.concatenate([x, y]), lambda x, y: torch.cat([x, y]),
      (2, 3), (4, 3)),
    C("concatenate_last", lambda x, y, z: ops.concatenate([x, y, z], axis=-1),
      lambda x, y, z: torch.cat([x, y, z], -1), (2, 3), (2, 1), (2, 2)),
    C("stack", lambda x, y: ops.stack([x, y]), lambda x, y: torch.stack([x, y]), (2, 3), (2, 3)),
    C("stack_last", lambda x, y: ops.stack([x, y], axis=-1),
      lambda x, y: torch.stack([x, y], -1), (2, 3), (2, 3)),
    C("take_flat", lambda x: ops.take(x, FLAT_IDX),
      lambda x: torch.take(x, tt(FLAT_IDX) % x.numel()), (3, 4)),
    C("take_axis0", lambda x: ops.take(x, ROW_IDX, axis=0), lambda x: _take_axis(x, ROW_IDX, 0),
      (3, 4)),
    C("take_axis1_2d_idx", lambda x: ops.take(x, IDX_2D, axis=1),
      lambda x: _take_axis(x, IDX_2D, 1), (2, 4, 3)),
    C("take_negative_axis_2d_idx", lambda x: ops.take(x, IDX_2D, axis=-1),
      lambda x: _take_axis(x, IDX_2D, -1), (2, 3, 4)),
    C("take_along_axis", lambda x: ops.take_along_axis(x, ALONG_IDX, axis=1),
      lambda x: torch.take_along_dim(x, tt(ALONG_IDX), 1), (3, 4)),
    C("take_along_axis_0", lambda x: ops.take_along_axis(x, ALONG_IDX.T[:, :3] % 3, axis=0),
      lambda x: torch.take_along_dim(x, tt(ALONG_IDX.T[:, :3] % 3), 0), (3, 3)),
    C("take_along_axis_bcast", lambda x: ops.take_along_axis(x, ALONG_IDX_BCAST, axis=-1),
      lambda x: torch.take_along_dim(x, tt(ALONG_IDX_BCAST), -1), (3, 4)),
    C("getitem_slices", lambda x: x[1:, ::2], lambda x: x[1:, ::2], (3, 4)),
    C("getitem_int", lambda x: x[-1], lambda x: x[-1], (3, 4)),
    C("getitem_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], (2, 3, 4)),
    C("getitem_newaxis", lambda x: x[:, None], lambda x: x[:, None], (3, 4)),
    C("getitem_int_array_repeats", lambda x: x[np.array([0, 2, 0, 0])],
      lambda x: x[tt(np.array([0, 2, 0, 0]))], (3, 4)),
    C("getitem_mixed", lambda x: x[IDX_2D % 3, 1:3], lambda x: x[tt(IDX_2D % 3), 1:3], (3, 4)),
    C("getitem_pairs", lambda x: x[[0, 0, 2], [1, 1, 3]], lambda x: x[[0, 0, 2], [1, 1, 3]],
      (3, 4)),
    C("getitem_mask", lambda x: x[COND[0, 0]], lambda x: x[tt(COND[0, 0])], (3, 2)),
]


def _seed(case: Case) -> int:
    return zlib.crc32(case.name.encode())


def _sample(shape: tuple[int, ...], domain: str, rng: np.random.Generator) -> np.ndarray:
    """Random float64 inputs, kept away from the points where an op has a kink."""
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    x = rng.uniform(-2.0, 2.0, shape)
    kinks = {"real": (), "nonzero": (0.0,), "clip": (-0.5, 0.5)}[domain]
    for k in kinks:
        near = np.abs(x - k) < 0.1
        x = np.where(near, x + np.sign(x - k + 1e-12) * 0.2, x)
    return x


def _inputs(case: Case, dtype: Any = np.float64) -> tuple[list[np.ndarray], np.random.Generator]:
    rng = np.random.default_rng(_seed(case))
    xs = [_sample(s, case.domain(i), rng).astype(dtype) for i, s in enumerate(case.shapes)]
    return xs, rng


def _tape_gradients(case: Case, xs: list[np.ndarray], w: np.ndarray):
    ts = [Tensor(x) for x in xs]
    with GradientTape() as tape:
        tape.watch(ts)
        out = case.fn(*ts)
    return out, tape.gradient(out, ts, output_gradients=w)


def _torch_value_and_gradients(case: Case, xs: list[np.ndarray], w: np.ndarray):
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    out = case.ref(*ts)
    out.backward(tt(w))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def _finite_differences(case: Case, xs: list[np.ndarray], w: np.ndarray, eps: float = 1e-6):
    """Central differences of sum(fn(*xs) * w), one entry at a time, in float64."""

    def f(args):
        return float(np.sum(np.asarray(case.fn(*[Tensor(a) for a in args])) * w))

    grads = []
    for i, x in enumerate(xs):
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            plus, minus = [a.copy() for a in xs], [a.copy() for a in xs]
            plus[i][j] += eps
            minus[i][j] -= eps
            g[j] = (f(plus) - f(minus)) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_torch(case: Case) -> None:
    xs, _ = _inputs(case)
    out = case.fn(*[Tensor(x) for x in xs])
    expected = case.ref(*[tt(x) for x in xs]).numpy()
    assert isinstance(out, Tensor)
    assert out.dtype == np.float64
    assert out.shape == expected.shape
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_gradient_matches_finite_differences_and_torch(case: Case) -> None:
    xs, rng = _inputs(case)
    w = rng.standard_normal(np.shape(case.fn(*[Tensor(x) for x in xs])))
    _, grads = _tape_gradients(case, xs, w)
    numeric = _finite_differences(case, xs, w)
    _, torch_grads = _torch_value_and_gradients(case, xs, w)
    for x, g, g_fd, g_torch in zip(xs, grads, numeric, torch_grads):
        assert isinstance(g, Tensor)
        assert g.shape == x.shape and g.dtype == np.float64
        np.testing.assert_allclose(np.asarray(g), g_fd, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.asarray(g), g_torch, rtol=1e-10, atol=1e-12)


def _probe(x: Any, seen: list[np.dtype]) -> Any:
    """An identity op whose VJP notes the dtype of the gradient flowing back into ``x``."""

    def vjp(g, wanted):
        seen.append(g.dtype)
        return (g,)

    return record(value_of(x), (x,), vjp)


def _assert_float32_throughout(fn: Callable[..., Any], xs: list[np.ndarray]) -> None:
    """Output, tape gradients and the gradients the op's VJP hands back are all float32."""
    ts = [Tensor(x) for x in xs]
    seen: list[np.dtype] = []
    with GradientTape() as tape:
        tape.watch(ts)
        out = fn(*[_probe(t, seen) for t in ts])
    assert out.dtype == np.float32
    grads = tape.gradient(out, ts, output_gradients=np.ones(out.shape, np.float32))
    assert [g.dtype for g in grads] == [np.float32] * len(ts)
    assert seen and set(seen) == {np.dtype(np.float32)}


@pytest.mark.parametrize("case", [c for c in CASES if c.id != "cast"])
def test_float32_stays_float32(case: Case) -> None:
    xs, _ = _inputs(case, np.float32)
    _assert_float32_throughout(case.fn, xs)


SCALAR_OPERANDS = {
    "x + 2.0": lambda x: x + 2.0,
    "2.0 + x": lambda x: 2.0 + x,
    "x - 1.5": lambda x: x - 1.5,
    "1.5 - x": lambda x: 1.5 - x,
    "x * 0.5": lambda x: x * 0.5,
    "3 * x": lambda x: 3 * x,
    "x / 3.0": lambda x: x / 3.0,
    "3.0 / x": lambda x: 3.0 / x,
    "x ** 2": lambda x: x**2,
    "x ** 0.5": lambda x: x**0.5,
    "2.0 ** x": lambda x: 2.0**x,
    "maximum(x, 0.0)": lambda x: ops.maximum(x, 0.0),
    "minimum(1, x)": lambda x: ops.minimum(1, x),
    "clip(x, 0.0, 1.0)": lambda x: ops.clip(x, 0.0, 1.0),
    "where(c, x, 0.0)": lambda x: ops.where(COND[0, 0, :2], x, 0.0),
    "where(c, 1.0, x)": lambda x: ops.where(COND[0, 0, :2], 1.0, x),
    "np.exp(x)": lambda x: np.exp(x),
    "mean(x) * 2.0": lambda x: ops.mean(x) * 2.0,
    "cast(x64, float32)": lambda x: ops.cast(ops.cast(x, "float64") * 2.0, "float32"),
}


@pytest.mark.parametrize("expr", SCALAR_OPERANDS)
def test_float32_with_python_scalar_operands(expr: str) -> None:
    x = np.array([0.7, 1.3], dtype=np.float32)
    _assert_float32_throughout(SCALAR_OPERANDS[expr], [x])


def test_cast_gradient_has_the_source_dtype() -> None:
    x = Tensor(np.array([1.0, 2.0], np.float32))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.cast(x, "float64") * 3.0
    assert y.dtype == np.float64
    g = tape.gradient(y, x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])


def test_cast_from_integers_has_no_gradient() -> None:
    x = Tensor(np.array([1, 2]))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.cast(x, "float32") * 3.0
    assert tape.gradient(y, x) is None


# --- ties: the gradient is shared equally (as TensorFlow and PyTorch do) -----------------------
def test_max_reduction_ties_share_the_gradient() -> None:
    x = Tensor(np.array([[1.0, 3.0, 3.0], [5.0, 2.0, 0.0]]))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        row_max = ops.max(x, axis=1)
        overall = ops.max(x)
    np.testing.assert_array_equal(tape.gradient(row_max, x).numpy(), [[0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_array_equal(tape.gradient(overall, x).numpy(), [[0, 0, 0], [1, 0, 0]])


def test_maximum_minimum_ties_share_the_gradient() -> None:
    x, y = Tensor(np.array([1.0, 2.0, 3.0])), Tensor(np.array([1.0, 5.0, 0.0]))
    with GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        hi, lo = ops.maximum(x, y), ops.minimum(x, y)
    np.testing.assert_array_equal(tape.gradient(hi, x).numpy(), [0.5, 0, 1])
    np.testing.assert_array_equal(tape.gradient(hi, y).numpy(), [0.5, 1, 0])
    np.testing.assert_array_equal(tape.gradient(lo, x).numpy(), [0.5, 1, 0])


def test_relu_gradient_at_zero_is_zero() -> None:
    x = Tensor(np.array([-1.0, 0.0, 2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.relu(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 0, 1])


# --- large inputs stay finite -----------------------------------------------------------------
STABLE = {
    "softmax": (ops.softmax, lambda x: torch.softmax(x, -1)),
    "log_softmax": (ops.log_softmax, lambda x: torch.log_softmax(x, -1)),
    "sigmoid": (ops.sigmoid, torch.sigmoid),
    "softplus": (ops.softplus, torch.nn.functional.softplus),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", STABLE)
def test_large_inputs_stay_finite(name: str, dtype: Any) -> None:
    fn, ref = STABLE[name]
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -999.0, -1001.0], [88.0, 89.0, 3.0]], dtype)
    t = Tensor(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        with GradientTape() as tape:
            tape.watch(t)
            y = fn(t)
        g = tape.gradient(y, t, output_gradients=np.linspace(-1, 1, 9, dtype=dtype).reshape(3, 3))
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(np.asarray(y))) and np.all(np.isfinite(np.asarray(g)))
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    yt.backward(torch.linspace(-1, 1, 9, dtype=xt.dtype).reshape(3, 3))
    np.testing.assert_allclose(np.asarray(y), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(g), xt.grad.numpy(), rtol=1e-6, atol=1e-6)


# --- shape mismatches name both shapes ------------------------------------------------------
MISMATCHES = {
    "add": (lambda: ops.add(np.ones((2, 3)), np.ones(4)), ["(2, 3)", "(4,)"]),
    "operator": (lambda: Tensor(np.ones((2, 3))) * np.ones(4), ["(2, 3)", "(4,)"]),
    "matmul": (lambda: ops.matmul(np.ones((2, 3)), np.ones((4, 5))), ["(2, 3)", "(4, 5)"]),
    "affine": (lambda: ops.affine(np.ones((2, 3)), np.ones((4, 5))), ["(2, 3)", "(4, 5)"]),
    "affine_bias": (lambda: ops.affine(np.ones((2, 3)), np.ones((3, 5)), np.ones(4)),
                    ["(2, 5)", "(4,)"]),
    "reshape": (lambda: ops.reshape(np.ones((2, 3)), (4, 5)), ["(2, 3)", "(4, 5)"]),
    "concatenate": (
        lambda: ops.concatenate([np.ones((2, 3)), np.ones((2, 4))], axis=0), ["(2, 3)", "(2, 4)"]
    ),
}


@pytest.mark.parametrize("name", MISMATCHES)
def test_shape_mismatch_raises_value_error_naming_both_shapes(name: str) -> None:
    fn, shapes = MISMATCHES[name]
    with pytest.raises(ValueError) as info:
        fn()
    for s in shapes:
        assert s in str(info.value)


def test_affine_is_bitwise_matmul_plus_bias_and_leaves_its_inputs_alone() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((128, 30)).astype(np.float32)
    w = rng.standard_normal((30, 20)).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    copies = [x.copy(), w.copy(), b.copy()]
    out = ops.affine(x, w, b)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ops.add(ops.matmul(x, w), b)))
    fused = ops.affine(x, w, b, relu=True)
    np.testing.assert_array_equal(np.asarray(fused), np.asarray(ops.relu(out)))
    for original, copy in zip((x, w, b), copies):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 2), False)])
def test_mean_is_bitwise_numpys_mean(dtype, axis, keepdims) -> None:
    values = np.random.default_rng(9).standard_normal((37, 5, 129)) * 100
    a = values.astype(dtype)
    expected = np.mean(a, axis=axis, keepdims=keepdims)
    if np.issubdtype(dtype, np.floating):
        expected = expected.astype(dtype)
    got = np.asarray(ops.mean(a, axis=axis, keepdims=keepdims))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
