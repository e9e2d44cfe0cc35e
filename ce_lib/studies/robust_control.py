"""The study of the chapter on robust certainty-equivalent control (:ref:`ch-robust`): its settings and
experiments.

What the chapter runs and the numbers its prose glues: the data sweep of nominal against robust CE,
the FIR floor and the scoreboard record. The problems and learners are the library's,
:mod:`ce_lib.robust`; this module only chooses and runs them.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..experiments import (
    REPORTED_SEED_START,
    TUNING_SEED_START,
    MethodResult,
    cached,
    check_positive_int,
    child_seed,
    make_record,
    parallel_map,
    samples_to_target,
)
from ..lqr import fit_dynamics, lqr_cost, lqr_gain, lspi, rollouts
from ..robust import bootstrap_errors, robust_static_gain, sls_cost, sls_synthesis
from .lqr import STABILIZING_START, problem

__all__ = [
    "SHORT_HORIZON", "ROLLOUT_COUNTS", "SWEEP_FIR", "SWEEP_ROBUSTNESS_LEVELS", "SWEEP_SOLVER",
    "fir_floor", "data_sweep", "SAFE_COST_FACTOR", "SAFE_COST_TARGET", "TUNING_RUNS", "RECORD_METHODS",
    "RECORD_NOTE", "transitions_to_safe", "headline",
]


#: Rollout length and data sizes of the chapter's sweep (short rollouts from rest, as in Dean et al.).
SHORT_HORIZON = 6
ROLLOUT_COUNTS = (4, 8, 16, 32, 64, 128)
#: FIR length and robustness levels used in the sweep (the benchmark times the full length 15).
SWEEP_FIR = 15
SWEEP_ROBUSTNESS_LEVELS = (0.3, 0.6, 0.9)
#: Solver of the sweep: SCS reaches the same optimum as CLARABEL on these programs about five times
#: faster (``benchmarks/bench_robust.py`` prints both), which matters for 120 syntheses.
SWEEP_SOLVER = "SCS"


def _one_run(job):
    """Nominal CE, robust SLS and the robust static gain on one data set (one seed, one size)."""
    name, n_rollouts, seed = job
    prob = problem(name)
    A, B, Q, R = prob.A, prob.B, prob.Q, prob.R
    _, j_star = prob.optimal()
    # The data sets of one seed are nested: the first n of max(ROLLOUT_COUNTS) rollouts.
    X, U, Xn = rollouts(A, B, max(ROLLOUT_COUNTS), SHORT_HORIZON, child_seed(seed, 0))
    keep = slice(0, n_rollouts * SHORT_HORIZON)
    X, U, Xn = X[keep], U[keep], Xn[keep]
    A_hat, B_hat = fit_dynamics(X, U, Xn)
    sigma_w = float(np.sqrt(np.mean((Xn - X @ A_hat.T - U @ B_hat.T) ** 2)))
    eps_A, eps_B = bootstrap_errors(A_hat, B_hat, n_rollouts, SHORT_HORIZON, sigma_w, child_seed(seed, 1))
    covered = bool(np.linalg.norm(A - A_hat, 2) <= eps_A and np.linalg.norm(B - B_hat, 2) <= eps_B)
    rel = lambda J: (J - j_star) / j_star  # noqa: E731
    try:
        nominal = rel(lqr_cost(A, B, Q, R, lqr_gain(A_hat, B_hat, Q, R)))
    except ValueError:  # the fitted pair cannot be stabilized
        nominal = float("inf")
    sls = sls_synthesis(A_hat, B_hat, Q, R, eps_A, eps_B, fir=SWEEP_FIR, gammas=SWEEP_ROBUSTNESS_LEVELS, solver=SWEEP_SOLVER)
    static = robust_static_gain(A_hat, B_hat, Q, R, eps_A, eps_B)
    # LSPI (the best model-free learner of chapter 05) on the very same transitions, from the same
    # stabilizing initial gain chapter 05 gives it.
    K_lspi = lspi(prob, X, U, Xn, STABILIZING_START[prob.name])
    lspi_err = float("inf") if K_lspi is None or not np.all(np.isfinite(K_lspi)) else rel(lqr_cost(A, B, Q, R, K_lspi))
    return {"nominal": nominal, "lspi": lspi_err, "sls": rel(sls_cost(A, B, Q, R, sls)), "sls_status": sls.status,
            "sls_bound": rel(sls.bound), "static": rel(sls_cost(A, B, Q, R, static)),
            "static_status": static.status, "eps_A": eps_A, "eps_B": eps_B, "covered": covered,
            "sls_time": sls.solve_time}


def fir_floor(name: str = "laplacian", fir: int = SWEEP_FIR) -> float:
    """Relative cost error of the best FIR controller of length ``fir`` when the model is exact:
    the price of the finite impulse response itself, below which the robust curve cannot go."""
    prob = problem(name)
    res = sls_synthesis(prob.A, prob.B, prob.Q, prob.R, 0.0, 0.0, fir=fir, gammas=(0.5,))
    _, j_star = prob.optimal()
    return (sls_cost(prob.A, prob.B, prob.Q, prob.R, res) - j_star) / j_star


def data_sweep(name: str = "laplacian", counts: Sequence[int] = ROLLOUT_COUNTS, n_seeds: int = 20,
               seed_start: int = REPORTED_SEED_START) -> dict:
    """Relative cost error of nominal CE, robust SLS, the robust static gain and LSPI against the
    number of short rollouts, on the same data sets (cached). Seeds ``seed_start`` to
    ``seed_start + n_seeds - 1``, one nested data set each.

    Returns
    -------
    dict
        ``rollouts``, ``transitions`` and, for each key of a run (``nominal``, ``sls``, ``static``,
        ``sls_status``, ``eps_A``, ``covered``, ...), an array of shape (n_seeds, len(counts)).
    """
    problem(name)
    counts = [check_positive_int(c, "counts (each)") for c in counts]
    if not counts or max(counts) > max(ROLLOUT_COUNTS):
        raise ValueError(f"counts must be non-empty and at most {max(ROLLOUT_COUNTS)} (the nested data of a seed)")
    seed_start = check_positive_int(seed_start, "seed_start", minimum=0)
    return cached(_data_sweep, name=name, counts=counts, n_seeds=check_positive_int(n_seeds, "n_seeds"),
                  seed_start=seed_start)


def _data_sweep(name, counts, n_seeds, seed_start):
    jobs = [(name, c, s) for s in range(seed_start, seed_start + n_seeds) for c in counts]
    runs = parallel_map(_one_run, jobs, n_jobs=2)
    out = {"rollouts": np.array(counts), "transitions": np.array(counts) * SHORT_HORIZON}
    for key in runs[0]:
        out[key] = np.array([r[key] for r in runs]).reshape(n_seeds, len(counts))
    return out


# ----------------------------------------------------------------------------------------------
# The scoreboard record: how little data each method needs for a safe, decent controller
# ----------------------------------------------------------------------------------------------

#: The record's target: a controller that stabilizes the true system at a cost at most ten times the
#: optimal one (relative error at most 9), at this data set and at every larger one of the seed. The
#: question is safety with little data, so the bar on cost is loose; robust CE's FIR controllers of
#: length 15 cannot reach the optimal cost anyway (:func:`fir_floor`).
SAFE_COST_FACTOR = 10.0
SAFE_COST_TARGET = SAFE_COST_FACTOR - 1.0
#: Runs of the record's tuning sweep (seeds from :data:`ce_lib.experiments.TUNING_SEED_START`).
TUNING_RUNS = 10
#: The record's methods: key of a run of the sweep -> (name, family).
RECORD_METHODS = {"nominal": ("nominal CE", "ce"), "sls": ("robust CE (SLS)", "ce"),
                  "static": ("robust static gain", "ce"), "lspi": ("LSPI", "rl")}
#: What both sides are told (the record is "same": the same transitions, the same cost).
RECORD_NOTE = "every method reads the same short rollouts and is told Q and R"


def transitions_to_safe(sweep: dict, key: str) -> np.ndarray:
    """Per seed of a :func:`data_sweep`, the transitions until method ``key``'s controller stabilizes
    the true system with relative cost error at most :data:`SAFE_COST_TARGET` and still does at
    every larger data set of the seed (``inf`` if not within the sweep)."""
    if key not in RECORD_METHODS:
        raise ValueError(f"key must be one of {sorted(RECORD_METHODS)}, got {key!r}")
    err = np.asarray(sweep[key], dtype=float)
    counts = np.asarray(sweep["transitions"], dtype=float)
    return samples_to_target(counts, err, SAFE_COST_TARGET, persist=True)


def headline(n_seeds: int = 20) -> list[dict]:
    """Scoreboard record: transitions of short rollouts until the controller is safe and within
    :data:`SAFE_COST_TARGET` of optimal, robust and nominal CE against LSPI on the same data
    (``information="same"``). The best CE method is chosen on :data:`TUNING_RUNS` tuning seeds."""
    n_seeds = check_positive_int(n_seeds, "n_seeds", minimum=2)
    report = data_sweep("laplacian", ROLLOUT_COUNTS, n_seeds)
    tune = data_sweep("laplacian", ROLLOUT_COUNTS, TUNING_RUNS, seed_start=TUNING_SEED_START)
    methods = [MethodResult(name, family, transitions_to_safe(report, key), "none needed (no parameter tuned on "
                            "the data; robust CE's level is chosen inside the synthesis)" if key == "sls"
                            else "none needed", transitions_to_safe(tune, key))
               for key, (name, family) in RECORD_METHODS.items()]
    budget = float(max(ROLLOUT_COUNTS) * SHORT_HORIZON)
    return [make_record(chapter="robust", task=f"Laplacian system (3 states), rollouts of {SHORT_HORIZON} steps "
                                               "from rest; " + RECORD_NOTE,
                        metric=f"transitions until the controller stabilizes the true system at most "
                               f"{SAFE_COST_FACTOR:g}x the optimal cost, at that and every larger data set",
                        target=SAFE_COST_TARGET, budget=budget, information="same", methods=methods)]
