"""What the GradientTape costs: per recorded op, and on one step of the seed network.

(a) Per op: a chain of tiny ops (1-element float32 arrays, alternating ``add`` and
    ``multiply``) timed with no tape open and inside a tape that watches the input; the
    difference per op is the cost of recording. The backward pass over that chain, divided by
    its length, is the cost of replaying one op's VJP.
(b) Per step: one forward + backward pass of the seed network (Dense 784->512 relu, Dense
    512->10 softmax, categorical crossentropy from ops: clip, log, multiply, sum, mean;
    batch 128, float32) through ``GradientTape``, against the same step written by hand in
    NumPy (fused softmax-crossentropy gradient ``(p - y) / batch``, no input gradient).

Medians of many repetitions. Run: ``python benchmarks/tape_overhead.py [--repeats N]``; on a
shared machine, ``OPENBLAS_NUM_THREADS=1`` keeps (b) from measuring thread contention.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from numkeras import GradientTape, Tensor, Variable, ops

BATCH, D_IN, D_HIDDEN, D_OUT = 128, 784, 512, 10
EPS = 1e-7


def median_seconds(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """The median wall time of each function over ``repeats`` calls, after a warm-up call.

    The functions take turns within each repetition, so that a change in the machine's load
    during the run affects all of them alike.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(repeats + 1):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if i:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


# --- (a) per-op overhead -------------------------------------------------------------------
def chain(x: Any, c: Any, n: int) -> Any:
    """``n`` tiny ops on ``x``: add and multiply, alternately."""
    y = x
    for i in range(n):
        y = ops.add(y, c) if i % 2 == 0 else ops.multiply(y, c)
    return y


def per_op_overhead(n_ops: int, repeats: int) -> dict[str, float]:
    """Microseconds per op: plain, recorded, and replayed backwards."""
    x = Tensor(np.ones(1, np.float32))
    c = Tensor(np.full(1, 0.5, np.float32))

    def plain() -> None:
        chain(x, c, n_ops)

    def recorded() -> tuple[GradientTape, Any]:
        with GradientTape() as tape:
            tape.watch(x)
            y = chain(x, c, n_ops)
        return tape, y

    def numpy_only() -> None:
        y, k = x.value, c.value
        for i in range(n_ops):
            y = np.add(y, k) if i % 2 == 0 else np.multiply(y, k)

    tapes = [recorded() for _ in range(repeats + 1)]

    def backward() -> None:
        tape, y = tapes.pop()
        tape.gradient(y, x)

    fns = {"numpy": numpy_only, "plain": plain, "recorded": recorded, "backward": backward}
    us = {name: t * 1e6 / n_ops for name, t in median_seconds(fns, repeats).items()}
    us["record_overhead"] = us["recorded"] - us["plain"]
    return us


# --- (b) the seed network -------------------------------------------------------------------
def make_problem(seed: int = 0) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels, zero biases, a random batch with one-hot labels (float32)."""
    rng = np.random.default_rng(seed)

    def glorot(fan_in: int, fan_out: int) -> np.ndarray:
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

    return {
        "W1": glorot(D_IN, D_HIDDEN),
        "b1": np.zeros(D_HIDDEN, np.float32),
        "W2": glorot(D_HIDDEN, D_OUT),
        "b2": np.zeros(D_OUT, np.float32),
        "x": rng.random((BATCH, D_IN), dtype=np.float32),
        "y": np.eye(D_OUT, dtype=np.float32)[rng.integers(0, D_OUT, BATCH)],
    }


def tape_step(weights: list[Variable], x: np.ndarray, y: np.ndarray) -> list[Any]:
    """Forward and backward through GradientTape; returns the four weight gradients."""
    w1, b1, w2, b2 = weights
    with GradientTape() as tape:
        h = ops.relu(ops.matmul(x, w1) + b1)
        p = ops.softmax(ops.matmul(h, w2) + b2)
        p = ops.clip(p, EPS, 1.0 - EPS)
        loss = ops.mean(-ops.sum(ops.multiply(y, ops.log(p)), axis=-1))
    return tape.gradient(loss, weights)


def hand_step(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The same step by hand: fused softmax-crossentropy gradient, no input gradient."""
    w1, b1, w2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z1 = x @ w1
    z1 += b1
    h = np.maximum(z1, 0, out=z1)
    z2 = h @ w2
    z2 += b2
    z2 -= z2.max(axis=1, keepdims=True)
    p = np.exp(z2, out=z2)
    p /= p.sum(axis=1, keepdims=True)
    _loss = -np.mean(np.sum(y * np.log(np.clip(p, EPS, 1.0 - EPS)), axis=1))
    d2 = p
    d2 -= y
    d2 /= len(x)
    g_w2, g_b2 = h.T @ d2, d2.sum(axis=0)
    dh = d2 @ w2.T
    dh *= h > 0
    g_w1, g_b1 = x.T @ dh, dh.sum(axis=0)
    return [g_w1, g_b1, g_w2, g_b2]


def seed_network_step(repeats: int) -> dict[str, float]:
    """Milliseconds per forward+backward step: through the tape, and by hand."""
    problem = make_problem()
    names = ["W1", "b1", "W2", "b2"]
    weights = [Variable(problem[k], name=k) for k in names]
    params = {k: problem[k] for k in names}
    x, y = problem["x"], problem["y"]
    # Same gradients both ways, or the comparison means nothing.
    for g_tape, g_hand in zip(tape_step(weights, x, y), hand_step(params, x, y)):
        np.testing.assert_allclose(np.asarray(g_tape), g_hand, rtol=1e-3, atol=1e-6)
        assert np.asarray(g_tape).dtype == np.float32
    fns = {"tape": lambda: tape_step(weights, x, y), "hand": lambda: hand_step(params, x, y)}
    ms = {name: t * 1e3 for name, t in median_seconds(fns, repeats).items()}
    ms["ratio"] = ms["tape"] / ms["hand"]
    return ms


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed repetitions (median)")
    parser.add_argument("--ops", type=int, default=2000, help="length of the tiny-op chain")
    args = parser.parse_args(argv)

    a = per_op_overhead(args.ops, args.repeats)
    print(f"(a) tiny ops (1-element float32, chain of {args.ops}, median of {args.repeats}):")
    print(f"    bare NumPy ufunc          {a['numpy']:6.2f} us/op")
    print(f"    numkeras op, no tape      {a['plain']:6.2f} us/op")
    print(f"    numkeras op, taped        {a['recorded']:6.2f} us/op")
    print(f"    -> recording overhead     {a['record_overhead']:6.2f} us/op")
    print(f"    backward (VJP replay)     {a['backward']:6.2f} us/op")

    b = seed_network_step(args.repeats)
    print(f"(b) seed network forward+backward, batch {BATCH}, float32 (median of {args.repeats}):")
    print(f"    GradientTape              {b['tape']:6.2f} ms")
    print(f"    hand-written NumPy        {b['hand']:6.2f} ms")
    print(f"    -> ratio tape / hand      {b['ratio']:6.2f}x")
    return {"per_op": a, "seed_step": b}


if __name__ == "__main__":
    main()
