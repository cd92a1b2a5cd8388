"""The compiled twins of softmax, crossentropy, Dense's bias + relu, relu's VJP, Dense's
bias gradient (``numkeras/_fused.c``) and categorical accuracy compute what the NumPy code of
``numkeras.ops`` and ``numkeras.metrics`` computes: bit for bit, except exp and log (C library
vs NumPy's SIMD code), which may differ in the last bits. Where a twin cannot take an input it
declines and the NumPy code runs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from numkeras import _compiled, ops
from numkeras.autodiff import GradientTape, Tensor

ROW_LENGTHS = [1, 3, 8, 10, 17, 129, 300, 10000]  # NumPy's pairwise sums change at 8 and 128
DTYPES = [np.float32, np.float64]
ULPS = {np.float32: 8 * np.finfo(np.float32).eps, np.float64: 8 * np.finfo(np.float64).eps}


@pytest.fixture
def ran(twin, monkeypatch):
    """Names of the compiled functions that ran (returned True) since the test began."""
    names: list[str] = []

    def spy(name):
        function = getattr(twin, name)

        def call(*args):
            result = function(*args)
            if result:
                names.append(name)
            return result
        return call

    functions = {name: spy(name) for name in dir(twin) if name.endswith(("_f32", "_f64"))}
    monkeypatch.setattr(_compiled, "_module", SimpleNamespace(**functions))
    return names


def numpy_only(monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", False)


def logits(rng, rows, k, dtype):
    return (rng.standard_normal((rows, k)) * 4).astype(dtype)


def one_hot(rng, rows, k, dtype):
    return np.eye(k, dtype=dtype)[rng.integers(0, k, rows)]


def softmax_grad(z, g, compiled, monkeypatch):
    """softmax's forward on the NumPy path, then its VJP on the chosen path."""
    monkeypatch.setattr(_compiled, "enabled", False)
    zt = Tensor(z)
    with GradientTape() as tape:
        tape.watch(zt)
        p = ops.softmax(zt)
    monkeypatch.setattr(_compiled, "enabled", compiled)
    return p.value, tape.gradient(p, zt, output_gradients=g).value


@pytest.mark.parametrize("k", ROW_LENGTHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_forward_agrees_and_vjp_is_bit_identical(ran, k, dtype, monkeypatch):
    rng = np.random.default_rng(k)
    z = logits(rng, 64, k, dtype)
    g = rng.standard_normal((64, k)).astype(dtype)
    probabilities = ops.softmax(z).value
    numpy_only(monkeypatch)
    reference = ops.softmax(z).value
    assert probabilities.dtype == reference.dtype == dtype
    np.testing.assert_allclose(probabilities, reference, rtol=ULPS[dtype], atol=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=10 * ULPS[dtype])

    _, compiled_grad = softmax_grad(z, g, True, monkeypatch)
    _, numpy_grad = softmax_grad(z, g, False, monkeypatch)
    np.testing.assert_array_equal(compiled_grad, numpy_grad)
    suffix = "f32" if dtype == np.float32 else "f64"
    assert ran == [f"softmax_{suffix}", f"softmax_vjp_{suffix}"]


def crossentropy_grads(t, p, g, compiled, monkeypatch):
    """crossentropy's forward on the chosen path; its VJP for the probabilities."""
    monkeypatch.setattr(_compiled, "enabled", compiled)
    pt = Tensor(p)
    with GradientTape() as tape:
        tape.watch(pt)
        loss = ops.categorical_crossentropy(t, pt)
    return loss.value, tape.gradient(loss, pt, output_gradients=g).value


@pytest.mark.parametrize("k", ROW_LENGTHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_forward_agrees_and_vjp_is_bit_identical(ran, k, dtype, monkeypatch):
    rng = np.random.default_rng(100 + k)
    p = rng.random((64, k)).astype(dtype)  # not normalised: Keras rescales each row first
    if k > 1:
        p[:4, 0] = 0  # zero probabilities: the clip at 1e-7 is active there
        p[4, :] = 0
        p[4, 0] = 1  # a certain prediction: the clip at 1 - 1e-7 is active
    t = one_hot(rng, 64, k, dtype)
    t[5] = rng.random(k).astype(dtype)  # soft labels too
    g = rng.random(64).astype(dtype)

    loss, grad = crossentropy_grads(t, p, g, True, monkeypatch)
    numpy_loss, numpy_grad = crossentropy_grads(t, p, g, False, monkeypatch)
    assert loss.dtype == numpy_loss.dtype == dtype and loss.shape == (64,)
    np.testing.assert_allclose(loss, numpy_loss, rtol=ULPS[dtype], atol=0)
    np.testing.assert_array_equal(grad, numpy_grad)
    suffix = "f32" if dtype == np.float32 else "f64"
    assert ran == [f"crossentropy_{suffix}", f"crossentropy_vjp_{suffix}"]


def test_crossentropy_keeps_keras_clipping(twin):
    """A zero probability for the true class costs -log(1e-7), and no gradient flows through
    the clip; a row that is not normalised is rescaled first."""
    p = np.array([[0.0, 1.0, 0.0], [2.0, 1.0, 1.0]], np.float32)
    t = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    pt = Tensor(p)
    with GradientTape() as tape:
        tape.watch(pt)
        loss = ops.categorical_crossentropy(t, pt)
    grad = tape.gradient(loss, pt).value
    np.testing.assert_allclose(loss.value, [-np.log(np.float32(1e-7)), -np.log(0.5)], rtol=1e-6)
    np.testing.assert_array_equal(grad[0], [0, 0, 0])
    # d/dp_j of -log(p_0 / sum(p)) at p = (2, 1, 1): -1/p_0 + 1/sum = -0.25, then +0.25, +0.25
    np.testing.assert_allclose(grad[1], [-0.25, 0.25, 0.25], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [False, True])
def test_dense_bias_and_relu_are_bit_identical(ran, dtype, relu, monkeypatch):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((33, 20)).astype(dtype)
    w = rng.standard_normal((20, 300)).astype(dtype)
    b = rng.standard_normal(300).astype(dtype)
    b[:3] = [np.nan, np.inf, -np.inf]
    compiled = ops.affine(x, w, b, relu=relu).value
    assert ran == ["bias_relu_f32" if dtype == np.float32 else "bias_relu_f64"]
    numpy_only(monkeypatch)
    reference = ops.affine(x, w, b, relu=relu).value
    np.testing.assert_array_equal(compiled, reference)  # NaNs in the same places
    np.testing.assert_array_equal(np.signbit(compiled), np.signbit(reference))
    assert (reference[:, 3:] >= 0).all() == relu


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_vjp_is_bit_identical(ran, dtype, monkeypatch):
    rng = np.random.default_rng(8)
    out = np.maximum(rng.standard_normal((40, 77)), 0).astype(dtype)
    out[0, :3] = [np.nan, -0.0, np.inf]
    g = rng.standard_normal((40, 77)).astype(dtype)
    g[1, :3] = [np.nan, np.inf, -np.inf]
    compiled = ops._relu_vjp(g, out)
    assert ran == ["relu_vjp_f32" if dtype == np.float32 else "relu_vjp_f64"]
    numpy_only(monkeypatch)
    with np.errstate(invalid="ignore"):  # inf * 0 in NumPy's mask product
        reference = ops._relu_vjp(g, out)
    np.testing.assert_array_equal(compiled, reference)
    np.testing.assert_array_equal(np.signbit(compiled), np.signbit(reference))


def dense_grads(x, w, b, g, relu, compiled, monkeypatch):
    """affine's forward on the NumPy path, then its VJP on the chosen path."""
    monkeypatch.setattr(_compiled, "enabled", False)
    xt, wt, bt = Tensor(x), Tensor(w), Tensor(b)
    with GradientTape() as tape:
        tape.watch([xt, wt, bt])
        out = ops.affine(xt, wt, bt, relu=relu)
    monkeypatch.setattr(_compiled, "enabled", compiled)
    return [grad.value for grad in tape.gradient(out, [xt, wt, bt], output_gradients=g)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("rows, k", [(0, 3), (1, 1), (200, 1), (1, 5), (2, 2), (130, 3),
                                     (128, 512)])
def test_dense_backward_with_its_bias_gradient_is_bit_identical(ran, dtype, relu, rows, k,
                                                                 monkeypatch):
    """The bias's gradient summed in relu's pass equals the tape's un-broadcast sum, bit for
    bit (NumPy sums a column of one element pairwise, wider rows one row after another)."""
    rng = np.random.default_rng(rows * k)
    x = rng.standard_normal((rows, 6)).astype(dtype)
    w = rng.standard_normal((6, k)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    g = (rng.standard_normal((rows, k)) * 10.0 ** rng.integers(-6, 6, (rows, k))).astype(dtype)
    g.flat[:3] = [np.nan, np.inf, -0.0][: g.size]
    with np.errstate(invalid="ignore"):  # inf * 0 in the products with the gradient
        compiled = dense_grads(x, w, b, g, relu, True, monkeypatch)
        suffix = "f32" if dtype == np.float32 else "f64"
        assert ran == [f"{'relu_bias_vjp' if relu else 'bias_vjp'}_{suffix}"]
        reference = dense_grads(x, w, b, g, relu, False, monkeypatch)
    for got, want in zip(compiled, reference, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)  # NaNs in the same places
        number = ~np.isnan(want)  # (a NaN's sign depends on the order of an addition's operands)
        np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]))
    with np.errstate(invalid="ignore"):  # inf * 0 where relu's mask is 0
        through = g * (np.maximum(x @ w + b, 0) > 0) if relu else g  # the formula, independently
    np.testing.assert_allclose(compiled[2], through.sum(axis=0, dtype=np.float64), rtol=1e-4)


@pytest.mark.parametrize("k", [1, 3])
def test_a_bias_gradient_of_negative_zeros_is_positive_zero_as_in_numpy(twin, k):
    """NumPy's sum starts from +0, so a column of -0.0 sums to +0.0; the twins' too."""
    g = np.full((3, k), -0.0, np.float32)
    out = np.ones((3, k), np.float32)
    reference = np.add.reduce(g, axis=0)
    assert not np.signbit(reference).any()
    summed, through, through_summed = (np.full(k, 7, np.float32), np.empty_like(g),
                                       np.full(k, 7, np.float32))
    assert twin.bias_vjp_f32(g, summed, k) is True
    assert twin.relu_bias_vjp_f32(g, out, through, through_summed, k) is True
    for got in (summed, through_summed):
        np.testing.assert_array_equal(np.signbit(got), np.signbit(reference))
        np.testing.assert_array_equal(got, reference)


def test_dense_backward_leaves_other_bias_shapes_to_the_tape(ran):
    """A bias of shape (1, k), a 3-D batch, a bias that is not wanted: no compiled bias
    gradient, and the gradients are still right (checked against plain formulas)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    w = rng.standard_normal((5, 2)).astype(np.float32)
    for b, batch in ((rng.standard_normal((1, 2)).astype(np.float32), x[0]),
                     (rng.standard_normal(2).astype(np.float32), x)):
        bt = Tensor(b)
        with GradientTape() as tape:
            tape.watch(bt)
            out = ops.affine(batch, w, bt)
        grad = tape.gradient(out, bt).value
        assert grad.shape == b.shape
        np.testing.assert_allclose(grad.reshape(-1), np.full(2, batch.size // 5), rtol=1e-6)
    wt = Tensor(w)
    with GradientTape() as tape:
        tape.watch(wt)
        out = ops.affine(x[0], wt, np.zeros(2, np.float32), relu=True)
    grad = tape.gradient(out, wt).value
    np.testing.assert_allclose(grad, x[0].T @ (x[0] @ w > 0), rtol=1e-5)
    assert not any(name.startswith(("bias_vjp", "relu_bias_vjp")) for name in ran)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("label_dtype", DTYPES)  # to_categorical's labels are float64
@pytest.mark.parametrize("k", [1, 2, 10, 17])
def test_categorical_accuracy_is_numpys_argmax_rule(ran, dtype, label_dtype, k, monkeypatch):
    """np.argmax's rule on both sides: the first of tied maxima, the first NaN, infinities;
    soft labels; rows in a 3-D batch."""
    from numkeras import metrics

    rng = np.random.default_rng(k)
    p = rng.integers(0, 4, (6, 50, k)).astype(dtype)  # small integers: many ties
    t = one_hot(rng, 300, k, label_dtype).reshape(6, 50, k)
    t[0, :10] = rng.integers(0, 3, (10, k))  # soft labels with ties
    p[1, 0, k // 2] = np.nan
    p[1, 1, :] = np.nan
    p[1, 2, -1] = np.inf
    p[1, 3, 0] = -np.inf
    t[2, 0, k - 1] = np.nan
    t[2, 1] = p[2, 1]
    compiled = metrics.categorical_accuracy(t, p)
    assert ran == ["categorical_accuracy_f32" if dtype == np.float32 else
                   "categorical_accuracy_f64"]
    reference = (np.argmax(t, axis=-1) == np.argmax(p, axis=-1)).astype(np.float32)
    assert compiled.dtype == np.float32 and compiled.shape == (6, 50)
    np.testing.assert_array_equal(compiled, reference)
    numpy_only(monkeypatch)
    np.testing.assert_array_equal(metrics.categorical_accuracy(t, p), reference)
    if k > 1:
        assert 0 < compiled.mean() < 1


def test_categorical_accuracy_leaves_what_the_twin_declines_to_numpy(ran):
    """Integer labels, a Fortran-ordered batch, one sample of rank 1: NumPy's answer."""
    from numkeras import metrics

    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], np.float32)
    t = np.array([[0, 1, 0], [0, 0, 1]], np.int64)
    np.testing.assert_array_equal(metrics.categorical_accuracy(t, p), [1, 0])
    np.testing.assert_array_equal(metrics.categorical_accuracy(
        np.asfortranarray(t, np.float32), np.asfortranarray(p)), [1, 0])
    assert metrics.categorical_accuracy(t[0], p[0]) == 1
    assert ran == []


def test_the_twins_decline_what_they_cannot_take(twin):
    """Non-contiguous, mixed-type, mis-sized or overlapping arrays: False, nothing written."""
    a = np.ones((4, 10), np.float32)
    out = np.full((4, 10), 7, np.float32)
    assert twin.softmax_f32(np.asfortranarray(np.ones((4, 10), np.float32)), out, 10) is False
    assert twin.softmax_f32(a, np.full((4, 10), 7, np.float64), 10) is False
    assert twin.softmax_f64(a, out, 10) is False
    assert twin.softmax_f32(a, out[:, :5], 10) is False  # not contiguous
    assert twin.softmax_f32(a, np.full((4, 9), 7, np.float32), 10) is False  # wrong length
    assert twin.softmax_f32(a, out, 3) is False  # rows of 3 do not divide 40 elements
    assert twin.softmax_f32(a, out, 0) is False
    assert twin.softmax_f32(a, out, 2.5) is False
    assert twin.softmax_f32(a, a, 10) is False  # output overlaps the input
    assert twin.crossentropy_f32(a, a.copy(), np.empty(3, np.float32), 1e-7, 10) is False
    assert twin.bias_relu_f32(out, np.zeros(9, np.float32), 1.0, 10) is False
    sums = [np.full(9, 7, np.float32), np.full(7, 7, np.float32), np.full(10, 7, np.float64),
            np.full(7, 7, np.float32)]
    assert twin.bias_vjp_f32(a, sums[0], 10) is False  # a bias of 9 for rows of 10
    assert twin.bias_vjp_f32(a, sums[1], 7) is False  # rows of 7 do not divide 40 elements
    d = np.full((4, 10), 7, np.float32)
    assert twin.relu_bias_vjp_f32(a, a.copy(), d, sums[2], 10) is False  # mixed types
    assert twin.relu_bias_vjp_f32(a, a.copy(), d, sums[3], 7) is False
    assert twin.relu_bias_vjp_f32(a, a.copy(), d, d[0], 10) is False  # overlaps d
    frozen = np.ones((4, 10), np.float32)
    frozen.flags.writeable = False
    assert twin.softmax_f32(a, frozen, 10) is False
    assert twin.bias_vjp_f32(a, frozen[0], 10) is False
    for untouched in (out, d, *sums):
        np.testing.assert_array_equal(untouched, 7)
    hits = np.full(4, 7, np.float32)
    assert twin.categorical_accuracy_f32(a, a.copy(), hits[:3], 10) is False  # a hit a row
    assert twin.categorical_accuracy_f32(a, a.copy(), np.full(4, 7, np.float64), 10) is False
    assert twin.categorical_accuracy_f32(a, a[:2].copy(), hits[:2], 10) is False  # 4 rows vs 2
    assert twin.categorical_accuracy_f32(a.astype(np.int32), a.copy(), hits, 10) is False
    assert twin.categorical_accuracy_f32(a, a.copy(), hits, 3) is False
    np.testing.assert_array_equal(hits, 7)
    with pytest.raises(TypeError, match="expected 3 arrays"):
        twin.categorical_accuracy_f32(a, a, hits)
    with pytest.raises(TypeError, match="expected 2 arrays and 1 scalars"):
        twin.softmax_f32(a, out)


def test_ops_fall_back_to_numpy_for_arrays_the_twins_decline(ran):
    """A Fortran-ordered batch, a softmax along another axis, labels that broadcast: the
    results are still right (checked against plain formulas)."""
    z = np.asfortranarray(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], np.float32))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(ops.softmax(z).value, e / e.sum(axis=1, keepdims=True),
                               rtol=1e-6)
    np.testing.assert_allclose(ops.softmax(z, axis=0).value,
                               np.exp(z) / np.exp(z).sum(axis=0), rtol=1e-6)
    p = np.array([[0.25, 0.75], [0.5, 0.5]], np.float32)
    t = np.array([0.0, 1.0], np.float32)  # broadcasts over the rows
    np.testing.assert_allclose(ops.categorical_crossentropy(t, p).value,
                               [-np.log(0.75), -np.log(0.5)], rtol=1e-6)
    assert ran == []


def train_seed_network(x, y, compiled, monkeypatch):
    from numkeras import layers, models, utils

    monkeypatch.setattr(_compiled, "enabled", compiled)
    utils.set_random_seed(3)
    model = models.Sequential([layers.Input((64,)), layers.Dense(32, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    return model.get_weights(), history.history["loss"]


def test_training_with_and_without_the_twins_agrees(twin, monkeypatch):
    """The seed's network, two epochs: the same weights and losses up to float32 rounding."""
    rng = np.random.default_rng(5)
    x = rng.random((256, 64)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
    weights, losses = train_seed_network(x, y, True, monkeypatch)
    numpy_weights, numpy_losses = train_seed_network(x, y, False, monkeypatch)
    np.testing.assert_allclose(losses, numpy_losses, rtol=1e-5)
    for w, ref in zip(weights, numpy_weights, strict=True):
        np.testing.assert_allclose(w, ref, rtol=1e-4, atol=1e-6)
    assert losses[1] < losses[0]


def test_switching_the_twins_off_between_forward_and_backward(twin, monkeypatch):
    """A forward taken by the twins, a backward on NumPy (NUMKERAS_DISABLE_FUSED flipped in
    between, as a test or a comparison may do): the same gradient."""
    rng = np.random.default_rng(9)
    p = rng.random((16, 10)).astype(np.float32)
    t = one_hot(rng, 16, 10, np.float32)
    reference = crossentropy_grads(t, p, np.ones(16, np.float32), False, monkeypatch)[1]
    monkeypatch.setattr(_compiled, "enabled", True)
    pt = Tensor(p)
    with GradientTape() as tape:
        tape.watch(pt)
        loss = ops.categorical_crossentropy(t, pt)
    monkeypatch.setattr(_compiled, "enabled", False)
    np.testing.assert_array_equal(tape.gradient(loss, pt).value, reference)
