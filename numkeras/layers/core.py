"""The core layers of the seed's network and their companions: Dense, Activation, Dropout,
Flatten, Reshape, and the Input that names the shape of one sample."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras import activations, initializers, ops, random, regularizers
from numkeras.autodiff import Tensor, value_of
from numkeras.layers.layer import Layer


class Dense(Layer):
    """``activation(dot(inputs, kernel) + bias)``: the seed's affine map plus a non-linearity.

    ``kernel`` has shape (input features, units). Inputs of higher rank are transformed along
    their last axis, as in Keras.
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, int | np.integer) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense layer {self.name!r} needs inputs with a known last axis, "
                f"got input shape {input_shape}"
            )
        self.kernel = self.add_weight(
            (input_shape[-1], self.units), self.kernel_initializer,
            regularizer=self.kernel_regularizer, name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                (self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                name="bias",
            )
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Tensor:
        value = value_of(inputs)
        features = value.shape[-1:] if isinstance(value, np.ndarray) else np.shape(value)[-1:]
        if features != self.kernel.value.shape[:1]:
            raise ValueError(
                f'Input of layer "{self.name}" is incompatible with the layer: expected axis -1 '
                f"of input shape to have value {self.kernel.shape[0]}, but received input with "
                f"shape {np.shape(value_of(inputs))}"
            )
        bias = self.bias if self.use_bias else None
        if self.activation is activations.relu:  # the common case: relu fused into the op
            return ops.affine(inputs, self.kernel, bias, relu=True)
        return self.activation(ops.affine(inputs, self.kernel, bias))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }


class Activation(Layer):
    """Applies an activation function (by name or callable) element-wise."""

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """During training, zeroes a random fraction ``rate`` of the inputs and scales the rest by
    1 / (1 - rate) so the expected sum is unchanged; at inference it does nothing."""

    def __init__(
        self, rate: float, noise_shape: Sequence[int] | None = None, seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def call(self, inputs: Any, training: bool = False) -> Any:
        if not training or self.rate == 0:
            return inputs
        shape = np.shape(value_of(inputs))
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(shape, self.noise_shape))
        rng = self._rng or random.generator()
        keep = rng.random(shape, dtype=np.float32) >= self.rate
        scale = np.float32(1.0 / (1.0 - self.rate)) if self.rate < 1 else np.float32(0)
        dtype = np.result_type(value_of(inputs))
        return ops.multiply(inputs, (keep * scale).astype(dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class Flatten(Layer):
    """Reshapes each sample to a vector: (batch, 28, 28) -> (batch, 784)."""

    def call(self, inputs: Any, training: bool = False) -> Tensor:
        shape = np.shape(value_of(inputs))
        return ops.reshape(inputs, (shape[0], int(np.prod(shape[1:], dtype=np.int64))))


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1); the batch axis stays."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if self.target_shape.count(-1) > 1 or any(d <= 0 and d != -1 for d in self.target_shape):
            raise ValueError(
                f"Reshape: target_shape must hold positive sizes and at most one -1 (the size "
                f"to infer), got {tuple(target_shape)}"
            )

    def call(self, inputs: Any, training: bool = False) -> Tensor:
        shape = np.shape(value_of(inputs))
        per_sample = int(np.prod(shape[1:], dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        fits = per_sample == known if -1 not in self.target_shape else per_sample % known == 0
        if not fits:
            raise ValueError(
                f"Reshape layer {self.name!r}: cannot reshape samples of shape {shape[1:]} "
                f"({per_sample} values) to target_shape {self.target_shape}"
            )
        return ops.reshape(inputs, (shape[0],) + self.target_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class InputLayer(Layer):
    """Declares the shape of one sample (without the batch axis); the first layer of a model."""

    def __init__(
        self, shape: Sequence[int] | None = None, batch_size: int | None = None,
        dtype: Any = None, name: str | None = None, **kwargs: Any,
    ) -> None:
        if shape is None:
            shape = kwargs.pop("input_shape", None)
        if shape is None:
            raise ValueError("InputLayer: `shape` is required, e.g. shape=(784,)")
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.shape = tuple(int(d) if d is not None else None for d in shape)
        self.batch_size = batch_size
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        return inputs

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape),
                "batch_size": self.batch_size}


def Input(  # noqa: N802 -- Keras's name
    shape: Sequence[int], batch_size: int | None = None, dtype: Any = None,
    name: str | None = None,
) -> InputLayer:
    """The input of a model: ``Sequential([Input(shape=(784,)), Dense(10)])``."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name)
