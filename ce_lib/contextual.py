"""Contextual bandits: greedy least squares, optimism and posterior sampling versus policy gradient
(chapter ``ch-contextual``).

Each round the learner sees a context :math:`x_t \\in \\mathbb R^d`, pulls one of :math:`K` arms
and sees that arm's reward only. The certainty-equivalent model is a ridge regression per arm,
:math:`\\hat\\theta_k = (\\lambda I + \\sum_{s: A_s = k} x_s x_s^\\top)^{-1} \\sum_{s: A_s = k} x_s r_s`;
:class:`GreedyLS` acts on it as if it were true, :class:`LinUCB` adds an optimism bonus and
:class:`LinearThompson` samples from its posterior. The RL side, :class:`SoftmaxPolicyGradient`,
keeps a linear-softmax policy and follows REINFORCE with a baseline; it never predicts a reward.

Environments: :class:`LinearBandit` (contexts around a centre, with a knob for how diverse they
are) and :class:`ClassificationBandit` (a supervised data set -- scikit-learn's bundled
handwritten digits -- where each class is an arm and the reward is 1 for the right class).
Everything is vectorized over independent runs, as in :mod:`ce_lib.bandits`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .experiments import (as_rng, cached, check_finite_array, check_positive_int, make_record,
                          samples_to_target)

__all__ = [
    "ClassificationBandit",
    "ContextRun",
    "GreedyLS",
    "LinUCB",
    "LinearBandit",
    "LinearThompson",
    "SoftmaxPolicyGradient",
    "diversity_sweep",
    "digits_bandit",
    "digits_ceiling",
    "digits_curves",
    "headline",
    "simulate",
]


# ----------------------------------------------------------------------------------------------
# Environments
# ----------------------------------------------------------------------------------------------


class LinearBandit(NamedTuple):
    """Rewards :math:`r = \\theta_{A}^\\top x + \\sigma\\varepsilon` with contexts :math:`x = (1, \\rho\\,\\xi)`.

    The first feature is an intercept; the other :math:`d - 1` are Gaussian with standard
    deviation ``spread`` :math:`\\rho`. With :math:`\\rho = 0` every context is the same and the
    problem is a plain multi-armed bandit; a larger :math:`\\rho` gives the covariate diversity under
    which greedy is rate optimal (Bastani, Bayati & Khosravi, 2021), and a small one is the
    perturbation of Kannan et al. (2018).
    """

    theta: np.ndarray  #: (K, d) one parameter vector per arm (intercept first)
    spread: float  #: rho >= 0, the standard deviation of the non-intercept features
    noise: float  #: sigma > 0, the reward noise

    @classmethod
    def create(cls, n_arms: int = 5, dim: int = 5, spread: float = 1.0, noise: float = 0.5,
               seed: Any = 0) -> "LinearBandit":
        """A random instance: intercepts :math:`0.2\\,u_k`, slopes :math:`\\mathcal N(0, I/d)`, with
        :math:`u_k` standard normal. With ``spread = 0`` the arms differ only by their intercepts."""
        n_arms = check_positive_int(n_arms, "n_arms", minimum=2)
        dim = check_positive_int(dim, "dim")
        if not np.isfinite(spread) or spread < 0:
            raise ValueError(f"spread must be a finite number >= 0, got {spread}")
        if not np.isfinite(noise) or noise <= 0:
            raise ValueError(f"noise must be a finite number > 0, got {noise}")
        if dim < 2:
            raise ValueError(f"dim must be at least 2 (an intercept and a feature), got {dim}")
        rng = as_rng(seed)
        theta = rng.standard_normal((n_arms, dim)) / np.sqrt(dim)
        theta[:, 0] = 0.2 * rng.standard_normal(n_arms)
        return cls(theta, float(spread), float(noise))

    @property
    def dim(self) -> int:
        return int(self.theta.shape[1])

    @property
    def n_arms(self) -> int:
        return int(self.theta.shape[0])

    def contexts(self, rng, n_runs: int) -> np.ndarray:
        z = self.spread * rng.standard_normal((n_runs, self.dim - 1))
        return np.hstack([np.ones((n_runs, 1)), z])

    def mean_rewards(self, x: np.ndarray) -> np.ndarray:
        """(n_runs, K) expected reward of every arm."""
        return x @ self.theta.T

    def rewards(self, means: np.ndarray, arms: np.ndarray, rng) -> np.ndarray:
        return means[np.arange(len(arms)), arms] + self.noise * rng.standard_normal(len(arms))


class ClassificationBandit(NamedTuple):
    """A labelled data set as a bandit: the context is an example, each class an arm, reward 1 if right."""

    features: np.ndarray  #: (n, d) contexts (an intercept column included)
    labels: np.ndarray  #: (n,) classes 0 .. K-1

    @property
    def n_arms(self) -> int:
        return int(self.labels.max()) + 1

    def draw(self, rng, n_runs: int) -> np.ndarray:
        return rng.integers(0, self.labels.size, n_runs)

    def mean_rewards(self, idx: np.ndarray) -> np.ndarray:
        """(n_runs, K): 1 for the true class, 0 otherwise (rewards are deterministic given x)."""
        out = np.zeros((idx.size, self.n_arms))
        out[np.arange(idx.size), self.labels[idx]] = 1.0
        return out


def digits_bandit(n_components: int = 16) -> ClassificationBandit:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download), as a 10-armed bandit.

    Pixels are standardized, projected on their first ``n_components`` principal components
    (computed by SVD, so that a linear model per arm is cheap), scaled to unit variance, and an
    intercept column is appended.
    """
    from sklearn.datasets import load_digits

    n_components = check_positive_int(n_components, "n_components")
    x, y = load_digits(return_X_y=True)
    x = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-9)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    if n_components > vt.shape[0]:
        raise ValueError(f"n_components must be at most {vt.shape[0]}, got {n_components}")
    z = x @ vt[:n_components].T
    z /= z.std(axis=0)
    return ClassificationBandit(np.hstack([z, np.ones((z.shape[0], 1))]), y.astype(int))


def digits_ceiling(env: ClassificationBandit, folds: int = 5, seed: Any = 0) -> float:
    """Accuracy of a supervised classifier trained on full labels (the ceiling of every agent).

    Multinomial logistic regression on the same features, scored by ``folds``-fold
    cross-validation, so the ceiling is an out-of-sample accuracy like the agents' online one.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score, KFold

    folds = check_positive_int(folds, "folds", minimum=2)
    cv = KFold(folds, shuffle=True, random_state=int(as_rng(seed).integers(2**31)))
    clf = LogisticRegression(max_iter=2000)
    return float(cross_val_score(clf, env.features, env.labels, cv=cv).mean())


# ----------------------------------------------------------------------------------------------
# Agents
# ----------------------------------------------------------------------------------------------


class _RidgeAgent:
    """Per-arm ridge regression, kept as inverse Gram matrices updated by Sherman-Morrison."""

    name = "ridge"
    family = "ce"

    def __init__(self, reg: float = 1.0):
        if not np.isfinite(reg) or reg <= 0:
            raise ValueError(f"reg must be a finite number > 0, got {reg}")
        self.reg = float(reg)

    def reset(self, n_runs: int, n_arms: int, dim: int) -> None:
        self.a_inv = np.tile(np.eye(dim) / self.reg, (n_runs, n_arms, 1, 1))
        self.b = np.zeros((n_runs, n_arms, dim))

    def estimates(self) -> np.ndarray:
        """(n_runs, K, d) ridge estimates of every arm's parameters."""
        return np.einsum("rkij,rkj->rki", self.a_inv, self.b)

    def update(self, x: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        rows = np.arange(len(arms))
        a_inv = self.a_inv[rows, arms]  # (R, d, d)
        ax = np.einsum("rij,rj->ri", a_inv, x)
        denom = 1.0 + np.einsum("ri,ri->r", x, ax)
        self.a_inv[rows, arms] = a_inv - np.einsum("ri,rj->rij", ax, ax) / denom[:, None, None]
        self.b[rows, arms] += rewards[:, None] * x


def _argmax_random_ties(values: np.ndarray, rng) -> np.ndarray:
    top = values >= values.max(axis=1, keepdims=True) - 1e-12
    return np.argmax(np.where(top, rng.random(values.shape), -1.0), axis=1)


class GreedyLS(_RidgeAgent):
    """Certainty equivalence: pull :math:`\\arg\\max_k \\hat\\theta_k^\\top x_t` (ties at random).

    As in :class:`ce_lib.bandits.Greedy`, every arm is pulled once first (round robin), so that no
    arm is judged on its prior alone."""

    name = "greedy least squares"

    def reset(self, n_runs: int, n_arms: int, dim: int) -> None:
        super().reset(n_runs, n_arms, dim)
        self.t = 0

    def select(self, x: np.ndarray, rng) -> np.ndarray:
        self.t += 1
        n_arms = self.b.shape[1]
        if self.t <= n_arms:
            return np.full(len(x), self.t - 1)
        return _argmax_random_ties(np.einsum("rkd,rd->rk", self.estimates(), x), rng)


class LinUCB(_RidgeAgent):
    """Optimism (Li, Chu, Langford & Schapire, 2010):
    :math:`\\arg\\max_k \\hat\\theta_k^\\top x + \\alpha \\sqrt{x^\\top A_k^{-1} x}`."""

    name = "LinUCB"

    def __init__(self, alpha: float = 1.0, reg: float = 1.0):
        super().__init__(reg)
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
        self.alpha = float(alpha)

    def select(self, x: np.ndarray, rng) -> np.ndarray:
        mean = np.einsum("rkd,rd->rk", self.estimates(), x)
        width = np.sqrt(np.einsum("rd,rkde,re->rk", x, self.a_inv, x))
        return _argmax_random_ties(mean + self.alpha * width, rng)


class LinearThompson(_RidgeAgent):
    """Posterior sampling (Agrawal & Goyal, 2013): draw
    :math:`\\tilde\\theta_k \\sim \\mathcal N(\\hat\\theta_k, v^2 A_k^{-1})`, pull the best under the draw."""

    name = "linear Thompson sampling"

    def __init__(self, scale: float = 0.5, reg: float = 1.0):
        super().__init__(reg)
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale must be a finite number > 0, got {scale}")
        self.scale = float(scale)

    def select(self, x: np.ndarray, rng) -> np.ndarray:
        chol = np.linalg.cholesky(self.a_inv)
        draw = self.estimates() + self.scale * np.einsum("rkij,rkj->rki", chol, rng.standard_normal(self.b.shape))
        return _argmax_random_ties(np.einsum("rkd,rd->rk", draw, x), rng)


class SoftmaxPolicyGradient:
    """REINFORCE on a linear-softmax policy :math:`\\pi(k \\mid x) \\propto e^{w_k^\\top x}`, with a baseline.

    .. math:: w_k \\leftarrow w_k + \\alpha\\,(r_t - \\bar r_t)\\,(\\mathbb 1\\{A_t = k\\} - \\pi(k \\mid x_t))\\, x_t ,

    where :math:`\\bar r_t` is the running average reward. It predicts no reward for any arm.
    """

    name = "softmax policy gradient"
    family = "rl"

    def __init__(self, alpha: float):
        if not np.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"alpha must be a finite number > 0, got {alpha}")
        self.alpha = float(alpha)

    def reset(self, n_runs: int, n_arms: int, dim: int) -> None:
        self.w = np.zeros((n_runs, n_arms, dim))
        self.avg = np.zeros(n_runs)
        self.t = 0

    def select(self, x: np.ndarray, rng) -> np.ndarray:
        logits = np.einsum("rkd,rd->rk", self.w, x)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        self._pi = p / p.sum(axis=1, keepdims=True)
        u = rng.random((len(x), 1))
        return np.minimum((np.cumsum(self._pi, axis=1) < u).sum(axis=1), self._pi.shape[1] - 1)

    def update(self, x: np.ndarray, arms: np.ndarray, rewards: np.ndarray) -> None:
        self.t += 1
        onehot = np.zeros_like(self._pi)
        onehot[np.arange(len(arms)), arms] = 1.0
        adv = rewards - self.avg
        self.w += self.alpha * np.einsum("r,rk,rd->rkd", adv, onehot - self._pi, x)
        self.avg += (rewards - self.avg) / self.t


# ----------------------------------------------------------------------------------------------
# Simulation
# ----------------------------------------------------------------------------------------------


class ContextRun(NamedTuple):
    """What :func:`simulate` returns, each of shape (n_runs, horizon)."""

    regret: np.ndarray  #: pseudo-regret: best expected reward minus the pulled arm's
    rewards: np.ndarray  #: the rewards seen
    optimal: np.ndarray  #: whether the pulled arm was a best arm for that context


def simulate(agent, env, horizon: int, n_runs: int, seed: Any) -> ContextRun:
    """Play ``agent`` on ``env`` for ``horizon`` rounds in ``n_runs`` independent runs at once."""
    if not isinstance(env, (LinearBandit, ClassificationBandit)):
        raise TypeError(f"env must be a LinearBandit or ClassificationBandit, got {type(env).__name__}")
    if not isinstance(agent, (_RidgeAgent, SoftmaxPolicyGradient)):
        raise TypeError(f"agent must be an agent of ce_lib.contextual, got {type(agent).__name__}")
    horizon = check_positive_int(horizon, "horizon")
    n_runs = check_positive_int(n_runs, "n_runs")
    rng = as_rng(seed)
    dim = env.dim if isinstance(env, LinearBandit) else env.features.shape[1]
    agent.reset(n_runs, env.n_arms, dim)
    out = {k: np.empty((n_runs, horizon)) for k in ("regret", "rewards", "optimal")}
    rows = np.arange(n_runs)
    for t in range(horizon):
        if isinstance(env, LinearBandit):
            x = env.contexts(rng, n_runs)
            means = env.mean_rewards(x)
            arms = agent.select(x, rng)
            r = env.rewards(means, arms, rng)
        else:
            idx = env.draw(rng, n_runs)
            x = env.features[idx]
            means = env.mean_rewards(idx)
            arms = agent.select(x, rng)
            r = means[rows, arms]
        agent.update(x, arms, r)
        best = means.max(axis=1)
        out["regret"][:, t] = best - means[rows, arms]
        out["rewards"][:, t] = r
        out["optimal"][:, t] = means[rows, arms] >= best - 1e-12
    return ContextRun(out["regret"], out["rewards"], out["optimal"].astype(bool))


# ----------------------------------------------------------------------------------------------
# The chapter's experiments
# ----------------------------------------------------------------------------------------------


def diversity_sweep(spreads=(0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0), n_arms: int = 2, horizon: int = 4000,
                    n_runs: int = 50, seed: Any = 0) -> dict:
    """Regret after ``horizon`` rounds of greedy, LinUCB and linear Thompson against context spread.

    Two arms by default, the setting of Bastani, Bayati & Khosravi's main theorem. One instance
    (seeded by ``seed``) for every spread; per spread, the total regret of every run.
    """
    spreads = check_finite_array(spreads, "spreads", ndim=1)
    agents = {"greedy least squares": GreedyLS(), "LinUCB": LinUCB(), "linear Thompson sampling": LinearThompson()}
    out = {"spreads": spreads, "regret": {name: [] for name in agents}}
    for i, rho in enumerate(spreads):
        env = LinearBandit.create(n_arms=n_arms, spread=float(rho), seed=seed)
        for j, (name, agent) in enumerate(agents.items()):
            run = simulate(agent, env, horizon, n_runs, seed=[*np.atleast_1d(seed).tolist(), i, j])
            out["regret"][name].append(run.regret.sum(axis=1))
    out["regret"] = {k: np.array(v) for k, v in out["regret"].items()}
    return out


#: The policy gradient's tuning grid on the digits task.
ALPHAS = (0.01, 0.03, 0.1, 0.3, 1.0)
#: Window and accuracy of the scoreboard's target on the digits task.
WINDOW, LEVEL = 200, 0.8
HORIZON = 8000


def digits_curves(n_runs: int = 20, horizon: int = HORIZON, alpha: float = 0.1, seed: Any = 0) -> dict:
    """Online accuracy of every agent on the digits bandit: per run, the reward of every round."""
    env = digits_bandit()
    agents = [GreedyLS(), LinUCB(), LinearThompson(), SoftmaxPolicyGradient(alpha)]
    out = {}
    for j, agent in enumerate(agents):
        run = simulate(agent, env, horizon, n_runs, seed=[*np.atleast_1d(seed).tolist(), j])
        out[agent.name] = {"family": agent.family, "rewards": run.rewards}
    return out


def _rounds_to_accuracy(agent, env, n_runs, seed):
    run = simulate(agent, env, HORIZON, n_runs, seed)
    c = np.concatenate([np.zeros((n_runs, 1)), np.cumsum(run.rewards, axis=1)], axis=1)
    acc = (c[:, WINDOW:] - c[:, :-WINDOW]) / WINDOW
    ends = np.arange(WINDOW, HORIZON + 1, dtype=float)
    return samples_to_target(ends, acc, LEVEL, direction="above", hold=1.25)


def _headline(n_seeds: int) -> dict:
    env = digits_bandit()
    scores = {}
    for alpha in ALPHAS:  # tuned on runs disjoint from the reported ones, reliability first
        hits = _rounds_to_accuracy(SoftmaxPolicyGradient(alpha), env, n_seeds, [1000, n_seeds])
        scores[alpha] = (int(np.sum(~np.isfinite(hits))), float(np.median(np.where(np.isfinite(hits), hits, HORIZON))))
    alpha = min(scores, key=scores.get)
    agents = [GreedyLS(), LinUCB(), LinearThompson(), SoftmaxPolicyGradient(alpha)]
    results = [(agent.name if agent.family == "ce" else f"{agent.name} (alpha = {alpha})", agent.family,
                _rounds_to_accuracy(agent, env, n_seeds, [0, n_seeds, j])) for j, agent in enumerate(agents)]
    return make_record(chapter="contextual", task="handwritten digits as a 10-armed contextual bandit",
                       metric=f"rounds until {LEVEL:.0%} accuracy over a {WINDOW}-round window",
                       target=LEVEL, n_seeds=n_seeds, budget=HORIZON, results=results,
                       tuning={"runs": len(ALPHAS) * n_seeds, "chosen": alpha})


def headline(n_seeds: int = 20) -> list[dict]:
    """Scoreboard record: rounds to 80% online accuracy on the digits, best CE agent vs tuned policy gradient."""
    return [cached(_headline, n_seeds=n_seeds)]
