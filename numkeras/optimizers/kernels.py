"""Fused update kernels: each optimizer's whole update in one pass over memory.

The NumPy path of an update step makes about ten passes over a weight (``v *= rho``,
``tmp = g * g``, ...), each reading and writing the whole array. For the 784x512 kernel of the
MNIST network that is most of a step's non-matrix-multiply time. The functions below do the same
arithmetic one element at a time, so each element is loaded once, updated, and stored once;
numba compiles them to machine code (``prange`` can split the elements between cores).

They are plain Python and read like the update rules. The arithmetic is written in the same
order as the NumPy path, with every scalar passed in already cast to the weight's dtype, so both
paths round identically and give bit-for-bit the same result (``tests/optimizers`` checks this).

numba is optional and is imported on first use, never by ``import numkeras``. The NumPy path is
used instead when numba is missing, when ``NUMKERAS_DISABLE_NUMBA=1`` is set (read at import) or
``kernels.enabled`` is set to ``False``, for weights smaller than ``MIN_SIZE`` elements (the
NumPy path is faster there), and for arrays that are not C-contiguous float32/float64.

Threads: the kernels are compiled for ``prange``, but by default run on one thread
(``threads = 1``). Measured on the 2-core machine this project targets, for a 784x512 float32
RMSprop update: NumPy path ~550-800 us, fused on 1 thread ~170 us, on 2 threads ~100 us when
the machine is otherwise idle -- but a parallel kernel finishes only when its slowest thread
does, so while anything else wants a core (another process, or BLAS's threads spinning after
the previous matrix multiply) it often waits whole scheduler time slices: 8-12 ms, worse than
NumPy. Inside a training loop, where the update is memory-bound anyway, 2 threads gained ~10%
at best and slowed whole steps at worst. Set ``kernels.threads = None`` (all cores) or any
count, or ``NUMKERAS_NUMBA_THREADS=0`` (all) / ``=N`` before import, to choose otherwise.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MIN_SIZE = 16_384
enabled = os.environ.get("NUMKERAS_DISABLE_NUMBA", "").strip().lower() not in ("1", "true", "yes")


def _threads_from_environment() -> int | None:
    """``NUMKERAS_NUMBA_THREADS``: a count, or 0 / "all" for all cores; unset or unreadable: 1."""
    value = os.environ.get("NUMKERAS_NUMBA_THREADS", "1").strip().lower()
    if value in ("0", "all"):
        return None
    return int(value) if value.isdigit() else 1


threads: int | None = _threads_from_environment()  # None: all of numba's threads

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_numba: Any = None
_jitted: dict[str, Callable[..., None]] | None = None  # filled on first use
_unavailable = False  # numba missing, or a kernel failed to compile


def prange(n: int) -> range:
    """``range``, until numba is loaded: then numba's parallel range replaces it (see ``_jit``)."""
    return range(n)


# --- the kernels: w is the weight, g the gradient, all arrays flat and of one dtype ---------------
def sgd(w, g, lr):
    for i in prange(w.shape[0]):
        w[i] = w[i] - g[i] * lr


def sgd_momentum(w, g, m, momentum, lr):
    for i in prange(w.shape[0]):
        m[i] = m[i] * momentum - g[i] * lr
        w[i] = w[i] + m[i]


def sgd_nesterov(w, g, m, momentum, lr):
    for i in prange(w.shape[0]):
        step = g[i] * lr
        m[i] = m[i] * momentum - step
        w[i] = w[i] + (m[i] * momentum - step)


def rmsprop(w, g, v, rho, one_minus_rho, epsilon, lr):
    for i in prange(w.shape[0]):
        v[i] = v[i] * rho + (g[i] * g[i]) * one_minus_rho
        w[i] = w[i] - (g[i] * lr) / np.sqrt(v[i] + epsilon)


def adagrad(w, g, acc, epsilon, lr):
    for i in prange(w.shape[0]):
        acc[i] = acc[i] + g[i] * g[i]
        w[i] = w[i] - (g[i] * lr) / np.sqrt(acc[i] + epsilon)


def adam(w, g, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    for i in prange(w.shape[0]):
        m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1
        v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2
        w[i] = w[i] - (m[i] * alpha) / (np.sqrt(v[i]) + epsilon)


def adam_amsgrad(w, g, m, v, v_hat, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    for i in prange(w.shape[0]):
        m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1
        v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2
        v_hat[i] = max(v_hat[i], v[i])
        w[i] = w[i] - (m[i] * alpha) / (np.sqrt(v_hat[i]) + epsilon)


def nadam(
    w,
    g,
    m,
    v,
    one_minus_beta_1,
    one_minus_beta_2,
    momentum_weight,
    momentum_denominator,
    gradient_weight,
    gradient_denominator,
    one_minus_beta_2_power,
    epsilon,
    lr,
):
    for i in prange(w.shape[0]):
        m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1
        v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2
        m_part = (m[i] * momentum_weight) / momentum_denominator
        g_part = (g[i] * gradient_weight) / gradient_denominator
        w[i] = w[i] - ((m_part + g_part) * lr) / (np.sqrt(v[i] / one_minus_beta_2_power) + epsilon)


def weight_decay(w, decay, lr):
    for i in prange(w.shape[0]):
        w[i] = w[i] - (w[i] * decay) * lr


KERNELS = {
    fn.__name__: fn
    for fn in (
        sgd,
        sgd_momentum,
        sgd_nesterov,
        rmsprop,
        adagrad,
        adam,
        adam_amsgrad,
        nadam,
        weight_decay,
    )
}


# --- dispatch -----------------------------------------------------------------------------------
def fused(name: str, arrays: Sequence[np.ndarray], scalars: Sequence[Any] = ()) -> bool:
    """Run kernel ``name`` in place on ``arrays`` (then ``scalars``); return whether it ran.

    ``False`` means nothing was touched and the caller should take its NumPy path.
    """
    if not enabled or _unavailable or arrays[0].size < MIN_SIZE:
        return False
    dtype = arrays[0].dtype
    if dtype not in _FLOAT_DTYPES:
        return False
    for a in arrays:
        if a.dtype != dtype or a.shape != arrays[0].shape or not a.flags.c_contiguous:
            return False
    kernels = _jit()
    if kernels is None:
        return False
    flat = [a.reshape(-1) for a in arrays]
    cast = [dtype.type(s) for s in scalars]
    _use_thread_count()
    try:
        kernels[name](*flat, *cast)  # numba compiles (or loads from cache) on the first call
    except Exception as error:  # any compile failure means: use NumPy
        _give_up(f"compiling the {name!r} kernel failed ({type(error).__name__}: {error})")
        return False
    return True


def _use_thread_count() -> None:
    """Give numba ``threads`` threads in the calling thread. numba's count is per calling
    thread and costs tens of microseconds to change, so it is set only when it differs (and
    is not restored: it only affects numba-parallel code run from this thread)."""
    wanted = _numba.config.NUMBA_NUM_THREADS if threads is None else threads
    wanted = max(1, min(wanted, _numba.config.NUMBA_NUM_THREADS))
    if _numba.get_num_threads() != wanted:
        _numba.set_num_threads(wanted)


def _jit() -> dict[str, Callable[..., None]] | None:
    """Import numba and wrap every kernel (compilation itself happens per dtype, on first call)."""
    global _jitted, _numba, prange
    if _jitted is None and not _unavailable:
        try:
            import numba
        except ImportError:
            _give_up(None)
            return None
        _numba = numba
        prange = numba.prange
        try:  # caching needs a writable place for its files
            jit = numba.njit(parallel=True, cache=True)
            _jitted = {name: jit(fn) for name, fn in KERNELS.items()}
        except Exception as error:
            _give_up(f"preparing the numba kernels failed ({type(error).__name__}: {error})")
            return None
    return _jitted


def _give_up(reason: str | None) -> None:
    """Use the NumPy path from now on; warn once when numba is installed but failed."""
    global _unavailable
    _unavailable = True
    if reason is not None:
        warnings.warn(
            f"numkeras: {reason}; optimizers fall back to their (slower) NumPy path",
            RuntimeWarning,
            stacklevel=3,
        )


def status() -> str:
    """A one-line description of which path large weights take, for logs and benchmarks."""
    if not enabled:
        return "numpy (fused kernels disabled)"
    if _unavailable:
        return "numpy (numba unavailable)"
    how_many = "all cores" if threads is None else f"{threads} thread(s)"
    return f"numba fused kernels ({how_many}) for weights of >= {MIN_SIZE} elements, NumPy below"
