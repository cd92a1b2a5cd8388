"""Helpers shared by the contender scripts: arguments, data, timing, and the JSON result line.

Only the standard library is imported at module level, so that each contender can time the
import of its own framework (``timed_import``) before NumPy or anything else is loaded.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

DATA_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
BATCH_SIZE = 128
IMAGE_SIZE = 28 * 28


def timed_import(name: str) -> tuple[ModuleType, float]:
    """Import ``name`` and return it with the seconds the import took."""
    start = time.perf_counter()
    module = importlib.import_module(name)
    return module, time.perf_counter() - start


def make_parser(description: str) -> argparse.ArgumentParser:
    """The command line every contender accepts (the runner passes the same flags to all)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="timed evaluate/predict calls")
    return parser


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the common contender flags (see ``make_parser``)."""
    return make_parser(description).parse_args(argv)


def _read_idx(path: Path, header: int, limit: int | None) -> Any:
    """Read one gzipped IDX file as a flat uint8 array (the first ``limit`` items)."""
    import numpy as np

    with gzip.open(path, "rb") as f:
        raw = f.read()
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if header == 16:
        data = data.reshape(-1, IMAGE_SIZE)
    return data[:limit] if limit is not None else data


def load_fashion_mnist(limit: int | None = None) -> tuple[Any, Any, Any, Any]:
    """Fashion-MNIST as ``(x, labels, x_test, labels_test)``.

    Images are float32 of shape ``(n, 784)`` scaled to [0, 1] exactly as the seed does
    (``astype("float32") / 255``, here divided in place to keep peak memory the same for every
    contender); labels are int64. ``limit`` keeps the first N training images.
    """
    import numpy as np

    def images(name: str, n: int | None) -> Any:
        x = _read_idx(DATA_DIR / name, 16, n).astype(np.float32)
        np.divide(x, 255, out=x)
        return x

    def labels(name: str, n: int | None) -> Any:
        return _read_idx(DATA_DIR / name, 8, n).astype(np.int64)

    return (
        images("train-images-idx3-ubyte.gz", limit),
        labels("train-labels-idx1-ubyte.gz", limit),
        images("t10k-images-idx3-ubyte.gz", None),
        labels("t10k-labels-idx1-ubyte.gz", None),
    )


def images_per_second(fn: Callable[[], Any], n_images: int, repeats: int) -> float:
    """Images/s of ``fn`` (which processes ``n_images``): one warm-up call, median of repeats."""
    fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n_images / statistics.median(times)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_import_seconds(statement: str, repeats: int = 3) -> float:
    """Median seconds of ``statement`` (an import) timed inside fresh interpreters."""
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)\n"
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def threadpools() -> list[dict[str, Any]]:
    """BLAS/OpenMP pools loaded in this process, as threadpoolctl reports them ([] if absent)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return threadpool_info()


def emit(result: dict[str, Any]) -> None:
    """Print the contender's single JSON result line (peak RSS is taken here, at the end)."""
    result.setdefault("peak_rss_mib", peak_rss_mib())
    print(json.dumps(result), flush=True)


def skip(name: str, reason: str) -> None:
    """Report that a contender cannot run here (e.g. its framework is not installed)."""
    print(json.dumps({"name": name, "skipped": reason}), flush=True)
