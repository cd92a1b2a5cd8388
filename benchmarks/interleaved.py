"""fit() against the hand loops inside ONE process, alternating in short blocks of batches.

    python benchmarks/interleaved.py [--rounds 40] [--block 40]

run.py compares separate processes; on this shared machine a process's speed can differ from
the next one's by 30 % or more (CPU phases, which pages back the dataset), so its ratios move
by +-0.1 from run to run. Here the hand loop, the hand loop with numkeras's fused update
(``hand_fused``) and numkeras's own ``fit`` take turns on the same data, ``--block`` batches
each, for ``--rounds`` rounds; the ratio of each block to the hand loop's block just before it
is a paired measurement, and the median over rounds is steady to about +-0.02.

numkeras runs the seed's program: ``fit(x_block, y_block, epochs=1, batch_size=128,
verbose=0)`` on a model compiled with ``"rmsprop"``, ``"categorical_crossentropy"`` and
``["accuracy"]`` -- the public API, so the per-call setup of ``fit`` is included (it makes the
figure slightly pessimistic for numkeras).
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
from hand_numpy import FusedUpdateMLP, HandMLP  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--block", type=int, default=40, help="batches of 128 per turn")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from numkeras import layers, models, utils

    x, labels, _, _ = _common.load_fashion_mnist(None)
    y = utils.to_categorical(labels, 10)
    batch = _common.BATCH_SIZE
    hand = HandMLP(np, args.seed, batch)
    fused = FusedUpdateMLP(np, args.seed, batch)
    utils.set_random_seed(args.seed)
    model = models.Sequential([layers.Input((_common.IMAGE_SIZE,)),
                               layers.Dense(512, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    rows = args.block * batch
    turns = {
        "hand_numpy": lambda s: hand.train_epoch(x[s], labels[s], batch),
        "hand_fused": lambda s: fused.train_epoch(x[s], labels[s], batch),
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

    base = times["hand_numpy"]
    print(f"{args.rounds} rounds x {args.block} batches of {batch}, one process, alternating")
    print(f"{'contender':<11} {'ms/step':>8} {'x hand (paired median)':>23} {'IQR':>13}")
    for name, values in times.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        print(f"{name:<11} {statistics.median(values) * 1e3:>8.3f} "
              f"{statistics.median(ratios):>23.3f} {q1:>6.3f}-{q3:.3f}")


if __name__ == "__main__":
    main()
