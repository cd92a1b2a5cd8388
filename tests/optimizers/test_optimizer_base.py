"""What every optimizer shares (Keras 3's base-class behaviour): clipping, weight decay,
``iterations``, the learning-rate property, ``None`` gradients, shape checks, ``variables``
and saving them, configs and ``optimizers.get``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from numkeras import ops, optimizers
from numkeras.autodiff import GradientTape, Tensor, Variable
from numkeras.optimizers import schedules


def make_variables(dtype="float64"):
    return [
        Variable(np.array([[1.0, -2.0], [3.0, 0.5]]), dtype=dtype, name="kernel"),
        Variable(np.array([0.25, -0.75]), dtype=dtype, name="bias"),
    ]


GRADS = [np.array([[3.0, -4.0], [0.0, 12.0]]), np.array([-1.5, 2.0])]  # norms 13 and 2.5


# --- clipping --------------------------------------------------------------------------------
def sgd_moved(clip: dict, grads=GRADS) -> list[np.ndarray]:
    """The (negated, divided by lr) step SGD takes: exactly the gradient it used."""
    variables = make_variables()
    before = [v.numpy() for v in variables]
    optimizers.SGD(learning_rate=1.0, **clip).apply(grads, variables)
    return [b - v.numpy() for b, v in zip(before, variables)]


def test_clipnorm_clips_each_gradient_to_that_norm():
    used = sgd_moved({"clipnorm": 5.0})
    np.testing.assert_allclose(used[0], GRADS[0] * 5.0 / 13.0, rtol=1e-12)
    np.testing.assert_allclose(used[1], GRADS[1], rtol=1e-12)  # norm 2.5 < 5: unchanged


def test_global_clipnorm_scales_all_gradients_together():
    global_norm = np.sqrt(13.0**2 + 2.5**2)
    used = sgd_moved({"global_clipnorm": 5.0})
    for u, g in zip(used, GRADS):
        np.testing.assert_allclose(u, g * 5.0 / global_norm, rtol=1e-12)
    unclipped = sgd_moved({"global_clipnorm": 100.0})
    for u, g in zip(unclipped, GRADS):
        np.testing.assert_allclose(u, g, rtol=1e-12)


def test_clipvalue_clips_each_element():
    used = sgd_moved({"clipvalue": 2.0})
    np.testing.assert_array_equal(used[0], [[2.0, -2.0], [0.0, 2.0]])
    np.testing.assert_array_equal(used[1], [-1.5, 2.0])


def test_only_one_clipping_option_allowed():
    with pytest.raises(ValueError, match="at most one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_clipping_happens_before_weight_decay_and_update():
    """Weight decay uses the weight, not the (clipped) gradient: w - w*wd*lr - lr*clip(g)."""
    lr, wd = 0.5, 0.25
    variables = make_variables()
    w0 = [v.numpy() for v in variables]
    optimizers.SGD(lr, weight_decay=wd, clipvalue=1.0).apply(GRADS, variables)
    for v, w, g in zip(variables, w0, GRADS):
        np.testing.assert_allclose(v.numpy(), w - w * wd * lr - lr * np.clip(g, -1, 1), rtol=1e-12)


def test_exclude_from_weight_decay_by_name_and_by_variable():
    lr, wd = 0.5, 0.25
    zero = [np.zeros((2, 2)), np.zeros(2)]
    for exclude in ({"var_names": ["bias"]}, "bias-variable"):
        variables = make_variables()
        w0 = [v.numpy() for v in variables]
        optimizer = optimizers.SGD(lr, weight_decay=wd)
        if exclude == "bias-variable":
            optimizer.exclude_from_weight_decay(var_list=[variables[1]])
        else:
            optimizer.exclude_from_weight_decay(**exclude)
        optimizer.apply(zero, variables)
        np.testing.assert_allclose(variables[0].numpy(), w0[0] * (1 - wd * lr), rtol=1e-12)
        np.testing.assert_array_equal(variables[1].numpy(), w0[1])


# --- iterations and the learning rate ----------------------------------------------------------
def test_iterations_is_an_int64_counter_incremented_per_apply():
    optimizer = optimizers.Adam()
    variables = make_variables()
    assert isinstance(optimizer.iterations, Variable)
    assert optimizer.iterations.dtype == np.int64 and not optimizer.iterations.trainable
    assert int(optimizer.iterations) == 0
    for _ in range(3):
        optimizer.apply(GRADS, variables)
    assert int(optimizer.iterations) == 3
    returned = optimizer.apply_gradients(zip(GRADS, variables))
    assert returned is optimizer.iterations and int(returned) == 4


def test_learning_rate_can_be_set():
    optimizer = optimizers.SGD(learning_rate=0.5)
    assert optimizer.learning_rate == np.float32(0.5)
    w = Variable(np.array([1.0]))
    optimizer.apply([np.array([1.0])], [w])
    assert w.numpy()[0] == 0.5
    optimizer.learning_rate = 0.25
    assert optimizer.learning_rate == np.float32(0.25)
    optimizer.apply([np.array([1.0])], [w])
    assert w.numpy()[0] == 0.25


def test_learning_rate_can_become_a_schedule_but_a_schedule_cannot_become_a_number():
    optimizer = optimizers.SGD(learning_rate=0.5)
    optimizer.learning_rate = schedules.ExponentialDecay(0.5, decay_steps=1, decay_rate=0.5)
    assert [v.name for v in optimizer.variables] == ["iteration"]
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.1


def test_callable_learning_rate_is_called_each_step():
    rates = iter([0.5, 0.25])
    optimizer = optimizers.SGD(learning_rate=lambda: next(rates))
    w = Variable(np.array([1.0]))
    optimizer.apply([np.array([1.0])], [w])
    optimizer.apply([np.array([1.0])], [w])
    assert w.numpy()[0] == 1.0 - 0.5 - 0.25


def test_learning_rate_must_be_a_number_schedule_or_callable():
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate="fast")


def test_unknown_argument_is_an_error():
    with pytest.raises(ValueError, match="Unknown optimizer argument"):
        optimizers.Adam(beta1=0.9)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)


# --- gradients ---------------------------------------------------------------------------------
def test_none_gradients_are_skipped_with_a_warning():
    variables = make_variables()
    bias_before = variables[1].numpy()
    optimizer = optimizers.SGD(0.5, momentum=0.5)
    with pytest.warns(UserWarning, match="bias"):
        optimizer.apply_gradients([(GRADS[0], variables[0]), (None, variables[1])])
    np.testing.assert_array_equal(variables[1].numpy(), bias_before)
    assert not np.array_equal(variables[0].numpy(), make_variables()[0].numpy())
    assert int(optimizer.iterations) == 1
    with pytest.raises(ValueError, match="Every gradient is None"):
        optimizer.apply([None, None], variables)


def test_gradient_shape_mismatch_names_variable_and_both_shapes():
    variables = make_variables()
    optimizer = optimizers.RMSprop()
    with pytest.raises(ValueError, match=r"'bias'.*\(3,\).*\(2,\)"):
        optimizer.apply([GRADS[0], np.ones(3)], variables)
    # Nothing changed: the check comes before any update.
    np.testing.assert_array_equal(variables[0].numpy(), make_variables()[0].numpy())
    assert int(optimizer.iterations) == 0


def test_unknown_variable_and_count_mismatch_are_errors():
    variables = make_variables()
    optimizer = optimizers.SGD()
    optimizer.apply(GRADS, variables)
    with pytest.raises(ValueError, match="not among those"):
        optimizer.apply([GRADS[1]], [Variable(np.zeros(2), name="stranger")])
    with pytest.raises(ValueError, match="2 variables"):
        optimizer.apply([GRADS[0]], variables)


def test_apply_without_variables_needs_build_first():
    optimizer = optimizers.SGD(0.5)
    with pytest.raises(ValueError, match="built"):
        optimizer.apply(GRADS)
    variables = make_variables()
    optimizer.build(variables)
    optimizer.apply(GRADS)
    np.testing.assert_allclose(variables[1].numpy(), [0.25 + 0.75, -0.75 - 1.0])


def test_gradients_from_a_tape_as_tensors_and_dtype_casting():
    w = Variable(np.array([1.0, 2.0], dtype=np.float32), name="w")
    with GradientTape() as tape:
        loss = ops.sum(ops.multiply(w, w))
    (grad,) = tape.gradient(loss, [w])
    assert isinstance(grad, Tensor)
    optimizers.SGD(0.25).apply([grad], [w])
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.0])
    # A float64 gradient for a float32 weight is cast to float32, as Keras does.
    optimizers.SGD(0.25).apply([np.array([1.0, 1.0])], [w])
    assert w.dtype == np.float32


def test_integer_or_non_contiguous_gradient_is_fine():
    w = Variable(np.zeros((2, 3)), name="w")
    g = np.arange(12.0).reshape(3, 4)[:2, :3]  # a non-contiguous view
    optimizers.SGD(1.0).apply([g], [w])
    np.testing.assert_array_equal(w.numpy(), -g)
    optimizers.SGD(1.0).apply([[[1, 1, 1], [1, 1, 1]]], [w])  # a nested list of ints
    np.testing.assert_array_equal(w.numpy(), -g - 1)


# --- variables, saving and restoring --------------------------------------------------------------
@pytest.mark.parametrize(
    ("optimizer", "names"),
    [
        (optimizers.SGD(), ["iteration", "learning_rate"]),
        (
            optimizers.SGD(momentum=0.5),
            ["iteration", "learning_rate", "kernel_momentum", "bias_momentum"],
        ),
        (
            optimizers.RMSprop(momentum=0.5, centered=True),
            [
                "iteration",
                "learning_rate",
                "kernel_velocity",
                "bias_velocity",
                "kernel_momentum",
                "bias_momentum",
                "kernel_average_gradient",
                "bias_average_gradient",
            ],
        ),
        (
            optimizers.Adagrad(),
            ["iteration", "learning_rate", "kernel_accumulator", "bias_accumulator"],
        ),
        (
            optimizers.Adam(amsgrad=True),
            [
                "iteration",
                "learning_rate",
                "kernel_momentum",
                "kernel_velocity",
                "bias_momentum",
                "bias_velocity",
                "kernel_velocity_hat",
                "bias_velocity_hat",
            ],
        ),
        (
            optimizers.Nadam(),
            [
                "iteration",
                "learning_rate",
                "kernel_momentum",
                "kernel_velocity",
                "bias_momentum",
                "bias_velocity",
                "u_product",
            ],
        ),
    ],
    ids=["sgd", "sgd-momentum", "rmsprop", "adagrad", "adam-amsgrad", "nadam"],
)
def test_variables_are_created_lazily_in_keras_order(optimizer, names):
    assert [v.name for v in optimizer.variables] == ["iteration", "learning_rate"]
    variables = make_variables()
    optimizer.apply(GRADS, variables)
    assert [v.name for v in optimizer.variables] == names
    assert all(not v.trainable for v in optimizer.variables)


def test_adagrad_accumulator_starts_at_initial_value():
    optimizer = optimizers.Adagrad(initial_accumulator_value=0.3)
    optimizer.build(make_variables())
    np.testing.assert_array_equal(optimizer.variables[2].numpy(), np.full((2, 2), 0.3))


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.SGD(0.125, momentum=0.5, nesterov=True),
        lambda: optimizers.RMSprop(0.0625, momentum=0.5, centered=True),
        lambda: optimizers.Adagrad(0.25),
        lambda: optimizers.Adam(0.0625, amsgrad=True),
        lambda: optimizers.AdamW(0.0625),
        lambda: optimizers.Nadam(0.0625),
    ],
    ids=["sgd", "rmsprop", "adagrad", "adam", "adamw", "nadam"],
)
def test_saved_variables_restore_training_exactly(make):
    rng = np.random.default_rng(0)
    grads = [[rng.standard_normal(g.shape) for g in GRADS] for _ in range(5)]
    variables = make_variables()
    original = make()
    for g in grads[:3]:
        original.apply(g, variables)
    store: dict = {}
    original.save_own_variables(store)
    saved_weights = [v.numpy() for v in variables]

    restored_vars = [Variable(w, name=v.name) for w, v in zip(saved_weights, variables)]
    restored = make()
    restored.build(restored_vars)
    restored.load_own_variables(store)
    assert int(restored.iterations) == 3
    for g in grads[3:]:
        original.apply(g, variables)
        restored.apply(g, restored_vars)
    for a, b in zip(variables, restored_vars):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_set_weights_and_mismatched_store():
    optimizer = optimizers.Adam()
    with pytest.raises(ValueError, match="needs a built optimizer"):
        optimizer.set_weights([np.array(0)])
    optimizer.build(make_variables())
    weights = [v.numpy() for v in optimizer.variables]
    weights[0] = np.array(7)
    optimizer.set_weights(weights)
    assert int(optimizer.iterations) == 7
    with pytest.raises(ValueError, match="shape"):
        optimizer.set_weights([np.array(0), np.array(0.1)] + [np.zeros(5)] * 4)
    with pytest.warns(UserWarning, match="Not loading the state"):
        optimizer.load_own_variables({"0": np.array(1)})
    assert int(optimizer.iterations) == 7


# --- configs and get -----------------------------------------------------------------------------
ALL = [
    optimizers.SGD(0.5, momentum=0.25, nesterov=True, clipnorm=2.0, name="my_sgd"),
    optimizers.RMSprop(0.25, rho=0.8, momentum=0.5, epsilon=1e-3, centered=True, clipvalue=1.0),
    optimizers.Adagrad(0.5, initial_accumulator_value=0.2, epsilon=1e-4, weight_decay=0.01),
    optimizers.Adam(
        0.125, beta_1=0.8, beta_2=0.99, epsilon=1e-5, amsgrad=True, global_clipnorm=3.0
    ),
    optimizers.AdamW(0.125, weight_decay=0.1, beta_1=0.7),
    optimizers.Nadam(0.125, beta_1=0.85, beta_2=0.95, epsilon=1e-6),
    optimizers.SGD(schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)),
]


@pytest.mark.parametrize("optimizer", ALL, ids=lambda o: type(o).__name__)
def test_get_config_round_trip(optimizer):
    config = optimizer.get_config()
    json.dumps(config)  # JSON-ready
    clone = type(optimizer).from_config(config)
    assert type(clone) is type(optimizer)
    assert clone.get_config() == config
    again = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(optimizer))))
    assert type(again) is type(optimizer) and again.get_config() == config


def test_config_accepts_keras_only_arguments_while_switched_off():
    config = {
        **optimizers.Adam().get_config(),
        "use_ema": False,
        "ema_momentum": 0.99,
        "ema_overwrite_frequency": None,
        "loss_scale_factor": None,
        "gradient_accumulation_steps": None,
    }
    assert isinstance(optimizers.Adam.from_config(config), optimizers.Adam)
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.Adam(use_ema=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizers.Adam(decay=0.1)
    assert any("decay" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sgd", optimizers.SGD),
        ("SGD", optimizers.SGD),
        ("rmsprop", optimizers.RMSprop),
        ("RMSprop", optimizers.RMSprop),
        ("adagrad", optimizers.Adagrad),
        ("Adam", optimizers.Adam),
        ("ADAM", optimizers.Adam),
        ("adamw", optimizers.AdamW),
        ("nadam", optimizers.Nadam),
    ],
)
def test_get_by_name_is_case_insensitive(name, cls):
    optimizer = optimizers.get(name)
    assert type(optimizer) is cls
    assert optimizer.get_config() == cls().get_config()


def test_get_instance_dict_none_and_errors():
    rmsprop = optimizers.RMSprop()
    assert optimizers.get(rmsprop) is rmsprop
    assert optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}})
    assert isinstance(from_dict, optimizers.Adam) and from_dict.learning_rate == 0.5
    with pytest.raises(
        ValueError, match=r"'adamax'.*'adagrad', 'adam', 'adamw', 'nadam', 'rmsprop', 'sgd'"
    ):
        optimizers.get("adamax")
    with pytest.raises(ValueError, match="Cannot make an optimizer"):
        optimizers.get(42)


def test_default_names_follow_keras():
    names = [
        o().name
        for o in (
            optimizers.SGD,
            optimizers.RMSprop,
            optimizers.Adagrad,
            optimizers.Adam,
            optimizers.AdamW,
            optimizers.Nadam,
        )
    ]
    assert names == ["SGD", "rmsprop", "adagrad", "adam", "adamw", "nadam"]


def test_cast_scalar_remembers_casts_without_mixing_up_values():
    from numkeras.optimizers.optimizer import _casts, cast_scalar

    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    first = cast_scalar(0.1, f32)
    assert type(first) is np.float32 and first == np.float32(0.1)
    assert cast_scalar(0.1, f32) is first  # remembered
    assert type(cast_scalar(0.1, f64)) is np.float64 and cast_scalar(0.1, f64) == 0.1
    assert np.signbit(cast_scalar(-0.0, f32)) and not np.signbit(cast_scalar(0.0, f32))
    assert cast_scalar(3, f32) == 3 and type(cast_scalar(3, f32)) is np.float32
    assert cast_scalar(np.float64(0.1), f32) == np.float32(0.1)
    # arrays cannot be remembered (unhashable), tensors are never mistaken for numbers
    assert type(cast_scalar(np.array(0.25), f32)) is np.float32
    assert cast_scalar(np.array(0.25), f32) == 0.25
    assert cast_scalar(Variable(0.5), f32) == 0.5 and cast_scalar(Variable(0.75), f32) == 0.75
    for _ in range(3000):  # NaNs never equal each other: the memory stays bounded
        assert np.isnan(cast_scalar(float("nan"), f32))
    assert len(_casts) <= 1025
