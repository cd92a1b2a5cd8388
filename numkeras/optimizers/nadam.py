"""Nadam: Adam with Nesterov momentum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras.autodiff import Variable
from numkeras.optimizers import kernels
from numkeras.optimizers.optimizer import LearningRate, Optimizer, cast_scalar


class Nadam(Optimizer):
    """Nadam (Dozat, 2015): Adam whose momentum "looks ahead", as Nesterov's does for SGD.

    Like :class:`Adam` it keeps ``momentum`` (m) and ``velocity`` (v) per weight. Its momentum
    weight grows over the first steps, following Keras 3's momentum-cache schedule
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` (PyTorch's ``NAdam(momentum_decay=...)`` uses
    ``0.96**(t * momentum_decay)``, so Keras's schedule is PyTorch's with ``momentum_decay=1``),
    and a ``u_product`` variable holds ``u_1 * u_2 * ... * u_t``. At step ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        m_hat = u_{t+1} * m / (1 - u_product * u_{t+1}) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Args:
        learning_rate: Float, schedule or callable. Defaults to 0.001.
        beta_1: Decay rate of the gradient average. Defaults to 0.9.
        beta_2: Decay rate of the squared-gradient average. Defaults to 0.999.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``
            (see :class:`Optimizer`).
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "nadam",
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list: Sequence[Variable]) -> None:
        """Slots ``momentum`` and ``velocity`` per weight, then one scalar ``u_product`` (in the
        first weight's dtype)."""
        if self.built:
            return
        dtype = var_list[0].dtype if var_list else np.dtype("float32")
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        self._u_product = self.add_variable((), initializer=1.0, dtype=dtype, name="u_product")

    def _apply_update_steps(
        self, grads: list[np.ndarray], variables: list[Variable], learning_rate: Any
    ) -> None:
        """Once per step, before the weights: ``u_product = u_product * u_t``."""
        u_product = self._u_product.value
        t = cast_scalar(self._iterations.value + 1, u_product.dtype)
        cache_factor = 1.0 - 0.5 * cast_scalar(0.96, u_product.dtype) ** t
        self._u_product.assign(u_product[()] * self.beta_1 * cache_factor)
        super()._apply_update_steps(grads, variables, learning_rate)

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: Any) -> None:
        w, g = variable.value, gradient
        dtype = w.dtype
        i = self._get_variable_index(variable)
        m, v = self._momentums[i].value, self._velocities[i].value
        lr = cast_scalar(learning_rate, dtype)
        t = cast_scalar(self._iterations.value + 1, dtype)
        t_next = cast_scalar(self._iterations.value + 2, dtype)
        decay = cast_scalar(0.96, dtype)
        beta_1 = cast_scalar(self.beta_1, dtype)
        beta_2 = cast_scalar(self.beta_2, dtype)
        u_t = beta_1 * (1.0 - 0.5 * decay**t)
        u_next = beta_1 * (1.0 - 0.5 * decay**t_next)
        u_product = cast_scalar(self._u_product.value, dtype)
        u_product_next = u_product * u_next
        one_minus_beta_1 = 1 - beta_1
        one_minus_beta_2 = 1 - beta_2
        one_minus_beta_2_power = 1 - beta_2**t
        epsilon = cast_scalar(self.epsilon, dtype)
        # m_hat = m * u_next / (1 - u_product_next) + g * (1 - u_t) / (1 - u_product)
        m_weight, m_denominator = u_next, 1 - u_product_next
        g_weight, g_denominator = 1 - u_t, 1 - u_product
        scalars = (
            one_minus_beta_1,
            one_minus_beta_2,
            m_weight,
            m_denominator,
            g_weight,
            g_denominator,
            one_minus_beta_2_power,
            epsilon,
            lr,
        )
        if kernels.fused("nadam", (w, g, m, v), scalars):
            return

        tmp, step = self._scratch(w, 2)
        np.subtract(g, m, out=tmp)
        np.multiply(tmp, one_minus_beta_1, out=tmp)
        np.add(m, tmp, out=m)  # m += (g - m) * (1 - beta_1)
        np.square(g, out=tmp)
        np.subtract(tmp, v, out=tmp)
        np.multiply(tmp, one_minus_beta_2, out=tmp)
        np.add(v, tmp, out=v)  # v += (g**2 - v) * (1 - beta_2)
        np.multiply(m, m_weight, out=step)
        np.divide(step, m_denominator, out=step)
        np.multiply(g, g_weight, out=tmp)
        np.divide(tmp, g_denominator, out=tmp)
        np.add(step, tmp, out=step)  # step = m_hat
        np.multiply(step, lr, out=step)
        np.divide(v, one_minus_beta_2_power, out=tmp)  # v_hat
        np.sqrt(tmp, out=tmp)
        np.add(tmp, epsilon, out=tmp)
        np.divide(step, tmp, out=step)
        np.subtract(w, step, out=w)  # w -= lr * m_hat / (sqrt(v_hat) + epsilon)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
