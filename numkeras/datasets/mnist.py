"""MNIST handwritten digits, with Keras's ``load_data``; also the MNIST file layout.

The layout helpers here (``load_npz``, ``load_idx_dir``, ``check_splits``) are shared with
Fashion-MNIST, which is published in the same form.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from numkeras.datasets import _fetch
from numkeras.datasets._fetch import Attempts, DatasetError, MissingError
from numkeras.datasets.idx import read_idx

Split = tuple[np.ndarray, np.ndarray]
Splits = tuple[Split, Split]

# Expected SHA-256 of each file fetched from the origin. Module level so tests can
# substitute their own fixtures; production code never changes it.
SHA256: dict[str, str | None] = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
}

# Array name -> IDX file stem; each file may also carry a ``.gz`` suffix.
IDX_STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


def load_data(path: str | os.PathLike = "mnist.npz") -> Splits:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8 images and labels.

    ``path`` is used as given when it names an existing Keras-layout ``.npz`` or a directory
    holding the four IDX files (raw or ``.gz``). Otherwise, as in Keras, it is the name of
    the cached file: looked up in ``$NUMKERAS_HOME/datasets`` then Keras's own cache
    (``$KERAS_HOME/datasets``, default ``~/.keras/datasets``), and downloaded into the first
    (or to ``path`` itself, when absolute) from ``$NUMKERAS_DATASETS_MIRROR`` or the origin.

    Raises ``DatasetError`` naming every place tried when no copy can be had.
    """
    given = Path(path).expanduser()
    if given.exists():
        return load_local(given)
    expected = SHA256["mnist.npz"]

    def load_cached(place: Path) -> Splits:
        _fetch.verify_sha256(place, expected)
        return load_npz(place)

    attempts = Attempts("MNIST")
    if given.is_absolute():
        attempts.note(given, "not found")
        target = given
    else:
        places = [directory / given for directory in _fetch.cache_dirs()]
        found = attempts.first_valid(places, load_cached)
        if found is not None:
            return found
        target = places[0]
    url = _fetch.base_url() + "mnist.npz"
    try:
        _fetch.download(url, target, expected, validate=load_npz)
    except DatasetError as exc:
        attempts.note("download", f"failed: {exc}")
        raise attempts.error(
            "pass path= a Keras-layout mnist.npz or a directory with the four IDX files; "
            f"or copy mnist.npz into {_fetch.numkeras_cache_dir()}; or, without network "
            f"access to the origin, set {_fetch.MIRROR_ENV} to a base URL (http://, https:// "
            "or file://) that serves mnist.npz."
        ) from None
    return load_npz(target)


def load_local(path: Path) -> Splits:
    """Load a Keras-layout ``.npz`` file or a directory of the four MNIST-layout IDX files."""
    if path.is_dir():
        return load_idx_dir(path)
    return load_npz(path)


def load_npz(path: Path) -> Splits:
    """Load and check a ``.npz`` holding ``x_train, y_train, x_test, y_test``."""
    import zipfile
    import zlib

    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: not a readable .npz archive: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path}: not an .npz archive (a single .npy array?)")
    with archive:
        missing = [key for key in IDX_STEMS if key not in archive.files]
        if missing:
            raise DatasetError(
                f"{path}: missing array(s) {', '.join(missing)} "
                f"(expected {', '.join(IDX_STEMS)}; found {', '.join(archive.files) or 'none'})"
            )
        try:
            arrays = {key: archive[key] for key in IDX_STEMS}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise DatasetError(f"{path}: corrupt .npz archive: {exc}") from exc
    return check_splits(arrays, str(path))


def find_idx_files(directory: Path) -> dict[str, Path]:
    """Map each array name to its IDX file in ``directory``, preferring the uncompressed one."""
    found = {}
    for key, stem in IDX_STEMS.items():
        candidates = [directory / stem, directory / f"{stem}.gz"]
        existing = [p for p in candidates if p.is_file()]
        if not existing:
            raise MissingError(f"{directory}: no {stem} or {stem}.gz")
        found[key] = existing[0]
    return found


def load_idx_dir(directory: Path, sha256: Mapping[str, str | None] | None = None) -> Splits:
    """Load the four IDX files of ``directory``, each verified by ``sha256[file name]`` if given."""
    files = find_idx_files(directory)
    arrays = {}
    for key, file in files.items():
        if sha256 is not None:
            _fetch.verify_sha256(file, sha256.get(file.name))
        arrays[key] = read_idx(file)
    return check_splits(arrays, str(directory))


def check_splits(arrays: Mapping[str, np.ndarray], source: str) -> Splits:
    """Check dtypes, shapes, image/label counts and label range; return the Keras tuples."""
    for split in ("train", "test"):
        _check_split(arrays[f"x_{split}"], arrays[f"y_{split}"], split, source)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _check_split(x: np.ndarray, y: np.ndarray, split: str, source: str) -> None:
    for name, array in ((f"x_{split}", x), (f"y_{split}", y)):
        if array.dtype != np.uint8:
            raise DatasetError(f"{source}: {name} has dtype {array.dtype}, expected uint8")
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise DatasetError(
            f"{source}: x_{split} has shape {x.shape}, expected (n, {IMAGE_SHAPE[0]}, "
            f"{IMAGE_SHAPE[1]})"
        )
    if y.ndim != 1:
        raise DatasetError(f"{source}: y_{split} has shape {y.shape}, expected (n,)")
    if len(x) != len(y):
        raise DatasetError(f"{source}: {split} split has {len(x)} images but {len(y)} labels")
    if y.size and int(y.max()) >= NUM_CLASSES:
        raise DatasetError(
            f"{source}: y_{split} holds label {int(y.max())}, expected 0..{NUM_CLASSES - 1}"
        )
