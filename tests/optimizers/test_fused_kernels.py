"""The compiled fused kernels compute bit-for-bit what the NumPy path computes, and numkeras
falls back to NumPy whenever they cannot be used."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from numkeras import _compiled, optimizers
from numkeras.autodiff import Variable
from numkeras.optimizers import kernels

SHAPE = (160, 128)  # the "big kernel" of these tests; the bias is small (10 elements)
STEPS = 5


def train(make, dtype, use_fused: bool, monkeypatch) -> tuple[list[np.ndarray], int]:
    """STEPS updates of a big kernel and a small bias; the final state and how many updates of
    the big kernel took the fused path."""
    monkeypatch.setattr(_compiled, "enabled", use_fused)
    fused_runs = []
    real_fused = kernels.fused

    def counting_fused(name, arrays, scalars=()):
        ran = real_fused(name, arrays, scalars)
        if arrays[0].shape == SHAPE and name != "weight_decay":
            fused_runs.append(ran)
        return ran

    monkeypatch.setattr(kernels, "fused", counting_fused)
    rng = np.random.default_rng(7)
    variables = [
        Variable(rng.standard_normal(SHAPE).astype(dtype), name="kernel"),
        Variable(rng.standard_normal(10).astype(dtype), name="bias"),
    ]
    optimizer = make()
    for _ in range(STEPS):
        grads = [rng.standard_normal(v.shape).astype(dtype) for v in variables]
        optimizer.apply(grads, variables)
    state = [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]
    return state, sum(fused_runs)


CASES = {
    "sgd": lambda: optimizers.SGD(0.1),
    "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adam": lambda: optimizers.Adam(),
    "adam_amsgrad": lambda: optimizers.Adam(amsgrad=True),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    "nadam": lambda: optimizers.Nadam(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fused_and_numpy_paths_are_bit_identical_float32(name, twin, monkeypatch):
    fused_state, fused_count = train(CASES[name], np.float32, True, monkeypatch)
    numpy_state, numpy_count = train(CASES[name], np.float32, False, monkeypatch)
    assert fused_count == STEPS, "the fused kernel did not run"
    assert numpy_count == 0
    for a, b in zip(fused_state, numpy_state):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(CASES))
def test_fused_and_numpy_paths_are_bit_identical_float64(name, twin, monkeypatch):
    fused_state, fused_count = train(CASES[name], np.float64, True, monkeypatch)
    numpy_state, _ = train(CASES[name], np.float64, False, monkeypatch)
    assert fused_count == STEPS
    for a, b in zip(fused_state, numpy_state):
        np.testing.assert_array_equal(a, b)


def test_variants_without_a_kernel_take_the_numpy_path(monkeypatch):
    _, count = train(lambda: optimizers.RMSprop(centered=True), np.float32, True, monkeypatch)
    assert count == 0


def test_foreign_overlapping_or_non_contiguous_arrays_are_refused(twin, monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", True)
    small = np.ones(10, np.float32)
    assert kernels.fused("sgd", (small, small.copy()), (0.5,))  # small arrays run too
    np.testing.assert_array_equal(small, np.full(10, 0.5, np.float32))
    big = np.ones((200, 200), np.float32)
    assert not kernels.fused("sgd", (big, np.ones((200, 200), np.float64)), (0.1,))
    fortran = np.ones((200, 200), np.float32, order="F")
    assert not kernels.fused("sgd", (big, fortran), (0.1,))
    assert not kernels.fused("sgd", (big[:, ::2], big[:, ::2].copy()), (0.1,))
    assert not kernels.fused("sgd", (big, big.T.copy()[:100]), (0.1,))  # another shape
    ints = np.ones((200, 200), np.int64)
    assert not kernels.fused("sgd", (ints, ints.copy()), (1,))
    assert not kernels.fused("sgd", (big, big), (0.1,))  # the loops assume no aliasing
    assert not kernels.fused("sgd", (big[1:], big[:-1]), (0.1,))  # overlapping views
    frozen = np.ones((200, 200), np.float32)
    frozen.flags.writeable = False
    assert not kernels.fused("sgd", (frozen, big), (0.1,))
    np.testing.assert_array_equal(big, np.ones((200, 200), np.float32))  # nothing touched


def test_a_read_only_gradient_is_accepted(twin, monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", True)
    w = np.zeros(50, np.float32)
    g = np.ones(50, np.float32)
    g.flags.writeable = False
    assert kernels.fused("sgd", (w, g), (0.25,))
    np.testing.assert_array_equal(w, np.full(50, -0.25, np.float32))


def test_a_bad_scalar_raises(twin, monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", True)
    w = np.zeros(50, np.float32)
    with pytest.raises(TypeError):
        kernels.fused("sgd", (w, w.copy()), ("fast",))


def test_fortran_ordered_weight_still_trains_correctly(monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", True)
    w = Variable(np.zeros((200, 200), np.float32))
    w.value = np.asfortranarray(w.value)
    optimizers.SGD(0.5).apply([np.ones((200, 200), np.float32)], [w])
    np.testing.assert_array_equal(w.numpy(), np.full((200, 200), -0.5, np.float32))


def test_missing_library_falls_back_to_numpy(monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", True)
    monkeypatch.setattr(_compiled, "_module", None)
    monkeypatch.setattr(_compiled, "_unavailable", False)
    monkeypatch.setattr(_compiled, "_import_extension", lambda: None)
    w = Variable(np.zeros(SHAPE, np.float32))
    optimizers.SGD(0.5).apply([np.ones(SHAPE, np.float32)], [w])
    np.testing.assert_array_equal(w.numpy(), np.full(SHAPE, -0.5, np.float32))
    assert _compiled.status().startswith("numpy (compiled kernels not available)")
    assert _compiled.function("sgd", np.dtype(np.float32)) is None


def test_wrong_argument_counts_are_refused(twin, monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", True)
    big = np.ones(SHAPE, np.float32)
    with pytest.raises(ValueError, match="'rmsprop' takes 3 arrays and 4 scalars"):
        kernels.fused("rmsprop", (big, big.copy()), (0.9,))


def run_python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def test_importing_numkeras_does_not_load_the_kernels():
    code = ("import numkeras, numkeras._compiled as c; "
            "print(not c._functions and c._module is None)")
    assert run_python(code) == "True"


def test_environment_variable_disables_the_fused_path():
    code = (
        "from numkeras import _compiled; from numkeras.optimizers import kernels; "
        "import numpy as np; a = np.ones(100000, np.float32); "
        "print(_compiled.enabled, kernels.fused('sgd', (a, a.copy()), (0.1,)), _compiled.status())"
    )
    assert run_python(code, NUMKERAS_DISABLE_FUSED="1") == (
        "False False numpy (compiled kernels disabled)"
    )
