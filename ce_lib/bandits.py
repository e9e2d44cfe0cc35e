"""Multi-armed bandits: certainty equivalence with and without information seeking (chapter ``ch-bandits``).

A bandit has :math:`K` arms with unknown mean rewards :math:`\\mu_1, \\dots, \\mu_K`. Each round
the learner pulls one arm and sees a noisy reward from it. The certainty-equivalent learner keeps
the empirical mean of every arm -- the model -- and acts on it: plainly (:class:`Greedy`), after a
fixed exploration phase (:class:`ExploreThenCommit`), with random exploration
(:class:`EpsilonGreedy`), optimistically (:class:`UCB`, :class:`KLUCB`) or by sampling from its
posterior (:class:`ThompsonSampling`). The RL side is the policy gradient of
:class:`GradientBandit` (Sutton & Barto, section 2.8), which keeps no model of the arms at all.

Everything is vectorized over independent runs: means have shape ``(K,)`` (shared) or
``(n_runs, K)`` (one instance per run), and :func:`simulate` returns the per-round pseudo-regret
:math:`\\mu^\\star - \\mu_{A_t}` of shape ``(n_runs, horizon)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .experiments import (as_rng, cached, check_finite_array, check_positive_int, make_record,
                          samples_to_target)

__all__ = [
    "ALPHAS",
    "BernoulliBandit",
    "EpsilonGreedy",
    "ExploreThenCommit",
    "GaussianBandit",
    "GradientBandit",
    "Greedy",
    "INSTANCE",
    "KLUCB",
    "LEVEL",
    "Run",
    "ThompsonSampling",
    "UCB",
    "WINDOW",
    "best_arm_rate",
    "etc_experiment",
    "etc_regret_bound",
    "headline",
    "kl_bernoulli",
    "lai_robbins_constant",
    "regret_curves",
    "rounds_to_commit",
    "simulate",
    "testbed",
]


# ----------------------------------------------------------------------------------------------
# Environments
# ----------------------------------------------------------------------------------------------


def _check_means(means, name="means") -> np.ndarray:
    m = check_finite_array(means, name)
    if m.ndim not in (1, 2) or m.shape[-1] < 2:
        raise ValueError(f"{name} must have shape (K,) or (n_runs, K) with K >= 2, got {m.shape}")
    return m


class BernoulliBandit(NamedTuple):
    """Arms that pay 1 with probability :math:`\\mu_k` and 0 otherwise."""

    means: np.ndarray  #: (K,) or (n_runs, K) success probabilities in [0, 1]

    @classmethod
    def create(cls, means) -> "BernoulliBandit":
        """Validated constructor: probabilities must lie in [0, 1]."""
        m = _check_means(means)
        if np.any((m < 0) | (m > 1)):
            raise ValueError("means must be probabilities in [0, 1] for a Bernoulli bandit")
        return cls(m)

    def pull(self, means: np.ndarray, arms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mu = means[np.arange(len(arms)), arms]
        return (rng.random(len(arms)) < mu).astype(float)


class GaussianBandit(NamedTuple):
    """Arms that pay :math:`\\mathcal N(\\mu_k, \\sigma^2)`."""

    means: np.ndarray  #: (K,) or (n_runs, K) mean rewards
    sigma: float  #: standard deviation of every reward

    @classmethod
    def create(cls, means, sigma: float = 1.0) -> "GaussianBandit":
        """Validated constructor."""
        m = _check_means(means)
        if not np.isfinite(sigma) or sigma <= 0:
            raise ValueError(f"sigma must be a finite number > 0, got {sigma}")
        return cls(m, float(sigma))

    def pull(self, means: np.ndarray, arms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return means[np.arange(len(arms)), arms] + self.sigma * rng.standard_normal(len(arms))


def _noise_scale(bandit) -> float:
    return bandit.sigma if isinstance(bandit, GaussianBandit) else 0.5


# ----------------------------------------------------------------------------------------------
# Agents: each keeps arrays of shape (n_runs, K)
# ----------------------------------------------------------------------------------------------


def _argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax, ties broken uniformly at random."""
    noise = rng.random(values.shape)
    top = values >= values.max(axis=1, keepdims=True)
    return np.argmax(np.where(top, noise, -1.0), axis=1)


class _Agent:
    """Common state: pull counts and reward sums of every arm, for every run.

    :func:`simulate` calls ``select(t, rng)`` with the round number ``t`` counted from 1, then
    ``update(arms, rewards)``."""

    name = "agent"
    family = "ce"

    def reset(self, n_runs: int, n_arms: int, bandit) -> None:
        self.counts = np.zeros((n_runs, n_arms))
        self.sums = np.zeros((n_runs, n_arms))
        self.scale = _noise_scale(bandit)
        self.bernoulli = isinstance(bandit, BernoulliBandit)

    @property
    def means(self) -> np.ndarray:
        return np.divide(self.sums, self.counts, out=np.zeros_like(self.sums), where=self.counts > 0)

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        rows = np.arange(len(arms))
        self.counts[rows, arms] += 1
        self.sums[rows, arms] += rewards

    def _untried_first(self, index: np.ndarray) -> np.ndarray:
        return np.where(self.counts == 0, np.inf, index)


class Greedy(_Agent):
    """Pure certainty equivalence: pull each arm once, then always the best empirical mean.

    .. math:: A_t = \\arg\\max_k \\hat\\mu_k(t)
    """

    name = "greedy"

    def select(self, t: int, rng) -> np.ndarray:
        return _argmax_random_ties(self._untried_first(self.means), rng)


class ExploreThenCommit(_Agent):
    """Pull every arm ``m`` times (round robin), then commit to the best empirical mean."""

    name = "explore-then-commit"

    def __init__(self, m: int):
        self.m = check_positive_int(m, "m")

    def select(self, t: int, rng) -> np.ndarray:
        n_runs, k = self.counts.shape
        if t <= self.m * k:  # rounds are numbered from 1
            return np.full(n_runs, (t - 1) % k)
        return _argmax_random_ties(self.means, rng)


class EpsilonGreedy(_Agent):
    """With probability :math:`\\varepsilon` a uniformly random arm, else the best estimate.

    Estimates start at ``initial`` (0, as in Sutton & Barto's testbed) and are sample averages.
    """

    name = "epsilon-greedy"

    def __init__(self, epsilon: float, initial: float = 0.0):
        if not (0.0 <= epsilon <= 1.0):
            raise ValueError(f"epsilon must be a probability in [0, 1], got {epsilon}")
        self.epsilon = float(epsilon)
        self.initial = float(initial)

    def select(self, t: int, rng) -> np.ndarray:
        est = np.where(self.counts > 0, self.means, self.initial)
        greedy = _argmax_random_ties(est, rng)
        explore = rng.random(len(greedy)) < self.epsilon
        return np.where(explore, rng.integers(0, est.shape[1], len(greedy)), greedy)


class UCB(_Agent):
    """Optimism in the face of uncertainty: the highest plausible mean.

    .. math:: A_t = \\arg\\max_k \\; \\hat\\mu_k + c \\sqrt{\\frac{\\log t}{N_k(t)}}

    With ``c=None`` the bonus is the one of UCB1 for :math:`\\sigma`-sub-Gaussian rewards,
    :math:`c = \\sigma\\sqrt{2}` (Auer et al., 2002); Sutton & Barto's testbed uses ``c=2``.
    Untried arms come first.
    """

    name = "UCB"

    def __init__(self, c: float | None = None):
        if c is not None and (not np.isfinite(c) or c < 0):
            raise ValueError(f"c must be a finite number >= 0, got {c}")
        self.c = c

    def select(self, t: int, rng) -> np.ndarray:
        c = self.scale * np.sqrt(2.0) if self.c is None else self.c
        bonus = c * np.sqrt(np.log(max(t, 1)) / np.maximum(self.counts, 1))
        return _argmax_random_ties(self._untried_first(self.means + bonus), rng)


def kl_bernoulli(p, q) -> np.ndarray:
    """Kullback-Leibler divergence :math:`\\mathrm{kl}(p, q)` between Bernoulli distributions."""
    eps = 1e-12
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    q = np.clip(np.asarray(q, dtype=float), eps, 1 - eps)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


class KLUCB(_Agent):
    """KL-UCB (Garivier & Cappé, 2011): the largest mean not ruled out by a KL confidence bound.

    .. math:: U_k = \\max\\{q : N_k\\, \\mathrm{kl}(\\hat\\mu_k, q) \\le \\log t\\}

    computed by bisection for Bernoulli rewards; for Gaussian rewards the KL bound has the closed
    form :math:`\\hat\\mu_k + \\sigma\\sqrt{2\\log t / N_k}`.
    """

    name = "KL-UCB"

    def __init__(self, bisection_steps: int = 14):
        self.steps = check_positive_int(bisection_steps, "bisection_steps")

    def select(self, t: int, rng) -> np.ndarray:
        level = np.log(max(t, 1)) / np.maximum(self.counts, 1)
        if not self.bernoulli:
            index = self.means + self.scale * np.sqrt(2.0 * level)
        else:
            lo, hi = self.means.copy(), np.ones_like(self.means)
            for _ in range(self.steps):
                mid = 0.5 * (lo + hi)
                inside = kl_bernoulli(self.means, mid) <= level
                lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
            index = lo
        return _argmax_random_ties(self._untried_first(index), rng)


class ThompsonSampling(_Agent):
    """Posterior sampling: act greedily on one draw from the posterior of the means.

    Bernoulli rewards: Beta(1 + successes, 1 + failures) priors-posteriors. Gaussian rewards:
    :math:`\\mathcal N(\\hat\\mu_k, \\sigma^2 / N_k)` (flat prior; untried arms first).
    """

    name = "Thompson sampling"

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """The posterior of every arm's mean, each array of shape (n_runs, K).

        Bernoulli: the Beta parameters :math:`(1 + S_k, 1 + N_k - S_k)`. Gaussian: the mean and
        standard deviation :math:`(\\hat\\mu_k, \\sigma/\\sqrt{N_k})` (infinite for an untried arm).
        """
        if self.bernoulli:
            return 1.0 + self.sums, 1.0 + self.counts - self.sums
        with np.errstate(divide="ignore"):
            return self.means, self.scale / np.sqrt(self.counts)

    def select(self, t: int, rng) -> np.ndarray:
        a, b = self.posterior()
        if self.bernoulli:
            draw = rng.beta(a, b)
        else:
            draw = self._untried_first(a + np.where(np.isfinite(b), b, 0.0) * rng.standard_normal(a.shape))
        return _argmax_random_ties(draw, rng)


class GradientBandit(_Agent):
    """Softmax policy gradient on arm preferences (Sutton & Barto, section 2.8).

    .. math::
        \\pi_t(k) = \\frac{e^{H_k}}{\\sum_j e^{H_j}}, \\qquad
        H_k \\leftarrow H_k + \\alpha\\,(R_t - \\bar R_t)\\,(\\mathbb 1\\{A_t = k\\} - \\pi_t(k)),

    a stochastic gradient ascent step on the expected reward, with the running average reward
    :math:`\\bar R_t` as baseline (``baseline=False`` drops it). It keeps no estimate of any arm.
    """

    name = "gradient bandit"
    family = "rl"

    def __init__(self, alpha: float, baseline: bool = True):
        if not np.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"alpha must be a finite number > 0, got {alpha}")
        self.alpha = float(alpha)
        self.baseline = bool(baseline)

    def reset(self, n_runs: int, n_arms: int, bandit) -> None:
        super().reset(n_runs, n_arms, bandit)
        self.prefs = np.zeros((n_runs, n_arms))
        self.avg = np.zeros(n_runs)
        self.t = 0

    def _policy(self) -> np.ndarray:
        z = self.prefs - self.prefs.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def select(self, t: int, rng) -> np.ndarray:
        self._pi = self._policy()
        u = rng.random((self._pi.shape[0], 1))
        return np.minimum((np.cumsum(self._pi, axis=1) < u).sum(axis=1), self._pi.shape[1] - 1)

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        super().update(arms, rewards)
        self.t += 1
        base = self.avg if self.baseline else 0.0
        onehot = np.zeros_like(self._pi)
        onehot[np.arange(len(arms)), arms] = 1.0
        self.prefs += self.alpha * (rewards - base)[:, None] * (onehot - self._pi)
        self.avg += (rewards - self.avg) / self.t


# ----------------------------------------------------------------------------------------------
# Simulation
# ----------------------------------------------------------------------------------------------


class Run(NamedTuple):
    """What :func:`simulate` returns."""

    regret: np.ndarray  #: (n_runs, horizon) pseudo-regret mu* - mu_{A_t} of every round
    optimal: np.ndarray  #: (n_runs, horizon) whether the pulled arm was a best arm
    rewards: np.ndarray  #: (n_runs, horizon) the rewards seen


def simulate(agent, bandit, horizon: int, n_runs: int, seed: Any) -> Run:
    """Play ``agent`` on ``bandit`` for ``horizon`` rounds in ``n_runs`` independent runs at once.

    Parameters
    ----------
    agent : one of the agents of this module (its state is reset)
    bandit : BernoulliBandit or GaussianBandit
        With means of shape (K,) every run plays the same instance; with (n_runs, K), run ``i``
        plays row ``i``.
    horizon : int
        Rounds per run.
    n_runs : int
    seed : int or numpy.random.Generator

    Returns
    -------
    Run
        Per-round pseudo-regret, optimal-arm indicator and rewards, each (n_runs, horizon).
    """
    if not isinstance(bandit, (BernoulliBandit, GaussianBandit)):
        raise TypeError(f"bandit must be a BernoulliBandit or GaussianBandit, got {type(bandit).__name__}")
    if not isinstance(agent, _Agent):
        raise TypeError(f"agent must be an agent of ce_lib.bandits, got {type(agent).__name__}")
    horizon = check_positive_int(horizon, "horizon")
    n_runs = check_positive_int(n_runs, "n_runs")
    means = np.asarray(bandit.means, dtype=float)
    if means.ndim == 1:
        means = np.broadcast_to(means, (n_runs, means.size))
    elif means.shape[0] != n_runs:
        raise ValueError(f"bandit.means has {means.shape[0]} rows but n_runs is {n_runs}")
    rng = as_rng(seed)
    best = means.max(axis=1)
    agent.reset(n_runs, means.shape[1], bandit)
    regret = np.empty((n_runs, horizon))
    optimal = np.empty((n_runs, horizon), dtype=bool)
    rewards = np.empty((n_runs, horizon))
    rows = np.arange(n_runs)
    for t in range(horizon):
        arms = agent.select(t + 1, rng)
        r = bandit.pull(means, arms, rng)
        agent.update(arms, r)
        mu = means[rows, arms]
        regret[:, t] = best - mu
        optimal[:, t] = mu >= best
        rewards[:, t] = r
    return Run(regret, optimal, rewards)


def lai_robbins_constant(means) -> float:
    """The constant of the Lai-Robbins lower bound for Bernoulli arms.

    Any consistent policy has :math:`\\liminf_T R_T / \\log T \\ge
    \\sum_{k : \\Delta_k > 0} \\Delta_k / \\mathrm{kl}(\\mu_k, \\mu^\\star)`.
    """
    m = np.asarray(_check_means(means), dtype=float)
    if m.ndim != 1:
        raise ValueError("means must have shape (K,)")
    best = m.max()
    sub = m < best
    return float(np.sum((best - m[sub]) / kl_bernoulli(m[sub], best)))


def best_arm_rate(optimal: np.ndarray, window: int) -> np.ndarray:
    """Fraction of the last ``window`` rounds in which a best arm was pulled, per run and round.

    Returns an array of shape (n_runs, horizon - window + 1); entry ``t`` covers rounds
    ``t .. t + window - 1``.
    """
    window = check_positive_int(window, "window")
    o = np.asarray(optimal, dtype=float)
    if o.ndim != 2 or o.shape[1] < window:
        raise ValueError(f"optimal must be (n_runs, horizon) with horizon >= window, got {o.shape}")
    c = np.concatenate([np.zeros((o.shape[0], 1)), np.cumsum(o, axis=1)], axis=1)
    return (c[:, window:] - c[:, :-window]) / window


# ----------------------------------------------------------------------------------------------
# The chapter's experiments
# ----------------------------------------------------------------------------------------------


def testbed(n_runs: int = 2000, horizon: int = 1000, n_arms: int = 10, seed: Any = 0) -> dict:
    """Sutton & Barto's 10-armed testbed: :math:`q^*_k \\sim \\mathcal N(0, 1)` per run, unit noise.

    Runs epsilon-greedy with :math:`\\varepsilon \\in \\{0, 0.01, 0.1\\}` (estimates start at 0),
    UCB with :math:`c = 2` and the gradient bandit with :math:`\\alpha = 0.1` and a baseline, all
    on the same instances. Returns, per method, the average reward and the fraction of runs that
    pulled a best arm, each of shape (horizon,).
    """
    n_runs = check_positive_int(n_runs, "n_runs")
    rng = as_rng(seed)
    q = rng.standard_normal((n_runs, check_positive_int(n_arms, "n_arms")))
    env = GaussianBandit.create(q, 1.0)
    greedy = EpsilonGreedy(0.0)
    greedy.name = "greedy"  # epsilon = 0 is greedy, started at 0 as in the book
    agents = {"greedy (epsilon = 0)": greedy, "epsilon = 0.01": EpsilonGreedy(0.01),
              "epsilon = 0.1": EpsilonGreedy(0.1), "UCB, c = 2": UCB(2.0),
              "gradient bandit, alpha = 0.1": GradientBandit(0.1)}
    out = {}
    for i, (name, agent) in enumerate(agents.items()):
        run = simulate(agent, env, horizon, n_runs, seed=[*np.atleast_1d(seed).tolist(), i])
        out[name] = {"reward": run.rewards.mean(axis=0), "optimal": run.optimal.mean(axis=0),
                     "family": agent.family, "agent": agent.name}
    out["expected_best"] = float(q.max(axis=1).mean())
    return out


def etc_regret_bound(delta: float, n: int, m: int) -> float:
    """Lattimore & Szepesvari's Theorem 6.1 for two 1-sub-Gaussian arms with gap ``delta``.

    .. math:: R_n \\le m\\Delta + (n - 2m)\\,\\Delta\\, e^{-m\\Delta^2/4}
    """
    return float(m * delta + (n - 2 * m) * delta * np.exp(-m * delta**2 / 4))


def etc_experiment(deltas, n: int = 1000, n_runs: int = 2000, seed: Any = 0) -> dict:
    """Explore-then-commit on two unit-variance Gaussian arms (means 0 and -delta), n rounds.

    For every gap, ETC uses the exploration length ``m`` that minimizes the bound of
    :func:`etc_regret_bound` (as Lattimore & Szepesvari do); UCB runs alongside. Returns the
    mean regret and its standard error per gap, and the bound.
    """
    deltas = check_finite_array(deltas, "deltas", ndim=1)
    n = check_positive_int(n, "n", minimum=4)
    out = {"deltas": deltas, "etc": [], "etc_se": [], "ucb": [], "ucb_se": [], "bound": [], "m": []}
    for i, d in enumerate(deltas):
        ms = np.arange(1, n // 2 + 1)
        bounds = ms * d + (n - 2 * ms) * d * np.exp(-ms * d**2 / 4)
        m = int(ms[np.argmin(bounds)])
        env = GaussianBandit.create([0.0, -float(d)], 1.0)
        for key, agent in (("etc", ExploreThenCommit(m)), ("ucb", UCB())):
            total = simulate(agent, env, n, n_runs, seed=[*np.atleast_1d(seed).tolist(), i]).regret.sum(axis=1)
            out[key].append(float(total.mean()))
            out[f"{key}_se"].append(float(total.std() / np.sqrt(n_runs)))
        out["bound"].append(min(n * float(d), etc_regret_bound(float(d), n, m)))
        out["m"].append(m)
    return {k: np.asarray(v) for k, v in out.items()}


#: The Bernoulli instance of the regret and scoreboard experiments.
INSTANCE = (0.5, 0.45, 0.4, 0.35, 0.3)


def regret_curves(means=INSTANCE, horizon: int = 20_000, n_runs: int = 200, seed: Any = 0,
                  alpha: float = 0.1) -> dict:
    """Cumulative pseudo-regret of every agent on one Bernoulli instance, per run.

    Returns ``{name: {"family", "regret": (n_runs, horizon) cumulative}}``.
    """
    env = BernoulliBandit.create(means)
    agents = [Greedy(), EpsilonGreedy(0.1), UCB(), KLUCB(), ThompsonSampling(), GradientBandit(alpha)]
    out = {}
    for i, agent in enumerate(agents):
        run = simulate(agent, env, horizon, n_runs, seed=[*np.atleast_1d(seed).tolist(), i])
        out[agent.name] = {"family": agent.family, "regret": np.cumsum(run.regret, axis=1)}
    return out


#: Window and level of the scoreboard's target: a best arm in at least 90% of 100 rounds.
WINDOW, LEVEL = 100, 0.9


def rounds_to_commit(agent, means=INSTANCE, horizon: int = 20_000, n_runs: int = 20, seed: Any = 0):
    """Rounds until a run pulls a best arm in at least 90% of a sliding window of 100 and holds it.

    The count is the last round of the first window that reaches the level, where the level is
    then held for 25% more rounds (as in :func:`ce_lib.experiments.samples_to_target` with
    ``hold=1.25``); ``inf`` if that never happens within ``horizon``.
    """
    run = simulate(agent, BernoulliBandit.create(means), horizon, n_runs, seed)
    rate = best_arm_rate(run.optimal, WINDOW)
    ends = np.arange(WINDOW, horizon + 1, dtype=float)
    return samples_to_target(ends, rate, LEVEL, direction="above", hold=1.25)


#: The gradient bandit's tuning grid (step sizes; with and without baseline).
ALPHAS = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8)


def headline(n_seeds: int = 20) -> list[dict]:
    """Scoreboard record: rounds to commit to the best arm, best CE agent vs tuned gradient bandit."""
    return [cached(_headline, n_seeds=n_seeds)]


def _headline(n_seeds: int) -> dict:
    horizon = 20_000
    # Tune the gradient bandit on runs disjoint from the reported ones. As in the DFO chapter,
    # reliability comes first: fewest runs that never commit to the best arm, then the slowest
    # run, then the median -- a step size that commits fast but often to the wrong arm loses.
    scores = {}
    for alpha in ALPHAS:
        for baseline in (True, False):
            hits = rounds_to_commit(GradientBandit(alpha, baseline), n_runs=n_seeds, seed=[1000, n_seeds])
            scores[(alpha, baseline)] = (int(np.sum(~np.isfinite(hits))), float(hits.max()),
                                         float(np.median(np.where(np.isfinite(hits), hits, horizon))))
    alpha, baseline = min(scores, key=scores.get)
    agents = {"UCB": UCB(), "KL-UCB": KLUCB(), "Thompson sampling": ThompsonSampling(),
              f"gradient bandit (alpha = {alpha}{'' if baseline else ', no baseline'})": GradientBandit(alpha, baseline)}
    results = [(name, agent.family, rounds_to_commit(agent, n_runs=n_seeds, seed=[0, n_seeds, i]))
               for i, (name, agent) in enumerate(agents.items())]
    return make_record(chapter="bandits", task=f"Bernoulli arms {list(INSTANCE)}",
                       metric=f"rounds until a best arm is pulled in {LEVEL:.0%} of a {WINDOW}-round window",
                       target=LEVEL, n_seeds=n_seeds, budget=horizon, results=results,
                       tuning={"runs": len(scores) * n_seeds, "chosen": [alpha, baseline]})
