"""The study of the chapter on the linear quadratic regulator (:ref:`ch-lqr`): its settings and
experiments.

What the chapter runs and the numbers its prose glues: the chapter's two problems, the model-free
searches and their grids, the comparison of every method on the same seeds and the scoreboard
records. The problems and learners are the library's, :mod:`ce_lib.lqr`; this module only chooses
and runs them.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..experiments import (
    HOLD,
    REPORTED_SEED_START,
    TUNING_SEED_START,
    MethodResult,
    best_by_tuning,
    cached,
    check_positive_int,
    child_seed,
    grid_tuning,
    log_grid,
    make_record,
    parallel_map,
    samples_to_target,
)
from ..lqr import (
    rollout_horizon,
    LQRProblem,
    _ce_gain,
    _check_problem,
    double_integrator,
    laplacian_system,
    lspi,
    natural_policy_gradient,
    policy_gradient,
    random_search,
    relative_errors,
    rollouts,
)

__all__ = [
    "Settings", "SETTINGS", "PROBLEMS", "problem", "SEARCH_METHODS", "SEARCHES", "METHOD_NAMES",
    "learning_curves", "PER_RUN_SETTINGS", "grid_edges", "comparison", "CE_GIVEN", "headline",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    # Rollout length per problem: long enough that the minimizer of the rollout cost (what a model-free method
    # optimizes) is within 1% of the infinite-horizon optimum (see the chapter).
    rollout_length: dict = field(default_factory=lambda: {"Laplacian system (3 states)": 200, "double integrator": 50})
    # A stabilizing gain per problem: LSPI always starts from it and explores around it; the searches start from
    # it in the "stabilizing" variant of the comparison and from zero in the "zero" one. CE starts from nothing.
    stabilizing_start: dict = field(default_factory=lambda: {"Laplacian system (3 states)": 0.1 * np.eye(3),
                                                             "double integrator": np.array([[0.3, 1.0]])})
    # Where the model-free searches start: from K = 0, or from the stabilizing gain.
    starts: tuple = ("zero", "stabilizing")
    # Rollout budgets of the model-free searches per problem (CE and LSPI stop earlier, see below).
    budget: dict = field(default_factory=lambda: {"Laplacian system (3 states)": 5000, "double integrator": 2000})
    # Tuning grids (the algorithms are the papers'; the grids are ours, around the scale of the optimal gain).
    # ARS V1-t: seven step sizes, two exploration scales, 4 or 16 directions. ARS V2-t acts on normalized
    # states, so its exploration scale is in those units; 4 directions (V1-t never chose 16 in a pilot on the
    # tuning runs). REINFORCE: normalized step length and exploration. Natural policy gradient: step and
    # smoothing radius (the two problems' gains differ twentyfold in size, so the radii span that); 16
    # directions (4 were worse in a pilot on the tuning runs).
    search_grids: dict = field(default_factory=lambda: {
        "random search (ARS)": [dict(step=s, explore=e, n_dirs=d) for d in (4, 16)
                                for s in (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3) for e in (0.01, 0.05)],
        "random search (ARS V2-t)": [dict(step=s, explore=e, n_dirs=4) for s in (0.003, 0.01, 0.03, 0.1)
                                     for e in (0.01, 0.05, 0.2, 0.5)],
        "policy gradient": [dict(step=s, explore=e) for s in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3) for e in (0.3, 1.0)],
        "natural policy gradient": [dict(step=s, radius=r, n_dirs=16) for s in (0.003, 0.01, 0.03, 0.1)
                                    for r in (0.02, 0.05, 0.1, 0.2, 0.5)],
    })
    # The relative cost errors the records ask for; each search is tuned for each of them.
    error_targets: tuple = (0.10, 0.01)
    # Runs per tuning experiment, drawn from seed :data:`ce_lib.experiments.TUNING_SEED_START`.
    tuning_runs: int = 10
    ce_budget: int = 100  # most rollouts nominal CE is run with (its curve ends there)
    lspi_budget: int = 1000  # most rollouts LSPI is run with
    # The records: (problem, target) pairs, each from both starts.
    records: tuple = (("laplacian", 0.10), ("laplacian", 0.01), ("double integrator", 0.01))


SETTINGS = Settings()
"""The settings the chapter runs with."""



#: The chapter's two problems, by name.
PROBLEMS = {"laplacian": laplacian_system, "double integrator": double_integrator}


def problem(name: str) -> LQRProblem:
    """One of the chapter's problems by name (``"laplacian"`` or ``"double integrator"``)."""
    if name not in PROBLEMS:
        raise ValueError(f"name must be one of {sorted(PROBLEMS)}, got {name!r}")
    return PROBLEMS[name]()


#: The model-free searches over gains, by name: the function and its fixed arguments.
SEARCH_METHODS = {
    "random search (ARS)": (random_search, {}),
    "random search (ARS V2-t)": (random_search, {"normalize": True}),
    "policy gradient": (policy_gradient, {}),
    "natural policy gradient": (natural_policy_gradient, {}),
}
SEARCHES = tuple(SEARCH_METHODS)
METHOD_NAMES = ("nominal CE", "LSPI", *SEARCHES)


def _errs(problem, gains):
    """Relative errors of gains (..., m, n); ``None`` (a fit that could not be solved) scores ``inf``."""
    if gains is None:
        return np.inf
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ill-conditioned Lyapunov solves of gains far from stabilizing
        return relative_errors(problem, gains)


def learning_curves(problem: LQRProblem, budget: int, n_seeds: int, seed: Any = 0, *, searches: dict | None = None,
                    start: str = "zero", ce_budget: int = 100, lspi_budget: int = 300) -> dict:
    r"""Relative cost error :math:`(J(\hat K) - J^\star)/J^\star` against rollouts used, per method and seed.

    Every rollout has ``SETTINGS.rollout_length[problem.name]`` steps (or :func:`ce_lib.lqr.rollout_horizon` for other
    problems). Nominal CE (dynamics and cost fitted) and LSPI are batch methods: at each checkpoint they
    are rerun on the first ``N`` rollouts (a budget of 1 skips them); the ``searches`` (a dict from a name of
    :data:`SEARCH_METHODS` to its settings) are run once, from ``start`` (``"zero"`` or ``"stabilizing"``,
    see ``SETTINGS.starts``), and read at the checkpoints.

    Randomness: ``seed`` is split into one generator per run (:func:`ce_lib.experiments.spawn_rngs`)
    plus one for the searches. Run ``b``'s CE and LSPI data come from run ``b``'s child seed, so they
    share the disturbances and input noise rollout by rollout (LSPI's inputs add its stabilizing
    feedback to the same noise); each search advances all runs together from the searches' generator.

    Returns
    -------
    dict
        ``rollouts`` (checkpoints), ``horizon`` and, per method, an array (n_seeds, T) of relative errors
        (``inf`` = not stabilizing), with ``nan`` beyond a batch method's budget.
    """
    _check_problem(problem)
    budget = check_positive_int(budget, "budget")
    B = check_positive_int(n_seeds, "n_seeds")
    ce_budget = check_positive_int(ce_budget, "ce_budget")
    lspi_budget = check_positive_int(lspi_budget, "lspi_budget")
    if start not in SETTINGS.starts:
        raise ValueError(f"start must be one of {SETTINGS.starts}, got {start!r}")
    searches = {} if searches is None else dict(searches)
    unknown = set(searches) - set(SEARCH_METHODS)
    if unknown:
        raise ValueError(f"searches: unknown method(s) {sorted(unknown)}; known: {list(SEARCH_METHODS)}")
    T = SETTINGS.rollout_length[problem.name] if problem.name in SETTINGS.rollout_length else rollout_horizon(problem)
    checks = log_grid(budget)
    out = {"rollouts": checks, "horizon": T}
    run_seeds = [child_seed(seed, b) for b in range(B)]
    K0 = SETTINGS.stabilizing_start.get(problem.name)
    if start == "stabilizing" and K0 is None:
        raise ValueError(f"start: no stabilizing gain is known for the problem {problem.name!r}")
    if ce_budget > 1:
        ce = np.full((B, checks.size), np.nan)
        for b in range(B):
            X, U, Xn = rollouts(problem.A, problem.B, min(ce_budget, budget), T, run_seeds[b])
            for j, N in enumerate(checks[checks <= ce_budget]):
                ce[b, j] = _errs(problem, _ce_gain(problem, X[: N * T], U[: N * T], Xn[: N * T]))
        out["nominal CE"] = ce
    if lspi_budget > 1 and K0 is not None:
        ls = np.full((B, checks.size), np.nan)
        for b in range(B):
            X, U, Xn = rollouts(problem.A, problem.B, min(lspi_budget, budget), T, run_seeds[b], K=K0, sigma_u=1.0)
            for j, N in enumerate(checks[checks <= lspi_budget]):
                ls[b, j] = _errs(problem, lspi(problem, X[: N * T], U[: N * T], Xn[: N * T], K0))
        out["LSPI"] = ls
    for name, kw in searches.items():
        fn, fixed = SEARCH_METHODS[name]
        Ks = fn(problem, budget, horizon=T, checkpoints=checks, n_runs=B, seed=child_seed(seed, B),
                K0=K0 if start == "stabilizing" else None, **fixed, **kw).gains
        out[name] = _errs(problem, np.swapaxes(Ks, 0, 1))  # (runs, checkpoints)
    return out


def _hits_to(curves, rollouts, target):
    ok = ~np.any(np.isnan(curves), axis=0)
    return samples_to_target(rollouts[ok], curves[:, ok], target, hold=HOLD)


#: The settings of each search that are numbers per run (a tuning grid runs as one batch over them).
PER_RUN_SETTINGS = ("step", "explore", "radius")


def _search_batch(job):
    """Settings of one search from one start, ``n`` runs each, simulated as one batch of runs from ``seed``.
    Settings that are not per-run numbers (the number of directions) must agree within a job.
    Returns, per setting, the rollouts to each target and the curves (n, T)."""
    name, method, start, settings, n, seed = job
    prob = problem(name)
    kw = {k: np.repeat([dict(s)[k] for s in settings], n) if k in PER_RUN_SETTINGS else dict(settings[0])[k]
          for k in dict(settings[0])}
    out = learning_curves(prob, SETTINGS.budget[prob.name], n * len(settings), seed=seed, searches={method: kw}, start=start,
                          ce_budget=1, lspi_budget=1)
    curves = out[method].reshape(len(settings), n, -1)
    return [({t: _hits_to(c, out["rollouts"], t) for t in SETTINGS.error_targets}, c) for c in curves]


def _batches(name, method, start, grid, n, seed):
    """The jobs of :func:`_search_batch` that cover ``grid``: one per value of the settings that are not per-run."""
    groups = {}
    for kw in grid:
        fixed = tuple((k, v) for k, v in sorted(kw.items()) if k not in PER_RUN_SETTINGS)
        groups.setdefault(fixed, []).append(tuple(sorted(kw.items())))
    return [(name, method, start, tuple(g), n, seed) for g in groups.values()]


def grid_edges(tuned: dict, tuning_hits: dict | None = None, grids: dict | None = None) -> list[str]:
    """The tuned settings that sit at an end of their grid, where the grid tried more than two values
    of that setting: ``["<method>, from <start>, for <target>: <setting> = <value>", ...]``. With
    ``tuning_hits`` (as :func:`comparison` returns it), settings chosen on a tie are left out: when the
    chosen setting's median on the tuning runs never reached the target (every median sits at the
    budget, and the choice falls to the share of runs that got there), or when the starting gain met the
    target at the first rollout (every setting ties there)."""
    grids = SETTINGS.search_grids if grids is None else grids
    edges = []
    for (method, start, t), kw in tuned.items():
        if tuning_hits is not None:
            h = np.asarray(tuning_hits[start][t][method], dtype=float)
            if np.mean(np.isfinite(h)) <= 0.5 or np.all(h <= 1):
                continue
        for k, v in kw.items():
            values = sorted({g[k] for g in grids[method]})
            if len(values) > 2 and v in (values[0], values[-1]):
                edges.append(f"{method}, from {start}, for {t:.0%}: {k} = {v:g}")
    return edges


def _job(job):
    """One unit of :func:`comparison`'s work: a batch of one search's runs (a job of :func:`_search_batch`)
    or ``("batch methods", name, n, seed)``, nominal CE and LSPI on ``n`` runs from ``seed``."""
    if job[0] == "batch methods":
        _, name, n, seed = job
        prob = problem(name)
        return learning_curves(prob, SETTINGS.budget[prob.name], n, seed=seed, ce_budget=SETTINGS.ce_budget,
                               lspi_budget=SETTINGS.lspi_budget)
    return _search_batch(job)


def _tuned(name, n_seeds):
    prob = problem(name)
    budget = SETTINGS.budget[prob.name]
    jobs = [job for s in SETTINGS.starts for m in SEARCHES
            for job in _batches(name, m, s, SETTINGS.search_grids[m], SETTINGS.tuning_runs, TUNING_SEED_START)]
    # Every job depends only on its own arguments, so their order changes no number; the largest batches go
    # first and nominal CE and LSPI (on the tuning runs, then the reported ones) last, which keeps both
    # workers busy to the end.
    jobs.sort(key=lambda job: -len(job[3]))
    batch_jobs = [("batch methods", name, SETTINGS.tuning_runs, TUNING_SEED_START),
                  ("batch methods", name, n_seeds, REPORTED_SEED_START)]
    *results, batch, base = parallel_map(_job, jobs + batch_jobs, n_jobs=2)
    tuned_hits = {(job[1], job[2], items): hits for job, res in zip(jobs, results) for items, (hits, _) in
                  zip(job[3], res)}
    out = {"budget": budget, "tuning_runs": len(tuned_hits) * SETTINGS.tuning_runs, "tuned": {}, "curves": {},
           "tuning_hits": {s: {t: {} for t in SETTINGS.error_targets} for s in SETTINGS.starts},
           "hits": {s: {t: {} for t in SETTINGS.error_targets} for s in SETTINGS.starts},
           "grid_sizes": {m: len(SETTINGS.search_grids[m]) for m in SEARCHES}}
    chosen = {}  # (method, start, target) -> settings
    for s in SETTINGS.starts:
        for m in SEARCHES:
            grid = [tuple(sorted(kw.items())) for kw in SETTINGS.search_grids[m]]
            for t in SETTINGS.error_targets:
                items = grid[best_by_tuning([tuned_hits[m, s, g][t] for g in grid], budget)]
                chosen[m, s, t] = items
                out["tuned"][m, s, t] = dict(items)
                out["tuning_hits"][s][t][m] = tuned_hits[m, s, items][t]
    out["rollouts"], out["horizon"] = base["rollouts"], base["horizon"]
    for m in ("nominal CE", "LSPI"):
        out["curves"][m] = base[m]
        for s in SETTINGS.starts if m == "nominal CE" else ("stabilizing",):
            for t in SETTINGS.error_targets:
                out["tuning_hits"][s][t][m] = _hits_to(batch[m], batch["rollouts"], t)
                out["hits"][s][t][m] = _hits_to(base[m], base["rollouts"], t)
    # Reported runs: each distinct chosen (method, start, setting) on the same reported runs, alone in its batch.
    distinct = sorted({(m, s, items) for (m, s, _), items in chosen.items()})
    runs = parallel_map(_search_batch, [(name, m, s, (items,), n_seeds, REPORTED_SEED_START)
                                        for m, s, items in distinct], n_jobs=2)
    by_setting = {key: res[0] for key, res in zip(distinct, runs)}
    for (m, s, t), items in chosen.items():
        hits, curves = by_setting[m, s, items]
        out["hits"][s][t][m] = hits[t]
        out["curves"][m, s, t] = curves
    return out


def comparison(name: str = "laplacian", n_seeds: int = 20) -> dict:
    """The chapter's comparison on ``"laplacian"`` or ``"double integrator"`` (cached).

    Each search of :data:`SEARCH_METHODS` is tuned over its grid in ``SETTINGS.search_grids``, from each start
    of ``SETTINGS.starts`` and for each target of ``SETTINGS.error_targets`` separately, on ``SETTINGS.tuning_runs`` runs
    drawn from the tuning seed, by the median rollouts-to-target (misses at the budget); nominal CE has
    nothing to tune and LSPI starts from ``SETTINGS.stabilizing_start``. Every method also runs on the tuning
    runs, where each family's best method is chosen.

    Returns
    -------
    dict
        ``rollouts``, ``horizon``, ``budget``; ``curves[method]`` (CE, LSPI) and
        ``curves[(search, start, target)]`` (the search tuned for that start and target), each (n_seeds, T);
        ``hits[start][target][method]`` and ``tuning_hits[start][target][method]`` (LSPI only under
        ``"stabilizing"``); ``tuned[(search, start, target)]``; ``grid_sizes`` and ``tuning_runs``.
    """
    problem(name)
    return cached(_tuned, name=name, n_seeds=check_positive_int(n_seeds, "n_seeds"))


#: Every LQR record is "same information": CE fits the dynamics *and* the cost (Q, R) from the transitions and
#: per-step costs it observed, which every learner here observes too. CE does assume the linear-quadratic form,
#: as LSPI assumes a quadratic Q-function and the searches a linear gain.
CE_GIVEN = ""


def _tuning_text(out: dict, method: str, start: str, t: float) -> str:
    if method == "nominal CE":
        return "none needed"
    if method == "LSPI":
        return "none needed (given a stabilizing initial gain)"
    return grid_tuning(out["grid_sizes"][method], f"{SETTINGS.tuning_runs} runs drawn from seed {TUNING_SEED_START}") + \
        f", from {'K = 0' if start == 'zero' else 'the stabilizing gain'}, for the {t:.0%} target"


def headline(n_seeds: int = 20) -> list[dict]:
    """Scoreboard records, per problem, target and start of the searches: nominal CE (dynamics and cost
    fitted from what it observed) against every model-free method (``"same"`` information)."""
    records = []
    for name, t in SETTINGS.records:
        out = comparison(name, n_seeds)
        prob = problem(name)
        for s in SETTINGS.starts:
            methods = [MethodResult(m, "ce" if m == "nominal CE" else "rl", out["hits"][s][t][m],
                                    _tuning_text(out, m, s, t), out["tuning_hits"][s][t][m])
                       for m in METHOD_NAMES if m in out["hits"][s][t]]
            where = "model-free methods start from K = 0" if s == "zero" else \
                "model-free methods start from a stabilizing gain"
            records.append(make_record(
                chapter="lqr", task=f"{prob.name}, rollouts of {out['horizon']} steps, {where}",
                metric=f"rollouts until the relative cost error is below {t:.0%}", target=t,
                budget=out["budget"], information="same", ce_given=CE_GIVEN, methods=methods))
    return records
