r"""Robust certainty equivalence for LQR: Coarse-ID control (Dean, Mania, Matni, Recht & Tu).

Used by the chapter :ref:`ch-robust`. The recipe has three steps:

1. fit :math:`(\hat A, \hat B)` by least squares (:func:`ce_lib.lqr.fit_dynamics`);
2. estimate how wrong the fit may be, :math:`\|A - \hat A\|_2 \le \epsilon_A`,
   :math:`\|B - \hat B\|_2 \le \epsilon_B`, by the bootstrap (:func:`bootstrap_errors`);
3. synthesize a controller that is guaranteed to stabilize *every* system in that set, and
   minimizes a bound on its cost: by System Level Synthesis over finite impulse responses
   (:func:`sls_synthesis`), or by the simpler common-Lyapunov static gain (:func:`robust_static_gain`).

Both syntheses are convex programs written in cvxpy and solved with CLARABEL (SCS as a fallback).
An infeasible program is a result with ``status == "infeasible"`` -- the method declines to
control with the data it has -- never an exception.
"""

from __future__ import annotations

import time
from typing import NamedTuple, Sequence

import numpy as np

from .experiments import (Seed, as_rng, check_positive_int,
                          check_real)
from .lqr import (check_system, lqr_cost, rollouts,
                  spectral_radius)

__all__ = [
    "RobustResult", "bootstrap_errors", "sls_synthesis", "robust_static_gain", "sls_cost",
    "sls_closed_loop", "sample_uncertainty", "ROBUSTNESS_LEVELS",
]


class RobustResult(NamedTuple):
    """Outcome of a robust synthesis."""

    status: str  # "optimal", "infeasible" or "solver_error: ..."
    phi_x: np.ndarray | None  # (F, n, n) impulse response from disturbance to state (SLS only)
    phi_u: np.ndarray | None  # (F, m, n) impulse response from disturbance to input (SLS only)
    K: np.ndarray | None  # (m, n) static gain (static synthesis only)
    gamma: float  # robustness level used (SLS: H-infinity bound on the uncertainty channel)
    bound: float  # guaranteed bound on the cost of the true system (inf if infeasible)
    solve_time: float  # seconds spent in the solver(s)
    solver: str  # the solver that produced the answer

    @property
    def ok(self) -> bool:
        """True when the synthesis returned a controller."""
        return self.status == "optimal"


def _check_eps(eps, name):
    return check_real(eps, name, low=0.0)


SOLVERS = ("CLARABEL", "SCS")


def _check_solver(solver):
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    return solver


# ----------------------------------------------------------------------------------------------
# Step 2: how wrong may the model be? The bootstrap
# ----------------------------------------------------------------------------------------------


def bootstrap_errors(A_hat, B_hat, n_rollouts: int, horizon: int, sigma_w: float, seed: Seed, *, n_boot: int = 100,
                     delta: float = 0.05, sigma_u: float = 1.0) -> tuple[float, float]:
    r"""Parametric bootstrap of the least-squares errors (Dean et al., Algorithm 2).

    Simulate ``n_boot`` data sets of the same design from the *fitted* model with noise level
    ``sigma_w``, refit each, and return the :math:`1 - \delta` quantiles of
    :math:`\|\tilde A - \hat A\|_2` and :math:`\|\tilde B - \hat B\|_2`.

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, fit_dynamics, rollouts
    >>> from ce_lib.robust import bootstrap_errors
    >>> p = double_integrator()
    >>> A_hat, B_hat = fit_dynamics(*rollouts(p.A, p.B, n_rollouts=20, horizon=6, seed=0))
    >>> [round(e, 3) for e in bootstrap_errors(A_hat, B_hat, n_rollouts=20, horizon=6, sigma_w=1.0, seed=1)]
    [0.139, 0.199]
    """
    A_hat, B_hat = check_system(A_hat, B_hat, stabilizable=False)
    n_boot = check_positive_int(n_boot, "n_boot", minimum=2)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    sigma_w = check_real(sigma_w, "sigma_w", low=0.0)
    X, U, Xn = rollouts(A_hat, B_hat, n_rollouts, horizon, seed, sigma_u=sigma_u, sigma_w=sigma_w, batch=n_boot)
    n, m = B_hat.shape
    Z = np.concatenate([X, U], axis=2)
    G = np.einsum("bti,btj->bij", Z, Z)
    rhs = np.einsum("bti,btj->bij", Z, Xn)
    th = np.linalg.solve(G, rhs)
    eA = np.linalg.norm(np.transpose(th[:, :n], (0, 2, 1)) - A_hat, ord=2, axis=(1, 2))
    eB = np.linalg.norm(np.transpose(th[:, n:], (0, 2, 1)) - B_hat, ord=2, axis=(1, 2))
    return float(np.quantile(eA, 1 - delta)), float(np.quantile(eB, 1 - delta))


# ----------------------------------------------------------------------------------------------
# Step 3a: System Level Synthesis with a finite impulse response
# ----------------------------------------------------------------------------------------------

#: Robustness levels tried by :func:`sls_synthesis` (the outer one-dimensional search).
ROBUSTNESS_LEVELS = (0.2, 0.45, 0.7, 0.9)


def _solve(problem, solver):
    """Solve with ``solver``, falling back to the others on failure or an inaccurate answer.

    Returns (status, seconds, solver name); an answer the last solver marks inaccurate is accepted.
    """
    import warnings

    import cvxpy as cp

    order = [solver] + [s for s in ("CLARABEL", "SCS") if s != solver]
    last = "no solver ran"
    for i, name in enumerate(order):
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():  # cvxpy warns on inaccurate answers; we handle them here
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=name)
        except (cp.error.SolverError, ValueError) as err:
            last = f"{name}: {err}"
            continue
        elapsed = time.perf_counter() - t0
        final = i == len(order) - 1
        if problem.status == "optimal" or (problem.status == "optimal_inaccurate" and final):
            return "optimal", elapsed, name
        if problem.status == "infeasible" or (problem.status == "infeasible_inaccurate" and final):
            return "infeasible", elapsed, name
        last = f"{name}: {problem.status}"
    return f"solver_error: {last}", 0.0, order[-1]


def sls_synthesis(A_hat, B_hat, Q, R, eps_A: float, eps_B: float, *, fir: int = 15,
                  gammas: Sequence[float] = ROBUSTNESS_LEVELS, solver: str = "CLARABEL") -> RobustResult:
    r"""Robust LQR by System Level Synthesis over finite impulse responses (Dean et al., Section 4).

    The closed-loop responses :math:`\Phi_x(z) = \sum_{k=1}^F \Phi_x[k] z^{-k}` (disturbance to
    state) and :math:`\Phi_u(z)` (disturbance to input) of *any* controller satisfy the affine
    constraints :math:`\Phi_x[1] = I`, :math:`\Phi_x[k+1] = \hat A\Phi_x[k] + \hat B\Phi_u[k]` and
    :math:`\hat A\Phi_x[F] + \hat B\Phi_u[F] = 0`; conversely every such pair is achieved by the
    controller :math:`K = \Phi_u\Phi_x^{-1}`. For each robustness level :math:`\gamma` in
    ``gammas`` we solve

    .. math::
        \min_{\Phi}\ \sum_k \|Q^{1/2}\Phi_x[k]\|_F^2 + \|R^{1/2}\Phi_u[k]\|_F^2
        \quad\text{s.t.}\quad \text{affine constraints},\quad
        \big\|[\sqrt2\,\epsilon_A\Phi_x;\ \sqrt2\,\epsilon_B\Phi_u]\big\|_{\mathcal H_\infty} \le \gamma ,

    the :math:`\mathcal H_\infty` constraint written as a linear matrix inequality (the bounded real
    lemma for the shift-register realization of the FIR system). If it holds with
    :math:`\gamma < 1`, the controller stabilizes every :math:`(A, B)` with
    :math:`\|A - \hat A\|_2 \le \epsilon_A`, :math:`\|B - \hat B\|_2 \le \epsilon_B`, and its cost
    on any of them is at most :math:`\text{objective}/(1-\gamma)^2`. The level with the smallest
    bound is returned.

    Examples
    --------
    >>> import numpy as np
    >>> from ce_lib.lqr import double_integrator, fit_dynamics, rollouts
    >>> from ce_lib.robust import sls_synthesis
    >>> p = double_integrator()
    >>> A_hat, B_hat = fit_dynamics(*rollouts(p.A, p.B, n_rollouts=20, horizon=6, seed=0))
    >>> res = sls_synthesis(A_hat, B_hat, p.Q, p.R, eps_A=0.05, eps_B=0.05, fir=8)
    >>> res.status, res.gamma  # certified at the smallest robustness level that was feasible
    ('optimal', 0.45)
    """
    import cvxpy as cp

    A_hat, B_hat, Q, R = check_system(A_hat, B_hat, Q, R, stabilizable=False)
    eps_A, eps_B = _check_eps(eps_A, "eps_A"), _check_eps(eps_B, "eps_B")
    _check_solver(solver)
    F = check_positive_int(fir, "fir", minimum=2)
    if isinstance(gammas, (str, bytes)) or not hasattr(gammas, "__iter__"):
        raise TypeError(f"gammas must be a sequence of numbers in (0, 1), got {gammas!r}")
    gammas = [check_real(g, "gammas (each)", low=0.0, high=1.0, low_open=True, high_open=True) for g in gammas]
    if not gammas:
        raise ValueError("gammas must not be empty")
    n, m = B_hat.shape
    Qh, Rh = np.linalg.cholesky(Q + 1e-12 * np.eye(n)).T, np.linalg.cholesky(R).T
    Px = [cp.Variable((n, n)) for _ in range(F)]
    Pu = [cp.Variable((m, n)) for _ in range(F)]
    cons = [Px[0] == np.eye(n)]
    cons += [Px[k + 1] == A_hat @ Px[k] + B_hat @ Pu[k] for k in range(F - 1)]
    cons += [A_hat @ Px[F - 1] + B_hat @ Pu[F - 1] == 0]
    objective = sum(cp.sum_squares(Qh @ Px[k]) + cp.sum_squares(Rh @ Pu[k]) for k in range(F))
    # H-infinity bound of G(z) = sum_k G_k z^{-k}, G_k = [s eps_A Phi_x[k]; s eps_B Phi_u[k]], via the
    # bounded real lemma on the realization (shift register of past disturbances, C = [G_1 ... G_F]).
    s = np.sqrt(2.0)
    C = cp.hstack([cp.vstack([s * eps_A * Px[k], s * eps_B * Pu[k]]) for k in range(F)])
    N = F * n
    As = np.zeros((N, N))
    As[n:, :-n] = np.eye(N - n)
    Bs = np.zeros((N, n))
    Bs[:n] = np.eye(n)
    P = cp.Variable((N, N), symmetric=True)
    g2 = cp.Parameter(nonneg=True)
    p = n + m
    lmi = cp.bmat([
        [As.T @ P @ As - P, As.T @ P @ Bs, C.T],
        [Bs.T @ P @ As, Bs.T @ P @ Bs - g2 * np.eye(n), np.zeros((n, p))],
        [C, np.zeros((p, n)), -np.eye(p)],
    ])
    # P >= 0 is implied: the shift matrix is nilpotent, so the LMI gives P >= sum_k (As^k)^T C^T C As^k.
    prob = cp.Problem(cp.Minimize(objective), cons + [(lmi + lmi.T) / 2 << 0])
    best, total, last_status, used = None, 0.0, "infeasible", solver
    for g in gammas:
        g2.value = g * g
        status, elapsed, used = _solve(prob, solver)
        total += elapsed
        last_status = status
        if status != "optimal":
            continue
        bound = float(prob.value) / (1.0 - g) ** 2
        if best is None or bound < best[0]:
            best = (bound, g, np.array([v.value for v in Px]), np.array([v.value for v in Pu]))
    if best is None:
        status = "infeasible" if last_status == "infeasible" else last_status
        return RobustResult(status, None, None, None, float("nan"), float("inf"), total, used)
    bound, g, phx, phu = best
    return RobustResult("optimal", phx, phu, None, g, bound, total, used)


def sls_closed_loop(A, B, phi_x, phi_u):
    r"""Closed loop of the SLS controller on the system ``(A, B)`` as one linear system.

    The controller keeps the estimates :math:`\hat w` of past disturbances,
    :math:`\hat w_t = x_t - \sum_{k\ge2} \Phi_x[k]\,\hat w_{t+1-k}` and acts by
    :math:`u_t = \sum_{k\ge1} \Phi_u[k]\,\hat w_{t+1-k}` (on the nominal model,
    :math:`\hat w_t = w_{t-1}` exactly). With the state :math:`z_t = (x_t, \hat w_{t-1}, \dots,
    \hat w_{t-F+1})` the loop is :math:`z_{t+1} = M z_t + E w_t`, :math:`u_t = G_u z_t`.

    Returns
    -------
    (M, E, G_x, G_u)
    """
    F, n, _ = phi_x.shape
    N = n * F  # x_t plus F - 1 past disturbance estimates
    # w_hat_t = G_w z_t
    G_w = np.zeros((n, N))
    G_w[:, :n] = np.eye(n)
    for j in range(1, F):
        G_w[:, j * n:(j + 1) * n] = -phi_x[j]
    G_u = phi_u[0] @ G_w
    for j in range(1, F):
        G_u[:, j * n:(j + 1) * n] += phi_u[j]
    G_x = np.zeros((n, N))
    G_x[:, :n] = np.eye(n)
    M = np.zeros((N, N))
    M[:n] = A @ G_x + B @ G_u
    if F > 1:
        M[n:2 * n] = G_w
        M[2 * n:, n:N - n] = np.eye(N - 2 * n)
    E = np.zeros((N, n))
    E[:n] = np.eye(n)
    return M, E, G_x, G_u


def sls_cost(A, B, Q, R, result: RobustResult, W=None) -> float:
    """Exact average cost of a synthesized controller on the system ``(A, B)`` (``inf`` if unstable
    or if the synthesis returned no controller)."""
    from scipy.linalg import solve_discrete_lyapunov

    A, B, Q, R = check_system(A, B, Q, R, stabilizable=False)
    if not result.ok:
        return float("inf")
    if result.K is not None:
        return lqr_cost(A, B, Q, R, result.K, W)
    M, E, G_x, G_u = sls_closed_loop(A, B, result.phi_x, result.phi_u)
    if spectral_radius(M) >= 1.0:
        return float("inf")
    W = np.eye(A.shape[0]) if W is None else np.asarray(W, float)
    S = solve_discrete_lyapunov(M, E @ W @ E.T)
    return float(np.trace(G_x.T @ Q @ G_x @ S) + np.trace(G_u.T @ R @ G_u @ S))


# ----------------------------------------------------------------------------------------------
# Step 3b: the simpler static gain with a common Lyapunov function
# ----------------------------------------------------------------------------------------------


def robust_static_gain(A_hat, B_hat, Q, R, eps_A: float, eps_B: float, solver: str = "CLARABEL") -> RobustResult:
    r"""A static gain with a guaranteed cost for every model in the uncertainty set.

    Find :math:`X \succ 0`, :math:`Y`, :math:`\lambda > 0` with :math:`K = Y X^{-1}` such that
    :math:`X \succeq (A_\Delta - B_\Delta K) X (A_\Delta - B_\Delta K)^\top + I` for *all*
    :math:`\|\Delta_A\| \le \epsilon_A`, :math:`\|\Delta_B\| \le \epsilon_B`. By the S-procedure
    (Petersen's lemma) this holds if

    .. math::
        \begin{bmatrix} X - I - \lambda(\epsilon_A^2 + \epsilon_B^2) I & \hat A X - \hat B Y & 0 \\
        (\hat A X - \hat B Y)^\top & X & [X,\ -Y^\top] \\ 0 & [X;\ -Y] & \lambda I \end{bmatrix}
        \succeq 0 .

    :math:`X` then bounds the stationary state covariance of every model in the set (one common
    Lyapunov function), and :math:`\operatorname{tr}(QX) + \operatorname{tr}(R K X K^\top)`
    bounds the cost; we minimize it (the second term through a Schur complement).

    Examples
    --------
    >>> from ce_lib.lqr import double_integrator, fit_dynamics, rollouts
    >>> from ce_lib.robust import robust_static_gain
    >>> p = double_integrator()
    >>> A_hat, B_hat = fit_dynamics(*rollouts(p.A, p.B, n_rollouts=20, horizon=6, seed=0))
    >>> res = robust_static_gain(A_hat, B_hat, p.Q, p.R, eps_A=0.05, eps_B=0.05)
    >>> res.status, res.K.shape
    ('optimal', (1, 2))
    """
    import cvxpy as cp

    A_hat, B_hat, Q, R = check_system(A_hat, B_hat, Q, R, stabilizable=False)
    eps_A, eps_B = _check_eps(eps_A, "eps_A"), _check_eps(eps_B, "eps_B")
    _check_solver(solver)
    n, m = B_hat.shape
    X = cp.Variable((n, n), symmetric=True)
    Y = cp.Variable((m, n))
    Z = cp.Variable((m, m), symmetric=True)
    lam = cp.Variable(nonneg=True)
    Rh = np.linalg.cholesky(R).T
    AXBY = A_hat @ X - B_hat @ Y
    big = cp.bmat([
        [X - np.eye(n) - lam * (eps_A ** 2 + eps_B ** 2) * np.eye(n), AXBY, np.zeros((n, n + m))],
        [AXBY.T, X, cp.hstack([X, -Y.T])],
        [np.zeros((n + m, n)), cp.vstack([X, -Y]), lam * np.eye(n + m)],
    ])
    cost_lmi = cp.bmat([[Z, Rh @ Y], [(Rh @ Y).T, X]])
    prob = cp.Problem(cp.Minimize(cp.trace(Q @ X) + cp.trace(Z)),
                      [(big + big.T) / 2 >> 0, (cost_lmi + cost_lmi.T) / 2 >> 0, X >> 1e-8 * np.eye(n)])
    status, elapsed, used = _solve(prob, solver)
    if status != "optimal":
        return RobustResult(status, None, None, None, float("nan"), float("inf"), elapsed, used)
    K = Y.value @ np.linalg.inv(X.value)
    return RobustResult("optimal", None, None, K, float("nan"), float(prob.value), elapsed, used)


def sample_uncertainty(A_hat, B_hat, eps_A: float, eps_B: float, n: int, seed: Seed):
    r"""Draw ``n`` systems :math:`(\hat A + \Delta_A, \hat B + \Delta_B)` with
    :math:`\|\Delta_A\|_2 = \epsilon_A` and :math:`\|\Delta_B\|_2 = \epsilon_B` (the boundary of
    the uncertainty set, where failures happen)."""
    A_hat, B_hat = check_system(A_hat, B_hat, stabilizable=False)
    eps_A, eps_B = _check_eps(eps_A, "eps_A"), _check_eps(eps_B, "eps_B")
    rng = as_rng(seed)
    out = []
    for _ in range(check_positive_int(n, "n")):
        dA = rng.standard_normal(A_hat.shape)
        dB = rng.standard_normal(B_hat.shape)
        out.append((A_hat + eps_A * dA / np.linalg.norm(dA, 2), B_hat + eps_B * dB / np.linalg.norm(dB, 2)))
    return out
