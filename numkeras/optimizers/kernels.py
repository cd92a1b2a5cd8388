"""Fused update kernels: each optimizer's whole update in one pass over memory.

The NumPy path of an update step makes about ten passes over a weight (``v *= rho``,
``tmp = g * g``, ...), each reading and writing the whole array. For the 784x512 kernel of the
MNIST network that is most of a step's non-matrix-multiply time. ``numkeras/_fused.c`` does the
same arithmetic one element at a time -- each element loaded once, updated, stored once -- in
the same order as the NumPy path, so both paths give bit-for-bit the same result
(``tests/optimizers/test_fused_kernels.py``). It is numkeras's small, optional CPython extension
(see ``numkeras._compiled``); the NumPy path in each optimizer remains the readable reference.

Measured on the 2-core machine this project targets, one RMSprop update of the 784x512 float32
kernel: NumPy path ~550-800 us, fused ~160-190 us (an AVX2 loop chosen at load time); a call
costs about a microsecond, so the small weights (biases) take the fused path too. Updates of
131,072 elements or more are shared with a helper thread on the other core (same result, see
``numkeras._compiled``): inside the seed's ``fit`` that took a step from ~3.98 to ~3.64-3.69 ms.

The NumPy path is used instead when the compiled module is missing or disabled
(``NUMKERAS_DISABLE_FUSED=1``, ``numkeras._compiled.enabled = False``), and for arrays that are
not C-contiguous float32/float64 of one shape or that overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras import _compiled

# Each kernel: (number of arrays, number of scalars), in the order of its Python signature.
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

def fused(name: str, arrays: Sequence[np.ndarray], scalars: Sequence[Any] = ()) -> bool:
    """Run kernel ``name`` in place on ``arrays`` (then ``scalars``); return whether it ran.

    ``False`` means nothing was touched and the caller should take its NumPy path. The
    extension itself refuses (returns False for) arrays that are not C-contiguous, of another
    float type than the first, or overlapping; shapes are compared here.
    """
    function = _compiled.function(name, arrays[0].dtype)
    if function is None:
        return False
    n_arrays, n_scalars = SIGNATURES[name]
    if len(arrays) != n_arrays or len(scalars) != n_scalars:
        raise ValueError(
            f"kernel {name!r} takes {n_arrays} arrays and {n_scalars} scalars, got "
            f"{len(arrays)} and {len(scalars)}"
        )
    shape = arrays[0].shape
    for a in arrays:
        if a.shape != shape:
            return False
    return function(*arrays, *scalars)

