"""PPO against certainty equivalence on CartPole and the Pendulum swing-up: the comparison of the
PPO chapter (:ref:`ch-ppo`) and its scoreboard records.

Both sides are imported here and nowhere else: :mod:`ce_lib.ppo` trains the RL agent,
:mod:`ce_lib.classic_control` fits and plans the certainty-equivalent controllers, and
:mod:`ce_lib.gym_tasks` scores every method of a seed on the same evaluation episodes.

Seeds: PPO run ``s`` trains with seed ``s`` and the CE controller of seed ``s`` fits on the random
transitions of seed ``s``; both are evaluated on the episodes of
:func:`ce_lib.gym_tasks.evaluation_seed` ``(s)``: the same starting states for both.
"""
from __future__ import annotations

import numpy as np

from . import classic_control, ppo
from .experiments import MethodResult, cached, check_positive_int, make_record, samples_to_target
from .gym_tasks import TASK_DESCRIPTIONS, TASK_TARGETS

__all__ = ["ce_scores", "ce_hits", "ppo_hits", "CE_LABELS", "CE_GIVEN", "PPO_TUNING", "headline"]


def ce_scores(env_id: str, n_seeds: int | None = None, model: str = "generic") -> np.ndarray:
    """Scores of the CE controller on the seeds PPO uses, shape ``(n_seeds, len(SIZES[env_id]))``
    (see :func:`ce_lib.classic_control.sweep`; cached)."""
    if env_id not in ppo.TASKS:
        raise ValueError(f"env_id must be one of {sorted(ppo.TASKS)}, got {env_id!r}")
    n_seeds = ppo.N_SEEDS[env_id] if n_seeds is None else check_positive_int(n_seeds, "n_seeds")
    return cached(classic_control.sweep, env_id=env_id, n_seeds=n_seeds, model=model)


def ce_hits(env_id: str, scores) -> np.ndarray:
    """Per seed, the smallest data size from which the CE controller meets the target at every
    larger size of the sweep (``inf`` if it never settles)."""
    if env_id not in classic_control.SIZES:
        raise ValueError(f"env_id must be one of {sorted(classic_control.SIZES)}, got {env_id!r}")
    return samples_to_target(np.array(classic_control.SIZES[env_id], dtype=float), scores,
                             TASK_TARGETS[env_id].target, direction="above", persist=True)


def ppo_hits(env_id: str, n_seeds: int | None = None) -> np.ndarray:
    """PPO's environment steps to the target, per seed (``inf`` if not within its budget)."""
    return np.array([r["hit"] for r in ppo.runs(env_id, n_seeds)])


#: Names of the CE controllers in the records and figures.
CE_LABELS = {"generic": "CE, generic linear model", "structured": "CE, structured linear model",
             "pendulum": "CE, known features + value iteration"}
#: What each CE controller is told that PPO is not.
CE_GIVEN = {
    "generic": "a hand-chosen quadratic cost in place of the reward, and that a linear model near upright suffices",
    "structured": "a hand-chosen quadratic cost in place of the reward, and the structure of the linear dynamics "
                  "(positions integrate velocities; accelerations are linear in the angle and the push)",
    "pendulum": "the form of the equations of motion and of the cost, up to constants fitted from the data",
}
#: How PPO's settings were chosen.
PPO_TUNING = {
    "CartPole-v1": "published: rl-baselines3-zoo hyperparameters for CartPole-v1",
    "Pendulum-v1": "published: rl-baselines3-zoo hyperparameters for Pendulum-v1 (without gSDE)",
}


def headline(n_seeds: int | None = None) -> list[dict]:
    """Scoreboard records: samples -- environment steps for PPO, random transitions for CE -- until
    the greedy policy meets the target of :data:`ce_lib.gym_tasks.TASK_TARGETS` and keeps it; one
    record per CE controller, each labelled with what that controller is told (``"more"``)."""
    records = []
    for env_id, models in (("CartPole-v1", ("generic", "structured")), ("Pendulum-v1", ("pendulum",))):
        n = ppo.N_SEEDS[env_id] if n_seeds is None else check_positive_int(n_seeds, "n_seeds", minimum=2)
        rl = MethodResult("PPO (rl-baselines3-zoo settings)", "rl", ppo_hits(env_id, n), PPO_TUNING[env_id])
        task, metric = TASK_DESCRIPTIONS[env_id]
        for m in models:
            scores = ce_scores(env_id, n, "generic" if m == "pendulum" else m)
            ce = MethodResult(CE_LABELS[m], "ce", ce_hits(env_id, scores), "none needed")
            records.append(make_record(chapter="ppo", task=task, metric=metric, target=TASK_TARGETS[env_id].target,
                                       budget=float(ppo.TASKS[env_id].budget), information="more",
                                       ce_given=CE_GIVEN[m], methods=[ce, rl]))
    return records
