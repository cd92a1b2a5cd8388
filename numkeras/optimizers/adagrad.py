"""Adagrad: divide each step by the root of all squared gradients seen so far."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras.autodiff import Variable
from numkeras.optimizers import kernels
from numkeras.optimizers.optimizer import LearningRate, Optimizer, cast_scalar


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): per-weight steps that shrink as gradients accumulate.

    The seed's step, divided per weight by how much that weight has already been pushed. Each
    weight keeps an ``accumulator`` that starts at ``initial_accumulator_value``::

        accumulator = accumulator + g**2
        w = w - learning_rate * g / sqrt(accumulator + epsilon)

    Difference from PyTorch: ``torch.optim.Adagrad`` adds ``eps`` outside the square root,
    ``sqrt(sum) + eps``, and its ``initial_accumulator_value`` defaults to 0 (Keras's to 0.1).

    Args:
        learning_rate: Float, schedule or callable. Defaults to 0.001.
        initial_accumulator_value: Starting value of the accumulators (>= 0). Defaults to 0.1.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``
            (see :class:`Optimizer`).
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list: Sequence[Variable]) -> None:
        """One ``accumulator`` slot per weight, filled with ``initial_accumulator_value``."""
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=self.initial_accumulator_value
        )

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: Any) -> None:
        w, g = variable.value, gradient
        accumulator = self._accumulators[self._get_variable_index(variable)].value
        lr = cast_scalar(learning_rate, w.dtype)
        epsilon = cast_scalar(self.epsilon, w.dtype)
        if kernels.fused("adagrad", (w, g, accumulator), (epsilon, lr)):
            return
        tmp, step = self._scratch(w, 2)
        np.square(g, out=tmp)
        np.add(accumulator, tmp, out=accumulator)  # accumulator += g**2
        np.add(accumulator, epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.multiply(g, lr, out=step)
        np.divide(step, tmp, out=step)
        np.subtract(w, step, out=w)  # w -= lr * g / sqrt(accumulator + epsilon)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
