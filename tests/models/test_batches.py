"""fit's shuffled batches: every sample once per epoch, its inputs, labels and weights together;
and the compiled gather (``take_rows`` in numkeras/_fused.c) gives exactly what
``np.take(x, index, axis=0, mode="clip")`` gives, or declines."""

from __future__ import annotations

import numpy as np
import pytest

from numkeras import _compiled, random
from numkeras.models.model import _batches


def numbered(n: int, row_shape: tuple[int, ...], dtype) -> np.ndarray:
    """Rows that carry their own number in every element."""
    return np.broadcast_to(np.arange(n).reshape((n,) + (1,) * len(row_shape)),
                           (n,) + row_shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("use_compiled", [True, False])
def test_each_sample_comes_once_with_its_label_and_weight(dtype, use_compiled, monkeypatch):
    monkeypatch.setattr(_compiled, "enabled", use_compiled)
    n = 250  # uint8 numbers wrap at 256: keep them distinct
    x = numbered(n, (28, 28), dtype)
    y = np.arange(n) * 10
    weights = np.arange(n) / 2
    seen = []
    for xb, yb, wb in _batches(x, y, weights, 64, True, "float32"):
        assert xb.dtype == np.float32 and xb.shape[1:] == (28, 28)
        rows = xb[:, 0, 0].astype(int)
        np.testing.assert_array_equal(xb, numbered(n, (28, 28), np.float32)[rows])
        np.testing.assert_array_equal(yb, rows * 10)
        np.testing.assert_array_equal(wb, rows / 2)
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(n))
    assert seen != list(range(n))  # shuffled


def test_the_compiled_and_numpy_gathers_give_the_same_batches(twin, monkeypatch):
    x = np.random.default_rng(3).random((1000, 784), dtype=np.float32)
    y = np.arange(1000)
    epochs = {}
    for use_compiled in (True, False):
        monkeypatch.setattr(_compiled, "enabled", use_compiled)
        random.set_seed(11)
        epochs[use_compiled] = [(xb.copy(), yb) for xb, yb, _ in
                                _batches(x, y, None, 128, True, "float32")]
    assert len(epochs[True]) == len(epochs[False]) == 8
    for (xa, ya), (xb, yb) in zip(epochs[True], epochs[False]):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


@pytest.mark.parametrize("shape", [(300, 784), (40, 7, 3), (5, 1), (2000, 3)])
@pytest.mark.parametrize("suffix,dtype", [("f32", np.float32), ("f64", np.float64)])
def test_take_rows_is_np_take_with_clipped_indices(twin, shape, suffix, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    index = rng.integers(-3, shape[0] + 3, 257)  # some out of range on both sides
    out = np.empty((len(index),) + shape[1:], dtype)
    assert getattr(twin, f"take_rows_{suffix}")(x, index, out)
    np.testing.assert_array_equal(out, np.take(x, index, axis=0, mode="clip"))


def test_take_rows_declines_what_it_cannot_gather(twin):
    x = np.ones((100, 20), np.float32)
    index = np.arange(10)
    out = np.zeros((10, 20), np.float32)
    assert not twin.take_rows_f32(x, index.astype(np.int32), out)  # not int64
    assert not twin.take_rows_f32(x.astype(np.float64), index, out)  # another float type
    assert not twin.take_rows_f32(x[:, ::2], index, out[:, :10])  # not contiguous
    assert not twin.take_rows_f32(x, index, np.zeros((10, 21), np.float32))  # row shapes differ
    assert not twin.take_rows_f32(x, index, np.zeros((11, 20), np.float32))  # row counts differ
    assert not twin.take_rows_f32(x, index, x[:10])  # out overlaps x
    assert not twin.take_rows_f32(np.ones((0, 20), np.float32), index, out)  # nothing to take
    frozen = np.zeros((10, 20), np.float32)
    frozen.flags.writeable = False
    assert not twin.take_rows_f32(x, index, frozen)
    misaligned = np.zeros(4 * 2000 + 1, np.uint8)[1:].view(np.float32).reshape(100, 20)
    assert not twin.take_rows_f32(misaligned, index, out)
    np.testing.assert_array_equal(out, 0)  # nothing touched
    assert twin.take_rows_f32(x, index[:0], out[:0])  # an empty index is a gather of nothing
    with pytest.raises(TypeError, match="expected 3 arrays"):
        twin.take_rows_f32(x, index)


def test_a_large_gather_is_shared_with_the_helper_thread(helper_on, until_shared):
    x = np.random.default_rng(1).random((5000, 784), dtype=np.float32)
    index = np.random.default_rng(2).permutation(5000)[:512]  # 1.6 MB: shared

    def gather() -> np.ndarray:
        out = np.zeros((512, 784), np.float32)
        assert helper_on.take_rows_f32(x, index, out)
        return out

    out, helped = until_shared(gather)
    assert 0 < helped <= 512
    np.testing.assert_array_equal(out, x[index])
