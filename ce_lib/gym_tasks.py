"""The gymnasium tasks the deep-RL chapter uses, and how every method on them is scored.

This module is the common ground of :mod:`ce_lib.ppo` (the RL learner) and
:mod:`ce_lib.known_form` (the certainty-equivalent controllers): it knows how to build and
step environments, what counts as solving each task (:data:`TASK_TARGETS`), and which seeded
episodes every method of a given seed is evaluated on (:func:`evaluation_seed`). It knows nothing
about any learner, so neither side depends on the other.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .experiments import Seed, check_positive_int, seed_int

__all__ = ["Target", "TASK_TARGETS", "GYM_HOLD", "TASK_DESCRIPTIONS", "make_vector_env", "run_episodes", "random_transitions", "evaluation_seed",
           "evaluate"]


def _check_env_id(env_id) -> str:
    if not isinstance(env_id, str) or not env_id:
        raise TypeError(f"env_id must be a gymnasium environment id (a string), got {env_id!r}")
    return env_id


def make_vector_env(env_id: str, n: int):
    """``n`` copies of a gymnasium environment in a SyncVectorEnv with same-step autoreset (an
    episode's last observation is in ``info["final_obs"]``); a clear error for an unknown id."""
    import gymnasium as gym

    _check_env_id(env_id)
    n = check_positive_int(n, "n")
    try:
        return gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)],
                                        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    except gym.error.Error as err:
        raise ValueError(f"env_id: unknown or unusable environment {env_id!r} ({err})") from err


def run_episodes(policy: Callable[[np.ndarray], np.ndarray], env_id: str, n_episodes: int, seed: Seed = 0,
                 *, abort_below: float | None = None) -> np.ndarray:
    """Returns of ``n_episodes`` episodes of a policy, run side by side in a vector environment.

    Parameters
    ----------
    policy : callable
        Maps a batch of observations, shape ``(n_episodes, obs_dim)``, to a batch of actions.
    env_id : str
        A gymnasium environment id, e.g. ``"CartPole-v1"``.
    n_episodes : int
        Number of episodes; episode ``i`` starts from ``reset(seed=seed + i)``, so two policies
        evaluated with the same ``seed`` face the same initial states.
    seed : int
        Seed of the first episode (a non-negative integer).
    abort_below : float, optional
        If given, stop as soon as one finished episode returned less than this: a cheap "did every
        episode reach the target?" check. The episodes still running are then reported as ``nan``
        (not run to the end); the finished ones keep their returns.

    Returns
    -------
    numpy.ndarray, shape (n_episodes,)
        The undiscounted return of each episode (``nan`` for an episode cut short by ``abort_below``).
    """
    if not callable(policy):
        raise TypeError("policy must be a callable mapping observations to actions")
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    seed = seed_int(seed)
    if abort_below is not None and (isinstance(abort_below, bool) or not isinstance(abort_below, (int, float))):
        raise TypeError(f"abort_below must be a number or None, got {abort_below!r}")
    envs = make_vector_env(env_id, n_episodes)
    obs, _ = envs.reset(seed=[seed + i for i in range(n_episodes)])
    returns, done = np.zeros(n_episodes), np.zeros(n_episodes, dtype=bool)
    try:
        while not done.all():
            action = np.asarray(policy(np.asarray(obs, dtype=float)))
            obs, r, term, trunc, _ = envs.step(action)
            returns += np.where(done, 0.0, r)
            ended = (term | trunc) & ~done
            done |= ended
            if abort_below is not None and np.any(returns[ended] < abort_below):
                returns[~done] = np.nan
                break
    finally:
        envs.close()
    return returns


def random_transitions(env_id: str, n: int, seed: Seed = 0):
    """``n`` transitions of one environment under uniformly random actions (reset when an episode ends).

    Returns
    -------
    obs, actions, next_obs : numpy.ndarray
        Shapes ``(n, obs_dim)``, ``(n,)`` or ``(n, act_dim)``, ``(n, obs_dim)``; ``next_obs`` is the
        state the action led to, also for the last step of an episode.
    rewards : numpy.ndarray, shape (n,)
    """
    import gymnasium as gym

    _check_env_id(env_id)
    n = check_positive_int(n, "n")
    seed = seed_int(seed)
    try:
        env = gym.make(env_id)
    except gym.error.Error as err:
        raise ValueError(f"env_id: unknown or unusable environment {env_id!r} ({err})") from err
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    O, A, O2, R = [], [], [], []
    episode = 0
    for _ in range(n):
        a = env.action_space.sample()
        nxt, r, term, trunc, _ = env.step(a)
        O.append(obs)
        A.append(a)
        O2.append(nxt)
        R.append(r)
        obs = nxt
        if term or trunc:
            episode += 1
            obs, _ = env.reset(seed=seed + 7919 * episode)
    env.close()
    return np.array(O, dtype=float), np.array(A), np.array(O2, dtype=float), np.array(R, dtype=float)


class Target(NamedTuple):
    """What "solved" means on a task, for every method alike."""

    n_eval: int  # evaluation episodes, seeds evaluation_seed(seed) + i
    target: float  # the score to reach
    score: str  # "min": every evaluation episode must reach the target; "mean": their mean must


TASK_TARGETS = {
    "CartPole-v1": Target(5, 500.0, "min"),
    "Pendulum-v1": Target(10, -200.0, "mean"),
}
"""The chapter's two targets: balance CartPole for all 500 steps in each of 5 evaluation episodes;
a mean return of at least -200 over 10 Pendulum-v1 episodes (a swing-up from every start)."""

GYM_HOLD = 1.5
"""A target counts as reached at the first evaluation that meets it and keeps meeting it at every
evaluation up to 1.5 times as many steps (every method of the PPO and deep-RL chapters alike; the
book's other chapters check theirs more often and use :data:`ce_lib.experiments.HOLD`)."""


TASK_DESCRIPTIONS = {
    "CartPole-v1": ("CartPole-v1, balance for 500 steps",
                    "samples until 5 of 5 greedy episodes last 500 steps, and stay so"),
    "Pendulum-v1": ("Pendulum-v1, swing up and hold",
                    "samples until 10 greedy episodes average >= -200, and stay so"),
}
"""The task and metric as every scoreboard record on these tasks names them."""


def evaluation_seed(seed: Seed) -> int:
    """Seed of the first evaluation episode of run ``seed`` (every method of that seed faces the
    same starts): ``10_000 + 100 * seed``, never a seed any training run uses."""
    return 10_000 + 100 * seed_int(seed)


def evaluate(policy: Callable[[np.ndarray], np.ndarray] | None, env_id: str, seed: Seed) -> float:
    """Score of a policy on one of :data:`TASK_TARGETS` for run ``seed``.

    ``"min"`` tasks (CartPole): the lowest return of the evaluation episodes. They run side by side
    and stop at the first episode that falls short; every CartPole episode earns 1 per step, so
    the episodes still running have already earned more than that one, and its return is the
    exact minimum. ``"mean"`` tasks (Pendulum): the mean return. ``policy=None`` (a fit that
    admitted no controller) scores ``-inf``.
    """
    if env_id not in TASK_TARGETS:
        raise ValueError(f"env_id must be one of {sorted(TASK_TARGETS)}, got {env_id!r}")
    first = evaluation_seed(seed)  # checks seed, whatever the policy
    if policy is None:
        return -np.inf
    if not callable(policy):
        raise TypeError(f"policy must be a callable mapping observations to actions, or None, got "
                        f"{type(policy).__name__}")
    t = TASK_TARGETS[env_id]
    if t.score == "min":
        returns = run_episodes(policy, env_id, t.n_eval, first, abort_below=t.target)
        return float(np.nanmin(returns))
    return float(run_episodes(policy, env_id, t.n_eval, first).mean())
