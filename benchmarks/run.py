"""Benchmark numkeras on the seed workload against a hand-written NumPy loop and PyTorch.

    python benchmarks/run.py [--runs 5] [--epochs 5] [--quick]
                             [--out benchmarks/results/latest.json]

Each contender (``benchmarks/contenders/*.py``) runs as its own process and prints one JSON
line. Runs alternate round-robin (run 1 of every contender, then run 2 of every contender, ...)
so that a noisy stretch of the shared machine hits all of them alike; before each process the
runner waits (up to ``--quiet-wait`` s) for the CPU to be idle, and it records how much CPU
other processes used while each contender ran. A contender that fails is reported with the tail
of its stderr and is not run again; the others go on. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = "hand_numpy"
TARGETS = {"epoch_ratio": 0.80, "rss_ratio": 1.10, "import_extra_ms": 50.0, "throughput": 0.90}


@dataclass(frozen=True)
class Contender:
    """One contender: a script under benchmarks/contenders and its extra arguments."""

    name: str
    script: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # extra environment variables for its process


CONTENDERS = (
    Contender("hand_numpy", "hand_numpy.py"),
    # the hand loop with numkeras's fused update kernel and nothing else of numkeras (see README)
    Contender("hand_fused", "hand_numpy.py", ("--fused-update",)),
    Contender("numkeras", "numkeras_seed.py", ("--framework", "numkeras")),
    # numkeras without its compiled kernels: the pure-NumPy optimizer updates and ops.
    Contender("numkeras_numpy", "numkeras_seed.py", ("--framework", "numkeras"),
              (("NUMKERAS_DISABLE_FUSED", "1"),)),
    Contender("torch_cpu", "torch_cpu.py"),
    # Keras 3 itself on its JAX backend (pip install keras jax; skipped when not importable)
    Contender("keras_jax", "numkeras_seed.py", ("--framework", "keras"),
              (("KERAS_BACKEND", "jax"),)),
    Contender("blas_only", "blas_only.py"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` overrides runs, epochs, limit and repeats."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="processes per contender (default 5)")
    p.add_argument("--epochs", type=int, default=5, help="epochs per run (default 5)")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images")
    p.add_argument(
        "--repeats", type=int, default=7, help="timed evaluate/predict calls per run (default 7)"
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke test: 1 run, 2 epochs, 10,000 images"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=HERE / "results" / "latest.json",
        help="JSON report (default benchmarks/results/latest.json)",
    )
    p.add_argument("--only", default=None, help="comma-separated contender names (default: all)")
    p.add_argument("--import-repeats", type=int, default=7, help="fresh processes per import")
    p.add_argument("--quiet-wait", type=float, default=15.0, help="max s to wait for idle CPU")
    p.add_argument(
        "--noise-limit",
        type=float,
        default=0.25,
        help="a run during which other processes used more cores than this is 'noisy'",
    )
    p.add_argument("--retry-noisy", type=int, default=1, help="reruns allowed per noisy run")
    p.add_argument("--timeout", type=float, default=900.0, help="s before a contender is killed")
    p.add_argument(
        "--pool",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="run nothing: pool the rounds of earlier reports (this script's --out files) into "
        "one report, as if they had been one run with more rounds",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.epochs, args.repeats = 1, 2, 1
        args.import_repeats = min(args.import_repeats, 3)
        args.quiet_wait = min(args.quiet_wait, 10.0)
        if args.limit is None:
            args.limit = 10_000
    return args


# -- the machine ---------------------------------------------------------------------------


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat (Linux)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_cores(window: float = 0.5) -> float:
    """Cores kept busy by the whole machine over ``window`` seconds (the runner sleeps)."""
    busy0, total0 = _cpu_jiffies()
    time.sleep(window)
    busy1, total1 = _cpu_jiffies()
    return (busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1)


def wait_for_quiet(max_wait: float, threshold: float = 0.2) -> tuple[float, float]:
    """Wait until other processes use < ``threshold`` cores; returns (seconds waited, load)."""
    start = time.perf_counter()
    load = busy_cores()
    while load >= threshold and time.perf_counter() - start < max_wait:
        load = busy_cores()
    return time.perf_counter() - start, load


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def environment() -> dict[str, Any]:
    """Python, CPU, NumPy and the BLAS that threadpoolctl finds in this process."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except ImportError:
        pools = []
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "commit": _commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "threadpools": pools,
    }


def _commit() -> str | None:
    """The checkout's commit (``-dirty`` with uncommitted changes), or None outside git."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                             text=True, cwd=ROOT, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def blas_line(pools: list[dict[str, Any]]) -> str:
    """One line per BLAS pool: library, version, kernel architecture, threading, threads."""
    blas = [p for p in pools if p.get("user_api") == "blas"]
    if not blas:
        return "BLAS: (threadpoolctl not installed or no BLAS found)"
    return "; ".join(
        f"BLAS: {p.get('internal_api')} {p.get('version')} ({p.get('prefix')}, "
        f"{p.get('architecture')} kernels, {p.get('threading_layer')}, "
        f"{p.get('num_threads')} threads)"
        for p in blas
    )


# -- import time -----------------------------------------------------------------------------


IMPORTS = {
    "numpy": "import numpy",
    "numkeras": "import numkeras",
    "seed imports": "from numkeras import models, layers",
}


def time_imports(repeats: int) -> dict[str, Any]:
    """Median seconds of each import in fresh interpreters, interleaved; None if it fails.

    Measured as a user's installed package runs: with bytecode caching on (a session that sets
    PYTHONDONTWRITEBYTECODE would otherwise time the compilation of every module), after one
    warm-up round that writes the caches.
    """
    samples: dict[str, list[float] | None] = {name: [] for name in IMPORTS}
    code = "import time\nt = time.perf_counter()\n{}\nprint(time.perf_counter() - t)\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for statement in IMPORTS.values():
        subprocess.run([sys.executable, "-c", statement], capture_output=True, cwd=ROOT, env=env)
    for _ in range(repeats):
        for name, statement in IMPORTS.items():
            if samples[name] is None:
                continue
            out = subprocess.run(
                [sys.executable, "-c", code.format(statement)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=env,
            )
            if out.returncode != 0:
                samples[name] = None
                continue
            samples[name].append(float(out.stdout.split()[-1]))
    result: dict[str, Any] = {
        name: statistics.median(s) if s else None for name, s in samples.items()
    }
    if result["numpy"] is not None and result["numkeras"] is not None:
        result["numkeras_minus_numpy_ms"] = 1000 * (result["numkeras"] - result["numpy"])
    result["repeats"] = repeats
    return result


# -- running the contenders ------------------------------------------------------------------


def run_one(contender: Contender, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """Run one contender process; its JSON result, or a failure record with its stderr tail."""
    cmd = [sys.executable, str(HERE / "contenders" / contender.script), *contender.args]
    cmd += ["--epochs", str(args.epochs), "--seed", str(seed), "--repeats", str(args.repeats)]
    if args.limit is not None:
        cmd += ["--limit", str(args.limit)]
    waited, idle_load = wait_for_quiet(args.quiet_wait)
    busy0, total0 = _cpu_jiffies()
    cpu0, start = _children_cpu_s(), time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=args.timeout,
                              env={**os.environ, **dict(contender.env)})
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        returncode = None
        stdout = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        stderr = (exc.stderr or b"").decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        stderr += f"\n[runner] killed after {args.timeout:.0f} s"
    wall = time.perf_counter() - start
    busy1, total1 = _cpu_jiffies()
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    machine_cpu = (busy1 - busy0) / ticks_per_s
    other_cores = max(0.0, machine_cpu - (_children_cpu_s() - cpu0)) / wall

    result: dict[str, Any] | None = None
    for line in reversed(stdout.strip().splitlines()):
        try:
            candidate = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(candidate, dict) and "name" in candidate:
            result = candidate
            break
    if returncode != 0 or result is None:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        result = {
            "name": contender.name,
            "failed": True,
            "returncode": returncode,
            "stderr_tail": tail,
        }
    result.update(
        name=contender.name,
        wall_s=wall,
        seed=seed,
        other_load_cores=other_cores,
        noisy=other_cores > args.noise_limit,
        waited_for_quiet_s=waited,
        load_before_cores=idle_load,
    )
    return result


def describe(result: dict[str, Any]) -> str:
    """A one-line progress note for a finished run."""
    if result.get("skipped"):
        return f"skipped: {result['skipped']}"
    if result.get("failed"):
        return f"FAILED (exit {result['returncode']})"
    times = ", ".join(f"{t:.2f}" for t in result.get("epoch_times", []))
    noisy = " (NOISY)" if result["noisy"] else ""
    return f"epochs [{times}] s, other load {result['other_load_cores']:.2f} cores{noisy}"


# -- summary -------------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def steady_epoch(epoch_times: list[float]) -> float:
    """Median of epochs 2..N (epoch 1 alone if there is only one)."""
    return statistics.median(epoch_times[1:] or epoch_times)


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per contender: medians over its successful runs, and ratios to the hand loop."""
    summary: dict[str, dict[str, Any]] = {}
    for contender in CONTENDERS:
        mine = [r for r in runs if r["name"] == contender.name]
        if not mine:
            continue
        ok = [r for r in mine if not r.get("failed") and not r.get("skipped")]
        clean = [r for r in ok if not r["noisy"]]
        entry: dict[str, Any] = {"runs": len(ok), "clean_runs": len(clean), "noisy": not clean}
        if not ok:
            entry["status"] = "skipped" if mine[0].get("skipped") else "failed"
            entry["detail"] = mine[0].get("skipped") or mine[0].get("stderr_tail")
            summary[contender.name] = entry
            continue
        ok = clean or ok  # noisy runs count only when there is no clean one
        per_run = [steady_epoch(r["epoch_times"]) for r in ok]
        entry.update(
            status="ok",
            s_per_epoch=statistics.median(per_run),
            s_per_epoch_min=min(per_run),
            s_per_epoch_max=max(per_run),
            first_epoch_s=statistics.median(r["epoch_times"][0] for r in ok),
            other_load_cores=statistics.median(r["other_load_cores"] for r in ok),
        )
        for key in (
            "test_accuracy",
            "test_loss",
            "evaluate_images_per_s",
            "predict_images_per_s",
            "peak_rss_mib",
            "import_s",
            "import_numpy_s",
            "fit_outside_epochs_s",
        ):
            entry[key] = _median([r.get(key) for r in ok])
        summary[contender.name] = entry
    base = summary.get(BASELINE, {})
    for name, entry in summary.items():
        if entry.get("status") == "ok" and base.get("status") == "ok":
            entry["epoch_ratio"] = entry["s_per_epoch"] / base["s_per_epoch"]
            if entry.get("peak_rss_mib") and base.get("peak_rss_mib"):
                entry["rss_ratio"] = entry["peak_rss_mib"] / base["peak_rss_mib"]
            entry.update(paired_ratios(runs, name))
    return summary


def paired_ratios(runs: list[dict[str, Any]], name: str) -> dict[str, float | None]:
    """Medians over rounds of this contender's figure divided by the hand loop's in the same
    round (run i of each is run back to back): steadier than a ratio of medians when the
    machine's speed drifts between rounds."""
    def by_round(who: str) -> dict[int, dict[str, Any]]:
        return {r["run"]: r for r in runs if r["name"] == who and "epoch_times" in r
                and not r.get("failed")}

    mine, base = by_round(name), by_round(BASELINE)
    rounds = sorted(set(mine) & set(base))
    epoch = [steady_epoch(mine[i]["epoch_times"]) / steady_epoch(base[i]["epoch_times"])
             for i in rounds]
    out: dict[str, float | None] = {"paired_epoch_ratio": _median(epoch)}
    for key in ("evaluate_images_per_s", "predict_images_per_s"):
        values = [mine[i].get(key) / base[i]["predict_images_per_s"] for i in rounds
                  if mine[i].get(key) and base[i].get("predict_images_per_s")]
        out[f"paired_{key.split('_')[0]}_ratio"] = _median(values)
    return out


def check_targets(summary: dict[str, Any], imports: dict[str, Any]) -> list[dict[str, Any]]:
    """numkeras against the four targets (README); value None where it could not be measured."""
    nk, base = summary.get("numkeras", {}), summary.get(BASELINE, {})
    bare = base.get("predict_images_per_s")

    def ratio(value: float | None) -> float | None:
        return value / bare if value is not None and bare else None

    rows = [
        ("fit s/epoch vs hand loop", nk.get("epoch_ratio"), "<=", TARGETS["epoch_ratio"], "x"),
        ("  same, median of paired rounds", nk.get("paired_epoch_ratio"), "<=",
         TARGETS["epoch_ratio"], "x"),
        ("peak RSS vs hand loop", nk.get("rss_ratio"), "<=", TARGETS["rss_ratio"], "x"),
        (
            "import numkeras - import numpy",
            imports.get("numkeras_minus_numpy_ms"),
            "<=",
            TARGETS["import_extra_ms"],
            "ms",
        ),
        (
            "evaluate img/s vs bare NumPy forward",
            ratio(nk.get("evaluate_images_per_s")),
            ">=",
            TARGETS["throughput"],
            "x",
        ),
        ("  same, median of paired rounds", nk.get("paired_evaluate_ratio"), ">=",
         TARGETS["throughput"], "x"),
        (
            "predict img/s vs bare NumPy forward",
            ratio(nk.get("predict_images_per_s")),
            ">=",
            TARGETS["throughput"],
            "x",
        ),
        ("  same, median of paired rounds", nk.get("paired_predict_ratio"), ">=",
         TARGETS["throughput"], "x"),
    ]
    checks = []
    for what, value, op, limit, unit in rows:
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        checks.append(
            {"target": what, "value": value, "op": op, "limit": limit, "unit": unit, "met": met}
        )
    return checks


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_report(report: dict[str, Any]) -> None:
    """The human-readable table, targets and environment."""
    cfg, env, summary = report["config"], report["environment"], report["summary"]
    print()
    print(
        f"Seed workload: {cfg['runs']} run(s) x {cfg['epochs']} epoch(s), "
        f"{cfg['n_train'] or 60000} training images, batch 128; evaluate/predict on 10,000 test "
        f"images at batch 128. s/epoch = median over runs of the median of epochs 2..N."
    )
    header = (
        f"{'contender':<11} {'runs':>5} {'s/epoch':>8} {'x hand':>7} {'range':>13} {'1st ep s':>8} "
        f"{'test acc':>8} {'eval img/s':>10} {'pred img/s':>10} {'RSS MiB':>8} {'x hand':>7} "
        f"{'import s':>8} {'other load':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, e in summary.items():
        if e["status"] != "ok":
            print(f"{name:<11} {e['status'].upper()}: {str(e['detail']).splitlines()[-1][:90]}")
            continue
        spread = f"{e['s_per_epoch_min']:.3f}-{e['s_per_epoch_max']:.3f}"
        runs = f"{e['clean_runs']}/{e['runs']}"
        mark = "!" if e["noisy"] else " "
        print(
            f"{name:<11} {runs:>5} {e['s_per_epoch']:>7.3f}{mark} "
            f"{_fmt(e.get('epoch_ratio'), '.2f'):>7} "
            f"{spread:>13} {e['first_epoch_s']:>8.3f} {_fmt(e['test_accuracy'], '.4f'):>8} "
            f"{_fmt(e['evaluate_images_per_s'], ',.0f'):>10} "
            f"{_fmt(e['predict_images_per_s'], ',.0f'):>10} {_fmt(e['peak_rss_mib'], '.0f'):>8} "
            f"{_fmt(e.get('rss_ratio'), '.2f'):>7} {_fmt(e['import_s'], '.3f'):>8} "
            f"{e['other_load_cores']:>6.2f} cpu"
        )
    for name, e in summary.items():
        if e.get("fit_outside_epochs_s") is not None:
            print(
                f"  {name}: fit() spent {e['fit_outside_epochs_s']:.3f} s outside its epochs "
                "(before on_epoch_begin / after on_epoch_end)"
            )
    print(
        "  runs = clean/successful (figures use the clean runs when there are any); "
        "'other load' = cores used by other processes meanwhile;\n"
        "  blas_only = only the five matrix products of each step (a floor for s/epoch);\n"
        "  hand_fused = the hand loop updating with numkeras's fused RMSprop kernel, no "
        "framework around it (its softmax, loss, bias and relu stay NumPy calls)."
    )
    if any(e.get("noisy") for e in summary.values() if e["status"] == "ok"):
        print(
            f"  ! = every run of this contender was noisy (other load > {cfg['noise_limit']} "
            "cores): 2-thread OpenBLAS slows down many-fold when the cores are shared, so "
            "these figures are not trustworthy; rerun when the machine is idle."
        )
    for name, e in summary.items():
        if e["status"] == "failed":
            print(f"\n{name} failed; stderr tail:\n{e['detail']}")

    imp = report["imports"]
    print(
        f"\nImport (fresh processes, median of {imp['repeats']}): import numpy "
        f"{_fmt(imp['numpy'], '.3f')} s, import numkeras {_fmt(imp['numkeras'], '.3f')} s, "
        f"from numkeras import models, layers {_fmt(imp['seed imports'], '.3f')} s; "
        f"numkeras - numpy = {_fmt(imp.get('numkeras_minus_numpy_ms'), '+.0f')} ms"
    )
    print("\nTargets (numkeras):")
    for c in report["targets"]:
        verdict = {True: "MET", False: "NOT MET", None: "not measured"}[c["met"]]
        print(
            f"  {c['target']:<38} {_fmt(c['value'], '.2f'):>8} {c['unit']:<2} "
            f"(target {c['op']} {c['limit']:g}) {verdict}"
        )
    print(f"\nPython {env['python']}, numpy {env['numpy']}, torch {env.get('torch') or '-'}")
    print(f"CPU: {env['cpu']} ({env['cpu_count']} cores), {env['platform']}")
    print(f"numkeras commit: {env.get('commit') or 'unknown'}")
    print(blas_line(env["threadpools"]))


def pool_reports(paths: list[Path]) -> dict[str, Any]:
    """One report from several: their runs together (round i of report k pairs with round i
    of report k only), the import figures' medians over the reports. On a machine whose speed
    drifts by tens of percent between processes, more rounds narrow the medians."""
    reports = [json.loads(path.read_text()) for path in paths]
    runs = [dict(r, run=(k, r["run"])) for k, rep in enumerate(reports) for r in rep["runs"]]
    commits = sorted({rep["environment"].get("commit") or "unknown" for rep in reports})
    if len(commits) > 1:
        print(f"note: pooling reports of different commits: {', '.join(commits)}",
              file=sys.stderr)
    imports: dict[str, Any] = {}
    for key, value in reports[0]["imports"].items():
        if isinstance(value, float):  # seconds and milliseconds; "repeats" stays as it was
            imports[key] = _median([rep["imports"].get(key) for rep in reports])
        else:
            imports[key] = value
    first = reports[0]["config"]
    config = dict(first, runs=sum(rep["config"]["runs"] for rep in reports),
                  pooled_from=[str(path) for path in paths])
    env = dict(reports[0]["environment"], commit=", ".join(commits))
    summary = summarize(runs)
    return {"config": config, "environment": env, "imports": imports, "summary": summary,
            "targets": check_targets(summary, imports), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.pool:
        report = pool_reports(args.pool)
        print_report(report)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwritten: {args.out}")
        return 0
    names = set(args.only.split(",")) if args.only else {c.name for c in CONTENDERS}
    unknown = names - {c.name for c in CONTENDERS}
    if unknown:
        sys.exit(f"unknown contender(s): {', '.join(sorted(unknown))}")
    contenders = [c for c in CONTENDERS if c.name in names]
    env = environment()
    print(blas_line(env["threadpools"]), file=sys.stderr)

    print(f"timing imports ({args.import_repeats} fresh processes each) ...", file=sys.stderr)
    imports = time_imports(args.import_repeats)

    runs: list[dict[str, Any]] = []
    retired: set[str] = set()  # skipped or failed: not run again
    for run in range(1, args.runs + 1):
        for contender in contenders:
            if contender.name in retired:
                continue
            print(
                f"[run {run}/{args.runs}] {contender.name} ...",
                end=" ",
                file=sys.stderr,
                flush=True,
            )
            for attempt in range(args.retry_noisy + 1):
                result = run_one(contender, args, seed=run)
                result.update(run=run, attempt=attempt + 1)
                runs.append(result)
                print(describe(result), file=sys.stderr, flush=True)
                if not result.get("noisy") or attempt == args.retry_noisy:
                    break
                print(f"  ... {contender.name} again:", end=" ", file=sys.stderr, flush=True)
            if result.get("failed") or result.get("skipped"):
                retired.add(contender.name)
                if result.get("failed"):
                    print(result["stderr_tail"], file=sys.stderr)

    for r in runs:
        torch_version = r.get("versions", {}).get("torch")
        if torch_version:
            env["torch"] = torch_version
    summary = summarize(runs)
    report = {
        "config": {
            "runs": args.runs,
            "epochs": args.epochs,
            "n_train": args.limit,
            "batch_size": 128,
            "repeats": args.repeats,
            "quick": args.quick,
            "noise_limit": args.noise_limit,
            "contenders": [c.name for c in contenders],
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "environment": env,
        "imports": imports,
        "summary": summary,
        "targets": check_targets(summary, imports),
        "runs": runs,
    }
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
