"""Where dataset files come from: caches, system copies and downloads, shared by the loaders.

A loader lists the places a dataset may already be (``Attempts`` records each one and what
was found there) and, failing those, downloads it with ``download``: the bytes go to a
temporary file beside the cache entry and are renamed into place only once complete and
verified, so a failed transfer never leaves a file that a later call would trust.

Network modules are imported inside the functions that use them, to keep
``import numkeras.datasets`` cheap.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MIRROR_ENV = "NUMKERAS_DATASETS_MIRROR"
TIMEOUT_S = 30.0
CHUNK_BYTES = 1 << 20

T = TypeVar("T")


class DatasetError(ValueError):
    """A dataset file is missing, corrupt or could not be fetched; the message names which."""


class MissingError(DatasetError):
    """A place that was searched does not hold the dataset (as opposed to holding a bad copy)."""


def numkeras_cache_dir() -> Path:
    """numkeras's own dataset cache: ``$NUMKERAS_HOME/datasets``, default ``~/.numkeras``."""
    home = os.environ.get("NUMKERAS_HOME") or os.path.join("~", ".numkeras")
    return Path(home).expanduser() / "datasets"


def keras_cache_dir() -> Path:
    """Keras's dataset cache (read only here): ``$KERAS_HOME/datasets``, default ``~/.keras``."""
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return Path(home).expanduser() / "datasets"


def cache_dirs() -> list[Path]:
    """The caches to search, numkeras's first, without duplicates."""
    dirs: list[Path] = []
    for directory in (numkeras_cache_dir(), keras_cache_dir()):
        if directory not in dirs:
            dirs.append(directory)
    return dirs


def base_url() -> str:
    """The folder URL files are downloaded from: ``$NUMKERAS_DATASETS_MIRROR`` or the origin."""
    url = os.environ.get(MIRROR_ENV) or ORIGIN
    return url if url.endswith("/") else url + "/"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str | None) -> None:
    """Raise ``DatasetError`` if ``path`` does not hash to ``expected`` (skipped when None)."""
    if expected is None:
        return
    try:
        actual = sha256_of(path)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    if actual != expected:
        raise DatasetError(f"{path}: SHA-256 mismatch: expected {expected}, got {actual}")


@contextmanager
def atomic_write(dest: Path) -> Iterator[IO[bytes]]:
    """``numkeras.utils.file_utils.atomic_write``, with I/O errors as ``DatasetError``."""
    from numkeras.utils.file_utils import atomic_write as write_atomically

    try:
        with write_atomically(dest) as out:
            yield out
    except OSError as exc:
        raise DatasetError(
            f"{exc}; choose a writable location (for the cache: set NUMKERAS_HOME)"
        ) from exc


class Progress:
    """A one-line progress display on ``stream``, shown only when it is a terminal."""

    def __init__(self, label: str, total: int | None, stream: IO[str] | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _is_tty(self.stream)
        self.label = label
        self.total = total
        self.done = 0
        self._last_draw = 0.0

    def update(self, n_bytes: int) -> None:
        """Count ``n_bytes`` more, redrawing at most ten times a second."""
        self.done += n_bytes
        now = time.monotonic()
        if self.enabled and now - self._last_draw >= 0.1:
            self._last_draw = now
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        mib = self.done / 2**20
        if self.total:
            share = f"{100 * self.done / self.total:3.0f}% of {self.total / 2**20:.1f} MiB"
            text = f"\rDownloading {self.label}: {share}"
        else:
            text = f"\rDownloading {self.label}: {mib:.1f} MiB"
        self.stream.write(text)
        self.stream.flush()


def _is_tty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def download(
    url: str,
    dest: Path,
    sha256: str | None,
    validate: Callable[[Path], object] | None = None,
) -> None:
    """Fetch ``url`` into ``dest``, verified by SHA-256 (when known) and by ``validate``.

    ``validate`` receives the complete temporary file and raises ``DatasetError`` if its
    structure is wrong. ``dest`` is only created or replaced once every check passed.
    """
    with atomic_write(dest) as out:
        digest = _transfer(url, out, label=Path(dest).name)
        if sha256 is not None and digest != sha256:
            raise DatasetError(f"{url}: SHA-256 mismatch: expected {sha256}, got {digest}")
        out.flush()
        if validate is not None:
            try:
                validate(Path(out.name))
            except DatasetError as exc:
                raise DatasetError(f"{url}: downloaded file is not valid: {exc}") from exc


def _transfer(url: str, out: IO[bytes], label: str) -> str:
    """Stream ``url`` into ``out``; return the SHA-256; raise if cut short or refused."""
    from http.client import HTTPException
    from urllib.error import HTTPError, URLError
    from urllib.request import urlopen

    try:
        response = urlopen(url, timeout=TIMEOUT_S)
    except HTTPError as exc:
        raise DatasetError(f"{url}: HTTP error {exc.code} {exc.reason}") from exc
    except (URLError, OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetError(f"{url}: cannot connect: {reason}") from exc
    digest = hashlib.sha256()
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        progress = Progress(label, expected)
        received = 0
        try:
            while chunk := _read_chunk(response, url, received):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                progress.update(len(chunk))
        finally:
            progress.close()
    if expected is not None and received != expected:
        raise DatasetError(f"{url}: transfer cut short: received {received} of {expected} bytes")
    return digest.hexdigest()


def _read_chunk(response: IO[bytes], url: str, received: int) -> bytes:
    """The next chunk of ``response``; a broken connection becomes ``DatasetError``."""
    from http.client import HTTPException

    try:
        return response.read(CHUNK_BYTES)
    except (OSError, HTTPException) as exc:
        raise DatasetError(f"{url}: transfer failed after {received} bytes: {exc!r}") from exc


class Attempts:
    """The places tried for one dataset and what was found at each, for the final error."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self.lines: list[str] = []

    def note(self, place: object, outcome: str) -> None:
        """Record that ``place`` was tried, with the outcome."""
        self.lines.append(f"  - {place}: {outcome}")

    def first_valid(self, places: Iterable[Path], load: Callable[[Path], T]) -> T | None:
        """Return ``load(place)`` for the first place that loads; record every other one.

        A place that is absent is noted; one holding a bad copy is noted and warned about,
        since skipping it changes where the data come from.
        """
        for place in places:
            if not place.exists():
                self.note(place, "not found")
                continue
            try:
                return load(place)
            except MissingError as exc:
                self.note(place, str(exc))
            except DatasetError as exc:
                warnings.warn(f"ignoring {place}: {exc}", stacklevel=3)
                self.note(place, f"ignored: {exc}")
        return None

    def error(self, advice: str) -> DatasetError:
        """The error raised when every place failed: each place, its outcome, what to do."""
        tried = "\n".join(self.lines)
        return DatasetError(f"cannot load {self.dataset}. Tried:\n{tried}\nTo fix: {advice}")
