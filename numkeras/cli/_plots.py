"""The figures ``numkeras train`` writes: learning curves, confusion matrix, worst mistakes.

matplotlib is an optional extra: ``available()`` says whether it can be imported, and the
figures are drawn on ``matplotlib.figure.Figure`` objects rendered by the Agg backend, so
no display is needed and pyplot's global state (and the user's backend) is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DPI = 120
STYLE = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.5,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "savefig.facecolor": "white",
}
TRAIN_COLOUR = "#1f77b4"
VAL_COLOUR = "#ff7f0e"
TEST_COLOUR = "#2ca02c"


def available() -> tuple[bool, str]:
    """``(True, "")`` if matplotlib can be imported, else ``(False, reason)``."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except Exception as exc:  # ImportError, or a broken installation
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def _figure(width: float, height: float, layout: str | None = "constrained") -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout=layout)


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def learning_curves(
    history: dict[str, list[float]], path: Path, title: str,
    test: dict[str, float] | None = None,
) -> Path:
    """Loss and accuracy per epoch, training and (when recorded) validation, side by side;
    the final test values as dotted horizontal lines."""
    from matplotlib import rc_context
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    with rc_context(STYLE):
        fig = _figure(11, 4.3)
        axes = fig.subplots(1, 2)
        panels = (
            ("loss", "Loss", "Categorical crossentropy", None),
            ("accuracy", "Accuracy", "Accuracy", PercentFormatter(1.0, decimals=None)),
        )
        for ax, (key, heading, ylabel, formatter) in zip(axes, panels):
            train = history.get(key, [])
            epochs = np.arange(1, len(train) + 1)
            if len(train):
                ax.plot(epochs, train, "o-", color=TRAIN_COLOUR, lw=2, ms=5, label="training")
            val = history.get(f"val_{key}", [])
            if len(val):
                ax.plot(np.arange(1, len(val) + 1), val, "s--", color=VAL_COLOUR, lw=2,
                        ms=5, label="validation")
            if test and key in test:
                ax.axhline(test[key], color=TEST_COLOUR, ls=":", lw=1.8,
                           label=f"test (final): {_fmt(key, test[key])}")
            ax.set_title(heading)
            ax.set_xlabel("Epoch")
            ax.set_ylabel(ylabel)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if len(epochs) == 1:
                ax.set_xlim(0.5, 1.5)
            if formatter is not None:
                ax.yaxis.set_major_formatter(formatter)
            ax.grid(True, alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="best")
        fig.suptitle(title)
        return _save(fig, path)


def _fmt(key: str, value: float) -> str:
    return f"{value:.2%}" if key == "accuracy" else f"{value:.4f}"


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]``."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)),
              1)
    return matrix


def confusion_figure(
    matrix: np.ndarray, class_names: Sequence[str], path: Path, title: str
) -> Path:
    """The confusion matrix with every count written in its cell: correct predictions (the
    diagonal) shaded blue by recall, mistakes shaded red by count, so errors stand out."""
    from matplotlib import rc_context
    from matplotlib.colors import ListedColormap

    n = len(matrix)
    totals = matrix.sum(axis=1, keepdims=True)
    recall = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    diagonal = np.eye(n, dtype=bool)
    errors = np.where(diagonal, 0, matrix)
    worst = max(int(errors.max()), 1)
    long_names = max((len(name) for name in class_names), default=1) > 3
    with rc_context(STYLE):
        fig = _figure(8.2 if long_names else 7.4, 7.2 if long_names else 6.6)
        ax = fig.subplots()
        ax.spines[:].set_visible(False)
        blank = ListedColormap(["white"])
        ax.imshow(np.zeros_like(recall), cmap=blank, vmin=0, vmax=1)
        ax.imshow(np.ma.masked_where(~diagonal, recall), cmap="Blues", vmin=0, vmax=1.15)
        shown_errors = np.ma.masked_where(diagonal | (matrix == 0), errors)
        image = ax.imshow(shown_errors, cmap="Reds", vmin=0, vmax=worst * 1.1)
        size = 9 if n <= 10 else 7
        for i in range(n):
            for j in range(n):
                count = int(matrix[i, j])
                if i == j:
                    colour = "white" if recall[i, j] > 0.55 else "black"
                elif count:
                    colour = "white" if count > 0.6 * worst else "black"
                else:
                    colour = "#bbbbbb"
                ax.text(j, i, str(count), ha="center", va="center", color=colour,
                        fontsize=size, fontweight="bold" if i == j else "normal")
        ax.set_xticks(range(n), labels=class_names)
        ax.set_yticks(range(n), labels=[
            f"{name}  ({recall[i, i]:.0%})" for i, name in enumerate(class_names)
        ])
        if long_names:
            for label in ax.get_xticklabels():
                label.set_rotation(40)
                label.set_ha("right")
                label.set_rotation_mode("anchor")
        ax.set_xticks(np.arange(-0.5, n), minor=True)
        ax.set_yticks(np.arange(-0.5, n), minor=True)
        ax.grid(which="minor", color="white", lw=1.5)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class  (recall)")
        ax.set_title(title)
        bar = fig.colorbar(image, ax=ax, shrink=0.75, pad=0.02)
        bar.set_label("Misclassified images (off-diagonal cells)")
        return _save(fig, path)


def most_confident_mistakes(
    probabilities: np.ndarray, y_true: np.ndarray, count: int
) -> np.ndarray:
    """Indices of up to ``count`` misclassified samples, highest wrong confidence first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def mistakes_figure(
    images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray,
    class_names: Sequence[str], path: Path, title: str, rows: int = 4, cols: int = 6,
) -> Path:
    """A grid of the test images the model got wrong most confidently, each captioned with
    its true class, the prediction and the prediction's probability."""
    from matplotlib import rc_context

    chosen = most_confident_mistakes(probabilities, y_true, rows * cols)
    n_wrong = int((probabilities.argmax(axis=1) != y_true).sum())
    with rc_context(STYLE):
        if len(chosen) == 0:
            fig = _figure(6, 2.5)
            ax = fig.subplots()
            ax.axis("off")
            ax.text(0.5, 0.5, f"No misclassified images among {len(y_true):,}.",
                    ha="center", va="center", fontsize=13)
            fig.suptitle(title)
            return _save(fig, path)
        rows = min(rows, int(np.ceil(len(chosen) / cols)))
        # A fixed grid (no automatic layout: 24 small axes would make it slow), captions as
        # plain text above each image.
        cell_w, cell_h, header = 1.65, 1.9, 0.8
        fig = _figure(cell_w * cols, cell_h * rows + header, layout=None)
        height = cell_h * rows + header
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.01, top=1 - header / height,
                            wspace=0.12, hspace=0.38)
        axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
        for ax in axes:
            ax.axis("off")
        for ax, index in zip(axes, chosen):
            predicted = int(probabilities[index].argmax())
            ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
            ax.text(0.5, 1.03, f"true: {class_names[int(y_true[index])]}\n"
                    f"pred: {class_names[predicted]} ({probabilities[index, predicted]:.1%})",
                    transform=ax.transAxes, ha="center", va="bottom", fontsize=8.5,
                    color="#b00020", linespacing=1.25)
        fig.suptitle(f"{title}\n{n_wrong:,} of {len(y_true):,} test images misclassified; "
                     f"the {len(chosen)} most confident mistakes", fontsize=11.5,
                     y=1 - 0.08 / height)
        return _save(fig, path)
