"""Activation functions, by name as in ``keras.activations``.

An activation is the element-wise non-linearity after a layer's affine map (the seed's
``naive_relu`` is one); without it, stacked Dense layers would collapse into one affine map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numkeras import ops
from numkeras.autodiff import Tensor


def relu(
    x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Tensor:
    """max(x, 0), or Keras's generalised form: ``negative_slope * (x - threshold)`` below
    ``threshold``, ``x`` above it, capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if negative_slope < 0:
        raise ValueError(f"relu: negative_slope must be >= 0, got {negative_slope}")
    if max_value is not None and max_value < 0:
        raise ValueError(f"relu: max_value must be >= 0, got {max_value}")
    above = ops.greater(x, threshold) if threshold != 0.0 else ops.greater(x, 0)
    y = ops.where(above, x, ops.multiply(ops.subtract(x, threshold), negative_slope))
    if max_value is not None:
        y = ops.minimum(y, max_value)
    return y


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    return relu(x, negative_slope=negative_slope)


def sigmoid(x: Any) -> Tensor:
    return ops.sigmoid(x)


def tanh(x: Any) -> Tensor:
    return ops.tanh(x)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Turns scores into probabilities that sum to 1 along ``axis`` (the seed's last layer)."""
    return ops.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    return ops.log_softmax(x, axis=axis)


def softplus(x: Any) -> Tensor:
    return ops.softplus(x)


def exponential(x: Any) -> Tensor:
    return ops.exp(x)


def linear(x: Any) -> Any:
    """The identity: no activation."""
    return x


_BY_NAME: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, softplus, exponential, linear)
}


def get(identifier: str | Callable | None) -> Callable:
    """An activation function from its name, the function itself, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(
        f"Unknown activation {identifier!r}; valid names are: {', '.join(sorted(_BY_NAME))}"
    )


def serialize(activation: Callable) -> str:
    """The name under which ``get`` finds ``activation`` again."""
    name = getattr(activation, "__name__", None)
    if name in _BY_NAME and _BY_NAME[name] is activation:
        return name
    raise ValueError(
        f"Cannot serialize activation {activation!r}: only the built-in activations "
        f"({', '.join(sorted(_BY_NAME))}) can be saved by name"
    )
