"""Optimizers with Keras 3's names, defaults and update rules: ``SGD``, ``RMSprop``,
``Adagrad``, ``Adam``, ``AdamW``, ``Nadam``; ``get`` turns a name such as ``"rmsprop"`` into one.

Each one is the seed's update step -- "move the weights a little against the gradient" -- plus
a little memory of past gradients; see each class's docstring for its rule.
"""

from __future__ import annotations

from typing import Any

from numkeras.optimizers import schedules
from numkeras.optimizers.adagrad import Adagrad
from numkeras.optimizers.adam import Adam
from numkeras.optimizers.adamw import AdamW
from numkeras.optimizers.nadam import Nadam
from numkeras.optimizers.optimizer import Optimizer
from numkeras.optimizers.rmsprop import RMSprop
from numkeras.optimizers.sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

# Keras looks names up case-insensitively: "rmsprop", "RMSprop" and "RMSPROP" all work.
ALL_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adam, AdamW, Nadam)}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """The optimizer as a JSON-ready dict, in the layout Keras writes into ``.keras`` files."""
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """Rebuild an optimizer from :func:`serialize`'s dict (``{"class_name", "config"}``)."""
    name = config.get("class_name")
    if custom_objects and name in custom_objects:
        cls = custom_objects[name]
    elif isinstance(name, str) and name.lower() in ALL_OPTIMIZERS:
        cls = ALL_OPTIMIZERS[name.lower()]
    else:
        raise ValueError(
            f"Unknown optimizer: {name!r}. Valid names are {sorted(ALL_OPTIMIZERS)} "
            "(case-insensitive); pass others in `custom_objects`."
        )
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``), a ``serialize`` dict, or an instance (returned
    as is). ``None`` gives ``None``."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        f"Cannot make an optimizer from {identifier!r}: expected a name such as 'adam', "
        "a config dict, or an Optimizer."
    )
