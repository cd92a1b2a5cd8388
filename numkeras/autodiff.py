"""Reverse-mode automatic differentiation: the seed's "chain rule makes backpropagation easy".

Three pieces, and nothing else:

* ``Tensor`` -- the result of an op: a NumPy array plus nothing. It has no graph of its own.
* ``Variable`` -- trainable state (a layer's kernel, an optimizer's slot) that ops can read.
* ``GradientTape`` -- while open, it records every op whose inputs it watches, as the pair
  (inputs -> output, vector-Jacobian product). ``tape.gradient`` then walks that record
  backwards, once, applying the chain rule: each op's VJP turns the gradient of its output
  into gradients of its inputs, and gradients of a value used twice are added.

Every op lives in ``numkeras.ops`` and defines its forward computation and its VJP side by
side; it hands both to :func:`record`. Gradients are un-broadcast in exactly one place
(:func:`unbroadcast`), here, so no op has to care about broadcasting in its VJP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

# A VJP receives the gradient of the op's output and, for each input, whether its gradient
# is wanted; it returns one gradient (or None) per input. Unwanted gradients are never computed.
VJP = Callable[[np.ndarray, tuple], Sequence[Any]]

_active_tapes: list[GradientTape] = []


def _floatx_asarray(x: Any, dtype: Any = None) -> np.ndarray:
    """Convert lists and scalars to an array; Python floats become float32 as in Keras."""
    array = np.asarray(x, dtype=dtype)
    if dtype is None and array.dtype == np.float64 and not isinstance(x, np.ndarray | np.generic):
        array = array.astype(np.float32)
    return array


class Tensor:
    """An immutable n-dimensional value produced by an op (``numkeras.ops``).

    It behaves like a NumPy array for reading (``shape``, ``dtype``, indexing, ``np.asarray``)
    and like a Keras tensor for math: ``a + b``, ``a @ b`` and NumPy ufuncs such as
    ``np.exp(a)`` go through ``numkeras.ops``, so an open :class:`GradientTape` sees them.
    """

    __slots__ = ("value",)
    __array_priority__ = 100

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    # --- reading --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def T(self) -> Tensor:  # noqa: N802 -- NumPy's name
        from numkeras import ops

        return ops.transpose(self)

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a copy, so changing it cannot change the tensor)."""
        return np.array(self.value)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and dtype != self.value.dtype:
            return self.value.astype(dtype)
        value = np.asarray(self.value)
        return value.copy() if copy else value

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return self.value.__index__()

    def __bool__(self) -> bool:
        return bool(self.value)

    def __format__(self, spec: str) -> str:
        if self.value.ndim == 0:
            return format(self.value.item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"<Tensor shape={self.shape} dtype={self.dtype}>\n{self.value!r}"

    def __str__(self) -> str:
        return str(self.value)

    def __getitem__(self, key: Any) -> Tensor:
        from numkeras import ops

        return ops.getitem(self, key)

    # --- math goes through ops, so tapes see it -----------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops().add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops().add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops().subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops().subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops().multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops().multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops().divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops().divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops().power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops().power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops().matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops().matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops().negative(self)

    def __abs__(self) -> Tensor:
        return _ops().abs(self)

    def __lt__(self, other: Any) -> Tensor:
        return _ops().less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops().less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops().greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops().greater_equal(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops().equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops().not_equal(self, other)

    __hash__ = object.__hash__

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Route NumPy ufuncs (``np.exp(t)``, ``array + t``) through ``numkeras.ops``."""
        op = _UFUNC_TO_OP.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if op is not None:
            return getattr(_ops(), op)(*inputs)
        arrays = [np.asarray(x) if isinstance(x, Tensor | Variable) else x for x in inputs]
        return getattr(ufunc, method)(*arrays, **kwargs)


_UFUNC_TO_OP = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "true_divide": "divide",
    "divide": "divide", "power": "power", "matmul": "matmul", "negative": "negative",
    "exp": "exp", "log": "log", "sqrt": "sqrt", "square": "square", "absolute": "abs",
    "tanh": "tanh", "maximum": "maximum", "minimum": "minimum", "less": "less",
    "less_equal": "less_equal", "greater": "greater", "greater_equal": "greater_equal",
    "equal": "equal", "not_equal": "not_equal",
}


def _ops():  # numkeras.ops imports this module; import it lazily the other way round.
    from numkeras import ops

    return ops


class Variable(Tensor):
    """Trainable (or not) state that keeps its identity while its value changes.

    A layer's kernel is a Variable: ops read its current value, ``GradientTape`` watches it
    automatically when ``trainable``, and an optimizer changes it with ``assign_sub``.
    The assign methods write into the existing array, in place, so a value read by an op
    earlier inside a still-open tape must not be reassigned before ``tape.gradient``.
    """

    __slots__ = ("trainable", "name", "__weakref__")

    def __init__(
        self,
        initializer: Any,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
        trainable: bool = True,
        name: str | None = None,
    ) -> None:
        if callable(initializer):
            if shape is None:
                raise ValueError("Variable: `shape` is required when `initializer` is callable")
            value = np.asarray(initializer(tuple(shape), dtype=dtype or "float32"))
        else:
            value = _floatx_asarray(initializer, dtype)
            if shape is not None and tuple(shape) != value.shape:
                raise ValueError(
                    f"Variable {name!r}: initial value has shape {value.shape}, "
                    f"but shape={tuple(shape)} was given"
                )
        if dtype is not None:
            value = value.astype(dtype, copy=False)
        super().__init__(np.array(value, copy=True))
        self.trainable = trainable
        self.name = name or "variable"

    @property
    def path(self) -> str:
        return self.name

    def assign(self, value: Any) -> Variable:
        """Set the value (same shape; cast to this variable's dtype)."""
        new = np.asarray(value.value if isinstance(value, Tensor) else value)
        if new.shape != self.value.shape:
            raise ValueError(
                f"Variable {self.name!r}: cannot assign a value of shape {new.shape} "
                f"to a variable of shape {self.value.shape}"
            )
        np.copyto(self.value, new, casting="unsafe")
        return self

    def assign_add(self, delta: Any) -> Variable:
        """``self += delta``, in place."""
        np.add(self.value, self._delta(delta, "assign_add"), out=self.value, casting="unsafe")
        return self

    def assign_sub(self, delta: Any) -> Variable:
        """``self -= delta``, in place (the seed's update step: move against the gradient)."""
        np.subtract(self.value, self._delta(delta, "assign_sub"), out=self.value,
                    casting="unsafe")
        return self

    def _delta(self, delta: Any, method: str) -> np.ndarray | int | float:
        """``delta`` as an array, if it broadcasts to this variable's shape (as in Keras)."""
        if isinstance(delta, int | float):  # a Python number broadcasts to any shape
            return delta
        d = np.asarray(delta.value if isinstance(delta, Tensor) else delta)
        if d.shape != self.value.shape:
            try:
                fits = np.broadcast_shapes(d.shape, self.value.shape) == self.value.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(
                    f"Variable {self.name!r}: {method} got a value of shape {d.shape}, which "
                    f"does not broadcast to the variable's shape {self.value.shape}"
                )
        return d

    def __repr__(self) -> str:
        return f"<Variable name={self.name} shape={self.shape} dtype={self.dtype}>\n{self.value!r}"


def value_of(x: Any) -> Any:
    """The NumPy value behind an op input: a Tensor's array, an array, or a Python scalar."""
    if isinstance(x, Tensor):
        return x.value
    if isinstance(x, np.ndarray | int | float | bool | np.generic):
        return x
    return _floatx_asarray(x)


def record(value: np.ndarray, inputs: tuple, vjp: VJP) -> Tensor:
    """Wrap an op's result, and let every open tape that watches one of ``inputs`` record it.

    This is the only place the graph is built. With no tape open it costs one check.
    """
    out = Tensor(value)
    for tape in _active_tapes:
        if tape._recording and tape._watches_any(inputs):
            tape._watched[id(out)] = out
            tape._records.append((out, inputs, vjp, tuple(map(id, inputs))))
    return out


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``.

    Broadcasting (the seed's two steps) repeats a small operand; by the chain rule each copy
    contributes to the gradient, so the repeats are summed back. The one place this happens.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = np.add.reduce(grad, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = np.add.reduce(grad, axis=stretched, keepdims=True)
    if grad.shape != shape:  # a VJP bug: never reshape it away silently
        raise ValueError(f"a gradient of shape {grad.shape} cannot be summed to shape {shape}")
    return grad


def _shape_of(x: Any) -> tuple[int, ...]:
    value = x.value if isinstance(x, Tensor) else x
    return value.shape if isinstance(value, np.ndarray) else np.shape(value)


class GradientTape:
    """Record ops on watched values, then compute gradients by the chain rule.

    As in TensorFlow: trainable Variables read inside the ``with`` block are watched
    automatically (``watch_accessed_variables=True``), other values with ``tape.watch(x)``;
    ``gradient(target, sources)`` differentiates the sum of ``target`` (or its product with
    ``output_gradients``), gives ``None`` for a source the target does not depend on, and
    may be called once (any number of times with ``persistent=True``), also after the block.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._watched: dict[int, Any] = {}
        # (output, inputs, vjp, ids of the inputs), in recording order
        self._records: list[tuple[Tensor, tuple, VJP, tuple[int, ...]]] = []
        self._recording = False
        self._used = False

    def __enter__(self) -> GradientTape:
        self._recording = True
        _active_tapes.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._recording = False
        _active_tapes.remove(self)

    @contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Ops run inside this block are not recorded."""
        previous, self._recording = self._recording, False
        try:
            yield
        finally:
            self._recording = previous

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self._watched.clear()
        self._records.clear()
        self._used = False

    def watch(self, value: Any) -> None:
        """Watch a Tensor, Variable or NumPy array (or a list of them) from now on."""
        if isinstance(value, list | tuple):
            for v in value:
                self.watch(v)
            return
        if not isinstance(value, Tensor | np.ndarray):
            raise TypeError(
                f"GradientTape.watch: expected a Tensor, Variable or NumPy array, "
                f"got {type(value).__name__}"
            )
        self._watched[id(value)] = value

    def watched_variables(self) -> list[Variable]:
        return [v for v in self._watched.values() if isinstance(v, Variable)]

    def _watches_any(self, inputs: tuple) -> bool:
        hit = False
        for x in inputs:
            if id(x) in self._watched:
                hit = True
            elif self.watch_accessed_variables and isinstance(x, Variable) and x.trainable:
                self._watched[id(x)] = x
                hit = True
        return hit

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: str = "none",
    ) -> Any:
        """d(sum of target)/d(source) for each source, shaped and typed like the source."""
        if self._used and not self.persistent:
            raise RuntimeError(
                "GradientTape.gradient can only be called once on a non-persistent tape; "
                "create the tape with GradientTape(persistent=True) to call it again"
            )
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                f"unconnected_gradients must be 'none' or 'zero', got {unconnected_gradients!r}"
            )
        for outer in _active_tapes:
            if outer is not self and outer._recording and id(target) in outer._watched:
                raise NotImplementedError(
                    "higher-order gradients are not supported: tape.gradient was called while "
                    "an outer GradientTape is recording the same computation; compute the "
                    "first-order gradient outside the outer tape"
                )
        flat, rebuild = _flatten(sources)
        grads = self._backward(target, flat, output_gradients)
        if not self.persistent:
            self._used = True
            self._records = []
            self._watched = {}
        results = []
        for source in flat:
            g = grads.get(id(source))
            value = value_of(source)
            dtype = value.dtype if isinstance(value, np.ndarray) else np.result_type(value)
            if g is None:
                if unconnected_gradients == "zero":
                    g = Tensor(np.zeros(_shape_of(source), dtype=dtype))
            else:
                g = Tensor(np.asarray(g).astype(dtype, copy=False))
            results.append(g)
        return rebuild(results)

    def _backward(self, target: Any, sources: list, output_gradients: Any) -> dict[int, Any]:
        """The chain rule, walked iteratively in reverse recording order (a topological order)."""
        # A source the tape never watched (nor produced) has no gradient, as in TensorFlow.
        source_ids = {id(s) for s in sources if id(s) in self._watched}
        # Forward sweep: keep only records that lie on a path from a source.
        on_path = set(source_ids)
        relevant = []
        for record_ in self._records:
            if not on_path.isdisjoint(record_[3]):
                on_path.add(id(record_[0]))
                relevant.append(record_)
        if id(target) not in on_path:
            return {}
        target_value = np.asarray(value_of(target))
        if output_gradients is None:  # (for a loss, np.array(1) costs a third of np.ones)
            shape, dtype = target_value.shape, target_value.dtype
            seed = np.ones(shape, dtype) if shape else np.array(1, dtype)
        else:
            seed = np.asarray(value_of(output_gradients), dtype=target_value.dtype)
            if seed.shape != target_value.shape:
                raise ValueError(
                    f"output_gradients has shape {seed.shape}, but the target has shape "
                    f"{target_value.shape}"
                )
        grads: dict[int, Any] = {id(target): seed}
        is_on_path = on_path.__contains__
        for out, inputs, vjp, input_ids in reversed(relevant):
            key = id(out)
            g = grads.get(key) if key in source_ids else grads.pop(key, None)
            if g is None:
                continue
            wanted = tuple(map(is_on_path, input_ids))
            for x, k, want, gx in zip(inputs, input_ids, wanted, vjp(g, wanted)):
                if not want or gx is None:
                    continue
                if type(gx) is not np.ndarray:
                    gx = np.asarray(gx)
                shape = _shape_of(x)
                if gx.shape != shape:
                    gx = unbroadcast(gx, shape)
                grads[k] = grads[k] + gx if k in grads else gx
        return grads


def _flatten(sources: Any) -> tuple[list, Callable[[list], Any]]:
    """Flatten a source, a list/tuple of sources, or a dict of them; return how to rebuild."""
    if isinstance(sources, dict):
        keys = list(sources)
        return [sources[k] for k in keys], lambda r: dict(zip(keys, r))
    if isinstance(sources, list | tuple):
        kind = type(sources)
        return list(sources), lambda r: kind(r) if kind in (list, tuple) else list(r)
    return [sources], lambda r: r[0]
