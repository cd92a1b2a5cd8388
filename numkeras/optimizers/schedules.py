"""Learning-rate schedules: a learning rate that changes with the optimizer's step count.

Pass one as any optimizer's ``learning_rate``; the optimizer calls it with its ``iterations``
(the number of updates made so far) before each update. As in Keras, the value is computed in
the dtype of ``initial_learning_rate``, which is float32 for a Python number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numkeras.autodiff import value_of


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step: Any) -> np.floating:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step).")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must define get_config() to be saved.")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)


def _float(x: Any) -> np.floating:
    """A Python number as float32 (Keras's floatx); a NumPy float keeps its own dtype."""
    x = value_of(x)
    if isinstance(x, np.ndarray | np.floating) and np.issubdtype(x.dtype, np.floating):
        return np.asarray(x)[()]
    return np.float32(x)


def _cast(x: Any, like: np.floating) -> np.floating:
    return like.dtype.type(np.asarray(value_of(x)))


def _check_decay_steps(decay_steps: Any) -> None:
    if decay_steps <= 0:
        raise ValueError(f"`decay_steps` must be positive; got {decay_steps!r}")


class _StepDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments, their config, and
    the progress ``step / decay_steps`` (rounded down with ``staircase=True``)."""

    _default_name = ""  # each schedule's Keras name

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = self._default_name if name is None else name

    def _progress(self, step: Any, lr: np.floating) -> np.floating:
        p = _cast(step, lr) / _cast(self.decay_steps, lr)
        return np.floor(p) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is rounded down, so the rate drops in steps every
    ``decay_steps`` updates instead of a little every update.
    """

    _default_name = "ExponentialDecay"

    def __call__(self, step: Any) -> np.floating:
        lr = _float(self.initial_learning_rate)
        return lr * _cast(self.decay_rate, lr) ** self._progress(step, lr)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` up to ``boundaries[1]``, ...

    and ``values[-1]`` once ``step > boundaries[-1]``.
    """

    def __init__(
        self, boundaries: list[int], values: list[float], name: str = "PiecewiseConstant"
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"PiecewiseConstantDecay needs one more value than boundaries; got "
                f"{len(boundaries)} boundaries {boundaries} and {len(values)} values {values}"
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> np.floating:
        step = np.asarray(value_of(step))[()]
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return _float(value)
        return _float(self.values[-1])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored if staircase)."""

    _default_name = "InverseTimeDecay"

    def __call__(self, step: Any) -> np.floating:
        lr = _float(self.initial_learning_rate)
        return lr / (_cast(1, lr) + _cast(self.decay_rate, lr) * self._progress(step, lr))


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the start rate down to ``alpha`` times it, over ``decay_steps``.

    With ``warmup_target`` set, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, then decays from ``warmup_target``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: np.floating, decay_steps: np.floating, start: np.floating) -> Any:
        fraction = step / decay_steps
        cosine = 0.5 * (1.0 + np.cos(_cast(math.pi, start) * fraction))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Any) -> np.floating:
        lr = _float(self.initial_learning_rate)
        decay_steps = _cast(self.decay_steps, lr)
        step = _cast(step, lr)
        if self.warmup_target is None:
            return self._decay(np.minimum(step, decay_steps), decay_steps, lr)
        target = _cast(self.warmup_target, lr)
        warmup_steps = _cast(self.warmup_steps, lr)
        step = np.minimum(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return (target - lr) * (step / warmup_steps) + lr
        return self._decay(step - warmup_steps, decay_steps, target)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


ALL_SCHEDULES = {
    cls.__name__: cls
    for cls in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, CosineDecay)
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """The schedule as a JSON-ready dict, in the layout Keras writes."""
    return {
        "module": "keras.optimizers.schedules",
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
        "registered_name": None,
    }


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> LearningRateSchedule:
    """Rebuild a schedule from :func:`serialize`'s dict."""
    known = {**ALL_SCHEDULES, **(custom_objects or {})}
    name = config.get("class_name")
    if name not in known:
        raise ValueError(
            f"Unknown learning rate schedule: {name!r}. Known: {sorted(ALL_SCHEDULES)} "
            "(pass others in `custom_objects`)"
        )
    return known[name].from_config(dict(config.get("config", {})))
