r"""The linear quadratic regulator: exact solution, system identification and model-free baselines.

Used by the chapters :ref:`ch-lqr` and :ref:`ch-robust`. Convention throughout:

.. math:: x_{t+1} = A x_t + B u_t + w_t, \qquad u_t = -K x_t, \qquad w_t \sim \mathcal{N}(0, W),

and the cost of a static gain is the average cost per step
:math:`J(K) = \lim_{T\to\infty} \frac{1}{T} \mathbb{E} \sum_t x_t^\top Q x_t + u_t^\top R u_t`.

The certainty-equivalent (nominal) controller fits :math:`(\hat A, \hat B)` by least squares from
rollouts driven by random inputs and solves the Riccati equation of the fitted model as if it were
true. With ``cost="fitted"`` it also fits Q and R from the per-step costs it observed.
The model-free baselines search over gains ``K`` with the same rollouts as their only
information: random search (ARS V1-t and V2-t, Mania, Guy & Recht), REINFORCE with Gaussian
exploration, the model-free natural policy gradient (Fazel et al.), and least-squares policy
iteration (LSTD-Q). Every returned gain is scored exactly with
:func:`lqr_cost`, so the curves carry no evaluation noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .experiments import (Seed, as_float_array, as_rng, check_positive_int, check_real)

__all__ = [
    "LQRProblem", "laplacian_system", "double_integrator", "check_system", "is_stabilizable", "dare",
    "lqr_gain", "lqr_cost", "spectral_radius", "relative_error", "fit_dynamics", "rollouts", "LQREnv",
    "relative_errors", "rollout_cost", "rollout_state_covariance", "lqr_gradient", "best_rollout_gain", "stage_costs",
    "fit_cost", "HORIZON_GRID", "rollout_horizon", "COST_CAP", "nominal_ce", "GainTrace", "random_search", "policy_gradient",
    "natural_policy_gradient", "lspi",
]


# ----------------------------------------------------------------------------------------------
# Problems and validation
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LQRProblem:
    """A linear system with a quadratic cost; the constructor checks it (:func:`check_system`)."""

    A: np.ndarray  #: (n, n) dynamics
    B: np.ndarray  #: (n, m) input matrix; (A, B) must be stabilizable
    Q: np.ndarray  #: (n, n) state cost, symmetric positive semidefinite
    R: np.ndarray  #: (m, m) input cost, symmetric positive definite
    name: str  #: label for plots and tables

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        for field, M in zip("ABQR", check_system(self.A, self.B, self.Q, self.R)):
            M = M.copy()
            M.setflags(write=False)
            object.__setattr__(self, field, M)

    @property
    def n(self) -> int:
        """State dimension."""
        return self.A.shape[0]

    @property
    def m(self) -> int:
        """Input dimension."""
        return self.B.shape[1]

    def optimal(self) -> tuple[np.ndarray, float]:
        """The optimal gain :math:`K^\\star` and its cost :math:`J^\\star` under unit noise."""
        K = lqr_gain(self.A, self.B, self.Q, self.R)
        return K, lqr_cost(self.A, self.B, self.Q, self.R, K)


def laplacian_system() -> LQRProblem:
    """The "Laplacian" (data-centre) system of Recht's Tour and Dean et al.: three slightly unstable,
    weakly coupled states, one input each, inputs expensive relative to states."""
    A = np.array([[1.01, 0.01, 0.0], [0.01, 1.01, 0.01], [0.0, 0.01, 1.01]])
    return LQRProblem(A, np.eye(3), 1e-3 * np.eye(3), np.eye(3), "Laplacian system (3 states)")


def double_integrator() -> LQRProblem:
    """Position and velocity pushed by a force: ``A = [[1, 1], [0, 1]]``, ``B = [[0], [1]]``."""
    return LQRProblem(np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[0.0], [1.0]]), np.eye(2), np.eye(1),
                      "double integrator")


def _matrix(value, name):
    try:
        M = np.array(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric matrix") from err
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-d matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} must contain only finite numbers")
    return M


def is_stabilizable(A, B, tol: float = 1e-9) -> bool:
    r"""PBH test: :math:`\operatorname{rank}[A - \lambda I,\ B] = n` for every eigenvalue
    :math:`|\lambda| \ge 1` of ``A``."""
    A, B = _matrix(A, "A"), _matrix(B, "B")
    n = A.shape[0]
    for lam in np.linalg.eigvals(A):
        if abs(lam) >= 1 - tol:
            M = np.hstack([A - lam * np.eye(n), B])
            if np.linalg.matrix_rank(M, tol=1e-8 * max(1.0, np.abs(M).max())) < n:
                return False
    return True


def check_system(A, B, Q=None, R=None, *, stabilizable: bool = True):
    """Validate an LQR problem; return float copies of the matrices (``Q``, ``R`` may be ``None``).

    Raises ``ValueError`` naming the argument: non-conforming shapes, ``Q`` not square or not
    symmetric positive semidefinite, ``R`` not symmetric positive definite, or (with
    ``stabilizable``) an unstabilizable pair ``(A, B)``.
    """
    A, B = _matrix(A, "A"), _matrix(B, "B")
    n = A.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"A must be square, got shape {A.shape}")
    if B.shape[0] != n:
        raise ValueError(f"B must have {n} rows to conform with A, got shape {B.shape}")
    m = B.shape[1]
    out = [A, B]
    if Q is not None:
        Q = _matrix(Q, "Q")
        if Q.shape != (n, n):
            raise ValueError(f"Q must be square of size {n}, got shape {Q.shape}")
        if not np.allclose(Q, Q.T, atol=1e-10) or np.linalg.eigvalsh((Q + Q.T) / 2).min() < -1e-10:
            raise ValueError("Q must be symmetric positive semidefinite")
        out.append((Q + Q.T) / 2)
    if R is not None:
        R = _matrix(R, "R")
        if R.shape != (m, m):
            raise ValueError(f"R must be square of size {m} (the number of inputs), got shape {R.shape}")
        if not np.allclose(R, R.T, atol=1e-10) or np.linalg.eigvalsh((R + R.T) / 2).min() <= 0:
            raise ValueError("R must be symmetric positive definite")
        out.append((R + R.T) / 2)
    if stabilizable and not is_stabilizable(A, B):
        raise ValueError("(A, B) must be stabilizable: some unstable mode of A cannot be reached by B")
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# Exact solution
# ----------------------------------------------------------------------------------------------


def dare(A, B, Q, R, tol: float = 1e-12, max_iter: int = 200) -> np.ndarray:
    r"""Solve the discrete algebraic Riccati equation by structure-preserving doubling.

    .. math:: P = A^\top P A - A^\top P B (R + B^\top P B)^{-1} B^\top P A + Q

    Written for teaching (``scipy.linalg.solve_discrete_are`` is the production solver, and the
    tests check the two agree). With :math:`G = B R^{-1} B^\top`, the doubling iteration

    .. math::
        A_{k+1} = A_k (I + G_k H_k)^{-1} A_k, \quad
        G_{k+1} = G_k + A_k (I + G_k H_k)^{-1} G_k A_k^\top, \quad
        H_{k+1} = H_k + A_k^\top H_k (I + G_k H_k)^{-1} A_k

    from :math:`(A, G, Q)` converges quadratically to :math:`H_\infty = P`: step :math:`k` covers
    a horizon of :math:`2^k` steps of the Riccati recursion.

    Raises
    ------
    ValueError
        For malformed or unstabilizable inputs, or if the iteration does not converge (for
        example when :math:`(A, Q^{1/2})` has an unobservable mode on the unit circle).
    """
    A, B, Q, R = check_system(A, B, Q, R)
    max_iter = check_positive_int(max_iter, "max_iter")
    n = A.shape[0]
    Ak, Gk, Hk = A.copy(), B @ np.linalg.solve(R, B.T), Q.copy()
    I = np.eye(n)
    for _ in range(max_iter):
        W = I + Gk @ Hk
        AW = np.linalg.solve(W.T, Ak.T).T  # A_k W^{-1}
        H_new = Hk + Ak.T @ Hk @ np.linalg.solve(W, Ak)
        Gk = Gk + AW @ Gk @ Ak.T
        Ak = AW @ Ak
        if not np.all(np.isfinite(H_new)):
            break
        done = np.linalg.norm(H_new - Hk) <= tol * max(1.0, np.linalg.norm(H_new))
        Hk = H_new
        if done:
            P = (Hk + Hk.T) / 2
            return P
    raise ValueError("dare: the doubling iteration did not converge; check that (A, Q) has no "
                     "unobservable mode on the unit circle")


def lqr_gain(A, B, Q, R) -> np.ndarray:
    r"""Optimal static gain :math:`K = (R + B^\top P B)^{-1} B^\top P A` (so :math:`u = -Kx`).

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, lqr_gain
    >>> p = double_integrator()
    >>> lqr_gain(p.A, p.B, p.Q, p.R).round(3)
    array([[0.422, 1.244]])
    """
    A, B, Q, R = check_system(A, B, Q, R)
    P = dare(A, B, Q, R)
    return np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)


def spectral_radius(M) -> float:
    """Largest eigenvalue modulus."""
    return float(np.max(np.abs(np.linalg.eigvals(M))))


def lqr_cost(A, B, Q, R, K, W=None) -> float:
    r"""Exact average cost per step of the gain ``K`` (``np.inf`` if :math:`A - BK` is not stable).

    .. math:: J(K) = \operatorname{tr}\big((Q + K^\top R K)\,\Sigma_K\big), \qquad
              \Sigma_K = (A - BK)\Sigma_K (A - BK)^\top + W,

    the stationary state covariance solving a discrete Lyapunov equation.
    """
    A, B, Q, R = check_system(A, B, Q, R, stabilizable=False)
    K = _matrix(K, "K")
    if K.shape != (B.shape[1], A.shape[0]):
        raise ValueError(f"K must have shape {(B.shape[1], A.shape[0])}, got {K.shape}")
    W = np.eye(A.shape[0]) if W is None else _matrix(W, "W")
    if W.shape != A.shape:
        raise ValueError(f"W must have shape {A.shape}, got {W.shape}")
    if not np.allclose(W, W.T, atol=1e-10) or np.linalg.eigvalsh((W + W.T) / 2).min() < -1e-10:
        raise ValueError("W must be a symmetric positive semidefinite noise covariance")
    return _stationary_cost(A, B, Q, R, K, W)


def _stationary_cost(A, B, Q, R, K, W):
    """:func:`lqr_cost` on arguments already checked."""
    from scipy.linalg import solve_discrete_lyapunov

    L = A - B @ K
    if spectral_radius(L) >= 1.0:
        return float("inf")
    S = solve_discrete_lyapunov(L, W)
    return float(np.trace((Q + K.T @ R @ K) @ S))


def relative_error(problem: LQRProblem, K) -> float:
    r""":math:`(J(K) - J^\star) / J^\star` on the true system (``inf`` if ``K`` is ``None`` or not stabilizing)."""
    if K is None:
        return float("inf")
    _, j_star = problem.optimal()
    return (lqr_cost(problem.A, problem.B, problem.Q, problem.R, K) - j_star) / j_star


def relative_errors(problem: LQRProblem, gains) -> np.ndarray:
    r""":func:`relative_error` of every gain in an array of shape ``(..., m, n)`` -- a
    :class:`GainTrace`'s ``gains``, say -- with the problem checked and :math:`J^\star` solved once:
    an array of shape ``(...)``, ``inf`` where a gain is not stabilizing or not finite.

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, random_search, relative_errors
    >>> p = double_integrator()
    >>> trace = random_search(p, 400, step=0.02, explore=0.05, checkpoints=[8, 400], K0=[[0.3, 1.0]], n_runs=3)
    >>> relative_errors(p, trace.gains).shape  # (checkpoints, runs)
    (2, 3)
    """
    _check_problem(problem)
    try:
        G = None if isinstance(gains, str) else np.asarray(gains, dtype=float)
    except (TypeError, ValueError):
        G = None
    if G is None or G.ndim < 2 or G.shape[-2:] != (problem.m, problem.n):
        raise ValueError(f"gains must be an array of shape (..., {problem.m}, {problem.n}), got "
                         f"{getattr(G, 'shape', gains)!r}")
    _, j_star = problem.optimal()
    W = np.eye(problem.n)
    out = np.full(G.shape[:-2], np.inf)
    for idx in np.ndindex(out.shape):
        if np.all(np.isfinite(G[idx])):
            out[idx] = (_stationary_cost(problem.A, problem.B, problem.Q, problem.R, G[idx], W) - j_star) / j_star
    return out


# ----------------------------------------------------------------------------------------------
# Data and system identification
# ----------------------------------------------------------------------------------------------


def rollouts(A, B, n_rollouts: int, horizon: int, seed: Seed, *, K=None, sigma_u: float = 1.0,
             sigma_w: float = 1.0, batch: int | None = None):
    r"""Simulate rollouts from :math:`x_0 = 0` with inputs :math:`u_t = -K x_t + \sigma_u \eta_t`.

    With ``K=None`` the inputs are pure white noise (the excitation of system identification).
    ``batch`` adds a leading axis of independent experiments (for example one per seed), all
    simulated at once. The draws :math:`\eta_t, w_t` come from ``seed`` in the same order whatever
    ``K`` is, so two calls with the same seed and different gains see the same disturbances and the
    same input noise (common random numbers).

    Returns
    -------
    X, U, X_next : arrays of shape ([batch,] n_rollouts * horizon, n or m)
        The transitions, rollout after rollout.
    """
    A, B = check_system(A, B, stabilizable=False)
    N = check_positive_int(n_rollouts, "n_rollouts")
    T = check_positive_int(horizon, "horizon")
    rng = as_rng(seed)
    sigma_u = check_real(sigma_u, "sigma_u", low=0.0)
    sigma_w = check_real(sigma_w, "sigma_w", low=0.0)
    if batch is not None:
        batch = check_positive_int(batch, "batch")
    n, m = B.shape
    if K is not None:
        K = _matrix(K, "K")
        if K.shape != (m, n):
            raise ValueError(f"K must have shape {(m, n)}, got {K.shape}")
    shape = (batch or 1, N)
    x = np.zeros((*shape, n))
    X = np.empty((*shape, T, n))
    U = np.empty((*shape, T, m))
    Xn = np.empty((*shape, T, n))
    for t in range(T):
        u = sigma_u * rng.standard_normal((*shape, m))
        if K is not None:
            u = u - x @ K.T
        x_next = x @ A.T + u @ B.T + sigma_w * rng.standard_normal((*shape, n))
        X[:, :, t], U[:, :, t], Xn[:, :, t] = x, u, x_next
        x = x_next
    flat = lambda Z: Z.reshape(shape[0], N * T, Z.shape[-1])  # noqa: E731
    X, U, Xn = flat(X), flat(U), flat(Xn)
    return (X, U, Xn) if batch else (X[0], U[0], Xn[0])


def fit_dynamics(X, U, X_next):
    r"""Least-squares system identification: :math:`\min_{A, B} \sum_t \|x_{t+1} - A x_t - B u_t\|^2`.

    Parameters
    ----------
    X, U, X_next : array_like, shapes (N, n), (N, m), (N, n)

    Returns
    -------
    (A_hat, B_hat)

    Raises
    ------
    ValueError
        If the shapes disagree or the data cannot identify the model: fewer than ``n + m``
        transitions, or regressors :math:`[x_t, u_t]` without full column rank.
    """
    X, U, Xn = _matrix(X, "X"), _matrix(U, "U"), _matrix(X_next, "X_next")
    N, n = X.shape
    if U.shape[0] != N or Xn.shape != (N, n):
        raise ValueError(f"X, U and X_next must have the same number of rows and X_next the shape of X; "
                         f"got {X.shape}, {U.shape}, {Xn.shape}")
    m = U.shape[1]
    if N < n + m:
        raise ValueError(f"X: need at least n + m = {n + m} transitions to identify the model, got {N}")
    Z = np.hstack([X, U])
    if np.linalg.matrix_rank(Z) < n + m:
        raise ValueError("X, U: the regressors [x_t, u_t] are rank deficient; excite the system more")
    theta, *_ = np.linalg.lstsq(Z, Xn, rcond=None)
    return theta[:n].T, theta[n:].T


# ----------------------------------------------------------------------------------------------
# A gymnasium environment for the same systems
# ----------------------------------------------------------------------------------------------


def _lqr_env_class():
    import gymnasium as gym
    from gymnasium import spaces

    class LQREnv(gym.Env):
        """A linear system with quadratic cost as a gymnasium environment.

        Observation: the state :math:`x_t`; action: the input :math:`u_t`; reward
        :math:`-(x_t^\\top Q x_t + u_t^\\top R u_t)`; the state evolves as
        :math:`x_{t+1} = A x_t + B u_t + w_t` with :math:`w_t \\sim \\mathcal{N}(0, \\sigma_w^2 I)`.
        Episodes start at :math:`x_0 = 0` (or ``x0_scale`` times a standard normal) and are
        truncated after ``horizon`` steps.
        """

        metadata = {"render_modes": []}

        def __init__(self, problem: LQRProblem | None = None, horizon: int = 10, sigma_w: float = 1.0,
                     x0_scale: float = 0.0):
            self.problem = problem if problem is not None else laplacian_system()
            check_system(self.problem.A, self.problem.B, self.problem.Q, self.problem.R)
            self.horizon = check_positive_int(horizon, "horizon")
            if not np.isfinite(sigma_w) or sigma_w < 0:
                raise ValueError(f"sigma_w must be a non-negative number, got {sigma_w!r}")
            self.sigma_w, self.x0_scale = float(sigma_w), float(x0_scale)
            n, m = self.problem.n, self.problem.m
            self.observation_space = spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float64)
            self.action_space = spaces.Box(-np.inf, np.inf, shape=(m,), dtype=np.float64)
            self._x = np.zeros(n)
            self._t = 0

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self._x = self.x0_scale * self.np_random.standard_normal(self.problem.n)
            self._t = 0
            return self._x.copy(), {}

        def step(self, action):
            p = self.problem
            u = np.asarray(action, dtype=np.float64).reshape(p.m)
            x = self._x
            reward = -float(x @ p.Q @ x + u @ p.R @ u)
            self._x = p.A @ x + p.B @ u + self.sigma_w * self.np_random.standard_normal(p.n)
            self._t += 1
            return self._x.copy(), reward, False, self._t >= self.horizon, {}

    return LQREnv


def __getattr__(name):  # build the gymnasium class on first use (keeps ``import ce_lib.lqr`` light)
    if name == "LQREnv":
        cls = _lqr_env_class()
        globals()["LQREnv"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------------------------
# Learners: each maps a budget of rollouts to a gain, vectorized over runs
# ----------------------------------------------------------------------------------------------

#: Rollout lengths :func:`rollout_horizon` tries, shortest first.
HORIZON_GRID = (10, 20, 50, 100, 200, 500, 1000, 2000)


def _check_problem(problem):
    if not isinstance(problem, LQRProblem):
        raise TypeError(f"problem must be an LQRProblem, got {type(problem).__name__}")
    return problem


def _row_sums(a):
    """``a.sum(axis=1)`` of an (N, k) array, the same numbers, without numpy's reduction machinery
    (which costs more than the sum itself at the sizes of a rollout step). Below eight terms numpy
    adds a row left to right, and so does this; longer rows go to numpy."""
    if a.shape[1] >= 8:
        return a.sum(axis=1)
    total = a[:, 0]
    for j in range(1, a.shape[1]):
        total = total + a[:, j]
    return total


def _rollout_costs(problem, K, rng: np.random.Generator, horizon, sigma_u=None, states=False):
    r"""Average cost per step of rollouts from rest under gains ``K`` of shape (N, m, n), with
    exploration noise of scale ``sigma_u`` (None, or one per rollout) on the inputs.

    Returns the costs (N,), the score terms REINFORCE needs (zeros without ``sigma_u``) and, with
    ``states=True``, the per-step averages of :math:`x_t` (N, n) and of :math:`x_t x_t^\top` (N, n, n)
    along each rollout (else ``None``): what the state-normalizing and natural-gradient searches read
    from the states they visit. Costs of rollouts that blew up are capped at :data:`COST_CAP`.
    """
    A, B, Q, R = problem.A, problem.B, problem.Q, problem.R
    N, m, n = K.shape
    eta = None if sigma_u is None else rng.standard_normal((horizon, N, m, 1))  # input noise, then disturbances
    w = rng.standard_normal((horizon, N, n))
    sig = None if sigma_u is None else np.broadcast_to(np.asarray(sigma_u, dtype=float), (N,))[:, None, None]
    x = np.zeros((N, n, 1))
    cost = np.zeros(N)
    score = np.zeros_like(K)
    mean = np.zeros((N, n, 1)) if states else None
    outer = np.zeros((N, n, n)) if states else None
    At, Bt = A.T, B.T
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(horizon):
            u = -(K @ x) if sig is None else sig * eta[t] - K @ x
            xr, ur = x[:, :, 0], u[:, :, 0]
            cost += _row_sums((xr @ Q) * xr) + _row_sums((ur @ R) * ur)
            if sig is not None:  # d/dK log N(u; -Kx, s^2 I) = -(u + Kx) x^T / s^2 = -eta x^T / s
                score -= (eta[t] @ np.swapaxes(x, 1, 2)) / sig
            if states:
                mean += x
                outer += x @ np.swapaxes(x, 1, 2)
            x = (xr @ At + ur @ Bt + w[t])[:, :, None]
    cost = np.nan_to_num(cost / horizon, nan=COST_CAP, posinf=COST_CAP)
    if not states:
        return np.minimum(cost, COST_CAP), score, None
    return np.minimum(cost, COST_CAP), score, (mean[:, :, 0] / horizon, outer / horizon)


#: Rollout costs above this are treated as this (a gain that blows up gives no usable number).
COST_CAP = 1e12


def rollout_cost(problem: LQRProblem, K, horizon: int) -> float:
    r"""Expected average cost per step of one rollout of ``horizon`` steps from :math:`x_0 = 0`
    under the gain ``K`` (what a model-free method's rollouts estimate), computed exactly:

    .. math:: \frac{1}{T}\sum_{t<T} \operatorname{tr}\big((Q + K^\top R K)\Sigma_t\big), \qquad
              \Sigma_{t+1} = (A - BK)\Sigma_t(A - BK)^\top + I, \quad \Sigma_0 = 0.
    """
    _check_problem(problem)
    T = check_positive_int(horizon, "horizon")
    K = _gain(problem, K, "K")
    L = problem.A - problem.B @ K
    M = problem.Q + K.T @ problem.R @ K
    S = np.zeros((problem.n, problem.n))
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(T):
            total += float(np.trace(M @ S))
            S = L @ S @ L.T + np.eye(problem.n)
    return total / T if np.isfinite(total) else float("inf")


def rollout_state_covariance(problem: LQRProblem, K, horizon: int) -> np.ndarray:
    r"""The per-step average state covariance :math:`\frac{1}{T}\sum_{t<T}\Sigma_t` of a rollout of
    ``horizon`` steps from rest under ``K`` (the recursion of :func:`rollout_cost`): what the natural
    policy gradient's :math:`\hat\Sigma` estimates."""
    _check_problem(problem)
    T = check_positive_int(horizon, "horizon")
    K = _gain(problem, K, "K")
    L = problem.A - problem.B @ K
    S = np.zeros((problem.n, problem.n))
    total = np.zeros_like(S)
    for _ in range(T):
        total += S
        S = L @ S @ L.T + np.eye(problem.n)
    return total / T


def lqr_gradient(problem: LQRProblem, K):
    r"""Exact gradient of the average cost :math:`J(K)` of a stabilizing gain (Fazel et al. 2018, Lemma 1):

    .. math:: \nabla J(K) = 2 E_K \Sigma_K, \qquad E_K = (R + B^\top P_K B) K - B^\top P_K A,

    with :math:`P_K = Q + K^\top R K + (A - BK)^\top P_K (A - BK)` and :math:`\Sigma_K` the stationary
    state covariance under unit noise. :math:`2E_K = \nabla J(K)\,\Sigma_K^{-1}` is the natural gradient.

    Returns
    -------
    (gradient, Sigma_K) : arrays (m, n) and (n, n)

    Raises
    ------
    ValueError
        If ``K`` does not stabilize the system (the cost, and its gradient, are infinite).
    """
    from scipy.linalg import solve_discrete_lyapunov

    _check_problem(problem)
    K = _gain(problem, K, "K")
    A, B, Q, R = problem.A, problem.B, problem.Q, problem.R
    L = A - B @ K
    if spectral_radius(L) >= 1:
        raise ValueError("K must stabilize the system (spectral radius of A - BK below 1)")
    P = solve_discrete_lyapunov(L.T, Q + K.T @ R @ K)
    Sigma = solve_discrete_lyapunov(L, np.eye(problem.n))
    E = (R + B.T @ P @ B) @ K - B.T @ P @ A
    return 2 * E @ Sigma, Sigma


def best_rollout_gain(problem: LQRProblem, horizon: int) -> np.ndarray:
    """The static gain that minimizes :func:`rollout_cost` (BFGS from the optimal gain): the best
    answer a model-free search over rollouts of this length can converge to."""
    from scipy.optimize import minimize

    _check_problem(problem)
    check_positive_int(horizon, "horizon")
    K_star, _ = problem.optimal()
    shape = K_star.shape
    res = minimize(lambda k: rollout_cost(problem, k.reshape(shape), horizon), K_star.ravel(), method="BFGS")
    return res.x.reshape(shape)


def rollout_horizon(problem: LQRProblem, tolerance: float = 0.01) -> int:
    """The shortest rollout length of :data:`HORIZON_GRID` whose best gain (:func:`best_rollout_gain`)
    stabilizes the system with a cost within ``tolerance`` (relative) of the optimum: the rollout length
    every learner of this module uses when the caller gives none.

    A model-free search minimizes the cost of rollouts from rest; if they are short, the gain that
    minimizes *that* cost can be far from the optimal one, even unstable (the first steps from rest cost
    little whatever the gain does later), and no amount of data helps. Recht's experiments use 10 steps,
    which is enough for the double integrator and not for the Laplacian system (its best 10-step gain is
    unstable). The length is computed from the true system: it is the experimenter's choice of the
    experiment, like the chapter's, not something the learner knows.

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, laplacian_system, rollout_horizon
    >>> rollout_horizon(double_integrator()), rollout_horizon(laplacian_system())
    (10, 200)
    """
    _check_problem(problem)
    tolerance = check_real(tolerance, "tolerance", low=0.0, low_open=True)
    for T in HORIZON_GRID:
        if relative_error(problem, best_rollout_gain(problem, T)) <= tolerance:
            return T
    raise ValueError(f"problem: no rollout length up to {HORIZON_GRID[-1]} steps makes the best gain for the rollout "
                     f"cost stabilizing and within tolerance={tolerance!r} of the optimum; pass horizon= yourself")


def _horizon(problem, horizon):
    """The rollout length: ``horizon`` if given, else :func:`rollout_horizon` (a few seconds of
    optimization: call it after every other argument has been checked)."""
    return rollout_horizon(problem) if horizon is None else check_positive_int(horizon, "horizon")


def stage_costs(problem: LQRProblem, X, U) -> np.ndarray:
    r"""The cost the system reports at each step, :math:`c_t = x_t^\top Q x_t + u_t^\top R u_t` (what every
    learner observes; :func:`fit_cost` recovers Q and R from it)."""
    _check_problem(problem)
    X, U = _matrix(X, "X"), _matrix(U, "U")
    if X.shape[1] != problem.n or U.shape != (X.shape[0], problem.m):
        raise ValueError(f"X, U must have shapes (N, {problem.n}) and (N, {problem.m}); got {X.shape}, {U.shape}")
    return np.einsum("ti,ij,tj->t", X, problem.Q, X) + np.einsum("ti,ij,tj->t", U, problem.R, U)


def fit_cost(X, U, costs):
    r"""Least-squares fit of a quadratic stage cost :math:`c_t \approx x_t^\top \hat Q x_t + u_t^\top \hat R u_t`
    from observed per-step costs (the cost half of certainty equivalence when Q and R are not given).

    The symmetric :math:`\hat Q, \hat R` are found by ordinary least squares on the entries of
    :math:`x_t x_t^\top` and :math:`u_t u_t^\top`; negative eigenvalues of :math:`\hat Q` (noise) are set to 0.

    Returns
    -------
    (Q_hat, R_hat), or ``None`` when the data cannot identify the cost (too few transitions, rank-deficient
    features) or :math:`\hat R` is not positive definite (no Riccati equation to solve).
    """
    X, U = _matrix(X, "X"), _matrix(U, "U")
    c = np.asarray(costs, dtype=float)
    if c.shape != (X.shape[0],) or U.shape[0] != X.shape[0]:
        raise ValueError(f"X, U, costs must have the same number of rows; got {X.shape}, {U.shape}, {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("costs must contain only finite numbers")
    n, m = X.shape[1], U.shape[1]
    F = np.hstack([_svec_features(X), _svec_features(U)])
    if F.shape[0] < F.shape[1] or np.linalg.matrix_rank(F) < F.shape[1]:
        return None
    theta, *_ = np.linalg.lstsq(F, c, rcond=None)
    k = n * (n + 1) // 2
    Q_hat, R_hat = _unsvec(theta[:k], n), _unsvec(theta[k:], m)
    w, V = np.linalg.eigh(Q_hat)
    Q_hat = (V * np.maximum(w, 0.0)) @ V.T
    if np.linalg.eigvalsh(R_hat).min() <= 0:
        return None
    return Q_hat, R_hat


def nominal_ce(problem: LQRProblem, n_rollouts: int, seed: Seed, horizon: int | None = None,
               cost: str = "fitted"):
    """Certainty equivalence: excite with white noise, fit (A, B) by least squares -- and, with
    ``cost="fitted"``, Q and R from the observed per-step costs (:func:`fit_cost`); with ``cost="given"``
    use the problem's Q and R -- then solve the DARE of the fit. Returns the gain, or ``None`` if the
    fitted model cannot be solved (a pair that cannot be stabilized, an unidentifiable cost). Rollouts
    have ``horizon`` steps (default: :func:`rollout_horizon`, the length the searches use).

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, nominal_ce, relative_error
    >>> p = double_integrator()
    >>> K = nominal_ce(p, n_rollouts=10, seed=0)
    >>> round(relative_error(p, K), 4)  # cost above the optimum, relative
    0.0108
    """
    _check_problem(problem)
    if cost not in ("fitted", "given"):
        raise ValueError(f"cost must be 'fitted' or 'given', got {cost!r}")
    if horizon is not None:
        check_positive_int(horizon, "horizon")
    check_positive_int(n_rollouts, "n_rollouts")
    as_rng(seed)  # a bad seed fails here, before the default rollout length is computed
    X, U, Xn = rollouts(problem.A, problem.B, n_rollouts, _horizon(problem, horizon), seed)
    return _ce_gain(problem, X, U, Xn, cost)


def _ce_gain(problem, X, U, Xn, cost="fitted"):
    A_hat, B_hat = fit_dynamics(X, U, Xn)
    QR = fit_cost(X, U, stage_costs(problem, X, U)) if cost == "fitted" else (problem.Q, problem.R)
    if QR is None:
        return None
    try:
        return lqr_gain(A_hat, B_hat, *QR)
    except ValueError:
        return None


def _check_checkpoints(checkpoints, budget, per_iter):
    budget = check_positive_int(budget, "budget")
    if per_iter > budget:
        raise ValueError(f"budget ({budget} rollouts) is below the {per_iter} rollouts one iteration needs")
    c = np.asarray(checkpoints if checkpoints is not None else [budget])
    if c.ndim != 1 or c.size == 0 or not np.issubdtype(c.dtype, np.number) or np.any(np.diff(c) <= 0) \
            or c[0] < 1 or c[-1] > budget:
        raise ValueError(f"checkpoints must increase strictly within [1, budget={budget}], got {c}")
    return [int(x) for x in c]


def _gain(problem, K, name):
    K = _matrix(K, name)
    if K.shape != (problem.m, problem.n):
        raise ValueError(f"{name} must have shape {(problem.m, problem.n)}, got {K.shape}")
    return K


def _per_run(value, name, n_runs):
    """A positive setting, one number for every run or an array with one per run (so that a tuning grid
    can run as one batch): returned as an array (n_runs,)."""
    if np.ndim(value) == 0:
        return np.full(n_runs, check_real(value, name, low=0.0, low_open=True))
    v = as_float_array(value, name)
    if v.shape != (n_runs,) or not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be a positive number or an array of {n_runs} positive numbers (one per run), "
                         f"got {value!r}")
    return v


def _search_args(problem, step, explore, horizon, n_runs, K0, explore_name="explore"):
    _check_problem(problem)
    K0 = np.zeros((problem.m, problem.n)) if K0 is None else _gain(problem, K0, "K0")
    n_runs = check_positive_int(n_runs, "n_runs")
    if horizon is not None:  # the default is computed by the caller once every argument is checked
        horizon = check_positive_int(horizon, "horizon")
    return (_per_run(step, "step", n_runs), _per_run(explore, explore_name, n_runs),
            horizon, n_runs, np.repeat(K0[None], n_runs, axis=0))


class GainTrace(NamedTuple):
    """A model-free search's learning curve: the gains it would act with at each checkpoint (the
    counterpart of :class:`ce_lib.dfo.Trace`, samples first)."""

    samples: np.ndarray  # rollouts used by each checkpoint, shape (T,)
    gains: np.ndarray  # the gains then, shape (T, n_runs, m, n): gains[t, r] is run r's gain


def random_search(problem: LQRProblem, budget: int, *, step: float, explore: float, n_dirs: int = 4,
                  top: int | None = None, normalize: bool = False, K0=None, horizon: int | None = None,
                  checkpoints=None, n_runs: int = 1, seed: Seed = 0):
    r"""Basic random search on static gains, ARS V1-t or (``normalize=True``) V2-t of Mania, Guy &
    Recht (2018), from ``K0`` (default :math:`K = 0`).

    Each iteration draws ``n_dirs`` Gaussian perturbations :math:`\delta_i`, runs one rollout
    at :math:`M \pm \nu\delta_i` (two rollouts per direction), keeps the ``top`` directions with the
    lowest :math:`\min(J^+, J^-)` and steps

    .. math:: M \leftarrow M - \frac{\alpha}{b\,\sigma_J} \sum_{i \le b} (J_i^+ - J_i^-)\,\delta_i ,

    where :math:`\sigma_J` is the standard deviation of the :math:`2b` costs used. V1-t acts with
    :math:`K = M`. V2-t acts on normalized states, :math:`u = -M\,\mathrm{diag}(\sigma)^{-1} x`, where
    :math:`\sigma` is the running standard deviation of every state visited so far (statistics start at
    1, as in the paper, so the first gain is ``K0``; the running mean the paper also subtracts is left
    out, because the states' mean is zero here and the scored policy must be a static gain).
    ``n_runs`` independent runs are simulated together, from one generator seeded by ``seed``. Every
    rollout has ``horizon`` steps (default: :func:`rollout_horizon`, long enough for this system).

    Returns
    -------
    GainTrace
        The checkpoints (rollouts used so far) and, at each, every run's gain acting on raw states,
        :math:`M\,\mathrm{diag}(\sigma)^{-1}`.

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, random_search, relative_error
    >>> p = double_integrator()
    >>> trace = random_search(p, 2000, step=0.02, explore=0.05, checkpoints=[2000], K0=[[0.3, 1.0]], seed=0)
    >>> round(relative_error(p, trace.gains[-1, 0]), 4)  # run 0's gain after 2,000 rollouts
    0.017
    """
    step, explore, horizon, n_runs, M = _search_args(problem, step, explore, horizon, n_runs, K0)
    n_dirs = check_positive_int(n_dirs, "n_dirs")
    top = n_dirs if top is None else check_positive_int(top, "top")
    if top > n_dirs:
        raise ValueError(f"top must lie in [1, n_dirs={n_dirs}], got {top}")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    per_iter = 2 * n_dirs
    checks = _check_checkpoints(checkpoints, budget, per_iter)
    rng = as_rng(seed)
    horizon = _horizon(problem, horizon)
    m, n = problem.m, problem.n
    count = np.zeros(n_runs)  # running state statistics of V2-t, per run
    first, second = np.zeros((n_runs, n)), np.zeros((n_runs, n))
    scale = np.ones((n_runs, 1, n))
    used, out = 0, []
    for c in checks:
        while used + per_iter <= c:  # the gain read at checkpoint c has used at most c rollouts
            delta = rng.standard_normal((n_runs, n_dirs, m, n))
            nu_delta = explore[:, None, None, None] * delta
            Mpm = np.concatenate([M[:, None] + nu_delta, M[:, None] - nu_delta], axis=1)
            J, _, st = _rollout_costs(problem, (Mpm / scale[:, None]).reshape(-1, m, n), rng, horizon,
                                      states=normalize)
            J = J.reshape(n_runs, 2, n_dirs)
            order = np.argsort(J.min(axis=1), axis=1)[:, :top]
            Jp = np.take_along_axis(J[:, 0], order, axis=1)
            Jm = np.take_along_axis(J[:, 1], order, axis=1)
            d = np.take_along_axis(delta, order[:, :, None, None], axis=1)
            sigma = np.std(np.concatenate([Jp, Jm], axis=1), axis=1) + 1e-12
            M = M - (step / (top * sigma))[:, None, None] * np.einsum("rb,rbmn->rmn", Jp - Jm, d)
            if normalize:  # fold this iteration's states into the statistics (runs whose states stayed finite)
                with np.errstate(invalid="ignore", over="ignore"):
                    mean = st[0].reshape(n_runs, -1, n).mean(axis=1)
                    sq = np.diagonal(st[1], axis1=1, axis2=2).reshape(n_runs, -1, n).mean(axis=1)
                ok = np.all(np.isfinite(sq), axis=1)
                k = horizon * per_iter
                first[ok] += k * mean[ok]
                second[ok] += k * sq[ok]
                count[ok] += k
                seen = count > 0
                var = second[seen] / count[seen, None] - (first[seen] / count[seen, None]) ** 2
                scale[seen, 0] = np.sqrt(np.maximum(var, 1e-8))
            used += per_iter
        out.append(M / scale)
    return GainTrace(np.array(checks), np.array(out))


def policy_gradient(problem: LQRProblem, budget: int, *, step: float, explore: float, batch: int = 10, K0=None,
                    horizon: int | None = None, checkpoints=None, n_runs: int = 1, seed: Seed = 0):
    r"""REINFORCE on the linear-Gaussian policy :math:`u = -Kx + \sigma\eta`, from ``K0`` (default 0).

    Each iteration runs ``batch`` rollouts, estimates :math:`\nabla_K J` by the likelihood ratio with
    the batch's mean cost as baseline, and takes a normalized step of length ``step`` (the cost of
    an unstable gain explodes, so raw gradient steps are unusable without it). Returns the
    deterministic gains at each checkpoint, a :class:`GainTrace` as :func:`random_search` returns.

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, policy_gradient, relative_error
    >>> p = double_integrator()
    >>> trace = policy_gradient(p, 2000, step=0.0005, explore=0.1, checkpoints=[2000], K0=[[0.3, 1.0]], seed=0)
    >>> round(relative_error(p, trace.gains[-1, 0]), 4)
    0.0693
    """
    step, explore, horizon, n_runs, K = _search_args(problem, step, explore, horizon, n_runs, K0)
    batch = check_positive_int(batch, "batch", minimum=2)  # a baseline needs two rollouts
    checks = _check_checkpoints(checkpoints, budget, batch)
    rng = as_rng(seed)
    horizon = _horizon(problem, horizon)
    m, n = problem.m, problem.n
    used, out = 0, []
    for c in checks:
        while used + batch <= c:
            Kb = np.repeat(K, batch, axis=0)
            J, score, _ = _rollout_costs(problem, Kb, rng, horizon, sigma_u=np.repeat(explore, batch))
            J = J.reshape(n_runs, batch)
            adv = J - J.mean(axis=1, keepdims=True)
            g = np.einsum("rb,rbmn->rmn", adv, score.reshape(n_runs, batch, m, n)) / batch
            norm = np.linalg.norm(g.reshape(n_runs, -1), axis=1)[:, None, None] + 1e-12
            K = K - step[:, None, None] * g / norm
            used += batch
        out.append(K.copy())
    return GainTrace(np.array(checks), np.array(out))


def _npg_estimate(problem, K, rng: np.random.Generator, n_dirs, radius, horizon):
    r"""Zeroth-order estimates of the rollout cost's gradient and of the state covariance at gains ``K``
    (R, m, n), from ``2 * n_dirs`` rollouts per gain (see :func:`natural_policy_gradient`)."""
    R_, m, n = K.shape
    U = rng.standard_normal((R_, n_dirs, m, n))
    radius = np.broadcast_to(radius, (R_,))
    U *= radius[:, None, None, None] / np.linalg.norm(U.reshape(R_, n_dirs, -1), axis=2)[:, :, None, None]
    Kpm = np.concatenate([K[:, None] + U, K[:, None] - U], axis=1)
    J, _, (_, outer) = _rollout_costs(problem, Kpm.reshape(-1, m, n), rng, horizon, states=True)
    J = J.reshape(R_, 2, n_dirs)
    grad = ((m * n) / (2 * radius ** 2))[:, None, None] * np.einsum("rb,rbmn->rmn", J[:, 0] - J[:, 1], U) / n_dirs
    with np.errstate(invalid="ignore", over="ignore"):  # rollouts that blew up give non-finite statistics
        return grad, outer.reshape(R_, 2 * n_dirs, n, n).mean(axis=1)


def natural_policy_gradient(problem: LQRProblem, budget: int, *, step: float, radius: float, n_dirs: int = 4,
                            K0=None, horizon: int | None = None, checkpoints=None, n_runs: int = 1,
                            seed: Seed = 0):
    r"""Model-free natural policy gradient on static gains (Fazel, Ge, Kakade & Mesbahi 2018), from ``K0``.

    Each iteration draws ``n_dirs`` perturbations :math:`U_i` uniform on the Frobenius sphere of
    radius :math:`r`, runs one rollout at :math:`K + U_i` and one at :math:`K - U_i` (the two-point
    estimator of Malik et al. 2019), and estimates the gradient of the rollout cost and the state
    covariance from those rollouts alone:

    .. math:: \widehat{\nabla J} = \frac{mn}{2r^2}\,\frac{1}{N}\sum_i (J_i^+ - J_i^-)\,U_i, \qquad
              \hat\Sigma = \text{average of } x_t x_t^\top \text{ over the rollouts}, \qquad
              K \leftarrow K - \eta\, \widehat{\nabla J}\, \hat\Sigma^{-1} .

    :math:`\nabla J\,\Sigma^{-1} = 2E_K` (:func:`lqr_gradient`), so the step is the natural gradient,
    invariant to how large the states are. A run whose rollouts blew up (non-finite statistics) keeps
    its gain for that iteration. Returns a :class:`GainTrace`, as :func:`random_search` does.

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, natural_policy_gradient, relative_error
    >>> p = double_integrator()
    >>> trace = natural_policy_gradient(p, 2000, step=0.01, radius=0.1, n_dirs=16, checkpoints=[2000],
    ...                                 K0=[[0.3, 1.0]], seed=0)
    >>> round(relative_error(p, trace.gains[-1, 0]), 4)
    0.0004
    """
    step, radius, horizon, n_runs, K = _search_args(problem, step, radius, horizon, n_runs, K0, "radius")
    n_dirs = check_positive_int(n_dirs, "n_dirs")
    per_iter = 2 * n_dirs
    checks = _check_checkpoints(checkpoints, budget, per_iter)
    rng = as_rng(seed)
    horizon = _horizon(problem, horizon)
    used, out = 0, []
    for c in checks:
        while used + per_iter <= c:
            grad, Sigma = _npg_estimate(problem, K, rng, n_dirs, radius, horizon)
            ok = np.all(np.isfinite(Sigma), axis=(1, 2)) & np.all(np.isfinite(grad), axis=(1, 2))
            if np.any(ok):
                with np.errstate(all="ignore"):
                    nat = np.linalg.pinv(Sigma[ok], hermitian=True) @ np.swapaxes(grad[ok], 1, 2)  # Sigma^-1 grad^T
                good = np.all(np.isfinite(nat), axis=(1, 2))
                idx = np.flatnonzero(ok)[good]
                K[idx] = K[idx] - step[idx, None, None] * np.swapaxes(nat[good], 1, 2)
            used += per_iter
        out.append(K.copy())
    return GainTrace(np.array(checks), np.array(out))


def _svec_features(Z):
    """Quadratic features of z = [x; u]: the upper triangle of z z^T (off-diagonals doubled), the
    products z_i z_j taken for i <= j only (not the whole outer product, then a selection of it)."""
    i, j = np.triu_indices(Z.shape[-1])
    return Z[..., i] * Z[..., j] * np.where(i == j, 1.0, 2.0)


def _unsvec(theta, d):
    iu = np.triu_indices(d)
    H = np.zeros((d, d))
    H[iu] = theta
    return (H + H.T) - np.diag(np.diag(H))


def lspi(problem: LQRProblem, X, U, Xn, K0, iterations: int = 10):
    r"""Least-squares policy iteration with LSTD-Q for the average-cost LQR (Lagoudakis & Parr;
    Krauth, Tu & Recht).

    The Q-function of a gain :math:`K` is quadratic, :math:`Q_K(x, u) = z^\top H z` with
    :math:`z = (x, u)`, and satisfies :math:`Q_K(x, u) + \lambda = c(x, u) + \mathbb{E}\,Q_K(x', -Kx')`.
    LSTD-Q solves the sample version of this equation for :math:`(H, \lambda)` with the features as
    instruments; the improved gain is :math:`K \leftarrow H_{uu}^{-1} H_{ux}`. The same data (any
    behaviour policy) is reused in every iteration. The per-step costs :math:`c(x, u)` are computed
    from the problem's ``Q`` and ``R``: like certainty equivalence, LSPI is told the cost.

    Returns
    -------
    numpy.ndarray or None
        The final gain, or ``None`` if a least-squares step was singular.

    Examples
    --------
    >>> import numpy as np
    >>> from ce_lib.lqr import double_integrator, lspi, relative_error, rollouts
    >>> p = double_integrator()
    >>> X, U, Xn = rollouts(p.A, p.B, n_rollouts=20, horizon=20, seed=0, K=np.array([[0.3, 1.0]]))
    >>> round(relative_error(p, lspi(p, X, U, Xn, K0=np.array([[0.3, 1.0]]))), 4)
    0.0057
    """
    _check_problem(problem)
    n, m = problem.n, problem.m
    X, U, Xn = _matrix(X, "X"), _matrix(U, "U"), _matrix(Xn, "Xn")
    if X.shape[1] != n or Xn.shape != X.shape or U.shape != (X.shape[0], m):
        raise ValueError(f"X, U, Xn must have shapes (N, {n}), (N, {m}), (N, {n}); got {X.shape}, {U.shape}, {Xn.shape}")
    K = _matrix(K0, "K0")
    if K.shape != (m, n):
        raise ValueError(f"K0 must have shape {(m, n)}, got {K.shape}")
    iterations = check_positive_int(iterations, "iterations")
    cost = (np.einsum("ti,ij,tj->t", X, problem.Q, X) + np.einsum("ti,ij,tj->t", U, problem.R, U))
    phi = _svec_features(np.hstack([X, U]))
    inst = np.hstack([phi, np.ones((len(X), 1))])
    for _ in range(iterations):
        phi_next = _svec_features(np.hstack([Xn, -Xn @ K.T]))
        lhs = inst.T @ np.hstack([phi - phi_next, np.ones((len(X), 1))])
        try:
            theta = np.linalg.solve(lhs, inst.T @ cost)
        except np.linalg.LinAlgError:
            return None
        H = _unsvec(theta[:-1], n + m)
        Huu, Hux = H[n:, n:], H[n:, :n]
        try:
            K = np.linalg.solve(Huu, Hux)
        except np.linalg.LinAlgError:
            return None
    return K
