"""``Sequential``: a stack of layers, each feeding the next (the seed's ``models.Sequential``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from numkeras import layers as layers_module
from numkeras.autodiff import Tensor, Variable, value_of
from numkeras.layers.core import InputLayer
from numkeras.layers.layer import Layer
from numkeras.models.model import Model, _as_batch


class Sequential(Model):
    """Layers applied one after the other. The input shape comes from an ``Input``, from
    ``input_shape=`` on the first layer, or from the first batch the model sees."""

    def __init__(
        self, layers: Sequence[Layer] | None = None, trainable: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(trainable=trainable, name=name)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._output_shapes: list[tuple] = []
        for layer in layers or []:
            self.add(layer)

    # --- structure -------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def add(self, layer: Layer) -> None:
        """Append a layer; builds it at once when the model's input shape is known."""
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f"Sequential model {self.name!r}: an Input can only be the first layer"
                )
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add: expected a Layer (e.g. layers.Dense(10)), "
                f"got {type(layer).__name__}: {layer!r}"
            )
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names; "
                f"{layer.name!r} is already in model {self.name!r}"
            )
        self._layers.append(layer)
        if self._input_layer is None and len(self._layers) == 1 and layer._input_shape_arg:
            self._input_layer = InputLayer(shape=layer._input_shape_arg)
        if self._input_layer is not None:
            self.build((None,) + self._input_layer.shape)
        else:
            self.built = False

    def pop(self) -> Layer:
        if not self._layers:
            raise IndexError(f"Sequential model {self.name!r} has no layers to pop")
        layer = self._layers.pop()
        self._output_shapes = self._output_shapes[: len(self._layers)]
        return layer

    def build(self, input_shape: tuple | None = None) -> None:
        """Build every layer by passing one all-zeros sample through the stack."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(
                    f"Sequential model {self.name!r} does not know its input shape yet: add an "
                    f"Input(shape=...), pass input_shape= to the first layer, or call the model "
                    f"on data"
                )
            input_shape = (None,) + self._input_layer.shape
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"Sequential.build: every axis but the batch axis must be known, "
                             f"got input shape {tuple(input_shape)}")
        x: Any = np.zeros((1,) + tuple(input_shape[1:]), dtype=self.dtype)
        self._output_shapes = []
        for layer in self._layers:
            x = layer(x, training=False)
            self._output_shapes.append((None,) + tuple(np.shape(value_of(x)))[1:])
        if self._input_layer is None:
            self._input_layer = InputLayer(shape=tuple(input_shape[1:]))
        self._build_shape = (None,) + tuple(input_shape[1:])
        self.built = True

    def __call__(self, inputs: Any, training: bool = False) -> Any:
        if isinstance(inputs, np.ndarray | list):
            inputs = _as_batch(np.asarray(inputs), self.dtype)
        if not self.built:
            self.build((None,) + tuple(np.shape(value_of(inputs)))[1:])
        return self.call(inputs, training=training)

    def call(self, inputs: Any, training: bool = False) -> Any:
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    @property
    def input_shape(self) -> tuple | None:
        return None if self._input_layer is None else (None,) + self._input_layer.shape

    @property
    def output_shape(self) -> tuple | None:
        return self._output_shapes[-1] if self._output_shapes else None

    # --- weights ---------------------------------------------------------------------------
    def _collect(self, attribute: str) -> list[Variable]:
        seen: set[int] = set()
        collected = []
        for layer in self._layers:
            for weight in getattr(layer, attribute):
                if id(weight) not in seen:
                    seen.add(id(weight))
                    collected.append(weight)
        return collected

    @property
    def weights(self) -> list[Variable]:
        return self._collect("weights")

    @property
    def trainable_weights(self) -> list[Variable]:
        return self._collect("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return self.weights
        return self._collect("non_trainable_weights")

    trainable_variables = trainable_weights
    variables = weights

    @property
    def losses(self) -> list[Tensor]:
        return [loss for layer in self._layers for loss in layer.losses]

    # --- description -----------------------------------------------------------------------
    def summary(
        self, line_length: int | None = None, positions: Any = None,
        print_fn: Callable[[str], Any] | None = None, **kwargs: Any,
    ) -> None:
        """Print Keras's table: each layer, its output shape, its number of parameters."""
        print_fn = print_fn or _print_to_stdout
        print_fn(_summary_text(self, _can_encode("┏━┃┡╇┩│├┼┤└┴┘")))

    def get_config(self) -> dict:
        entries = []
        if self._input_layer is not None:
            entries.append({"class_name": "InputLayer", "config": self._input_layer.get_config()})
        entries += [{"class_name": type(layer).__name__, "config": layer.get_config()}
                    for layer in self._layers]
        return {"name": self.name, "trainable": self.trainable, "layers": entries}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            layer_cls = (custom_objects or {}).get(entry["class_name"]) or getattr(
                layers_module, entry["class_name"], None
            )
            if layer_cls is None:
                raise ValueError(
                    f"Unknown layer class {entry['class_name']!r} in the model config; pass it "
                    f"in custom_objects={{'{entry['class_name']}': TheClass}}"
                )
            model.add(layer_cls.from_config(dict(entry["config"])))
        return model


def _print_to_stdout(text: str) -> None:
    print(text, file=sys.stdout)


def _can_encode(characters: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        characters.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


def _summary_text(model: Sequential, unicode: bool) -> str:
    """Keras 3's summary layout (box-drawing characters, or ASCII where they cannot print)."""
    rows = []
    for i, layer in enumerate(model.layers):
        shape = model._output_shapes[i] if i < len(model._output_shapes) else "?"
        count = layer.count_params() if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", str(shape),
                     f"{count:,}" if layer.built else "0 (unbuilt)"))
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max([33] + [len(r[0]) + 2 for r in rows]),
              max([24] + [len(r[1]) + 2 for r in rows]),
              max([15] + [len(r[2]) + 2 for r in rows])]
    box = "┏━┳┓┃┡━╇┩│├─┼┤└┴┘" if unicode else "+-++|+=++|+-+++++"
    (tl, h, tm, tr, v, ml, h2, mm, mr, v2, sl, h3, sm, sr, bl, bm, br) = box

    def line(left, fill, mid, right):
        return left + mid.join(fill * w for w in widths) + right

    def row(cells, sep):
        parts = [f" {cells[0]:<{widths[0] - 2}} ", f" {cells[1]:<{widths[1] - 2}} ",
                 f" {cells[2]:>{widths[2] - 2}} "]
        return sep + sep.join(parts) + sep

    out = [f'Model: "{model.name}"', line(tl, h, tm, tr), row(header, v), line(ml, h2, mm, mr)]
    for i, r in enumerate(rows):
        out.append(row(r, v2))
        out.append(line(sl, h3, sm, sr) if i < len(rows) - 1 else line(bl, h3, bm, br))
    if not rows:
        out.append(line(bl, h3, bm, br))
    trainable = sum(w.size for w in model.trainable_weights)
    total = model.count_params()
    itemsize = np.dtype(model.dtype).itemsize
    out.append(f" Total params: {total:,} ({_human_bytes(total * itemsize)})")
    out.append(f" Trainable params: {trainable:,} ({_human_bytes(trainable * itemsize)})")
    out.append(f" Non-trainable params: {total - trainable:,} "
               f"({_human_bytes((total - trainable) * itemsize)})")
    optimizer_vars = getattr(model.optimizer, "variables", None) if model.optimizer else None
    if optimizer_vars and len(optimizer_vars) > 1:
        count = int(sum(np.size(value_of(v)) for v in optimizer_vars))
        out.append(f" Optimizer params: {count:,} ({_human_bytes(count * itemsize)})")
    return "\n".join(out)
