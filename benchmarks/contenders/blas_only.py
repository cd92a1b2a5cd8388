"""A floor, not a contender: only the step's five matrix products, for whole epochs of batches.

Per batch of 128: ``x@W1``, ``h@W2`` (forward), ``h.T@d2``, ``d2@W2.T``, ``x.T@dh`` (backward,
no input gradient), all into preallocated ``out=`` buffers, on contiguous batches of the real
data (no gather, no element-wise work, no update). Whatever a framework spends per epoch beyond
this is its element-wise, batching, optimizer and Python cost.

Run: ``python benchmarks/contenders/blas_only.py``.
"""

from __future__ import annotations

import time

import _common


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    np, import_s = _common.timed_import("numpy")
    x, _, _, _ = _common.load_fashion_mnist(args.limit)
    batch, n = _common.BATCH_SIZE, x.shape[0]
    rng = np.random.default_rng(args.seed)
    w1 = rng.uniform(-0.07, 0.07, (_common.IMAGE_SIZE, 512)).astype(np.float32)
    w2 = rng.uniform(-0.1, 0.1, (512, 10)).astype(np.float32)
    h = np.empty((batch, 512), np.float32)
    z = np.empty((batch, 10), np.float32)
    dh = np.empty((batch, 512), np.float32)
    gw1, gw2 = np.empty_like(w1), np.empty_like(w2)
    d2 = rng.uniform(-0.01, 0.01, (batch, 10)).astype(np.float32)

    epoch_times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        for first in range(0, n, batch):
            xb = x[first : first + batch]
            m = xb.shape[0]
            hm, dm, dhm = h[:m], d2[:m], dh[:m]
            np.matmul(xb, w1, out=hm)
            np.matmul(hm, w2, out=z[:m])
            np.matmul(hm.T, dm, out=gw2)
            np.matmul(dm, w2.T, out=dhm)
            np.matmul(xb.T, dhm, out=gw1)
        epoch_times.append(time.perf_counter() - start)

    rss = _common.peak_rss_mib()
    _common.emit(
        {
            "name": "blas_only",
            "epoch_times": epoch_times,
            "peak_rss_mib": rss,
            "import_s": import_s,
            "import_what": "import numpy",
            "n_train": n,
            "batch_size": batch,
            "versions": {"numpy": np.__version__},
            "threadpools": _common.threadpools(),
        }
    )


if __name__ == "__main__":
    main()
