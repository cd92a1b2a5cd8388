"""Turning a photo or drawing of a digit into an input like MNIST's.

MNIST digits are light-on-dark 28x28 grayscale images whose ink was scaled so that its
bounding box's longer side is 20 pixels (keeping the aspect ratio) and then placed so that
its centre of mass is at the centre of the 28x28 field. ``to_mnist_format`` does the same
to any image: any size, dark-on-light or light-on-dark (decided from the border, which is
background), with or without transparency. Pillow is imported only when an image is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numkeras.cli._common import CLIError

SIZE = 28
BOX = 20
# Where MNIST puts the centre of mass, as a pixel index: 14.0 (row and column), measured on
# its test set (mean 13.98 / 14.01, s.d. 0.3), i.e. half a pixel below/right of the middle.
CENTRE = 14.0
# A pixel is ink (for the bounding box) when it is this share of the strongest ink.
INK_THRESHOLD = 0.2
# Below this contrast (0-255) between ink and background, there is no digit to read.
MIN_CONTRAST = 24


class ImageError(CLIError):
    """An image that cannot be read or holds no digit."""


def read_image(path: str | Path) -> np.ndarray:
    """The image at ``path`` as a 2-D float array of ink-or-paper levels in [0, 255].

    Transparent images use their opacity (what was drawn) unless they are fully opaque.
    """
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError as exc:
        raise CLIError(
            "reading images needs Pillow: pip install pillow (or 'numkeras[plot]')"
        ) from exc
    path = Path(path)
    if not path.is_file():
        reason = "it is a directory" if path.is_dir() else "no such file"
        raise ImageError(f"cannot read image {path}: {reason}")
    try:
        with Image.open(path) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("P", "PA", "LA", "La", "RGBa") or "A" in image.getbands():
                image = image.convert("RGBA")
            if image.mode == "RGBA":
                alpha = np.asarray(image.getchannel("A"), dtype=np.float64)
                if alpha.min() < 250:
                    # Strokes drawn on a transparent canvas: opacity is the ink.
                    return alpha
            gray = image.convert("L")
            return np.asarray(gray, dtype=np.float64)
    except UnidentifiedImageError as exc:
        raise ImageError(
            f"cannot read image {path}: not an image format Pillow knows (use PNG or JPEG)"
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"cannot read image {path}: {exc}") from exc


def to_mnist_format(gray: np.ndarray, name: str = "image") -> np.ndarray:
    """A grayscale image (2-D, values 0-255) as a 28x28 float32 MNIST-like input in [0, 1].

    Steps: make it light-on-dark (inverting when the border is light), subtract the
    background level, crop the ink's bounding box, scale its longer side to 20 px keeping
    the aspect ratio, and paste it into a 28x28 field with its centre of mass in the middle.
    Raises ``ImageError`` when the image holds no visible ink.
    """
    from PIL import Image

    array = np.asarray(gray, dtype=np.float64)
    if array.ndim != 2 or min(array.shape) < 1:
        raise ImageError(f"{name}: expected a 2-D grayscale image, got shape {array.shape}")
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])
    background = float(np.median(border))
    if background > 127.5:
        array = 255.0 - array
        background = 255.0 - background
    ink = np.clip(array - background, 0.0, None)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise ImageError(f"{name}: no digit found (the image is blank or has too little contrast)")
    ink /= peak
    rows = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    new_h = max(1, min(BOX, int(round(height * scale))))
    new_w = max(1, min(BOX, int(round(width * scale))))
    small = Image.fromarray(np.round(crop * 255).astype(np.uint8), mode="L")
    small = small.resize((new_w, new_h), Image.Resampling.LANCZOS)
    digit = np.asarray(small, dtype=np.float64) / 255.0
    total = digit.sum()
    if total <= 0:
        raise ImageError(f"{name}: no digit found after scaling")
    cy = float((digit.sum(axis=1) * np.arange(new_h)).sum() / total)
    cx = float((digit.sum(axis=0) * np.arange(new_w)).sum() / total)
    top = int(np.clip(round(CENTRE - cy), 0, SIZE - new_h))
    left = int(np.clip(round(CENTRE - cx), 0, SIZE - new_w))
    field = np.zeros((SIZE, SIZE), dtype=np.float32)
    field[top:top + new_h, left:left + new_w] = digit
    return np.clip(field, 0.0, 1.0)


def load_digit(path: str | Path) -> np.ndarray:
    """Read ``path`` and convert it: a 28x28 float32 array in [0, 1], light-on-dark."""
    return to_mnist_format(read_image(path), name=str(path))
