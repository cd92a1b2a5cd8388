"""to_categorical and normalize against hand-written expected arrays, shape rules, errors."""

from __future__ import annotations

import numpy as np
import pytest

from numkeras.utils import normalize, to_categorical

# to_categorical: values and dtype


def test_vector_with_num_classes() -> None:
    result = to_categorical([0, 2, 1, 3], num_classes=4)
    expected = np.array(
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, expected)


def test_num_classes_inferred_from_max() -> None:
    result = to_categorical(np.array([2, 0], dtype=np.uint8))
    np.testing.assert_array_equal(result, [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert result.shape == (2, 3)


def test_more_classes_than_seen() -> None:
    np.testing.assert_array_equal(to_categorical([1], num_classes=5), [[0.0, 1.0, 0.0, 0.0, 0.0]])


def test_column_vector_is_squeezed() -> None:
    result = to_categorical(np.array([[1], [0], [1]]), num_classes=2)
    np.testing.assert_array_equal(result, [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])


def test_single_label_keeps_its_axis() -> None:
    assert to_categorical([0], num_classes=3).shape == (1, 3)


def test_scalar_label() -> None:
    np.testing.assert_array_equal(to_categorical(2, num_classes=3), [0.0, 0.0, 1.0])


def test_rank_two_labels_get_a_class_axis() -> None:
    result = to_categorical([[0, 1], [1, 1]], num_classes=2)
    expected = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    assert result.shape == (2, 2, 2)
    np.testing.assert_array_equal(result, expected)


def test_rank_three_trailing_one_is_squeezed() -> None:
    labels = np.array([[[0], [2]], [[1], [0]], [[2], [2]]])
    result = to_categorical(labels, num_classes=3)
    assert result.shape == (3, 2, 3)
    np.testing.assert_array_equal(result[1, 0], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(result[2, 1], [0.0, 0.0, 1.0])


def test_whole_floats_and_bools_are_labels() -> None:
    np.testing.assert_array_equal(to_categorical([1.0, 0.0]), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(to_categorical([True, False]), [[0.0, 1.0], [1.0, 0.0]])


def test_empty_labels_with_num_classes() -> None:
    assert to_categorical(np.array([], dtype=int), num_classes=4).shape == (0, 4)


def test_input_not_modified() -> None:
    labels = np.array([[1], [0]])
    to_categorical(labels)
    np.testing.assert_array_equal(labels, [[1], [0]])


# to_categorical: errors (Keras does not check these)


def test_negative_label_names_value_and_position() -> None:
    with pytest.raises(ValueError, match=r"label -1 at position \(2,\) is negative"):
        to_categorical([0, 1, -1, 2])


def test_non_integer_label() -> None:
    with pytest.raises(ValueError, match=r"label 1.5 at position \(1, 0\) is not a whole number"):
        to_categorical([[0.0], [1.5]])


def test_nan_label() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        to_categorical([0.0, float("nan")], num_classes=2)


def test_too_large_label() -> None:
    message = r"label 3 at position \(0, 1\) is not below num_classes=3"
    with pytest.raises(ValueError, match=message):
        to_categorical([[0, 3], [1, 2]], num_classes=3)


def test_counts_other_bad_labels() -> None:
    with pytest.raises(ValueError, match=r"\(2 more such label\(s\)\)"):
        to_categorical([5, 6, 7], num_classes=2)


@pytest.mark.parametrize("num_classes", [0, -2, 2.5, "3"])
def test_bad_num_classes(num_classes) -> None:
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([0, 1], num_classes=num_classes)


def test_empty_labels_without_num_classes() -> None:
    with pytest.raises(ValueError, match="cannot infer num_classes"):
        to_categorical([])


def test_string_labels() -> None:
    with pytest.raises(ValueError, match="integer class labels"):
        to_categorical(["cat", "dog"])


# normalize


def test_normalize_l2_rows() -> None:
    result = normalize(np.array([[3.0, 4.0], [0.0, 2.0]]))
    np.testing.assert_allclose(result, [[0.6, 0.8], [0.0, 1.0]])


def test_normalize_zero_vector_unchanged() -> None:
    np.testing.assert_array_equal(normalize(np.array([[0.0, 0.0], [0.0, 5.0]])), [[0, 0], [0, 1]])


def test_normalize_axis_zero() -> None:
    x = np.array([[3.0, 1.0, 0.0], [4.0, 0.0, 0.0]])
    expected = [[0.6, 1.0, 0.0], [0.8, 0.0, 0.0]]
    np.testing.assert_allclose(normalize(x, axis=0), expected)


def test_normalize_order_one() -> None:
    np.testing.assert_allclose(normalize(np.array([[1.0, 3.0]]), order=1), [[0.25, 0.75]])


def test_normalize_one_dimensional_keeps_shape() -> None:
    result = normalize([3, 4])
    assert result.shape == (2,)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, [0.6, 0.8])


def test_normalize_keeps_float32_and_input() -> None:
    x = np.array([[0.0, 2.0]], dtype=np.float32)
    result = normalize(x)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, [[0.0, 1.0]])
    np.testing.assert_array_equal(x, [[0.0, 2.0]])


def test_normalize_three_dimensional_middle_axis() -> None:
    x = np.zeros((2, 2, 3))
    x[0, :, 0] = [6.0, 8.0]
    result = normalize(x, axis=1)
    np.testing.assert_allclose(result[0, :, 0], [0.6, 0.8])
    np.testing.assert_array_equal(result[1], np.zeros((2, 3)))


@pytest.mark.parametrize(("x", "axis"), [([1.0, 2.0], 1), ([1.0], None), (3.0, -1)])
def test_normalize_bad_axis_or_scalar(x, axis) -> None:
    with pytest.raises(ValueError):
        normalize(x, axis=axis)
