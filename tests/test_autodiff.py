"""GradientTape, Variable and Tensor at their edges, where they behave as TensorFlow's do.

Expected gradients are worked out by hand (d(a*a*a)/da = 3a^2, ...), never read from numkeras.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from numkeras import GradientTape, Tensor, Variable, ops
from numkeras.autodiff import record, value_of

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]])


def tape_and_x(value: np.ndarray = X) -> tuple[GradientTape, Tensor]:
    """A new tape (not yet open, watching nothing) and a fresh Tensor holding ``value``."""
    return GradientTape(), Tensor(np.array(value))


def assert_grad(g, expected) -> None:
    assert isinstance(g, Tensor)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)


# --- targets and output_gradients ---------------------------------------------------------
def test_non_scalar_target_is_differentiated_as_its_sum() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = x * x
    assert_grad(tape.gradient(y, x), 2 * X)


def test_output_gradients_weight_the_target() -> None:
    w = np.array([[1.0, 0.0, -2.0], [3.0, 0.5, 1.0]])
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = x * x
    assert_grad(tape.gradient(y, x, output_gradients=w), 2 * X * w)


def test_output_gradients_of_the_wrong_shape_raise() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        tape.gradient(y, x, output_gradients=np.ones(3))


def test_target_is_its_own_source() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
    assert_grad(tape.gradient(x, x), np.ones_like(X))


def test_sources_keep_their_structure() -> None:
    a, b = Tensor(np.array(2.0)), Tensor(np.array(3.0))
    with GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = a * b
    grads = tape.gradient(y, {"a": a, "b": b})
    assert set(grads) == {"a", "b"}
    assert float(grads["a"]) == 3.0 and float(grads["b"]) == 2.0
    assert isinstance(tape.gradient(y, (a, b)), tuple)
    assert isinstance(tape.gradient(y, [a, b]), list)


# --- when and how often gradient may be called -------------------------------------------
def test_gradient_after_and_inside_the_with_block() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = ops.sum(x * 3.0)
    assert_grad(tape.gradient(y, x), np.full_like(X, 3.0))  # after the block
    with GradientTape() as inner:
        inner.watch(x)
        y = ops.sum(x * 3.0)
        g = inner.gradient(y, x)  # inside it
    assert_grad(g, np.full_like(X, 3.0))


def test_second_call_on_a_non_persistent_tape_raises() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_persistent_tape_allows_several_calls() -> None:
    with GradientTape(persistent=True) as tape:
        x = Tensor(np.array(X))
        tape.watch(x)
        y = x * x
        z = y * x
    assert_grad(tape.gradient(y, x), 2 * X)
    assert_grad(tape.gradient(z, x), 3 * X**2)
    assert_grad(tape.gradient(z, y), X)
    assert_grad(tape.gradient(y, x), 2 * X)


# --- unconnected sources ----------------------------------------------------------------------
def test_unconnected_source_gives_none_or_zeros() -> None:
    x, u = Tensor(np.array(X)), Tensor(np.ones(4, dtype=np.float32))
    with GradientTape(persistent=True) as tape:
        tape.watch([x, u])
        y = x * 2.0
        _ = u * 5.0  # recorded, but y does not depend on it
    gx, gu = tape.gradient(y, [x, u])
    assert_grad(gx, np.full_like(X, 2.0))
    assert gu is None
    gx, gu = tape.gradient(y, [x, u], unconnected_gradients="zero")
    assert isinstance(gu, Tensor) and gu.dtype == np.float32
    np.testing.assert_array_equal(gu.numpy(), np.zeros(4))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, x, unconnected_gradients="zeros")


def test_nothing_watched_gives_none() -> None:
    x = Tensor(np.array(X))
    with GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None


# --- what the tape watches --------------------------------------------------------------------
def test_watch_a_numpy_array() -> None:
    a = np.array([0.0, 1.0, 2.0])
    with GradientTape() as tape:
        tape.watch(a)
        y = ops.exp(a) * a
    assert_grad(tape.gradient(y, a), np.exp(a) * (1 + a))


def test_watch_rejects_other_types() -> None:
    with GradientTape() as tape, pytest.raises(TypeError, match="watch"):
        tape.watch(3.0)


def test_trainable_variables_are_watched_automatically() -> None:
    v = Variable(np.array([1.0, 2.0], np.float32))
    with GradientTape() as tape:
        y = v * v
    assert tape.watched_variables() == [v]
    g = tape.gradient(y, v)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])


def test_non_trainable_variables_are_not_watched_automatically() -> None:
    v = Variable(np.array([1.0, 2.0]), trainable=False)
    with GradientTape(persistent=True) as tape:
        y = v * v
    assert tape.watched_variables() == []
    assert tape.gradient(y, v) is None
    with GradientTape() as tape:
        tape.watch(v)
        y = v * v
    assert_grad(tape.gradient(y, v), [2.0, 4.0])


def test_unwatched_source_read_beside_a_watched_one_gets_none() -> None:
    frozen, w = Variable(np.array([1.0, 2.0]), trainable=False), Variable(np.array([3.0, 4.0]))
    with GradientTape() as tape:
        y = frozen * w  # recorded, because w is watched
    g_frozen, g_w = tape.gradient(y, [frozen, w])
    assert g_frozen is None
    assert_grad(g_w, [1.0, 2.0])


def test_watch_accessed_variables_false() -> None:
    v, w = Variable(np.array([1.0, 2.0])), Variable(np.array([3.0, 4.0]))
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = v * w
    gv, gw = tape.gradient(y, [v, w])
    assert gv is None
    assert_grad(gw, [1.0, 2.0])


def test_stop_recording() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = x * 2.0
        with tape.stop_recording():
            z = x * 10.0
        total = y + z
    # Only the recorded path counts: z is a constant to the tape.
    assert_grad(tape.gradient(total, x), np.full_like(X, 2.0))


def test_stop_gradient() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = x * ops.stop_gradient(x)
    assert_grad(tape.gradient(y, x), X)  # not 2x


def test_nested_tapes_raise_not_implemented() -> None:
    x = Tensor(np.array(3.0))
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        with pytest.raises(NotImplementedError, match="higher-order"):
            inner.gradient(y, x)


def test_nested_tapes_on_separate_values_are_fine() -> None:
    x, z = Tensor(np.array(3.0)), Tensor(np.array(5.0))
    with GradientTape() as outer:
        outer.watch(z)
        with GradientTape() as inner:
            inner.watch(x)
            y = x * x
        assert float(inner.gradient(y, x)) == 6.0
        w = z * z
    assert float(outer.gradient(w, z)) == 10.0


# --- the chain rule: reuse, accumulation, broadcasting --------------------------------------
def test_value_used_twice_in_one_op() -> None:
    tape, a = tape_and_x()
    with tape:
        tape.watch(a)
        b = a + a
    assert_grad(tape.gradient(b, a), np.full_like(X, 2.0))


def test_cube_by_repeated_multiplication() -> None:
    tape, a = tape_and_x()
    with tape:
        tape.watch(a)
        y = a * a * a
    assert_grad(tape.gradient(y, a), 3 * X**2)


def test_value_used_in_two_branches_accumulates() -> None:
    tape, a = tape_and_x()
    with tape:
        tape.watch(a)
        u = a * 3.0
        v = ops.exp(a)
        y = u * v + ops.square(a)
    assert_grad(tape.gradient(y, a), 3 * np.exp(X) + 3 * X * np.exp(X) + 2 * X)


def test_broadcast_operands_get_gradients_of_their_own_shape() -> None:
    col, row = Tensor(np.arange(3.0).reshape(3, 1)), Tensor(np.arange(4.0).reshape(1, 4))
    w = np.arange(12.0).reshape(3, 4)
    with GradientTape() as tape:
        tape.watch([col, row])
        y = col + row
    assert y.shape == (3, 4)
    gc, gr = tape.gradient(y, [col, row], output_gradients=w)
    assert gc.shape == (3, 1) and gr.shape == (1, 4)
    np.testing.assert_array_equal(gc.numpy(), [[6.0], [22.0], [38.0]])  # row sums of w
    np.testing.assert_array_equal(gr.numpy(), [[12.0, 15.0, 18.0, 21.0]])  # column sums


def test_deep_graph_does_not_hit_the_recursion_limit() -> None:
    n = 10_000
    assert n > sys.getrecursionlimit()
    x = Tensor(np.array([1.0, 2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = x
        for _ in range(n):
            y = y + x
    assert_grad(tape.gradient(y, x), [n + 1.0, n + 1.0])


# --- gradients flow only where they are wanted ------------------------------------------------
def spy_op(calls: list, *inputs):
    """The sum of ``inputs``, recorded with a VJP that notes which gradients were wanted."""

    def vjp(g, wanted):
        calls.append(wanted)
        return [g if want else None for want in wanted]

    value = np.sum([np.asarray(value_of(x)) for x in inputs], axis=0)
    return record(value, tuple(inputs), vjp)


def test_vjp_is_asked_only_for_inputs_on_a_path_from_a_source() -> None:
    calls: list = []
    x, y, c = (Tensor(np.ones(2) * k) for k in (1.0, 2.0, 3.0))
    with GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = spy_op(calls, x, y, c)
    tape.gradient(z, x)
    tape.gradient(z, y)
    tape.gradient(z, [x, y])
    assert calls == [(True, False, False), (False, True, False), (True, True, False)]


def test_vjp_is_not_called_when_no_requested_source_is_upstream() -> None:
    calls: list = []
    x, y = Tensor(np.ones(2)), Tensor(np.ones(2))
    with GradientTape() as tape:
        tape.watch([x, y])
        q = spy_op(calls, y, y)  # depends on y only
        total = q + x * 2.0
    assert_grad(tape.gradient(total, x), [2.0, 2.0])
    assert calls == []


def test_vjp_is_not_called_off_the_path_to_the_target() -> None:
    calls: list = []
    x = Tensor(np.ones(2))
    with GradientTape() as tape:
        tape.watch(x)
        _ = spy_op(calls, x, x)  # recorded, but the target does not use it
        y = x * 4.0
    assert_grad(tape.gradient(y, x), [4.0, 4.0])
    assert calls == []


# --- Variable -------------------------------------------------------------------------------
def test_variable_assign_methods() -> None:
    v = Variable(np.array([1.0, 2.0], np.float32), name="v")
    same = v.assign(np.array([3.0, 4.0]))
    assert same is v and v.dtype == np.float32
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])
    v.assign_add(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(v.numpy(), [4.0, 5.0])
    v.assign_sub(Tensor(np.array([0.5, 0.5], np.float32)))
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    assert v.dtype == np.float32


@pytest.mark.parametrize("method", ["assign", "assign_add", "assign_sub"])
def test_variable_assign_with_wrong_shape_raises(method: str) -> None:
    v = Variable(np.zeros((2, 3)), name="kernel")
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)|\(2, 3\).*\(3, 2\)"):
        getattr(v, method)(np.zeros((3, 2)))
    np.testing.assert_array_equal(v.numpy(), np.zeros((2, 3)))


def test_numpy_returns_a_copy() -> None:
    v = Variable(np.array([1.0, 2.0]))
    copy = v.numpy()
    copy[0] = 100.0
    assert v.numpy()[0] == 1.0
    t = v * 1.0
    t.numpy()[0] = 100.0
    assert t.numpy()[0] == 1.0


def test_tensors_read_from_a_variable_do_not_change_when_it_is_assigned() -> None:
    v = Variable(np.arange(6.0).reshape(2, 3))
    before = np.arange(6.0).reshape(2, 3)
    reads = {
        "slice": v[0:1],
        "int": v[1],
        "reshape": ops.reshape(v, (3, 2)),
        "transpose": ops.transpose(v),
        "expand_dims": ops.expand_dims(v, 0),
        "squeeze": ops.squeeze(ops.expand_dims(v, 0)),
        "cast": ops.cast(v, v.dtype),
        "stop_gradient": ops.stop_gradient(v),
    }
    expected = {name: np.array(t.numpy()) for name, t in reads.items()}
    v.assign_add(np.ones((2, 3)))
    np.testing.assert_array_equal(v.numpy(), before + 1)
    for name, t in reads.items():
        np.testing.assert_array_equal(t.numpy(), expected[name], err_msg=name)


def test_training_step_through_a_variable() -> None:
    w = Variable(np.array([1.0, -1.0]))
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with GradientTape() as tape:
        loss = ops.mean(ops.square(ops.matmul(x, w)))  # mean((x @ w)^2)
    g = tape.gradient(loss, w)
    residual = x @ np.array([1.0, -1.0])
    np.testing.assert_allclose(g.numpy(), 2 * x.T @ residual / 2)
    w.assign_sub(g * 0.1)
    np.testing.assert_allclose(w.numpy(), np.array([1.0, -1.0]) - 0.1 * (x.T @ residual))


# --- Tensor interop with NumPy and Python ---------------------------------------------------
def test_np_asarray_reads_the_value() -> None:
    t = ops.add(Tensor(np.array(X)), 1.0)
    a = np.asarray(t)
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, X + 1.0)
    assert np.asarray(ops.sum(t)).shape == ()
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_numpy_ufuncs_and_mixed_arithmetic_are_recorded() -> None:
    tape, x = tape_and_x()
    with tape:
        tape.watch(x)
        y = np.exp(x)  # routed through ops.exp
        z = np.ones_like(X) * 2.0 + y  # ndarray + Tensor
    assert isinstance(y, Tensor) and isinstance(z, Tensor)
    np.testing.assert_allclose(z.numpy(), 2.0 + np.exp(X))
    assert_grad(tape.gradient(z, x), np.exp(X))


def test_python_protocols() -> None:
    t = ops.multiply(Tensor(np.array(X)), 1.0)
    s = ops.sum(Tensor(np.array([1.234, 1.0])))
    assert f"{s:.2f}" == "2.23"
    assert float(s) == pytest.approx(2.234)
    assert len(t) == 2
    row = t[1]
    assert isinstance(row, Tensor)
    np.testing.assert_array_equal(row.numpy(), X[1])
    assert float(t[0, 2]) == 2.0
    assert [r.shape for r in t] == [(3,), (3,)]
    assert "2." in str(t)


def test_variable_assign_add_broadcasts_a_smaller_delta() -> None:
    v = Variable(np.zeros((2, 3)))
    v.assign_add(np.array([1.0, 2.0, 3.0]))
    v.assign_sub(0.5)
    np.testing.assert_array_equal(v.numpy(), [[0.5, 1.5, 2.5]] * 2)
