"""Tabular Markov decision processes: exact planning, the plug-in model, Q-learning and policy gradient.

Used by the chapter :ref:`ch-mdps`. An MDP here is finite: ``S`` states, ``A`` actions, a transition
tensor ``P[s, a, s']`` and rewards. The certainty-equivalent learner counts transitions, plans on the
empirical model as if it were true, and returns that plan; the model-free learners (Q-learning,
softmax policy gradient) update values or policy parameters from the same samples. Every returned
policy is scored **exactly** on the true model with :func:`policy_evaluation` (a linear solve), so
the curves carry no evaluation noise.

Two ways of getting samples, with the same accounting for every method:

* **generative model** (:func:`generative_experiment`): each round draws one next state for
  *every* pair :math:`(s, a)`; after ``n`` rounds every method has seen ``n * S * A`` transitions;
* **online** (:func:`online_experiment`): one trajectory per run in the real environment, one
  transition per step; the learner chooses where to go.

Everything is vectorized over seeds (a leading batch axis) with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np

from .experiments import (Seed, argmax_random_ties,
                          as_rng, check_positive_int, check_real,
                          log_grid)

__all__ = [
    "TabularMDP", "Solution", "frozen_lake", "cliff_walking", "check_gamma", "bellman_q",
    "value_iteration", "policy_iteration", "policy_evaluation", "suboptimality", "EmpiricalModel",
    "Sampler", "Q_SCHEDULES", "VR_SETTINGS", "step_sizes", "generative_experiment", "OnlineConfig",
    "OnlineLearner", "OptimisticCE", "QLearning", "OptimisticQLearning", "PolicyGradient", "online_runs",
    "online_experiment",
]


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------


def check_gamma(gamma: Any) -> float:
    """Return ``gamma`` as a float, raising ``ValueError`` unless it lies in [0, 1)."""
    return check_real(gamma, "gamma", low=0.0, high=1.0, high_open=True)


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A finite MDP with validated, read-only arrays.

    Parameters
    ----------
    P : array_like, shape (S, A, S)
        ``P[s, a, s']`` is the probability of moving to ``s'`` after action ``a`` in state ``s``;
        every row ``P[s, a]`` sums to one.
    R : array_like, shape (S, A) or (S, A, S)
        Rewards: the expected reward of each pair, or the reward of each transition
        ``R[s, a, s']`` (as in gymnasium's toy-text environments, where reaching the goal pays).
    mu : array_like, shape (S,)
        Distribution of the initial state.
    name : str
        A label for plots and tables.
    """

    P: np.ndarray  # (S, A, S) transition probabilities
    R: np.ndarray  # (S, A) expected reward, or (S, A, S) reward of each transition
    mu: np.ndarray  # (S,) initial-state distribution
    name: str = "MDP"  # label for plots and tables

    def __post_init__(self):
        P = _as_float(self.P, "P")
        if P.ndim != 3 or P.shape[0] != P.shape[2] or P.shape[0] == 0 or P.shape[1] == 0:
            raise ValueError(f"P must have shape (S, A, S) with S, A >= 1, got {P.shape}")
        if np.any(P < 0) or not np.allclose(P.sum(axis=2), 1.0, atol=1e-8):
            raise ValueError("P must be non-negative with every row P[s, a, :] summing to 1")
        R = _as_float(self.R, "R")
        if R.shape not in (P.shape[:2], P.shape):
            raise ValueError(f"R must have shape {P.shape[:2]} or {P.shape}, got {R.shape}")
        mu = _as_float(self.mu, "mu")
        if mu.shape != (P.shape[0],):
            raise ValueError(f"mu must have shape ({P.shape[0]},), got {mu.shape}")
        if np.any(mu < 0) or not np.isclose(mu.sum(), 1.0, atol=1e-8):
            raise ValueError("mu must be a probability distribution (non-negative, summing to 1)")
        for field, arr in (("P", P), ("R", R), ("mu", mu)):
            arr.setflags(write=False)
            object.__setattr__(self, field, arr)

    @property
    def n_states(self) -> int:
        """Number of states ``S``."""
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        """Number of actions ``A``."""
        return self.P.shape[1]

    @property
    def expected_reward(self) -> np.ndarray:
        """Expected reward of each pair, shape (S, A)."""
        if self.R.ndim == 2:
            return self.R
        return np.einsum("sat,sat->sa", self.P, self.R)

    @classmethod
    def from_gymnasium(cls, env, name: str | None = None) -> "TabularMDP":
        """Read the exact model of a gymnasium toy-text environment (FrozenLake, Taxi, CliffWalking).

        The environments list their dynamics in ``env.unwrapped.P[s][a]`` as tuples
        ``(probability, next_state, reward, terminated)``. A terminating transition is sent to one
        extra absorbing state (index ``S``, reward 0 forever), so the discounted value of the
        model equals the expected discounted return of an episode. Time limits (truncation) are
        not part of the model.
        """
        u = getattr(env, "unwrapped", env)
        table = getattr(u, "P", None)
        if not isinstance(table, dict):
            raise ValueError("env must be a toy-text gymnasium environment exposing its model as env.unwrapped.P")
        n_s, n_a = int(u.observation_space.n), int(u.action_space.n)
        S = n_s + 1
        P = np.zeros((S, n_a, S))
        Rw = np.zeros((S, n_a, S))  # probability-weighted reward, divided out below
        for s in range(n_s):
            for a in range(n_a):
                for prob, nxt, rew, term in table[s][a]:
                    t = n_s if term else int(nxt)
                    P[s, a, t] += prob
                    Rw[s, a, t] += prob * rew
        P[n_s, :, n_s] = 1.0
        R = np.divide(Rw, P, out=np.zeros_like(Rw), where=P > 0)
        mu = np.append(np.asarray(getattr(u, "initial_state_distrib", np.eye(n_s)[0]), float), 0.0)
        return cls(P, R, mu / mu.sum(), name or (u.spec.id if u.spec else type(u).__name__))


def _as_float(value, name):
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array") from err
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def frozen_lake(map_name: str = "8x8", slippery: bool = True) -> TabularMDP:
    """FrozenLake's exact model from gymnasium (``"4x4"`` or ``"8x8"``; slippery by default)."""
    import gymnasium as gym

    if map_name not in ("4x4", "8x8"):
        raise ValueError(f"map_name must be '4x4' or '8x8', got {map_name!r}")
    env = gym.make("FrozenLake-v1", map_name=map_name, is_slippery=bool(slippery))
    return TabularMDP.from_gymnasium(env, name=f"FrozenLake {map_name}" + (" (slippery)" if slippery else ""))


def cliff_walking() -> TabularMDP:
    """CliffWalking's exact model from gymnasium (deterministic; -1 per step, -100 for the cliff)."""
    import gymnasium as gym

    return TabularMDP.from_gymnasium(gym.make("CliffWalking-v1"), name="CliffWalking")


# ----------------------------------------------------------------------------------------------
# Exact planning and evaluation (batched internally: a leading axis of models)
# ----------------------------------------------------------------------------------------------


class Solution(NamedTuple):
    """Result of planning."""

    V: np.ndarray  # (S,) optimal values (to within the tolerance)
    Q: np.ndarray  # (S, A) action values
    policy: np.ndarray  # (S,) greedy deterministic policy
    iterations: int  # sweeps (value iteration) or improvement steps (policy iteration)


def _check_mdp(mdp):
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP, got {type(mdp).__name__}")
    return mdp


def _q_from_v(P, R, V, gamma):
    """Q[b, s, a] = R[b, s, a] + gamma * sum_t P[b, s, a, t] V[b, t] (batched)."""
    return R + gamma * np.einsum("bsat,bt->bsa", P, V)


def bellman_q(mdp: TabularMDP, V, gamma: float) -> np.ndarray:
    r"""One Bellman backup: :math:`Q(s, a) = r(s, a) + \gamma \sum_{s'} P(s' \mid s, a) V(s')`."""
    mdp = _check_mdp(mdp)
    gamma = check_gamma(gamma)
    V = np.asarray(V, dtype=float)
    if V.shape != (mdp.n_states,):
        raise ValueError(f"V must have shape ({mdp.n_states},), got {V.shape}")
    return _q_from_v(mdp.P[None], mdp.expected_reward[None], V[None], gamma)[0]


def value_iteration(mdp: TabularMDP, gamma: float, tol: float = 1e-8, max_iter: int = 1_000_000) -> Solution:
    r"""Value iteration, :math:`V_{k+1} = \max_a [r + \gamma P V_k]`, until :math:`\|V_k - V^\star\|_\infty \le` ``tol``.

    The stopping rule uses the contraction: once :math:`\|V_{k+1} - V_k\|_\infty \le
    \mathrm{tol}\,(1-\gamma)/\gamma`, the iterate is within ``tol`` of :math:`V^\star`.

    Returns
    -------
    Solution
        Values, action values, the greedy policy and the number of sweeps.

    Examples
    --------
    >>> from ce_lib.mdp import frozen_lake, value_iteration
    >>> lake = frozen_lake('4x4')
    >>> sol = value_iteration(lake, gamma=0.95)
    >>> round(float(sol.V[0]), 3), sol.policy[:4]  # value of the start, actions in the first row
    (0.18, array([0, 3, 0, 3]))
    """
    mdp = _check_mdp(mdp)
    gamma = check_gamma(gamma)
    if not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    max_iter = check_positive_int(max_iter, "max_iter")
    P, R = mdp.P[None], mdp.expected_reward[None]
    V = np.zeros((1, mdp.n_states))
    stop = tol * (1.0 - gamma) / max(gamma, 1e-300)
    for k in range(1, max_iter + 1):
        Q = _q_from_v(P, R, V, gamma)
        V_new = Q.max(axis=2)
        done = np.max(np.abs(V_new - V)) <= stop
        V = V_new
        if done:
            break
    else:
        raise RuntimeError(f"value iteration did not converge in max_iter={max_iter} sweeps")
    Q = _q_from_v(P, R, V, gamma)
    return Solution(V[0], Q[0], Q[0].argmax(axis=1), k)


def _evaluate_batch(P, R, policy, gamma):
    """Exact values of policies on a batch of models: solve (I - gamma P_pi) V = r_pi.

    ``P``: (B, S, A, S); ``R``: (B, S, A); ``policy``: (B, S) actions or (B, S, A) probabilities.
    """
    B, S, A, _ = P.shape
    if policy.ndim == 2:
        policy = np.eye(A)[policy]
    P_pi = np.einsum("bsa,bsat->bst", policy, P)
    r_pi = np.einsum("bsa,bsa->bs", policy, R)
    return np.linalg.solve(np.eye(S)[None] - gamma * P_pi, r_pi[..., None])[..., 0]


def _greedy(Q, current=None, atol=1e-10):
    """argmax over the last axis; keeps the current action when it is within ``atol`` of the best."""
    best = Q.argmax(axis=-1)
    if current is None:
        return best
    q_cur = np.take_along_axis(Q, current[..., None], axis=-1)[..., 0]
    return np.where(q_cur >= Q.max(axis=-1) - atol, current, best)


def _policy_iteration_batch(P, R, gamma, max_iter=10_000):
    policy = R.argmax(axis=2)
    for k in range(1, max_iter + 1):
        V = _evaluate_batch(P, R, policy, gamma)
        Q = _q_from_v(P, R, V, gamma)
        new = _greedy(Q, policy)
        if np.array_equal(new, policy):
            return V, Q, policy, k
        policy = new
    raise RuntimeError(f"policy iteration did not converge in max_iter={max_iter} steps")


def policy_iteration(mdp: TabularMDP, gamma: float, max_iter: int = 10_000) -> Solution:
    r"""Howard's policy iteration: evaluate exactly (a linear solve), improve greedily, repeat.

    Terminates in finitely many steps with an optimal policy; ties keep the current action so the
    iteration cannot cycle.

    Examples
    --------
    >>> from ce_lib.mdp import frozen_lake, policy_iteration, value_iteration
    >>> lake = frozen_lake('4x4')
    >>> sol = policy_iteration(lake, gamma=0.95)
    >>> bool((sol.policy == value_iteration(lake, gamma=0.95).policy).all()), round(float(sol.V[0]), 3)
    (True, 0.18)
    """
    mdp = _check_mdp(mdp)
    gamma = check_gamma(gamma)
    max_iter = check_positive_int(max_iter, "max_iter")
    V, Q, pi, k = _policy_iteration_batch(mdp.P[None], mdp.expected_reward[None], gamma, max_iter)
    return Solution(V[0], Q[0], pi[0], k)


def _check_policy(policy, mdp):
    pol = np.asarray(policy)
    S, A = mdp.n_states, mdp.n_actions
    if pol.shape == (S,):
        if not np.issubdtype(pol.dtype, np.integer) or np.any(pol < 0) or np.any(pol >= A):
            raise ValueError(f"policy of shape ({S},) must hold integer actions in [0, {A})")
        return pol.astype(int)
    if pol.shape == (S, A):
        pol = pol.astype(float)
        if np.any(pol < 0) or not np.allclose(pol.sum(axis=1), 1.0, atol=1e-8):
            raise ValueError("policy of shape (S, A) must hold probabilities summing to 1 per state")
        return pol
    raise ValueError(f"policy must have shape ({S},) (actions) or ({S}, {A}) (probabilities), got {pol.shape}")


def policy_evaluation(mdp: TabularMDP, policy, gamma: float) -> np.ndarray:
    r"""Exact discounted value of a policy: :math:`V^\pi = (I - \gamma P_\pi)^{-1} r_\pi`.

    Parameters
    ----------
    policy : array_like, shape (S,) or (S, A)
        Deterministic actions, or action probabilities per state.
    """
    mdp = _check_mdp(mdp)
    gamma = check_gamma(gamma)
    pol = _check_policy(policy, mdp)
    return _evaluate_batch(mdp.P[None], mdp.expected_reward[None], pol[None], gamma)[0]


def suboptimality(mdp: TabularMDP, policy, gamma: float) -> float:
    r"""Relative loss at the start: :math:`(V^\star(\mu) - V^\pi(\mu)) / |V^\star(\mu)|`."""
    v_star = mdp.mu @ policy_iteration(mdp, gamma).V
    return float((v_star - mdp.mu @ policy_evaluation(mdp, policy, gamma)) / abs(v_star))


# ----------------------------------------------------------------------------------------------
# Sampling and the empirical model
# ----------------------------------------------------------------------------------------------


class Sampler:
    """Draws next states and rewards for many (state, action) queries at once.

    Each row ``P[s, a]`` is stored by its support only (FrozenLake has at most three outcomes),
    so a draw is one uniform number and a comparison with a short cumulative sum.
    """

    def __init__(self, mdp: TabularMDP):
        _check_mdp(mdp)
        S = mdp.n_states
        K = int((mdp.P > 0).sum(axis=2).max())
        order = np.argsort(-mdp.P, axis=2, kind="stable")[:, :, :K]
        self.next = order
        probs = np.take_along_axis(mdp.P, order, axis=2)
        self.cum = np.cumsum(probs, axis=2)
        self.cum[:, :, -1] = 1.0 + 1e-12
        R3 = mdp.R if mdp.R.ndim == 3 else np.repeat(mdp.R[:, :, None], S, axis=2)
        self.reward = np.take_along_axis(R3, order, axis=2)
        self.mu_cum = np.cumsum(mdp.mu)
        self.mu_cum[-1] = 1.0 + 1e-12

    def step(self, s, a, rng: np.random.Generator):
        u = rng.random(np.shape(s))
        k = (u[..., None] >= self.cum[s, a]).sum(axis=-1)
        return self.next[s, a, k], self.reward[s, a, k]

    def reset(self, shape, rng: np.random.Generator):
        return np.searchsorted(self.mu_cum, rng.random(shape), side="right")


class EmpiricalModel:
    """Counts of transitions and reward sums for a batch of runs: the certainty-equivalent model.

    ``estimate()`` returns :math:`\\hat P(s' \\mid s, a) = N(s, a, s') / N(s, a)` and the mean reward;
    a pair never tried is modelled as a self-loop with reward ``unseen_reward`` (0 by default).
    """

    def __init__(self, batch: int, n_states: int, n_actions: int):
        batch = check_positive_int(batch, "batch")
        n_states = check_positive_int(n_states, "n_states")
        n_actions = check_positive_int(n_actions, "n_actions")
        self.counts = np.zeros((batch, n_states, n_actions, n_states))
        self.reward_sum = np.zeros((batch, n_states, n_actions))

    def add(self, b, s, a, s_next, r):
        """Record transitions; all arguments are arrays of equal shape (``b`` indexes the run)."""
        np.add.at(self.counts, (b, s, a, s_next), 1.0)
        np.add.at(self.reward_sum, (b, s, a), r)

    def visits(self):
        """N(s, a) per run, shape (B, S, A)."""
        return self.counts.sum(axis=3)

    def estimate(self, unseen_reward: float = 0.0):
        """(P_hat, R_hat) with shapes (B, S, A, S) and (B, S, A)."""
        n = self.visits()
        seen = n > 0
        S = self.counts.shape[1]
        P = np.where(seen[..., None], self.counts / np.maximum(n, 1)[..., None],
                     np.eye(S)[None, :, None, :])
        R = np.where(seen, self.reward_sum / np.maximum(n, 1), unseen_reward)
        return P, R


# ----------------------------------------------------------------------------------------------
# Generative model: plug-in planning versus synchronous Q-learning on the same samples
# ----------------------------------------------------------------------------------------------

#: Step-size schedules tried for Q-learning (the tuning grid). ``t`` counts rounds from 1.
#: "rescaled linear" is the schedule of Li, Cai, Chen, Wei & Chi's analysis; polynomial and
#: constant steps are the usual alternatives (Even-Dar & Mansour).
Q_SCHEDULES = (
    ("rescaled linear", 0.5), ("rescaled linear", 1.0), ("rescaled linear", 2.0), ("rescaled linear", 4.0),
    ("polynomial", 0.6), ("polynomial", 0.7), ("polynomial", 0.8),
    ("constant", 0.05), ("constant", 0.2),
)


def step_sizes(kind: str, param: float, t: np.ndarray, gamma: float) -> np.ndarray:
    r"""Q-learning step size at round ``t`` (from 1).

    ``"rescaled linear"``: :math:`\alpha_t = 1 / (1 + c (1-\gamma) t)`; ``"polynomial"``:
    :math:`\alpha_t = t^{-\omega}`; ``"constant"``: :math:`\alpha_t = \alpha`.
    """
    t = np.asarray(t, dtype=float)
    if kind == "rescaled linear":
        return 1.0 / (1.0 + param * (1.0 - gamma) * t)
    if kind == "polynomial":
        return t ** (-param)
    if kind == "constant":
        return np.full_like(t, param)
    raise ValueError(f"kind must be 'rescaled linear', 'polynomial' or 'constant', got {kind!r}")


#: Variance-reduced Q-learning settings tried (the tuning grid): (inner rounds per epoch M, first
#: recentering rounds N_0). Epoch k recenters on N_0 * 4**k rounds, as in Wainwright's schedule,
#: then runs M rounds of recentred updates with the rescaled linear step 1 / (1 + (1 - gamma) t).
VR_SETTINGS = tuple((m, n0) for m in (100, 300, 1000, 3000) for n0 in (2, 8, 32, 128, 512))


def _relative_gap(v_star_mu, values, mu):
    return (v_star_mu - values @ mu) / abs(v_star_mu)


def generative_experiment(mdp: TabularMDP, gamma: float, n_max: int, n_runs: int, seed: Seed = 0,
                          schedules: Sequence[tuple] = Q_SCHEDULES, vr_settings: Sequence[tuple] = ()) -> dict:
    r"""Plug-in model versus synchronous and variance-reduced Q-learning with a generative model, on
    the same samples.

    Every round draws one transition from every pair :math:`(s, a)` (``S * A`` samples). The
    certainty-equivalent learner counts them and plans on the empirical model (policy iteration);
    synchronous Q-learning applies, to every pair,

    .. math:: Q(s, a) \leftarrow (1 - \alpha_t) Q(s, a) + \alpha_t \big(r + \gamma \max_{a'} Q(s', a')\big)

    with each schedule in ``schedules``. Variance-reduced Q-learning (Wainwright, 2019; the
    recentring idea of Sidford et al., 2018), one run per setting ``(M, N0)`` of ``vr_settings``,
    works in epochs: it first spends :math:`N_k = N_0 4^k` rounds estimating the Bellman operator
    at a reference point, :math:`\tilde T(\bar Q) = \frac{1}{N_k}\sum (r + \gamma \max_{a'}
    \bar Q(s', a'))`, then :math:`M` rounds of recentred updates from :math:`Q = \bar Q`,

    .. math:: Q \leftarrow (1 - \alpha_t) Q + \alpha_t \big(\gamma \max_{a'} Q(s', a')
              - \gamma \max_{a'} \bar Q(s', a') + \tilde T(\bar Q)\big), \qquad
              \alpha_t = \frac{1}{1 + (1-\gamma) t},

    each round's one sample used for both :math:`Q` and :math:`\bar Q` (so their noise cancels),
    and ends the epoch with :math:`\bar Q \leftarrow Q`. Every learner reads the same draws. At
    checkpoints (about eight per decade of rounds) each learner's greedy policy is scored exactly.

    Returns
    -------
    dict
        ``samples`` (total transitions at each checkpoint), ``rounds``, ``gap_ce`` of shape
        (n_runs, T), ``gap_q`` of shape (len(schedules), n_runs, T), ``gap_vr`` of shape
        (len(vr_settings), n_runs, T), ``schedules``, ``vr_settings``; the gap is the relative loss
        at the start :math:`(V^\star(\mu) - V^\pi(\mu)) / V^\star(\mu)`.

    Examples
    --------
    >>> from ce_lib.mdp import frozen_lake, generative_experiment
    >>> out = generative_experiment(frozen_lake('4x4'), gamma=0.9, n_max=20, n_runs=4, seed=0)
    >>> out['gap_ce'].shape, round(float(out['gap_ce'][:, -1].mean()), 3)  # plug-in's loss after 20 rounds
    ((4, 9), 0.21)
    """
    mdp = _check_mdp(mdp)
    gamma = check_gamma(gamma)
    n_max = check_positive_int(n_max, "n_max")
    B = check_positive_int(n_runs, "n_runs")
    for kind, param in schedules:
        step_sizes(kind, param, np.ones(1), gamma)
    vr_settings = [tuple(v) for v in vr_settings]
    for v in vr_settings:
        if len(v) != 2 or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1 for x in v):
            raise ValueError(f"vr_settings must be pairs (M, N0) of positive integers, got {v!r}")
    if not schedules and not vr_settings:
        raise ValueError("schedules and vr_settings must not both be empty")
    rng = as_rng(seed)
    S, A = mdp.n_states, mdp.n_actions
    sampler = Sampler(mdp)
    v_star_mu = mdp.mu @ policy_iteration(mdp, gamma).V
    P_true, R_true = mdp.P, mdp.expected_reward
    C = len(schedules)
    checks = log_grid(n_max, per_decade=8)
    s_idx = np.broadcast_to(np.arange(S)[None, :, None], (B, S, A))
    a_idx = np.broadcast_to(np.arange(A)[None, None, :], (B, S, A))
    counts = np.zeros((B, S, A, S))
    reward_sum = np.zeros((B, S, A))
    Q = np.zeros((C, B, S, A))
    gap_ce = np.empty((B, checks.size))
    gap_q = np.empty((C, B, checks.size))
    V_ = len(vr_settings)
    vr = _VarianceReduced(vr_settings, B, S, A, gamma)
    gap_vr = np.empty((V_, B, checks.size))
    b_idx = np.broadcast_to(np.arange(B)[:, None, None], (B, S, A))
    j = 0
    for t in range(1, n_max + 1):
        s_next, r = sampler.step(s_idx, a_idx, rng)
        np.add.at(counts, (b_idx, s_idx, a_idx, s_next), 1.0)
        reward_sum += r
        alpha = np.array([step_sizes(k, p, np.array([t]), gamma)[0] for k, p in schedules])
        target = r[None] + gamma * np.take_along_axis(Q.max(axis=3), np.broadcast_to(s_next.reshape(1, B, S * A), (C, B, S * A)),
                                                      axis=2).reshape(C, B, S, A)
        Q += alpha[:, None, None, None] * (target - Q)
        if V_:
            vr.step(s_next, r)
        if t == checks[j]:
            P_hat = counts / t
            pi_ce = _policy_iteration_batch(P_hat, reward_sum / t, gamma)[2]
            gap_ce[:, j] = _relative_gap(v_star_mu, _evaluate_batch(np.broadcast_to(P_true, (B, S, A, S)),
                                                                      np.broadcast_to(R_true, (B, S, A)), pi_ce, gamma), mdp.mu)
            pi_q = Q.argmax(axis=3).reshape(C * B, S)
            vals = _evaluate_batch(np.broadcast_to(P_true, (C * B, S, A, S)), np.broadcast_to(R_true, (C * B, S, A)), pi_q, gamma)
            gap_q[:, :, j] = _relative_gap(v_star_mu, vals, mdp.mu).reshape(C, B)
            if V_:
                pi_vr = vr.Q.argmax(axis=3).reshape(V_ * B, S)
                vals = _evaluate_batch(np.broadcast_to(P_true, (V_ * B, S, A, S)),
                                       np.broadcast_to(R_true, (V_ * B, S, A)), pi_vr, gamma)
                gap_vr[:, :, j] = _relative_gap(v_star_mu, vals, mdp.mu).reshape(V_, B)
            j += 1
    return {"samples": checks * S * A, "rounds": checks, "gap_ce": gap_ce, "gap_q": gap_q, "gap_vr": gap_vr,
            "schedules": list(schedules), "vr_settings": vr_settings, "v_star": float(v_star_mu),
            "q_final": Q, "q_vr_final": vr.Q}


class _VarianceReduced:
    """The state of variance-reduced Q-learning for several settings (M, N0) at once (see
    :func:`generative_experiment`); every setting follows its own epoch schedule."""

    def __init__(self, settings, B, S, A, gamma):
        self.settings, self.gamma = settings, gamma
        V = len(settings)
        self.Q = np.zeros((V, B, S, A))
        self.Qbar = np.zeros((V, B, S, A))
        self.T_sum = np.zeros((V, B, S, A))
        self.epoch = np.zeros(V, int)
        self.count = np.zeros(V, int)  # rounds spent in the current phase
        self.inner = np.zeros(V, bool)  # False: recentring; True: recentred updates

    def step(self, s_next, r):
        B, S, A = r.shape
        flat = s_next.reshape(B, S * A)
        for v, (m, n0) in enumerate(self.settings):
            boot_bar = np.take_along_axis(self.Qbar[v].max(axis=2), flat, axis=1).reshape(B, S, A)
            self.count[v] += 1
            if not self.inner[v]:
                self.T_sum[v] += r + self.gamma * boot_bar
                if self.count[v] == n0 * 4 ** self.epoch[v]:
                    self.T_sum[v] /= self.count[v]  # now the recentring estimate T(Qbar)
                    self.inner[v], self.count[v] = True, 0
                continue
            alpha = 1.0 / (1.0 + (1.0 - self.gamma) * self.count[v])
            boot = np.take_along_axis(self.Q[v].max(axis=2), flat, axis=1).reshape(B, S, A)
            self.Q[v] += alpha * (self.gamma * (boot - boot_bar) + self.T_sum[v] - self.Q[v])
            if self.count[v] == m:
                self.Qbar[v] = self.Q[v]
                self.T_sum[v] = 0.0
                self.epoch[v] += 1
                self.inner[v], self.count[v] = False, 0


# ----------------------------------------------------------------------------------------------
# Online: one trajectory per run, the learner chooses where to go
# ----------------------------------------------------------------------------------------------


class OnlineConfig(NamedTuple):
    """One learner of the online experiment."""

    method: str  # "ce-optimism", "q-learning", "policy-gradient" or "optimistic-q"
    param: float  # CE's and optimistic Q-learning's bonus scale beta (>= 0); Q-learning's, policy gradient's step size
    epsilon: float = 0.0  # Q-learning's exploration rate (unused by the others)

    @property
    def label(self) -> str:
        """A short name with the tuning parameters."""
        if self.method == "ce-optimism":
            if self.param == 0:
                return "CE without the bonus (beta = 0)"
            return f"CE + optimism (beta = {self.param:g})"
        if self.method == "q-learning":
            return f"Q-learning (alpha = {self.param:g}, eps = {self.epsilon:g})"
        if self.method == "optimistic-q":
            return f"optimistic Q-learning (beta = {self.param:g})"
        return f"policy gradient (alpha = {self.param:g})"


_METHODS = ("ce-optimism", "q-learning", "policy-gradient", "optimistic-q")


def _terminal_states(mdp):
    """Absorbing zero-reward states: where an episode ends (the extra state of from_gymnasium)."""
    diag = mdp.P[np.arange(mdp.n_states), :, np.arange(mdp.n_states)]
    return np.all(diag == 1.0, axis=1) & np.all(mdp.expected_reward == 0.0, axis=1)


def _optimistic_plan(P_hat, R_hat, n, beta, terminal, gamma, r_max, policy=None):
    """Greedy policy of the optimistic model: untried pairs pay ``r_max`` forever (as in R-max) and
    tried ones earn the bonus ``beta / sqrt(n)`` on top of their mean reward (MBIE-EB)."""
    known = n > 0
    R_hat = R_hat + beta[:, None, None] / np.sqrt(np.maximum(n, 1))
    B, S, A, _ = P_hat.shape
    P = np.where(known[..., None], P_hat, 0.0)
    R = np.where(known, R_hat, 0.0)
    # Unknown pairs are worth v_max: model them as one step to an extra "heaven" state.
    P = np.concatenate([P, (~known)[..., None].astype(float)], axis=3)
    R = R + np.where(known, 0.0, r_max)
    heaven = np.zeros((B, 1, A, S + 1))
    heaven[..., S] = 1.0
    P = np.concatenate([P, heaven], axis=1)
    R = np.concatenate([R, np.full((B, 1, A), r_max)], axis=1)
    # Terminal states are known to be absorbing (the environment says "terminated").
    term = np.flatnonzero(terminal)
    P[:, term] = np.eye(S + 1)[term][None, :, None, :]
    R[:, term] = 0.0
    init = None if policy is None else np.concatenate([policy, np.zeros((B, 1), int)], axis=1)
    pol = init if init is not None else R.argmax(axis=2)
    for _ in range(10_000):
        V = _evaluate_batch(P, R, pol, gamma)
        new = _greedy(_q_from_v(P, R, V, gamma), pol)
        if np.array_equal(new, pol):
            break
        pol = new
    return pol[:, :S]


def _softmax(x):
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _per_run(value, n_runs: int, name: str) -> np.ndarray:
    """A learner's setting for each of ``n_runs`` runs (a number is shared by all)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n_runs, float(arr))
    if arr.shape != (n_runs,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite number or one per run ({n_runs}), got {value!r}")
    return arr


class OnlineLearner:
    """A tabular learner that collects its own data: a batch of runs, one trajectory each.

    :func:`online_runs` drives it. Before the first step it calls ``start(mdp, gamma, n_runs,
    episode_cap)``; every step ``act(s, rng)`` (one action per run, drawing any randomness from
    ``rng``), then ``update(s, a, r, s_next, done, ended)`` with the transition of every run
    (``done``: the environment ended the episode; ``ended``: the episode ended, by ``done`` or by
    the step cap, and the next state is a fresh start). ``returned_policy()`` is what the learner
    would hand over now, as action probabilities of shape (n_runs, S, A). A setting given as a
    number is shared by every run; an array gives one per run.
    """

    name = "online learner"

    def start(self, mdp: TabularMDP, gamma: float, n_runs: int, episode_cap: int) -> None:
        self.S, self.A, self.gamma, self.n_runs = mdp.n_states, mdp.n_actions, gamma, n_runs
        self.terminal = _terminal_states(mdp)

    def act(self, s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def update(self, s, a, r, s_next, done, ended) -> None:
        raise NotImplementedError

    def returned_policy(self) -> np.ndarray:
        raise NotImplementedError


class OptimisticCE(OnlineLearner):
    r"""Certainty equivalence with optimism: count transitions, plan on the empirical model.

    Acts greedily on an optimistic version of the empirical model: an untried pair pays ``r_max``
    forever (as in R-max, Brafman & Tennenholtz) and a tried one earns the bonus
    :math:`\beta / \sqrt{N(s, a)}` (MBIE-EB, Strehl & Littman); re-plans with policy iteration
    whenever a pair is tried for the first time and every ``replan_every`` steps. Its *returned*
    policy is the plan on the plain empirical model (untried pairs pay nothing). ``beta = 0`` is CE
    with only the R-max optimism about untried pairs.

    Examples
    --------
    >>> from ce_lib.mdp import OptimisticCE, frozen_lake, online_runs
    >>> out = online_runs(frozen_lake('4x4'), 0.9, OptimisticCE(beta=1.0), budget=1000, n_runs=4, seed=0)
    >>> out['gap'][:, -1].round(3)  # each run's relative loss after 1,000 steps
    array([0.102, 0.37 , 0.246, 0.172])
    """

    name = "ce-optimism"

    def __init__(self, beta=1.0, r_max: float = 1.0, replan_every: int = 50):
        self.beta, self.r_max = beta, check_real(r_max, "r_max")
        self.replan_every = check_positive_int(replan_every, "replan_every")

    def start(self, mdp, gamma, n_runs, episode_cap):
        super().start(mdp, gamma, n_runs, episode_cap)
        self.betas = _per_run(self.beta, n_runs, "beta")
        if np.any(self.betas < 0):
            raise ValueError(f"beta must be >= 0, got {self.beta!r}")
        self.model = EmpiricalModel(n_runs, self.S, self.A)
        self.policy = np.zeros((n_runs, self.S), int)
        self.known_before = np.zeros((n_runs, self.S, self.A), bool)
        self.steps = 0

    def act(self, s, rng: np.random.Generator):
        return self.policy[np.arange(self.n_runs), s]

    def update(self, s, a, r, s_next, done, ended):
        self.model.add(np.arange(self.n_runs), s, a, s_next, r)
        self.steps += 1
        n = self.model.visits()
        known = n > 0
        newly = np.any(known & ~self.known_before, axis=(1, 2))
        if self.steps % self.replan_every == 0:
            newly[:] = True
        if np.any(newly):
            P_hat, R_hat = self.model.estimate()
            idx = np.flatnonzero(newly)
            self.policy[idx] = _optimistic_plan(P_hat[idx], R_hat[idx], n[idx], self.betas[idx], self.terminal,
                                                self.gamma, self.r_max, self.policy[idx])
            self.known_before = known

    def returned_policy(self):
        P_hat, R_hat = self.model.estimate()
        P_hat[:, self.terminal] = np.eye(self.S)[self.terminal][None, :, None, :]
        R_hat[:, self.terminal] = 0.0
        return np.eye(self.A)[_policy_iteration_batch(P_hat, R_hat, self.gamma)[2]]


class QLearning(OnlineLearner):
    r""":math:`\epsilon`-greedy Q-learning with a constant step size, :math:`Q = 0` initially.

    After each step, :math:`Q(s,a) \leftarrow Q(s,a) + \alpha\,(r + \gamma \max_{a'} Q(s', a') -
    Q(s,a))` (no bootstrap past the end of an episode). Returns the greedy policy.

    Examples
    --------
    >>> from ce_lib.mdp import QLearning, frozen_lake, online_runs
    >>> out = online_runs(frozen_lake('4x4'), 0.9, QLearning(alpha=0.5, epsilon=0.1), budget=1000, n_runs=4, seed=0)
    >>> out['gap'].shape  # (runs, checkpoints)
    (4, 18)
    """

    name = "q-learning"

    def __init__(self, alpha, epsilon=0.1):
        self.alpha, self.epsilon = alpha, epsilon

    def start(self, mdp, gamma, n_runs, episode_cap):
        super().start(mdp, gamma, n_runs, episode_cap)
        self.alphas = _per_run(self.alpha, n_runs, "alpha")
        self.epsilons = _per_run(self.epsilon, n_runs, "epsilon")
        if np.any(self.alphas <= 0) or np.any((self.epsilons < 0) | (self.epsilons > 1)):
            raise ValueError(f"alpha must be > 0 and epsilon in [0, 1], got {self.alpha!r} and {self.epsilon!r}")
        self.Q = np.zeros((n_runs, self.S, self.A))

    def act(self, s, rng: np.random.Generator):
        greedy = argmax_random_ties(self.Q[np.arange(self.n_runs), s], rng, atol=1e-12)
        explore = rng.random(self.n_runs) < self.epsilons
        return np.where(explore, rng.integers(0, self.A, self.n_runs), greedy)

    def update(self, s, a, r, s_next, done, ended):
        i = np.arange(self.n_runs)
        boot = np.where(done, 0.0, self.Q[i, s_next].max(axis=1))
        td = r + self.gamma * boot - self.Q[i, s, a]
        self.Q[i, s, a] += self.alphas * td

    def returned_policy(self):
        return np.eye(self.A)[self.Q.argmax(axis=2)]


class OptimisticQLearning(OnlineLearner):
    r"""Q-learning with UCB exploration (Jin, Allen-Zhu, Bubeck & Jordan, 2018, UCB-Hoeffding; in
    the discounted form of Dong, Wang, Chen & Wang, 2019).

    :math:`Q` starts at :math:`r_{\max}/(1-\gamma)`, the learner acts greedily on it, and after the
    :math:`n`-th visit of :math:`(s, a)`

    .. math:: Q(s,a) \leftarrow (1-\alpha_n) Q(s,a) + \alpha_n\big(r + \beta/\sqrt{n}
              + \gamma \min\{r_{\max}/(1-\gamma), \max_{a'} Q(s', a')\}\big), \qquad
              \alpha_n = \frac{H + 1}{H + n},\ H = \frac{1}{1-\gamma}.

    It is told ``r_max``, as :class:`OptimisticCE` is; returns the greedy policy.

    Examples
    --------
    >>> from ce_lib.mdp import OptimisticQLearning, frozen_lake, online_runs
    >>> out = online_runs(frozen_lake('4x4'), 0.9, OptimisticQLearning(beta=0.1), budget=1000, n_runs=4, seed=0)
    >>> bool((out['gap'] >= 0).all())  # a loss relative to the optimal policy
    True
    """

    name = "optimistic-q"

    def __init__(self, beta=1.0, r_max: float = 1.0):
        self.beta, self.r_max = beta, check_real(r_max, "r_max")

    def start(self, mdp, gamma, n_runs, episode_cap):
        super().start(mdp, gamma, n_runs, episode_cap)
        self.betas = _per_run(self.beta, n_runs, "beta")
        if np.any(self.betas < 0):
            raise ValueError(f"beta must be >= 0, got {self.beta!r}")
        self.v_max = self.r_max / (1.0 - gamma)
        self.Q = np.full((n_runs, self.S, self.A), self.v_max)
        self.visits = np.zeros((n_runs, self.S, self.A))

    def act(self, s, rng: np.random.Generator):
        return argmax_random_ties(self.Q[np.arange(self.n_runs), s], rng, atol=1e-12)

    def update(self, s, a, r, s_next, done, ended):
        i = np.arange(self.n_runs)
        self.visits[i, s, a] += 1.0
        n_vis = self.visits[i, s, a]
        horizon = 1.0 / (1.0 - self.gamma)
        step = (horizon + 1.0) / (horizon + n_vis)
        boot = np.where(done, 0.0, np.minimum(self.v_max, self.Q[i, s_next].max(axis=1)))
        target = r + self.betas / np.sqrt(n_vis) + self.gamma * boot
        self.Q[i, s, a] += step * (target - self.Q[i, s, a])

    def returned_policy(self):
        return np.eye(self.A)[self.Q.argmax(axis=2)]


class PolicyGradient(OnlineLearner):
    r"""A tabular softmax policy trained by REINFORCE with a learned per-state baseline.

    After every episode, for each step :math:`t` with discounted return-to-go :math:`G_t`:
    :math:`\theta_{s_t} \mathrel{+}= \alpha (G_t - b(s_t)) \nabla \log \pi(a_t \mid s_t)` and
    :math:`b(s_t) \mathrel{+}= \eta (G_t - b(s_t))` (:math:`\eta` = ``baseline_step``). Returns the
    softmax policy itself.

    Examples
    --------
    >>> from ce_lib.mdp import PolicyGradient, frozen_lake, online_runs
    >>> out = online_runs(frozen_lake('4x4'), 0.9, PolicyGradient(alpha=0.5), budget=1000, n_runs=4, seed=0)
    >>> out['policy'].shape, bool(abs(out['policy'].sum(axis=2) - 1).max() < 1e-12)  # probabilities
    ((4, 17, 4), True)
    """

    name = "policy-gradient"

    def __init__(self, alpha, baseline_step: float = 0.1):
        self.alpha = alpha
        self.baseline_step = check_real(baseline_step, "baseline_step", low=0.0)

    def start(self, mdp, gamma, n_runs, episode_cap):
        super().start(mdp, gamma, n_runs, episode_cap)
        self.alphas = _per_run(self.alpha, n_runs, "alpha")
        if np.any(self.alphas <= 0):
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")
        self.theta = np.zeros((n_runs, self.S, self.A))
        self.baseline = np.zeros((n_runs, self.S))
        self.traj_s = np.zeros((n_runs, episode_cap), int)
        self.traj_a = np.zeros((n_runs, episode_cap), int)
        self.traj_r = np.zeros((n_runs, episode_cap))
        self.t = np.zeros(n_runs, int)
        self.discount = gamma ** np.arange(episode_cap)

    def act(self, s, rng: np.random.Generator):
        p = _softmax(self.theta[np.arange(self.n_runs), s])
        return (rng.random((self.n_runs, 1)) > np.cumsum(p, axis=1)).sum(axis=1).clip(max=self.A - 1)

    def update(self, s, a, r, s_next, done, ended):
        i = np.arange(self.n_runs)
        self.traj_s[i, self.t], self.traj_a[i, self.t], self.traj_r[i, self.t] = s, a, r
        self.t += 1
        for k in np.flatnonzero(ended):  # REINFORCE with a baseline, once per episode
            L = self.t[k]
            rew = self.traj_r[k, :L]
            G = np.array([rew[j:] @ self.discount[:L - j] for j in range(L)])
            ss, aa = self.traj_s[k, :L], self.traj_a[k, :L]
            adv = G - self.baseline[k, ss]
            grad = -_softmax(self.theta[k, ss])
            grad[np.arange(L), aa] += 1.0
            np.add.at(self.theta[k], ss, self.alphas[k] * adv[:, None] * grad)
            np.add.at(self.baseline[k], ss, self.baseline_step * adv)
        self.t[ended] = 0

    def returned_policy(self):
        return _softmax(self.theta)


def _online_loop(mdp, gamma, parts, n_runs, budget, rng: np.random.Generator, episode_cap):
    """Step every run of every learner together; ``parts`` pairs each learner with its run indices.

    The learners act in the order of ``parts`` and draw from one generator, then the environment
    steps all runs at once: a learner's runs see the same random numbers whatever else runs beside
    them only if the same learners run beside them (as in :func:`online_experiment`)."""
    sampler = Sampler(mdp)
    terminal = _terminal_states(mdp)
    v_star_mu = mdp.mu @ policy_iteration(mdp, gamma).V
    checks = log_grid(budget, per_decade=6)
    for learner, idx in parts:
        learner.start(mdp, gamma, idx.size, episode_cap)
    s = sampler.reset(n_runs, rng)
    t_ep = np.zeros(n_runs, int)
    gap = np.empty((n_runs, checks.size))
    j = 0
    for step in range(1, budget + 1):
        a = np.empty(n_runs, int)
        for learner, idx in parts:
            a[idx] = learner.act(s[idx], rng)
        s_next, r = sampler.step(s, a, rng)
        done = terminal[s_next]
        t_ep += 1
        ended = done | (t_ep >= episode_cap)
        for learner, idx in parts:
            learner.update(s[idx], a[idx], r[idx], s_next[idx], done[idx], ended[idx])
        if np.any(ended):
            s_next = s_next.copy()
            s_next[ended] = sampler.reset(int(ended.sum()), rng)
            t_ep[ended] = 0
        s = s_next
        if step == checks[j]:
            policy = np.zeros((n_runs, mdp.n_states, mdp.n_actions))
            for learner, idx in parts:
                policy[idx] = learner.returned_policy()
            values = _evaluate_batch(np.broadcast_to(mdp.P, (n_runs,) + mdp.P.shape),
                                     np.broadcast_to(mdp.expected_reward, (n_runs,) + mdp.expected_reward.shape),
                                     policy, gamma)
            gap[:, j] = _relative_gap(v_star_mu, values, mdp.mu)
            j += 1
    return checks, gap, float(v_star_mu)


def online_runs(mdp: TabularMDP, gamma: float, learner: OnlineLearner, budget: int, n_runs: int, seed: Seed = 0,
                episode_cap: int = 200) -> dict:
    """``n_runs`` runs of one online learner, each on its own trajectory of ``budget`` steps.

    Episodes start from :math:`\\mu` and end at a terminal state or after ``episode_cap`` steps. At
    checkpoints (6 per decade of steps) the learner's returned policy is evaluated exactly.

    Parameters
    ----------
    mdp : TabularMDP
    gamma : float
        Discount factor in (0, 1).
    learner : OnlineLearner
        :class:`OptimisticCE`, :class:`QLearning`, :class:`OptimisticQLearning`,
        :class:`PolicyGradient` or your own.
    budget, n_runs : int
        Environment steps per run, and runs.
    seed : int or numpy.random.Generator
    episode_cap : int

    Returns
    -------
    dict
        ``steps`` (checkpoints), ``gap`` of shape (n_runs, T): the relative loss at the start
        :math:`(V^\\star(\\mu) - V^\\pi(\\mu)) / V^\\star(\\mu)` of the returned policy, ``policy``
        (the final returned policy, (n_runs, S, A)) and ``v_star``.

    Examples
    --------
    >>> from ce_lib.mdp import OptimisticCE, QLearning, frozen_lake, online_runs
    >>> lake = frozen_lake('4x4')
    >>> [round(float(online_runs(lake, 0.9, learner, budget=2000, n_runs=8, seed=0)['gap'][:, -1].mean()), 3)
    ...  for learner in (OptimisticCE(beta=1.0), QLearning(alpha=0.5, epsilon=0.1))]
    [0.209, 0.592]
    """
    mdp = _check_mdp(mdp)
    gamma = check_gamma(gamma)
    if not isinstance(learner, OnlineLearner):
        raise TypeError(f"learner must be an OnlineLearner of ce_lib.mdp, got {type(learner).__name__}")
    budget = check_positive_int(budget, "budget")
    n_runs = check_positive_int(n_runs, "n_runs")
    episode_cap = check_positive_int(episode_cap, "episode_cap")
    idx = np.arange(n_runs)
    checks, gap, v_star = _online_loop(mdp, gamma, [(learner, idx)], n_runs, budget, as_rng(seed), episode_cap)
    return {"steps": checks, "gap": gap, "policy": learner.returned_policy(), "v_star": v_star}


def online_experiment(mdp: TabularMDP, gamma: float, budget: int, configs: Sequence[OnlineConfig], n_runs: int,
                      seed: Seed = 0, episode_cap: int = 200, replan_every: int = 50, r_max: float = 1.0) -> dict:
    r"""Several online learners side by side on the same seeds, one trajectory per run, scored
    exactly at checkpoints: the chapter's experiment, on top of :func:`online_runs`' loop.

    ``configs`` name the learners: ``ce-optimism`` (:class:`OptimisticCE`, ``param`` = its bonus
    scale :math:`\beta`), ``q-learning`` (:class:`QLearning`, ``param`` = its step size, with
    ``epsilon``), ``policy-gradient`` (:class:`PolicyGradient`, ``param`` = its step size) and
    ``optimistic-q`` (:class:`OptimisticQLearning`, ``param`` = :math:`\beta`). ``n_runs`` runs of
    each config; all runs step together and draw from one generator (the learners act in the order
    CE, Q-learning, optimistic Q-learning, policy gradient). Every run of every learner gets
    ``budget`` environment steps; episodes end at a terminal state or after ``episode_cap`` steps.

    Returns
    -------
    dict
        ``steps`` (checkpoints), ``gap`` of shape (len(configs), n_runs, T) (relative loss at the
        start, as in :func:`generative_experiment`) and ``labels``.

    Examples
    --------
    >>> from ce_lib.mdp import OnlineConfig, frozen_lake, online_experiment
    >>> configs = [OnlineConfig('ce-optimism', 1.0), OnlineConfig('q-learning', 0.5, epsilon=0.1)]
    >>> out = online_experiment(frozen_lake('4x4'), gamma=0.9, budget=2000, configs=configs, n_runs=4, seed=0)
    >>> out['labels']
    ['CE + optimism (beta = 1)', 'Q-learning (alpha = 0.5, eps = 0.1)']
    >>> out['gap'][:, :, -1].mean(axis=1).round(3)  # each method's loss after 2,000 steps, mean of 4 seeds
    array([0.161, 0.756])
    """
    mdp = _check_mdp(mdp)
    gamma = check_gamma(gamma)
    budget = check_positive_int(budget, "budget")
    B = check_positive_int(n_runs, "n_runs")
    episode_cap = check_positive_int(episode_cap, "episode_cap")
    replan_every = check_positive_int(replan_every, "replan_every")
    configs = [OnlineConfig(*c) for c in configs]
    if not configs:
        raise ValueError("configs must name at least one learner")
    for c in configs:
        if c.method not in _METHODS:
            raise ValueError(f"configs: method must be one of {_METHODS}, got {c.method!r}")
        ok = c.param >= 0 if c.method in ("ce-optimism", "optimistic-q") else c.param > 0
        if not ok or not 0 <= c.epsilon <= 1:
            raise ValueError(f"configs: {c} needs param > 0 (>= 0 for the bonus scales) and epsilon in [0, 1]")
    kind = np.repeat([_METHODS.index(c.method) for c in configs], B)  # one run per (config, seed)
    param = np.repeat([c.param for c in configs], B)
    eps = np.repeat([c.epsilon for c in configs], B)
    make = {"ce-optimism": lambda i: OptimisticCE(param[i], r_max=r_max, replan_every=replan_every),
            "q-learning": lambda i: QLearning(param[i], eps[i]),
            "optimistic-q": lambda i: OptimisticQLearning(param[i], r_max=r_max),
            "policy-gradient": lambda i: PolicyGradient(param[i])}
    parts = []
    for method in ("ce-optimism", "q-learning", "optimistic-q", "policy-gradient"):  # the order they act in
        idx = np.flatnonzero(kind == _METHODS.index(method))
        if idx.size:
            parts.append((make[method](idx), idx))
    checks, gap, v_star = _online_loop(mdp, gamma, parts, kind.size, budget, as_rng(seed), episode_cap)
    return {"steps": checks, "gap": gap.reshape(len(configs), B, checks.size),
            "labels": [c.label for c in configs], "configs": [tuple(c) for c in configs], "v_star": v_star}
