"""Affine maps, rotations and scalings of the plane, written as dot products.

Chapter 2 points out that these geometric operations are all tensor operations: a rotation
or a scaling of a 2-D point is a dot product with a 2x2 matrix, and adding a translation is
one more dot product once points get a third coordinate fixed to 1 ("homogeneous
coordinates"). That is why chains of such maps collapse into a single 3x3 matrix.

Conventions: a point is ``(x, y)``; angles are in radians and counter-clockwise in the usual
math picture, so a 90 degree rotation sends ``(1, 0)`` to ``(0, 1)``. For images ``x`` is the
column and ``y`` the row. Rows grow downward, so on screen a positive angle turns an image
clockwise.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# Sample positions closer than this to a whole pixel are treated as exactly on it, so that
# 90 degree turns and whole-pixel shifts are exact despite rounding in sin and cos.
_SNAP = 1e-9


def rotation_matrix(angle: float) -> np.ndarray:
    """The 2x2 matrix that rotates points by ``angle`` radians counter-clockwise."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]], dtype=float)


def scaling_matrix(sx: float, sy: float | None = None) -> np.ndarray:
    """The 2x2 matrix that scales ``x`` by ``sx`` and ``y`` by ``sy`` (``sx`` if not given)."""
    if sy is None:
        sy = sx
    return np.array([[sx, 0.0], [0.0, sy]], dtype=float)


def affine_matrix(
    linear: ArrayLike | None = None, translation: ArrayLike | None = None
) -> np.ndarray:
    """The 3x3 homogeneous matrix for ``p -> linear @ p + translation``.

    ``linear`` is a 2x2 matrix (identity if not given) and ``translation`` a 2-vector (zero if
    not given). With a point written as ``(x, y, 1)`` the whole map is one dot product::

        [[a, b, tx],     [x,      [a*x + b*y + tx,
         [c, d, ty],  .   y,  =    c*x + d*y + ty,
         [0, 0, 1 ]]      1]       1]
    """
    linear = np.eye(2) if linear is None else np.asarray(linear, dtype=float)
    translation = np.zeros(2) if translation is None else np.asarray(translation, dtype=float)
    if linear.shape != (2, 2):
        raise ValueError(f"linear must have shape (2, 2), got {linear.shape}")
    if translation.shape != (2,):
        raise ValueError(f"translation must have shape (2,), got {translation.shape}")
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = translation
    return matrix


def translation_matrix(tx: float, ty: float) -> np.ndarray:
    """The 3x3 homogeneous matrix that moves points by ``(tx, ty)``."""
    return affine_matrix(translation=(tx, ty))


def _homogeneous(matrix: ArrayLike) -> np.ndarray:
    """``matrix`` as a 3x3 affine matrix: 2x2 matrices get a zero translation."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape == (2, 2):
        return affine_matrix(linear=matrix)
    if matrix.shape != (3, 3):
        raise ValueError(f"expected a 2x2 or 3x3 matrix, got shape {matrix.shape}")
    if not np.allclose(matrix[2], (0.0, 0.0, 1.0)):
        raise ValueError(
            f"a 3x3 affine matrix must have last row (0, 0, 1), got {matrix[2].tolist()}"
        )
    return matrix


def compose(*matrices: ArrayLike) -> np.ndarray:
    """One 3x3 matrix doing the given maps one after another, in the order given.

    ``compose(a, b)`` applies ``a`` first, then ``b``, so it is the product ``b @ a``.
    Each argument may be 2x2 (linear) or 3x3 (affine). With no arguments: the identity.
    """
    result = np.eye(3)
    for matrix in matrices:
        result = _homogeneous(matrix) @ result
    return result


def apply_affine(matrix: ArrayLike, points: ArrayLike) -> np.ndarray:
    """Map ``points`` of shape ``(n, 2)`` through a 2x2 or 3x3 affine ``matrix``.

    Each point ``(x, y)`` becomes ``(x, y, 1)``, is dotted with the matrix, and loses the 1
    again; all ``n`` points go through a single dot product.
    """
    matrix = _homogeneous(matrix)
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    ones = np.ones((points.shape[0], 1))
    homogeneous_points = np.concatenate([points, ones], axis=1)  # (n, 3)
    return (homogeneous_points @ matrix.T)[:, :2]


def _about_centre(matrix: np.ndarray, height: int, width: int) -> np.ndarray:
    """``matrix`` applied around the image centre instead of around pixel (0, 0)."""
    centre = ((width - 1) / 2, (height - 1) / 2)
    to_origin = translation_matrix(-centre[0], -centre[1])
    back = translation_matrix(centre[0], centre[1])
    return compose(to_origin, matrix, back)


def _snap(coordinates: np.ndarray) -> np.ndarray:
    nearest = np.rint(coordinates)
    return np.where(np.abs(coordinates - nearest) < _SNAP, nearest, coordinates)


def _pixels(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill: float) -> np.ndarray:
    """``image[rows, cols]`` where that is inside the image, ``fill`` elsewhere."""
    height, width = image.shape[:2]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    values = image[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]
    if image.ndim == 3:
        inside = inside[..., None]  # the same answer for every channel
    return np.where(inside, values, fill)


def _nearest(image: np.ndarray, x: np.ndarray, y: np.ndarray, fill: float) -> np.ndarray:
    rows = np.floor(y + 0.5).astype(np.intp)
    cols = np.floor(x + 0.5).astype(np.intp)
    return _pixels(image, rows, cols, fill)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray, fill: float) -> np.ndarray:
    """Weighted mean of the four pixels around each ``(x, y)``; nearer pixels weigh more."""
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0  # how far past the top-left pixel, 0 to 1
    x0, y0 = x0.astype(np.intp), y0.astype(np.intp)
    result = np.zeros(x.shape + image.shape[2:])
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            weight = wy * wx
            if image.ndim == 3:
                weight = weight[..., None]
            result += weight * _pixels(image, y0 + dy, x0 + dx, fill)
    return result


def transform_image(
    image: ArrayLike,
    matrix: ArrayLike,
    fill: float = 0,
    interpolation: str = "bilinear",
) -> np.ndarray:
    """Move the content of ``image`` by an affine map about the image centre.

    ``image`` is ``(height, width)`` or channels-last ``(height, width, channels)``;
    ``matrix`` is 2x2 or 3x3 (see ``affine_matrix``). For every output pixel we ask where it
    came from, using the inverse map, and read the image there: ``"nearest"`` takes the
    closest pixel, ``"bilinear"`` blends the four around it. Places outside the image read
    as ``fill``. The result has the shape and dtype of ``image`` (integers are rounded).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(
            f"image must have shape (height, width) or (height, width, channels), got {image.shape}"
        )
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    height, width = image.shape[:2]
    forward = _about_centre(_homogeneous(matrix), height, width)
    determinant = np.linalg.det(forward[:2, :2])
    if determinant == 0 or not np.isfinite(determinant):
        raise ValueError(
            f"the affine map is not invertible (determinant {determinant}): it squashes the "
            f"plane flat, so output pixels have no single source"
        )
    inverse = np.linalg.inv(forward)

    rows, cols = np.mgrid[0:height, 0:width]
    targets = np.stack([cols.ravel(), rows.ravel()], axis=1)  # (x, y) of every output pixel
    sources = _snap(apply_affine(inverse, targets))
    x = sources[:, 0].reshape(height, width)
    y = sources[:, 1].reshape(height, width)

    if interpolation == "nearest":
        return _nearest(image, x, y, fill).astype(image.dtype)
    result = _bilinear(image, x, y, fill)
    if np.issubdtype(image.dtype, np.integer):
        result = np.rint(result)
    return result.astype(image.dtype)


__all__ = [
    "affine_matrix",
    "apply_affine",
    "compose",
    "rotation_matrix",
    "scaling_matrix",
    "transform_image",
    "translation_matrix",
]
