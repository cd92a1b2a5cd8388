"""fit, evaluate and predict against the hand loops inside ONE process, taking turns.

    python benchmarks/interleaved.py [--rounds 40] [--block 40]

run.py compares separate processes; on this shared machine a process's speed can differ from
the next one's by 30 % or more (CPU phases, which pages back the dataset), so its ratios move
by +-0.1 from run to run. Here the hand loop, the hand loop with numkeras's fused update
(``hand_fused``), numkeras's compiled kernels in a bare loop (``numkeras_kernels``: the compute
floor of its ``fit``, see ``KernelLoopMLP``) and numkeras's own ``fit`` take turns on the same
data, ``--block`` batches each, for ``--rounds`` rounds; the ratio of each block to the hand
loop's block just before it is a paired measurement, and the median over rounds is steady to
about +-0.02. ``numkeras`` minus ``numkeras_kernels`` is what the framework (tape, layers,
loss objects, optimizer objects, fit loop) costs.

numkeras runs the seed's program: ``fit(x_block, y_block, epochs=1, batch_size=128,
verbose=0)`` on a model compiled with ``"rmsprop"``, ``"categorical_crossentropy"`` and
``["accuracy"]`` -- the public API, so the per-call setup of ``fit`` is included (it makes the
figure slightly pessimistic for numkeras). Then evaluate and predict (10,000 test images,
batch 128) take turns with the hand loop's bare forward pass, ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "contenders"))

import _common  # noqa: E402 -- lives in benchmarks/contenders
import numpy as np  # noqa: E402
from hand_numpy import FusedUpdateMLP, HandMLP, KernelLoopMLP  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--block", type=int, default=40, help="batches of 128 per turn")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from numkeras import layers, models, utils

    x, labels, x_test, labels_test = _common.load_fashion_mnist(None)
    y = utils.to_categorical(labels, 10)
    batch = _common.BATCH_SIZE
    hand = HandMLP(np, args.seed, batch)
    fused = FusedUpdateMLP(np, args.seed, batch)
    kernel_loop = KernelLoopMLP(np, args.seed, batch)
    utils.set_random_seed(args.seed)
    model = models.Sequential([layers.Input((_common.IMAGE_SIZE,)),
                               layers.Dense(512, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    rows = args.block * batch
    turns = {
        "hand_numpy": lambda s: hand.train_epoch(x[s], labels[s], batch),
        "hand_fused": lambda s: fused.train_epoch(x[s], labels[s], batch),
        "numkeras_kernels": lambda s: kernel_loop.train_epoch(x[s], labels[s], batch),
        "numkeras": lambda s: model.fit(x[s], y[s], epochs=1, batch_size=batch, verbose=0),
    }
    for run in turns.values():  # warm-up: first calls, caches, kernel loading
        run(slice(0, rows))
    times: dict[str, list[float]] = {name: [] for name in turns}
    for r in range(args.rounds):
        start = (r * rows) % (len(x) - rows)
        block = slice(start, start + rows)
        for name, run in turns.items():
            began = time.perf_counter()
            run(block)
            times[name].append((time.perf_counter() - began) / args.block)

    print(f"{args.rounds} rounds x {args.block} batches of {batch}, one process, alternating")
    print(f"{'fit':<20} {'ms/step':>8} {'x hand (paired median)':>23} {'IQR':>13}")
    report(times, "hand_numpy", 1e3)

    # evaluate / predict on the 10,000 test images at batch 128, against the hand loop's bare
    # forward pass, taking turns in the same way (seconds per pass of the test set).
    probabilities = np.empty((len(x_test), 10), np.float32)
    y_test = utils.to_categorical(labels_test, 10)
    passes = {
        "bare forward (hand)": lambda: hand.predict(x_test, batch, probabilities),
        "numkeras evaluate": lambda: model.evaluate(x_test, y_test, batch_size=batch, verbose=0),
        "numkeras predict": lambda: model.predict(x_test, batch_size=batch, verbose=0),
    }
    for run in passes.values():
        run()
    seconds: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(args.rounds):
        for name, run in passes.items():
            began = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - began)
    images_per_s = {name: [len(x_test) / s for s in values] for name, values in seconds.items()}
    print(f"{'test set':<20} {'img/s':>8} {'x bare (paired median)':>23} {'IQR':>13}")
    report(images_per_s, "bare forward (hand)", 1.0, "8.0f")


def report(values_by_name: dict[str, list[float]], base_name: str, scale: float,
           spec: str = "8.3f") -> None:
    """One line per entry: the median value, and the median and quartiles of its ratios to
    the base entry's value of the same round."""
    base = values_by_name[base_name]
    for name, values in values_by_name.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        print(f"{name:<20} {statistics.median(values) * scale:>{spec}} "
              f"{statistics.median(ratios):>23.3f} {q1:>6.3f}-{q3:.3f}")


if __name__ == "__main__":
    main()
