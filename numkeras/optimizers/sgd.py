"""SGD: the seed's update step itself, optionally with momentum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras.autodiff import Variable
from numkeras.optimizers import kernels
from numkeras.optimizers.optimizer import LearningRate, Optimizer, _is_number, cast_scalar


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    Without momentum this is the seed's rule, "move the weights a little against the gradient"::

        w = w - learning_rate * g

    With ``momentum > 0`` the step keeps some of the previous step's speed, like a ball rolling
    downhill (one ``momentum`` slot per weight)::

        velocity = momentum * velocity - learning_rate * g
        w = w + velocity

    and with ``nesterov=True`` the weight moves by the velocity *as it will be after one more
    step* -- it "looks ahead"::

        velocity = momentum * velocity - learning_rate * g
        w = w + momentum * velocity - learning_rate * g

    The seed's notes show a loop with ``w = w + momentum * velocity - learning_rate * gradient``:
    that second line is Nesterov's update (``SGD(momentum=..., nesterov=True)``); plain momentum
    (``nesterov=False``, the default) is ``w = w + velocity``.

    Args:
        learning_rate: Float, schedule or callable. Defaults to 0.01.
        momentum: Float in [0, 1]. 0 is plain gradient descent. Defaults to 0.0.
        nesterov: Whether to use Nesterov momentum. Defaults to False.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``
            (see :class:`Optimizer`).
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "SGD",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )
        if not _is_number(momentum) or not 0 <= momentum <= 1:
            raise ValueError(f"SGD's `momentum` must be a number in [0, 1]; got {momentum!r}")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, var_list: Sequence[Variable]) -> None:
        """One ``momentum`` slot (the velocity) per weight, only if ``momentum != 0``."""
        if self.built:
            return
        super().build(var_list)
        self.momentums = self.add_optimizer_variables(var_list, "momentum") if self.momentum else []

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: Any) -> None:
        w, g = variable.value, gradient
        lr = cast_scalar(learning_rate, w.dtype)
        if not self.momentum:
            if kernels.fused("sgd", (w, g), (lr,)):
                return
            (step,) = self._scratch(w)
            np.multiply(g, lr, out=step)
            np.subtract(w, step, out=w)
            return

        velocity = self.momentums[self._get_variable_index(variable)].value
        momentum = cast_scalar(self.momentum, w.dtype)
        kernel = "sgd_nesterov" if self.nesterov else "sgd_momentum"
        if kernels.fused(kernel, (w, g, velocity), (momentum, lr)):
            return
        step, look_ahead = self._scratch(w, 2)
        np.multiply(g, lr, out=step)  # learning_rate * g
        np.multiply(velocity, momentum, out=velocity)
        np.subtract(velocity, step, out=velocity)  # velocity = momentum * velocity - lr * g
        if self.nesterov:
            np.multiply(velocity, momentum, out=look_ahead)
            np.subtract(look_ahead, step, out=look_ahead)
            np.add(w, look_ahead, out=w)  # w = w + momentum * velocity - lr * g
        else:
            np.add(w, velocity, out=w)  # w = w + velocity

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
