"""fashion_mnist.load_data: caches, system copies, downloads from a local server, real data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from numkeras.datasets import DatasetError, fashion_mnist

FILES = [
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
]
# Published by Keras (keras/src/datasets/fashion_mnist.py) for the files at the origin.
KERAS_SHA256 = {
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
# Captured at import, before any fixture replaces it.
PRODUCTION_SYSTEM_DIRS = fashion_mnist.SYSTEM_DIRS


@pytest.fixture
def fixture_files(tmp_path, arrays, write_dataset, monkeypatch) -> dict[str, bytes]:
    """The four gz files of the small dataset, with the checksum table set to their hashes."""
    directory = write_dataset(tmp_path / "fixture-files", arrays)
    files = {name: (directory / name).read_bytes() for name in FILES}
    for name, payload in files.items():
        monkeypatch.setitem(fashion_mnist.SHA256, name, hashlib.sha256(payload).hexdigest())
    return files


def test_production_checksums_are_keras_ones() -> None:
    assert fashion_mnist.SHA256 == KERAS_SHA256


def test_download_end_to_end_then_cache_hit(
    homes, http_server, fixture_files, arrays, assert_splits_equal
) -> None:
    http_server.files.update(fixture_files)
    assert_splits_equal(fashion_mnist.load_data(), arrays)
    assert sorted(http_server.requests) == sorted(FILES)
    cached = homes.numkeras_cache / "fashion-mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(FILES)
    assert_splits_equal(fashion_mnist.load_data(), arrays)
    assert len(http_server.requests) == 4


def test_downloads_only_missing_files(
    homes, http_server, fixture_files, arrays, assert_splits_equal
) -> None:
    http_server.files.update(fixture_files)
    cached = homes.numkeras_cache / "fashion-mnist"
    cached.mkdir(parents=True)
    for name in FILES[:2]:
        (cached / name).write_bytes(fixture_files[name])
    assert_splits_equal(fashion_mnist.load_data(), arrays)
    assert sorted(http_server.requests) == sorted(FILES[2:])


def test_hash_mismatch_leaves_nothing_in_cache(homes, http_server, fixture_files) -> None:
    http_server.files.update(fixture_files)
    http_server.files["t10k-labels-idx1-ubyte.gz"] = fixture_files["train-labels-idx1-ubyte.gz"]
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz: SHA-256 mismatch"):
        fashion_mnist.load_data()
    cached = homes.numkeras_cache / "fashion-mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(FILES[:2])


def test_transfer_cut_short(homes, http_server, fixture_files) -> None:
    http_server.files.update(fixture_files)
    http_server.truncated.add("train-images-idx3-ubyte.gz")
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.gz: transfer cut short"):
        fashion_mnist.load_data()
    cached = homes.numkeras_cache / "fashion-mnist"
    assert sorted(p.name for p in cached.iterdir()) == ["train-labels-idx1-ubyte.gz"]


def test_wrong_rank_download_rejected(homes, http_server, fixture_files, monkeypatch) -> None:
    http_server.files.update(fixture_files)
    swapped = fixture_files["train-images-idx3-ubyte.gz"]
    http_server.files["train-labels-idx1-ubyte.gz"] = swapped
    monkeypatch.setitem(
        fashion_mnist.SHA256, "train-labels-idx1-ubyte.gz", hashlib.sha256(swapped).hexdigest()
    )
    with pytest.raises(DatasetError, match="not valid.*IDX rank 3, expected 1"):
        fashion_mnist.load_data()
    assert not (homes.numkeras_cache / "fashion-mnist" / "train-labels-idx1-ubyte.gz").exists()


def test_reads_keras_cache_without_network(
    homes, fixture_files, arrays, assert_splits_equal
) -> None:
    keras_dir = homes.keras_cache / "fashion-mnist"
    keras_dir.mkdir(parents=True)
    for name, payload in fixture_files.items():
        (keras_dir / name).write_bytes(payload)
    assert_splits_equal(fashion_mnist.load_data(), arrays)


def test_reads_system_copy(
    tmp_path, homes, arrays, write_dataset, monkeypatch, assert_splits_equal
) -> None:
    system = write_dataset(tmp_path / "usr-share", arrays)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", (system,))
    assert_splits_equal(fashion_mnist.load_data(), arrays)


def test_corrupt_system_copy_is_skipped_with_warning(
    tmp_path, homes, arrays, write_dataset, monkeypatch
) -> None:
    system = write_dataset(tmp_path / "usr-share", arrays)
    (system / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08 truncated")
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", (system,))
    with pytest.warns(UserWarning, match="gzip"):
        with pytest.raises(DatasetError, match="cannot load Fashion-MNIST") as info:
            fashion_mnist.load_data()
    assert f"{system}: ignored" in str(info.value)


def test_error_lists_every_place_and_the_remedies(homes) -> None:
    with pytest.raises(DatasetError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert str(homes.numkeras_cache / "fashion-mnist") + ": not found" in message
    assert str(homes.keras_cache / "fashion-mnist") + ": not found" in message
    assert str(fashion_mnist.SYSTEM_DIRS[0]) + ": not found" in message
    assert "cannot connect" in message
    assert "dataset-fashion-mnist" in message and "NUMKERAS_DATASETS_MIRROR" in message


def test_path_argument(tmp_path, homes, arrays, write_dataset, assert_splits_equal) -> None:
    directory = write_dataset(tmp_path / "mine", arrays, gz=False)
    assert_splits_equal(fashion_mnist.load_data(path=directory), arrays)


def test_path_argument_not_a_directory(tmp_path, homes) -> None:
    with pytest.raises(DatasetError, match="not a directory"):
        fashion_mnist.load_data(path=tmp_path / "absent")


def test_real_fashion_mnist_from_system_copy(fashion_mnist_dir: Path, homes, monkeypatch) -> None:
    assert fashion_mnist_dir in PRODUCTION_SYSTEM_DIRS
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", PRODUCTION_SYSTEM_DIRS)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10
    # The first training image is an ankle boot, as in the published data.
    assert y_train[0] == 9
    assert not (homes.numkeras_cache / "fashion-mnist").exists()
