"""Certainty equivalence told the model's form, on gymnasium's classic-control tasks (chapter: PPO,
:ref:`ch-ppo`).

The PPO chapter puts PPO and a certainty-equivalent controller on the same two tasks:

* **CartPole-v1.** Collect a handful of transitions with random actions, fit a linear model of the
  cart and pole around upright by least squares, compute the LQR gain of the fitted model
  (:func:`ce_lib.lqr.lqr_gain`) and push the cart by the sign of :math:`-Kx`. Two models are
  offered: a *generic* one (every next state an affine function of state and action, 24
  unknowns) and a *structured* one that knows positions integrate velocities (5 unknowns).
* **Pendulum-v1.** Swinging the pendulum up needs a nonlinear model. We know the form of the
  equations (gravity acts through :math:`\\sin\\theta`, the torque is linear, the state is
  integrated with a fixed step, the cost is quadratic) but not the constants: least squares finds
  them from a few random transitions, and value iteration on a grid plans on the fitted model.

Both controllers act on observations exactly as a policy network would, so
:func:`ce_lib.gym_tasks.evaluate` scores them, and PPO's policies, with the same seeded episodes.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from .experiments import Seed, check_positive_int, check_real, check_seeds, parallel_map, seed_int
from .gym_tasks import evaluate, random_transitions

__all__ = [
    "CARTPOLE_MODELS", "CARTPOLE_Q", "CARTPOLE_R", "CartPoleModel", "fit_cartpole", "cartpole_linearization",
    "cartpole_controller", "cartpole_trial", "MAX_SPEED", "MAX_TORQUE", "PendulumModel", "fit_pendulum",
    "PendulumPlanner", "plan_pendulum", "pendulum_trial", "SIZES", "sweep",
]

CARTPOLE_MODELS = ("generic", "structured")
"""The two least-squares models of CartPole offered by :func:`fit_cartpole`."""


# ----------------------------------------------------------------------------------------------
# CartPole: a linear model around upright, an LQR gain, bang-bang control.
# ----------------------------------------------------------------------------------------------

class CartPoleModel(NamedTuple):
    """A fitted linear model :math:`x_{t+1} = A x_t + B u_t + c` of CartPole, with :math:`u = \\pm 1`."""

    A: np.ndarray  # (4, 4) state matrix; state = (cart position, cart velocity, angle, angular velocity)
    B: np.ndarray  # (4, 1) effect of pushing right (u = +1) rather than left (u = -1)
    c: np.ndarray  # (4,) constant drift (zero for the structured model)


def fit_cartpole(obs, actions, next_obs, model: str = "generic") -> CartPoleModel:
    r"""Least-squares linear model of CartPole from transitions.

    Parameters
    ----------
    obs, next_obs : array_like, shape (n, 4)
    actions : array_like, shape (n,)
        CartPole's actions 0 (push left) and 1 (push right), mapped to :math:`u = 2a - 1`.
    model : {"generic", "structured"}
        ``"generic"``: regress each next-state coordinate on :math:`(x, u, 1)`, 6 unknowns per
        coordinate. ``"structured"``: use what a physicist knows, that positions integrate
        velocities with one unknown time step :math:`\tau` and that, near upright, the two
        accelerations are linear in the angle and the push:

        .. math::

            p_{t+1} - p_t = \tau\,\dot p_t, \qquad
            \dot p_{t+1} - \dot p_t = a_1 \theta_t + b_1 u_t, \qquad
            \dot\theta_{t+1} - \dot\theta_t = a_2 \theta_t + b_2 u_t

        for both positions :math:`p \in \{x, \theta\}`: 5 unknowns in all.

    With fewer transitions than unknowns the least-squares problem has many solutions and the
    minimum-norm one is returned (it may well be useless: that is part of the experiment).

    Returns
    -------
    CartPoleModel
    """
    X = np.asarray(obs, dtype=float)
    Xn = np.asarray(next_obs, dtype=float)
    a = np.asarray(actions)
    if X.ndim != 2 or X.shape[1] != 4 or Xn.shape != X.shape:
        raise ValueError(f"obs and next_obs must both have shape (n, 4), got {X.shape} and {Xn.shape}")
    if a.shape != (X.shape[0],) or not np.all(np.isin(a, (0, 1))):
        raise ValueError(f"actions must be a vector of n = {X.shape[0]} CartPole actions in {{0, 1}}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Xn))):
        raise ValueError("obs and next_obs must be finite")
    u = 2.0 * a - 1.0
    if model == "generic":
        Z = np.column_stack([X, u, np.ones(len(u))])
        W = np.linalg.lstsq(Z, Xn, rcond=None)[0].T  # (4, 6)
        return CartPoleModel(W[:, :4], W[:, 4:5], W[:, 5])
    if model != "structured":
        raise ValueError(f"model must be one of {CARTPOLE_MODELS}, got {model!r}")
    # tau from both position rows at once: [dx; dtheta] = tau [xdot; thetadot].
    vel = np.concatenate([X[:, 1], X[:, 3]])
    dpos = np.concatenate([Xn[:, 0] - X[:, 0], Xn[:, 2] - X[:, 2]])
    tau = float(vel @ dpos / (vel @ vel)) if vel @ vel > 0 else 0.0
    Z = np.column_stack([X[:, 2], u])
    coef = np.linalg.lstsq(Z, Xn[:, [1, 3]] - X[:, [1, 3]], rcond=None)[0]  # (2, 2): rows theta, u
    A = np.eye(4)
    A[0, 1] = A[2, 3] = tau
    A[1, 2], A[3, 2] = coef[0]
    B = np.array([[0.0], [coef[1, 0]], [0.0], [coef[1, 1]]])
    return CartPoleModel(A, B, np.zeros(4))


def cartpole_linearization() -> CartPoleModel:
    r"""The exact linearization at upright of gymnasium's CartPole-v1 Euler step, from its constants.

    With total mass :math:`m_t = m_c + m_p`, pole half-length :math:`l`, force :math:`f` and step
    :math:`\tau`, gymnasium's equations give at :math:`\theta = \dot\theta = 0`

    .. math::

        \ddot\theta \approx \frac{g\,\theta - f u / m_t}{l\,(4/3 - m_p/m_t)}, \qquad
        \ddot x \approx \frac{f u}{m_t} - \frac{m_p l}{m_t}\,\ddot\theta .

    Used as the reference the fitted models are compared with; the controllers never see it.
    """
    import gymnasium as gym

    env = gym.make("CartPole-v1").unwrapped
    g, mc, mp, l, f, tau = env.gravity, env.masscart, env.masspole, env.length, env.force_mag, env.tau
    env.close()
    mt = mc + mp
    denom = l * (4.0 / 3.0 - mp / mt)
    a_th, b_th = g / denom, -(f / mt) / denom
    a_x, b_x = -mp * l * a_th / mt, f / mt - mp * l * b_th / mt
    A = np.eye(4)
    A[0, 1] = A[2, 3] = tau
    A[1, 2], A[3, 2] = tau * a_x, tau * a_th
    B = np.array([[0.0], [tau * b_x], [0.0], [tau * b_th]])
    return CartPoleModel(A, B, np.zeros(4))


CARTPOLE_Q = np.diag([1.0, 1.0, 10.0, 1.0])  # cost on (position, velocity, angle, angular velocity)
CARTPOLE_R = np.array([[1.0]])


def cartpole_controller(fitted: CartPoleModel, Q=CARTPOLE_Q, R=CARTPOLE_R) -> Callable[[np.ndarray], np.ndarray] | None:
    r"""The certainty-equivalent policy: LQR gain of the fitted model, push by the sign of :math:`-Kx`.

    Returns a policy for :func:`ce_lib.gym_tasks.run_episodes` (batch of observations to actions 0/1), or ``None``
    when the fitted model admits no LQR gain (not stabilizable, or the Riccati iteration fails);
    the caller counts that as a failure.

    Examples
    --------
    >>> from ce_lib.known_form import cartpole_controller, cartpole_trial, fit_cartpole
    >>> from ce_lib.gym_tasks import random_transitions
    >>> obs, actions, next_obs, rewards = random_transitions('CartPole-v1', 300, seed=0)
    >>> policy = cartpole_controller(fit_cartpole(obs, actions, next_obs))
    >>> policy([[0.0, 0.0, 0.05, 0.0]])  # pole leaning right: push right (action 1)
    array([1])
    >>> cartpole_trial(300, seed=0)  # the whole pipeline, scored: 500 means balanced in every episode
    500.0
    """
    from .lqr import lqr_gain

    if not isinstance(fitted, CartPoleModel):
        raise TypeError(f"fitted must be a CartPoleModel, got {type(fitted).__name__}")
    for name, M, n in (("Q", Q, 4), ("R", R, 1)):  # the cost is the caller's: a wrong one is an error, not "no gain"
        M = np.asarray(M, dtype=float) if not isinstance(M, str) else M
        if not isinstance(M, np.ndarray) or M.shape != (n, n) or not np.all(np.isfinite(M)) or not np.allclose(M, M.T):
            raise ValueError(f"{name} must be a finite symmetric {n}x{n} matrix, got {getattr(M, 'shape', M)!r}")
        floor = -1e-10 * max(1.0, float(np.abs(M).max())) if name == "Q" else 1e-12  # Q may be singular, R not
        if np.linalg.eigvalsh(M).min() < floor:
            raise ValueError(f"{name} must be positive {'semi-' if name == 'Q' else ''}definite")
    try:
        with np.errstate(all="ignore"):
            K = lqr_gain(fitted.A, fitted.B, Q, R)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not np.all(np.isfinite(K)):
        return None

    def policy(obs: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(obs) @ -K[0] > 0).astype(np.int64)

    policy.gain = K  # type: ignore[attr-defined]
    return policy


def cartpole_trial(n_transitions: int, seed: Seed, model: str = "generic") -> float:
    """Score (:func:`ce_lib.gym_tasks.evaluate`) of the CE controller fitted on ``n_transitions`` random transitions
    drawn with seed ``seed``; 500 means it balanced in every evaluation episode."""
    seed = seed_int(seed)  # one number for the data and the evaluation episodes
    obs, act, nxt, _ = random_transitions("CartPole-v1", n_transitions, seed)
    return evaluate(cartpole_controller(fit_cartpole(obs, act, nxt, model)), "CartPole-v1", seed)


# ----------------------------------------------------------------------------------------------
# Pendulum: known features, unknown constants; value iteration on a grid.
# ----------------------------------------------------------------------------------------------

MAX_SPEED, MAX_TORQUE = 8.0, 2.0  # Pendulum-v1's limits, part of the known form of the equations


class PendulumModel(NamedTuple):
    r"""Fitted constants of :math:`\dot\theta' = \dot\theta + a\sin\theta + b u` (clipped to the
    speed limit), :math:`\theta' = \theta + \tau\dot\theta'` and cost :math:`w_1\theta^2 + w_2\dot\theta^2 + w_3 u^2`."""

    a: float  # gravity term, 3 g tau / (2 l) in the true system
    b: float  # torque gain, 3 tau / (m l^2)
    tau: float  # integration step
    w: np.ndarray  # (3,) cost weights on angle^2, speed^2, torque^2


def _angle(obs):
    return np.arctan2(obs[:, 1], obs[:, 0])


def _wrap(theta):
    return (theta + np.pi) % (2 * np.pi) - np.pi


def fit_pendulum(obs, actions, next_obs, rewards) -> PendulumModel:
    r"""Least squares for the pendulum's constants from transitions (observations
    :math:`(\cos\theta, \sin\theta, \dot\theta)`, torques, rewards).

    Three small regressions: :math:`\dot\theta' - \dot\theta` on :math:`(\sin\theta, u)` over the
    transitions that did not hit the speed limit; :math:`\theta' - \theta` on :math:`\dot\theta'`;
    and the cost :math:`-r` on :math:`(\theta^2, \dot\theta^2, u^2)`. Three transitions identify
    everything when they are generic and noise-free.
    """
    X = np.asarray(obs, dtype=float)
    Xn = np.asarray(next_obs, dtype=float)
    u = np.clip(np.asarray(actions, dtype=float).reshape(-1), -MAX_TORQUE, MAX_TORQUE)
    r = np.asarray(rewards, dtype=float).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 3 or Xn.shape != X.shape:
        raise ValueError(f"obs and next_obs must both have shape (n, 3), got {X.shape} and {Xn.shape}")
    if u.shape != (X.shape[0],) or r.shape != (X.shape[0],):
        raise ValueError(f"actions and rewards must hold one number per transition ({X.shape[0]})")
    if not all(np.all(np.isfinite(a)) for a in (X, Xn, u, r)):
        raise ValueError("obs, actions, next_obs and rewards must be finite")
    th, thd, thd2 = _angle(X), X[:, 2], Xn[:, 2]
    free = np.abs(thd2) < MAX_SPEED - 1e-6
    if free.sum() < 1:
        raise ValueError("obs: every transition hit the speed limit; nothing to fit the dynamics on")
    a, b = np.linalg.lstsq(np.column_stack([np.sin(th[free]), u[free]]), (thd2 - thd)[free], rcond=None)[0]
    dth = _wrap(_angle(Xn) - th)
    tau = float(thd2 @ dth / (thd2 @ thd2)) if thd2 @ thd2 > 0 else 0.0
    w = np.linalg.lstsq(np.column_stack([_wrap(th) ** 2, thd ** 2, u ** 2]), -r, rcond=None)[0]
    return PendulumModel(float(a), float(b), tau, w)


def _pendulum_step(model: PendulumModel, th, thd, u):
    thd2 = np.clip(thd + model.a * np.sin(th) + model.b * u, -MAX_SPEED, MAX_SPEED)
    return _wrap(th + model.tau * thd2), thd2


class PendulumPlanner:
    """Value function of a fitted pendulum model on a grid, and the greedy policy it defines.

    Built by :func:`plan_pendulum`; calling it on a batch of observations returns torques.
    """

    def __init__(self, model: PendulumModel, values: np.ndarray, th_grid: np.ndarray, v_grid: np.ndarray,
                 gamma: float, torques: np.ndarray):
        self.model, self.values, self.gamma = model, values, gamma
        self.th_grid, self.v_grid, self.torques = th_grid, v_grid, torques

    def value(self, th, thd):
        """Bilinear interpolation of the grid values (periodic in the angle)."""
        return _interp(self.values, _stencil(self.th_grid, self.v_grid, th, thd))

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Torques (shape ``(n, 1)``) maximizing fitted reward plus discounted fitted value."""
        obs = np.atleast_2d(obs)
        th, thd = _angle(obs)[:, None], obs[:, 2][:, None]
        u = self.torques[None, :]
        q = _reward(self.model, th, thd, u) + self.gamma * self.value(*_pendulum_step(self.model, th, thd, u))
        return self.torques[np.argmax(q, axis=1)][:, None]


def _reward(model, th, thd, u):
    return -(model.w[0] * _wrap(th) ** 2 + model.w[1] * thd ** 2 + model.w[2] * u ** 2)


def _stencil(th_grid, v_grid, th, thd):
    """Corners and weights of bilinear interpolation on the (periodic angle, clipped speed) grid."""
    n_th, n_v = th_grid.size, v_grid.size
    fi = (_wrap(th) - th_grid[0]) / (th_grid[1] - th_grid[0])
    i0 = np.floor(fi).astype(int)
    wi = fi - i0
    fj = np.clip((thd - v_grid[0]) / (v_grid[1] - v_grid[0]), 0, n_v - 1 - 1e-9)
    j0 = np.floor(fj).astype(int)
    i0 %= n_th
    return i0, (i0 + 1) % n_th, j0, wi, fj - j0


def _interp(V, stencil):
    i0, i1, j0, wi, wj = stencil
    return ((1 - wi) * ((1 - wj) * V[i0, j0] + wj * V[i0, j0 + 1])
            + wi * ((1 - wj) * V[i1, j0] + wj * V[i1, j0 + 1]))


def plan_pendulum(model: PendulumModel, *, n_grid: int = 81, n_torques: int = 9, gamma: float = 0.98,
                  tol: float = 1e-4, max_iter: int = 2000) -> PendulumPlanner:
    r"""Value iteration for a fitted pendulum model on an ``n_grid`` x ``n_grid`` grid of
    (angle, speed), with bilinear interpolation between grid points (a semi-Lagrangian scheme):

    .. math:: V(s) \leftarrow \max_u \; \hat r(s, u) + \gamma\, V(\hat f(s, u)).

    The fitted model replaces the true one everywhere: this is certainty equivalence.

    Examples
    --------
    >>> from ce_lib.known_form import fit_pendulum, pendulum_trial, plan_pendulum
    >>> from ce_lib.gym_tasks import random_transitions
    >>> obs, actions, next_obs, rewards = random_transitions('Pendulum-v1', 300, seed=0)
    >>> planner = plan_pendulum(fit_pendulum(obs, actions, next_obs, rewards), n_grid=31)
    >>> round(float(pendulum_trial(300, seed=0)), 1)  # the whole pipeline, scored: mean return of 10 swing-ups
    -110.8
    """
    if not isinstance(model, PendulumModel):
        raise TypeError(f"model must be a PendulumModel, got {type(model).__name__}")
    n_grid = check_positive_int(n_grid, "n_grid", minimum=3)
    n_torques = check_positive_int(n_torques, "n_torques", minimum=2)
    gamma = check_real(gamma, "gamma", low=0.0, high=1.0, low_open=True, high_open=True)
    tol = check_real(tol, "tol", low=0.0, low_open=True)
    max_iter = check_positive_int(max_iter, "max_iter")
    th_grid = np.linspace(-np.pi, np.pi, n_grid, endpoint=False)
    v_grid = np.linspace(-MAX_SPEED, MAX_SPEED, n_grid)
    torques = np.linspace(-MAX_TORQUE, MAX_TORQUE, n_torques)
    TH, VV, U = np.meshgrid(th_grid, v_grid, torques, indexing="ij")
    R = _reward(model, TH, VV, U)
    th2, v2 = _pendulum_step(model, TH, VV, U)
    stencil = _stencil(th_grid, v_grid, th2, v2)  # computed once: the grid and the model are fixed
    V = np.zeros((n_grid, n_grid))
    for _ in range(max_iter):
        V_new = (R + gamma * _interp(V, stencil)).max(axis=2)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < tol * (1 - gamma):
            break
    return PendulumPlanner(model, V, th_grid, v_grid, gamma, np.linspace(-MAX_TORQUE, MAX_TORQUE, 41))


def pendulum_trial(n_transitions: int, seed: Seed) -> float:
    """Score (:func:`ce_lib.gym_tasks.evaluate`: mean return of 10 episodes) of the CE planner fitted on
    ``n_transitions`` random transitions drawn with seed ``seed``."""
    seed = seed_int(seed)  # one number for the data and the evaluation episodes
    obs, act, nxt, rew = random_transitions("Pendulum-v1", n_transitions, seed)
    try:
        planner = plan_pendulum(fit_pendulum(obs, act, nxt, rew))
    except ValueError:  # e.g. every transition hit the speed limit
        return -np.inf
    return evaluate(planner, "Pendulum-v1", seed)


SIZES = {"CartPole-v1": (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200),
         "Pendulum-v1": (1, 2, 3, 5, 10, 30, 100)}
"""Numbers of random transitions the chapter gives the CE controllers."""


def _sweep_one(job):
    env_id, model, n, seed = job
    if env_id == "CartPole-v1":
        return cartpole_trial(n, seed, model)
    return pendulum_trial(n, seed)


def sweep(env_id: str, seeds: Sequence[int], model: str = "generic", sizes=None, n_jobs: int = 2) -> np.ndarray:
    """Scores of the CE controller for every seed and data size: shape ``(len(seeds), len(sizes))``.

    ``model`` picks the CartPole model (see :func:`fit_cartpole`; ignored for Pendulum). Seed
    ``s`` draws its data with ``random_transitions(env_id, n, s)``, so the data sets of one seed
    are nested (the first ``n`` transitions of one stream).
    """
    if env_id not in SIZES:
        raise ValueError(f"env_id must be one of {sorted(SIZES)}, got {env_id!r}")
    if model not in CARTPOLE_MODELS:
        raise ValueError(f"model must be one of {CARTPOLE_MODELS}, got {model!r}")
    seeds = check_seeds(seeds)
    sizes = SIZES[env_id] if sizes is None else tuple(check_positive_int(n, "sizes (each)") for n in sizes)
    if not sizes:
        raise ValueError("sizes must not be empty")
    jobs = [(env_id, model, n, s) for s in seeds for n in sizes]
    scores = parallel_map(_sweep_one, jobs, n_jobs=n_jobs)
    return np.array(scores, dtype=float).reshape(len(seeds), len(sizes))
