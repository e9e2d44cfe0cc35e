import numpy as np
import pytest

from ce_lib import known_form as cc
from ce_lib import gym_tasks as gt


def test_library_linearization_matches_the_hand_derivation():
    exact = cc.cartpole_linearization()
    A, B = _true_cartpole_linearization()
    np.testing.assert_allclose(exact.A, A, rtol=1e-12)
    np.testing.assert_allclose(exact.B, B, rtol=1e-12)


def _true_cartpole_linearization():
    """CartPole's Euler step linearized at upright, from gymnasium's constants (a golden answer)."""
    g, mc, mp, l, f, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    mt = mc + mp
    # theta_acc = (g sin th - cos th * temp) / (l (4/3 - mp cos^2 th / mt)), temp = (F + mp l thd^2 sin th) / mt
    denom = l * (4.0 / 3.0 - mp / mt)
    a_th = g / denom  # d theta_acc / d theta
    b_th = -(f / mt) / denom  # per unit push u = +-1
    a_x = -mp * l * a_th / mt  # x_acc = temp - mp l theta_acc cos th / mt
    b_x = f / mt - mp * l * b_th / mt
    A = np.eye(4)
    A[0, 1] = A[2, 3] = tau
    A[1, 2], A[3, 2] = tau * a_x, tau * a_th
    B = np.array([[0.0], [tau * b_x], [0.0], [tau * b_th]])
    return A, B


def _small_angle_transitions(n, scale=1e-4, seed=0):
    """Transitions of gymnasium's CartPole from states very close to upright."""
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    X, a = rng.normal(scale=scale, size=(n, 4)), rng.integers(0, 2, n)
    Xn = []
    for x, ai in zip(X, a):
        env.unwrapped.state = x.copy()
        Xn.append(env.step(int(ai))[0])
    return X, a, np.array(Xn, dtype=float)


@pytest.mark.parametrize("model", cc.CARTPOLE_MODELS)
def test_cartpole_fit_recovers_the_linearization(model):
    fit = cc.fit_cartpole(*_small_angle_transitions(200, scale=1e-2), model)
    A, B = _true_cartpole_linearization()
    np.testing.assert_allclose(fit.A, A, rtol=1e-2, atol=1e-3)  # float32 observations limit the accuracy
    np.testing.assert_allclose(fit.B, B, rtol=1e-2, atol=1e-3)


def test_cartpole_fit_on_random_episodes_is_close():
    # Random episodes tilt the pole up to ~0.2 rad, where sin and the centripetal term bend the
    # dynamics: least squares finds the best linear fit over the data, not the tangent.
    obs, act, nxt, _ = gt.random_transitions("CartPole-v1", 400, seed=0)
    A, B = _true_cartpole_linearization()
    for model in cc.CARTPOLE_MODELS:
        fit = cc.fit_cartpole(obs, act, nxt, model)
        np.testing.assert_allclose(fit.A, A, rtol=0.15, atol=2e-3)
        np.testing.assert_allclose(fit.B, B, rtol=0.03, atol=1e-3)


def test_structured_model_is_exact_on_noise_free_linear_data():
    A, B = _true_cartpole_linearization()
    rng = np.random.default_rng(1)
    X = rng.normal(scale=0.05, size=(3, 4))
    a = np.array([0, 1, 1])
    Xn = X @ A.T + (2 * a - 1)[:, None] * B.T
    fit = cc.fit_cartpole(X, a, Xn, "structured")
    np.testing.assert_allclose(fit.A, A, atol=1e-12)
    np.testing.assert_allclose(fit.B, B, atol=1e-12)


def test_cartpole_controller_balances_with_the_true_linearization():
    A, B = _true_cartpole_linearization()
    policy = cc.cartpole_controller(cc.CartPoleModel(A, B, np.zeros(4)))
    assert gt.evaluate(policy, "CartPole-v1", seed=3) == 500.0


def test_cartpole_trials_structured_beats_generic_with_few_transitions():
    assert cc.cartpole_trial(3, seed=0, model="structured") == 500.0
    assert cc.cartpole_trial(3, seed=0, model="generic") < 500.0  # 24 unknowns, 3 transitions: useless
    assert cc.cartpole_controller(cc.CartPoleModel(np.eye(4), np.zeros((4, 1)), np.zeros(4))) is None


def test_pendulum_fit_recovers_the_constants():
    obs, act, nxt, rew = gt.random_transitions("Pendulum-v1", 3, seed=0)
    fit = cc.fit_pendulum(obs, act, nxt, rew)
    g, m, l, dt = 10.0, 1.0, 1.0, 0.05  # Pendulum-v1's defaults
    assert fit.a == pytest.approx(3 * g / (2 * l) * dt, rel=1e-6)
    assert fit.b == pytest.approx(3 / (m * l ** 2) * dt, rel=1e-6)
    assert fit.tau == pytest.approx(dt, rel=1e-6)
    np.testing.assert_allclose(fit.w, [1.0, 0.1, 0.001], rtol=1e-5, atol=1e-8)


def test_pendulum_planner_swings_up():
    obs, act, nxt, rew = gt.random_transitions("Pendulum-v1", 5, seed=0)
    planner = cc.plan_pendulum(cc.fit_pendulum(obs, act, nxt, rew))
    # Value iteration's fixed point: V = max_u r + gamma V(next) at every grid point (to the tolerance).
    model = planner.model
    TH, VV, U = np.meshgrid(planner.th_grid, planner.v_grid, np.linspace(-2, 2, 9), indexing="ij")
    backup = (cc._reward(model, TH, VV, U) + planner.gamma * planner.value(*cc._pendulum_step(model, TH, VV, U)))
    np.testing.assert_allclose(backup.max(axis=2), planner.values, atol=1e-3)
    assert planner.values.max() <= 0
    score = gt.evaluate(planner, "Pendulum-v1", seed=0)
    assert score > gt.TASK_TARGETS["Pendulum-v1"].target
    hanging = np.array([[-1.0, 0.0, 0.0]])  # at rest at the bottom: it must push
    assert abs(float(planner(hanging)[0, 0])) > 0


def test_sweep_shapes_and_nesting():
    scores = cc.sweep("CartPole-v1", [0, 1], "structured", sizes=(2, 50), n_jobs=1)
    assert scores.shape == (2, 2)
    assert np.all(scores == 500.0)


def test_bad_input():
    with pytest.raises(ValueError, match="model"):
        cc.fit_cartpole(np.zeros((3, 4)), np.zeros(3, dtype=int), np.zeros((3, 4)), "quadratic")
    with pytest.raises(ValueError, match="actions"):
        cc.fit_cartpole(np.zeros((3, 4)), np.array([0, 2, 1]), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="obs"):
        cc.fit_cartpole(np.zeros((3, 3)), np.zeros(3, dtype=int), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="obs"):
        cc.fit_pendulum(np.zeros((3, 4)), np.zeros(3), np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="gamma"):
        cc.plan_pendulum(cc.PendulumModel(1.0, 1.0, 0.05, np.ones(3)), gamma=1.0)
    with pytest.raises(ValueError, match="seeds"):
        cc.sweep("CartPole-v1", [])
    with pytest.raises(TypeError, match="seeds"):
        cc.sweep("CartPole-v1", 2)  # a count, not the seeds
