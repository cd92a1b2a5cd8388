"""Fused update kernels: each optimizer's whole update in one pass over memory.

The NumPy path of an update step makes about ten passes over a weight (``v *= rho``,
``tmp = g * g``, ...), each reading and writing the whole array. For the 784x512 kernel of the
MNIST network that is most of a step's non-matrix-multiply time. ``_fused.c`` does the same
arithmetic one element at a time -- each element loaded once, updated, stored once -- in the
same order as the NumPy path, so both paths give bit-for-bit the same result
(``tests/optimizers/test_fused_kernels.py``). It is plain C compiled when numkeras is installed
(an optional extension: where no compiler is available the install still succeeds) and called
through ctypes; the NumPy path in each optimizer remains the readable reference.

Measured on the 2-core machine this project targets, one RMSprop update of the 784x512 float32
kernel: NumPy path ~550-800 us, fused ~160 us (an AVX2 loop chosen at load time).

The NumPy path is used instead when the compiled kernels are missing, when
``NUMKERAS_DISABLE_FUSED=1`` is set (read at import) or ``kernels.enabled`` is set to ``False``,
for weights smaller than ``MIN_SIZE`` elements (the call costs more than it saves there), and for
arrays that are not C-contiguous float32/float64 of one shape.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_SIZE = 16_384
enabled = os.environ.get("NUMKERAS_DISABLE_FUSED", "").strip().lower() not in ("1", "true", "yes")

# Each kernel: (number of arrays, number of scalars), in the order of its C signature, where
# the element count sits between the arrays and the scalars.
SIGNATURES = {
    "sgd": (2, 1),
    "sgd_momentum": (3, 2),
    "sgd_nesterov": (3, 2),
    "rmsprop": (3, 4),
    "adagrad": (3, 2),
    "adam": (4, 4),
    "adam_amsgrad": (5, 4),
    "nadam": (4, 9),
    "weight_decay": (1, 2),
}

_SUFFIXES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
_functions: dict[tuple[str, np.dtype], Any] | None = None  # loaded on first use
_unavailable = False  # the compiled library is missing or could not be loaded


def _library_path() -> str | None:
    """Where the compiled ``_fused`` extension lies (found, never imported: it is plain C)."""
    spec = importlib.util.find_spec("numkeras.optimizers._fused")
    return None if spec is None else spec.origin


def _load() -> dict[tuple[str, np.dtype], Any] | None:
    """Load the library once and declare every function's argument types."""
    global _functions, _unavailable
    if _functions is None and not _unavailable:
        import ctypes  # here, not at import: it is only needed once a large weight is updated

        c_scalars = {"f32": ctypes.c_float, "f64": ctypes.c_double}
        path = _library_path()
        try:
            library = ctypes.CDLL(path) if path else None
        except OSError:
            library = None
        if library is None:
            _unavailable = True
            return None
        functions = {}
        for name, (n_arrays, n_scalars) in SIGNATURES.items():
            for dtype, suffix in _SUFFIXES.items():
                function = getattr(library, f"{name}_{suffix}")
                function.argtypes = ([ctypes.c_void_p] * n_arrays + [ctypes.c_size_t]
                                     + [c_scalars[suffix]] * n_scalars)
                function.restype = None
                functions[name, dtype] = function
        _functions = functions
    return _functions


def fused(name: str, arrays: Sequence[np.ndarray], scalars: Sequence[Any] = ()) -> bool:
    """Run kernel ``name`` in place on ``arrays`` (then ``scalars``); return whether it ran.

    ``False`` means nothing was touched and the caller should take its NumPy path.
    """
    if not enabled or _unavailable or arrays[0].size < MIN_SIZE:
        return False
    dtype = arrays[0].dtype
    if dtype not in _SUFFIXES:
        return False
    for a in arrays:
        if a.dtype != dtype or a.shape != arrays[0].shape or not a.flags.c_contiguous:
            return False
    functions = _load()
    if functions is None:
        return False
    if len(arrays) != SIGNATURES[name][0] or len(scalars) != SIGNATURES[name][1]:
        raise ValueError(
            f"kernel {name!r} takes {SIGNATURES[name][0]} arrays and {SIGNATURES[name][1]} "
            f"scalars, got {len(arrays)} and {len(scalars)}"
        )
    functions[name, dtype](*(a.ctypes.data for a in arrays), arrays[0].size, *scalars)
    return True


def status() -> str:
    """A one-line description of which path large weights take, for logs and benchmarks."""
    if not enabled:
        return "numpy (fused kernels disabled)"
    if _load() is None:
        return "numpy (compiled kernels not available)"
    return f"fused C kernels for weights of >= {MIN_SIZE} elements, NumPy below"
