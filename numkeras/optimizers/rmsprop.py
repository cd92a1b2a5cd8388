"""RMSprop: divide each step by a running average of the gradient's size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras.autodiff import Variable
from numkeras.optimizers import kernels
from numkeras.optimizers.optimizer import LearningRate, Optimizer, cast_scalar


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): the seed's step, scaled per weight by the recent gradient size.

    A weight whose gradient has been large moves less, one whose gradient has been small moves
    more, so all weights learn at a similar pace. Per weight it keeps ``velocity``, a moving
    average of the squared gradient::

        velocity = rho * velocity + (1 - rho) * g**2
        w = w - learning_rate * g / sqrt(velocity + epsilon)

    ``centered=True`` also averages the gradient itself (``average_gradient``) and divides by an
    estimate of the gradient's variance, ``sqrt(velocity - average_gradient**2 + epsilon)``.
    ``momentum > 0`` adds a ``momentum`` slot: ``m = momentum * m + step; w = w - m``.

    Difference from PyTorch: Keras (and this class) adds ``epsilon`` *inside* the square root,
    ``sqrt(velocity + epsilon)``; ``torch.optim.RMSprop`` adds it outside,
    ``sqrt(velocity) + eps``. With ``epsilon=0`` the two agree. (PyTorch's ``alpha`` is ``rho``.)

    Args:
        learning_rate: Float, schedule or callable. Defaults to 0.001.
        rho: Decay of the moving average of squared gradients. Defaults to 0.9.
        momentum: Momentum (plain, not Nesterov). Defaults to 0.0.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        centered: Whether to normalize by the estimated variance. Defaults to False.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``
            (see :class:`Optimizer`).
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "rmsprop",
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
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list: Sequence[Variable]) -> None:
        """Slots: all ``velocity``s, then ``momentum``s (if momentum > 0), then
        ``average_gradient``s (if centered) -- Keras's order."""
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: Any) -> None:
        w, g = variable.value, gradient
        dtype = w.dtype
        i = self._get_variable_index(variable)
        velocity = self._velocities[i].value
        lr = cast_scalar(learning_rate, dtype)
        rho = cast_scalar(self.rho, dtype)
        one_minus_rho = cast_scalar(1 - self.rho, dtype)
        epsilon = cast_scalar(self.epsilon, dtype)
        plain = not self.centered and self.momentum <= 0
        if plain and kernels.fused("rmsprop", (w, g, velocity), (rho, one_minus_rho, epsilon, lr)):
            return

        tmp, step = self._scratch(w, 2)
        np.multiply(velocity, rho, out=velocity)
        np.square(g, out=tmp)
        np.multiply(tmp, one_minus_rho, out=tmp)
        np.add(velocity, tmp, out=velocity)  # velocity = rho * velocity + (1 - rho) * g**2
        if self.centered:
            average = self._average_gradients[i].value
            np.multiply(average, rho, out=average)
            np.multiply(g, one_minus_rho, out=tmp)
            np.add(average, tmp, out=average)  # average = rho * average + (1 - rho) * g
            np.square(average, out=tmp)
            np.subtract(velocity, tmp, out=tmp)
            np.add(tmp, epsilon, out=tmp)  # velocity - average**2 + epsilon
        else:
            np.add(velocity, epsilon, out=tmp)  # velocity + epsilon
        np.sqrt(tmp, out=tmp)
        np.multiply(g, lr, out=step)
        np.divide(step, tmp, out=step)  # step = lr * g / sqrt(...)
        if self.momentum > 0:
            m = self._momentums[i].value
            np.multiply(m, cast_scalar(self.momentum, dtype), out=m)
            np.add(m, step, out=m)  # m = momentum * m + step
            np.subtract(w, m, out=w)
        else:
            np.subtract(w, step, out=w)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
