"""The strongest public deep-RL agents on CartPole and the Pendulum swing-up: stable-baselines3's
SAC, TD3 and DQN with the rl-baselines3-zoo settings, scored like the book's PPO.

Used by :ref:`ch-deep-rl`. Every run is scored by :func:`ce_lib.gym_tasks.evaluate` (the same
seeded greedy episodes as PPO and the certainty-equivalent controllers of the same seed), every
``EVAL_EVERY`` environment steps, and stops once the target of
:data:`ce_lib.gym_tasks.TASK_TARGETS` is reached and held (:data:`ce_lib.ppo.HOLD`).

**Why the runs are stored.** These agents take one gradient step of networks with 256 or 400
units per environment step. On two CPU cores one SAC run costs about two minutes, and the
chapter's 13 seeds of three agents (plus PPO's tuning seeds) about 70 CPU-minutes: more than a
chapter may take to execute. The runs are therefore made once by ``python -m ce_lib.offpolicy
generate`` and stored with their settings and library versions in ``ce_lib/data/deep_rl_runs.json``;
:func:`stored_runs` refuses them if the settings in :data:`AGENTS` have changed since, and the test
suite re-runs the start of stored runs and checks that it reproduces them exactly.

stable-baselines3 is imported only inside the functions that train, so reading stored runs does
not need it.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .experiments import check_positive_int, parallel_map, samples_to_target
from .gym_tasks import TASK_TARGETS, evaluate

__all__ = ["AgentSpec", "AGENTS", "ZOO_SETTINGS", "EVAL_EVERY", "REPORTED_SEEDS", "TUNING_SEEDS", "sb3_kwargs",
           "exact_rerun_expected",
           "make_agent", "run", "generate", "load_data", "stored_runs", "DATA_FILE"]


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
REPORTED_SEEDS = tuple(range(10))
"""The seeds every method reports (PPO's Pendulum seeds; CartPole's first ten)."""
TUNING_SEEDS = (1000, 1001, 1002)
"""Seeds on which the best agent of each task is chosen, never the reported ones."""
DATA_FILE = "deep_rl_runs.json"
"""Name of the stored runs inside ``ce_lib/data``."""


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


def make_agent(name: str, seed: int, total_timesteps: int | None = None):
    """A fresh stable-baselines3 agent for ``name`` on its task, seeded with ``seed``, on the CPU.

    stable-baselines3 spreads DQN's exploration schedule over the steps passed to ``learn``; when
    the agent will be trained for ``total_timesteps`` other than the zoo's budget (a run that may
    go on to check that a target is held), ``exploration_fraction`` is rescaled so that the
    exploration rate still falls to its floor at the same step as in the zoo's setting."""
    import gymnasium as gym
    import stable_baselines3 as sb3
    from stable_baselines3.common.noise import NormalActionNoise

    spec = _spec(name)
    seed = check_positive_int(seed, "seed", minimum=0)
    kwargs = sb3_kwargs(name)
    env = gym.make(spec.env_id)
    if "action_noise_std" in kwargs:
        n = env.action_space.shape[0]
        kwargs["action_noise"] = NormalActionNoise(np.zeros(n), kwargs.pop("action_noise_std") * np.ones(n))
    if "exploration_fraction" in kwargs and total_timesteps is not None:
        total_timesteps = check_positive_int(total_timesteps, "total_timesteps")
        kwargs["exploration_fraction"] *= spec.budget / total_timesteps
    cls = getattr(sb3, spec.algo)
    return cls(ZOO_SETTINGS[spec.algo]["policy"], env, seed=seed, device="cpu", verbose=0, **kwargs)


def run(name: str, seed: int, *, budget: int | None = None, stop_at_target: bool = True,
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
    from stable_baselines3.common.callbacks import BaseCallback

    from .ppo import HOLD

    spec = _spec(name)
    seed = check_positive_int(seed, "seed", minimum=0)
    budget = spec.budget if budget is None else check_positive_int(budget, "budget")
    stop_after = None if stop_after is None else check_positive_int(stop_after, "stop_after")
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
    agent.learn(total, callback=Evaluate())
    seconds = time.perf_counter() - start
    hit = held()
    return {"eval_steps": [s for s, _ in evals], "eval_scores": [v for _, v in evals],
            "hit": hit if hit <= budget else np.inf, "total_steps": int(agent.num_timesteps), "seconds": seconds}


# ----------------------------------------------------------------------------------------------
# Stored runs
# ----------------------------------------------------------------------------------------------

def _settings() -> dict:
    from . import ppo

    return {"agents": {k: {"spec": list(v), "zoo": ZOO_SETTINGS[v.algo]} for k, v in AGENTS.items()},
            "eval_every": EVAL_EVERY, "hold": ppo.HOLD,
            "targets": {k: list(v) for k, v in TASK_TARGETS.items()},
            "ppo": {k: repr(v) for k, v in ppo.TASKS.items()}}


def _ppo_job(env_id, seed):
    import torch

    from . import ppo

    torch.set_num_threads(1)
    start = time.perf_counter()
    r = ppo.run(env_id, seed)
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
    from . import numerics

    mode = numerics.status()
    return {"mode": mode.mode, "reproducible": mode.reproducible, "paths": mode.paths}


def exact_rerun_expected(data: dict) -> tuple[bool, str]:
    """Whether rerunning a stored run here must give its numbers bit for bit, and why (or why not).

    Bit-identity holds when the runs were made in ce_lib's reproducible numerical mode, this process
    runs in it too, and the library versions are the same. Runs made before the mode existed (or in
    the native mode) were made on one processor's own arithmetic: another processor can differ in
    the last bits and, from there, in the whole run.
    """
    from . import numerics

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
        if a != "PPO":
            _spec(a)
    seeds = list(REPORTED_SEEDS + TUNING_SEEDS) if seeds is None else [check_positive_int(s, "seeds", minimum=0)
                                                                       for s in seeds]
    jobs = []
    for a in agents:
        if a == "PPO":
            jobs += [("ppo", env, s) for env in ("CartPole-v1", "Pendulum-v1") for s in seeds if s in TUNING_SEEDS]
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
            "command": "python -m ce_lib.offpolicy generate", "runs": runs}
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
    if json.loads(json.dumps(_jsonable(_settings()))) != data.get("settings"):
        raise ValueError("the stored deep-RL runs were made with other settings than ce_lib's current ones; "
                         "regenerate them with `python -m ce_lib.offpolicy generate`")
    return _decode(data)


def stored_runs(name: str, env_id: str, seeds, path=None) -> list[dict]:
    """Stored runs of agent ``name`` ("SAC", "TD3", "DQN" or "PPO") on ``env_id``, one per seed."""
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
    parser = argparse.ArgumentParser(prog="python -m ce_lib.offpolicy",
                                     description="Run the stable-baselines3 agents and store their runs.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="run the agents and write the JSON file")
    g.add_argument("--out", default=str(Path(__file__).parent / "data" / DATA_FILE))
    g.add_argument("--agents", nargs="*", default=None)
    g.add_argument("--seeds", nargs="*", type=int, default=None)
    g.add_argument("--jobs", type=int, default=2)
    g.add_argument("--merge", action="store_true", help="keep the other stored runs")
    args = parser.parse_args(argv)
    generate(args.out, args.agents, args.seeds, args.jobs, args.merge)


if __name__ == "__main__":
    main()
