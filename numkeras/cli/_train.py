"""``numkeras train``: the seed's network trained on MNIST, and what it learned, on disk.

Defaults are exactly the seed: ``Dense(512, relu) -> Dense(10, softmax)`` on 784 inputs
scaled to [0, 1], RMSprop, categorical crossentropy, accuracy, 5 epochs of batches of 128.
The output directory receives ``model.keras``, ``history.json`` and the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from numkeras.cli import _data
from numkeras.cli._common import INTERRUPTED_EXIT, CLIError, UsageError, note, say

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
CURVES_FILE = "training_curves.png"
CONFUSION_FILE = "confusion_matrix.png"
MISTAKES_FILE = "misclassified.png"


def optimizer_names() -> list[str]:
    """The optimizer names ``numkeras.optimizers.get`` accepts (for help and errors)."""
    from numkeras import optimizers

    return sorted(optimizers.ALL_OPTIMIZERS)


def make_optimizer(name: str, learning_rate: float | None) -> Any:
    """The optimizer ``name`` names (with ``learning_rate`` if given); ``UsageError`` if
    unknown."""
    from numkeras import optimizers

    try:
        optimizer = optimizers.get(name)
    except (ValueError, TypeError, KeyError) as exc:
        valid = ", ".join(optimizer_names()) or "(none available)"
        raise UsageError(f"unknown optimizer {name!r}: choose one of {valid}") from exc
    if learning_rate is not None:
        try:
            optimizer = type(optimizer)(learning_rate=learning_rate)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"optimizer {name!r} rejects --learning-rate {learning_rate}: "
                             f"{exc}") from exc
    return optimizer


def learning_rate_of(optimizer: Any) -> float | None:
    try:
        # Stored as float32: 0.0010000000474974513 is recorded as 0.001.
        return float(f"{float(np.asarray(optimizer.learning_rate)):.7g}")
    except (AttributeError, TypeError, ValueError):
        return None


def build_model(hidden: int, num_classes: int = 10) -> Any:
    """The seed's network: ``Dense(hidden, relu) -> Dense(num_classes, softmax)``."""
    from numkeras import layers, models

    return models.Sequential([
        layers.Input(shape=(28 * 28,)),
        layers.Dense(hidden, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])


def prepare_output(requested: str | None) -> Path:
    """Create the output directory (default ``runs/<timestamp>``) and check it is writable."""
    if requested is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path("runs") / stamp
        suffix = 1
        while path.exists():
            suffix += 1
            path = Path("runs") / f"{stamp}-{suffix}"
    else:
        path = Path(requested).expanduser()
    if path.exists() and not path.is_dir():
        raise CLIError(f"cannot write to output directory {path}: it exists and is not a "
                       "directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".numkeras-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CLIError(f"cannot write to output directory {path}: "
                       f"{exc.strerror or exc}") from exc
    return path


def run(args: argparse.Namespace) -> int:
    """The ``train`` command; returns the exit code."""
    from numkeras import utils
    from numkeras.cli._interrupt import GracefulInterrupt, StopOnInterrupt

    started = time.monotonic()
    _data.check_spec(args.dataset)
    optimizer = make_optimizer(args.optimizer, args.learning_rate)
    output = prepare_output(args.output)
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    utils.set_random_seed(seed)

    data = _data.load(args.dataset)
    n_classes = len(data.class_names)
    x_train, y_train = _data.as_inputs(data.x_train), _data.one_hot(data.y_train, n_classes)
    x_test, y_test = _data.as_inputs(data.x_test), _data.one_hot(data.y_test, n_classes)
    if args.validation_split:
        # fit() validates on the *last* share of the samples; shuffle first (seeded) so that
        # class-sorted data (such as the MNIST samples) are validated on every class.
        order = np.random.default_rng(seed).permutation(len(x_train))
        x_train, y_train = x_train[order], y_train[order]

    model = build_model(args.hidden, n_classes)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    settings = {
        "dataset": args.dataset,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "learning_rate": learning_rate_of(model.optimizer),
        "hidden": args.hidden,
        "validation_split": args.validation_split,
        "seed": seed,
        "figures": args.figures,
        "loss": "categorical_crossentropy",
        "metrics": ["accuracy"],
    }
    say(f"Data: {data.name}: {len(x_train):,} training and {len(x_test):,} test images "
        f"[{data.source}]")
    rate = settings["learning_rate"]
    say(f"Model: Dense({args.hidden}, relu) -> Dense({n_classes}, softmax), "
        f"{model.count_params():,} parameters; {args.optimizer}"
        + (f" (learning rate {rate:g})" if rate is not None else "")
        + f", {args.epochs} epoch(s) of batch {args.batch_size}, seed {seed}")
    say(f"Output: {output}/")

    interrupt = GracefulInterrupt()
    stopper = StopOnInterrupt(interrupt)
    with interrupt:
        history = model.fit(
            x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
            validation_split=args.validation_split, verbose=1, callbacks=[stopper],
        )
    history_dict = {k: [float(v) for v in values]
                    for k, values in (getattr(history, "history", None) or {}).items()}

    model_path = output / MODEL_FILE
    _save_model(model, model_path)
    if interrupt.requested:
        epoch, batch = stopper.stopped_at or (len(history_dict.get("loss", [])), 0)
        say(f"Training interrupted in epoch {epoch} (after batch {batch}); the model trained "
            f"so far is saved in {model_path}")
    else:
        say(f"Saved the trained model: {model_path}")

    test = model.evaluate(x_test, y_test, batch_size=max(args.batch_size, 256), verbose=0,
                          return_dict=True)
    test_loss = float(test["loss"])
    test_accuracy = float(next(v for k, v in test.items() if "acc" in k))
    say(f"test_loss: {test_loss:.4f} - test_accuracy: {test_accuracy:.4f}")

    probabilities = model.predict(x_test, batch_size=1024, verbose=0)
    figures, skipped = _figures(
        args, data, history_dict, probabilities, {"loss": test_loss, "accuracy": test_accuracy},
        output,
    )
    record = {
        "history": history_dict,
        "epochs_completed": len(history_dict.get("loss", [])),
        "interrupted": interrupt.requested,
        "stopped_at": (
            {"epoch": stopper.stopped_at[0], "batch": stopper.stopped_at[1]}
            if stopper.stopped_at else None
        ),
        "settings": settings,
        "dataset": data.describe(),
        "test": {"loss": test_loss, "accuracy": test_accuracy},
        "model": {"file": MODEL_FILE, "parameters": int(model.count_params()),
                  "architecture": f"Dense({args.hidden}, relu) -> Dense({n_classes}, softmax)"},
        "figures": [p.name for p in figures],
        "figures_skipped": skipped,
        "numkeras_version": _version(),
        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 2),
    }
    history_path = output / HISTORY_FILE
    try:
        history_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"cannot write {history_path}: {exc.strerror or exc}") from exc
    written = [MODEL_FILE, HISTORY_FILE] + [p.name for p in figures]
    say(f"Wrote {output}/: {', '.join(written)}")
    return INTERRUPTED_EXIT if interrupt.requested else 0


def _save_model(model: Any, path: Path) -> None:
    try:
        model.save(path)
    except OSError as exc:
        raise CLIError(f"cannot save the model to {path}: {exc.strerror or exc}") from exc


def _version() -> str:
    import numkeras

    return getattr(numkeras, "__version__", "unknown")


def _figures(
    args: argparse.Namespace, data: _data.Dataset, history: dict, probabilities: np.ndarray,
    test: dict, output: Path,
) -> tuple[list[Path], str | None]:
    """Draw the three figures; returns their paths, or why they were skipped."""
    from numkeras.cli import _plots

    if not args.figures:
        return [], "--no-figures was given"
    ok, reason = _plots.available()
    if not ok:
        message = ("matplotlib is not available, so no figures were drawn "
                   "(install it: pip install 'numkeras[plot]')")
        note(message)
        return [], f"{message}: {reason}"
    say("Drawing the figures...")
    names = data.class_names
    predicted = probabilities.argmax(axis=1)
    model_text = f"Dense({args.hidden}) network"
    figures = []
    try:
        figures.append(_plots.learning_curves(
            history, output / CURVES_FILE,
            f"Training history: {model_text} on {data.name}", test=test,
        ))
        matrix = _plots.confusion_matrix(data.y_test, predicted, len(names))
        figures.append(_plots.confusion_figure(
            matrix, names, output / CONFUSION_FILE,
            f"Confusion matrix on the test set\n{data.name}: {len(data.y_test):,} images, "
            f"accuracy {test['accuracy']:.2%}",
        ))
        figures.append(_plots.mistakes_figure(
            data.x_test, data.y_test, probabilities, names, output / MISTAKES_FILE,
            f"Most confident mistakes: {data.name}",
        ))
    except OSError as exc:
        raise CLIError(f"cannot write the figures to {output}: {exc.strerror or exc}") from exc
    return figures, None
