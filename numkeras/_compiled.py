"""numkeras's one compiled module, ``numkeras._fused`` (``numkeras/_fused.c``), loaded on first use.

It holds the fused optimizer updates (used by ``numkeras.optimizers.kernels``), a few op
kernels (used by ``numkeras.ops``) and fit's batch gather (``take_rows``, used by
``numkeras.models.model``): work that NumPy would do in many passes or many small calls.
Both find a kernel with :func:`function`. Every kernel has a NumPy twin that stays the readable
reference and gives the same numbers.

The module is optional: where it was not built (no C compiler when numkeras was installed),
:func:`extension` and :func:`function` return None and every caller takes its NumPy path. Setting
``NUMKERAS_DISABLE_FUSED=1`` (read at import) or ``numkeras._compiled.enabled = False`` makes
numkeras use the NumPy paths everywhere, for comparisons and tests.

The optimizer updates of large weights (from 131,072 elements) and fit's gathers of large
batches (from 256 KiB) are shared with one helper thread, which the module starts on first use:
the caller and the helper take pieces of the loop (elements, rows) from a shared counter, and
each piece is computed as it would be alone, so the result is the same bit for bit. Between
NumPy's matrix products the second core is otherwise idle (OpenBLAS's worker only spins there).
Inside ``fit``, a step's long update may instead be left to the helper alone while ``fit`` gathers
the next batch (``numkeras.optimizers.kernels.background_updates``). Setting
``NUMKERAS_HELPER_THREAD=0`` (read when the module loads) or calling
``extension().use_helper_thread(False)`` keeps all the work on the calling thread, e.g. when
one process per core already takes all cores.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

import numpy as np

# The suffix of each kernel's float32 and float64 versions (``softmax_f32``, ``rmsprop_f64``).
SUFFIXES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}

enabled = os.environ.get("NUMKERAS_DISABLE_FUSED", "").strip().lower() not in ("1", "true", "yes")

_module: ModuleType | None = None
_unavailable = False  # the extension is missing or could not be imported


def _import_extension() -> ModuleType | None:
    try:
        module = importlib.import_module("numkeras._fused")
    except ImportError:
        return None
    if os.environ.get("NUMKERAS_HELPER_THREAD", "").strip().lower() in ("0", "false", "no"):
        module.use_helper_thread(False)
    return module


def extension() -> ModuleType | None:
    """The compiled module, or None when it is disabled or was not built."""
    global _module, _unavailable
    if not enabled:
        return None
    if _module is None and not _unavailable:
        _module = _import_extension()
        _unavailable = _module is None
    return _module


_functions: dict[tuple[str, np.dtype], Any] = {}  # (kernel, dtype) -> function or None
_functions_of: ModuleType | None = None  # the module _functions was filled from


def function(name: str, dtype: np.dtype) -> Any:
    """The compiled kernel ``name`` for arrays of ``dtype`` (``softmax`` and float32 give
    ``softmax_f32``), or None: no compiled module (disabled or not built), or no kernel for
    that type. Looked up once per kernel and type, and again when the module changes (it is
    switched off or on, or a test swaps it)."""
    global _functions_of
    module = _module if enabled and _module is not None else extension()  # (a call less per step)
    if module is not _functions_of:
        _functions.clear()
        _functions_of = module
    if module is None:
        return None
    try:
        return _functions[name, dtype]
    except KeyError:
        suffix = SUFFIXES.get(dtype)
        found = None if suffix is None else getattr(module, f"{name}_{suffix}")
        _functions[name, dtype] = found
        return found


def status() -> str:
    """A one-line description of which paths numkeras takes, for logs and benchmarks."""
    if not enabled:
        return "numpy (compiled kernels disabled)"
    if extension() is None:
        return "numpy (compiled kernels not available)"
    return "compiled C kernels for contiguous float32/float64 arrays"
