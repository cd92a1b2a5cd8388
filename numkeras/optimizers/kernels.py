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

Inside :func:`background_updates` (which ``fit`` opens around its batches when nothing it does
between two steps can read a weight), an update that long is instead left running on the helper
alone, and the caller goes on: ``fit`` gathers the next batch and runs its Python meanwhile, and
calls :func:`finish_background` before the next step reads the weights. Any kernel handed an
array that overlaps the running update waits for it first. Same result, bit for bit.

The NumPy path is used instead when the compiled module is missing or disabled
(``NUMKERAS_DISABLE_FUSED=1``, ``numkeras._compiled.enabled = False``), and for arrays that are
not C-contiguous float32/float64 of one shape or that overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    float type than the first, or overlapping; shapes are compared here. Inside
    :func:`background_updates` a long update may still be running when it returns True.
    """
    function = _compiled.function(name, arrays[0].dtype)
    if function is None:
        finish_background()  # switched off meanwhile: the NumPy path must not race the helper
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
            finish_background()
            return False
    if getattr(_thread, "background", False):
        return function(*arrays, *scalars, True)
    return function(*arrays, *scalars)


_thread = threading.local()  # .background: this thread is inside background_updates()


@contextmanager
def background_updates(allowed: bool = True) -> Iterator[None]:
    """Within the block (if ``allowed``), this thread's long updates may be left running on
    the helper thread while it goes on; call :func:`finish_background` before anything reads
    an updated array. On leaving the block, every update has finished."""
    previous = getattr(_thread, "background", False)
    _thread.background = allowed
    try:
        yield
    finally:
        _thread.background = previous
        finish_background()


def finish_background() -> bool:
    """Wait for the update left running on the helper thread, if any; whether there was one."""
    finish = getattr(_compiled._module, "finish_background", None)  # even if switched off since
    return bool(finish is not None and finish())

