"""Shared test fixtures: where the real data lives, and what to do when it is missing; the
compiled kernels.

Tests that need real data use the fixtures below. Outside CI they skip with a reason that
says what to install; with ``NUMKERAS_REQUIRE_DATA=1`` (set by ``.ci/run``) they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MNIST_SAMPLE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "mnist-sample"
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def require_data(path: Path, how_to_get_it: str) -> Path:
    """Return ``path`` if it exists; otherwise skip (or fail under NUMKERAS_REQUIRE_DATA)."""
    if path.exists():
        return path
    message = f"real data missing: {path} ({how_to_get_it})"
    if os.environ.get("NUMKERAS_REQUIRE_DATA"):
        pytest.fail(message + " -- NUMKERAS_REQUIRE_DATA is set, so this is an error")
    pytest.skip(message)


@pytest.fixture
def mnist_sample_dir() -> Path:
    """The 5,000 real MNIST training digits and the official 10,000 test digits (IDX, gz)."""
    return require_data(
        MNIST_SAMPLE_DIR, "expected the project's shared data beside the checkout: ../shared/data"
    )


@pytest.fixture
def fashion_mnist_dir() -> Path:
    """Full-size Fashion-MNIST as installed by Debian's dataset-fashion-mnist package."""
    return require_data(
        FASHION_MNIST_DIR, "install it with: apt-get install -y dataset-fashion-mnist"
    )


@pytest.fixture
def twin():
    """numkeras's compiled module (the suite fails, not skips, when it was not built)."""
    from numkeras import _compiled

    module = _compiled.extension()
    if module is None:
        pytest.fail("numkeras/_fused.c was not built: reinstall numkeras (pip install -e .)")
    return module


@pytest.fixture
def helper_on(twin):
    """The compiled module with its helper thread switched on for the test (then restored)."""
    previous = twin.use_helper_thread(True)
    yield twin
    twin.use_helper_thread(previous)


@pytest.fixture
def until_shared(helper_on):
    """``until_shared(call)`` runs ``call()`` until the helper thread took part in one call (it
    may be slow to wake) and returns that call's result and the items the helper did in it.
    Skips the test where the process has only one CPU: there the helper never starts."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cpus or 1) < 2:
        pytest.skip("the helper thread needs a second CPU")

    def run(call, tries: int = 500):
        for _ in range(tries):
            before = helper_on.helper_items()
            result = call()
            helped = helper_on.helper_items() - before
            if helped:
                return result, helped
        pytest.fail(f"the helper thread took part in none of {tries} calls")

    return run
