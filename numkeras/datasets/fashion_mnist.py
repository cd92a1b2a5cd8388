"""Fashion-MNIST (Zalando's clothing images), with Keras's ``load_data``.

Ten classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot. Published as four gzipped IDX files, like MNIST.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from numkeras.datasets import _fetch
from numkeras.datasets._fetch import Attempts, DatasetError
from numkeras.datasets.idx import read_idx
from numkeras.datasets.mnist import Splits, load_idx_dir

FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
# SHA-256 of the files at the origin (the values Keras checks). Module level so tests can
# substitute their own fixtures; production code never changes it.
SHA256: dict[str, str | None] = {
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
    ),
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
    ),
}
# Copies installed by the system's package manager (Debian: dataset-fashion-mnist). Their
# gzip wrappers differ from the origin's, so they are checked by structure, not by hash.
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)
CACHE_SUBDIR = "fashion-mnist"
# Rank each file must have, checked before a download is accepted into the cache.
_RANKS = {name: 1 if "labels" in name else 3 for name in FILES}


def load_data(path: str | os.PathLike | None = None) -> Splits:
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8 arrays.

    Looks in ``$NUMKERAS_HOME/datasets/fashion-mnist``, then Keras's cache
    (``$KERAS_HOME/datasets/fashion-mnist``, default ``~/.keras``), then system copies
    (``SYSTEM_DIRS``), and otherwise downloads the four files into the first from
    ``$NUMKERAS_DATASETS_MIRROR`` or the origin. ``path`` (an addition to Keras's
    signature) names a directory holding the four IDX files, to be used instead.

    Raises ``DatasetError`` naming every place tried when no copy can be had.
    """
    if path is not None:
        return _load_given(Path(path).expanduser())
    attempts = Attempts("Fashion-MNIST")
    caches = [directory / CACHE_SUBDIR for directory in _fetch.cache_dirs()]
    found = attempts.first_valid(caches, partial(load_idx_dir, sha256=SHA256))
    if found is None:
        found = attempts.first_valid(SYSTEM_DIRS, load_idx_dir)
    if found is not None:
        return found
    try:
        _download_missing(caches[0])
    except DatasetError as exc:
        attempts.note("download", f"failed: {exc}")
        raise attempts.error(
            f"pass path= a directory holding {', '.join(FILES)}; or copy them into "
            f"{caches[0]}; or install Debian's dataset-fashion-mnist; or, without network "
            f"access to the origin, set {_fetch.MIRROR_ENV} to a base URL (http://, https:// "
            "or file://) that serves them."
        ) from None
    return load_idx_dir(caches[0], sha256=SHA256)


def _load_given(directory: Path) -> Splits:
    if not directory.is_dir():
        raise DatasetError(f"{directory}: not a directory holding the Fashion-MNIST IDX files")
    return load_idx_dir(directory)


def _download_missing(directory: Path) -> None:
    """Download each file not already in ``directory`` with the right hash."""
    for name in FILES:
        dest = directory / name
        if _is_verified(dest, SHA256[name]):
            continue
        url = _fetch.base_url() + name
        _fetch.download(url, dest, SHA256[name], validate=partial(_check_rank, name=name))


def _is_verified(path: Path, sha256: str | None) -> bool:
    """Whether ``path`` is a file with the expected hash (any file, when none is known)."""
    if not path.is_file():
        return False
    try:
        _fetch.verify_sha256(path, sha256)
    except DatasetError:
        return False
    return True


def _check_rank(path: Path, name: str) -> None:
    """Raise ``DatasetError`` unless ``path`` is an IDX file of the rank ``name`` needs."""
    array = read_idx(path)
    if array.ndim != _RANKS[name]:
        raise DatasetError(f"{name}: IDX rank {array.ndim}, expected {_RANKS[name]}")
