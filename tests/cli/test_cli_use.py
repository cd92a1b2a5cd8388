"""``numkeras evaluate`` and ``numkeras predict`` on the model the session trained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def test_evaluate_prints_accuracy_and_per_class_table(run_cli, trained_run, sample_dir
                                                      ) -> None:
    assert trained_run.result.returncode == 0, trained_run.result.output
    result = run_cli("evaluate", trained_run.output / "model.keras", "--dataset", sample_dir)
    assert result.returncode == 0, result.output
    found = re.findall(r"^test_loss: (\d+\.\d{4}) - test_accuracy: (\d\.\d{4})$", result.stdout,
                       re.M)
    trained = re.findall(r"^test_loss: (\d+\.\d{4}) - test_accuracy: (\d\.\d{4})$",
                         trained_run.result.stdout, re.M)
    assert len(found) == 1 and len(trained) == 1
    # Same model, same 10,000 test digits: the numbers train printed.
    assert float(found[0][1]) == pytest.approx(float(trained[0][1]), abs=1.5e-4)
    assert float(found[0][0]) == pytest.approx(float(trained[0][0]), abs=2e-3)
    header = next(line for line in result.stdout.splitlines() if line.startswith("class"))
    assert header.split() == ["class", "precision", "recall", "f1-score", "support"]
    rows = {}
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"(\S+(?: avg)?)\s+(\d\.\d{4})\s+(\d\.\d{4})\s+(\d\.\d{4})\s+"
                             r"([\d,]+)", line.strip())
        if match:
            rows[match[1]] = [float(match[i]) for i in (2, 3, 4)] + [
                int(match[5].replace(",", ""))]
    assert set(rows) == {str(d) for d in range(10)} | {"macro avg", "weighted avg"}
    assert sum(rows[str(d)][3] for d in range(10)) == 10_000
    assert rows[str(1)][3] == 1135  # the official test set has 1,135 ones
    for name, (precision, recall, f1, _) in rows.items():
        if precision + recall and "avg" not in name:  # averages average the F1s
            expected = 2 * precision * recall / (precision + recall)
            assert f1 == pytest.approx(expected, abs=2e-4), name
    assert rows["macro avg"][2] == pytest.approx(np.mean([rows[str(d)][2] for d in range(10)]),
                                                 abs=2e-4)
    # Weighted recall is accuracy.
    assert rows["weighted avg"][1] == pytest.approx(float(found[0][1]), abs=1.5e-4)


@pytest.fixture(scope="module")
def digit_images(trained_run, sample_dir, tmp_path_factory):
    """Three test digits the model gets right with confidence, each saved three ways:
    enlarged light-on-dark PNG, inverted (dark-on-light) PNG, and small and off-centre on a
    large white JPEG canvas."""
    from numkeras.datasets import mnist
    from numkeras.models import load_model

    assert trained_run.result.returncode == 0, trained_run.result.output
    model = load_model(trained_run.output / "model.keras")
    _, (x_test, y_test) = mnist.load_data(path=sample_dir)
    x_test, y_test = x_test[:2000], y_test[:2000]
    probabilities = model.predict(x_test.reshape(-1, 784).astype("float32") / 255,
                                  batch_size=1000, verbose=0)
    chosen = []
    for digit in (2, 7, 4):
        confident = np.flatnonzero((y_test == digit) & (probabilities[:, digit] > 0.98))
        assert len(confident), f"no confidently recognised {digit}"
        chosen.append(int(confident[0]))
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for index in chosen:
        label = int(y_test[index])
        big = Image.fromarray(x_test[index]).resize((112, 112), Image.Resampling.BICUBIC)
        light = folder / f"digit{label}_light.png"
        big.save(light)
        dark = folder / f"digit{label}_dark.png"
        Image.fromarray(255 - np.asarray(big)).save(dark)
        canvas = Image.new("RGB", (320, 240), "white")
        small = Image.fromarray(255 - x_test[index]).resize((70, 70), Image.Resampling.BICUBIC)
        canvas.paste(small.convert("RGB"), (225, 15))
        corner = folder / f"digit{label}_corner.jpg"
        canvas.save(corner, quality=92)
        files += [(light, label), (dark, label), (corner, label)]
    return files


def test_predict_json_recognises_digits_in_any_format(run_cli, trained_run, digit_images
                                                      ) -> None:
    model = trained_run.output / "model.keras"
    result = run_cli("predict", model, *[path for path, _ in digit_images], "--json")
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == str(model)
    predictions = report["predictions"]
    assert [p["image"] for p in predictions] == [str(path) for path, _ in digit_images]
    for prediction, (path, label) in zip(predictions, digit_images):
        assert prediction["predicted"] == label, (path.name, prediction)
        assert prediction["label"] == str(label)
        top = prediction["top"]
        assert len(top) == 3 and top[0]["class"] == label
        probabilities = [t["probability"] for t in top]
        assert probabilities == sorted(probabilities, reverse=True)
        assert prediction["probability"] == probabilities[0] > 0.5
        assert sum(probabilities) <= 1 + 1e-6
        assert len({t["class"] for t in top}) == 3


def test_predict_text_output(run_cli, trained_run, digit_images) -> None:
    path, label = digit_images[1]
    result = run_cli("predict", trained_run.output / "model.keras", path)
    assert result.returncode == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    match = re.fullmatch(rf"{re.escape(str(path))}: (\d) \((\d+\.\d)%\)  top 3: (.+)", lines[0])
    assert match, lines[0]
    assert int(match[1]) == label
    ranked = re.findall(r"(\d) (\d+\.\d)%", match[3])
    assert len(ranked) == 3 and int(ranked[0][0]) == label


def test_predict_uses_class_names_recorded_beside_the_model(run_cli, trained_run,
                                                            digit_images, tmp_path) -> None:
    model = tmp_path / "model.keras"
    model.write_bytes((trained_run.output / "model.keras").read_bytes())
    names = [f"class-{d}" for d in range(10)]
    (tmp_path / "history.json").write_text(json.dumps({"dataset": {"class_names": names}}))
    path, label = digit_images[0]
    result = run_cli("predict", model, path, "--json")
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout)["predictions"][0]["label"] == f"class-{label}"


def test_png_figure_sizes_are_reasonable(trained_run) -> None:
    for name in ("training_curves.png", "confusion_matrix.png", "misclassified.png"):
        with Image.open(Path(trained_run.output) / name) as image:
            dpi = image.info.get("dpi", (0, 0))[0]
        assert 95 <= dpi <= 155, (name, dpi)
