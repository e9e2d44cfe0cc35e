"""The study of :ref:`ch-deep-rl`: the strongest deep-RL agents against certainty equivalence with a
generic learned model, on CartPole and the Pendulum swing-up, and the chapter's scoreboard records.

The RL side is the best of four agents with published settings: stable-baselines3's SAC and TD3
(Pendulum) and DQN (CartPole) (:mod:`ce_lib.sb3_agents`), and the book's PPO (:mod:`ce_lib.ppo`, both
tasks). The CE side is :mod:`ce_lib.learned_model`: an ensemble of small networks fitted to the same
kind of data the agents see, and model-predictive control on it, in two variants -- told nothing
(``"learned"``: it learns rewards and failures too; same information) and told the reward function
(``"known"``; more information).

Seeds: every method of seed ``s`` is evaluated on the episodes of
:func:`ce_lib.gym_tasks.evaluation_seed` ``(s)``; the reported seeds are ``SETTINGS.reported_seeds`` and
the best agent of each task is chosen on ``SETTINGS.tuning_seeds``.

**Why the agents' runs are stored.** The off-policy agents take one gradient step of networks with
256 or 400 units per environment step. On two CPU cores one SAC run costs about two minutes, and the
chapter's 13 seeds of three agents about 70 CPU-minutes: more than a chapter may take to execute.
The runs are therefore made once by ``python -m ce_lib.studies.deep_rl generate`` and stored with
the settings they were made with, the library versions and the numerical mode in
``ce_lib/data/deep_rl_runs.json`` (:mod:`ce_lib.stored`); :func:`load_data` refuses them, naming what
changed, if any of those settings has changed since, and the test suite re-runs the start of stored
runs and compares. PPO's runs are the PPO chapter's, stored with that chapter
(:func:`ce_lib.studies.ppo.stored_runs`).
"""
from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import learned_model, stored
from ..experiments import (
    MethodResult,
    cached,
    check_positive_int,
    check_seeds,
    make_record,
    parallel_map,
    reported_seeds,
    tuning_seeds,
)
from ..gym_tasks import GYM_HOLD, TASK_DESCRIPTIONS, TASK_TARGETS
from ..sb3_agents import AGENTS, EVAL_EVERY, ZOO_SETTINGS, run
from . import ppo as ppo_study

__all__ = [
    "Settings", "SETTINGS", "DATA_FILE", "RL_AGENTS", "CE_NAMES", "CE_GIVEN", "ce_runs", "CE_BATCHES", "ce_runs_all",
    "rl_runs",
    "rl_hits", "ce_hits", "headline", "exact_rerun_expected", "generate", "load_data", "stored_runs",
    "main",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    # The seeds every method reports (PPO's Pendulum seeds; CartPole's first ten).
    reported_seeds: tuple = reported_seeds(10)
    # Seeds on which the best agent of each task is chosen, never the reported ones.
    tuning_seeds: tuple = tuning_seeds(3)
    # Environment steps the RL agents may use: the zoo's budgets of the off-policy agents (PPO's runs that
    # need more count as misses here).
    budgets: dict = field(default_factory=lambda: {"Pendulum-v1": 20_000, "CartPole-v1": 50_000})


SETTINGS = Settings()
"""The settings the chapter runs with."""


DATA_FILE = "deep_rl_runs.json"
"""Name of the stored runs inside ``ce_lib/data``."""

RL_AGENTS = {"Pendulum-v1": ("SAC", "TD3", "PPO"), "CartPole-v1": ("DQN", "PPO")}
"""The RL agents run on each task."""
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


def ce_runs(env_id: str, reward: str = "learned", seeds=SETTINGS.reported_seeds) -> list[dict]:
    """:func:`ce_lib.learned_model.mpc_runs` on ``seeds`` (cached), on one torch thread: the runs are the
    same on one thread as on two (checked in the tests), and one thread per batch lets :func:`ce_runs_all`
    compute two batches at once on two cores, which is faster than one batch at a time on both."""
    _check_env(env_id)
    seeds = check_seeds(seeds)  # "01" is not the seeds 0 and 1
    return cached(learned_model.mpc_runs, env_id=env_id, seeds=list(seeds), reward=reward, n_threads=1)


#: Every batch of learned-model runs the chapter makes, (task, reward), the longest first.
CE_BATCHES = (("Pendulum-v1", "known"), ("Pendulum-v1", "learned"), ("CartPole-v1", "known"),
              ("CartPole-v1", "learned"))


def _ce_job(job):
    env_id, reward, seeds = job
    return ce_runs(env_id, reward, seeds)


def ce_runs_all(seeds=SETTINGS.reported_seeds) -> dict:
    """:func:`ce_runs` of every batch of :data:`CE_BATCHES`, two at a time (cached):
    ``{(env_id, reward): runs}``."""
    seeds = check_seeds(seeds)
    return dict(zip(CE_BATCHES, parallel_map(_ce_job, [(e, r, list(seeds)) for e, r in CE_BATCHES], n_jobs=2)))


def rl_runs(name: str, env_id: str, seeds=SETTINGS.reported_seeds) -> list[dict]:
    """Runs of RL agent ``name`` on ``env_id``: the stored runs of the stable-baselines3 agents, and
    PPO's from the PPO chapter (its reported and tuning seeds, :func:`ce_lib.studies.ppo.stored_runs`)."""
    _check_env(env_id)
    if name not in RL_AGENTS[env_id]:
        raise ValueError(f"name must be one of {RL_AGENTS[env_id]} on {env_id}, got {name!r}")
    seeds = check_seeds(seeds)
    if name == "PPO":
        return [ppo_study.stored_runs("runs" if s in SETTINGS.reported_seeds else "tuning", env_id, [s])[0]
                for s in seeds]
    return stored_runs(name, env_id, seeds)


def rl_hits(name: str, env_id: str, seeds=SETTINGS.reported_seeds) -> np.ndarray:
    """Steps to the target per seed within ``SETTINGS.budgets`` (``inf`` otherwise)."""
    h = np.array([r["hit"] for r in rl_runs(name, env_id, seeds)], dtype=float)
    return np.where(h <= SETTINGS.budgets[env_id], h, np.inf)


def ce_hits(runs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Transitions to the target per seed (``inf`` if not reached) and the transitions each seed
    collected before it stopped (its budget)."""
    if isinstance(runs, (str, dict)) or not isinstance(runs, (list, tuple)) or not runs or not all(
            isinstance(r, dict) and "hit" in r and "eval_steps" in r for r in runs):
        raise TypeError("runs must be a non-empty list of run dicts with 'hit' and 'eval_steps' (as ce_runs returns), "
                        f"got {type(runs).__name__}")
    hits = np.array([r["hit"] for r in runs], dtype=float)
    caps = np.array([max(r["eval_steps"]) for r in runs], dtype=float)
    return hits, caps


def headline(n_seeds: int | None = None) -> list[dict]:
    """Scoreboard records, per task: the learned-model CE told nothing (``"same"``) and told the
    reward (``"more"``), each against the best RL agent (chosen on the tuning seeds); on the first
    ``n_seeds`` reported seeds (default: all; the agents' runs are stored for those only)."""
    n = len(SETTINGS.reported_seeds)
    n_seeds = n if n_seeds is None else check_positive_int(n_seeds, "n_seeds", minimum=2)
    if n_seeds > n:
        raise ValueError(f"n_seeds: the agents' runs are stored for {n} seeds, got {n_seeds}")
    seeds = SETTINGS.reported_seeds[:n_seeds]
    ce_batches = ce_runs_all(seeds)
    records = []
    for env_id in ("Pendulum-v1", "CartPole-v1"):
        rl = [MethodResult(f"{a} ({'book' if a == 'PPO' else 'stable-baselines3'}, zoo settings)", "rl",
                           rl_hits(a, env_id, seeds), _tuning(a, env_id), rl_hits(a, env_id, SETTINGS.tuning_seeds))
              for a in RL_AGENTS[env_id]]
        task, metric = TASK_DESCRIPTIONS[env_id]
        for reward, info in (("learned", "same"), ("known", "more")):
            hits, caps = ce_hits(ce_batches[env_id, reward])
            ce = MethodResult(f"{CE_NAMES[reward]} (at most {learned_model.TASK_SPECS[env_id].max_episodes} episodes)",
                              "ce", hits, "set by hand for speed in a few development runs (seeds 0-2); no grid",
                              budget=caps)
            records.append(make_record(chapter="deep_rl", task=task, metric=metric, target=TASK_TARGETS[env_id].target,
                                       budget=float(SETTINGS.budgets[env_id]), information=info,
                                       ce_given="" if info == "same" else CE_GIVEN[env_id], methods=[ce, *rl]))
    return records


def _tuning(agent, env_id):
    if agent == "PPO":  # one text for both tasks: the scoreboard lists a method's tuning once
        return "published: rl-baselines3-zoo hyperparameters for the task (on Pendulum without gSDE)"
    return AGENTS[agent].source


def _settings() -> dict:
    """What the stored runs depend on besides the code (PPO's runs are the PPO chapter's, stored there)."""
    return {"agents": {k: {"spec": list(v), "zoo": ZOO_SETTINGS[v.algo]} for k, v in AGENTS.items()},
            "eval_every": EVAL_EVERY, "hold": GYM_HOLD,
            "targets": {k: list(v) for k, v in TASK_TARGETS.items()}}


def _job(job):
    name, seed = job
    return run(name, seed)


_PACKAGES = ("stable_baselines3", "torch", "gymnasium", "numpy")  # the libraries whose versions the runs record
_COMMAND = "python -m ce_lib.studies.deep_rl generate"


def _versions() -> dict:
    return stored.versions(_PACKAGES)


def exact_rerun_expected(data: dict) -> tuple[bool, str]:
    """Whether rerunning a stored run here must give its numbers bit for bit, and why (or why not);
    see :func:`ce_lib.stored.exact_rerun_expected`."""
    return stored.exact_rerun_expected(data, _PACKAGES, kernels=("mlp",))


def generate(path: str | os.PathLike, agents=None, seeds=None, n_jobs: int = 2, merge: bool = False) -> dict:
    """Run every agent of :data:`AGENTS` (our PPO's runs are the PPO chapter's, stored by
    :func:`ce_lib.studies.ppo.generate`) on ``seeds`` (default: reported and tuning seeds) and write the
    runs, the settings and the library versions to ``path`` as JSON (written whole or not at all).
    ``merge=True`` keeps the other runs already stored in ``path`` (made with the same settings)."""
    agents = list(AGENTS) if agents is None else list(agents)
    for a in agents:
        if a not in AGENTS:
            raise ValueError(f"agents: each must be one of {sorted(AGENTS)}, got {a!r}")
    seeds = list(SETTINGS.reported_seeds + SETTINGS.tuning_seeds) if seeds is None else check_seeds(seeds)
    if len(set(seeds)) != len(seeds):  # runs are stored by seed: a repeated one would be run twice, kept once
        raise ValueError(f"seeds must be distinct, got {seeds}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    if not isinstance(merge, bool):
        raise TypeError(f"merge must be True or False, got {merge!r}")
    stored.check_output_path(path)  # now, not after hours of runs
    if merge:
        load_data(path)  # a file to merge with must exist and be readable before the runs
    jobs = [(a, s) for a in agents for s in seeds]
    # The slowest jobs first, so that two workers finish together.
    order = sorted(range(len(jobs)), key=lambda i: {"TD3": 0, "SAC": 1}.get(jobs[i][0], 2))
    results = parallel_map(_job, [jobs[i] for i in order], n_jobs=n_jobs)
    runs: dict = load_data(path)["runs"] if merge else {}
    for i, res in zip(order, results):
        name, seed = jobs[i]
        runs.setdefault(name, {}).setdefault(AGENTS[name].env_id, {})[str(seed)] = res
    return stored.write(path, settings=_settings(), runs=runs, command=_COMMAND, packages=_PACKAGES)


def load_data(path=None) -> dict:
    """The stored runs (``ce_lib/data/deep_rl_runs.json`` by default), checked against the current
    settings: a ``ValueError`` says to regenerate them when :data:`AGENTS`, :data:`ZOO_SETTINGS` or the
    evaluation have changed since they were made."""
    return stored.load(DATA_FILE, _settings(), _COMMAND, path, what="stored deep-RL runs")


def stored_runs(name: str, env_id: str, seeds, path=None) -> list[dict]:
    """Stored runs of agent ``name`` ("SAC", "TD3" or "DQN") on ``env_id``, one per seed."""
    seeds = check_seeds(seeds)  # "01" is not the seeds 0 and 1
    data = load_data(path)
    if name not in data["runs"]:
        raise ValueError(f"name must be one of {sorted(data['runs'])}, got {name!r}")
    by_env = data["runs"][name]
    if env_id not in by_env:
        raise ValueError(f"env_id: no stored runs of {name} on {env_id!r} (have {sorted(by_env)})")
    out = []
    for s in seeds:
        if str(s) not in by_env[env_id]:
            raise ValueError(f"seeds: no stored run of {name} on {env_id} with seed {s!r}")
        out.append(by_env[env_id][str(s)])
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ce_lib.studies.deep_rl",
                                     description="Run the stable-baselines3 agents and store their runs.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="run the agents and write the JSON file")
    g.add_argument("--out", default=str(Path(__file__).parent.parent / "data" / DATA_FILE))
    g.add_argument("--agents", nargs="*", default=None)
    g.add_argument("--seeds", nargs="*", type=int, default=None)
    g.add_argument("--jobs", type=int, default=2)
    g.add_argument("--merge", action="store_true", help="keep the other stored runs")
    args = parser.parse_args(argv)
    if args.jobs == 0 or args.jobs < -1:
        parser.error(f"--jobs must be a positive integer or -1 (all cores), got {args.jobs}")
    try:
        generate(args.out, args.agents, args.seeds, args.jobs, args.merge)
    except (ValueError, TypeError) as err:  # named as the caller wrote them: --out, --agents, --seeds
        flags = {"path": "--out", "agents": "--agents", "seeds": "--seeds", "n_jobs": "--jobs"}
        parser.error(re.sub(r"^(path|agents|seeds|n_jobs)\b", lambda m: flags[m.group(1)], str(err)))


if __name__ == "__main__":
    main()
