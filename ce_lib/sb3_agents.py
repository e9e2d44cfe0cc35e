"""The strongest public deep-RL agents on CartPole and the Pendulum swing-up: stable-baselines3's
SAC, TD3 and DQN with the rl-baselines3-zoo settings, scored like the book's PPO.

Used by :ref:`ch-deep-rl`. Every run is scored by :func:`ce_lib.gym_tasks.evaluate` (the same
seeded greedy episodes as PPO and the certainty-equivalent controllers of the same seed), every
``EVAL_EVERY`` environment steps, and stops once the target of
:data:`ce_lib.gym_tasks.TASK_TARGETS` is reached and held (:data:`ce_lib.gym_tasks.GYM_HOLD`).
The chapter's runs of these agents are stored (they take longer than a chapter may): see
``ce_lib.studies.deep_rl``.

stable-baselines3 is imported only inside the functions that train.
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from .experiments import Seed, check_positive_int, samples_to_target, seed_int
from .gym_tasks import TASK_TARGETS, evaluate

__all__ = ["AgentSpec", "AGENTS", "ZOO_SETTINGS", "EVAL_EVERY", "sb3_kwargs", "make_agent", "run"]


class AgentSpec(NamedTuple):
    """One stable-baselines3 agent with its published settings."""

    algo: str  # the stable-baselines3 class: "SAC", "TD3" or "DQN"
    env_id: str  # the gymnasium task it is tuned for
    budget: int  # the zoo's n_timesteps: environment steps the agent may use
    source: str  # where the settings come from


ZOO_SETTINGS = {
    "SAC": {"policy": "MlpPolicy", "learning_rate": 1e-3},
    "TD3": {"policy": "MlpPolicy", "gamma": 0.98, "buffer_size": 200_000, "learning_starts": 10_000,
            "noise_type": "normal", "noise_std": 0.1, "gradient_steps": -1, "train_freq": [1, "episode"],
            "learning_rate": 1e-3, "policy_kwargs": {"net_arch": [400, 300]}},
    "DQN": {"policy": "MlpPolicy", "learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000,
            "learning_starts": 1000, "gamma": 0.99, "target_update_interval": 10, "train_freq": 256,
            "gradient_steps": 128, "exploration_fraction": 0.16, "exploration_final_eps": 0.04,
            "policy_kwargs": {"net_arch": [256, 256]}},
}
"""The rl-baselines3-zoo hyperparameters, as written in its files (everything not listed is
stable-baselines3's default): ``hyperparams/sac.yml`` and ``hyperparams/td3.yml`` (Pendulum; the
TD3 entry is the one the published ``sb3/td3-Pendulum-v1`` agent lists) and ``hyperparams/dqn.yml``
(CartPole-v1, marked "almost tuned" there)."""

AGENTS = {
    "SAC": AgentSpec("SAC", "Pendulum-v1", 20_000, "published: rl-baselines3-zoo hyperparams/sac.yml, Pendulum-v1"),
    "TD3": AgentSpec("TD3", "Pendulum-v1", 20_000, "published: rl-baselines3-zoo hyperparams/td3.yml, Pendulum "
                                                   "(the settings of the sb3/td3-Pendulum-v1 agent)"),
    "DQN": AgentSpec("DQN", "CartPole-v1", 50_000, "published: rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1"),
}
"""The agents of the chapter; ``budget`` is the zoo's ``n_timesteps`` for the task."""

EVAL_EVERY = 1000
"""Environment steps between evaluations of the greedy policy (PPO's are 1,024 and 4,096)."""


def _spec(name) -> AgentSpec:
    if name not in AGENTS:
        raise ValueError(f"agent must be one of {sorted(AGENTS)}, got {name!r}")
    return AGENTS[name]


def sb3_kwargs(name: str) -> dict:
    """Constructor arguments of the stable-baselines3 class for agent ``name``: the zoo settings of
    :data:`ZOO_SETTINGS`, with the zoo's ``noise_type``/``noise_std`` turned into an action-noise
    object's parameters (``action_noise_std``) and lists into the tuples stable-baselines3 expects."""
    z = dict(ZOO_SETTINGS[_spec(name).algo])
    z.pop("policy")
    out = {}
    for key, value in z.items():
        if key == "noise_type":
            if value != "normal":
                raise ValueError(f"noise_type {value!r} is not supported")
            continue
        if key == "noise_std":
            out["action_noise_std"] = value
        elif key == "train_freq" and isinstance(value, list):
            out[key] = tuple(value)
        else:
            out[key] = value
    return out


def _sb3():
    """stable-baselines3, or an error that says how to install it (it is not a core dependency)."""
    try:
        import stable_baselines3
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError("training the agents of ce_lib.sb3_agents needs stable-baselines3: "
                                  "pip install stable-baselines3 (or ce_lib with its [test] extra)") from err
    return stable_baselines3


def make_agent(name: str, seed: Seed, total_timesteps: int | None = None):
    """A fresh stable-baselines3 agent for ``name`` on its task, seeded with ``seed``, on the CPU.

    stable-baselines3 spreads DQN's exploration schedule over the steps passed to ``learn``; when
    the agent will be trained for ``total_timesteps`` other than the zoo's budget (a run that may
    go on to check that a target is held), ``exploration_fraction`` is rescaled so that the
    exploration rate still falls to its floor at the same step as in the zoo's setting."""
    import gymnasium as gym

    spec = _spec(name)
    seed = seed_int(seed)
    if total_timesteps is not None:
        total_timesteps = check_positive_int(total_timesteps, "total_timesteps")
    sb3 = _sb3()
    from stable_baselines3.common.noise import NormalActionNoise

    kwargs = sb3_kwargs(name)
    env = gym.make(spec.env_id)
    if "action_noise_std" in kwargs:
        n = env.action_space.shape[0]
        kwargs["action_noise"] = NormalActionNoise(np.zeros(n), kwargs.pop("action_noise_std") * np.ones(n))
    if "exploration_fraction" in kwargs and total_timesteps is not None:
        kwargs["exploration_fraction"] *= spec.budget / total_timesteps
    cls = getattr(sb3, spec.algo)
    return cls(ZOO_SETTINGS[spec.algo]["policy"], env, seed=seed, device="cpu", verbose=0, **kwargs)


def run(name: str, seed: Seed, *, budget: int | None = None, stop_at_target: bool = True,
        stop_after: int | None = None) -> dict:
    """Train agent ``name`` with ``seed`` and evaluate its greedy policy every :data:`EVAL_EVERY` steps.

    Parameters
    ----------
    name : str
        A key of :data:`AGENTS`.
    seed : int
        Seed of training and of the evaluation episodes (:func:`ce_lib.gym_tasks.evaluation_seed`).
    budget : int, optional
        Environment steps (default: the zoo's). With ``stop_at_target`` the run may go on to
        ``HOLD * budget`` steps, so that a target reached within the budget can be checked, and it
        stops as soon as the target has been reached and held.
    stop_at_target : bool
        Stop once the target is held (otherwise use exactly ``budget`` steps).
    stop_after : int, optional
        Cut the run after this many steps, as if it had been stopped there: its start is exactly
        that of the full run (used to check stored runs).

    Returns
    -------
    dict
        ``eval_steps``, ``eval_scores`` (lists), ``hit`` (steps at the first evaluation that met the
        target and kept meeting it up to ``HOLD`` times as many steps; ``inf`` if none within
        ``budget``), ``total_steps`` and ``seconds`` (wall-clock of training and evaluation).
    """
    import torch

    from .gym_tasks import GYM_HOLD as HOLD

    spec = _spec(name)
    seed = seed_int(seed)
    budget = spec.budget if budget is None else check_positive_int(budget, "budget")
    stop_after = None if stop_after is None else check_positive_int(stop_after, "stop_after")
    if not isinstance(stop_at_target, bool):
        raise TypeError(f"stop_at_target must be True or False, got {stop_at_target!r}")
    _sb3()
    from stable_baselines3.common.callbacks import BaseCallback

    target = TASK_TARGETS[spec.env_id].target
    torch.set_num_threads(1)
    evals: list[tuple[int, float]] = []

    def held() -> float:
        if not evals:
            return np.inf
        steps, scores = np.array(evals, dtype=float).T
        return float(samples_to_target(steps, scores, target, direction="above", hold=HOLD))

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            steps = self.num_timesteps
            if steps % EVAL_EVERY == 0:
                model = self.model
                evals.append((steps, evaluate(lambda obs: model.predict(obs, deterministic=True)[0], spec.env_id,
                                              seed)))
            if stop_after is not None and steps >= stop_after:
                return False
            return steps % EVAL_EVERY != 0 or not (stop_at_target and held() < np.inf)

    start = time.perf_counter()
    total = int(budget * HOLD) if stop_at_target else budget
    agent = make_agent(name, seed, total)
    # a logger that writes nowhere: stable-baselines3's default one makes an empty folder in the system's
    # temporary directory at every call to learn
    from stable_baselines3.common.logger import Logger

    agent.set_logger(Logger(folder=None, output_formats=[]))
    agent.learn(total, callback=Evaluate())
    seconds = time.perf_counter() - start
    hit = held()
    return {"eval_steps": [s for s, _ in evals], "eval_scores": [v for _, v in evals],
            "hit": hit if hit <= budget else np.inf, "total_steps": int(agent.num_timesteps), "seconds": seconds}
