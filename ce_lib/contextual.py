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

from dataclasses import dataclass

import numpy as np

from .bandits import Run
from .experiments import (Seed, argmax_random_ties, as_rng,
                          check_finite_array, check_positive_int, check_real,
                          spawn_rngs)

__all__ = [
    "ClassificationBandit", "GreedyLS", "LinUCB", "LinearBandit", "LinearThompson",
    "SoftmaxPolicyGradient", "digits_bandit", "digits_ceiling", "simulate",
]


# ----------------------------------------------------------------------------------------------
# Environments
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LinearBandit:
    """Rewards :math:`r = \\theta_{A}^\\top x + \\sigma\\varepsilon` with contexts :math:`x = (1, \\rho\\,\\xi)`.

    The first feature is an intercept; the other :math:`d - 1` are Gaussian with standard
    deviation ``spread`` :math:`\\rho`. With :math:`\\rho = 0` every context is the same and the
    problem is a plain multi-armed bandit; a larger :math:`\\rho` gives the covariate diversity under
    which greedy is rate optimal (Bastani, Bayati & Khosravi, 2021), and a small one is the
    perturbation of Kannan et al. (2018). The constructor checks its arguments;
    :meth:`random` draws an instance.
    """

    theta: np.ndarray  #: (K, d) one parameter vector per arm (intercept first), K >= 2, d >= 2
    spread: float  #: rho >= 0, the standard deviation of the non-intercept features
    noise: float  #: sigma > 0, the reward noise

    def __post_init__(self):
        theta = check_finite_array(self.theta, "theta", ndim=2)
        if theta.shape[0] < 2 or theta.shape[1] < 2:
            raise ValueError(f"theta must have shape (K, d) with K >= 2 arms and d >= 2 features, got {theta.shape}")
        theta = theta.copy()
        theta.setflags(write=False)
        object.__setattr__(self, "theta", theta)
        object.__setattr__(self, "spread", check_real(self.spread, "spread", low=0.0))
        object.__setattr__(self, "noise", check_real(self.noise, "noise", low=0.0, low_open=True))

    @classmethod
    def random(cls, n_arms: int = 5, dim: int = 5, spread: float = 1.0, noise: float = 0.5,
               seed: Seed = 0) -> "LinearBandit":
        """A random instance: intercepts :math:`0.2\\,u_k`, slopes :math:`\\mathcal N(0, I/d)`, with
        :math:`u_k` standard normal. With ``spread = 0`` the arms differ only by their intercepts."""
        n_arms = check_positive_int(n_arms, "n_arms", minimum=2)
        dim = check_positive_int(dim, "dim", minimum=2)
        rng = as_rng(seed)
        theta = rng.standard_normal((n_arms, dim)) / np.sqrt(dim)
        theta[:, 0] = 0.2 * rng.standard_normal(n_arms)
        return cls(theta, spread, noise)

    @property
    def dim(self) -> int:
        return int(self.theta.shape[1])

    @property
    def n_arms(self) -> int:
        return int(self.theta.shape[0])

    def draw(self, horizon: int, rng: np.random.Generator) -> dict:
        """One run's contexts and reward noise for ``horizon`` rounds, drawn in advance from the run's
        generator (so every agent meets the same contexts and the same noise per arm and round)."""
        z = self.spread * rng.standard_normal((horizon, self.dim - 1))
        return {"x": np.hstack([np.ones((horizon, 1)), z]), "noise": self.noise * rng.standard_normal((horizon, self.n_arms))}

    def mean_rewards(self, x: np.ndarray) -> np.ndarray:
        """(n_runs, K) expected reward of every arm."""
        return x @ self.theta.T


@dataclass(frozen=True, eq=False)
class ClassificationBandit:
    """A labelled data set as a bandit: the context is an example, each class an arm, reward 1 if right."""

    features: np.ndarray  #: (n, d) contexts (an intercept column included)
    labels: np.ndarray  #: (n,) classes 0 .. K-1, at least two of them present

    def __post_init__(self):
        x = check_finite_array(self.features, "features", ndim=2)
        y = np.asarray(self.labels)
        if y.shape != (x.shape[0],) or x.shape[0] == 0:
            raise ValueError(f"labels must have shape ({x.shape[0]},) to match features, got {y.shape}")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() < 1:
            raise ValueError("labels must be integer classes 0 .. K-1 with K >= 2")
        for field, arr in (("features", x.copy()), ("labels", y.astype(int))):
            arr.setflags(write=False)
            object.__setattr__(self, field, arr)

    @property
    def n_arms(self) -> int:
        return int(self.labels.max()) + 1

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def draw(self, horizon: int, rng: np.random.Generator) -> dict:
        """One run's sequence of examples (indices drawn uniformly with replacement), in advance."""
        return {"idx": rng.integers(0, self.labels.size, horizon)}

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


def digits_ceiling(env: ClassificationBandit, folds: int = 5, seed: Seed = 0) -> float:
    """Accuracy of a supervised classifier trained on full labels (the ceiling of every agent).

    Multinomial logistic regression on the same features, scored by ``folds``-fold
    cross-validation, so the ceiling is an out-of-sample accuracy like the agents' online one.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score, KFold

    if not isinstance(env, ClassificationBandit):
        raise TypeError(f"env must be a ClassificationBandit (see digits_bandit), got {type(env).__name__}")
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
        self.reg = check_real(reg, "reg", low=0.0, low_open=True)

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


class GreedyLS(_RidgeAgent):
    """Certainty equivalence: pull :math:`\\arg\\max_k \\hat\\theta_k^\\top x_t` (ties at random).

    As in :class:`ce_lib.bandits.Greedy`, every arm is pulled once first (round robin), so that no
    arm is judged on its prior alone.

    Examples
    --------
    >>> import numpy as np
    >>> from ce_lib.contextual import LinearBandit, GreedyLS, simulate
    >>> env = LinearBandit(theta=np.array([[0.0, 1.0, 0.0], [0.1, 0.0, 1.0]]), spread=1.0, noise=0.5)
    >>> run = simulate(GreedyLS(), env, horizon=500, n_runs=20, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 500 rounds, mean of 20 runs
    5.5
    """

    name = "greedy least squares"

    def reset(self, n_runs: int, n_arms: int, dim: int) -> None:
        super().reset(n_runs, n_arms, dim)
        self.t = 0

    def select(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        self.t += 1
        n_arms = self.b.shape[1]
        if self.t <= n_arms:
            return np.full(len(x), self.t - 1)
        return argmax_random_ties(np.einsum("rkd,rd->rk", self.estimates(), x), rng, atol=1e-12)


class LinUCB(_RidgeAgent):
    """Optimism (Li, Chu, Langford & Schapire, 2010):
    :math:`\\arg\\max_k \\hat\\theta_k^\\top x + \\alpha \\sqrt{x^\\top A_k^{-1} x}`.

    Examples
    --------
    >>> import numpy as np
    >>> from ce_lib.contextual import LinearBandit, LinUCB, simulate
    >>> env = LinearBandit(theta=np.array([[0.0, 1.0, 0.0], [0.1, 0.0, 1.0]]), spread=1.0, noise=0.5)
    >>> run = simulate(LinUCB(), env, horizon=500, n_runs=20, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 500 rounds, mean of 20 runs
    4.8
    """

    name = "LinUCB"

    def __init__(self, alpha: float = 1.0, reg: float = 1.0):
        super().__init__(reg)
        self.alpha = check_real(alpha, "alpha", low=0.0)

    def select(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mean = np.einsum("rkd,rd->rk", self.estimates(), x)
        width = np.sqrt(np.einsum("rd,rkde,re->rk", x, self.a_inv, x))
        return argmax_random_ties(mean + self.alpha * width, rng, atol=1e-12)


class LinearThompson(_RidgeAgent):
    """Posterior sampling (Agrawal & Goyal, 2013): draw
    :math:`\\tilde\\theta_k \\sim \\mathcal N(\\hat\\theta_k, v^2 A_k^{-1})`, pull the best under the draw.

    Examples
    --------
    >>> import numpy as np
    >>> from ce_lib.contextual import LinearBandit, LinearThompson, simulate
    >>> env = LinearBandit(theta=np.array([[0.0, 1.0, 0.0], [0.1, 0.0, 1.0]]), spread=1.0, noise=0.5)
    >>> run = simulate(LinearThompson(), env, horizon=500, n_runs=20, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 500 rounds, mean of 20 runs
    8.0
    """

    name = "linear Thompson sampling"

    def __init__(self, scale: float = 0.5, reg: float = 1.0):
        super().__init__(reg)
        self.scale = check_real(scale, "scale", low=0.0, low_open=True)

    def select(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        chol = np.linalg.cholesky(self.a_inv)
        draw = self.estimates() + self.scale * np.einsum("rkij,rkj->rki", chol, rng.standard_normal(self.b.shape))
        return argmax_random_ties(np.einsum("rkd,rd->rk", draw, x), rng, atol=1e-12)


class SoftmaxPolicyGradient:
    """REINFORCE on a linear-softmax policy :math:`\\pi(k \\mid x) \\propto e^{w_k^\\top x}`, with a baseline.

    .. math:: w_k \\leftarrow w_k + \\alpha\\,(r_t - b_t)\\,(\\mathbb 1\\{A_t = k\\} - \\pi(k \\mid x_t))\\, x_t .

    ``baseline="average"``: :math:`b_t = \\bar r_t`, the running average reward (Sutton & Barto,
    section 13.4). ``baseline="learned"``: :math:`b_t = v^\\top x_t`, a context-dependent baseline
    fitted to the rewards seen so far by ridge regression (:math:`v = (I + \\sum_s x_s x_s^\\top)^{-1}
    \\sum_s r_s x_s`), the variance-reducing state-dependent baseline of Greensmith, Bartlett & Baxter
    (2004) and of actor-critic methods. Either way the learner predicts no reward for any *arm*: its
    baseline values the context under the current policy, and the policy is moved by rewards (RL).

    Examples
    --------
    >>> import numpy as np
    >>> from ce_lib.contextual import LinearBandit, SoftmaxPolicyGradient, simulate
    >>> env = LinearBandit(theta=np.array([[0.0, 1.0, 0.0], [0.1, 0.0, 1.0]]), spread=1.0, noise=0.5)
    >>> run = simulate(SoftmaxPolicyGradient(alpha=0.1), env, horizon=500, n_runs=20, seed=0)
    >>> round(float(run.regret.sum(axis=1).mean()), 1)  # total regret after 500 rounds, mean of 20 runs
    45.6
    """

    name = "softmax policy gradient"
    family = "rl"

    def __init__(self, alpha: float, baseline: str = "average"):
        self.alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
        if baseline not in ("average", "learned"):
            raise ValueError(f"baseline must be 'average' or 'learned', got {baseline!r}")
        self.baseline = baseline
        if baseline == "learned":
            self.name = "policy gradient, learned baseline"

    def reset(self, n_runs: int, n_arms: int, dim: int) -> None:
        self.w = np.zeros((n_runs, n_arms, dim))
        self.avg = np.zeros(n_runs)
        self.t = 0
        if self.baseline == "learned":
            self.gram = np.broadcast_to(np.eye(dim), (n_runs, dim, dim)).copy()
            self.xr = np.zeros((n_runs, dim))
            self.v = np.zeros((n_runs, dim))

    def select(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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
        if self.baseline == "learned":
            adv = rewards - np.einsum("rd,rd->r", self.v, x)
            self.gram += np.einsum("ri,rj->rij", x, x)
            self.xr += rewards[:, None] * x
            if self.t <= 50 or self.t % 10 == 0:  # refit the baseline (every 10 rounds after the first 50)
                self.v = np.linalg.solve(self.gram, self.xr[..., None])[..., 0]
        else:
            adv = rewards - self.avg
        self.w += self.alpha * np.einsum("r,rk,rd->rkd", adv, onehot - self._pi, x)
        self.avg += (rewards - self.avg) / self.t


# ----------------------------------------------------------------------------------------------
# Simulation
# ----------------------------------------------------------------------------------------------


def simulate(agent, env, horizon: int, n_runs: int, seed: Seed) -> Run:
    """Play ``agent`` on ``env`` for ``horizon`` rounds in ``n_runs`` independent runs at once.

    Randomness as in :func:`ce_lib.bandits.simulate`: ``seed`` is split into one generator per
    run, which draws that run's contexts (and reward noise) in advance -- run ``i`` of every agent
    meets the same contexts, and the same noise for the same arm in the same round -- and one more
    for the agent's own coin flips.

    Returns
    -------
    ce_lib.bandits.Run
        Per-round pseudo-regret (best expected reward minus the pulled arm's), rewards and
        optimal-arm indicator, each (n_runs, horizon).
    """
    if not isinstance(env, (LinearBandit, ClassificationBandit)):
        raise TypeError(f"env must be a LinearBandit or ClassificationBandit, got {type(env).__name__}")
    if not isinstance(agent, (_RidgeAgent, SoftmaxPolicyGradient)):
        raise TypeError(f"agent must be an agent of ce_lib.contextual, got {type(agent).__name__}")
    horizon = check_positive_int(horizon, "horizon")
    n_runs = check_positive_int(n_runs, "n_runs")
    *run_rngs, rng = spawn_rngs(seed, n_runs + 1)
    draws = [env.draw(horizon, r) for r in run_rngs]
    agent.reset(n_runs, env.n_arms, env.dim)
    out = {k: np.empty((n_runs, horizon)) for k in ("regret", "rewards", "optimal")}
    rows = np.arange(n_runs)
    linear = isinstance(env, LinearBandit)
    if linear:
        X = np.stack([d["x"] for d in draws])
        noise = np.stack([d["noise"] for d in draws])
    else:
        idx_all = np.stack([d["idx"] for d in draws])
    for t in range(horizon):
        if linear:
            x = X[:, t]
            means = env.mean_rewards(x)
            arms = agent.select(x, rng)
            r = means[rows, arms] + noise[rows, t, arms]
        else:
            idx = idx_all[:, t]
            x = env.features[idx]
            means = env.mean_rewards(idx)
            arms = agent.select(x, rng)
            r = means[rows, arms]
        agent.update(x, arms, r)
        best = means.max(axis=1)
        out["regret"][:, t] = best - means[rows, arms]
        out["rewards"][:, t] = r
        out["optimal"][:, t] = means[rows, arms] >= best - 1e-12
    return Run(out["regret"], out["rewards"], out["optimal"].astype(bool))
