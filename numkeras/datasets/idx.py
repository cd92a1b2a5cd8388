"""Reading and writing IDX files, the format MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order, big-endian.
Files may be gzipped; the reader detects that from the content, the writer from the name.
"""

from __future__ import annotations

import os
import struct
from math import prod
from pathlib import Path

import numpy as np

from numkeras.datasets._fetch import DatasetError, atomic_write

# IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES: dict[str, int] = {dtype.str[1:]: code for code, dtype in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a raw or gzipped IDX file into a writable array in native byte order."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, path)
    return parse_idx(data, source=str(path))


def _gunzip(data: bytes, path: Path) -> bytes:
    import gzip
    import zlib

    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: corrupt or truncated gzip data: {exc}") from exc


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; ``source`` names it in errors."""
    if len(data) < 4:
        raise DatasetError(f"{source}: too short for an IDX header ({len(data)} bytes)")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in IDX_DTYPES:
        raise DatasetError(
            f"{source}: not an IDX file: bad magic number 0x{data[:4].hex()} "
            "(expected 0x0000, a dtype code in 08/09/0B/0C/0D/0E, then the rank)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DatasetError(f"{source}: IDX header truncated: {ndim} dimensions announced")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_DTYPES[code]
    expected = prod(shape) * dtype.itemsize
    found = len(data) - header_size
    if found < expected:
        raise DatasetError(
            f"{source}: IDX data truncated: shape {shape} needs {expected} bytes, found {found}"
        )
    if found > expected:
        raise DatasetError(
            f"{source}: {found - expected} unexpected bytes after the IDX data of shape {shape}"
        )
    values = np.frombuffer(data, dtype=dtype, count=prod(shape), offset=header_size)
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """The bytes of an uncompressed IDX file holding ``array``.

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (any byte order).
    """
    array = np.asarray(array)
    code = _CODES.get(array.dtype.str[1:])
    if code is None:
        allowed = ", ".join(str(d.newbyteorder("=")) for d in IDX_DTYPES.values())
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of: {allowed}")
    if array.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {array.ndim}")
    if any(size >= 2**32 for size in array.shape):
        raise ValueError(f"IDX dimensions must be below 2**32, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as IDX, gzipped when ``path`` ends in ``.gz``; atomically.

    The file appears complete or not at all: an existing file is only replaced once the
    new one is fully written.
    """
    path = Path(path)
    payload = encode_idx(array)
    if path.suffix == ".gz":
        import gzip

        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    with atomic_write(path) as out:
        out.write(payload)
