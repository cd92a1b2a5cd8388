"""The ``Layer`` base class: state (weights) plus a computation on tensors (``call``).

A layer is built lazily: the first time it is called it learns the input's last axes and
creates its weights with ``add_weight`` (Keras's deferred build). Everything a layer computes
goes through ``numkeras.ops``, so a ``GradientTape`` sees it and backpropagation needs no
layer-specific code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from numkeras import initializers, ops, regularizers
from numkeras.autodiff import Tensor, Variable, value_of

_name_counts: defaultdict[str, int] = defaultdict(int)


def unique_name(base: str) -> str:
    """Keras-style automatic names: 'dense', then 'dense_1', 'dense_2', ..."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def reset_names() -> None:
    """Start automatic layer names again from 'dense', 'dense_1', ... (``clear_session``)."""
    _name_counts.clear()


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Layer:
    """Base class of all layers. Subclasses implement ``build(input_shape)`` and ``call``."""

    def __init__(
        self,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        input_shape: Sequence[int] | None = None,
        input_dim: int | None = None,
        batch_input_shape: Sequence[int | None] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}"
            )
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = np.dtype(dtype or "float32").name
        self.built = False
        self._weights: list[Variable] = []
        self._regularized: list[tuple[Variable, Any]] = []
        self._activity_losses: list[Tensor] = []
        if batch_input_shape is not None:
            self._input_shape_arg: tuple | None = tuple(batch_input_shape)[1:]
        elif input_shape is not None:
            self._input_shape_arg = tuple(input_shape)
        elif input_dim is not None:
            self._input_shape_arg = (input_dim,)
        else:
            self._input_shape_arg = None
        self._build_shape: tuple | None = None

    # --- weights --------------------------------------------------------------------------
    def add_weight(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "glorot_uniform",
        dtype: Any = None,
        trainable: bool = True,
        regularizer: Any = None,
        name: str | None = None,
    ) -> Variable:
        """Create a Variable owned by this layer (the layer's "knowledge", in the seed's words)."""
        init = initializers.get(initializer)
        value = init(tuple(shape), dtype=dtype or self.dtype)
        variable = Variable(value, trainable=trainable, name=f"{self.name}/{name or 'weight'}")
        self._weights.append(variable)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((variable, reg))
        return variable

    @property
    def weights(self) -> list[Variable]:
        return list(self._weights)

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        return [w for w in self._weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return list(self._weights)
        return [w for w in self._weights if not w.trainable]

    trainable_variables = trainable_weights
    variables = weights

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign every weight from ``weights`` (in ``self.weights`` order); all shapes are
        checked before anything is assigned, so a mismatch changes nothing."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} has {len(own)} weights: set_weights needs "
                f"{len(own)} weight arrays, but received {len(weights)}"
            )
        for variable, value in zip(own, weights):
            if np.shape(value) != variable.shape:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: weight {variable.name!r} has shape "
                    f"{variable.shape}, but the array given for it has shape {np.shape(value)}"
                )
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    @property
    def losses(self) -> list[Tensor]:
        """Regularization penalties of this layer's weights (recomputed on every access)."""
        return [reg(w) for w, reg in self._regularized] + list(self._activity_losses)

    # --- computation ----------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create the weights, now that the input's shape is known. Layers without weights
        need not override it."""
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def __call__(self, inputs: Any, training: bool = False) -> Any:
        inputs = self._autocast(inputs)
        if not self.built:
            shape = tuple(np.shape(inputs))
            self._build_shape = (None,) + shape[1:]
            self.build(self._build_shape)
            self.built = True
        return self.call(inputs, training=training)

    def _autocast(self, inputs: Any) -> Any:
        """Keras's autocast: floating inputs in another float type (NumPy's float64, say)
        are cast to the layer's dtype; integer inputs and everything else pass unchanged."""
        dtype = getattr(value_of(inputs), "dtype", None)
        if dtype is not None and dtype != self.dtype and np.issubdtype(dtype, np.floating):
            return ops.cast(inputs, self.dtype)
        return inputs

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The output shape for an input shape, found by calling the layer on zeros."""
        probe = np.zeros((1,) + tuple(input_shape[1:]), dtype=self.dtype)
        return (input_shape[0],) + tuple(ops.shape(self(probe)))[1:]

    # --- configuration --------------------------------------------------------------------
    def get_config(self) -> dict:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable,
                                  "dtype": self.dtype}
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
