"""The study of the chapter on PPO (:ref:`ch-ppo`): its settings and experiments.

What the chapter runs and the numbers its prose glues: PPO's tasks with the zoo's settings and
budgets, the runs on the reported seeds, the ablations, and the comparison with certainty
equivalence told the model's form (:mod:`ce_lib.known_form`) with its scoreboard records. The
problems and learners are the library's, :mod:`ce_lib.ppo`; this module only chooses and runs them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Callable, NamedTuple

import numpy as np
import torch

from .. import ars, known_form, stored
from ..experiments import (
    MethodResult,
    best_by_tuning,
    cached,
    check_positive_int,
    check_seeds,
    grid_tuning,
    make_record,
    parallel_map,
    samples_to_target,
    tuning_seeds,
)
from ..gym_tasks import GYM_HOLD, TASK_DESCRIPTIONS, TASK_TARGETS, evaluate
from ..ppo import ActorCritic, PPOConfig, TrainResult, train

__all__ = [
    "Settings", "SETTINGS", "PENDULUM_CONFIG", "greedy_policy", "Task", "rolling_return", "run", "steps_to_mean_return",
    "runs", "ablations", "ce_scores", "ce_hits", "ppo_hits", "ppo_tuning_hits", "ars_run", "ars_tuning", "ars_runs",
    "ars_hits", "CE_LABELS", "CE_GIVEN", "PPO_TUNING", "ARS_NAME", "rl_methods", "headline", "DATA_FILE",
    "GENERATE_COMMAND", "stored_jobs", "load_data", "stored_runs", "same_run", "rerun_stored", "generate", "main",
]


def greedy_policy(model: ActorCritic) -> Callable[[np.ndarray], np.ndarray]:
    """The deterministic policy used for evaluation: the most likely action (discrete) or the
    Gaussian's mean (continuous), as a function from a batch of observations to actions."""

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = model.actor(torch.as_tensor(np.asarray(obs), dtype=torch.float32))
        return out.argmax(-1).numpy() if model.discrete else out.numpy()

    return act


class Task(NamedTuple):
    """How PPO is run on one of the chapter's tasks (scored by :func:`ce_lib.gym_tasks.evaluate`)."""

    config: PPOConfig  # PPO's hyperparameters (rl-baselines3-zoo's)
    budget: int  # environment steps PPO may use
    eval_every: int  # environment steps between evaluations of the greedy policy


PENDULUM_CONFIG = PPOConfig(n_envs=4, n_steps=1024, gamma=0.9, gae_lambda=0.95, n_epochs=10, minibatch_size=64,
                            learning_rate=1e-3, clip=0.2, anneal=False, ent_coef=0.0)
"""rl-baselines3-zoo's PPO settings for Pendulum-v1 (without its state-dependent exploration, gSDE);
CartPole's are :class:`ce_lib.ppo.PPOConfig`'s defaults."""


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    # PPO on the chapter's two tasks: the zoo's settings and its budget of 100,000 steps for both.
    tasks: dict = field(default_factory=lambda: {"CartPole-v1": Task(PPOConfig(), 100_000, 1024),
                                                 "Pendulum-v1": Task(PENDULUM_CONFIG, 100_000, 4096)})
    # Seeds of the chapter's PPO runs (Pendulum's take longer); CE gets the same seeds.
    n_seeds: dict = field(default_factory=lambda: {"CartPole-v1": 20, "Pendulum-v1": 10})
    # Changes to the tuned CartPole settings shown in the chapter's ablation figure.
    ablations: dict = field(default_factory=lambda: {"no clipping": {"clip": 1e9}, "no critic": {"use_critic": False},
                                                     "entropy bonus 0.01": {"ent_coef": 0.01},
                                                     "no advantage normalization": {"normalize_advantages": False}})
    ablation_seeds: int = 5  # seeds of the ablation runs
    ablation_budget: int = 50_000  # environment steps of each ablation run
    # The second RL opponent on CartPole: ARS V2-t over linear policies (ce_lib.ars), tuned over this grid on the
    # tuning seeds (steps and exploration scales around the paper's, N directions of which the best b are used),
    # with PPO's budget and evaluations. The tuning seeds also choose between PPO and ARS for the records.
    ars_grid: tuple = tuple(dict(step=s, explore=e, n_dirs=n, top=b) for s in (0.01, 0.02, 0.05)
                            for e in (0.01, 0.03, 0.1) for n, b in ((4, 4), (8, 4), (8, 8)))
    n_tuning_seeds: int = 5  # tuning seeds of ARS's grid and of the choice between PPO and ARS


SETTINGS = Settings()
"""The settings the chapter runs with."""


def _task(env_id):
    if env_id not in SETTINGS.tasks:
        raise ValueError(f"env_id must be one of {sorted(SETTINGS.tasks)}, got {env_id!r}")
    return SETTINGS.tasks[env_id]


def rolling_return(steps, returns, grid, window: int = 20) -> np.ndarray:
    """Mean return of the last ``window`` finished training episodes at each step count of ``grid``
    (NaN before ``window`` episodes have finished): the usual "20-episode mean" learning curve."""
    steps, returns, grid = np.asarray(steps), np.asarray(returns, dtype=float), np.asarray(grid)
    window = check_positive_int(window, "window")
    csum = np.concatenate([[0.0], np.cumsum(returns)])
    k = np.searchsorted(steps, grid, side="right")  # episodes finished by each grid point
    out = np.full(grid.shape, np.nan)
    ok = k >= window
    out[ok] = (csum[k[ok]] - csum[k[ok] - window]) / window
    return out


def run(env_id: str, seed: int, *, changes: dict | None = None, stop_at_target: bool = True,
        budget: int | None = None, evaluate_greedy: bool = True, stop_after: int | None = None) -> dict:
    """One PPO run on a task of ``SETTINGS.tasks``, evaluating the greedy policy every ``eval_every`` steps.

    Parameters
    ----------
    env_id : str
        ``"CartPole-v1"`` or ``"Pendulum-v1"``.
    seed : int
        Seed of training and of the evaluation episodes (:func:`ce_lib.gym_tasks.evaluation_seed`).
    changes : dict, optional
        Fields of the task's :class:`PPOConfig` to change (the ablations).
    stop_at_target : bool
        Train for up to ``HOLD * budget`` steps, so that a target reached within the budget can be
        checked, and stop once the greedy policy reached the target and held it (see ``hit``) and, on CartPole, the 20-episode training
        mean reached 475 (so both measures are available); otherwise use the whole budget.
    budget : int, optional
        Environment steps (default: the task's).
    evaluate_greedy : bool
        Evaluate the greedy policy at checkpoints (False: only the training curve, faster).
    stop_after : int, optional
        Stop once this many environment steps are taken, all else unchanged: the start of the full
        run, as the tests compare with the stored runs.

    Returns
    -------
    dict
        ``steps``/``returns`` (training episodes), ``eval_steps``/``eval_scores``, ``hit`` (steps
        at the first evaluation that met the target and kept meeting it at every evaluation up to
        ``HOLD`` times as many steps; ``inf`` if none within ``budget``), ``first_hit`` (the first evaluation that met
        it, kept or not) and ``hit_475`` (steps at
        which the 20-episode training mean first reached 475; CartPole only).
    """
    from dataclasses import fields, replace

    task = _task(env_id)
    seed = check_positive_int(seed, "seed", minimum=0)
    target = TASK_TARGETS[env_id].target
    unknown = set(changes or {}) - {f.name for f in fields(PPOConfig)}
    if unknown:
        raise ValueError(f"changes: {sorted(unknown)} are not fields of PPOConfig")
    config = replace(task.config, **(changes or {}))
    if stop_after is not None:
        stop_after = check_positive_int(stop_after, "stop_after")
    evals: list[tuple[int, float]] = []

    def held() -> float:  # steps at which the target was reached and then kept for 50% more steps
        if not evals:
            return np.inf
        steps, scores = np.array(evals, dtype=float).T
        return float(samples_to_target(steps, scores, target, direction="above", hold=GYM_HOLD))

    taken = [0]  # environment steps used (the run may stop early)

    def callback(so_far: TrainResult, steps: int) -> bool:
        taken[0] = steps
        if evaluate_greedy and steps - (evals[-1][0] if evals else 0) >= task.eval_every:
            evals.append((steps, evaluate(greedy_policy(so_far.model), env_id, seed)))
        if stop_after is not None and steps >= stop_after:
            return True
        if not stop_at_target or held() == np.inf:
            return False
        return env_id != "CartPole-v1" or steps_to_mean_return(so_far.steps, so_far.returns) < np.inf

    budget = task.budget if budget is None else check_positive_int(budget, "budget")
    # A target reached near the end of the budget is checked by training on up to GYM_HOLD times as long.
    result = train(env_id, int(budget * GYM_HOLD) if stop_at_target else budget, seed, config, callback,
                   schedule_timesteps=budget)
    e_steps = np.array([s for s, _ in evals], dtype=float)
    e_scores = np.array([v for _, v in evals], dtype=float)
    reached = np.flatnonzero(e_scores >= target)
    return {"steps": result.steps, "returns": result.returns, "eval_steps": e_steps, "eval_scores": e_scores,
            "total_steps": taken[0],
            "hit": held() if held() <= budget else np.inf,
            "first_hit": float(e_steps[reached[0]]) if reached.size and e_steps[reached[0]] <= budget else np.inf,
            "hit_475": steps_to_mean_return(result.steps, result.returns) if env_id == "CartPole-v1" else np.nan}


def steps_to_mean_return(steps, returns, level: float = 475.0, window: int = 20) -> float:
    """Steps at which the ``window``-episode training mean first reached ``level`` (inf if never)."""
    if len(returns) < window:
        return np.inf
    means = rolling_return(steps, returns, steps, window)
    ok = np.flatnonzero(means >= level)
    return float(steps[ok[0]]) if ok.size else np.inf


def _run_job(job):
    env_id, seed, kwargs = job
    torch.set_num_threads(1)
    return run(env_id, seed, **kwargs)


# The chapter's PPO runs: made once by `python -m ce_lib.studies.ppo generate` and stored.

DATA_FILE = "ppo_runs.json"
"""Name of the stored runs inside ``ce_lib/data``."""
GENERATE_COMMAND = "python -m ce_lib.studies.ppo generate"
"""The command that remakes the stored runs."""
_ARRAYS = ("steps", "returns", "eval_steps", "eval_scores")  # the fields of a run that are arrays


def _ablation_kwargs(changes: dict) -> dict:
    return {"changes": changes, "stop_at_target": False, "budget": SETTINGS.ablation_budget,
            "evaluate_greedy": False}


def stored_jobs() -> list[tuple]:
    """Every stored run as ``(group, key, seed, env_id, run_kwargs)``: ``"runs"`` by task (the reported
    seeds), ``"tuning"`` by task (the tuning seeds) and ``"ablations"`` by variant (``"tuned"`` and
    each of ``SETTINGS.ablations``); ``run(env_id, seed, **run_kwargs)`` remakes one."""
    jobs = []
    for env_id in SETTINGS.tasks:
        jobs += [("runs", env_id, s, env_id, {}) for s in range(SETTINGS.n_seeds[env_id])]
        jobs += [("tuning", env_id, s, env_id, {}) for s in tuning_seeds(SETTINGS.n_tuning_seeds)]
    for name, changes in {"tuned": {}, **SETTINGS.ablations}.items():
        jobs += [("ablations", name, s, "CartPole-v1", _ablation_kwargs(changes))
                 for s in range(SETTINGS.ablation_seeds)]
    return jobs


def _settings() -> dict:
    """What the stored runs depend on besides the code: a change to any of it refuses them."""
    s = SETTINGS
    return {"tasks": {k: repr(v) for k, v in s.tasks.items()}, "n_seeds": dict(s.n_seeds),
            "ablations": s.ablations, "ablation_seeds": s.ablation_seeds, "ablation_budget": s.ablation_budget,
            "n_tuning_seeds": s.n_tuning_seeds, "hold": GYM_HOLD,
            "targets": {k: list(v) for k, v in TASK_TARGETS.items()}}


def load_data(path=None) -> dict:
    """The stored runs (``ce_lib/data/ppo_runs.json`` by default) with the settings, library versions,
    numerical mode and command they were made with; a ``ValueError`` names what changed and says to
    regenerate them when the settings they depend on have changed (:mod:`ce_lib.stored`)."""
    return stored.load(DATA_FILE, _settings(), GENERATE_COMMAND, path, what="stored PPO runs")


def stored_runs(group: str, key: str, seeds) -> list[dict]:
    """Stored runs of ``group`` (``"runs"``, ``"tuning"`` or ``"ablations"``) and ``key`` (a task, or an
    ablation's name) on ``seeds``, as :func:`run` returns them, with ``seconds``: the CPU time the run took."""
    seeds = check_seeds(seeds)
    data = load_data()["runs"]
    if group not in data:
        raise ValueError(f"group must be one of {sorted(data)}, got {group!r}")
    if key not in data[group]:
        raise ValueError(f"key must be one of {sorted(data[group])} in group {group!r}, got {key!r}")
    out = []
    for s in seeds:
        if str(s) not in data[group][key]:
            raise ValueError(f"seeds: no stored run of {group}/{key} with seed {s!r}")
        r = data[group][key][str(s)]
        out.append({k: (np.array(v, dtype=np.int64 if k == "steps" else float) if k in _ARRAYS else v)
                    for k, v in r.items()})
    return out


def runs(env_id: str, n_seeds: int | None = None) -> list[dict]:
    """:func:`run` for seeds ``0 .. n_seeds - 1``: the stored runs for the chapter's seeds, run here (on
    two processes, cached) for more."""
    _task(env_id)
    n_seeds = SETTINGS.n_seeds[env_id] if n_seeds is None else check_positive_int(n_seeds, "n_seeds")
    if n_seeds <= SETTINGS.n_seeds[env_id]:
        return stored_runs("runs", env_id, range(n_seeds))
    return cached(_runs, env_id=env_id, n_seeds=n_seeds)


def _runs(env_id, n_seeds):
    return parallel_map(_run_job, [(env_id, s, {}) for s in range(n_seeds)], n_jobs=2)


def ablations(n_seeds: int = SETTINGS.ablation_seeds, budget: int = SETTINGS.ablation_budget) -> dict:
    """Training curves on CartPole of the tuned settings and of each of ``SETTINGS.ablations`` over the
    whole ``budget`` (no early stop, no greedy evaluations), seeds ``0 .. n_seeds - 1``: the stored runs
    for the chapter's seeds and budget, run here (cached) otherwise."""
    n_seeds, budget = check_positive_int(n_seeds, "n_seeds"), check_positive_int(budget, "budget")
    if n_seeds <= SETTINGS.ablation_seeds and budget == SETTINGS.ablation_budget:
        return {name: [{"steps": r["steps"], "returns": r["returns"]}
                       for r in stored_runs("ablations", name, range(n_seeds))]
                for name in ("tuned", *SETTINGS.ablations)}
    return cached(_ablations, n_seeds=n_seeds, budget=budget)


def _ablations(n_seeds, budget):
    variants = {"tuned": {}, **SETTINGS.ablations}
    jobs = [("CartPole-v1", s, {**_ablation_kwargs(ch), "budget": budget}) for ch in variants.values()
            for s in range(n_seeds)]
    out = parallel_map(_run_job, jobs, n_jobs=2)
    return {name: [{"steps": r["steps"], "returns": r["returns"]} for r in out[i * n_seeds:(i + 1) * n_seeds]]
            for i, name in enumerate(variants)}


def same_run(new: dict, old: dict, whole: bool = True) -> bool:
    """Whether run ``new`` equals run ``old`` bit for bit: every training episode and evaluation of
    ``new`` is ``old``'s, and with ``whole`` also its length, ``total_steps`` and hits (otherwise ``new``
    may be the start of ``old``)."""
    n_ep, n_ev = len(new["steps"]), len(new["eval_steps"])
    same = all(np.array_equal(new[k], old[k][:n]) for k, n in (("steps", n_ep), ("returns", n_ep),
                                                                ("eval_steps", n_ev), ("eval_scores", n_ev)))
    if whole:
        same = same and n_ep == len(old["steps"]) and n_ev == len(old["eval_steps"]) and all(
            np.array_equal(new[k], old[k], equal_nan=True) for k in ("total_steps", "hit", "first_hit", "hit_475"))
    return bool(same)


def rerun_stored(group: str, key: str, seed: int, stop_after: int | None = None) -> dict:
    """Make one stored run again here -- only its first ``stop_after`` steps if given -- and compare it
    with the stored one, field by field.

    Returns
    -------
    dict
        ``identical`` (every curve, evaluation and hit of the rerun equals the stored run's, up to the
        steps the rerun took), ``exact_expected`` and ``why`` (whether bit-identity is promised here,
        :func:`ce_lib.stored.exact_rerun_expected`), ``steps`` (steps rerun), ``seconds`` (CPU time of
        the rerun), ``rerun`` and ``stored`` (the two runs).
    """
    jobs = {(g, k, s): (env_id, kwargs) for g, k, s, env_id, kwargs in stored_jobs()}
    seed = check_positive_int(seed, "seed", minimum=0)
    if (group, key, seed) not in jobs:
        raise ValueError(f"group, key, seed: no stored run {group!r}/{key!r} with seed {seed} "
                         "(see stored_jobs())")
    if stop_after is not None:
        stop_after = check_positive_int(stop_after, "stop_after")
    env_id, kwargs = jobs[(group, key, seed)]
    old = stored_runs(group, key, [seed])[0]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the stored runs were made
    try:
        start = time.process_time()
        new = run(env_id, seed, **kwargs, stop_after=stop_after)
        seconds = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    exact, why = stored.exact_rerun_expected(load_data(), kernels=("mlp",))
    return {"identical": same_run(new, old, whole=stop_after is None), "exact_expected": exact, "why": why,
            "steps": int(new["total_steps"]), "seconds": seconds, "rerun": new, "stored": old}


def _timed_job(job):
    env_id, seed, kwargs = job
    torch.set_num_threads(1)
    start = time.process_time()
    r = run(env_id, seed, **kwargs)
    return {**r, "seconds": time.process_time() - start}


def generate(path=None, n_jobs: int = 2) -> dict:
    """Make every run of :func:`stored_jobs` (on ``n_jobs`` processes) and write them, with the settings,
    library versions, numerical mode and this command, to ``path`` (default: the library's own
    ``ce_lib/data/ppo_runs.json``), whole or not at all."""
    path, n_jobs = stored.generate_args(path, n_jobs, DATA_FILE)
    jobs = stored_jobs()
    order = sorted(range(len(jobs)), key=lambda i: jobs[i][3] != "Pendulum-v1")  # the slowest first
    results = parallel_map(_timed_job, [(jobs[i][3], jobs[i][2], jobs[i][4]) for i in order], n_jobs=n_jobs)
    data: dict = {}
    for i, r in zip(order, results):
        group, key, seed = jobs[i][:3]
        data.setdefault(group, {}).setdefault(key, {})[str(seed)] = r
    return stored.write(path, settings=_settings(), runs=data, command=GENERATE_COMMAND)


def main(argv=None) -> None:
    """``python -m ce_lib.studies.ppo generate [--out PATH] [--jobs N]``: :func:`generate`
    from the command line."""
    stored.generate_cli(argv, prog="python -m ce_lib.studies.ppo", what="the PPO chapter's runs",
                        name=DATA_FILE, generate=generate)


# The second RL opponent on CartPole: random search over linear policies.

#: The name of ARS in the records and figures.
ARS_NAME = "ARS V2-t, linear policy"


def ars_run(seed: int, config: dict, *, budget: int | None = None) -> dict:
    """One ARS run on CartPole-v1 with ``config`` (the fields of :class:`ce_lib.ars.ARSConfig`), scored
    exactly like :func:`run`: the greedy (noise-free) policy is evaluated once at least ``eval_every``
    steps have passed since the last evaluation (at the end of an iteration), and the run stops once the
    target is reached and held for ``GYM_HOLD`` times as many steps (it may use up to ``GYM_HOLD * budget``).

    Returns
    -------
    dict
        ``eval_steps``, ``eval_scores``, ``hit``, ``first_hit`` and ``total_steps`` as :func:`run` gives
        them, and ``steps``/``returns``: the steps used by the end of each iteration and the mean return
        of its exploration episodes.
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict of ARSConfig fields, got {type(config).__name__}")
    unknown = set(config) - {f.name for f in fields(ars.ARSConfig)}
    if unknown:
        raise ValueError(f"config: {sorted(unknown)} are not fields of ARSConfig")
    cfg = ars.ARSConfig(**config)
    env_id, task = "CartPole-v1", SETTINGS.tasks["CartPole-v1"]
    budget = task.budget if budget is None else check_positive_int(budget, "budget")
    target = TASK_TARGETS[env_id].target
    evals: list[tuple[int, float]] = []

    def held() -> float:
        steps, scores = np.array(evals, dtype=float).T
        return float(samples_to_target(steps, scores, target, direction="above", hold=GYM_HOLD))

    def callback(so_far, steps):
        if steps - (evals[-1][0] if evals else 0) >= task.eval_every:
            evals.append((steps, evaluate(so_far.policy, env_id, seed)))
        return bool(evals) and held() < np.inf

    result = ars.train(env_id, int(budget * GYM_HOLD), seed, cfg, callback)
    e_steps = np.array([s for s, _ in evals], dtype=float)
    e_scores = np.array([v for _, v in evals], dtype=float)
    reached = np.flatnonzero(e_scores >= target)
    hit = held() if evals else np.inf
    return {"steps": result.steps, "returns": result.returns, "eval_steps": e_steps, "eval_scores": e_scores,
            "total_steps": int(result.steps[-1]), "hit": hit if hit <= budget else np.inf,
            "first_hit": float(e_steps[reached[0]]) if reached.size and e_steps[reached[0]] <= budget else np.inf}


def _ars_job(job):
    seed, config = job
    return ars_run(seed, dict(config))["hit"]


def ars_tuning() -> dict:
    """ARS's grid (``SETTINGS.ars_grid``) on ``SETTINGS.n_tuning_seeds`` tuning seeds, and the setting chosen
    by the median steps to the target (misses at the budget; cached).

    Returns
    -------
    dict
        ``grid`` (the settings), ``seeds``, ``hits`` (n_settings, n_seeds), ``chosen`` (an index into
        ``grid``) and ``config`` (the chosen setting).
    """
    return cached(_ars_tuning, grid=[dict(g) for g in SETTINGS.ars_grid], n_seeds=SETTINGS.n_tuning_seeds)


def _ars_tuning(grid, n_seeds):
    seeds = tuning_seeds(n_seeds)
    hits = np.array(parallel_map(_ars_job, [(s, tuple(sorted(g.items()))) for g in grid for s in seeds], n_jobs=2),
                    dtype=float).reshape(len(grid), len(seeds))
    chosen = best_by_tuning(list(hits), float(SETTINGS.tasks["CartPole-v1"].budget))
    return {"grid": grid, "seeds": list(seeds), "hits": hits, "chosen": chosen, "config": grid[chosen]}


def ars_runs(n_seeds: int | None = None) -> list[dict]:
    """:func:`ars_run` with the tuned setting on seeds ``0 .. n_seeds - 1`` (default: CartPole's PPO seeds; cached)."""
    n_seeds = SETTINGS.n_seeds["CartPole-v1"] if n_seeds is None else check_positive_int(n_seeds, "n_seeds")
    return cached(_ars_runs, config=ars_tuning()["config"], n_seeds=n_seeds)


def _ars_runs(config, n_seeds):
    return [ars_run(s, config) for s in range(n_seeds)]


def ars_hits(n_seeds: int | None = None) -> np.ndarray:
    """ARS's environment steps to the CartPole target, per seed (``inf`` if not within the budget)."""
    return np.array([r["hit"] for r in ars_runs(n_seeds)])


def ppo_tuning_hits(env_id: str = "CartPole-v1") -> np.ndarray:
    """PPO's steps to the target on the ``SETTINGS.n_tuning_seeds`` tuning seeds (stored): what the choice
    between PPO and ARS reads (PPO's settings are the zoo's, not tuned here)."""
    _task(env_id)
    return np.array([r["hit"] for r in stored_runs("tuning", env_id, tuning_seeds(SETTINGS.n_tuning_seeds))])


# The comparison with certainty equivalence told the model's form, and the chapter's records.

def ce_scores(env_id: str, n_seeds: int | None = None, model: str = "generic") -> np.ndarray:
    """Scores of the CE controller on the seeds PPO uses, shape ``(n_seeds, len(SIZES[env_id]))``
    (see :func:`ce_lib.known_form.sweep`; cached)."""
    if env_id not in SETTINGS.tasks:
        raise ValueError(f"env_id must be one of {sorted(SETTINGS.tasks)}, got {env_id!r}")
    n_seeds = SETTINGS.n_seeds[env_id] if n_seeds is None else check_positive_int(n_seeds, "n_seeds")
    return cached(known_form.sweep, env_id=env_id, seeds=list(range(n_seeds)), model=model)


def ce_hits(env_id: str, scores) -> np.ndarray:
    """Per seed, the smallest data size from which the CE controller meets the target at every
    larger size of the sweep (``inf`` if it never settles)."""
    if env_id not in known_form.SIZES:
        raise ValueError(f"env_id must be one of {sorted(known_form.SIZES)}, got {env_id!r}")
    return samples_to_target(np.array(known_form.SIZES[env_id], dtype=float), scores,
                             TASK_TARGETS[env_id].target, direction="above", persist=True)


def ppo_hits(env_id: str, n_seeds: int | None = None) -> np.ndarray:
    """PPO's environment steps to the target, per seed (``inf`` if not within its budget)."""
    return np.array([r["hit"] for r in runs(env_id, n_seeds)])


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


def rl_methods(env_id: str, n_seeds: int | None = None, *, with_ars: bool = True) -> list[MethodResult]:
    """The RL side of the records on ``env_id``: PPO, and on CartPole also ARS (``with_ars``), each with
    its hits on the reported seeds and on the tuning seeds (where the better of the two is chosen)."""
    _task(env_id)
    n = SETTINGS.n_seeds[env_id] if n_seeds is None else check_positive_int(n_seeds, "n_seeds", minimum=2)
    out = [MethodResult("PPO (rl-baselines3-zoo settings)", "rl", ppo_hits(env_id, n), PPO_TUNING[env_id],
                        ppo_tuning_hits(env_id))]
    if with_ars and env_id == "CartPole-v1":
        tuned = ars_tuning()
        out.append(MethodResult(ARS_NAME, "rl", ars_hits(n),
                                grid_tuning(len(tuned["grid"]), tuned["seeds"]), tuned["hits"][tuned["chosen"]]))
    return out


def headline(n_seeds: int | None = None, *, with_ars: bool = True) -> list[dict]:
    """Scoreboard records: samples -- environment steps for the RL methods, random transitions for CE --
    until the greedy policy meets the target of :data:`ce_lib.gym_tasks.TASK_TARGETS` and keeps it; one
    record per CE controller, each labelled with what that controller is told (``"more"``). On CartPole the
    RL side is the better of PPO and ARS on the tuning seeds (``with_ars=False``: PPO alone, as the
    chapter was first written)."""
    records = []
    for env_id, models in (("CartPole-v1", ("generic", "structured")), ("Pendulum-v1", ("pendulum",))):
        n = SETTINGS.n_seeds[env_id] if n_seeds is None else check_positive_int(n_seeds, "n_seeds", minimum=2)
        rl = rl_methods(env_id, n, with_ars=with_ars)
        task, metric = TASK_DESCRIPTIONS[env_id]
        for m in models:
            scores = ce_scores(env_id, n, "generic" if m == "pendulum" else m)
            ce = MethodResult(CE_LABELS[m], "ce", ce_hits(env_id, scores), "none needed")
            records.append(make_record(chapter="ppo", task=task, metric=metric, target=TASK_TARGETS[env_id].target,
                                       budget=float(SETTINGS.tasks[env_id].budget), information="more",
                                       ce_given=CE_GIVEN[m], methods=[ce, *rl]))
    return records


if __name__ == "__main__":
    main()
