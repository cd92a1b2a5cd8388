"""numkeras's one compiled module, ``numkeras._fused`` (``numkeras/_fused.c``), loaded on first use.

It holds the fused optimizer updates (used by ``numkeras.optimizers.kernels``) and a few op
kernels (used by ``numkeras.ops``): work that NumPy would do in many passes or many small calls.
Every kernel has a NumPy twin that stays the readable reference and gives the same numbers.

The module is optional: where it was not built (no C compiler when numkeras was installed),
:func:`extension` returns None and every caller takes its NumPy path. Setting
``NUMKERAS_DISABLE_FUSED=1`` (read at import) or ``numkeras._compiled.enabled = False`` makes
numkeras use the NumPy paths everywhere, for comparisons and tests.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import numpy as np

# The suffix of each kernel's float32 and float64 versions (``softmax_f32``, ``rmsprop_f64``).
SUFFIXES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}

enabled = os.environ.get("NUMKERAS_DISABLE_FUSED", "").strip().lower() not in ("1", "true", "yes")

_module: ModuleType | None = None
_unavailable = False  # the extension is missing or could not be imported


def _import_extension() -> ModuleType | None:
    try:
        return importlib.import_module("numkeras._fused")
    except ImportError:
        return None


def extension() -> ModuleType | None:
    """The compiled module, or None when it is disabled or was not built."""
    global _module, _unavailable
    if not enabled:
        return None
    if _module is None and not _unavailable:
        _module = _import_extension()
        _unavailable = _module is None
    return _module


def status() -> str:
    """A one-line description of which paths numkeras takes, for logs and benchmarks."""
    if not enabled:
        return "numpy (compiled kernels disabled)"
    if extension() is None:
        return "numpy (compiled kernels not available)"
    return "compiled C kernels for contiguous float32/float64 arrays"
