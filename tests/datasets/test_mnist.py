"""mnist.load_data: local files, caches, downloads from a local server, bad input, real data."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from numkeras.datasets import DatasetError, mnist

REAL_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def use_fixture_hash(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> None:
    monkeypatch.setitem(mnist.SHA256, "mnist.npz", hashlib.sha256(payload).hexdigest())


def test_production_checksum_is_the_published_one() -> None:
    assert mnist.SHA256["mnist.npz"] == REAL_MNIST_SHA256


# Local files given as path=


@pytest.mark.parametrize("gz", [True, False])
def test_loads_idx_directory(
    tmp_path, homes, arrays, write_dataset, gz, assert_splits_equal
) -> None:
    directory = write_dataset(tmp_path / "idx", arrays, gz=gz)
    assert_splits_equal(mnist.load_data(path=directory), arrays)


def test_loads_npz_file(tmp_path, homes, arrays, make_npz, assert_splits_equal) -> None:
    path = tmp_path / "digits.npz"
    path.write_bytes(make_npz(arrays))
    result = mnist.load_data(path=str(path))
    assert_splits_equal(result, arrays)
    assert result[0][0].shape == (12, 28, 28) and result[0][1].shape == (12,)


def test_npz_missing_key(tmp_path, homes, arrays, make_npz) -> None:
    del arrays["y_test"]
    path = tmp_path / "partial.npz"
    path.write_bytes(make_npz(arrays))
    with pytest.raises(DatasetError, match="missing array\\(s\\) y_test") as info:
        mnist.load_data(path=path)
    assert str(path) in str(info.value)


def test_npz_garbage(tmp_path, homes) -> None:
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(DatasetError, match="npz") as info:
        mnist.load_data(path=path)
    assert str(path) in str(info.value)


def test_npy_instead_of_npz(tmp_path, homes) -> None:
    path = tmp_path / "single.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(DatasetError, match="not an .npz archive"):
        mnist.load_data(path=path)


def test_count_mismatch_in_npz(tmp_path, homes, arrays, make_npz) -> None:
    arrays["y_train"] = arrays["y_train"][:-1]
    path = tmp_path / "mismatch.npz"
    path.write_bytes(make_npz(arrays))
    with pytest.raises(DatasetError, match="train split has 12 images but 11 labels"):
        mnist.load_data(path=path)


def test_count_mismatch_in_idx_directory(tmp_path, homes, arrays, write_dataset) -> None:
    arrays["x_test"] = arrays["x_test"][:3]
    directory = write_dataset(tmp_path / "idx", arrays)
    with pytest.raises(DatasetError, match="test split has 3 images but 5 labels") as info:
        mnist.load_data(path=directory)
    assert str(directory) in str(info.value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("x_train", np.zeros((12, 28, 27), np.uint8), "x_train has shape \\(12, 28, 27\\)"),
        ("y_train", np.zeros((12, 1), np.uint8), "y_train has shape \\(12, 1\\)"),
        ("x_test", np.zeros((5, 28, 28), np.float32), "x_test has dtype float32"),
        ("y_test", np.array([0, 1, 2, 3, 10], np.uint8), "holds label 10"),
    ],
)
def test_bad_structure(tmp_path, homes, arrays, make_npz, key, value, message) -> None:
    arrays[key] = value
    path = tmp_path / "bad.npz"
    path.write_bytes(make_npz(arrays))
    with pytest.raises(DatasetError, match=message):
        mnist.load_data(path=path)


def test_idx_directory_missing_a_file(tmp_path, homes, arrays, write_dataset) -> None:
    directory = write_dataset(tmp_path / "idx", arrays)
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="no t10k-labels-idx1-ubyte or t10k-labels"):
        mnist.load_data(path=directory)


def test_idx_directory_with_wrong_magic(tmp_path, homes, arrays, write_dataset) -> None:
    directory = write_dataset(tmp_path / "idx", arrays, gz=False)
    labels = directory / "train-labels-idx1-ubyte"
    labels.write_bytes(b"\x00\x00\x00\x01" + labels.read_bytes()[4:])
    with pytest.raises(DatasetError, match="bad magic number") as info:
        mnist.load_data(path=directory)
    assert str(labels) in str(info.value)


# Caches


def test_relative_path_is_a_name_in_numkeras_cache(
    homes, arrays, make_npz, monkeypatch, assert_splits_equal
) -> None:
    payload = make_npz(arrays)
    use_fixture_hash(monkeypatch, payload)
    homes.numkeras_cache.mkdir(parents=True)
    (homes.numkeras_cache / "my-mnist.npz").write_bytes(payload)
    assert_splits_equal(mnist.load_data(path="my-mnist.npz"), arrays)


def test_reads_keras_cache(homes, arrays, make_npz, monkeypatch, assert_splits_equal) -> None:
    payload = make_npz(arrays)
    use_fixture_hash(monkeypatch, payload)
    homes.keras_cache.mkdir(parents=True)
    (homes.keras_cache / "mnist.npz").write_bytes(payload)
    assert_splits_equal(mnist.load_data(), arrays)
    assert not homes.numkeras_cache.exists()


def test_keras_cache_defaults_to_home(
    homes, arrays, make_npz, monkeypatch, assert_splits_equal
) -> None:
    monkeypatch.delenv("KERAS_HOME")
    payload = make_npz(arrays)
    use_fixture_hash(monkeypatch, payload)
    default = homes.home / ".keras" / "datasets"
    default.mkdir(parents=True)
    (default / "mnist.npz").write_bytes(payload)
    assert_splits_equal(mnist.load_data(), arrays)


def test_cached_file_with_wrong_hash_is_ignored(homes, arrays, make_npz) -> None:
    homes.keras_cache.mkdir(parents=True)
    (homes.keras_cache / "mnist.npz").write_bytes(make_npz(arrays))
    with pytest.warns(UserWarning, match="SHA-256 mismatch"):
        with pytest.raises(DatasetError, match="cannot load MNIST") as info:
            mnist.load_data()
    assert "ignored" in str(info.value)


def test_error_lists_every_place_and_the_remedies(homes) -> None:
    with pytest.raises(DatasetError) as info:
        mnist.load_data()
    message = str(info.value)
    assert str(homes.numkeras_cache / "mnist.npz") + ": not found" in message
    assert str(homes.keras_cache / "mnist.npz") + ": not found" in message
    assert "download: failed" in message and "cannot connect" in message
    assert "pass path=" in message and "NUMKERAS_DATASETS_MIRROR" in message


# Downloads from a local server


def test_download_end_to_end_then_cache_hit(
    homes, http_server, arrays, make_npz, monkeypatch, assert_splits_equal
):
    payload = make_npz(arrays)
    use_fixture_hash(monkeypatch, payload)
    http_server.files["mnist.npz"] = payload
    assert_splits_equal(mnist.load_data(), arrays)
    assert http_server.requests == ["mnist.npz"]
    assert (homes.numkeras_cache / "mnist.npz").read_bytes() == payload
    assert [p.name for p in homes.numkeras_cache.iterdir()] == ["mnist.npz"]
    assert_splits_equal(mnist.load_data(), arrays)
    assert http_server.requests == ["mnist.npz"]


def test_download_to_absolute_path(
    tmp_path, homes, http_server, arrays, make_npz, monkeypatch, assert_splits_equal
):
    payload = make_npz(arrays)
    use_fixture_hash(monkeypatch, payload)
    http_server.files["mnist.npz"] = payload
    target = tmp_path / "elsewhere" / "mnist.npz"
    assert_splits_equal(mnist.load_data(path=target), arrays)
    assert target.read_bytes() == payload


def test_download_with_real_checksum_rejects_fixture(homes, http_server, arrays, make_npz):
    http_server.files["mnist.npz"] = make_npz(arrays)
    with pytest.raises(DatasetError, match="SHA-256 mismatch: expected " + REAL_MNIST_SHA256):
        mnist.load_data()
    assert list(homes.numkeras_cache.iterdir()) == []


def test_download_cut_short(homes, http_server, arrays, make_npz, monkeypatch) -> None:
    payload = make_npz(arrays)
    use_fixture_hash(monkeypatch, payload)
    http_server.files["mnist.npz"] = payload
    http_server.truncated.add("mnist.npz")
    with pytest.raises(DatasetError, match=f"cut short: received {len(payload) // 2} of"):
        mnist.load_data()
    assert list(homes.numkeras_cache.iterdir()) == []


def test_download_http_error(homes, http_server) -> None:
    with pytest.raises(DatasetError, match="HTTP error 404") as info:
        mnist.load_data()
    assert http_server.url + "mnist.npz" in str(info.value)


def test_download_of_structurally_bad_file(homes, http_server, arrays, make_npz, monkeypatch):
    del arrays["x_test"]
    payload = make_npz(arrays)
    use_fixture_hash(monkeypatch, payload)
    http_server.files["mnist.npz"] = payload
    with pytest.raises(DatasetError, match="not valid.*missing array\\(s\\) x_test"):
        mnist.load_data()
    assert list(homes.numkeras_cache.iterdir()) == []


def test_unwritable_cache_directory(tmp_path, homes, http_server, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("NUMKERAS_HOME", str(blocker))
    with pytest.raises(DatasetError, match="cannot write to directory") as info:
        mnist.load_data()
    assert str(blocker / "datasets") in str(info.value)
    assert http_server.requests == []


# Real data


def test_real_mnist_sample(mnist_sample_dir, homes) -> None:
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=mnist_sample_dir)
    assert x_train.shape == (5000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (5000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == [500] * 10
    assert set(np.unique(y_test).tolist()) == set(range(10))
    assert x_train.max() == 255 and x_train.min() == 0
    # The official test set starts with a 7, a 2, a 1 and a 0.
    assert y_test[:4].tolist() == [7, 2, 1, 0]
