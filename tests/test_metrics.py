"""numkeras.metrics against hand-computed values and Keras's documented examples."""

from __future__ import annotations

import numpy as np
import pytest

from numkeras import losses, metrics
from numkeras.autodiff import Tensor


def feed(metric, batches):
    """Update with each batch in turn; return result() after each one."""
    results = []
    for batch in batches:
        metric.update_state(*batch[:2], sample_weight=batch[2] if len(batch) > 2 else None)
        results.append(float(metric.result()))
    return results


# --- reduction metrics --------------------------------------------------------------------------
def test_mean_and_sum_keras_examples():
    assert float(metrics.Mean()([1, 3, 5, 7])) == 4.0
    assert float(metrics.Mean()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])) == 2.0
    assert float(metrics.Sum()([1, 3, 5, 7])) == 16.0
    assert float(metrics.Sum()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])) == 4.0


def test_mean_is_a_running_mean_over_samples_not_batches():
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0])  # total 6, count 3
    mean.update_state([10.0])  # total 16, count 4
    assert float(mean.result()) == 4.0  # a mean of batch means would give 6
    mean.update_state([0.0, 4.0], sample_weight=[3.0, 1.0])  # total 20, count 8
    assert float(mean.result()) == 2.5


def test_mean_weight_semantics_follow_keras():
    # A scalar weight weighs the batch's mean once: total += 2 * mean([1, 3]), count += 2.
    mean = metrics.Mean()
    mean.update_state([1.0, 3.0], sample_weight=2.0)
    mean.update_state([7.0], sample_weight=[1.0])
    assert float(mean.result()) == pytest.approx((2 * 2 + 7) / 3)
    # Per-sample weights on (n, t) values: each sample's values are averaged first.
    mean = metrics.Mean()
    mean.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[1.0, 3.0])
    assert float(mean.result()) == pytest.approx((1 * 2 + 3 * 6) / 4)
    # Weights of the values' shape: both are averaged per sample, then weighted-summed.
    mean = metrics.Mean()
    mean.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[[1.0, 0.0], [1.0, 1.0]])
    assert float(mean.result()) == pytest.approx((0.5 + 6.0) / (0.5 + 1.0))
    # Without weights, (n, t) values count n samples of their row means.
    mean = metrics.Mean()
    mean.update_state([[1.0, 3.0], [5.0, 7.0]])
    mean.update_state([[0.0, 0.0]])
    assert float(mean.result()) == pytest.approx((2 + 6 + 0) / 3)


def test_result_type_reset_and_empty_state():
    mean = metrics.Mean()
    assert float(mean.result()) == 0.0  # nothing seen yet: 0, not NaN
    mean.update_state([2.0, 4.0])
    result = mean.result()
    assert isinstance(result, np.float32)
    assert result == 3.0
    mean.reset_state()
    assert float(mean.result()) == 0.0
    assert [float(v.value) for v in mean.variables] == [0.0, 0.0]
    mean.update_state([10.0])
    assert float(mean.result()) == 10.0


def test_bad_weight_shape():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        metrics.Mean().update_state([1.0, 2.0], sample_weight=[1.0, 1.0, 1.0])


# --- accuracies ---------------------------------------------------------------------------------
def test_accuracy_keras_examples():
    acc = metrics.Accuracy()
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert float(acc.result()) == 0.75
    acc.reset_state()
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert float(acc.result()) == 0.5


def test_categorical_accuracy_over_batches_with_and_without_weights():
    one_hot = np.eye(3)
    batch1 = (one_hot[[0, 1, 2, 2]], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1],
                                       [0.5, 0.2, 0.3], [0.1, 0.1, 0.8]])  # hits 1, 1, 0, 1
    batch2 = (one_hot[[1, 0]], [[0.9, 0.05, 0.05], [0.6, 0.3, 0.1]])  # hits 0, 1
    assert feed(metrics.CategoricalAccuracy(), [batch1, batch2]) == pytest.approx(
        [3 / 4, 4 / 6])
    weighted = [(*batch1, [1.0, 2.0, 5.0, 0.5]), (*batch2, [4.0, 1.0])]
    assert feed(metrics.CategoricalAccuracy(), weighted) == pytest.approx(
        [3.5 / 8.5, 4.5 / 13.5])


def test_categorical_accuracy_keras_example():
    acc = metrics.CategoricalAccuracy()
    y_true, y_pred = [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    assert float(acc(y_true, y_pred)) == 0.5
    acc.reset_state()
    assert float(acc(y_true, y_pred, sample_weight=[0.7, 0.3])) == pytest.approx(0.3)


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_sparse_categorical_accuracy_with_flat_or_column_labels(shape):
    labels = np.array([2, 0, 1, 1]).reshape(shape)
    probs = np.array([[0.1, 0.2, 0.7], [0.3, 0.6, 0.1], [0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])
    # Hits: 1, 0, 1, and a tie between classes 0 and 1 goes to the first (0): miss.
    assert feed(metrics.SparseCategoricalAccuracy(), [(labels, probs)]) == [0.5]
    assert feed(metrics.SparseCategoricalAccuracy(),
                [(labels, probs, [1.0, 1.0, 2.0, 0.0])]) == pytest.approx([0.75])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(labels, probs),
                                  [1, 0, 1, 0])


def test_sparse_categorical_accuracy_keras_example_and_float_labels():
    acc = metrics.SparseCategoricalAccuracy()
    assert float(acc([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])) == 0.5
    acc.reset_state()
    assert float(acc([2.0, 1.0], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]],
                     sample_weight=[0.7, 0.3])) == pytest.approx(0.3)


def test_binary_accuracy_thresholds_and_shapes():
    acc = metrics.BinaryAccuracy()
    assert float(acc([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])) == 0.75
    acc.reset_state()
    assert float(acc([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]],
                     sample_weight=[1, 0, 0, 1])) == 0.5
    # (n,) labels against (n, 1) predictions are compared per sample.
    strict = metrics.BinaryAccuracy(threshold=0.7)
    assert float(strict([1, 1, 0], [[0.75], [0.65], [0.5]])) == pytest.approx(2 / 3)
    # Several outputs per sample: the fraction right per sample, then the mean.
    multi = metrics.binary_accuracy([[1, 0], [1, 1]], [[0.9, 0.8], [0.6, 0.7]])
    np.testing.assert_allclose(multi, [0.5, 1.0])
    with pytest.raises(ValueError, match="threshold"):
        metrics.BinaryAccuracy(threshold=1.5)


def test_top_k_accuracies():
    y_pred = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0.0], [0.5, 0.3, 0.2]])
    labels = np.array([2, 1, 2])
    one_hot = np.eye(3)[labels]
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, y_pred, k=1),
                                  [0, 1, 0])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, y_pred, k=2),
                                  [1, 1, 0])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(one_hot, y_pred, k=2),
                                  [1, 1, 0])
    # Keras's examples.
    top1 = metrics.TopKCategoricalAccuracy(k=1)
    assert float(top1([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])) == 0.5
    sparse1 = metrics.SparseTopKCategoricalAccuracy(k=1)
    assert float(sparse1([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
                         sample_weight=[0.7, 0.3])) == pytest.approx(0.3)
    # Ties at the k-th place count as in the top k (TensorFlow's in_top_k).
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy([2], [[0.5, 0.5, 0.5]], k=1), [1])
    assert metrics.TopKCategoricalAccuracy().k == 5


# --- regression and crossentropy metrics --------------------------------------------------------
def test_mean_squared_and_absolute_error_over_weighted_batches():
    batch1 = ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 4.0], [2.0, 4.0]], [1.0, 3.0])
    batch2 = ([[0.0, 0.0]], [[3.0, -1.0]], [2.0])
    # Per-sample MSE: 2.0, 0.5 | 5.0. MAE: 1.0, 0.5 | 2.0.
    assert feed(metrics.MeanSquaredError(), [batch1[:2], batch2[:2]]) == pytest.approx(
        [1.25, 7.5 / 3])
    assert feed(metrics.MeanSquaredError(), [batch1, batch2]) == pytest.approx(
        [3.5 / 4, 13.5 / 6])
    assert feed(metrics.MeanAbsoluteError(), [batch1, batch2]) == pytest.approx(
        [2.5 / 4, 6.5 / 6])
    assert metrics.get("mse").name == "mean_squared_error"


def test_crossentropy_metrics_keras_examples():
    y_pred = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    cce = metrics.CategoricalCrossentropy()
    assert float(cce([[0, 1, 0], [0, 0, 1]], y_pred)) == pytest.approx(1.1769392, rel=1e-6)
    cce.reset_state()
    assert float(cce([[0, 1, 0], [0, 0, 1]], y_pred, sample_weight=np.array([0.3, 0.7]))) == (
        pytest.approx(1.6271976, rel=1e-6))
    scce = metrics.SparseCategoricalCrossentropy()
    assert float(scce([1, 2], y_pred)) == pytest.approx(1.1769392, rel=1e-6)
    bce = metrics.BinaryCrossentropy()
    expected = -np.mean([np.log(0.4), np.log(0.4), np.log(0.6), np.log(0.4)])
    assert float(bce([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])) == pytest.approx(expected,
                                                                                  rel=1e-6)


def test_metrics_accept_tensors():
    acc = metrics.SparseCategoricalAccuracy()
    acc.update_state(Tensor(np.array([1, 0])), Tensor(np.array([[0.2, 0.8], [0.3, 0.7]])))
    assert float(acc.result()) == 0.5


# --- bad input ----------------------------------------------------------------------------------
def test_integer_labels_to_categorical_accuracy_and_one_hot_to_sparse():
    with pytest.raises(ValueError, match="sparse_categorical_accuracy"):
        metrics.CategoricalAccuracy().update_state([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="one-hot"):
        metrics.SparseCategoricalAccuracy().update_state([[1, 0], [0, 1]],
                                                         [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        metrics.categorical_accuracy(np.eye(3)[:2], [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="label 5"):
        metrics.sparse_top_k_categorical_accuracy([5], [[0.1, 0.9]], k=1)


# --- resolving 'accuracy' and names -------------------------------------------------------------
@pytest.mark.parametrize(("loss", "y_true", "y_pred", "expected"), [
    ("binary_crossentropy", (32, 1), (32, 1), metrics.BinaryAccuracy),
    ("binary_crossentropy", (32,), (32, 1), metrics.BinaryAccuracy),
    (losses.BinaryCrossentropy(from_logits=True), (32,), (32,), metrics.BinaryAccuracy),
    ("sparse_categorical_crossentropy", (32,), (32, 10), metrics.SparseCategoricalAccuracy),
    ("sparse_categorical_crossentropy", (32, 1), (32, 10), metrics.SparseCategoricalAccuracy),
    (losses.SparseCategoricalCrossentropy(), (8, 5), (8, 5, 10),
     metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", (32, 10), (32, 10), metrics.CategoricalAccuracy),
    (losses.categorical_crossentropy, (32, 10), (32, 10), metrics.CategoricalAccuracy),
    ("mse", (32, 10), (32, 10), metrics.CategoricalAccuracy),
    # Keras 3 decides from the shapes alone, whatever the loss says:
    ("categorical_crossentropy", (32,), (32, 10), metrics.SparseCategoricalAccuracy),
])
def test_resolve_accuracy_for_each_loss_and_shape(loss, y_true, y_pred, expected):
    metric = metrics.resolve_accuracy(loss, y_true, y_pred)
    assert type(metric) is expected
    assert metric.name == "accuracy"


def test_resolve_accuracy_warns_for_multi_label_binary_crossentropy():
    with pytest.warns(UserWarning, match="BinaryAccuracy"):
        metric = metrics.resolve_accuracy("binary_crossentropy", (16, 5), (16, 5))
    assert type(metric) is metrics.CategoricalAccuracy  # Keras's choice, kept


def test_get_metric_resolves_accuracy_names_and_wraps_functions():
    acc = metrics.get_metric("acc", (4,), (4, 3))
    assert type(acc) is metrics.SparseCategoricalAccuracy and acc.name == "acc"
    assert type(metrics.get_metric("accuracy", (4, 1), (4, 1))) is metrics.BinaryAccuracy
    assert type(metrics.get_metric("mae", (4, 1), (4, 1))) is metrics.MeanAbsoluteError

    def hits(y_true, y_pred):
        return (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float32)

    wrapped = metrics.get_metric(hits, (3,), (3,))
    assert isinstance(wrapped, metrics.MeanMetricWrapper) and wrapped.name == "hits"
    assert float(wrapped([1, 2, 3], [1, 0, 3])) == pytest.approx(2 / 3)


def test_get_names_classes_instances_and_configs():
    assert type(metrics.get("accuracy")) is metrics.Accuracy  # as keras.metrics.get
    assert type(metrics.get("categorical_accuracy")) is metrics.CategoricalAccuracy
    assert type(metrics.get("SparseCategoricalAccuracy")) is metrics.SparseCategoricalAccuracy
    assert type(metrics.get("MAE")) is metrics.MeanAbsoluteError
    instance = metrics.BinaryAccuracy(threshold=0.3)
    assert metrics.get(instance) is instance
    assert type(metrics.get(metrics.Mean)) is metrics.Mean
    assert metrics.get(None) is None
    configured = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.2}})
    assert configured.threshold == 0.2


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown metric 'accuracyy'") as info:
        metrics.get("accuracyy")
    for name in ("accuracy", "categorical_accuracy", "SparseCategoricalAccuracy", "mse"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match="resolve_accuracy"):
        metrics.get("acc")


def test_config_round_trip():
    original = metrics.TopKCategoricalAccuracy(k=3, name="top3")
    again = metrics.deserialize(metrics.serialize(original))
    assert type(again) is metrics.TopKCategoricalAccuracy
    assert again.get_config() == {"name": "top3", "dtype": "float32", "k": 3}
    wrapper = metrics.MeanMetricWrapper(metrics.binary_accuracy, threshold=0.8)
    rebuilt = metrics.MeanMetricWrapper.from_config(wrapper.get_config())
    assert float(rebuilt([1, 0], [0.7, 0.2])) == 0.5  # 0.7 is below the 0.8 threshold


# --- custom metrics -----------------------------------------------------------------------------
class TruePositives(metrics.Metric):
    def __init__(self, name="true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros", name="tp")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = (np.asarray(y_true) == 1) & (np.asarray(y_pred) > 0.5)
        self.true_positives.assign_add(np.sum(hits))

    def result(self):
        return self.true_positives.value[()]


def test_custom_metric_subclass():
    tp = TruePositives()
    assert tp.name == "true_positives" and tp.dtype == "float32"
    assert float(tp([1, 1, 0, 1], [0.9, 0.2, 0.8, 0.7])) == 2.0
    assert float(tp([1], [0.6])) == 3.0
    tp.reset_state()
    assert float(tp.result()) == 0.0


def test_forgetting_super_init_is_reported():
    class Broken(metrics.Metric):
        def __init__(self):
            self.total = self.add_variable(name="total")

    with pytest.raises(RuntimeError, match="super"):
        Broken()
