"""numkeras: a deep-learning library written from scratch on NumPy, with the Keras API.

The seed's program runs with ``keras`` replaced by ``numkeras``::

    from numkeras import models, layers
    from numkeras.datasets import mnist
    from numkeras.utils import to_categorical

Underneath: ``naive`` (the seed's loops), ``ops`` (vectorised tensor operations, each with
its gradient), ``autodiff`` (``GradientTape``: backpropagation by the chain rule), then one
module per Keras concept.
"""

from typing import Any

from numkeras import (
    activations,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    utils,
)
from numkeras.autodiff import GradientTape, Tensor, Variable
from numkeras.layers import Input
from numkeras.models import Model, Sequential

__version__ = "0.1.0"

__all__ = [
    "GradientTape", "Input", "Model", "Sequential", "Tensor", "Variable", "activations",
    "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "models", "ops",
    "optimizers", "random", "regularizers", "utils",
]


def __getattr__(name: str) -> Any:
    # `numkeras.datasets` (hashing, paths, downloads) is imported on first use, which keeps
    # `import numkeras` fast; `from numkeras.datasets import mnist` works as usual.
    if name == "datasets":
        import importlib

        return importlib.import_module("numkeras.datasets")
    raise AttributeError(f"module 'numkeras' has no attribute {name!r}")
