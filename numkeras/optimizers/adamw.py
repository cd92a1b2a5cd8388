"""AdamW: Adam with decoupled weight decay switched on."""

from __future__ import annotations

from typing import Any

from numkeras.optimizers.adam import Adam
from numkeras.optimizers.optimizer import LearningRate


class AdamW(Adam):
    """Adam plus decoupled weight decay (Loshchilov & Hutter, 2019).

    Before each Adam step every weight shrinks a little toward zero,
    ``w = w - w * weight_decay * learning_rate``, separately from the gradient (L2 regularization
    would instead add ``weight_decay * w`` to the gradient, where Adam's scaling would distort
    it). The decay is done by the base class, exactly as ``weight_decay`` does for any optimizer;
    AdamW only makes it the default, 0.004, and requires it. Same as ``torch.optim.AdamW``'s
    ``w *= 1 - lr * weight_decay`` apart from Adam's epsilon placement (see :class:`Adam`).

    Args:
        learning_rate: Float, schedule or callable. Defaults to 0.001.
        weight_decay: Decay per step, multiplied by the learning rate. Defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: As in :class:`Adam`.
        **kwargs: ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``
            (see :class:`Optimizer`).
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str = "adamw",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("AdamW needs a float `weight_decay`; got None.")
