"""IDX reading and writing: hand-written bytes, round trips of every dtype, bad files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from numkeras.datasets import DatasetError
from numkeras.datasets.idx import encode_idx, parse_idx, read_idx, write_idx


def test_reads_hand_written_ubyte_vector(tmp_path: Path) -> None:
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01" + b"\x00\x00\x00\x03" + b"\x07\x00\xff")
    array = read_idx(path)
    assert array.dtype == np.uint8
    assert array.tolist() == [7, 0, 255]


def test_reads_big_endian_shorts_into_native_order(tmp_path: Path) -> None:
    path = tmp_path / "shorts.idx.gz"
    raw = b"\x00\x00\x0b\x02" + b"\x00\x00\x00\x01\x00\x00\x00\x02" + b"\x01\x00\xff\xfe"
    path.write_bytes(gzip.compress(raw))
    array = read_idx(path)
    assert array.shape == (1, 2)
    assert array.dtype == np.int16 and array.dtype.isnative
    assert array.tolist() == [[256, -2]]


def test_reads_big_endian_double() -> None:
    raw = b"\x00\x00\x0e\x01\x00\x00\x00\x01" + b"\x3f\xf8\x00\x00\x00\x00\x00\x00"
    array = parse_idx(raw)
    assert array.dtype == np.float64
    assert array.tolist() == [1.5]


def test_encodes_hand_written_bytes() -> None:
    array = np.array([[1, -2, 3]], dtype=np.int32)
    expected = (
        b"\x00\x00\x0c\x02"
        + b"\x00\x00\x00\x01\x00\x00\x00\x03"
        + b"\x00\x00\x00\x01\xff\xff\xff\xfe\x00\x00\x00\x03"
    )
    assert encode_idx(array) == expected


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(), (4,), (3, 2, 5), (2, 1, 3, 2)])
def test_round_trip(tmp_path: Path, dtype: str, suffix: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        array = rng.normal(size=shape).astype(dtype)
    else:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    path = tmp_path / f"data-idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_writes_gzip_only_for_gz_suffix(tmp_path: Path) -> None:
    array = np.arange(6, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "a", array)
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "a").read_bytes()[:4] == b"\x00\x00\x08\x01"


def test_writes_big_endian_from_little_endian_input(tmp_path: Path) -> None:
    write_idx(tmp_path / "x", np.array([1], dtype="<i2"))
    assert (tmp_path / "x").read_bytes() == b"\x00\x00\x0b\x01\x00\x00\x00\x01\x00\x01"


def test_write_rejects_unsupported_dtype_and_keeps_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "keep"
    path.write_bytes(b"original")
    with pytest.raises(ValueError, match="int64"):
        write_idx(path, np.arange(3, dtype=np.int64))
    assert path.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_write_leaves_no_temp_file(tmp_path: Path) -> None:
    write_idx(tmp_path / "x.gz", np.zeros((2, 2), dtype=np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["x.gz"]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "bad magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "bad magic"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x01", "header truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x04\x01\x02", "truncated: shape \\(4,\\) needs 4 bytes"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "1 unexpected bytes"),
        (b"\x00\x00\x0c\x01\x00\x00\x00\x01\x00\x00\x00", "needs 4 bytes, found 3"),
    ],
)
def test_bad_idx_names_file_and_problem(tmp_path: Path, data: bytes, message: str) -> None:
    path = _write(tmp_path, "bad-idx", data)
    with pytest.raises(DatasetError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(tmp_path: Path) -> None:
    full = gzip.compress(encode_idx(np.arange(1000, dtype=np.int32)))
    path = _write(tmp_path, "cut.gz", full[: len(full) // 2])
    with pytest.raises(DatasetError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip(tmp_path: Path) -> None:
    full = bytearray(gzip.compress(encode_idx(np.arange(1000, dtype=np.int32))))
    full[len(full) // 2] ^= 0xFF
    full[len(full) // 2 + 1] ^= 0xFF
    path = _write(tmp_path, "corrupt.gz", bytes(full))
    with pytest.raises(DatasetError, match="corrupt or truncated gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(tmp_path / "absent")
