"""Each optimizer's trajectory against independently computed values.

Two independent oracles, both in float64 so that only the update *rule* can differ:

* a reference loop in this file, written from the formulas in Keras 3's documentation (in the
  textbook form ``m = beta_1 * m + (1 - beta_1) * g``, not the implementation's), and
* PyTorch's optimizers, wherever their rule agrees with Keras's (and, where it does not, a
  test that shows the difference is exactly the one documented, e.g. where epsilon goes).

The problem is a small quadratic bowl over two weights (a 3x2 kernel and a bias); each gradient
depends on the current weights, so a wrong step changes every later step too.
"""

from __future__ import annotations

import numpy as np
import pytest

from numkeras import optimizers
from numkeras.autodiff import Variable

STEPS = 6
_rng = np.random.default_rng(20240601)
_M = _rng.standard_normal((8, 8))
A = _M @ _M.T / 8 + 0.5 * np.eye(8)  # symmetric positive definite
B = _rng.standard_normal(8)
W0 = [_rng.standard_normal((3, 2)), _rng.standard_normal(2)]


def gradients(params: list[np.ndarray]) -> list[np.ndarray]:
    """Gradient of 0.5 x.A.x - B.x, x being the weights laid end to end."""
    x = np.concatenate([p.ravel() for p in params])
    g = A @ x - B
    return [g[:6].reshape(3, 2), g[6:]]


def run_numkeras(optimizer, steps: int = STEPS, dtype=np.float64) -> list[list[np.ndarray]]:
    variables = [Variable(w.astype(dtype), name=f"w{i}") for i, w in enumerate(W0)]
    trajectory = []
    for _ in range(steps):
        optimizer.apply(gradients([v.numpy() for v in variables]), variables)
        trajectory.append([v.numpy() for v in variables])
    return trajectory


def run_reference(step, steps: int = STEPS) -> list[list[np.ndarray]]:
    """``step(w, g, state, t)`` returns the new weight; ``state`` is a dict kept per weight."""
    params = [w.copy() for w in W0]
    states: list[dict] = [{} for _ in params]
    trajectory = []
    for t in range(1, steps + 1):
        grads = gradients(params)
        params = [step(w, g, s, t) for w, g, s in zip(params, grads, states)]
        trajectory.append([p.copy() for p in params])
    return trajectory


def run_torch(make_optimizer, steps: int = STEPS, before_step=None) -> list[list[np.ndarray]]:
    torch = pytest.importorskip("torch", reason="PyTorch is the second, independent oracle")
    # PyTorch keeps its step counter (and NAdam's mu_product) in float32 unless the default
    # dtype is float64.
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W0]
        optimizer = make_optimizer(params)
        trajectory = []
        for t in range(1, steps + 1):
            grads = gradients([p.detach().numpy() for p in params])
            for p, g in zip(params, grads):
                p.grad = torch.from_numpy(g.copy())
            if before_step is not None:
                before_step(optimizer, t)
            optimizer.step()
            trajectory.append([p.detach().numpy().copy() for p in params])
    finally:
        torch.set_default_dtype(default_dtype)
    return trajectory


def assert_same(actual, expected, rtol: float = 1e-12, atol: float = 1e-13) -> None:
    assert len(actual) == len(expected)
    for t, (a_params, e_params) in enumerate(zip(actual, expected), 1):
        for a, e in zip(a_params, e_params):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"after step {t}")
    # The weights really moved, so agreeing is not trivially true.
    assert np.abs(actual[-1][0] - W0[0]).max() > 1e-3


def torch_optim():
    return pytest.importorskip("torch", reason="PyTorch is the second, independent oracle").optim


# --- reference rules (Keras 3's documented formulas) ---------------------------------------------
def sgd_rule(lr, momentum=0.0, nesterov=False, weight_decay=None):
    def step(w, g, s, t):
        if weight_decay is not None:
            w = w - w * weight_decay * lr
        if momentum == 0:
            return w - lr * g
        s["v"] = momentum * s.get("v", 0.0) - lr * g
        if nesterov:
            return w + momentum * s["v"] - lr * g
        return w + s["v"]

    return step


def rmsprop_rule(lr, rho, eps, momentum=0.0, centered=False, eps_outside_sqrt=False):
    def step(w, g, s, t):
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g**2
        second_moment = s["v"]
        if centered:
            s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
            second_moment = s["v"] - s["a"] ** 2
        if eps_outside_sqrt:  # PyTorch's placement
            increment = lr * g / (np.sqrt(second_moment) + eps)
        else:  # Keras's placement
            increment = lr * g / np.sqrt(second_moment + eps)
        if momentum > 0:
            s["m"] = momentum * s.get("m", 0.0) + increment
            return w - s["m"]
        return w - increment

    return step


def adagrad_rule(lr, initial, eps):
    def step(w, g, s, t):
        s["acc"] = s.get("acc", np.full_like(w, initial)) + g**2
        return w - lr * g / np.sqrt(s["acc"] + eps)

    return step


def adam_rule(lr, b1, b2, eps, amsgrad=False, weight_decay=None):
    def step(w, g, s, t):
        if weight_decay is not None:
            w = w - w * weight_decay * lr
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g**2
        v = s["v"]
        if amsgrad:
            s["v_hat"] = np.maximum(s.get("v_hat", 0.0), s["v"])
            v = s["v_hat"]
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        return w - alpha * s["m"] / (np.sqrt(v) + eps)

    return step


def nadam_rule(lr, b1, b2, eps):
    def u(t):
        return b1 * (1 - 0.5 * 0.96**t)

    def step(w, g, s, t):
        s["u_product"] = s.get("u_product", 1.0) * u(t)
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g**2
        m_hat = u(t + 1) * s["m"] / (1 - s["u_product"] * u(t + 1)) + (1 - u(t)) * g / (
            1 - s["u_product"]
        )
        v_hat = s["v"] / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    return step


# --- SGD -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("momentum", "nesterov"),
    [(0.0, False), (0.75, False), (0.75, True)],
    ids=["plain", "momentum", "nesterov"],
)
def test_sgd_matches_reference_and_torch(momentum, nesterov):
    lr = 0.125  # exactly representable in float32 (Keras keeps the learning rate in float32)
    ours = run_numkeras(optimizers.SGD(lr, momentum=momentum, nesterov=nesterov))
    assert_same(ours, run_reference(sgd_rule(lr, momentum, nesterov)))
    theirs = run_torch(
        lambda p: torch_optim().SGD(p, lr=lr, momentum=momentum, nesterov=nesterov, foreach=False)
    )
    assert_same(ours, theirs)


def test_seed_momentum_loop_is_nesterov_not_plain_momentum():
    """The seed's loop, ``w = w + momentum * velocity - lr * g``, is SGD(nesterov=True)."""
    lr, momentum = 0.125, 0.5

    def seed_loop(w, g, s, t):
        velocity = momentum * s.get("past_velocity", 0.0) - lr * g
        w = w + momentum * velocity - lr * g
        s["past_velocity"] = velocity
        return w

    seed = run_reference(seed_loop)
    assert_same(run_numkeras(optimizers.SGD(lr, momentum=momentum, nesterov=True)), seed)
    plain = run_numkeras(optimizers.SGD(lr, momentum=momentum))
    assert not np.allclose(plain[-1][0], seed[-1][0])


def test_sgd_weight_decay_is_decoupled():
    lr, wd = 0.125, 0.25
    for momentum in (0.0, 0.5):
        ours = run_numkeras(optimizers.SGD(lr, momentum=momentum, weight_decay=wd))
        assert_same(ours, run_reference(sgd_rule(lr, momentum, weight_decay=wd)))
    # Without momentum, decoupled decay equals PyTorch's L2-style weight_decay.
    plain = run_numkeras(optimizers.SGD(lr, weight_decay=wd))
    assert_same(
        plain, run_torch(lambda p: torch_optim().SGD(p, lr=lr, weight_decay=wd, foreach=False))
    )


# --- RMSprop -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("momentum", "centered"),
    [(0.0, False), (0.5, False), (0.0, True), (0.5, True)],
    ids=["plain", "momentum", "centered", "centered-momentum"],
)
def test_rmsprop_matches_reference(momentum, centered):
    lr, rho, eps = 0.03125, 0.8, 1e-3
    ours = run_numkeras(
        optimizers.RMSprop(lr, rho=rho, momentum=momentum, epsilon=eps, centered=centered)
    )
    assert_same(ours, run_reference(rmsprop_rule(lr, rho, eps, momentum, centered)))


@pytest.mark.parametrize(
    ("momentum", "centered"),
    [(0.0, False), (0.5, False), (0.0, True)],
    ids=["plain", "momentum", "centered"],
)
def test_rmsprop_equals_torch_when_epsilon_is_zero(momentum, centered):
    lr, rho = 0.03125, 0.8
    ours = run_numkeras(
        optimizers.RMSprop(lr, rho=rho, momentum=momentum, epsilon=0.0, centered=centered)
    )
    theirs = run_torch(
        lambda p: torch_optim().RMSprop(
            p, lr=lr, alpha=rho, eps=0.0, momentum=momentum, centered=centered, foreach=False
        )
    )
    assert_same(ours, theirs)


def test_rmsprop_differs_from_torch_only_by_epsilon_placement():
    lr, rho, eps = 0.03125, 0.8, 1e-2
    ours = run_numkeras(optimizers.RMSprop(lr, rho=rho, epsilon=eps))
    theirs = run_torch(lambda p: torch_optim().RMSprop(p, lr=lr, alpha=rho, eps=eps, foreach=False))
    assert_same(ours, run_reference(rmsprop_rule(lr, rho, eps)))
    assert_same(theirs, run_reference(rmsprop_rule(lr, rho, eps, eps_outside_sqrt=True)))
    assert np.abs(ours[-1][0] - theirs[-1][0]).max() > 1e-6


def test_rmsprop_keras_docstring_example():
    """Keras's example: RMSprop(0.1) on loss var**2 / 2 from var = 10 gives 9.683772 (float32).

    By hand: velocity = 0.1 * 10**2 = 10; step = 0.1 * 10 / sqrt(10 + 1e-7) = 0.3162278.
    """
    var = Variable(10.0)
    optimizers.RMSprop(learning_rate=0.1).apply([var.numpy()], [var])
    assert var.dtype == np.float32
    assert float(var.numpy()) == pytest.approx(9.683772, abs=1e-6)


# --- Adagrad -------------------------------------------------------------------------------------
def test_adagrad_matches_reference():
    lr, initial, eps = 0.25, 0.1, 1e-3
    ours = run_numkeras(optimizers.Adagrad(lr, initial_accumulator_value=initial, epsilon=eps))
    assert_same(ours, run_reference(adagrad_rule(lr, initial, eps)))


def test_adagrad_equals_torch_when_epsilon_is_zero():
    # torch.optim.Adagrad adds eps outside the square root; with eps=0 the rules agree.
    lr, initial = 0.25, 0.1
    ours = run_numkeras(optimizers.Adagrad(lr, initial_accumulator_value=initial, epsilon=0.0))
    theirs = run_torch(
        lambda p: torch_optim().Adagrad(
            p, lr=lr, initial_accumulator_value=initial, eps=0.0, foreach=False
        )
    )
    assert_same(ours, theirs)


# --- Adam / AdamW --------------------------------------------------------------------------------
@pytest.mark.parametrize("amsgrad", [False, True], ids=["adam", "amsgrad"])
def test_adam_matches_reference(amsgrad):
    lr, b1, b2, eps = 0.0625, 0.8, 0.9, 1e-3
    ours = run_numkeras(optimizers.Adam(lr, beta_1=b1, beta_2=b2, epsilon=eps, amsgrad=amsgrad))
    assert_same(ours, run_reference(adam_rule(lr, b1, b2, eps, amsgrad)))


@pytest.mark.parametrize("amsgrad", [False, True], ids=["adam", "amsgrad"])
def test_adam_equals_torch_when_epsilon_is_zero(amsgrad):
    lr, b1, b2 = 0.0625, 0.8, 0.9
    ours = run_numkeras(optimizers.Adam(lr, beta_1=b1, beta_2=b2, epsilon=0.0, amsgrad=amsgrad))
    theirs = run_torch(
        lambda p: torch_optim().Adam(
            p, lr=lr, betas=(b1, b2), eps=0.0, amsgrad=amsgrad, foreach=False
        )
    )
    assert_same(ours, theirs)


def test_adam_epsilon_is_torch_epsilon_times_sqrt_of_bias_correction():
    """Keras's epsilon is not bias-corrected: it equals PyTorch's eps * sqrt(1 - beta_2**t)."""
    lr, b1, b2, eps = 0.0625, 0.8, 0.9, 1e-2
    ours = run_numkeras(optimizers.Adam(lr, beta_1=b1, beta_2=b2, epsilon=eps))

    def set_torch_eps(optimizer, t):
        optimizer.param_groups[0]["eps"] = eps / np.sqrt(1 - b2**t)

    make = lambda p: torch_optim().Adam(p, lr=lr, betas=(b1, b2), eps=eps, foreach=False)  # noqa: E731
    assert_same(ours, run_torch(make, before_step=set_torch_eps))
    assert np.abs(ours[-1][0] - run_torch(make)[-1][0]).max() > 1e-6


def test_adamw_matches_reference_and_torch():
    lr, b1, b2, wd = 0.0625, 0.8, 0.9, 0.5
    ours = run_numkeras(optimizers.AdamW(lr, weight_decay=wd, beta_1=b1, beta_2=b2, epsilon=1e-3))
    assert_same(ours, run_reference(adam_rule(lr, b1, b2, 1e-3, weight_decay=wd)))
    ours0 = run_numkeras(optimizers.AdamW(lr, weight_decay=wd, beta_1=b1, beta_2=b2, epsilon=0.0))
    theirs = run_torch(
        lambda p: torch_optim().AdamW(
            p, lr=lr, betas=(b1, b2), eps=0.0, weight_decay=wd, foreach=False
        )
    )
    assert_same(ours0, theirs)
    plain_adam = run_numkeras(optimizers.Adam(lr, beta_1=b1, beta_2=b2, epsilon=0.0))
    assert np.abs(ours0[-1][0] - plain_adam[-1][0]).max() > 1e-4


def test_adamw_requires_weight_decay_and_defaults_to_0_004():
    assert optimizers.AdamW().weight_decay == 0.004
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


# --- Nadam ---------------------------------------------------------------------------------------
def test_nadam_matches_reference_and_torch():
    lr, b1, b2, eps = 0.0625, 0.8, 0.9, 1e-3
    ours = run_numkeras(optimizers.Nadam(lr, beta_1=b1, beta_2=b2, epsilon=eps))
    assert_same(ours, run_reference(nadam_rule(lr, b1, b2, eps)))
    # PyTorch's NAdam uses 0.96 ** (t * momentum_decay); Keras 3's schedule is momentum_decay=1.
    theirs = run_torch(
        lambda p: torch_optim().NAdam(
            p, lr=lr, betas=(b1, b2), eps=eps, momentum_decay=1.0, foreach=False
        )
    )
    assert_same(ours, theirs)


# --- float32 and defaults ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda: optimizers.SGD(0.125, momentum=0.5), sgd_rule(0.125, 0.5)),
        (lambda: optimizers.RMSprop(0.03125), rmsprop_rule(0.03125, 0.9, 1e-7)),
        (lambda: optimizers.Adagrad(0.25), adagrad_rule(0.25, 0.1, 1e-7)),
        (lambda: optimizers.Adam(0.0625), adam_rule(0.0625, 0.9, 0.999, 1e-7)),
        (lambda: optimizers.Nadam(0.0625), nadam_rule(0.0625, 0.9, 0.999, 1e-7)),
    ],
    ids=["sgd", "rmsprop", "adagrad", "adam", "nadam"],
)
def test_float32_weights_stay_float32_and_follow_the_rule(make, rule):
    optimizer = make()
    ours = run_numkeras(optimizer, dtype=np.float32)
    for params in ours:
        assert all(p.dtype == np.float32 for p in params)
    slots = [v for v in optimizer.variables if v.name not in ("iteration", "learning_rate")]
    assert slots and all(v.dtype == np.float32 for v in slots)
    # float32 rounding of beta_2 = 0.999 alone moves 1 - beta_2**t by ~1e-5 (relative).
    assert_same(ours, run_reference(rule), rtol=1e-5, atol=1e-5)


def test_default_learning_rate_is_stored_in_float32_as_keras_does():
    """Keras keeps a float learning rate in a float32 variable, so a float64 weight is updated
    with float64(float32(0.01)), not 0.01 -- and get_config reports that value."""
    optimizer = optimizers.SGD()
    assert optimizer.learning_rate == np.float32(0.01)
    assert optimizer.get_config()["learning_rate"] == float(np.float32(0.01))
    w = Variable(np.array([1.0]), dtype="float64")
    optimizer.apply([np.array([1.0])], [w])
    assert w.numpy()[0] == 1.0 - float(np.float32(0.01))


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (optimizers.SGD, {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
        (
            optimizers.RMSprop,
            {
                "learning_rate": 0.001,
                "rho": 0.9,
                "momentum": 0.0,
                "epsilon": 1e-7,
                "centered": False,
            },
        ),
        (
            optimizers.Adagrad,
            {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
        ),
        (
            optimizers.Adam,
            {
                "learning_rate": 0.001,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-7,
                "amsgrad": False,
            },
        ),
        (
            optimizers.AdamW,
            {
                "learning_rate": 0.001,
                "weight_decay": 0.004,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-7,
            },
        ),
        (
            optimizers.Nadam,
            {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        ),
    ],
)
def test_keras_defaults(cls, expected):
    config = cls().get_config()
    for key, value in expected.items():
        if key == "learning_rate":
            assert config[key] == float(np.float32(value))
        else:
            assert config[key] == value, key
