r"""Augmented random search (ARS) over linear policies on gymnasium tasks (the PPO chapter, :ref:`ch-ppo`).

Mania, Guy & Recht (2018) showed that the plainest derivative-free method -- perturb the weights
of a *linear* policy in random directions, run one episode at each side of each direction, step
along the directions whose returns differed most -- matches deep RL's sample counts on the MuJoCo
benchmarks. On CartPole a linear policy is enough, so ARS is the RL opponent that a skeptic would
field next to PPO: guess and check in its purest form, with four numbers per action to find.

One iteration of ARS V1-t (``normalize=False``) or V2-t (``normalize=True``, the policy acts on
states standardized by the running mean and standard deviation of every state visited so far):

.. math::
    M \leftarrow M + \frac{\alpha}{b\,\sigma_R} \sum_{k \le b} \big(R(M + \nu\delta_k) - R(M - \nu\delta_k)\big)\,\delta_k ,

over the ``top`` = :math:`b` directions with the largest :math:`\max(R^+_k, R^-_k)`, where
:math:`\sigma_R` is the standard deviation of the :math:`2b` returns used. This is the search of
:func:`ce_lib.lqr.random_search` and :func:`ce_lib.dfo.random_search`, run on episodes of a
gymnasium environment instead of a known cost.

Samples are environment steps: every step of every episode that ARS runs counts, as PPO's do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np

from .experiments import Seed, as_rng, check_finite_array, check_positive_int, check_real, seed_int

__all__ = ["ARSConfig", "LinearPolicy", "ARSResult", "episode_returns", "train"]


@dataclass(frozen=True)
class ARSConfig:
    """Settings of :func:`train` (Mania, Guy & Recht 2018, Algorithm 2)."""

    step: float = 0.02
    """Step size :math:`\\alpha`."""
    explore: float = 0.03
    """Scale :math:`\\nu` of the perturbations (in the units of the standardized states under V2-t)."""
    n_dirs: int = 8
    """Directions :math:`N` per iteration; each costs two episodes."""
    top: int | None = None
    """Directions :math:`b \\le N` used in the step (None: all of them)."""
    normalize: bool = True
    """V2-t: act on states standardized by the running mean and standard deviation (False: V1-t)."""

    def __post_init__(self):
        check_real(self.step, "step", low=0.0, low_open=True)
        check_real(self.explore, "explore", low=0.0, low_open=True)
        check_positive_int(self.n_dirs, "n_dirs")
        if self.top is not None:
            check_positive_int(self.top, "top")
            if self.top > self.n_dirs:
                raise ValueError(f"top must lie in [1, n_dirs={self.n_dirs}], got {self.top}")
        if not isinstance(self.normalize, bool):
            raise TypeError(f"normalize must be True or False, got {self.normalize!r}")


@dataclass(frozen=True)
class LinearPolicy:
    """A linear policy on standardized states: :math:`a = \\arg\\max_i (M z)_i` for discrete actions,
    :math:`a = \\operatorname{clip}(M z)` for continuous ones, with :math:`z = (s - \\mu) / \\sigma`."""

    weights: np.ndarray
    """M, shape (n_outputs, obs_dim): one row per discrete action or action dimension."""
    mean: np.ndarray
    """mu, shape (obs_dim,): zeros under V1-t."""
    std: np.ndarray
    """sigma, shape (obs_dim,), positive: ones under V1-t."""
    discrete: bool
    """Argmax over the rows (True) or the rows as a continuous action (False)."""
    low: Any = None
    """The action space's lower bounds (continuous actions only)."""
    high: Any = None
    """The action space's upper bounds (continuous actions only)."""

    def __post_init__(self):
        w = check_finite_array(self.weights, "weights", ndim=2)
        for name in ("mean", "std"):
            v = check_finite_array(getattr(self, name), name, ndim=1)
            if v.shape != (w.shape[1],):
                raise ValueError(f"{name} must have shape ({w.shape[1]},) to match weights, got {v.shape}")
        if np.any(np.asarray(self.std) <= 0):
            raise ValueError("std must be positive")
        if not isinstance(self.discrete, (bool, np.bool_)):
            raise TypeError(f"discrete must be True or False, got {self.discrete!r}")

    def __call__(self, obs) -> np.ndarray:
        """Actions for a batch of observations, shape ``(n, obs_dim)``."""
        z = (np.asarray(obs, dtype=float) - self.mean) / self.std
        out = z @ self.weights.T
        return out.argmax(-1) if self.discrete else np.clip(out, self.low, self.high)


class ARSResult(NamedTuple):
    """Output of :func:`train`."""

    steps: np.ndarray  # environment steps used by the end of each iteration
    returns: np.ndarray  # mean return of that iteration's 2N exploration episodes
    policy: LinearPolicy  # the policy after the last iteration


def _batch_env(env_id: str, n: int):
    """``n`` copies of the task stepped as one: gymnasium's numpy CartPole for CartPole-v1 (the same
    dynamics in one array computation, faster than ``n`` Python environments), else a SyncVectorEnv."""
    import gymnasium as gym

    if env_id == "CartPole-v1":
        from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

        return CartPoleVectorEnv(num_envs=n, max_episode_steps=500)
    from .gym_tasks import make_vector_env

    env = make_vector_env(env_id, n)
    if not isinstance(env.single_action_space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise ValueError(f"env_id: ARS needs a Discrete or Box action space, got {env.single_action_space}")
    return env


def episode_returns(env, weights: np.ndarray, mean: np.ndarray, std: np.ndarray, seed: Seed):
    """One episode per policy, side by side: returns, lengths and the visited states' statistics.

    Parameters
    ----------
    env : gymnasium vector environment with ``len(weights)`` copies
    weights : numpy.ndarray, shape (k, n_outputs, obs_dim)
        One linear policy per copy, acting on ``(s - mean) / std``.
    seed : int
        Seeds the copies' starting states (``env.reset(seed=seed)``).

    Returns
    -------
    returns, lengths : numpy.ndarray, shape (k,)
    count, total, total_sq : int and arrays (obs_dim,)
        How many states the episodes visited, their sum and the sum of their squares (for V2-t's
        running statistics).
    """
    from gymnasium import spaces

    seed = seed_int(seed)
    if not hasattr(env, "num_envs") or not hasattr(env, "single_action_space"):
        raise TypeError(f"env must be a gymnasium vector environment, got {type(env).__name__}")
    weights = check_finite_array(weights, "weights", ndim=3)
    k = weights.shape[0]
    if k != env.num_envs:
        raise ValueError(f"weights must hold one policy per copy of env ({env.num_envs}), got {k}")
    for name, v in (("mean", mean), ("std", std)):
        if check_finite_array(v, name, ndim=1).shape != (weights.shape[2],):
            raise ValueError(f"{name} must have shape ({weights.shape[2]},) to match weights")
    if np.any(np.asarray(std) <= 0):
        raise ValueError("std must be positive")
    discrete = isinstance(env.single_action_space, spaces.Discrete)
    obs, _ = env.reset(seed=int(seed))
    alive = np.ones(k, dtype=bool)
    returns, lengths = np.zeros(k), np.zeros(k, dtype=np.int64)
    count, total, total_sq = 0, np.zeros(weights.shape[2]), np.zeros(weights.shape[2])
    while alive.any():
        s = np.asarray(obs, dtype=float).reshape(k, -1)
        live = s[alive]
        count, total, total_sq = count + live.shape[0], total + live.sum(0), total_sq + (live ** 2).sum(0)
        out = np.einsum("kad,kd->ka", weights, (s - mean) / std)
        if discrete:
            action = out.argmax(-1)
        else:
            action = np.clip(out, env.single_action_space.low, env.single_action_space.high)
        obs, r, term, trunc, _ = env.step(action)
        returns += np.where(alive, r, 0.0)
        lengths += alive
        alive &= ~(np.asarray(term) | np.asarray(trunc))
    return returns, lengths, count, total, total_sq


def train(env_id: str, total_timesteps: int, seed: Seed = 0, config: ARSConfig = ARSConfig(),
          callback: Callable[[ARSResult, int], bool] | None = None) -> ARSResult:
    """ARS on a gymnasium task until ``total_timesteps`` environment steps are used.

    Starts from :math:`M = 0`. Each iteration runs ``2 * config.n_dirs`` episodes (their steps
    count as samples, the last iteration may pass the budget by less than one iteration's
    episodes), then steps :math:`M` (see the module's docstring) and, under V2-t, folds the visited
    states into the running statistics.

    Parameters
    ----------
    env_id : str
        A gymnasium environment id with a Discrete or 1-d Box action space.
    total_timesteps : int
        Environment steps to use.
    seed : int or numpy.random.Generator
        Draws the directions and the episodes' starting states.
    config : ARSConfig
    callback : callable, optional
        ``callback(result_so_far, steps)`` after each iteration (``result_so_far.policy`` is the
        current policy); returning true stops training.

    Examples
    --------
    >>> from ce_lib.ars import ARSConfig, train
    >>> from ce_lib.gym_tasks import evaluate
    >>> result = train("CartPole-v1", 20_000, seed=0, config=ARSConfig(step=0.02, explore=0.03))
    >>> int(result.steps[-1]) >= 20_000, result.policy.weights.shape  # steps used, M (actions x state)
    (True, (2, 4))
    >>> evaluate(result.policy, "CartPole-v1", seed=0)  # the noise-free policy on 5 episodes: lowest return
    500.0
    """
    if not isinstance(env_id, str) or not env_id:
        raise TypeError(f"env_id must be a gymnasium environment id (a string), got {env_id!r}")
    total_timesteps = check_positive_int(total_timesteps, "total_timesteps")
    rng = as_rng(seed)
    if not isinstance(config, ARSConfig):
        raise TypeError(f"config must be an ARSConfig, got {type(config).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    from gymnasium import spaces

    N = config.n_dirs
    b = N if config.top is None else config.top
    env = _batch_env(env_id, 2 * N)
    try:
        space = env.single_action_space
        discrete = isinstance(space, spaces.Discrete)
        n_out = int(space.n) if discrete else int(np.prod(space.shape))
        obs_dim = int(np.prod(env.single_observation_space.shape))
        M = np.zeros((n_out, obs_dim))
        count, total, total_sq = 0, np.zeros(obs_dim), np.zeros(obs_dim)
        mean, std = np.zeros(obs_dim), np.ones(obs_dim)
        low, high = (None, None) if discrete else (space.low, space.high)
        steps, curve_steps, curve_returns = 0, [], []
        while steps < total_timesteps:
            delta = rng.standard_normal((N, n_out, obs_dim))
            weights = np.concatenate([M + config.explore * delta, M - config.explore * delta])
            R, lengths, c, s1, s2 = episode_returns(env, weights, mean, std, int(rng.integers(2 ** 31)))
            steps += int(lengths.sum())
            r_plus, r_minus = R[:N], R[N:]
            order = np.argsort(-np.maximum(r_plus, r_minus), kind="stable")[:b]
            sigma = np.std(np.concatenate([r_plus[order], r_minus[order]]))
            if sigma > 0:  # all returns equal: no direction is better than another
                M = M + config.step / (b * sigma) * np.einsum("k,kad->ad", r_plus[order] - r_minus[order], delta[order])
            if config.normalize:
                count, total, total_sq = count + c, total + s1, total_sq + s2
                mean = total / count
                std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 1e-8))
            curve_steps.append(steps)
            curve_returns.append(float(R.mean()))
            result = ARSResult(np.array(curve_steps), np.array(curve_returns),
                               LinearPolicy(M.copy(), mean.copy(), std.copy(), discrete, low, high))
            if callback is not None and callback(result, steps):
                break
    finally:
        env.close()
    return result
