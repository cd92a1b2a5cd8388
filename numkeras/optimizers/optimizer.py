"""The optimizer base class: the seed's update step, with Keras 3's bookkeeping around it.

Training repeats one idea: "move the weights a little against the gradient". Every optimizer
here does that in ``update_step(gradient, variable, learning_rate)``; they differ only in the
memory they keep between steps ("slot" variables such as a velocity). This base class does what
is common to all of them, in Keras 3's order, each time ``apply`` is called:

1. build the slot variables on first use (``build``);
2. drop ``None`` gradients (with a warning), check shapes, cast gradients to the weight's dtype;
3. clip the gradients (``clipnorm`` per gradient, or ``global_clipnorm`` over all of them, or
   ``clipvalue`` per element -- at most one of the three);
4. apply decoupled weight decay, ``w -= w * weight_decay * learning_rate``, if set;
5. run ``update_step`` for each weight, then add one to ``iterations``.

As in Keras, a float learning rate lives in a float32 ``Variable`` (so ``get_config`` reports
e.g. ``0.0010000000474974513``), and an update is computed in the weight's own dtype: a float32
weight stays float32, and its learning rate and hyperparameters are cast to float32 first.

Update steps work in place on ``variable.value`` and the slot arrays, with ``out=`` buffers, so a
step allocates nothing but a reused scratch buffer; large weights go through a fused, parallel
kernel (``kernels.py``) that computes the same numbers in one pass.
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from numkeras.autodiff import Variable, value_of
from numkeras.optimizers import kernels
from numkeras.optimizers.schedules import LearningRateSchedule
from numkeras.optimizers.schedules import deserialize as deserialize_schedule
from numkeras.optimizers.schedules import serialize as serialize_schedule

LearningRate = float | LearningRateSchedule | Callable[[], Any]


_casts: dict[tuple, np.generic] = {}  # (number, dtype) -> cast; numbers are immutable


def cast_scalar(x: Any, dtype: np.dtype) -> np.generic:
    """A scalar (number, NumPy scalar, 0-d Tensor) as a NumPy scalar of ``dtype``.

    Every update of every variable casts the same few hyperparameters, so casts of nonzero
    numbers are remembered (equal numbers cast equally, whatever their Python type; zeros are
    not, since 0.0 == -0.0).
    """
    try:
        cast = _casts.get((x, dtype))  # the common case, on every step
    except TypeError:  # an unhashable array: never remembered
        cast = None
    if cast is None:
        number = isinstance(x, float | int | np.generic)
        remembered = number and bool(x)
        scalar_type = dtype.type if isinstance(dtype, np.dtype) else np.dtype(dtype).type
        cast = scalar_type(x if number else np.asarray(value_of(x)))
        if remembered:
            if len(_casts) > 1024:  # a schedule's ever-new learning rates, say
                _casts.clear()
            _casts[(x, dtype)] = cast
    return cast


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class Optimizer:
    """Base class of all optimizers; subclasses implement ``build`` and ``update_step``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` (called with ``iterations``), or a
            callable with no arguments returning the current rate.
        weight_decay: If set, every step first shrinks each weight: ``w -= w * wd * lr``.
        clipnorm: If set, each gradient is rescaled so that its L2 norm is at most this.
        clipvalue: If set, each gradient element is clipped to ``[-clipvalue, clipvalue]``.
        global_clipnorm: If set, all gradients are rescaled together so that the norm of their
            concatenation is at most this.
        name: The optimizer's name.
    """

    def __init__(
        self,
        learning_rate: LearningRate,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        _check_keras_only_arguments(kwargs)
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Set at most one of clipnorm, clipvalue and global_clipnorm; got "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.name = name or _snake_case(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list[Variable] = []
        self._variable_index: dict[int, int] = {}
        self._scratch_buffers: dict[tuple, list[np.ndarray]] = {}
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None
        self._iterations = self._track(
            Variable(0, dtype="int64", trainable=False, name="iteration")
        )
        self._learning_rate: Variable | LearningRateSchedule | Callable[[], Any]
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        elif _is_number(learning_rate):
            self._learning_rate = self._track(
                Variable(learning_rate, dtype="float32", trainable=False, name="learning_rate")
            )
        else:
            raise ValueError(
                "`learning_rate` must be a float, a LearningRateSchedule, or a callable taking "
                f"no arguments; got {learning_rate!r}"
            )

    # --- state ------------------------------------------------------------------------------
    @property
    def iterations(self) -> Variable:
        """How many updates have been applied (a non-trainable int64 Variable)."""
        return self._iterations

    @property
    def variables(self) -> list[Variable]:
        """All state, in a fixed order: ``iteration``, ``learning_rate`` (unless it is a
        schedule or callable), then the slot variables created by ``build`` (Keras's order)."""
        return list(self._variables)

    @property
    def learning_rate(self) -> Any:
        """The current learning rate (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr(self._iterations)
        if isinstance(lr, Variable):
            return lr.value[()]
        return lr()

    @learning_rate.setter
    def learning_rate(self, learning_rate: LearningRate) -> None:
        if isinstance(learning_rate, LearningRateSchedule) or callable(learning_rate):
            if isinstance(self._learning_rate, Variable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = learning_rate
        elif not isinstance(self._learning_rate, Variable):
            raise TypeError(
                "This optimizer's learning rate is a schedule (or callable), so it is not "
                "settable to a number; create the optimizer with a float learning rate to be "
                "able to change it."
            )
        else:
            self._learning_rate.assign(learning_rate)

    def _track(self, variable: Variable) -> Variable:
        self._variables.append(variable)
        return variable

    def add_variable(
        self,
        shape: Sequence[int],
        initializer: str | float | Callable[..., Any] = "zeros",
        dtype: Any = "float32",
        name: str | None = None,
    ) -> Variable:
        """Create a non-trainable state Variable and add it to ``variables``."""
        shape = tuple(shape)
        if initializer == "zeros":
            value = np.zeros(shape, dtype=dtype)
        elif initializer == "ones":
            value = np.ones(shape, dtype=dtype)
        elif _is_number(initializer):
            value = np.full(shape, initializer, dtype=dtype)
        elif callable(initializer):
            value = np.asarray(initializer(shape, dtype=dtype), dtype=dtype)
        else:
            raise ValueError(f"Unknown initializer for an optimizer variable: {initializer!r}")
        return self._track(Variable(value, dtype=dtype, trainable=False, name=name or "variable"))

    def add_variable_from_reference(
        self, reference_variable: Variable, name: str | None = None, initializer: Any = "zeros"
    ) -> Variable:
        """A slot shaped and typed like ``reference_variable``, named like
        ``dense_kernel_velocity`` (the reference's path, then ``name``)."""
        prefix = str(getattr(reference_variable, "path", reference_variable.name))
        return self.add_variable(
            reference_variable.shape,
            initializer=initializer,
            dtype=reference_variable.dtype,
            name=prefix.replace("/", "_").replace(":", "_") + "_" + (name or "var"),
        )

    def add_optimizer_variables(
        self,
        trainable_variables: Sequence[Variable],
        name: str | Sequence[str],
        initializer: Any = "zeros",
    ) -> list[Variable] | tuple[list[Variable], ...]:
        """One slot per weight for each name; several names are interleaved per weight (Keras's
        order), and give a tuple of lists."""
        names = [name] if isinstance(name, str) else list(name)
        slots: tuple[list[Variable], ...] = tuple([] for _ in names)
        for variable in trainable_variables:
            for slot_list, slot_name in zip(slots, names):
                slot_list.append(self.add_variable_from_reference(variable, slot_name, initializer))
        return slots[0] if isinstance(name, str) else slots

    def build(self, var_list: Sequence[Variable]) -> None:
        """Remember the weights this optimizer updates; subclasses then create their slots."""
        self._trainable_variables = list(var_list)
        self._variable_index = {id(v): i for i, v in enumerate(var_list)}
        self.built = True

    def _get_variable_index(self, variable: Variable) -> int:
        return self._variable_index[id(variable)]

    def _scratch(self, like: np.ndarray, count: int = 1) -> list[np.ndarray]:
        """``count`` reusable temporary arrays shaped and typed like ``like``."""
        key = (like.shape, like.dtype.str)
        buffers = self._scratch_buffers.setdefault(key, [])
        while len(buffers) < count:
            buffers.append(np.empty_like(like))
        return buffers[:count]

    # --- applying gradients -------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> Variable:
        """Apply ``(gradient, variable)`` pairs; return ``iterations``."""
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs)
            self.apply(list(grads), list(variables))
        return self._iterations

    def apply(
        self, grads: Sequence[Any], trainable_variables: Sequence[Variable] | None = None
    ) -> None:
        """Update ``trainable_variables`` (or the variables given to ``build``) with ``grads``."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "apply(grads) without variables needs an optimizer that is already built: "
                    "call optimizer.build(trainable_variables) first, or pass the variables."
                )
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
            self._check_variables_are_known(variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"Received {len(grads)} gradients for {len(variables)} variables; "
                "they must match one-to-one."
            )
        grads, variables = self._prepare_gradients(grads, variables)
        grads = self._clip_gradients(grads)
        learning_rate = self.learning_rate
        self._apply_weight_decay(variables, learning_rate)
        self._apply_update_steps(grads, variables, learning_rate)
        count = self._iterations.value  # += 1 in Python: a NumPy add on a 0-d array costs 9x
        count[()] = count.item() + 1
        for variable in variables:
            constraint = getattr(variable, "constraint", None)
            if constraint is not None:
                kernels.finish_background()  # the constraint reads the updated value
                variable.assign(constraint(variable))

    def _check_variables_are_known(self, variables: Sequence[Variable]) -> None:
        for v in variables:
            if id(v) not in self._variable_index:
                raise ValueError(
                    f"Variable {getattr(v, 'name', v)!r} is not among those this optimizer was "
                    "built for; use a new optimizer for a new set of variables."
                )

    def _prepare_gradients(
        self, grads: list[Any], variables: list[Variable]
    ) -> tuple[list[np.ndarray], list[Variable]]:
        """Skip ``None`` gradients; check shapes; cast each gradient to its weight's dtype."""
        kept_grads, kept_vars, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(v.name)
                continue
            g = np.asarray(value_of(g))
            if g.shape != v.shape:
                raise ValueError(
                    f"Gradient for variable {v.name!r} has shape {g.shape}, "
                    f"but the variable has shape {v.shape}"
                )
            kept_grads.append(g.astype(v.dtype, copy=False))
            kept_vars.append(v)
        if not kept_grads:
            raise ValueError(
                "Every gradient is None, so no variable can be updated (does the loss depend "
                "on the trainable weights?)"
            )
        if missing:
            warnings.warn(
                f"No gradient for variable(s) {missing}: they are left unchanged this step.",
                stacklevel=3,
            )
        return kept_grads, kept_vars

    def _clip_gradients(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, g: np.ndarray) -> np.ndarray:
        """``g * clipnorm / max(norm(g), clipnorm)``: unchanged in direction, norm <= clipnorm."""
        squared = np.sum(np.square(g))
        norm = np.sqrt(squared) if squared > 0 else squared
        clipnorm = cast_scalar(self.clipnorm, g.dtype)
        return (g * clipnorm) / np.maximum(norm, clipnorm)

    def exclude_from_weight_decay(
        self, var_list: Sequence[Variable] | None = None, var_names: Sequence[str] | None = None
    ) -> None:
        """Exempt these variables, or those whose name contains one of ``var_names``, from
        weight decay. Call it before the optimizer is built."""
        if self.built:
            raise ValueError(
                "Call exclude_from_weight_decay() before the optimizer is built (before its "
                "first apply)."
            )
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable: Variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        return self._exclude_pattern is None or not self._exclude_pattern.search(variable.name)

    def _apply_weight_decay(self, variables: list[Variable], learning_rate: Any) -> None:
        """Decoupled weight decay (Loshchilov & Hutter): ``w -= w * weight_decay * lr``."""
        if self.weight_decay is None:
            return
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            w = variable.value
            decay = cast_scalar(self.weight_decay, w.dtype)
            lr = cast_scalar(learning_rate, w.dtype)
            if kernels.fused("weight_decay", (w,), (decay, lr)):
                continue
            (shrink,) = self._scratch(w)
            np.multiply(w, decay, out=shrink)
            np.multiply(shrink, lr, out=shrink)
            np.subtract(w, shrink, out=w)

    def _apply_update_steps(
        self, grads: list[np.ndarray], variables: list[Variable], learning_rate: Any
    ) -> None:
        for g, v in zip(grads, variables):
            self.update_step(g, v, learning_rate)

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: Any) -> None:
        """Change ``variable`` in place, given its ``gradient`` (an array of its dtype)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step`.")

    # --- Keras trainer hooks (no EMA and no loss scaling here, so both are trivial) -----------
    def scale_loss(self, loss: Any) -> Any:
        return loss

    def finalize_variable_values(self, var_list: Sequence[Variable]) -> None:
        return None

    # --- saving -------------------------------------------------------------------------------
    def save_own_variables(self, store: dict[str, Any]) -> None:
        """Write ``variables`` into ``store`` as ``{"0": array, "1": array, ...}``."""
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Restore what :meth:`save_own_variables` wrote. Build the optimizer first (e.g.
        ``optimizer.build(model.trainable_weights)``); as in Keras, a store with a different
        number of entries is skipped with a warning."""
        if len(store.keys()) != len(self._variables):
            message = (
                f"Not loading the state of optimizer '{self.name}': it has "
                f"{len(self._variables)} variables but the store holds {len(store.keys())}."
            )
            if not self.built:
                message += " Build it first, e.g. optimizer.build(model.trainable_weights)."
            warnings.warn(message, stacklevel=2)
            return
        self.set_weights([store[str(i)] for i in range(len(self._variables))])

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign ``weights`` (a list of arrays, in ``variables`` order)."""
        if not self.built:
            raise ValueError(
                "set_weights() needs a built optimizer: call "
                "optimizer.build(trainable_variables) first."
            )
        if len(weights) != len(self._variables):
            raise ValueError(
                f"Optimizer '{self.name}' has {len(self._variables)} variables, "
                f"but {len(weights)} weights were given."
            )
        weights = [np.asarray(w) for w in weights]
        for variable, weight in zip(self._variables, weights):  # check all before assigning any
            if weight.shape != variable.shape:
                raise ValueError(
                    f"Optimizer variable {variable.name!r} has shape {variable.shape}, but the "
                    f"weight given for it has shape {weight.shape}."
                )
        for variable, weight in zip(self._variables, weights):
            variable.assign(weight)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a dict (``from_config`` rebuilds an equal optimizer)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            learning_rate: Any = serialize_schedule(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.value)
        else:
            learning_rate = lr
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"], custom_objects)
        return cls(**config)


def global_norm(values: Sequence[np.ndarray]) -> np.generic:
    """The L2 norm of all ``values`` together, as if they were one long vector."""
    return np.sqrt(np.sum(np.stack([np.sum(np.square(v)) for v in values])))


def clip_by_global_norm(values: Sequence[np.ndarray], clip_norm: float) -> list[np.ndarray]:
    """Scale all ``values`` by ``clip_norm / max(global_norm, clip_norm)`` (Keras's formula;
    an infinite or NaN norm makes every value NaN)."""
    norm = global_norm(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = clip_norm * np.minimum(1.0 / norm, 1.0 / clip_norm) + (norm - norm)
    return [v * scale for v in values]


_KERAS_ONLY = (
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)


def _check_keras_only_arguments(kwargs: dict[str, Any]) -> None:
    """Accept Keras's other constructor arguments (as found in Keras configs) while they are
    switched off; refuse features numkeras does not have, and unknown names."""
    if kwargs.pop("decay", None) is not None:
        warnings.warn(
            "`decay` is ignored (Keras 3 dropped it); use a learning-rate schedule instead.",
            stacklevel=3,
        )
    unknown = {k: v for k, v in kwargs.items() if k not in _KERAS_ONLY}
    if unknown:
        raise ValueError(f"Unknown optimizer argument(s): {unknown}")
    for feature in ("use_ema", "loss_scale_factor", "gradient_accumulation_steps"):
        if kwargs.get(feature):
            raise NotImplementedError(
                f"numkeras optimizers do not support `{feature}` (received {kwargs[feature]!r})"
            )
