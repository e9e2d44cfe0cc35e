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

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .experiments import (Seed, argmax_random_ties,
                          check_finite_array, check_positive_int, check_real, spawn_rngs)

__all__ = [
    "BernoulliBandit", "EXP3", "EpsilonGreedy", "ExploreThenCommit", "GaussianBandit", "GradientBandit",
    "Greedy", "KLUCB", "Run", "ThompsonSampling", "TsallisINF", "UCB", "kl_bernoulli",
    "lai_robbins_constant", "simulate", "tsallis_weights",
]


# ----------------------------------------------------------------------------------------------
# Environments
# ----------------------------------------------------------------------------------------------


def _check_means(means, name="means") -> np.ndarray:
    m = check_finite_array(means, name)
    if m.ndim not in (1, 2) or m.shape[-1] < 2 or m.shape[0] == 0:
        raise ValueError(f"{name} must have shape (K,) or (n_runs, K) with K >= 2, got {m.shape}")
    m = m.copy()
    m.setflags(write=False)
    return m


@dataclass(frozen=True, eq=False)
class BernoulliBandit:
    """Arms that pay 1 with probability :math:`\\mu_k` and 0 otherwise (the constructor checks
    that every mean is a probability)."""

    means: np.ndarray  #: (K,) or (n_runs, K) success probabilities in [0, 1]

    def __post_init__(self):
        m = _check_means(self.means)
        if np.any((m < 0) | (m > 1)):
            raise ValueError("means must be probabilities in [0, 1] for a Bernoulli bandit")
        object.__setattr__(self, "means", m)

    def reward_table(self, means: np.ndarray, horizon: int, rng: np.random.Generator) -> np.ndarray:
        """Rewards of the first ``horizon`` pulls of every arm of one run, shape (K, horizon).

        Drawn in advance from the run's own generator, so that the ``n``-th pull of arm ``k`` pays
        the same in run ``i`` of every agent (common random numbers)."""
        return (rng.random((means.size, horizon)) < means[:, None]).astype(np.float32)


@dataclass(frozen=True, eq=False)
class GaussianBandit:
    """Arms that pay :math:`\\mathcal N(\\mu_k, \\sigma^2)` (the constructor checks ``sigma > 0``)."""

    means: np.ndarray  #: (K,) or (n_runs, K) mean rewards
    sigma: float = 1.0  #: standard deviation of every reward

    def __post_init__(self):
        object.__setattr__(self, "means", _check_means(self.means))
        object.__setattr__(self, "sigma", check_real(self.sigma, "sigma", low=0.0, low_open=True))

    def reward_table(self, means: np.ndarray, horizon: int, rng: np.random.Generator) -> np.ndarray:
        """As :meth:`BernoulliBandit.reward_table`: shape (K, horizon), drawn from the run's generator."""
        noise = rng.standard_normal((means.size, horizon), dtype=np.float32)
        return (means[:, None] + self.sigma * noise).astype(np.float32)


def _noise_scale(bandit) -> float:
    return bandit.sigma if isinstance(bandit, GaussianBandit) else 0.5


# ----------------------------------------------------------------------------------------------
# Agents: each keeps arrays of shape (n_runs, K)
# ----------------------------------------------------------------------------------------------


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

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, Greedy, simulate
    >>> run = simulate(Greedy(), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    57.0
    """

    name = "greedy"

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        return argmax_random_ties(self._untried_first(self.means), rng)


class ExploreThenCommit(_Agent):
    """Pull every arm ``m`` times (round robin), then commit to the best empirical mean.

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, ExploreThenCommit, simulate
    >>> run = simulate(ExploreThenCommit(m=20), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    13.8
    """

    name = "explore-then-commit"

    def __init__(self, m: int):
        self.m = check_positive_int(m, "m")

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        n_runs, k = self.counts.shape
        if t <= self.m * k:  # rounds are numbered from 1
            return np.full(n_runs, (t - 1) % k)
        return argmax_random_ties(self.means, rng)


class EpsilonGreedy(_Agent):
    """With probability :math:`\\varepsilon` a uniformly random arm, else the best estimate.

    Estimates start at ``initial`` (0, as in Sutton & Barto's testbed) and are sample averages.

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, EpsilonGreedy, simulate
    >>> run = simulate(EpsilonGreedy(0.1), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    25.4
    """

    name = "epsilon-greedy"

    def __init__(self, epsilon: float, initial: float = 0.0):
        self.epsilon = check_real(epsilon, "epsilon", low=0.0, high=1.0)
        self.initial = check_real(initial, "initial")

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        est = np.where(self.counts > 0, self.means, self.initial)
        greedy = argmax_random_ties(est, rng)
        explore = rng.random(len(greedy)) < self.epsilon
        return np.where(explore, rng.integers(0, est.shape[1], len(greedy)), greedy)


class UCB(_Agent):
    """Optimism in the face of uncertainty: the highest plausible mean.

    .. math:: A_t = \\arg\\max_k \\; \\hat\\mu_k + c \\sqrt{\\frac{\\log t}{N_k(t)}}

    With ``c=None`` the bonus is the one of UCB1 for :math:`\\sigma`-sub-Gaussian rewards,
    :math:`c = \\sigma\\sqrt{2}` (Auer et al., 2002); Sutton & Barto's testbed uses ``c=2``.
    Untried arms come first.

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, UCB, simulate
    >>> run = simulate(UCB(), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    17.0
    """

    name = "UCB"

    def __init__(self, c: float | None = None):
        self.c = None if c is None else check_real(c, "c", low=0.0)

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        c = self.scale * np.sqrt(2.0) if self.c is None else self.c
        bonus = c * np.sqrt(np.log(max(t, 1)) / np.maximum(self.counts, 1))
        return argmax_random_ties(self._untried_first(self.means + bonus), rng)


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

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, KLUCB, simulate
    >>> run = simulate(KLUCB(), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    15.4
    """

    name = "KL-UCB"

    def __init__(self, bisection_steps: int = 14):
        self.steps = check_positive_int(bisection_steps, "bisection_steps")

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
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
        return argmax_random_ties(self._untried_first(index), rng)


class ThompsonSampling(_Agent):
    """Posterior sampling: act greedily on one draw from the posterior of the means.

    Bernoulli rewards: Beta(1 + successes, 1 + failures) priors-posteriors. Gaussian rewards:
    :math:`\\mathcal N(\\hat\\mu_k, \\sigma^2 / N_k)` (flat prior; untried arms first).

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, ThompsonSampling, simulate
    >>> run = simulate(ThompsonSampling(), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    12.0
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

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        a, b = self.posterior()
        if self.bernoulli:
            draw = rng.beta(a, b)
        else:
            draw = self._untried_first(a + np.where(np.isfinite(b), b, 0.0) * rng.standard_normal(a.shape))
        return argmax_random_ties(draw, rng)


class GradientBandit(_Agent):
    """Softmax policy gradient on arm preferences (Sutton & Barto, section 2.8).

    .. math::
        \\pi_t(k) = \\frac{e^{H_k}}{\\sum_j e^{H_j}}, \\qquad
        H_k \\leftarrow H_k + \\alpha\\,(R_t - \\bar R_t)\\,(\\mathbb 1\\{A_t = k\\} - \\pi_t(k)),

    a stochastic gradient ascent step on the expected reward, with the running average reward
    :math:`\\bar R_t` as baseline (``baseline=False`` drops it). It keeps no estimate of any arm.

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, GradientBandit, simulate
    >>> run = simulate(GradientBandit(alpha=0.1), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    42.8
    """

    name = "gradient bandit"
    family = "rl"

    def __init__(self, alpha: float, baseline: bool = True):
        self.alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
        if not isinstance(baseline, (bool, np.bool_)):
            raise TypeError(f"baseline must be True or False, got {baseline!r}")
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

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        self._pi = self._policy()
        return _sample(self._pi, rng)

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        super().update(arms, rewards)
        self.t += 1
        base = self.avg if self.baseline else 0.0
        onehot = np.zeros_like(self._pi)
        onehot[np.arange(len(arms)), arms] = 1.0
        self.prefs += self.alpha * (rewards - base)[:, None] * (onehot - self._pi)
        self.avg += (rewards - self.avg) / self.t


def _sample(policy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One arm per row of ``policy`` (n_runs, K), by inverse-CDF sampling."""
    u = rng.random((policy.shape[0], 1))
    return np.minimum((np.cumsum(policy, axis=1) < u).sum(axis=1), policy.shape[1] - 1)


def tsallis_weights(losses, eta, newton_steps: int = 30) -> np.ndarray:
    """The FTRL distribution of Tsallis-INF for cumulative loss estimates ``losses``.

    .. math::
        w = \\arg\\min_{w \\in \\Delta_K} \\langle w, \\hat L\\rangle - \\frac{4}{\\eta}\\sum_k \\sqrt{w_k}
        \\quad\\Longrightarrow\\quad w_k = \\frac{4}{\\eta^2 (\\hat L_k - x)^2},

    with the normalizer :math:`x < \\min_k \\hat L_k` fixed by :math:`\\sum_k w_k = 1`, found by
    Newton's method from :math:`x_0 = \\min_k \\hat L_k - 2/\\eta` (where the sum is at least 1; the
    sum is convex and increasing in :math:`x`, so the iterates decrease monotonically to the root).

    Parameters
    ----------
    losses : array (..., K)
        Cumulative importance-weighted loss estimates.
    eta : float or array broadcastable to ``losses[..., 0]``
        Learning rate, positive.
    newton_steps : int

    Returns
    -------
    numpy.ndarray, the same shape as ``losses``, rows summing to 1.

    References
    ----------
    Zimmert & Seldin (2021), Tsallis-INF: an optimal algorithm for stochastic and adversarial
    bandits, JMLR 22, Algorithm 1 with :math:`\\alpha = 1/2`.
    """
    L = check_finite_array(losses, "losses")
    if L.ndim < 1 or L.shape[-1] < 2:
        raise ValueError(f"losses must have a last axis of at least 2 arms, got shape {L.shape}")
    eta = np.asarray(eta, dtype=float)
    if not np.all(np.isfinite(eta)) or np.any(eta <= 0):
        raise ValueError("eta must be positive and finite")
    newton_steps = check_positive_int(newton_steps, "newton_steps")
    eta = eta[..., None] if eta.ndim else eta
    x = L.min(axis=-1, keepdims=True) - 2.0 / eta
    for _ in range(newton_steps):
        w = 4.0 / (eta * (L - x)) ** 2
        excess = w.sum(axis=-1, keepdims=True) - 1.0
        if np.all(np.abs(excess) < 1e-13):
            break
        x = x - excess / (eta * (w ** 1.5).sum(axis=-1, keepdims=True))
    w = 4.0 / (eta * (L - x)) ** 2
    return w / w.sum(axis=-1, keepdims=True)


class TsallisINF(_Agent):
    """Tsallis-INF (Zimmert & Seldin, 2021): follow the regularized leader on the simplex with the
    1/2-Tsallis entropy and importance-weighted loss estimates.

    .. math::
        w_t = \\arg\\min_{w\\in\\Delta_K} \\langle w, \\hat L_{t-1}\\rangle
              - \\frac{4}{\\eta_t}\\sum_k \\sqrt{w_k}, \\qquad \\eta_t = \\frac{2c}{\\sqrt t},
        \\qquad \\hat L_{t,k} = \\hat L_{t-1,k} + \\frac{\\ell_t - B_{t,k}}{w_{t,k}}\\mathbb 1\\{A_t = k\\} + B_{t,k},

    with the loss :math:`\\ell_t = 1 - R_t` (rewards in [0, 1]). ``estimator="iw"`` is the plain
    importance-weighted estimate (:math:`B = 0`); ``"rv"`` is the paper's reduced-variance one,
    :math:`B_{t,k} = \\tfrac12 \\mathbb 1\\{w_{t,k} \\ge \\eta_t^2\\}`. ``c = 1`` is the paper's
    learning rate. Optimal up to constants in both the adversarial (:math:`\\sqrt{KT}`) and the
    stochastic (:math:`\\sum_k \\log T/\\Delta_k`) regimes.

    Family: the policy :math:`w_t` is the learner's only object, moved by a reward-weighted
    gradient estimate (the importance-weighted loss is an unbiased estimate of the gradient of the
    expected loss with respect to the policy): RL, the strongest policy-based bandit learner.

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, TsallisINF, simulate
    >>> run = simulate(TsallisINF(), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    33.0
    """

    name = "Tsallis-INF"
    family = "rl"

    def __init__(self, c: float = 1.0, estimator: str = "iw"):
        self.c = check_real(c, "c", low=0.0, low_open=True)
        if estimator not in ("iw", "rv"):
            raise ValueError(f"estimator must be 'iw' or 'rv', got {estimator!r}")
        self.estimator = estimator

    def reset(self, n_runs: int, n_arms: int, bandit) -> None:
        super().reset(n_runs, n_arms, bandit)
        self.L = np.zeros((n_runs, n_arms))

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        self._eta = 2.0 * self.c / np.sqrt(t)
        self._w = tsallis_weights(self.L, self._eta)
        return _sample(self._w, rng)

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        super().update(arms, rewards)
        rows = np.arange(len(arms))
        loss = 1.0 - rewards
        if self.estimator == "rv":
            base = 0.5 * (self._w >= self._eta**2)
            self.L += base
            self.L[rows, arms] += (loss - base[rows, arms]) / self._w[rows, arms]
        else:
            self.L[rows, arms] += loss / self._w[rows, arms]


class EXP3(_Agent):
    """EXP3 with an anytime learning rate (Auer et al., 2002; Bubeck & Cesa-Bianchi, 2012, section 3):
    exponential weights on importance-weighted loss estimates.

    .. math::
        w_{t,k} \\propto e^{-\\eta_t \\hat L_{t-1,k}}, \\qquad
        \\eta_t = c\\sqrt{\\frac{\\log K}{t K}}, \\qquad
        \\hat L_{t,k} = \\hat L_{t-1,k} + \\frac{1 - R_t}{w_{t,k}}\\mathbb 1\\{A_t = k\\}.

    Family: RL (a softmax policy whose preferences :math:`-\\eta_t \\hat L` are moved by
    importance-weighted rewards), kept for reference: it is minimax-optimal up to a log factor in the
    adversarial regime but pays :math:`\\sqrt T` regret in the stochastic one.

    Examples
    --------
    >>> from ce_lib.bandits import BernoulliBandit, EXP3, simulate
    >>> run = simulate(EXP3(), BernoulliBandit([0.3, 0.5, 0.7]), horizon=1000, n_runs=50, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 1,000 pulls, mean of 50 runs
    44.0
    """

    name = "EXP3"
    family = "rl"

    def __init__(self, c: float = 1.0):
        self.c = check_real(c, "c", low=0.0, low_open=True)

    def reset(self, n_runs: int, n_arms: int, bandit) -> None:
        super().reset(n_runs, n_arms, bandit)
        self.L = np.zeros((n_runs, n_arms))

    def select(self, t: int, rng: np.random.Generator) -> np.ndarray:
        k = self.L.shape[1]
        eta = self.c * np.sqrt(np.log(k) / (t * k))
        z = -eta * (self.L - self.L.min(axis=1, keepdims=True))
        w = np.exp(z)
        self._w = w / w.sum(axis=1, keepdims=True)
        return _sample(self._w, rng)

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        super().update(arms, rewards)
        rows = np.arange(len(arms))
        self.L[rows, arms] += (1.0 - rewards) / self._w[rows, arms]


# ----------------------------------------------------------------------------------------------
# Simulation
# ----------------------------------------------------------------------------------------------


class Run(NamedTuple):
    """What :func:`simulate` returns (and :func:`ce_lib.contextual.simulate`: the same fields)."""

    regret: np.ndarray  #: (n_runs, horizon) pseudo-regret mu* - mu_{A_t} of every round
    rewards: np.ndarray  #: (n_runs, horizon) the rewards seen
    optimal: np.ndarray  #: (n_runs, horizon) whether the pulled arm was a best arm


def simulate(agent, bandit, horizon: int, n_runs: int, seed: Seed) -> Run:
    """Play ``agent`` on ``bandit`` for ``horizon`` rounds in ``n_runs`` independent runs at once.

    Randomness: ``seed`` is split (:func:`ce_lib.experiments.spawn_rngs`) into one generator per
    run, which draws that run's rewards in advance -- the ``n``-th pull of arm ``k`` in run ``i``
    pays the same whichever agent pulls it (common random numbers) -- and one more generator for
    the agent's own coin flips (ties, exploration, sampling), which are not shared.

    Parameters
    ----------
    agent : one of the agents of this module (its state is reset)
    bandit : BernoulliBandit or GaussianBandit
        With means of shape (K,) every run plays the same instance; with (n_runs, K), run ``i``
        plays row ``i``.
    horizon : int
        Rounds per run.
    n_runs : int
    seed : int, sequence of ints or numpy.random.Generator

    Returns
    -------
    Run
        Per-round pseudo-regret, rewards and optimal-arm indicator, each (n_runs, horizon).

    Examples
    --------
    >>> from ce_lib.bandits import GaussianBandit, Greedy, ThompsonSampling, simulate
    >>> bandit = GaussianBandit([0.0, 0.2, 0.5])
    >>> [round(float(simulate(agent, bandit, 500, 100, seed=0).optimal[:, -1].mean()), 2)  # best arm at the end
    ... for agent in (Greedy(), ThompsonSampling())]
    [0.68, 0.95]
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
    *run_rngs, rng = spawn_rngs(seed, n_runs + 1)
    table = np.stack([bandit.reward_table(means[i], horizon, run_rngs[i]) for i in range(n_runs)])
    best = means.max(axis=1)
    agent.reset(n_runs, means.shape[1], bandit)
    regret = np.empty((n_runs, horizon))
    optimal = np.empty((n_runs, horizon), dtype=bool)
    rewards = np.empty((n_runs, horizon))
    pulls = np.zeros(means.shape, dtype=int)
    rows = np.arange(n_runs)
    for t in range(horizon):
        arms = agent.select(t + 1, rng)
        r = table[rows, arms, pulls[rows, arms]].astype(float)
        pulls[rows, arms] += 1
        agent.update(arms, r)
        mu = means[rows, arms]
        regret[:, t] = best - mu
        optimal[:, t] = mu >= best
        rewards[:, t] = r
    return Run(regret, rewards, optimal)


def lai_robbins_constant(means) -> float:
    """The constant of the Lai-Robbins lower bound for Bernoulli arms.

    Any consistent policy has :math:`\\liminf_T R_T / \\log T \\ge
    \\sum_{k : \\Delta_k > 0} \\Delta_k / \\mathrm{kl}(\\mu_k, \\mu^\\star)`.
    """
    m = np.asarray(_check_means(means), dtype=float)
    if m.ndim != 1:
        raise ValueError("means must have shape (K,)")
    if np.any((m <= 0) | (m >= 1)):
        raise ValueError("means must be Bernoulli probabilities strictly inside (0, 1)")
    best = m.max()
    sub = m < best
    return float(np.sum((best - m[sub]) / kl_bernoulli(m[sub], best)))
