"""The compiled fused kernels compute bit-for-bit what the NumPy path computes, and numkeras
falls back to NumPy whenever they cannot be used."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from numkeras import _compiled, optimizers
from numkeras.autodiff import Variable
from numkeras.optimizers import kernels

SHAPE = (160, 128)  # the "big kernel" of these tests; the bias is small (10 elements)
STEPS = 5


def train(make, dtype, use_fused: bool, monkeypatch,
          shape: tuple[int, int] = SHAPE) -> tuple[list[np.ndarray], int]:
    """STEPS updates of a big kernel and a small bias; the final state and how many updates of
    the big kernel took the fused path."""
    monkeypatch.setattr(_compiled, "enabled", use_fused)
    fused_runs = []
    real_fused = kernels.fused

    def counting_fused(name, arrays, scalars=()):
        ran = real_fused(name, arrays, scalars)
        if arrays[0].shape == shape and name != "weight_decay":
            fused_runs.append(ran)
        return ran

    monkeypatch.setattr(kernels, "fused", counting_fused)
    rng = np.random.default_rng(7)
    variables = [
        Variable(rng.standard_normal(shape).astype(dtype), name="kernel"),
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


# --- the helper thread: long updates are shared between the caller and one helper thread ---
LONG = (700, 501)  # 350,700 elements: above the sharing threshold, not a whole number of pieces


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(CASES))
def test_shared_long_updates_are_bit_identical_to_the_numpy_path(name, dtype, helper_on,
                                                                 monkeypatch):
    fused_state, fused_count = train(CASES[name], dtype, True, monkeypatch, LONG)
    numpy_state, _ = train(CASES[name], dtype, False, monkeypatch, LONG)
    assert fused_count == STEPS
    for a, b in zip(fused_state, numpy_state):
        np.testing.assert_array_equal(a, b)


def rmsprop_arrays(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(np.float32),
            rng.standard_normal(n).astype(np.float32),
            rng.random(n, dtype=np.float32)]


def rmsprop_alone(twin, arrays: list[np.ndarray], steps: int) -> np.ndarray:
    """The same updates with the helper off: the reference for a shared run."""
    previous = twin.use_helper_thread(False)
    try:
        w, g, v = (a.copy() for a in arrays)
        for _ in range(steps):
            assert twin.rmsprop_f32(w, g, v, 0.9, 0.1, 1e-7, 1e-3)
        return np.concatenate([w, v])
    finally:
        twin.use_helper_thread(previous)


def test_the_helper_thread_takes_part(helper_on, until_shared):
    n = 1 << 21
    arrays = rmsprop_arrays(n, 1)

    def one_update() -> np.ndarray:
        w, g, v = (a.copy() for a in arrays)
        assert helper_on.rmsprop_f32(w, g, v, 0.9, 0.1, 1e-7, 1e-3)
        return np.concatenate([w, v])

    shared, helped = until_shared(one_update)
    assert 0 < helped <= n, f"the helper did {helped} of {n} elements"
    np.testing.assert_array_equal(shared, rmsprop_alone(helper_on, arrays, 1))


def test_the_helper_can_be_switched_off_and_reports_the_previous_setting(twin):
    previous = twin.use_helper_thread(False)
    try:
        assert twin.use_helper_thread(False) is False
        arrays = rmsprop_arrays(1 << 19, 2)
        before = twin.helper_items()
        for _ in range(20):
            assert twin.rmsprop_f32(*arrays, 0.9, 0.1, 1e-7, 1e-3)
        assert twin.helper_items() == before
        assert twin.use_helper_thread(True) is False
        assert twin.use_helper_thread(True) is True
    finally:
        twin.use_helper_thread(previous)


def test_several_python_threads_updating_at_once_get_their_own_results(helper_on):
    import threading

    work = [rmsprop_arrays(300_001, seed) for seed in range(4)]
    expected = [rmsprop_alone(helper_on, arrays, 6) for arrays in work]
    failures = []

    def run(arrays):
        try:
            for _ in range(6):
                assert helper_on.rmsprop_f32(*arrays, 0.9, 0.1, 1e-7, 1e-3)
        except Exception as error:  # reported below, in the test's own thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(arrays,)) for arrays in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    for arrays, want in zip(work, expected):
        np.testing.assert_array_equal(np.concatenate([arrays[0], arrays[2]]), want)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_updates_without_the_parents_helper():
    code = """
import os, numpy as np
from numkeras import _compiled
module = _compiled.extension()
module.use_helper_thread(True)
n = 1 << 20
w, g, v = np.ones(n, np.float32), np.full(n, 0.5, np.float32), np.zeros(n, np.float32)
for _ in range(20):
    module.rmsprop_f32(w, g, v, 0.9, 0.1, 1e-7, 1e-3)  # the parent's helper is running now
pid = os.fork()
if pid == 0:
    a, b, c = w.copy(), g.copy(), v.copy()
    ok = all(module.rmsprop_f32(a, b, c, 0.9, 0.1, 1e-7, 1e-3) for _ in range(20))
    module.use_helper_thread(False)
    for _ in range(20):
        module.rmsprop_f32(w, g, v, 0.9, 0.1, 1e-7, 1e-3)
    os._exit(0 if ok and np.array_equal(a, w) and np.array_equal(c, v) else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""
    assert run_python(code) == "0"


def test_environment_variable_keeps_updates_on_the_calling_thread():
    code = (
        "from numkeras import _compiled; import numpy as np; m = _compiled.extension(); "
        "a = [np.ones(1 << 20, np.float32) for _ in range(3)]; "
        "[m.rmsprop_f32(*a, 0.9, 0.1, 1e-7, 1e-3) for _ in range(20)]; "
        "print(m.helper_items(), m.use_helper_thread(True))"
    )
    assert run_python(code, NUMKERAS_HELPER_THREAD="0") == "0 False"


def test_misaligned_arrays_are_refused(twin, monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", True)
    raw = np.zeros(4 * 1000 + 1, np.uint8)
    misaligned = raw[1:].view(np.float32)  # NumPy allows it; C may not read floats there
    assert not misaligned.flags.aligned
    assert not kernels.fused("sgd", (misaligned, np.ones(1000, np.float32)), (0.1,))
    w = Variable(np.zeros(1000, np.float32))
    w.value = misaligned
    optimizers.SGD(0.5).apply([np.ones(1000, np.float32)], [w])  # the NumPy path instead
    np.testing.assert_array_equal(w.numpy(), np.full(1000, -0.5, np.float32))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 rounding flags")
def test_the_helper_rounds_as_the_calling_thread_does(helper_on, until_shared):
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    fe_downward, fe_tonearest = 0x400, 0
    rng = np.random.default_rng(4)
    n = 1 << 21
    w0, g = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)

    def sgd(helper: bool) -> np.ndarray:
        helper_on.use_helper_thread(helper)
        w = w0.copy()
        assert helper_on.sgd_f32(w, g, 0.1)
        return w

    nearest = sgd(False)
    until_shared(lambda: sgd(True))  # the helper exists now, started in round-to-nearest mode
    assert libm.fesetround(fe_downward) == 0
    try:
        downward = sgd(False)
        shared, _ = until_shared(lambda: sgd(True))
    finally:
        libm.fesetround(fe_tonearest)
    assert not np.array_equal(downward, nearest)  # the mode mattered
    np.testing.assert_array_equal(shared, downward)


# --- updates in the background: fit may leave a long update running on the helper ----------
@pytest.fixture
def background(helper_on):
    """The compiled module, its helper on, where a second CPU lets it start background jobs."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cpus or 1) < 2:
        pytest.skip("the helper thread needs a second CPU")
    helper_on.finish_background()
    yield helper_on
    helper_on.finish_background()


RMSPROP = (0.9, 0.1, 1e-7, 1e-3)


def test_a_background_update_gives_the_update_computed_alone(background):
    arrays = rmsprop_arrays(1 << 20, 5)
    want = rmsprop_alone(background, arrays, 1)
    w, g, v = (a.copy() for a in arrays)
    assert background.rmsprop_f32(w, g, v, *RMSPROP, True)
    assert background.finish_background() is True  # it was left running
    assert background.finish_background() is False  # and is finished now
    np.testing.assert_array_equal(np.concatenate([w, v]), want)


def test_short_updates_and_updates_not_asked_to_are_never_left_running(background):
    short = rmsprop_arrays(1000, 6)
    assert background.rmsprop_f32(*short, *RMSPROP, True)
    assert background.finish_background() is False
    long = rmsprop_arrays(1 << 20, 6)
    assert background.rmsprop_f32(*long, *RMSPROP)
    assert background.rmsprop_f32(*long, *RMSPROP, False)
    assert background.finish_background() is False


def test_a_kernel_given_the_running_update_s_memory_waits_for_it(background):
    arrays = rmsprop_arrays(1 << 21, 7)
    step = np.random.default_rng(8).standard_normal(1 << 21).astype(np.float32)
    previous = background.use_helper_thread(False)
    try:  # the reference: RMSprop, then SGD on the same weight, one after the other
        w, g, v = (a.copy() for a in arrays)
        assert background.rmsprop_f32(w, g, v, *RMSPROP) and background.sgd_f32(w, step, 0.5)
        want = w
    finally:
        background.use_helper_thread(previous)
    w, g, v = (a.copy() for a in arrays)
    assert background.rmsprop_f32(w, g, v, *RMSPROP, True)
    assert background.sgd_f32(w[::-1][::-1], step, 0.5)  # the same memory, another view
    assert background.finish_background() is False  # the SGD call waited for it
    np.testing.assert_array_equal(w, want)


def test_a_kernel_on_other_memory_does_not_wait(background):
    arrays = rmsprop_arrays(1 << 20, 9)
    other = [np.ones(1000, np.float32), np.ones(1000, np.float32)]
    assert background.rmsprop_f32(*arrays, *RMSPROP, True)
    assert background.sgd_f32(*other, 0.5)
    assert background.finish_background() is True


def test_a_kernel_that_declines_waits_for_the_running_update(background):
    arrays = rmsprop_arrays(1 << 20, 10)
    assert background.rmsprop_f32(*arrays, *RMSPROP, True)
    strided = np.ones(2000, np.float32)[::2]  # not contiguous: declined, NumPy takes over
    assert not background.sgd_f32(strided, np.ones(1000, np.float32), 0.5)
    assert background.finish_background() is False


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_waits_for_the_running_update(background):
    code = """
import os, numpy as np
from numkeras import _compiled
module = _compiled.extension()
n, hyper = 1 << 22, (0.9, 0.1, 1e-7, 1e-3)
rng = np.random.default_rng(0)
w0, g, v0 = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
v0 = np.abs(v0)
module.use_helper_thread(False)
want_w, want_v = w0.copy(), v0.copy()
for _ in range(2):
    module.rmsprop_f32(want_w, g, want_v, *hyper)
module.use_helper_thread(True)
w, v = w0.copy(), v0.copy()
module.rmsprop_f32(w, g, v, *hyper)  # shared with the helper, which is running from now on
module.rmsprop_f32(w, g, v, *hyper, True)  # left running on the helper
pid = os.fork()
if pid == 0:  # no helper here: the update must have been completed before the fork
    whole = np.array_equal(w, want_w) and np.array_equal(v, want_v)
    os._exit(0 if whole and module.finish_background() else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), module.finish_background(), np.array_equal(w, want_w))
"""
    assert run_python(code) == "0 True True"
