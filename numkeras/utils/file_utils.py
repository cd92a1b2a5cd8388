"""Writing files so that nothing is lost: the one atomic-write helper of numkeras."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(dest: str | os.PathLike) -> Iterator[IO[bytes]]:
    """Yield a temporary file beside ``dest``; rename it onto ``dest`` only if the block
    completes. On any failure the temporary file is removed and ``dest`` is untouched, so a
    crash mid-write never destroys the previous file. Missing parent directories are made.
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        os.close(fd)
    except OSError as error:
        raise OSError(
            f"cannot write to directory {dest.parent} ({error.strerror or error}), so {dest} "
            f"was not written"
        ) from error
    try:
        with open(tmp_name, "wb") as handle:  # a named handle: ``handle.name`` is the path
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp creates files as 0600
        os.replace(tmp_name, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
