"""numkeras.activations against NumPy formulas written here and PyTorch's autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numkeras import activations, layers
from numkeras.autodiff import GradientTape, value_of

X = np.array([[-3.0, -1.5, -0.25, 0.0, 0.4, 1.0, 2.5, 7.0]], dtype=np.float32)


def arr(x) -> np.ndarray:
    return np.asarray(value_of(x))


def np_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


REFERENCES = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": np_softmax,
    "linear": lambda z: z,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_by_name_matches_numpy(name):
    fn = activations.get(name)
    z = X.astype(np.float64)
    np.testing.assert_allclose(arr(fn(X)), REFERENCES[name](z), rtol=1e-6, atol=1e-7)


def test_none_is_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear
    np.testing.assert_array_equal(arr(activations.get(None)(X)), X)

    def custom(x):
        return x

    assert activations.get(custom) is custom


def test_softmax_rows_sum_to_one_and_survive_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    p = arr(activations.softmax(z))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[1], np_softmax(z[1].astype(np.float64)), rtol=1e-6)
    # axis=0: columns sum to one
    np.testing.assert_allclose(arr(activations.softmax(z, axis=0)).sum(axis=0), 1.0, rtol=1e-6)


def keras_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's documented formula: max_value for x >= max_value, x for threshold <= x <
    max_value, negative_slope * (x - threshold) otherwise."""
    x = np.asarray(x, dtype=np.float64)
    out = np.where(x >= threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        out = np.where(x >= max_value, max_value, out)
    return out


@pytest.mark.parametrize(
    "kwargs",
    [
        {"negative_slope": 0.1},
        {"max_value": 2.0},
        {"max_value": 6.0},
        {"threshold": 0.7},
        {"negative_slope": 0.3, "max_value": 2.0, "threshold": 0.5},
        {"negative_slope": 0.2, "threshold": 1.2},
    ],
)
def test_relu_generalised_form_matches_keras_formula(kwargs):
    # Points stay off the threshold itself, where the documented formula and Keras's code
    # disagree (the code gives 0 there).
    x = np.linspace(-4.05, 8.05, 81).astype(np.float32)
    x = x[np.abs(x - kwargs.get("threshold", 0.0)) > 1e-3]
    np.testing.assert_allclose(arr(activations.relu(x, **kwargs)), keras_relu(x, **kwargs),
                               rtol=1e-6, atol=1e-6)


def test_relu_gradient_matches_torch():
    x = np.array([-2.0, -0.5, 0.3, 1.5, 3.0], dtype=np.float64)
    with GradientTape() as tape:
        tape.watch(x)
        out = activations.relu(x, negative_slope=0.25, max_value=2.0)
    grad = arr(tape.gradient(out, x))
    xt = torch.tensor(x, requires_grad=True)
    torch.clamp(torch.nn.functional.leaky_relu(xt, 0.25), max=2.0).sum().backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-12)


def test_relu_argument_validation():
    with pytest.raises(ValueError, match="negative_slope"):
        activations.relu(X, negative_slope=-1.0)
    with pytest.raises(ValueError, match="max_value"):
        activations.relu(X, max_value=-1.0)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError) as info:
        activations.get("rellu")
    message = str(info.value)
    assert "'rellu'" in message
    for name in ("relu", "softmax", "sigmoid", "tanh", "linear"):
        assert name in message


def test_serialize_round_trip_and_non_builtin_error():
    for name in ("relu", "softmax", "sigmoid", "tanh", "linear"):
        assert activations.serialize(activations.get(name)) == name
    with pytest.raises(ValueError, match="serialize"):
        activations.serialize(lambda x: x)


def test_activation_layer_applies_named_function():
    layer = layers.Activation("tanh")
    np.testing.assert_allclose(arr(layer(X)), np.tanh(X.astype(np.float64)), rtol=1e-6)
    assert layer.get_config()["activation"] == "tanh"
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.Activation("nope")
