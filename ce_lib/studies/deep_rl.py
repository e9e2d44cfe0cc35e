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
chapter's 13 seeds of three agents (plus PPO's tuning seeds) about 70 CPU-minutes: more than a
chapter may take to execute. The runs are therefore made once by ``python -m ce_lib.studies.deep_rl
generate`` and stored with the settings they were made with, the library versions and the numerical
mode in ``ce_lib/data/deep_rl_runs.json``; :func:`load_data` refuses them, naming what changed, if
any of those settings has changed since, and the test suite re-runs the start of stored runs and
compares.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .. import learned_model
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
    "Settings", "SETTINGS", "DATA_FILE", "RL_AGENTS", "CE_NAMES", "CE_GIVEN", "ce_runs", "rl_runs",
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
    """:func:`ce_lib.learned_model.mpc_runs` on ``seeds`` (cached)."""
    _check_env(env_id)
    return cached(learned_model.mpc_runs, env_id=env_id, seeds=list(seeds), reward=reward)


def rl_runs(name: str, env_id: str, seeds=SETTINGS.reported_seeds) -> list[dict]:
    """Runs of RL agent ``name`` on ``env_id``: stored runs for the stable-baselines3 agents and for
    PPO's tuning seeds; PPO's reported seeds are the PPO chapter's runs (:func:`ce_lib.studies.ppo.runs`)."""
    _check_env(env_id)
    if name not in RL_AGENTS[env_id]:
        raise ValueError(f"name must be one of {RL_AGENTS[env_id]} on {env_id}, got {name!r}")
    seeds = list(seeds)
    if name == "PPO" and all(s in SETTINGS.reported_seeds for s in seeds):
        runs = ppo_study.runs(env_id)
        return [runs[s] for s in seeds]
    return stored_runs(name, env_id, seeds)


def rl_hits(name: str, env_id: str, seeds=SETTINGS.reported_seeds) -> np.ndarray:
    """Steps to the target per seed within ``SETTINGS.budgets`` (``inf`` otherwise)."""
    h = np.array([r["hit"] for r in rl_runs(name, env_id, seeds)], dtype=float)
    return np.where(h <= SETTINGS.budgets[env_id], h, np.inf)


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
    n = len(SETTINGS.reported_seeds)
    n_seeds = n if n_seeds is None else check_positive_int(n_seeds, "n_seeds", minimum=2)
    if n_seeds > n:
        raise ValueError(f"n_seeds: the agents' runs are stored for {n} seeds, got {n_seeds}")
    seeds = SETTINGS.reported_seeds[:n_seeds]
    records = []
    for env_id in ("Pendulum-v1", "CartPole-v1"):
        rl = [MethodResult(f"{a} ({'book' if a == 'PPO' else 'stable-baselines3'}, zoo settings)", "rl",
                           rl_hits(a, env_id, seeds), _tuning(a, env_id), rl_hits(a, env_id, SETTINGS.tuning_seeds))
              for a in RL_AGENTS[env_id]]
        task, metric = TASK_DESCRIPTIONS[env_id]
        for reward, info in (("learned", "same"), ("known", "more")):
            hits, caps = ce_hits(ce_runs(env_id, reward, seeds))
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
    
    return {"agents": {k: {"spec": list(v), "zoo": ZOO_SETTINGS[v.algo]} for k, v in AGENTS.items()},
            "eval_every": EVAL_EVERY, "hold": GYM_HOLD,
            "targets": {k: list(v) for k, v in TASK_TARGETS.items()},
            "ppo": {k: repr(v) for k, v in ppo_study.SETTINGS.tasks.items()}}


def _ppo_job(env_id, seed):
    import torch

    
    torch.set_num_threads(1)
    start = time.perf_counter()
    r = ppo_study.run(env_id, seed)
    return {"eval_steps": r["eval_steps"].tolist(), "eval_scores": r["eval_scores"].tolist(), "hit": r["hit"],
            "total_steps": int(r["total_steps"]), "seconds": time.perf_counter() - start}


def _job(job):
    kind, name, seed = job
    if kind == "ppo":
        return _ppo_job(name, seed)
    return run(name, seed)


def _versions() -> dict:
    import gymnasium
    import stable_baselines3
    import torch

    return {"stable-baselines3": stable_baselines3.__version__, "torch": torch.__version__,
            "gymnasium": gymnasium.__version__, "numpy": np.__version__}


def _numerics_record() -> dict:
    """The numerical mode in force (see :mod:`ce_lib.numerics`), as stored beside the runs."""
    from .. import numerics

    mode = numerics.status()
    return {"mode": mode.mode, "reproducible": mode.reproducible, "paths": mode.paths}


def exact_rerun_expected(data: dict) -> tuple[bool, str]:
    """Whether rerunning a stored run here must give its numbers bit for bit, and why (or why not).

    Bit-identity holds when the runs were made in ce_lib's reproducible numerical mode, this process
    runs in it too, and the library versions are the same. Runs made before the mode existed (or in
    the native mode) were made on one processor's own arithmetic: another processor can differ in
    the last bits and, from there, in the whole run.
    """
    from .. import numerics

    made, now = data.get("numerics"), numerics.status()
    if not made or made.get("mode") != "reproducible" or not made.get("reproducible"):
        return False, ("the stored runs were made on one processor's own arithmetic (no reproducible numerical "
                       "mode recorded); this run: " + now.describe())
    if not now.reproducible:
        return False, "this process is not in the reproducible numerical mode: " + now.describe()
    if data.get("versions") != _versions():
        return False, f"library versions differ: stored {data.get('versions')}, here {_versions()}"
    return True, "same numerical mode and library versions: " + now.describe()


def _jsonable(x):
    if isinstance(x, float) and not np.isfinite(x):
        return "inf"
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def generate(path: str | os.PathLike, agents=None, seeds=None, n_jobs: int = 2, merge: bool = False) -> dict:
    """Run every agent of :data:`AGENTS` (and our PPO on the tuning seeds of both tasks; its reported
    seeds run in the PPO chapter) on ``seeds`` (default: reported and tuning seeds) and write the runs,
    the settings and the library versions to ``path`` as JSON (written whole or not at all).
    ``merge=True`` keeps the other runs already stored in ``path`` (made with the same settings)."""
    agents = list(AGENTS) + ["PPO"] if agents is None else list(agents)
    for a in agents:
        if a != "PPO" and a not in AGENTS:
            raise ValueError(f"agents: each must be one of {sorted(AGENTS) + ['PPO']}, got {a!r}")
    seeds = list(SETTINGS.reported_seeds + SETTINGS.tuning_seeds) if seeds is None else check_seeds(seeds)
    if len(set(seeds)) != len(seeds):  # runs are stored by seed: a repeated one would be run twice, kept once
        raise ValueError(f"seeds must be distinct, got {seeds}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    if not isinstance(merge, bool):
        raise TypeError(f"merge must be True or False, got {merge!r}")
    folder = Path(path).resolve().parent  # checked now, not after hours of runs
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ValueError(f"path: the folder {str(folder)!r} does not exist or is not writable")
    if merge:
        load_data(path)  # a file to merge with must exist and be readable before the runs
    jobs = []
    for a in agents:
        if a == "PPO":
            jobs += [("ppo", env, s) for env in ("CartPole-v1", "Pendulum-v1") for s in seeds if s in SETTINGS.tuning_seeds]
        else:
            jobs += [("sb3", a, s) for s in seeds]
    # The slowest jobs first, so that two workers finish together.
    order = sorted(range(len(jobs)), key=lambda i: {"TD3": 0, "SAC": 1}.get(jobs[i][1], 2))
    results = parallel_map(_job, [jobs[i] for i in order], n_jobs=n_jobs)
    runs: dict = load_data(path)["runs"] if merge else {}
    for i, res in zip(order, results):
        kind, name, seed = jobs[i]
        key = "PPO" if kind == "ppo" else name
        env = name if kind == "ppo" else AGENTS[name].env_id
        runs.setdefault(key, {}).setdefault(env, {})[str(seed)] = res
    data = {"settings": _settings(), "versions": _versions(), "numerics": _numerics_record(),
            "command": "python -m ce_lib.studies.deep_rl generate", "runs": runs}
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_jsonable(data), f, indent=1, sort_keys=True)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; the stored runs are for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return data


def _decode(x):
    if x == "inf":
        return np.inf
    if isinstance(x, dict):
        return {k: _decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_decode(v) for v in x]
    return x


def load_data(path=None) -> dict:
    """The stored runs (``ce_lib/data/deep_rl_runs.json`` by default), checked against the current
    settings: a ``ValueError`` says to regenerate them when :data:`AGENTS`, :data:`ZOO_SETTINGS`, the
    evaluation or PPO's settings have changed since they were made."""
    if path is None:
        text = resources.files("ce_lib").joinpath("data", DATA_FILE).read_text()
    else:
        text = Path(path).read_text()
    data = json.loads(text)
    changed = _differences(data.get("settings"), json.loads(json.dumps(_jsonable(_settings()))))
    if changed:
        raise ValueError("the stored deep-RL runs were made with other settings than ce_lib's current ones ("
                         + ", ".join(changed[:8]) + (", ..." if len(changed) > 8 else "") + " changed); "
                         "regenerate them with `python -m ce_lib.studies.deep_rl generate`")
    return _decode(data)


def _differences(stored, current, where: str = "settings") -> list[str]:
    """Where two JSON values differ, as dotted paths (``settings.agents.SAC.zoo.learning_rate``)."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out = []
        for k in sorted(set(stored) | set(current)):
            out += _differences(stored.get(k), current.get(k), f"{where}.{k}")
        return out
    return [] if stored == current else [where]


def stored_runs(name: str, env_id: str, seeds, path=None) -> list[dict]:
    """Stored runs of agent ``name`` ("SAC", "TD3", "DQN" or "PPO") on ``env_id``, one per seed."""
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
