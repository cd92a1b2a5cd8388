"""numkeras._compiled: finding a compiled kernel by name and array type."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from numkeras import _compiled

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def test_kernels_are_found_by_name_and_float_type(twin):
    assert _compiled.function("softmax", F32) is twin.softmax_f32
    assert _compiled.function("softmax", F64) is twin.softmax_f64
    assert _compiled.function("rmsprop", F32) is twin.rmsprop_f32
    assert _compiled.function("softmax", np.dtype(np.float16)) is None
    assert _compiled.function("softmax", np.dtype(np.int64)) is None
    assert _compiled.function("softmax", np.dtype(">f4")) is None  # not in native byte order


def test_the_lookup_follows_the_module_off_and_on_and_swapped(twin, monkeypatch):
    assert _compiled.function("softmax", F32) is twin.softmax_f32  # remembered now
    monkeypatch.setattr(_compiled, "enabled", False)
    assert _compiled.function("softmax", F32) is None
    monkeypatch.setattr(_compiled, "enabled", True)
    assert _compiled.function("softmax", F32) is twin.softmax_f32
    stand_in = SimpleNamespace(softmax_f32=object())
    monkeypatch.setattr(_compiled, "_module", stand_in)
    assert _compiled.function("softmax", F32) is stand_in.softmax_f32
    monkeypatch.undo()
    assert _compiled.function("softmax", F32) is twin.softmax_f32


def test_an_unknown_kernel_is_an_error_not_a_silent_fallback(twin):
    with pytest.raises(AttributeError):
        _compiled.function("no_such_kernel", F32)
