"""Bad input: one line on stderr, a non-zero exit code (2 for usage), never a traceback.

Most cases call ``numkeras.cli.main`` in this process (fast); a few run the real command in
a subprocess, to check what a person actually sees.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from numkeras.cli import main


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    """A real (untrained) model file of the CLI's architecture."""
    from numkeras.cli._train import build_model

    model = build_model(8)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path


def run_main(capsys, *args: object) -> tuple[int, list[str], str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines(), captured.out


def assert_one_line_error(code: int, err: list[str], expected_code: int, *fragments: str) -> None:
    assert code == expected_code, (code, err)
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    assert "error:" in err[0]
    for fragment in fragments:
        assert fragment in err[0], (fragment, err[0])


@pytest.mark.parametrize("args, fragments", [
    (["--epochs", "0"], ["--epochs", "positive"]),
    (["--epochs", "-3"], ["--epochs", "positive"]),
    (["--epochs", "two"], ["--epochs"]),
    (["--batch-size", "0"], ["--batch-size"]),
    (["--hidden", "0"], ["--hidden"]),
    (["--learning-rate", "-1"], ["--learning-rate"]),
    (["--validation-split", "1.5"], ["--validation-split"]),
    (["--dataset", "no-such-dataset"], ["no-such-dataset", "mnist", "fashion-mnist", "path"]),
    (["--optimizer", "no-such-optimizer"], ["no-such-optimizer", "rmsprop", "adam", "sgd"]),
    (["--no-such-option"], ["--no-such-option"]),
])
def test_train_usage_errors_exit_2(capsys, tmp_path, args, fragments) -> None:
    code, err, _ = run_main(capsys, "train", "--output", tmp_path / "out", *args)
    assert_one_line_error(code, err, 2, *fragments)
    assert not (tmp_path / "out" / "model.keras").exists()


def test_unknown_command_exits_2(capsys) -> None:
    code, err, _ = run_main(capsys, "fly")
    assert_one_line_error(code, err, 2, "fly")


def test_unwritable_output_directory(capsys, tmp_path, tiny_npz) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, err, _ = run_main(capsys, "train", "--dataset", tiny_npz, "--output",
                            blocker / "sub")
    assert_one_line_error(code, err, 1, "cannot write to output directory", str(blocker))
    code, err, _ = run_main(capsys, "train", "--dataset", tiny_npz, "--output", blocker)
    assert_one_line_error(code, err, 1, "not a directory")


def test_corrupt_dataset_file(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not an npz archive")
    code, err, _ = run_main(capsys, "train", "--dataset", bad, "--output", tmp_path / "out")
    assert_one_line_error(code, err, 1, str(bad))
    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=np.zeros((2, 28, 28), np.uint8))
    code, err, _ = run_main(capsys, "train", "--dataset", partial, "--output", tmp_path / "o2")
    assert_one_line_error(code, err, 1, "y_train")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    code, err, _ = run_main(capsys, "evaluate", "whatever.keras", "--dataset", empty_dir)
    assert code != 0 and len(err) == 1


def test_model_files_that_are_not_models(capsys, tmp_path, small_model) -> None:
    text = tmp_path / "notes.keras"
    text.write_text("hello")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(small_model.read_bytes()[: small_model.stat().st_size // 2])
    foreign = tmp_path / "foreign.keras"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("something.txt", "not a model")
    cases = [
        (text, "not a numkeras model"),
        (truncated, "truncated"),
        (foreign, "not a numkeras model"),
        (tmp_path / "missing.keras", "no such file"),
        (tmp_path, "directory"),
    ]
    for path, fragment in cases:
        for command in (["evaluate", path], ["predict", path, "x.png"]):
            code, err, _ = run_main(capsys, *command)
            assert_one_line_error(code, err, 1, fragment)


def test_images_that_cannot_be_read(capsys, tmp_path, small_model) -> None:
    not_image = tmp_path / "digit.png"
    not_image.write_text("not really a PNG")
    truncated = tmp_path / "cut.png"
    good = tmp_path / "good.png"
    Image.fromarray((np.arange(64 * 64) % 251).astype(np.uint8).reshape(64, 64)).save(good)
    truncated.write_bytes(good.read_bytes()[:100])
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    cases = [
        (not_image, "not an image format"),
        (truncated, str(truncated)),
        (tmp_path / "missing.png", "no such file"),
        (tmp_path, "directory"),
        (blank, "no digit found"),
    ]
    for path, fragment in cases:
        code, err, out = run_main(capsys, "predict", small_model, good, path)
        assert_one_line_error(code, err, 1, fragment)
        assert out == ""  # nothing predicted when one of the images is bad


def test_wrong_model_shape(capsys, tmp_path) -> None:
    from numkeras import layers, models

    model = models.Sequential([layers.Input(shape=(5,)), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "other.keras"
    model.save(path)
    code, err, _ = run_main(capsys, "predict", path, tmp_path / "x.png")
    assert_one_line_error(code, err, 1, "784")


def test_debug_shows_the_traceback(capsys, tmp_path) -> None:
    text = tmp_path / "notes.keras"
    text.write_text("hello")
    code = main(["evaluate", str(text), "--debug"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" in err and "not a numkeras model" in err


@pytest.mark.parametrize("args, expected_code", [
    (["train", "--epochs", "0"], 2),
    (["train", "--optimizer", "adamm"], 2),
    (["evaluate", "/no/such/model.keras"], 1),
])
def test_real_process_prints_one_line(run_cli, tmp_path, args, expected_code) -> None:
    result = run_cli(*args, "--output", tmp_path) if args[0] == "train" else run_cli(*args)
    assert result.returncode == expected_code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numkeras"), result.stderr
    assert "Traceback" not in result.stderr
