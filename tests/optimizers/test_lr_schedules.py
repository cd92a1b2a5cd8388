"""Learning-rate schedules: values worked out by hand from Keras's documented formulas, and a
schedule driving an optimizer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from numkeras import optimizers
from numkeras.autodiff import Variable
from numkeras.optimizers import schedules


def values(schedule, steps):
    return [float(schedule(step)) for step in steps]


def test_exponential_decay_continuous():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    # 0.1 * 0.5 ** (step / 10)
    expected = [0.1, 0.1 * math.sqrt(0.5), 0.05, 0.1 * 0.5**2.5]
    np.testing.assert_allclose(values(schedule, [0, 5, 10, 25]), expected, rtol=1e-6)


def test_exponential_decay_staircase():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    # 0.1 * 0.5 ** floor(step / 10)
    expected = [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
    np.testing.assert_allclose(values(schedule, [0, 9, 10, 19, 20, 35]), expected, rtol=1e-6)


def test_schedules_compute_in_float32_like_keras():
    value = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(3)
    assert value.dtype == np.float32
    value64 = schedules.ExponentialDecay(np.float64(0.1), decay_steps=10, decay_rate=0.5)(3)
    assert value64.dtype == np.float64


def test_piecewise_constant_decay():
    schedule = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    expected = [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    np.testing.assert_allclose(values(schedule, [0, 10, 11, 20, 21, 1000]), expected, rtol=1e-7)
    with pytest.raises(ValueError, match="one more value"):
        schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5])


def test_inverse_time_decay():
    continuous = schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5)
    np.testing.assert_allclose(
        values(continuous, [0, 5, 20]), [0.1, 0.1 / 1.25, 0.1 / 2.0], rtol=1e-6
    )
    stairs = schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    np.testing.assert_allclose(values(stairs, [5, 15, 20]), [0.1, 0.1 / 1.5, 0.1 / 2.0], rtol=1e-6)


def test_cosine_decay():
    schedule = schedules.CosineDecay(0.1, decay_steps=10, alpha=0.1)
    # 0.1 * ((1 - alpha) * 0.5 * (1 + cos(pi * step / 10)) + alpha), step capped at 10
    expected = [0.1, 0.1 * (0.9 * 0.5 + 0.1), 0.1 * 0.1, 0.1 * 0.1]
    np.testing.assert_allclose(values(schedule, [0, 5, 10, 50]), expected, rtol=1e-6, atol=1e-8)


def test_cosine_decay_with_warmup():
    schedule = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=0.1, warmup_steps=10)
    expected = [0.0, 0.05, 0.1, 0.05, 0.0, 0.0]
    np.testing.assert_allclose(
        values(schedule, [0, 5, 10, 15, 20, 99]), expected, rtol=1e-6, atol=1e-8
    )


def test_decay_steps_must_be_positive():
    for cls in (schedules.ExponentialDecay, schedules.InverseTimeDecay):
        with pytest.raises(ValueError, match="decay_steps"):
            cls(0.1, decay_steps=0, decay_rate=0.5)
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.CosineDecay(0.1, decay_steps=-1)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
        schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
        schedules.InverseTimeDecay(0.1, 10, 0.5),
        schedules.CosineDecay(0.0, 10, alpha=0.1, warmup_target=0.1, warmup_steps=5),
    ],
    ids=lambda s: type(s).__name__,
)
def test_schedule_config_round_trip(schedule):
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    assert config["class_name"] == type(schedule).__name__
    clone = schedules.deserialize(config)
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    steps = [0, 3, 7, 12, 30]
    assert values(clone, steps) == values(schedule, steps)


def test_base_schedule_must_be_subclassed_and_unknown_is_an_error():
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


def test_schedule_drives_an_optimizer_step_by_step():
    """SGD with lr = 0.5 * 0.5 ** floor(iterations / 2): the rate used at update k (k = 0, 1, ...)
    is the schedule's value at k, i.e. before ``iterations`` is incremented."""
    schedule = schedules.ExponentialDecay(0.5, decay_steps=2, decay_rate=0.5, staircase=True)
    optimizer = optimizers.SGD(learning_rate=schedule)
    w = Variable(np.array([0.0]))
    expected = 0.0
    for k in range(6):
        assert optimizer.learning_rate == pytest.approx(0.5 * 0.5 ** (k // 2))
        optimizer.apply([np.array([1.0])], [w])
        expected -= 0.5 * 0.5 ** (k // 2)
        assert w.numpy()[0] == expected  # powers of two: exact
    assert int(optimizer.iterations) == 6
    assert [v.name for v in optimizer.variables] == ["iteration"]


def test_schedule_with_weight_decay_uses_the_current_rate():
    schedule = schedules.PiecewiseConstantDecay([0], [0.5, 0.25])
    optimizer = optimizers.SGD(learning_rate=schedule, weight_decay=0.5)
    w = Variable(np.array([1.0]))
    optimizer.apply([np.array([0.0])], [w])  # lr 0.5: w = 1 - 1 * 0.5 * 0.5
    assert w.numpy()[0] == 0.75
    optimizer.apply([np.array([0.0])], [w])  # lr 0.25: w = 0.75 - 0.75 * 0.5 * 0.25
    assert w.numpy()[0] == 0.75 - 0.75 * 0.125


def test_custom_schedule_subclass():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):  # step is the optimizer's `iterations` Variable
            return 1.0 / 2.0 ** (int(step) + 1)

    optimizer = optimizers.SGD(learning_rate=Halving())
    w = Variable(np.array([0.0]))
    for _ in range(3):
        optimizer.apply([np.array([1.0])], [w])
    assert w.numpy()[0] == -(0.5 + 0.25 + 0.125)
