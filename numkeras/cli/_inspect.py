"""``numkeras evaluate`` and ``numkeras predict``: using a saved model.

``evaluate`` reports test loss and accuracy and a per-class precision / recall / F1 table.
``predict`` reads images of digits (any size or polarity; see ``_images``) and prints each
one's predicted class and top-3 probabilities, or JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from numkeras.cli import _data
from numkeras.cli._common import CLIError, say

TOP_K = 3


def load_model(path: str) -> Any:
    """The model in ``path``; a missing, foreign or damaged file is a one-line ``CLIError``."""
    from numkeras.models import load_model as load
    from numkeras.models.saving import ModelFileError

    file = Path(path).expanduser()
    if file.is_dir():
        raise CLIError(f"cannot load model {file}: it is a directory (expected a .keras file)")
    try:
        return load(file)
    except FileNotFoundError as exc:
        raise CLIError(f"cannot load model {file}: no such file") from exc
    except ModelFileError as exc:
        raise CLIError(f"cannot load model: {exc}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"cannot load model {file}: not a numkeras model file, or it is "
                       f"damaged ({type(exc).__name__}: {exc})") from exc


def _input_shape(model: Any, path: str) -> tuple[int, ...]:
    shape = tuple(getattr(model, "input_shape", None) or ())[1:]
    if not shape or None in shape or math.prod(shape) != 28 * 28:
        raise CLIError(f"model {path} takes inputs of shape {shape or 'unknown'}; these "
                       "commands need a model of 28x28 images (784 values)")
    return shape


def _class_names(model_path: str, n_outputs: int) -> list[str]:
    """Class names recorded by ``train`` in ``history.json`` beside the model, else indices."""
    record = Path(model_path).expanduser().with_name("history.json")
    try:
        names = json.loads(record.read_text(encoding="utf-8"))["dataset"]["class_names"]
        if isinstance(names, list) and len(names) == n_outputs:
            return [str(name) for name in names]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return [str(i) for i in range(n_outputs)]


def _crossentropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Keras's categorical crossentropy of probability rows against integer labels."""
    p = probabilities / np.clip(probabilities.sum(axis=1, keepdims=True), 1e-7, None)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


def per_class_report(
    y_true: np.ndarray, y_pred: np.ndarray, names: list[str]
) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support of each class, then macro and weighted averages."""
    rows = []
    for index, name in enumerate(names):
        tp = int(np.sum((y_pred == index) & (y_true == index)))
        predicted = int(np.sum(y_pred == index))
        support = int(np.sum(y_true == index))
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"class": name, "precision": precision, "recall": recall, "f1": f1,
                     "support": support})
    total = sum(row["support"] for row in rows)
    for label, weights in (("macro avg", [1.0] * len(rows)),
                           ("weighted avg", [row["support"] for row in rows])):
        norm = sum(weights) or 1.0
        rows.append({
            "class": label,
            **{key: sum(w * row[key] for w, row in zip(weights, rows[:len(names)])) / norm
               for key in ("precision", "recall", "f1")},
            "support": total,
        })
    return rows


def format_report(rows: list[dict[str, Any]]) -> str:
    width = max(12, *(len(row["class"]) for row in rows))
    lines = [f"{'class':<{width}}  {'precision':>9}  {'recall':>7}  {'f1-score':>8}  "
             f"{'support':>7}"]
    for i, row in enumerate(rows):
        if row["class"] == "macro avg" and i:
            lines.append("")
        lines.append(f"{row['class']:<{width}}  {row['precision']:>9.4f}  {row['recall']:>7.4f}"
                     f"  {row['f1']:>8.4f}  {row['support']:>7,}")
    return "\n".join(lines)


def run_evaluate(args: argparse.Namespace) -> int:
    _data.check_spec(args.dataset)
    model = load_model(args.model)
    shape = _input_shape(model, args.model)
    data = _data.load(args.dataset)
    n_outputs = int(model.output_shape[-1])
    if n_outputs != len(data.class_names):
        raise CLIError(f"model {args.model} has {n_outputs} outputs but {data.name} has "
                       f"{len(data.class_names)} classes")
    x = _data.as_inputs(data.x_test).reshape((-1,) + shape)
    probabilities = model.predict(x, batch_size=1024, verbose=0)
    predicted = probabilities.argmax(axis=1)
    labels = data.y_test.astype(np.int64)
    loss = _crossentropy(probabilities, labels)
    accuracy = float(np.mean(predicted == labels))
    say(f"Model: {args.model}")
    say(f"Data: {data.name} test set, {len(labels):,} images [{data.source}]")
    say(f"test_loss: {loss:.4f} - test_accuracy: {accuracy:.4f}")
    say()
    say(format_report(per_class_report(labels, predicted, list(data.class_names))))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from numkeras.cli._images import load_digit

    model = load_model(args.model)
    shape = _input_shape(model, args.model)
    digits = np.stack([load_digit(path) for path in args.images])
    probabilities = model.predict(digits.reshape((-1,) + shape), verbose=0)
    names = _class_names(args.model, probabilities.shape[1])
    results = []
    for path, row in zip(args.images, probabilities):
        top = np.argsort(-row, kind="stable")[:TOP_K]
        results.append({
            "image": path,
            "predicted": int(top[0]),
            "label": names[int(top[0])],
            "probability": float(row[top[0]]),
            "top": [{"class": int(i), "label": names[int(i)], "probability": float(row[i])}
                    for i in top],
        })
    if args.json:
        say(json.dumps({"model": args.model, "predictions": results}, indent=2))
        return 0
    for result in results:
        ranked = ", ".join(f"{t['label']} {t['probability']:.1%}" for t in result["top"])
        say(f"{result['image']}: {result['label']} ({result['probability']:.1%})  "
            f"top {TOP_K}: {ranked}")
    return 0
