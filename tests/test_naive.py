"""The loop implementations in numkeras.naive must agree with NumPy (and with numkeras.ops)."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numkeras import naive

DTYPES = [np.float32, np.float64, np.int32, np.int64]
FEW = settings(max_examples=50, deadline=None)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)


def numbers(dtype, special: bool = False):
    """Entries small enough that sums and products of a few of them cannot overflow.

    ``special`` adds NaN and infinities for floats (only for ops that do no arithmetic).
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "i":
        return hnp.from_dtype(dtype, min_value=-1000, max_value=1000)
    if special:
        return hnp.from_dtype(dtype, allow_nan=True, allow_infinity=True)
    return hnp.from_dtype(dtype, min_value=-1000, max_value=1000, allow_subnormal=False)


@st.composite
def arrays(draw, shape, special: bool = False):
    dtype = draw(st.sampled_from(DTYPES))
    return draw(hnp.arrays(dtype, shape, elements=numbers(dtype, special)))


def small_shapes(min_dims: int = 0, max_dims: int = 4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=4)


def assert_same(actual, expected) -> None:
    """Same Python type (array vs NumPy scalar), dtype, shape and values (NaN equals NaN)."""
    assert type(actual) is type(expected)
    assert np.asarray(actual).dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(actual, expected, strict=True)


def assert_close(actual, expected, x, y) -> None:
    """Like ``assert_same`` for the dot product of ``x`` and ``y``, allowing for rounding.

    Adding ``n`` products in a different order may change a float result by up to about
    ``n * eps * sum(|x_i * y_i|)``; integer results must be exact.
    """
    assert type(actual) is type(expected)
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if actual.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected)
        return
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    terms = x.shape[-1] if x.ndim else 1
    bound = (terms + 1) * np.finfo(actual.dtype).eps * np.dot(np.abs(x), np.abs(y))
    assert np.all(np.abs(actual.astype(np.float64) - expected) <= bound)


# --- relu ------------------------------------------------------------------------------------
@FEW
@given(st.data())
def test_relu_equals_numpy_maximum_with_zero(data):
    x = data.draw(arrays(small_shapes(), special=True))
    original = x.copy()
    result = naive.relu(x)
    assert_same(result, np.maximum(x, 0))
    np.testing.assert_array_equal(x, original)  # the input is left alone


def test_relu_by_hand():
    x = np.array([[-2.0, 3.0], [0.5, -0.0]], dtype=np.float32)
    np.testing.assert_array_equal(naive.relu(x), [[0.0, 3.0], [0.5, 0.0]])
    assert naive.relu(x).dtype == np.float32
    assert naive.relu(np.array([-3, 4], dtype=np.int32)).tolist() == [0, 4]
    assert np.isnan(naive.relu(np.array([np.nan]))[0])


def test_relu_returns_a_copy():
    x = np.array([1.0, 2.0])
    result = naive.relu(x)
    result[0] = 100.0
    assert x[0] == 1.0
    assert not np.shares_memory(result, x)


# --- broadcasting ----------------------------------------------------------------------------
@FEW
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, max_side=4))
def test_broadcast_shapes_matches_hypothesis_and_numpy(shapes):
    assert naive.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape
    assert naive.broadcast_shapes(*shapes.input_shapes) == np.broadcast_shapes(*shapes.input_shapes)


@FEW
@given(small_shapes(), small_shapes())
def test_broadcast_shapes_fails_exactly_when_numpy_fails(a, b):
    try:
        expected = np.broadcast_shapes(a, b)
    except ValueError:
        with pytest.raises(ValueError) as error:
            naive.broadcast_shapes(a, b)
        assert str(a) in str(error.value) and str(b) in str(error.value)
    else:
        assert naive.broadcast_shapes(a, b) == expected


def test_broadcast_shapes_by_hand():
    assert naive.broadcast_shapes((64, 3, 32, 10), (32, 10)) == (64, 3, 32, 10)
    assert naive.broadcast_shapes((5, 1), (1, 6)) == (5, 6)
    assert naive.broadcast_shapes((), (2, 3)) == (2, 3)
    assert naive.broadcast_shapes((0,), (1,)) == (0,)
    assert naive.broadcast_shapes() == ()


@pytest.mark.parametrize(
    "shapes, clashing",
    [
        (((3,), (4,)), ((3,), (4,))),
        (((64, 3, 32, 10), (32, 9)), ((64, 3, 32, 10), (32, 9))),
        (((2, 1), (3, 4, 5)), ((2, 1), (3, 4, 5))),
        (((2, 3), (1, 1), (7, 3)), ((2, 3), (7, 3))),  # the clash is between 1st and 3rd
    ],
)
def test_broadcast_shapes_error_names_the_clashing_shapes(shapes, clashing):
    with pytest.raises(ValueError) as error:
        naive.broadcast_shapes(*shapes)
    for shape in clashing:
        assert str(shape) in str(error.value)


@FEW
@given(PAIRS, st.data())
def test_expand_and_repeat_equals_broadcast_to(shapes, data):
    small_shape, _ = shapes.input_shapes
    x = data.draw(arrays(small_shape))
    result = naive.expand_and_repeat(x, shapes.result_shape)
    assert_same(result, np.broadcast_to(x, shapes.result_shape).copy())
    assert not np.shares_memory(result, x)


def test_expand_and_repeat_steps_by_hand():
    y = np.array([1, 2, 3])
    # Step 1 adds an axis in front: (3,) -> (1, 3); step 2 repeats it twice: -> (2, 3).
    np.testing.assert_array_equal(naive.expand_and_repeat(y, (2, 3)), [[1, 2, 3], [1, 2, 3]])
    column = np.array([[1], [2]])
    np.testing.assert_array_equal(naive.expand_and_repeat(column, (2, 3)), [[1, 1, 1], [2, 2, 2]])
    assert naive.expand_and_repeat(5, (2, 2)).tolist() == [[5, 5], [5, 5]]


@pytest.mark.parametrize("shape, target", [((2, 3), (4, 3, 3)), ((2, 3), (3,)), ((0,), (1,))])
def test_expand_and_repeat_rejects_impossible_targets(shape, target):
    with pytest.raises(ValueError) as error:
        naive.expand_and_repeat(np.zeros(shape), target)
    assert str(shape) in str(error.value) and str(target) in str(error.value)


# --- add and maximum -------------------------------------------------------------------------
@FEW
@given(PAIRS, st.data())
def test_add_equals_numpy(shapes, data):
    x_shape, y_shape = shapes.input_shapes
    x = data.draw(arrays(x_shape))
    y = data.draw(arrays(y_shape))
    assert_same(naive.add(x, y), np.add(x, y))


@FEW
@given(PAIRS, st.data())
def test_maximum_equals_numpy(shapes, data):
    x_shape, y_shape = shapes.input_shapes
    x = data.draw(arrays(x_shape, special=True))
    y = data.draw(arrays(y_shape, special=True))
    assert_same(naive.maximum(x, y), np.maximum(x, y))


@pytest.mark.parametrize("op, reference", [(naive.add, np.add), (naive.maximum, np.maximum)])
@pytest.mark.parametrize(
    "x, y",
    [
        (np.array([1.5, -2.0], dtype=np.float32), 2.0),  # a Python float keeps float32
        (np.array([1, -2], dtype=np.int32), 3),  # a Python int keeps int32
        (np.float32(1.0), np.float32(-4.0)),  # rank 0 gives a NumPy scalar
        ([[1, 2], [3, 4]], [10, 0]),  # nested lists work too
    ],
)
def test_elementwise_dtype_rules_for_scalars_and_lists(op, reference, x, y):
    assert_same(op(x, y), reference(x, y))


def test_seed_maximum_example():
    rng = np.random.default_rng(0)
    x = rng.random((64, 3, 32, 10))
    y = rng.random((32, 10))
    z = naive.maximum(x, y)
    assert z.shape == (64, 3, 32, 10)
    # Spot-check by the definition: z[a, b, c, d] = max(x[a, b, c, d], y[c, d]).
    for a, b, c, d in [(0, 0, 0, 0), (63, 2, 31, 9), (10, 1, 5, 7)]:
        assert z[a, b, c, d] == max(x[a, b, c, d], y[c, d])
    assert_same(z, np.maximum(x, y))


def test_add_by_hand():
    x = np.array([[1, 2, 3], [4, 5, 6]])
    y = np.array([10, 20, 30])
    np.testing.assert_array_equal(naive.add(x, y), [[11, 22, 33], [14, 25, 36]])


@pytest.mark.parametrize("op", [naive.add, naive.maximum])
def test_elementwise_rejects_incompatible_shapes(op):
    with pytest.raises(ValueError) as error:
        op(np.zeros((64, 3, 32, 10)), np.zeros((32, 9)))
    assert "(64, 3, 32, 10)" in str(error.value) and "(32, 9)" in str(error.value)


# --- dot products ----------------------------------------------------------------------------
sides = st.integers(min_value=0, max_value=5)


@FEW
@given(sides, st.data())
def test_vector_dot_equals_numpy(n, data):
    x = data.draw(arrays((n,)))
    y = data.draw(arrays((n,)))
    assert_close(naive.vector_dot(x, y), np.dot(x, y), x, y)


@FEW
@given(sides, sides, st.data())
def test_matrix_vector_dot_equals_numpy(n, m, data):
    x = data.draw(arrays((n, m)))
    y = data.draw(arrays((m,)))
    assert_close(naive.matrix_vector_dot(x, y), np.dot(x, y), x, y)


@FEW
@given(sides, sides, sides, st.data())
def test_matrix_dot_equals_numpy(n, m, k, data):
    x = data.draw(arrays((n, m)))
    y = data.draw(arrays((m, k)))
    assert_close(naive.matrix_dot(x, y), np.dot(x, y), x, y)


def test_dots_by_hand():
    assert naive.vector_dot([1, 2, 3], [4, 5, 6]) == 32
    np.testing.assert_array_equal(naive.matrix_vector_dot([[1, 2], [3, 4]], [1, 1]), [3, 7])
    np.testing.assert_array_equal(
        naive.matrix_dot([[1, 2], [3, 4]], [[5, 6], [7, 8]]), [[19, 22], [43, 50]]
    )


def test_float32_dot_stays_float32():
    x = np.full(3, 0.1, dtype=np.float32)
    assert type(naive.vector_dot(x, x)) is np.float32
    assert naive.matrix_dot(x[None, :], x[:, None]).dtype == np.float32
    assert naive.matrix_vector_dot(x[None, :], x).dtype == np.float32


@pytest.mark.parametrize(
    "op, x_shape, y_shape",
    [
        (naive.vector_dot, (3,), (4,)),
        (naive.vector_dot, (3, 1), (3,)),
        (naive.vector_dot, (), (3,)),
        (naive.matrix_vector_dot, (2, 3), (2,)),
        (naive.matrix_vector_dot, (3,), (3,)),
        (naive.matrix_dot, (2, 3), (2, 3)),
        (naive.matrix_dot, (2, 3), (3,)),
        (naive.matrix_dot, (2, 3, 4), (4, 2)),
    ],
)
def test_dots_reject_bad_shapes(op, x_shape, y_shape):
    with pytest.raises(ValueError) as error:
        op(np.zeros(x_shape), np.zeros(y_shape))
    assert str(x_shape) in str(error.value) and str(y_shape) in str(error.value)


# --- against numkeras.ops, the fast path ------------------------------------------------------
@pytest.fixture(scope="module")
def ops():
    return pytest.importorskip("numkeras.ops")


def float32_arrays(shape):
    return hnp.arrays(np.float32, shape, elements=numbers(np.float32))


def assert_fast_matches_slow(fast, slow, x=None, y=None) -> None:
    """``fast`` (from numkeras.ops) equals ``slow`` (from naive); dots within rounding."""
    fast, slow = np.asarray(fast), np.asarray(slow)
    assert fast.shape == slow.shape
    assert fast.dtype == slow.dtype
    if x is None:
        np.testing.assert_array_equal(fast, slow)
    else:
        assert_close(fast, slow, x, y)


@FEW
@given(PAIRS, st.data())
def test_naive_elementwise_agrees_with_fast_ops(ops, shapes, data):
    x_shape, y_shape = shapes.input_shapes
    x = data.draw(float32_arrays(x_shape))
    y = data.draw(float32_arrays(y_shape))
    assert_fast_matches_slow(ops.relu(x), naive.relu(x))
    assert_fast_matches_slow(ops.add(x, y), naive.add(x, y))
    assert_fast_matches_slow(ops.maximum(x, y), naive.maximum(x, y))


@FEW
@given(sides, sides, sides, st.data())
def test_naive_dots_agree_with_fast_ops(ops, n, m, k, data):
    a = data.draw(float32_arrays((n, m)))
    b = data.draw(float32_arrays((m, k)))
    v = data.draw(float32_arrays((m,)))
    assert_fast_matches_slow(ops.matmul(a, b), naive.matrix_dot(a, b), a, b)
    assert_fast_matches_slow(ops.dot(a, b), naive.matrix_dot(a, b), a, b)
    assert_fast_matches_slow(ops.matmul(a, v), naive.matrix_vector_dot(a, v), a, v)
    assert_fast_matches_slow(ops.dot(a, v), naive.matrix_vector_dot(a, v), a, v)
    assert_fast_matches_slow(ops.dot(v, v), naive.vector_dot(v, v), v, v)
