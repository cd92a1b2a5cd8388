"""Adam: momentum (an average of gradients) divided by RMSprop's average of squared gradients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras.autodiff import Variable
from numkeras.optimizers import kernels
from numkeras.optimizers.optimizer import LearningRate, Optimizer, cast_scalar


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014): the seed's step, with momentum and per-weight scaling.

    Per weight it keeps ``momentum`` (m, a moving average of the gradient) and ``velocity``
    (v, a moving average of the squared gradient). At step ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - alpha * m / (sqrt(v) + epsilon)

    ``alpha`` folds in the bias correction: m and v start at zero, so early averages are too
    small, and dividing by ``1 - beta**t`` undoes that. With ``amsgrad=True`` a
    ``velocity_hat`` slot keeps the largest v seen and is used in place of v.

    Difference from PyTorch: ``torch.optim.Adam`` bias-corrects v before adding ``eps``,
    ``w -= lr / (1 - beta_1**t) * m / (sqrt(v / (1 - beta_2**t)) + eps)``; here ``epsilon`` is
    not bias-corrected (Keras's "epsilon hat"). The two agree for ``epsilon=0``; otherwise Keras's
    epsilon acts like PyTorch's ``eps * sqrt(1 - beta_2**t)``, i.e. smaller early in training.

    Args:
        learning_rate: Float, schedule or callable. Defaults to 0.001.
        beta_1: Decay rate of the gradient average. Defaults to 0.9.
        beta_2: Decay rate of the squared-gradient average. Defaults to 0.999.
        epsilon: Small constant for numerical stability. Defaults to 1e-7.
        amsgrad: Whether to use the AMSGrad variant (Reddi et al., 2018). Defaults to False.
        **kwargs: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``
            (see :class:`Optimizer`).
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "adam",
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
        self.amsgrad = amsgrad

    def build(self, var_list: Sequence[Variable]) -> None:
        """Slots ``momentum`` and ``velocity`` per weight (interleaved, as Keras), then all
        ``velocity_hat``s if ``amsgrad``."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        self._velocity_hats = []
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: Any) -> None:
        w, g = variable.value, gradient
        dtype = w.dtype
        i = self._get_variable_index(variable)
        m, v = self._momentums[i].value, self._velocities[i].value
        lr = cast_scalar(learning_rate, dtype)
        t = cast_scalar(self._iterations.value + 1, dtype)
        beta_1_power = cast_scalar(self.beta_1, dtype) ** t
        beta_2_power = cast_scalar(self.beta_2, dtype) ** t
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        one_minus_beta_1 = cast_scalar(1 - self.beta_1, dtype)
        one_minus_beta_2 = cast_scalar(1 - self.beta_2, dtype)
        epsilon = cast_scalar(self.epsilon, dtype)
        scalars = (one_minus_beta_1, one_minus_beta_2, epsilon, alpha)
        if self.amsgrad:
            v_hat = self._velocity_hats[i].value
            if kernels.fused("adam_amsgrad", (w, g, m, v, v_hat), scalars):
                return
        elif kernels.fused("adam", (w, g, m, v), scalars):
            return

        tmp, step = self._scratch(w, 2)
        np.subtract(g, m, out=tmp)
        np.multiply(tmp, one_minus_beta_1, out=tmp)
        np.add(m, tmp, out=m)  # m += (g - m) * (1 - beta_1)
        np.square(g, out=tmp)
        np.subtract(tmp, v, out=tmp)
        np.multiply(tmp, one_minus_beta_2, out=tmp)
        np.add(v, tmp, out=v)  # v += (g**2 - v) * (1 - beta_2)
        if self.amsgrad:
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=tmp)
        np.add(tmp, epsilon, out=tmp)
        np.multiply(m, alpha, out=step)
        np.divide(step, tmp, out=step)
        np.subtract(w, step, out=w)  # w -= alpha * m / (sqrt(v) + epsilon)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }
