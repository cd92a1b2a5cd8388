"""numkeras: a deep-learning library written from scratch on NumPy, with the Keras API."""

from numkeras.autodiff import GradientTape, Tensor, Variable

__version__ = "0.1.0"

__all__ = ["GradientTape", "Tensor", "Variable"]
