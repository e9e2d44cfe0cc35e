"""The strongest deep-RL agents against certainty equivalence with a generic learned model, on
CartPole and the Pendulum swing-up: the comparison of :ref:`ch-deep-rl` and its scoreboard records.

The RL side is the best of four agents with published settings: stable-baselines3's SAC and TD3
(Pendulum) and DQN (CartPole), from the stored runs of :mod:`ce_lib.offpolicy`, and the book's PPO
(:mod:`ce_lib.ppo`, both tasks). The CE side is :mod:`ce_lib.learned_model`: an ensemble of small
networks fitted to the same kind of data the agents see, and model-predictive control on it, in
two variants -- told nothing (``"learned"``: it learns rewards and failures too; same information)
and told the reward function (``"known"``; more information).

Seeds: every method of seed ``s`` is evaluated on the episodes of
:func:`ce_lib.gym_tasks.evaluation_seed` ``(s)``; the reported seeds are
:data:`ce_lib.offpolicy.REPORTED_SEEDS` and the best agent of each task is chosen on
:data:`ce_lib.offpolicy.TUNING_SEEDS`.
"""
from __future__ import annotations

import numpy as np

from . import learned_model, offpolicy, ppo
from .experiments import MethodResult, cached, check_positive_int, make_record
from .gym_tasks import TASK_DESCRIPTIONS, TASK_TARGETS

__all__ = ["RL_AGENTS", "BUDGETS", "ce_runs", "rl_runs", "rl_hits", "ce_hits", "CE_NAMES", "CE_GIVEN", "headline"]

RL_AGENTS = {"Pendulum-v1": ("SAC", "TD3", "PPO"), "CartPole-v1": ("DQN", "PPO")}
"""The RL agents run on each task."""
BUDGETS = {"Pendulum-v1": 20_000, "CartPole-v1": 50_000}
"""Environment steps the RL agents may use: the zoo's budgets of the off-policy agents (PPO's
runs that need more count as misses here)."""
CE_NAMES = {"learned": "CE, learned model + MPC", "known": "CE, learned dynamics + known reward + MPC"}
CE_GIVEN = {
    "Pendulum-v1": "the reward function (gymnasium's cost of angle, speed and torque); the dynamics are learned",
    "CartPole-v1": "the reward function and the failure rule (cart beyond 2.4, pole beyond 12 degrees); "
                   "the dynamics are learned",
}


def _check_env(env_id):
    if env_id not in RL_AGENTS:
        raise ValueError(f"env_id must be one of {sorted(RL_AGENTS)}, got {env_id!r}")
    return env_id


def ce_runs(env_id: str, reward: str = "learned", seeds=offpolicy.REPORTED_SEEDS) -> list[dict]:
    """:func:`ce_lib.learned_model.run_seeds` on ``seeds`` (cached)."""
    _check_env(env_id)
    return cached(learned_model.run_seeds, env_id=env_id, seeds=list(seeds), reward=reward)


def rl_runs(name: str, env_id: str, seeds=offpolicy.REPORTED_SEEDS) -> list[dict]:
    """Runs of RL agent ``name`` on ``env_id``: stored runs for the stable-baselines3 agents and for
    PPO's tuning seeds; PPO's reported seeds are the PPO chapter's runs (:func:`ce_lib.ppo.runs`)."""
    _check_env(env_id)
    if name not in RL_AGENTS[env_id]:
        raise ValueError(f"name must be one of {RL_AGENTS[env_id]} on {env_id}, got {name!r}")
    seeds = list(seeds)
    if name == "PPO" and all(s in offpolicy.REPORTED_SEEDS for s in seeds):
        runs = ppo.runs(env_id)
        return [runs[s] for s in seeds]
    return offpolicy.stored_runs(name, env_id, seeds)


def rl_hits(name: str, env_id: str, seeds=offpolicy.REPORTED_SEEDS) -> np.ndarray:
    """Steps to the target per seed within :data:`BUDGETS` (``inf`` otherwise)."""
    h = np.array([r["hit"] for r in rl_runs(name, env_id, seeds)], dtype=float)
    return np.where(h <= BUDGETS[env_id], h, np.inf)


def ce_hits(runs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Transitions to the target per seed (``inf`` if not reached) and the transitions each seed
    collected before it stopped (its budget)."""
    hits = np.array([r["hit"] for r in runs], dtype=float)
    caps = np.array([max(r["eval_steps"]) for r in runs], dtype=float)
    return hits, caps


def headline(n_seeds: int | None = None) -> list[dict]:
    """Scoreboard records, per task: the learned-model CE told nothing (``"same"``) and told the
    reward (``"more"``), each against the best RL agent (chosen on the tuning seeds); on the first
    ``n_seeds`` reported seeds (default: all; the agents' runs are stored for those only)."""
    n = len(offpolicy.REPORTED_SEEDS)
    n_seeds = n if n_seeds is None else check_positive_int(n_seeds, "n_seeds", minimum=2)
    if n_seeds > n:
        raise ValueError(f"n_seeds: the agents' runs are stored for {n} seeds, got {n_seeds}")
    seeds = offpolicy.REPORTED_SEEDS[:n_seeds]
    records = []
    for env_id in ("Pendulum-v1", "CartPole-v1"):
        rl = [MethodResult(f"{a} ({'book' if a == 'PPO' else 'stable-baselines3'}, zoo settings)", "rl",
                           rl_hits(a, env_id, seeds), _tuning(a, env_id), rl_hits(a, env_id, offpolicy.TUNING_SEEDS))
              for a in RL_AGENTS[env_id]]
        task, metric = TASK_DESCRIPTIONS[env_id]
        for reward, info in (("learned", "same"), ("known", "more")):
            hits, caps = ce_hits(ce_runs(env_id, reward, seeds))
            ce = MethodResult(f"{CE_NAMES[reward]} (at most {learned_model.TASK_SPECS[env_id].max_episodes} episodes)",
                              "ce", hits, "set by hand for speed in a few development runs (seeds 0-2); no grid",
                              budget=caps)
            records.append(make_record(chapter="deep_rl", task=task, metric=metric, target=TASK_TARGETS[env_id].target,
                                       budget=float(BUDGETS[env_id]), information=info,
                                       ce_given="" if info == "same" else CE_GIVEN[env_id], methods=[ce, *rl]))
    return records


def _tuning(agent, env_id):
    if agent == "PPO":  # one text for both tasks: the scoreboard lists a method's tuning once
        return "published: rl-baselines3-zoo hyperparameters for the task (on Pendulum without gSDE)"
    return offpolicy.AGENTS[agent].source
