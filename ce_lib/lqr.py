r"""The linear quadratic regulator: exact solution, system identification and model-free baselines.

Used by the chapters :ref:`ch-lqr` and :ref:`ch-robust`. Convention throughout:

.. math:: x_{t+1} = A x_t + B u_t + w_t, \qquad u_t = -K x_t, \qquad w_t \sim \mathcal{N}(0, W),

and the cost of a static gain is the average cost per step
:math:`J(K) = \lim_{T\to\infty} \frac{1}{T} \mathbb{E} \sum_t x_t^\top Q x_t + u_t^\top R u_t`.

The certainty-equivalent (nominal) controller fits :math:`(\hat A, \hat B)` by least squares from
rollouts driven by random inputs and solves the Riccati equation of the fitted model as if it were
true. The model-free baselines search over gains ``K`` with the same rollouts as their only
information: random search (Mania, Guy & Recht), REINFORCE with Gaussian exploration, and
least-squares policy iteration (LSTD-Q). Every returned gain is scored exactly with
:func:`lqr_cost`, so the curves carry no evaluation noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .experiments import (REPORTED_SEED_START, TUNING_SEED_START, MethodResult, as_rng, best_by_tuning, cached,
                          check_positive_int, check_real, child_seed, grid_tuning, log_grid, make_record,
                          parallel_map, samples_to_target)

__all__ = [
    "LQRProblem", "laplacian_system", "double_integrator", "check_system", "is_stabilizable", "dare",
    "lqr_gain", "lqr_cost", "spectral_radius", "relative_error", "fit_dynamics", "rollouts", "LQREnv",
    "rollout_cost", "best_rollout_gain", "DEFAULT_ROLLOUT_STEPS", "ROLLOUT_LENGTH", "STABILIZING_START", "BUDGET",
    "ARS_GRID", "PG_GRID", "ERROR_TARGETS", "HOLD", "TUNING_RUNS", "CE_BUDGET", "LSPI_BUDGET", "comparison",
    "nominal_ce", "random_search", "policy_gradient", "lspi", "METHOD_NAMES", "SEARCHES", "PROBLEMS", "problem",
    "learning_curves", "CE_GIVEN", "RECORDS", "headline",
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
    r"""Optimal static gain :math:`K = (R + B^\top P B)^{-1} B^\top P A` (so :math:`u = -Kx`)."""
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
    from scipy.linalg import solve_discrete_lyapunov

    A, B, Q, R = check_system(A, B, Q, R, stabilizable=False)
    K = _matrix(K, "K")
    if K.shape != (B.shape[1], A.shape[0]):
        raise ValueError(f"K must have shape {(B.shape[1], A.shape[0])}, got {K.shape}")
    W = np.eye(A.shape[0]) if W is None else _matrix(W, "W")
    if W.shape != A.shape:
        raise ValueError(f"W must have shape {A.shape}, got {W.shape}")
    if not np.allclose(W, W.T, atol=1e-10) or np.linalg.eigvalsh((W + W.T) / 2).min() < -1e-10:
        raise ValueError("W must be a symmetric positive semidefinite noise covariance")
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


# ----------------------------------------------------------------------------------------------
# Data and system identification
# ----------------------------------------------------------------------------------------------


def rollouts(A, B, n_rollouts: int, horizon: int, seed: Any, *, K=None, sigma_u: float = 1.0,
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

#: Steps per rollout when a problem has no entry in :data:`ROLLOUT_LENGTH` (as in Recht's experiments).
DEFAULT_ROLLOUT_STEPS = 10


def _check_problem(problem):
    if not isinstance(problem, LQRProblem):
        raise TypeError(f"problem must be an LQRProblem, got {type(problem).__name__}")
    return problem


def _rollout_costs(problem, K, rng, horizon, sigma_u=0.0):
    """Average cost per step of rollouts under gains ``K`` of shape (N, m, n) (plus exploration).

    Returns the costs (N,) and, when ``sigma_u > 0``, the score terms needed by REINFORCE.
    """
    A, B, Q, R = problem.A, problem.B, problem.Q, problem.R
    N = K.shape[0]
    x = np.zeros((N, problem.n))
    cost = np.zeros(N)
    score = np.zeros_like(K)
    for _ in range(horizon):
        eta = rng.standard_normal((N, problem.m))
        u = -np.einsum("bmn,bn->bm", K, x) + sigma_u * eta
        cost += np.einsum("bi,ij,bj->b", x, Q, x) + np.einsum("bi,ij,bj->b", u, R, u)
        if sigma_u > 0:  # d/dK log N(u; -Kx, s^2 I) = -(u + Kx) x^T / s^2 = -eta x^T / s
            score -= eta[:, :, None] * x[:, None, :] / sigma_u
        x = x @ A.T + u @ B.T + rng.standard_normal((N, problem.n))
    return cost / horizon, score


def rollout_cost(problem: LQRProblem, K, horizon: int) -> float:
    r"""Expected average cost per step of one rollout of ``horizon`` steps from :math:`x_0 = 0`
    under the gain ``K`` (what a model-free method's rollouts estimate), computed exactly:

    .. math:: \frac{1}{T}\sum_{t<T} \operatorname{tr}\big((Q + K^\top R K)\Sigma_t\big), \qquad
              \Sigma_{t+1} = (A - BK)\Sigma_t(A - BK)^\top + I, \quad \Sigma_0 = 0.
    """
    _check_problem(problem)
    T = check_positive_int(horizon, "horizon")
    K = _matrix(K, "K")
    if K.shape != (problem.m, problem.n):
        raise ValueError(f"K must have shape {(problem.m, problem.n)}, got {K.shape}")
    L = problem.A - problem.B @ K
    M = problem.Q + K.T @ problem.R @ K
    S = np.zeros((problem.n, problem.n))
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(T):
            total += float(np.trace(M @ S))
            S = L @ S @ L.T + np.eye(problem.n)
    return total / T if np.isfinite(total) else float("inf")


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


def nominal_ce(problem: LQRProblem, n_rollouts: int, seed: Any, horizon: int = DEFAULT_ROLLOUT_STEPS):
    """Certainty equivalence: excite with white noise, fit (A, B) by least squares, solve the DARE
    of the fit. Returns the gain, or ``None`` if the fitted pair cannot be stabilized."""
    _check_problem(problem)
    X, U, Xn = rollouts(problem.A, problem.B, n_rollouts, horizon, seed)
    A_hat, B_hat = fit_dynamics(X, U, Xn)
    try:
        return lqr_gain(A_hat, B_hat, problem.Q, problem.R)
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


def _search_args(problem, step, explore, horizon, n_runs):
    _check_problem(problem)
    return (check_real(step, "step", low=0.0, low_open=True), check_real(explore, "explore", low=0.0, low_open=True),
            check_positive_int(horizon, "horizon"), check_positive_int(n_runs, "n_runs"))


def random_search(problem: LQRProblem, budget: int, *, step: float, explore: float, directions: int = 4,
                  top: int | None = None, horizon: int = DEFAULT_ROLLOUT_STEPS, checkpoints=None, n_runs: int = 1,
                  seed: Any = 0):
    r"""Basic random search (ARS V1-t, Mania, Guy & Recht 2018) on static gains, from :math:`K = 0`.

    Each iteration draws ``directions`` Gaussian perturbations :math:`\delta_i`, runs one rollout
    at :math:`K \pm \nu\delta_i` (two rollouts per direction), keeps the ``top`` directions with the
    lowest :math:`\min(J^+, J^-)` and steps

    .. math:: K \leftarrow K - \frac{\alpha}{b\,\sigma_J} \sum_{i \le b} (J_i^+ - J_i^-)\,\delta_i ,

    where :math:`\sigma_J` is the standard deviation of the :math:`2b` costs used.
    ``n_runs`` independent runs are simulated together, from one generator seeded by ``seed``.

    Returns
    -------
    list of arrays (n_runs, m, n)
        The gain of every run at each checkpoint (rollouts used so far).
    """
    step, explore, horizon, n_runs = _search_args(problem, step, explore, horizon, n_runs)
    directions = check_positive_int(directions, "directions")
    top = directions if top is None else check_positive_int(top, "top")
    if top > directions:
        raise ValueError(f"top must lie in [1, directions={directions}], got {top}")
    per_iter = 2 * directions
    checks = _check_checkpoints(checkpoints, budget, per_iter)
    rng = as_rng(seed)
    m, n = problem.m, problem.n
    K = np.zeros((n_runs, m, n))
    used, out = 0, []
    for c in checks:
        while used + per_iter <= c:  # the gain read at checkpoint c has used at most c rollouts
            delta = rng.standard_normal((n_runs, directions, m, n))
            Kpm = np.concatenate([K[:, None] + explore * delta, K[:, None] - explore * delta], axis=1)
            J, _ = _rollout_costs(problem, Kpm.reshape(-1, m, n), rng, horizon)
            J = np.minimum(J.reshape(n_runs, 2, directions), 1e12)  # cap blown-up rollouts
            order = np.argsort(J.min(axis=1), axis=1)[:, :top]
            Jp = np.take_along_axis(J[:, 0], order, axis=1)
            Jm = np.take_along_axis(J[:, 1], order, axis=1)
            d = np.take_along_axis(delta, order[:, :, None, None], axis=1)
            sigma = np.std(np.concatenate([Jp, Jm], axis=1), axis=1) + 1e-12
            K = K - step / (top * sigma)[:, None, None] * np.einsum("rb,rbmn->rmn", Jp - Jm, d)
            used += per_iter
        out.append(K.copy())
    return out


def policy_gradient(problem: LQRProblem, budget: int, *, step: float, explore: float, batch: int = 10,
                    horizon: int = DEFAULT_ROLLOUT_STEPS, checkpoints=None, n_runs: int = 1, seed: Any = 0):
    r"""REINFORCE on the linear-Gaussian policy :math:`u = -Kx + \sigma\eta`, from :math:`K = 0`.

    Each iteration runs ``batch`` rollouts, estimates :math:`\nabla_K J` by the likelihood ratio with
    the batch's mean cost as baseline, and takes a normalized step of length ``step`` (the cost of
    an unstable gain explodes, so raw gradient steps are unusable without it). Returns the
    deterministic gain at each checkpoint, as :func:`random_search` does.
    """
    step, explore, horizon, n_runs = _search_args(problem, step, explore, horizon, n_runs)
    batch = check_positive_int(batch, "batch", minimum=2)  # a baseline needs two rollouts
    checks = _check_checkpoints(checkpoints, budget, batch)
    rng = as_rng(seed)
    m, n = problem.m, problem.n
    K = np.zeros((n_runs, m, n))
    used, out = 0, []
    for c in checks:
        while used + batch <= c:
            Kb = np.repeat(K, batch, axis=0)
            J, score = _rollout_costs(problem, Kb, rng, horizon, sigma_u=explore)
            J = np.minimum(J.reshape(n_runs, batch), 1e12)
            adv = J - J.mean(axis=1, keepdims=True)
            g = np.einsum("rb,rbmn->rmn", adv, score.reshape(n_runs, batch, m, n)) / batch
            norm = np.linalg.norm(g.reshape(n_runs, -1), axis=1)[:, None, None] + 1e-12
            K = K - step * g / norm
            used += batch
        out.append(K.copy())
    return out


def _svec_features(Z):
    """Quadratic features of z = [x; u]: the upper triangle of z z^T (off-diagonals doubled)."""
    d = Z.shape[-1]
    iu = np.triu_indices(d)
    outer = Z[..., :, None] * Z[..., None, :]
    scale = np.where(iu[0] == iu[1], 1.0, 2.0)
    return outer[..., iu[0], iu[1]] * scale


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


# ----------------------------------------------------------------------------------------------
# The chapter's experiment: relative error against rollouts, every method on the same seeds
# ----------------------------------------------------------------------------------------------

#: The chapter's two problems, by name.
PROBLEMS = {"laplacian": laplacian_system, "double integrator": double_integrator}


def problem(name: str) -> LQRProblem:
    """One of the chapter's problems by name (``"laplacian"`` or ``"double integrator"``)."""
    if name not in PROBLEMS:
        raise ValueError(f"name must be one of {sorted(PROBLEMS)}, got {name!r}")
    return PROBLEMS[name]()


#: Rollout length per problem: long enough that the minimizer of the rollout cost (what a
#: model-free method optimizes) is within 1% of the infinite-horizon optimum (see the chapter).
ROLLOUT_LENGTH = {"Laplacian system (3 states)": 200, "double integrator": 50}
#: A stabilizing gain that LSPI starts from and explores around (CE and the searches start from nothing).
STABILIZING_START = {"Laplacian system (3 states)": 0.1 * np.eye(3), "double integrator": np.array([[0.3, 1.0]])}

METHOD_NAMES = ("nominal CE", "LSPI", "random search (ARS)", "policy gradient")
SEARCHES = ("random search (ARS)", "policy gradient")


def learning_curves(problem: LQRProblem, budget: int, n_seeds: int, seed: Any = 0, *, ars: dict | None = None,
                    pg: dict | None = None, ce_budget: int = 100, lspi_budget: int = 300) -> dict:
    r"""Relative cost error :math:`(J(\hat K) - J^\star)/J^\star` against rollouts used, per method and seed.

    Every rollout has ``ROLLOUT_LENGTH[problem.name]`` steps (or :data:`DEFAULT_ROLLOUT_STEPS` for other
    problems). Nominal CE and LSPI are batch methods: at each checkpoint they are rerun on the first
    ``N`` rollouts; random search and policy gradient are run once and read at the checkpoints.

    Randomness: ``seed`` is split into one generator per run (:func:`ce_lib.experiments.spawn_rngs`)
    plus one for the searches. Run ``b``'s CE and LSPI data come from run ``b``'s child seed, so they
    share the disturbances and input noise rollout by rollout (LSPI's inputs add its stabilizing
    feedback to the same noise); the searches advance all runs together from their own generator.

    Returns
    -------
    dict
        ``rollouts`` (checkpoints) and, per method, an array (n_seeds, T) of relative errors
        (``inf`` = not stabilizing), with ``nan`` beyond a batch method's budget.
    """
    _check_problem(problem)
    budget = check_positive_int(budget, "budget")
    B = check_positive_int(n_seeds, "n_seeds")
    ce_budget = check_positive_int(ce_budget, "ce_budget")
    lspi_budget = check_positive_int(lspi_budget, "lspi_budget")
    T = ROLLOUT_LENGTH.get(problem.name, DEFAULT_ROLLOUT_STEPS)
    checks = log_grid(budget)
    _, j_star = problem.optimal()

    def err(K):
        if K is None or not np.all(np.isfinite(K)):
            return np.inf
        return (lqr_cost(problem.A, problem.B, problem.Q, problem.R, K) - j_star) / j_star

    out = {"rollouts": checks, "horizon": T}
    run_seeds = [child_seed(seed, b) for b in range(B)]
    ce = np.full((B, checks.size), np.nan)
    ls = np.full((B, checks.size), np.nan)
    K0 = STABILIZING_START.get(problem.name)
    for b in range(B):
        X, U, Xn = rollouts(problem.A, problem.B, min(ce_budget, budget), T, run_seeds[b])
        for j, N in enumerate(checks[checks <= ce_budget]):
            A_hat, B_hat = fit_dynamics(X[: N * T], U[: N * T], Xn[: N * T])
            try:
                ce[b, j] = err(lqr_gain(A_hat, B_hat, problem.Q, problem.R))
            except ValueError:
                ce[b, j] = np.inf
        if K0 is not None:
            X, U, Xn = rollouts(problem.A, problem.B, min(lspi_budget, budget), T, run_seeds[b], K=K0, sigma_u=1.0)
            for j, N in enumerate(checks[checks <= lspi_budget]):
                ls[b, j] = err(lspi(problem, X[: N * T], U[: N * T], Xn[: N * T], K0))
    out["nominal CE"], out["LSPI"] = ce, ls
    for name, fn, kw in (("random search (ARS)", random_search, ars), ("policy gradient", policy_gradient, pg)):
        if kw is None:
            continue
        Ks = fn(problem, budget, horizon=T, checkpoints=checks, n_runs=B, seed=child_seed(seed, B), **kw)
        out[name] = np.array([[err(K[b]) for K in Ks] for b in range(B)])
    return out


#: Rollout budgets of the chapter (model-free searches; CE and LSPI stop earlier, see below).
BUDGET = {"Laplacian system (3 states)": 5000, "double integrator": 2000}
#: Tuning grids. ARS: four step sizes, two exploration scales, 4 or 16 directions (the algorithm of
#: Mania, Guy & Recht; the grid is ours); REINFORCE: normalized step length and exploration.
ARS_GRID = [dict(step=s, explore=e, directions=d) for d in (4, 16) for s in (0.001, 0.003, 0.01, 0.03)
            for e in (0.01, 0.05)]
PG_GRID = [dict(step=s, explore=e) for s in (0.001, 0.003, 0.01, 0.03) for e in (0.3, 1.0)]
#: The relative cost errors the records ask for; each search is tuned for each of them.
ERROR_TARGETS = (0.10, 0.01)
#: Hold factor of the targets (on the log grid of checkpoints: the next checkpoint).
HOLD = 1.25
#: Runs per tuning experiment, drawn from seed :data:`ce_lib.experiments.TUNING_SEED_START`.
TUNING_RUNS = 10
CE_BUDGET, LSPI_BUDGET = 100, 1000


def _hits_to(curves, rollouts, target):
    ok = ~np.any(np.isnan(curves), axis=0)
    return samples_to_target(rollouts[ok], curves[:, ok], target, hold=HOLD)


def _tune_one(job):
    name, method, kw = job
    prob = problem(name)
    budget = BUDGET[prob.name]
    args = {"ars": kw, "pg": None} if method == "ars" else {"ars": None, "pg": kw}
    out = learning_curves(prob, budget, TUNING_RUNS, seed=TUNING_SEED_START, ce_budget=1, lspi_budget=1, **args)
    key = "random search (ARS)" if method == "ars" else "policy gradient"
    return {t: _hits_to(out[key], out["rollouts"], t) for t in ERROR_TARGETS}


def _batch_methods_on_tuning_runs(name):
    prob = problem(name)
    out = learning_curves(prob, BUDGET[prob.name], TUNING_RUNS, seed=TUNING_SEED_START,
                          ce_budget=CE_BUDGET, lspi_budget=LSPI_BUDGET)
    return {m: {t: _hits_to(out[m], out["rollouts"], t) for t in ERROR_TARGETS} for m in ("nominal CE", "LSPI")}


def _tuned(name, n_seeds):
    jobs = [(name, "ars", kw) for kw in ARS_GRID] + [(name, "pg", kw) for kw in PG_GRID]
    tuned_hits = parallel_map(_tune_one, jobs, n_jobs=2)
    prob = problem(name)
    budget = BUDGET[prob.name]
    grids = {"random search (ARS)": ("ars", ARS_GRID), "policy gradient": ("pg", PG_GRID)}
    chosen = {}  # (method, target) -> (settings, tuning hits)
    for method, (key, grid) in grids.items():
        idx = [i for i, (_, m, _) in enumerate(jobs) if m == key]
        for t in ERROR_TARGETS:
            i = idx[best_by_tuning([tuned_hits[i][t] for i in idx], budget)]
            chosen[method, t] = (jobs[i][2], tuned_hits[i][t])
    out = {"rollouts": None, "budget": budget, "tuning_runs": len(jobs) * TUNING_RUNS, "tuned": {},
           "tuning_hits": {t: {} for t in ERROR_TARGETS}, "hits": {t: {} for t in ERROR_TARGETS}, "curves": {}}
    batch = _batch_methods_on_tuning_runs(name)
    for t in ERROR_TARGETS:
        for m in ("nominal CE", "LSPI"):
            out["tuning_hits"][t][m] = batch[m][t]
    # Reported runs: one learning-curve run per distinct setting of each search (per target).
    settings = {}
    for (method, t), (kw, th) in chosen.items():
        settings.setdefault((method, tuple(sorted(kw.items()))), []).append(t)
        out["tuned"][method, t] = kw
        out["tuning_hits"][t][method] = th
    base = learning_curves(prob, budget, n_seeds, seed=REPORTED_SEED_START, ce_budget=CE_BUDGET,
                           lspi_budget=LSPI_BUDGET)
    out["rollouts"], out["horizon"] = base["rollouts"], base["horizon"]
    for m in ("nominal CE", "LSPI"):
        out["curves"][m] = base[m]
        for t in ERROR_TARGETS:
            out["hits"][t][m] = _hits_to(base[m], base["rollouts"], t)
    for (method, items), targets in settings.items():
        kw = dict(items)
        args = {"ars": kw, "pg": None} if method == "random search (ARS)" else {"ars": None, "pg": kw}
        run = learning_curves(prob, budget, n_seeds, seed=REPORTED_SEED_START, ce_budget=1, lspi_budget=1, **args)
        for t in targets:
            out["hits"][t][method] = _hits_to(run[method], run["rollouts"], t)
            out["curves"][method, t] = run[method]
    out["grid_sizes"] = {"random search (ARS)": len(ARS_GRID), "policy gradient": len(PG_GRID)}
    return out


def comparison(name: str = "laplacian", n_seeds: int = 20) -> dict:
    """The chapter's comparison on ``"laplacian"`` or ``"double integrator"`` (cached).

    Random search and policy gradient are tuned over :data:`ARS_GRID` and :data:`PG_GRID`, for each
    target of :data:`ERROR_TARGETS` separately, on :data:`TUNING_RUNS` runs drawn from the tuning
    seed, by the median rollouts-to-target (misses at the budget); nominal CE has nothing to tune
    and LSPI starts from :data:`STABILIZING_START`. Every method also runs on the tuning runs, where
    each family's best method is chosen.

    Returns
    -------
    dict
        ``rollouts``, ``horizon``, ``budget``; ``curves[method]`` (CE, LSPI) and
        ``curves[(search, target)]`` (the search tuned for that target), each (n_seeds, T);
        ``hits[target][method]`` and ``tuning_hits[target][method]``; ``tuned[(search, target)]``;
        ``grid_sizes`` and ``tuning_runs``.
    """
    problem(name)
    return cached(_tuned, name=name, n_seeds=check_positive_int(n_seeds, "n_seeds"))


#: What each LQR record's CE method is told that its RL methods are not. LSPI computes its cost
#: data from Q and R and fits a quadratic Q-function, the counterpart of the linear model:
#: against it, CE is told nothing more ("same").
CE_GIVEN = "the cost matrices Q and R and that the dynamics are linear; the searches see only each rollout's total cost"
#: The records: (problem, target) pairs.
RECORDS = (("laplacian", 0.10), ("laplacian", 0.01), ("double integrator", 0.01))


def _tuning_text(out: dict, method: str, t: float) -> str:
    if method == "nominal CE":
        return "none needed"
    if method == "LSPI":
        return "none needed (given a stabilizing initial gain)"
    return grid_tuning(out["grid_sizes"][method], f"{TUNING_RUNS} runs drawn from seed {TUNING_SEED_START}") + \
        f", for the {t:.0%} target"


def headline(n_seeds: int = 20) -> list[dict]:
    """Scoreboard records, per problem and target: nominal CE against LSPI (``"same"``: both are
    told Q, R and the linear-quadratic form) and against the searches (``"more"``)."""
    records = []
    for name, t in RECORDS:
        out = comparison(name, n_seeds)
        prob = problem(name)
        for information, rl in (("same", ("LSPI",)), ("more", SEARCHES)):
            methods = [MethodResult(m, "ce" if m == "nominal CE" else "rl", out["hits"][t][m], _tuning_text(out, m, t),
                                    out["tuning_hits"][t][m]) for m in ("nominal CE", *rl)]
            records.append(make_record(
                chapter="lqr", task=f"{prob.name}, rollouts of {out['horizon']} steps",
                metric=f"rollouts until the relative cost error is below {t:.0%}", target=t,
                budget=out["budget"], information=information, ce_given=CE_GIVEN if information == "more" else "",
                methods=methods))
    return records
