"""numkeras.losses against independent references: Keras's documented values, hand-computed
numbers, and PyTorch (values and autograd gradients) wherever the formulas agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numkeras import losses, ops
from numkeras.autodiff import GradientTape, Tensor, Variable

# The example used throughout Keras's docstrings, with Keras's documented results.
Y_TRUE = np.array([[0, 1, 0], [0, 0, 1]])
Y_PRED = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], dtype=np.float32)
LOG_EPS32 = float(np.log(np.float32(1e-7)))  # what a clipped zero probability costs, float32

RNG = np.random.default_rng(1234)


def arr(x) -> np.ndarray:
    return np.asarray(x)


def t64(x) -> torch.Tensor:
    return torch.tensor(np.asarray(x), dtype=torch.float64)


def random_logits(n: int = 6, c: int = 5) -> np.ndarray:
    logits = RNG.normal(scale=3.0, size=(n, c))
    logits[0] = [1000.0, -1000.0, 0.0, 999.0, 5.0][:c]  # huge logits must stay finite
    return logits


def random_probs(n: int = 6, c: int = 5) -> np.ndarray:
    """Positive scores that do NOT sum to 1 (Keras rescales them) and stay inside the clip."""
    return RNG.uniform(0.05, 2.0, size=(n, c))


def tape_grad(fn, x: np.ndarray) -> np.ndarray:
    """d sum(fn(x)) / dx with numkeras's tape."""
    with GradientTape() as tape:
        tape.watch(x)
        out = fn(x)
    return arr(tape.gradient(out, x))


def torch_grad(fn, x: np.ndarray) -> np.ndarray:
    xt = t64(x).requires_grad_(True)
    fn(xt).sum().backward()
    return xt.grad.numpy()


# --- categorical crossentropy ----------------------------------------------------------------
def test_categorical_crossentropy_keras_documented_values():
    per_sample = arr(losses.categorical_crossentropy(Y_TRUE, Y_PRED))
    np.testing.assert_allclose(per_sample, [-np.log(0.95), -np.log(0.1)], rtol=1e-6)
    np.testing.assert_allclose(per_sample, [0.0513, 2.303], atol=1e-3)  # Keras's docstring
    cce = losses.CategoricalCrossentropy()
    assert float(cce(Y_TRUE, Y_PRED)) == pytest.approx(1.177, abs=1e-3)
    assert float(cce(Y_TRUE, Y_PRED, sample_weight=np.array([0.3, 0.7]))) == pytest.approx(
        0.814, abs=1e-3)
    assert float(losses.CategoricalCrossentropy(reduction="sum")(Y_TRUE, Y_PRED)) == (
        pytest.approx(2.354, abs=1e-3))
    none = arr(losses.CategoricalCrossentropy(reduction=None)(Y_TRUE, Y_PRED))
    np.testing.assert_allclose(none, [0.0513, 2.303], atol=1e-3)


def test_probabilities_are_rescaled_to_sum_to_one():
    # Scores [2, 1, 1] are read as probabilities [0.5, 0.25, 0.25], as Keras does.
    loss = arr(losses.categorical_crossentropy([[1.0, 0.0, 0.0]], [[2.0, 1.0, 1.0]]))
    np.testing.assert_allclose(loss, [np.log(2.0)], rtol=1e-6)


def test_zero_probability_is_clipped_where_torch_gives_infinity():
    y_pred = np.array([[0.0, 1.0, 0.0]], dtype=np.float32)
    ours = arr(losses.categorical_crossentropy([[1, 0, 0]], y_pred))
    np.testing.assert_allclose(ours, [-LOG_EPS32], rtol=1e-6)  # -log(1e-7) ~= 16.118
    assert ours[0] == pytest.approx(16.118, abs=1e-3)
    theirs = F.nll_loss(torch.log(torch.tensor(y_pred)), torch.tensor([0]), reduction="none")
    assert torch.isinf(theirs).all()  # PyTorch does not clip; Keras (and numkeras) do
    # A certain, correct prediction costs -log(1 - 1e-7), not 0.
    sure = arr(losses.categorical_crossentropy([[0, 1, 0]], y_pred))
    assert 0 < sure[0] < 2e-7


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_from_logits_matches_torch_cross_entropy(smoothing):
    logits = random_logits()
    labels = RNG.integers(0, 5, size=6)
    one_hot = np.eye(5)[labels]
    ours = arr(losses.categorical_crossentropy(one_hot, logits, from_logits=True,
                                               label_smoothing=smoothing))
    theirs = F.cross_entropy(t64(logits), torch.tensor(labels), reduction="none",
                             label_smoothing=smoothing).numpy()
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_soft_labels_from_logits_match_torch():
    logits = random_logits()
    soft = RNG.dirichlet(np.ones(5), size=6)
    ours = arr(losses.categorical_crossentropy(soft, logits, from_logits=True))
    theirs = F.cross_entropy(t64(logits), t64(soft), reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_label_smoothing_on_probabilities_by_hand():
    # Smoothing 0.3 over 3 classes: one-hot [0, 1, 0] becomes [0.1, 0.8, 0.1].
    loss = arr(losses.categorical_crossentropy([[0, 1, 0]], [[0.2, 0.5, 0.3]],
                                               label_smoothing=0.3))
    expected = -(0.1 * np.log(0.2) + 0.8 * np.log(0.5) + 0.1 * np.log(0.3))
    np.testing.assert_allclose(loss, [expected], rtol=1e-6)


def test_categorical_crossentropy_along_another_axis():
    logits = RNG.normal(size=(4, 3, 2))  # classes on axis 1
    labels = RNG.integers(0, 3, size=(4, 2))
    one_hot = np.moveaxis(np.eye(3)[labels], -1, 1)
    ours = arr(losses.categorical_crossentropy(one_hot, logits, from_logits=True, axis=1))
    theirs = F.cross_entropy(t64(logits), torch.tensor(labels), reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


# --- sparse categorical crossentropy ------------------------------------------------------------
def test_sparse_keras_documented_values():
    scce = losses.SparseCategoricalCrossentropy()
    assert float(scce([1, 2], Y_PRED)) == pytest.approx(1.177, abs=1e-3)
    assert float(scce([1, 2], Y_PRED, sample_weight=np.array([0.3, 0.7]))) == pytest.approx(
        0.814, abs=1e-3)
    np.testing.assert_allclose(arr(losses.sparse_categorical_crossentropy([1, 2], Y_PRED)),
                               [-np.log(0.95), -np.log(0.1)], rtol=1e-6)


@pytest.mark.parametrize("from_logits", [True, False])
def test_sparse_equals_categorical_with_one_hot(from_logits):
    y_pred = random_logits() if from_logits else random_probs()
    labels = RNG.integers(0, 5, size=6)
    sparse = arr(losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits))
    column = arr(losses.sparse_categorical_crossentropy(labels[:, None], y_pred,
                                                        from_logits=from_logits))
    dense = arr(losses.categorical_crossentropy(np.eye(5)[labels], y_pred,
                                                from_logits=from_logits))
    np.testing.assert_allclose(sparse, dense, rtol=1e-12)
    np.testing.assert_allclose(column, dense, rtol=1e-12)
    if from_logits:
        theirs = F.cross_entropy(t64(y_pred), torch.tensor(labels), reduction="none").numpy()
        np.testing.assert_allclose(sparse, theirs, rtol=1e-10)
    else:
        normalised = y_pred / y_pred.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(sparse, -np.log(normalised[np.arange(6), labels]),
                                   rtol=1e-12)


def test_sparse_per_time_step_labels_match_torch():
    logits = RNG.normal(size=(3, 4, 5))  # (batch, time, classes)
    labels = RNG.integers(0, 5, size=(3, 4))
    ours = arr(losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    theirs = F.cross_entropy(t64(logits).permute(0, 2, 1), torch.tensor(labels),
                             reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean", "sum", None])
def test_ignore_class_matches_torch_ignore_index(reduction):
    logits = random_logits(8, 5)
    labels = np.array([0, -1, 4, 2, -1, 3, 1, -1])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1,
                                                reduction=reduction, dtype="float64")
    torch_reduction = {"sum_over_batch_size": "mean", "mean": "mean", "sum": "sum",
                       None: "none"}[reduction]
    theirs = F.cross_entropy(t64(logits), torch.tensor(labels), ignore_index=-1,
                             reduction=torch_reduction).numpy()
    np.testing.assert_allclose(arr(loss(labels, logits)), theirs, rtol=1e-10)
    # The function alone gives 0 for ignored samples.
    per_sample = arr(losses.sparse_categorical_crossentropy(labels, logits, from_logits=True,
                                                            ignore_class=-1))
    assert np.all(per_sample[labels == -1] == 0)


def test_ignore_class_with_sample_weight_by_hand():
    probs = random_probs(5, 3)
    labels = np.array([0, 255, 2, 1, 255])
    weights = np.array([1.0, 2.0, 0.5, 3.0, 4.0])
    normalised = probs / probs.sum(axis=1, keepdims=True)
    valid = labels != 255
    per = np.where(valid, -np.log(normalised[np.arange(5), np.where(valid, labels, 0)]), 0.0)
    kept = (weights * per)[valid]

    def run(reduction):
        loss = losses.SparseCategoricalCrossentropy(ignore_class=255, reduction=reduction,
                                                    dtype="float64")
        return float(loss(labels, probs, sample_weight=weights))

    assert run("sum_over_batch_size") == pytest.approx(kept.sum() / valid.sum(), rel=1e-12)
    assert run("sum") == pytest.approx(kept.sum(), rel=1e-12)
    assert run("mean_with_sample_weight") == pytest.approx(kept.sum() / weights[valid].sum(),
                                                           rel=1e-12)


def test_all_samples_ignored_gives_zero():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=0)
    assert float(loss([0, 0], Y_PRED)) == 0.0


# --- binary crossentropy -----------------------------------------------------------------------
def test_binary_crossentropy_keras_documented_values():
    np.testing.assert_allclose(
        arr(losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])),
        [0.916, 0.714], atol=1e-3)
    y_true = np.array([[0, 1], [0, 0]])
    logits = np.array([[-18.6, 0.51], [2.94, -12.8]])
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert float(bce(y_true, logits)) == pytest.approx(0.8654, abs=1e-3)
    assert float(bce(y_true, logits, sample_weight=[0.8, 0.2])) == pytest.approx(0.243, abs=1e-3)
    assert float(losses.BinaryCrossentropy(from_logits=True, reduction="sum")(
        y_true, logits)) == pytest.approx(1.730, abs=1e-3)
    np.testing.assert_allclose(
        arr(losses.BinaryCrossentropy(from_logits=True, reduction=None)(y_true, logits)),
        [0.235, 1.496], atol=1e-3)


def test_binary_from_logits_matches_torch_even_for_huge_logits():
    logits = RNG.normal(scale=4.0, size=(5, 3))
    logits[0] = [80.0, -80.0, 30.0]
    targets = RNG.integers(0, 2, size=(5, 3)).astype(float)
    targets[0] = [0.0, 1.0, 1.0]
    ours = arr(losses.binary_crossentropy(targets, logits, from_logits=True))
    theirs = F.binary_cross_entropy_with_logits(t64(logits), t64(targets),
                                                reduction="none").mean(-1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_binary_probabilities_match_torch_inside_the_clip_and_differ_at_zero():
    probs = RNG.uniform(0.01, 0.99, size=(4, 3))
    targets = RNG.integers(0, 2, size=(4, 3)).astype(float)
    ours = arr(losses.binary_crossentropy(targets, probs))
    theirs = F.binary_cross_entropy(t64(probs), t64(targets), reduction="none").mean(-1)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10)
    # A confident miss: Keras clips to 1e-7 (cost 16.1); PyTorch clamps log at -100.
    miss = np.array([[0.0]], dtype=np.float32)
    assert arr(losses.binary_crossentropy([[1.0]], miss))[0] == pytest.approx(-LOG_EPS32,
                                                                            rel=1e-5)
    assert F.binary_cross_entropy(torch.tensor(miss), torch.ones(1, 1)).item() == 100.0


def test_binary_label_smoothing_by_hand():
    # Smoothing 0.2 turns labels 1 and 0 into 0.9 and 0.1.
    loss = arr(losses.binary_crossentropy([[1.0, 0.0]], [[0.7, 0.4]], label_smoothing=0.2))
    expected = -np.mean([0.9 * np.log(0.7) + 0.1 * np.log(0.3),
                         0.1 * np.log(0.4) + 0.9 * np.log(0.6)])
    np.testing.assert_allclose(loss, [expected], rtol=1e-6)


def test_binary_accepts_labels_without_the_output_axis():
    probs = np.array([[0.9], [0.2], [0.6]], dtype=np.float32)
    flat = arr(losses.BinaryCrossentropy(reduction=None)([1, 0, 0], probs))
    column = arr(losses.BinaryCrossentropy(reduction=None)([[1], [0], [0]], probs))
    np.testing.assert_allclose(flat, column)
    np.testing.assert_allclose(column, -np.log([0.9, 0.8, 0.4]), rtol=1e-6)


# --- mean squared / absolute error --------------------------------------------------------------
@pytest.mark.parametrize(("ours", "theirs"), [
    (losses.mean_squared_error, F.mse_loss), (losses.mean_absolute_error, F.l1_loss),
])
def test_regression_losses_match_torch(ours, theirs):
    y_true, y_pred = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    expected = theirs(t64(y_pred), t64(y_true), reduction="none").mean(-1).numpy()
    np.testing.assert_allclose(arr(ours(y_true, y_pred)), expected, rtol=1e-12)


def test_aliases_and_rank_rule():
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mae is losses.MAE is losses.mean_absolute_error
    # (n,) targets against (n, 1) predictions: one error per sample, no broadcasting to (n, n).
    per = arr(losses.mse(np.array([1.0, 2.0, 3.0]), np.array([[1.5], [2.0], [1.0]])))
    np.testing.assert_allclose(per, [0.25, 0.0, 4.0])


# --- reductions and sample weights --------------------------------------------------------------
N = 4
PER_SAMPLE_LOGITS = RNG.normal(size=(N, 3))
PER_SAMPLE_LABELS = np.array([0, 2, 1, 2])
WEIGHTS = {
    "none": None,
    "per-sample": np.array([0.5, 2.0, 0.0, 1.5]),
    "column": np.array([[0.5], [2.0], [0.0], [1.5]]),
    "scalar": np.float64(2.5),
}


@pytest.mark.parametrize("weights", list(WEIGHTS))
@pytest.mark.parametrize("reduction",
                         ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight",
                          None, "none"])
def test_every_reduction_with_every_kind_of_sample_weight(reduction, weights):
    w = WEIGHTS[weights]
    per = F.cross_entropy(t64(PER_SAMPLE_LOGITS), torch.tensor(PER_SAMPLE_LABELS),
                          reduction="none").numpy()
    w_flat = np.ones(N) if w is None else np.broadcast_to(np.reshape(w, (-1,)), (N,))
    weighted = per * w_flat
    expected = {
        "sum": weighted.sum(),
        "sum_over_batch_size": weighted.sum() / N,
        "mean": weighted.sum() / N,
        # Keras divides by the sum of the weights as given (a scalar weight counts once).
        "mean_with_sample_weight": weighted.sum() / (N if w is None else np.sum(w)),
        None: weighted,
        "none": weighted,
    }[reduction]
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction,
                                                dtype="float64")
    got = arr(loss(PER_SAMPLE_LABELS, PER_SAMPLE_LOGITS, sample_weight=w))
    np.testing.assert_allclose(got.reshape(np.shape(expected)), expected, rtol=1e-12)
    if reduction in (None, "none") and weights == "column":
        assert got.shape == (N, 1)  # Keras expands the losses to the weights' (n, 1)


def test_per_sample_weights_apply_to_every_time_step():
    logits = RNG.normal(size=(3, 4, 5))
    labels = RNG.integers(0, 5, size=(3, 4))
    weights = np.array([1.0, 0.0, 3.0])
    per = F.cross_entropy(t64(logits).permute(0, 2, 1), torch.tensor(labels),
                          reduction="none").numpy()
    weighted = per * weights[:, None]
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    assert float(loss(labels, logits, sample_weight=weights)) == pytest.approx(
        weighted.sum() / 12, rel=1e-12)
    by_weight = losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight", dtype="float64")
    assert float(by_weight(labels, logits, sample_weight=weights)) == pytest.approx(
        weighted.sum() / weights.sum(), rel=1e-12)


def test_zero_weights_with_mean_with_sample_weight_give_zero():
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert float(loss([[1.0], [2.0]], [[0.0], [0.0]], sample_weight=[0.0, 0.0])) == 0.0


def test_bad_sample_weight_shape_and_bad_reduction():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.ones((4, 2)), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sum_over_batch_size"):
        losses.MeanSquaredError(reduction="average")


# --- dtypes ------------------------------------------------------------------------------------
def test_float32_in_float32_out():
    probs = random_probs().astype(np.float32)
    labels = RNG.integers(0, 5, size=6)
    for loss in (losses.SparseCategoricalCrossentropy(), losses.CategoricalCrossentropy(),
                 losses.BinaryCrossentropy(), losses.MeanSquaredError(),
                 losses.MeanAbsoluteError()):
        y_true = labels if isinstance(loss, losses.SparseCategoricalCrossentropy) else (
            np.eye(5)[labels])  # float64 one-hot, as to_categorical returns
        assert loss(y_true, probs / 3).dtype == np.float32
        assert loss(y_true, probs / 3, sample_weight=np.ones(6)).dtype == np.float32
    assert losses.categorical_crossentropy(np.eye(5)[labels], probs).dtype == np.float32
    # As in Keras, a Loss computes in its dtype (float32 unless given).
    assert losses.MeanSquaredError()(np.ones((2, 2)), np.zeros((2, 2))).dtype == np.float32
    assert losses.MeanSquaredError(dtype="float64")(np.ones((2, 2)), np.zeros((2, 2))).dtype == (
        np.float64)


# --- gradients ----------------------------------------------------------------------------------
def _torch_cce_probs(t):
    def fn(p):
        return -(t64(t) * torch.log(torch.clamp(p / p.sum(-1, keepdim=True), 1e-7, 1 - 1e-7))
                 ).sum(-1)
    return fn


GRADIENT_CASES = {
    "cce-logits": (lambda y, x: losses.categorical_crossentropy(y, x, from_logits=True,
                                                                label_smoothing=0.1),
                   lambda y: lambda x: F.cross_entropy(x, t64(y), reduction="none",
                                                       label_smoothing=0.1),
                   "one-hot", random_logits),
    "cce-probs": (losses.categorical_crossentropy, _torch_cce_probs, "one-hot", random_probs),
    "sparse-logits": (lambda y, x: losses.sparse_categorical_crossentropy(y, x, from_logits=True),
                      lambda y: lambda x: F.cross_entropy(x, torch.tensor(y), reduction="none"),
                      "labels", random_logits),
    "sparse-probs": (losses.sparse_categorical_crossentropy,
                     lambda y: lambda p: -torch.log(
                         p[torch.arange(len(y)), torch.tensor(y)] / p.sum(-1)),
                     "labels", random_probs),
    "bce-logits": (lambda y, x: losses.binary_crossentropy(y, x, from_logits=True),
                   lambda y: lambda x: F.binary_cross_entropy_with_logits(
                       x, t64(y), reduction="none").mean(-1),
                   "binary", lambda: RNG.normal(scale=3.0, size=(6, 5))),
    "bce-probs": (losses.binary_crossentropy,
                  lambda y: lambda p: F.binary_cross_entropy(p, t64(y), reduction="none").mean(-1),
                  "binary", lambda: RNG.uniform(0.01, 0.99, size=(6, 5))),
    "mse": (losses.mean_squared_error,
            lambda y: lambda x: F.mse_loss(x, t64(y), reduction="none").mean(-1),
            "real", lambda: RNG.normal(size=(6, 5))),
    "mae": (losses.mean_absolute_error,
            lambda y: lambda x: F.l1_loss(x, t64(y), reduction="none").mean(-1),
            "real", lambda: RNG.normal(size=(6, 5))),
}


def _targets(kind: str) -> np.ndarray:
    labels = RNG.integers(0, 5, size=6)
    return {"one-hot": np.eye(5)[labels], "labels": labels,
            "binary": RNG.integers(0, 2, size=(6, 5)).astype(float),
            "real": RNG.normal(size=(6, 5))}[kind]


@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_gradient_of_each_loss_matches_torch_autograd(case):
    ours, theirs, kind, make_input = GRADIENT_CASES[case]
    y_true, x = _targets(kind), make_input()
    np.testing.assert_allclose(tape_grad(lambda v: ours(y_true, v), x),
                               torch_grad(theirs(y_true), x), rtol=1e-9, atol=1e-12)


def test_gradient_of_probability_crossentropy_by_finite_differences():
    """Independent of torch: central differences of the float64 loss."""
    probs = random_probs(3, 4)
    y_true = np.eye(4)[[1, 3, 0]]

    def value(p):
        return float(np.sum(arr(losses.categorical_crossentropy(y_true, p))))

    numeric = np.zeros_like(probs)
    for index in np.ndindex(probs.shape):
        step = np.zeros_like(probs)
        step[index] = 1e-6
        numeric[index] = (value(probs + step) - value(probs - step)) / 2e-6
    analytic = tape_grad(lambda p: losses.categorical_crossentropy(y_true, p), probs)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_gradient_through_a_loss_class_into_a_variable(reduction):
    x = RNG.normal(size=(8, 4))
    kernel = RNG.normal(size=(4, 3))
    labels = np.array([0, 1, 2, 0, -1, 2, 1, 1])
    weights = RNG.uniform(0.5, 2.0, size=8)
    w = Variable(kernel, dtype="float64")
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1,
                                                reduction=reduction, dtype="float64")
    with GradientTape() as tape:
        value = loss(labels, ops.matmul(x, w), sample_weight=weights)
    ours = arr(tape.gradient(value, w))

    kt = t64(kernel).requires_grad_(True)
    per = F.cross_entropy(t64(x) @ kt, torch.tensor(labels), ignore_index=-1, reduction="none")
    valid = torch.tensor(labels != -1, dtype=torch.float64)
    total = (per * t64(weights)).sum()
    divisor = {"sum_over_batch_size": valid.sum(), "sum": 1.0,
               "mean_with_sample_weight": (t64(weights) * valid).sum()}[reduction]
    (total / divisor).backward()
    assert float(value) == pytest.approx((total / divisor).item(), rel=1e-12)
    np.testing.assert_allclose(ours, kt.grad.numpy(), rtol=1e-10)


# --- custom losses ------------------------------------------------------------------------------
class SquaredHingeLike(losses.Loss):
    def call(self, y_true, y_pred):
        return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def test_custom_loss_subclass_gets_reduction_weights_and_gradients():
    y_true = np.array([[1.0, -1.0], [-1.0, 1.0]])
    y_pred = np.array([[0.5, 0.5], [-2.0, 3.0]])
    per = np.mean(np.maximum(1 - y_true * y_pred, 0) ** 2, axis=-1)  # [0.125 + 1.125, 0]
    np.testing.assert_allclose(per, [1.25, 0.0])
    loss = SquaredHingeLike(dtype="float64")
    assert loss.name == "squared_hinge_like"
    assert float(loss(y_true, y_pred)) == pytest.approx(per.mean())
    assert float(loss(y_true, y_pred, sample_weight=[2.0, 1.0])) == pytest.approx(1.25)
    summed = SquaredHingeLike(reduction="sum", name="mine")
    assert summed.get_config() == {"name": "mine", "reduction": "sum"}
    assert SquaredHingeLike.from_config(summed.get_config()).reduction == "sum"
    grad = tape_grad(lambda p: loss(y_true, p), y_pred)
    np.testing.assert_allclose(grad, [[-0.25, 0.75], [0.0, 0.0]])  # d/dp of mean over 4 terms


def test_loss_without_call_raises():
    with pytest.raises(NotImplementedError, match="call"):
        losses.Loss()(np.ones(2), np.ones(2))


def test_subclass_of_sparse_crossentropy_can_override_call():
    class Doubled(losses.SparseCategoricalCrossentropy):
        def call(self, y_true, y_pred):
            return 2.0 * super().call(y_true, y_pred)

    base = float(losses.SparseCategoricalCrossentropy()([1, 2], Y_PRED))
    assert float(Doubled()([1, 2], Y_PRED)) == pytest.approx(2 * base)


def test_loss_function_wrapper():
    wrapped = losses.LossFunctionWrapper(losses.categorical_crossentropy, from_logits=True)
    logits = random_logits()
    one_hot = np.eye(5)[RNG.integers(0, 5, size=6)]
    expected = np.mean(arr(losses.categorical_crossentropy(one_hot, logits, from_logits=True)))
    assert float(wrapped(one_hot, logits)) == pytest.approx(expected, rel=1e-6)
    assert wrapped.name == "categorical_crossentropy"
    config = wrapped.get_config()
    assert config["from_logits"] is True
    again = losses.LossFunctionWrapper.from_config(config)
    assert again.fn is losses.categorical_crossentropy
    assert float(again(one_hot, logits)) == pytest.approx(expected, rel=1e-6)


# --- get / serialize ----------------------------------------------------------------------------
def test_get_resolves_names_classes_callables_and_configs():
    assert losses.get("categorical_crossentropy") is losses.categorical_crossentropy
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MAE") is losses.mean_absolute_error
    assert losses.get("bce") is losses.binary_crossentropy
    assert isinstance(losses.get(losses.MeanSquaredError), losses.MeanSquaredError)
    instance = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert losses.get(instance) is instance

    def custom(y_true, y_pred):
        return ops.mean(y_pred, axis=-1)

    assert losses.get(custom) is custom
    assert losses.get(None) is None
    configured = losses.get({"class_name": "CategoricalCrossentropy",
                             "config": {"from_logits": True}})
    assert configured.from_logits is True


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown loss 'categorical_crossentrophy'") as info:
        losses.get("categorical_crossentrophy")
    for name in ("categorical_crossentropy", "SparseCategoricalCrossentropy", "mse"):
        assert name in str(info.value)


def test_serialize_round_trip():
    original = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1,
                                              reduction="sum", name="cce")
    config = losses.serialize(original)
    assert config["class_name"] == "CategoricalCrossentropy"
    assert config["config"] == {"name": "cce", "reduction": "sum", "from_logits": True,
                                "label_smoothing": 0.1, "axis": -1}
    again = losses.deserialize(config)
    assert isinstance(again, losses.CategoricalCrossentropy)
    assert again.get_config() == original.get_config()
    sparse = losses.SparseCategoricalCrossentropy(ignore_class=255)
    assert losses.deserialize(losses.serialize(sparse)).ignore_class == 255
    assert losses.deserialize(losses.serialize(losses.mse)) is losses.mean_squared_error
    assert losses.deserialize("mae") is losses.mean_absolute_error


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [np.array([1, 2]), np.array([[1], [2]])])
def test_integer_labels_to_categorical_crossentropy(labels):
    for call in (lambda: losses.categorical_crossentropy(labels, Y_PRED),
                 lambda: losses.CategoricalCrossentropy()(labels, Y_PRED)):
        with pytest.raises(ValueError, match="sparse_categorical_crossentropy") as info:
            call()
        assert "to_categorical" in str(info.value)


def test_one_hot_labels_to_sparse_crossentropy():
    for call in (lambda: losses.sparse_categorical_crossentropy(Y_TRUE, Y_PRED),
                 lambda: losses.SparseCategoricalCrossentropy()(Y_TRUE, Y_PRED)):
        with pytest.raises(ValueError, match="one-hot") as info:
            call()
        assert "'categorical_crossentropy'" in str(info.value)


def test_categorical_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(2, 4\).*\(2, 3\)"):
        losses.categorical_crossentropy(np.eye(4)[:2], Y_PRED)


@pytest.mark.parametrize(("labels", "bad"), [([1, 3], "3"), ([-1, 2], "-1"), ([1, 10], "10")])
def test_sparse_labels_out_of_range(labels, bad):
    with pytest.raises(ValueError, match=rf"label {bad} is outside \[0, 3\)"):
        losses.SparseCategoricalCrossentropy()(labels, Y_PRED)


def test_negative_label_error_suggests_ignore_class_and_ignore_class_allows_it():
    with pytest.raises(ValueError, match="ignore_class=-1"):
        losses.sparse_categorical_crossentropy([-1, 2], Y_PRED)
    losses.sparse_categorical_crossentropy([-1, 2], Y_PRED, ignore_class=-1)
    with pytest.raises(ValueError, match="label -2"):
        losses.sparse_categorical_crossentropy([-2, -1], Y_PRED, ignore_class=-1)


def test_sparse_labels_must_be_whole_numbers():
    with pytest.raises(ValueError, match="whole numbers.*1.5"):
        losses.sparse_categorical_crossentropy(np.array([1.5, 2.0]), Y_PRED)


def test_sparse_label_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        losses.sparse_categorical_crossentropy([0, 1, 2], Y_PRED)


@pytest.mark.parametrize("fn", [losses.binary_crossentropy, losses.mean_squared_error,
                                losses.mean_absolute_error])
def test_shape_mismatch_for_elementwise_losses(fn):
    with pytest.raises(ValueError, match=rf"{fn.__name__}.*\(4, 2\).*\(4, 3\)"):
        fn(np.zeros((4, 2)), np.full((4, 3), 0.5))
    # Keras would broadcast (n, 1) targets against (n, 3) predictions; numkeras refuses.
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4, 3\)"):
        fn(np.zeros((4, 1)), np.full((4, 3), 0.5))


def test_single_class_categorical_warns():
    with pytest.warns(SyntaxWarning, match="binary_crossentropy"):
        losses.categorical_crossentropy([[1.0]], [[0.7]])


def test_loss_accepts_tensors_and_lists():
    expected = float(losses.CategoricalCrossentropy()(Y_TRUE, Y_PRED))
    got = losses.CategoricalCrossentropy()(Y_TRUE.tolist(), Tensor(Y_PRED))
    assert float(got) == pytest.approx(expected)
