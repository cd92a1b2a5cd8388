"""Layers with ``keras.layers`` names: the building blocks of the seed's network."""

from numkeras.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Reshape,
)
from numkeras.layers.layer import Layer

__all__ = [
    "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer", "Reshape",
]
