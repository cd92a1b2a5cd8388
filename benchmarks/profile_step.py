"""Where numkeras's ``fit`` spends its time on the seed workload, by kind of work.

    python benchmarks/profile_step.py [--epochs 2] [--limit 20000] [--top 25] [--save fit.prof]

Builds the seed's model, runs one short un-profiled warm-up ``fit`` (JIT compilation, first-call
caches), then ``fit`` under cProfile for ``--epochs`` on the first ``--limit`` training images.
Prints the profiled functions' own time (tottime) summed into groups -- matmuls, element-wise,
softmax/loss, metrics, optimizer, batching/shuffling, Python overhead -- and the top functions.

Groups are matched by substring on ``path:Qualified.name`` (first match wins, see GROUPS;
anything unmatched is Python overhead). cProfile does not see NumPy ufuncs (``np.matmul``,
``np.exp``, ...): their time is charged to the Python function that calls them, so e.g.
``ops.py:affine.<locals>.vjp`` holds the backward matmuls. numkeras's compiled kernels show
up as built-in methods (``numkeras._fused.softmax_f32``, ...) and are grouped by name. Profiling
inflates the per-call Python cost; compare the wall time printed with an un-profiled epoch
from run.py.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import pstats
import re
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "contenders"))

import _common  # noqa: E402 -- lives in benchmarks/contenders

# (group, patterns): each pattern is a regular expression searched (case-insensitively) in
# "path:Qualified.name"; the first group with a match wins. \b keeps "exp" out of "genexpr".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Python overhead", ("callback", "progbar", "history")),
    ("optimizer", ("optimizer", "rmsprop", "apply_gradient", "update_step", "kernels", "numba")),
    ("softmax/loss", ("softmax", "crossentropy", "cross_entropy", "losses", "loss", r"\blog\b")),
    ("metrics", ("metric", "accuracy", "argmax")),
    ("matmuls", ("matmul", "affine", r"\bdot\b", "gemm", "einsum", "tensordot", r"\bdense\b")),
    (
        "batching/shuffling",
        (r"\btake\b", "permutation", "shuffle", "_batches", "as_batch", "gather", "getitem"),
    ),
    (
        "element-wise",
        (
            "relu",
            "activation",
            "maximum",
            "multiply",
            r"\badd\b",
            "subtract",
            "divide",
            "sqrt",
            r"\bexp\b",
            r"\bwhere\b",
            r"\bclip\b",
            "bias",
            r"\bsum\b",
            r"\bmean\b",
            r"\breduce\b",
            "ufunc",
        ),
    ),
)
OVERHEAD = "Python overhead"


@cache
def _function_spans(filename: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every def in a source file."""
    try:
        tree = ast.parse(Path(filename).read_text())
    except (OSError, SyntaxError, ValueError):
        return []
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.<locals>.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def qualified_name(filename: str, lineno: int, name: str) -> str:
    """``Class.method`` / ``outer.<locals>.inner`` for a profiled function (cProfile: co_name)."""
    anonymous = name.startswith("<")  # <lambda>, <genexpr>, <listcomp>: name the enclosing def
    best = None
    for first, last, qualname in _function_spans(filename):
        inside = first <= lineno <= last
        if (first == lineno and not anonymous) or (
            inside and (anonymous or qualname.endswith(name))
        ):
            if best is None or first >= best[0]:
                best = (first, qualname)
    if best is None:
        return name
    return f"{best[1]}.<locals>.{name}" if anonymous else best[1]


def short_path(filename: str) -> str:
    """A path from the package root (``numkeras/...``, ``numpy/...``), or the name as given."""
    parts = Path(filename).parts
    for root in ("numkeras", "numpy", "numba", "benchmarks"):
        if root in parts:
            return "/".join(parts[len(parts) - 1 - parts[::-1].index(root) :])
    return filename


def label(func: tuple[str, int, str]) -> str:
    """``path:Qualified.name`` for a pstats key ``(filename, lineno, funcname)``."""
    filename, lineno, name = func
    if filename == "~":  # built-ins: name is e.g. "<method 'take' of 'numpy.ndarray' objects>"
        return name
    return f"{short_path(filename)}:{qualified_name(filename, lineno, name)}"


def group_of(text: str) -> str:
    """The first group with a pattern found in ``text``; else Python overhead."""
    for group, patterns in GROUPS:
        if any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns):
            return group
    return OVERHEAD


def build_seed_model() -> Any:
    """The seed's network, compiled exactly as the seed does."""
    from numkeras import layers, models

    net = models.Sequential()
    net.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
    net.add(layers.Dense(10, activation="softmax"))
    net.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return net


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=20_000, help="training images profiled")
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    parser.add_argument("--save", type=Path, default=None, help="also write the raw .prof")
    args = parser.parse_args(argv)

    from numkeras import utils

    x, labels, _, _ = _common.load_fashion_mnist(args.limit)
    y = utils.to_categorical(labels, 10)
    net = build_seed_model()
    net.fit(x[:1024], y[:1024], epochs=1, batch_size=128, verbose=0)  # warm-up

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(net.fit, x, y, epochs=args.epochs, batch_size=128, verbose=0)
    wall = time.perf_counter() - start
    if args.save:
        profiler.dump_stats(args.save)

    stats = pstats.Stats(profiler).stats  # {func: (cc, ncalls, tottime, cumtime, callers)}
    rows = sorted(
        (
            (label(func), ncalls, tottime, cumtime)
            for func, (_, ncalls, tottime, cumtime, _) in stats.items()
        ),
        key=lambda row: row[2],
        reverse=True,
    )
    total = sum(row[2] for row in rows) or 1.0
    steps = args.epochs * -(-x.shape[0] // 128)
    groups: dict[str, list[float]] = {group: [0.0, 0] for group, _ in GROUPS}
    groups.setdefault(OVERHEAD, [0.0, 0])
    for name, ncalls, tottime, _ in rows:
        entry = groups[group_of(name)]
        entry[0] += tottime
        entry[1] += ncalls

    print(
        f"numkeras fit, seed workload: {args.epochs} epoch(s) x {x.shape[0]} images = "
        f"{steps} steps, "
        f"{wall:.2f} s wall under cProfile ({1000 * wall / steps:.2f} ms/step)"
    )
    print(f"\n{'group':<20} {'tottime s':>9} {'share':>6} {'ms/step':>8} {'calls/step':>10}")
    for group, (tottime, ncalls) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        print(
            f"{group:<20} {tottime:>9.3f} {100 * tottime / total:>5.1f}% "
            f"{1000 * tottime / steps:>8.3f} {ncalls / steps:>10.1f}"
        )
    print(f"\ntop {args.top} functions by own time (tottime):")
    print(f"{'tottime s':>9} {'cumtime s':>9} {'calls':>8}  {'group':<18} function")
    for name, ncalls, tottime, cumtime in rows[: args.top]:
        print(f"{tottime:>9.3f} {cumtime:>9.3f} {ncalls:>8}  {group_of(name):<18} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
