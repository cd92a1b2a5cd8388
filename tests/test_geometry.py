"""Rotations, scalings and affine maps as dot products, and moving images with them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numkeras import geometry as g

angles = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False)
FEW = settings(max_examples=50, deadline=None)


# --- matrices --------------------------------------------------------------------------------
def test_rotation_by_90_degrees_turns_x_axis_into_y_axis():
    np.testing.assert_allclose(g.rotation_matrix(np.pi / 2) @ [1.0, 0.0], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(g.rotation_matrix(np.pi / 2) @ [0.0, 1.0], [-1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(g.rotation_matrix(np.pi) @ [2.0, 3.0], [-2.0, -3.0], atol=1e-12)


def test_rotation_by_45_degrees_by_hand():
    half_root_two = np.sqrt(2) / 2
    np.testing.assert_allclose(
        g.rotation_matrix(np.pi / 4) @ [1.0, 0.0], [half_root_two, half_root_two]
    )


@FEW
@given(angles)
def test_rotation_matrices_are_orthogonal_with_determinant_one(angle):
    r = g.rotation_matrix(angle)
    assert r.shape == (2, 2)
    np.testing.assert_allclose(r @ r.T, np.eye(2), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


@FEW
@given(angles, angles)
def test_rotations_add_up(a, b):
    np.testing.assert_allclose(
        g.rotation_matrix(a) @ g.rotation_matrix(b), g.rotation_matrix(a + b), atol=1e-9
    )


def test_scaling():
    np.testing.assert_array_equal(g.scaling_matrix(2.0, 3.0) @ [1.0, 1.0], [2.0, 3.0])
    np.testing.assert_array_equal(g.scaling_matrix(2.0) @ [1.0, -4.0], [2.0, -8.0])


def test_affine_and_translation_matrices_by_hand():
    np.testing.assert_array_equal(g.translation_matrix(5, -2), [[1, 0, 5], [0, 1, -2], [0, 0, 1]])
    np.testing.assert_array_equal(
        g.affine_matrix(linear=[[1, 2], [3, 4]], translation=[5, 6]),
        [[1, 2, 5], [3, 4, 6], [0, 0, 1]],
    )
    np.testing.assert_array_equal(g.affine_matrix(), np.eye(3))


def test_compose_applies_maps_in_the_order_given():
    double = g.scaling_matrix(2.0)
    shift = g.translation_matrix(1.0, 0.0)
    point = np.array([[1.0, 0.0]])
    # Double first, then shift: (1, 0) -> (2, 0) -> (3, 0).
    np.testing.assert_allclose(g.apply_affine(g.compose(double, shift), point), [[3.0, 0.0]])
    # Shift first, then double: (1, 0) -> (2, 0) -> (4, 0).
    np.testing.assert_allclose(g.apply_affine(g.compose(shift, double), point), [[4.0, 0.0]])
    # Rotate a quarter turn, then shift: (1, 0) -> (0, 1) -> (1, 1).
    quarter = g.rotation_matrix(np.pi / 2)
    np.testing.assert_allclose(
        g.apply_affine(g.compose(quarter, shift), point), [[1.0, 1.0]], atol=1e-12
    )
    np.testing.assert_array_equal(g.compose(), np.eye(3))


def test_apply_affine_equals_the_formula_written_out():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(7, 2))
    a, b, c, d, tx, ty = rng.normal(size=6)
    matrix = [[a, b, tx], [c, d, ty], [0.0, 0.0, 1.0]]
    expected = [(a * x + b * y + tx, c * x + d * y + ty) for x, y in points]
    result = g.apply_affine(matrix, points)
    assert result.shape == (7, 2)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    # A 2x2 matrix is the same map without a translation.
    expected_linear = [(a * x + b * y, c * x + d * y) for x, y in points]
    np.testing.assert_allclose(g.apply_affine([[a, b], [c, d]], points), expected_linear)


@pytest.mark.parametrize("points_shape", [(2,), (3, 3), (4, 2, 1)])
def test_apply_affine_rejects_bad_point_shapes(points_shape):
    with pytest.raises(ValueError, match=str(points_shape).replace("(", r"\(").replace(")", r"\)")):
        g.apply_affine(np.eye(3), np.zeros(points_shape))


@pytest.mark.parametrize("matrix_shape", [(2, 3), (3,), (4, 4)])
def test_bad_matrix_shapes_are_rejected(matrix_shape):
    with pytest.raises(ValueError) as error:
        g.apply_affine(np.ones(matrix_shape), np.zeros((1, 2)))
    assert str(matrix_shape) in str(error.value)
    with pytest.raises(ValueError) as error:
        g.transform_image(np.zeros((3, 3)), np.ones(matrix_shape))
    assert str(matrix_shape) in str(error.value)


def test_non_affine_and_bad_parts_are_rejected():
    with pytest.raises(ValueError, match="last row"):
        g.apply_affine([[1, 0, 0], [0, 1, 0], [1, 0, 1]], np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        g.affine_matrix(linear=np.eye(3))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        g.affine_matrix(translation=[1, 2, 3])


# --- images ----------------------------------------------------------------------------------
def picture(height: int, width: int, channels: int | None = None) -> np.ndarray:
    """An image whose every pixel has a different value, so any misplacement shows."""
    shape = (height, width) if channels is None else (height, width, channels)
    return np.arange(np.prod(shape), dtype=np.float64).reshape(shape) + 1.0


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape", [(4, 6), (5, 7), (5, 7, 3), (1, 1)])
def test_identity_leaves_the_image_unchanged(shape, interpolation):
    image = picture(*shape)
    for identity in (np.eye(2), np.eye(3)):
        result = g.transform_image(image, identity, interpolation=interpolation)
        np.testing.assert_array_equal(result, image)
        assert result.dtype == image.dtype


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape", [(5, 7), (3, 3), (5, 3, 2)])
def test_half_turn_of_an_odd_sized_image_flips_both_axes(shape, interpolation):
    image = picture(*shape)
    result = g.transform_image(image, g.rotation_matrix(np.pi), interpolation=interpolation)
    np.testing.assert_array_equal(result, image[::-1, ::-1])


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_quarter_turn_is_clockwise_on_screen(interpolation):
    # Rows grow downward, so the math picture's counter-clockwise turn is clockwise here:
    # the top row becomes the right column.
    image = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.float32)
    result = g.transform_image(image, g.rotation_matrix(np.pi / 2), interpolation=interpolation)
    np.testing.assert_array_equal(result, [[7, 4, 1], [8, 5, 2], [9, 6, 3]])


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_translation_by_one_column_shifts_columns_right(interpolation):
    image = picture(3, 4)
    result = g.transform_image(
        image, g.translation_matrix(1, 0), fill=-1, interpolation=interpolation
    )
    np.testing.assert_array_equal(result[:, 1:], image[:, :-1])
    np.testing.assert_array_equal(result[:, 0], [-1, -1, -1])


def test_translation_by_one_row_shifts_rows_down():
    image = picture(4, 3)
    result = g.transform_image(image, g.translation_matrix(0, 1), interpolation="nearest")
    np.testing.assert_array_equal(result[1:], image[:-1])
    np.testing.assert_array_equal(result[0], [0, 0, 0])


def test_channels_last_moves_every_channel_the_same_way():
    image = picture(4, 5, 3)
    shift = g.translation_matrix(1, 0)
    result = g.transform_image(image, shift, fill=-1)
    assert result.shape == (4, 5, 3)
    np.testing.assert_array_equal(result[:, 1:, :], image[:, :-1, :])
    np.testing.assert_array_equal(result[:, 0, :], -np.ones((4, 3)))
    turn = g.rotation_matrix(0.3)
    rotated = g.transform_image(image, turn)
    for channel in range(3):
        np.testing.assert_allclose(
            rotated[..., channel], g.transform_image(image[..., channel], turn)
        )


def test_bilinear_half_pixel_shift_averages_neighbours():
    image = np.array([[0.0, 10.0, 20.0, 40.0]])
    result = g.transform_image(image, g.translation_matrix(0.5, 0), fill=100.0)
    # Output column j reads the source at j - 0.5: halfway between columns j - 1 and j.
    np.testing.assert_allclose(result, [[50.0, 5.0, 15.0, 30.0]])


def test_nearest_picks_the_closest_pixel():
    image = np.array([[0.0, 10.0, 20.0, 40.0]])
    small_shift = g.transform_image(image, g.translation_matrix(0.4, 0), interpolation="nearest")
    np.testing.assert_array_equal(small_shift, image)
    large_shift = g.transform_image(image, g.translation_matrix(0.6, 0), interpolation="nearest")
    np.testing.assert_array_equal(large_shift, [[0.0, 0.0, 10.0, 20.0]])


def test_scaling_happens_about_the_centre():
    image = picture(5, 5)
    result = g.transform_image(image, g.scaling_matrix(2.0), interpolation="nearest")
    # The centre (2, 2) stays put; output (0, 0) reads the source halfway to the centre.
    assert result[2, 2] == image[2, 2]
    assert result[0, 0] == image[1, 1]
    assert result[4, 4] == image[3, 3]
    assert result[0, 4] == image[1, 3]


def test_integer_images_keep_their_dtype_and_are_rounded():
    image = np.array([[10, 20, 31]], dtype=np.uint8)
    result = g.transform_image(image, g.translation_matrix(0.5, 0))
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, [[5, 15, 26]])  # 25.5 rounds to the even 26


def test_float32_images_stay_float32():
    image = picture(3, 3).astype(np.float32)
    assert g.transform_image(image, g.rotation_matrix(0.2)).dtype == np.float32


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 5), ()])
def test_transform_image_rejects_bad_image_shapes(shape):
    with pytest.raises(ValueError) as error:
        g.transform_image(np.zeros(shape), np.eye(2))
    assert str(shape) in str(error.value)


def test_transform_image_rejects_flat_maps_and_unknown_interpolation():
    with pytest.raises(ValueError, match="not invertible"):
        g.transform_image(np.zeros((3, 3)), g.scaling_matrix(1.0, 0.0))
    with pytest.raises(ValueError, match="cubic"):
        g.transform_image(np.zeros((3, 3)), np.eye(2), interpolation="cubic")
