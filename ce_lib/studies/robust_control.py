"""The study of the chapter on robust certainty-equivalent control (:ref:`ch-robust`): its settings and
experiments.

What the chapter runs and the numbers its prose glues: the data sweep of nominal against robust CE,
the FIR floor and the scoreboard record. The problems and learners are the library's,
:mod:`ce_lib.robust`; this module only chooses and runs them.
"""
from __future__ import annotations

from dataclasses import dataclass
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
from . import lqr as lqr_study

__all__ = [
    "Settings", "SETTINGS", "fir_floor", "data_sweep", "RECORD_METHODS", "RECORD_NOTE",
    "transitions_to_safe", "headline",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    short_horizon: int = 6  # rollout length of the sweep (short rollouts from rest, as in Dean et al.)
    rollout_counts: tuple = (4, 8, 16, 32, 64, 128)  # data sizes of the sweep, in rollouts
    sweep_fir: int = 15  # FIR length of the SLS controllers (the benchmark times the same)
    sweep_robustness_levels: tuple = (0.3, 0.6, 0.9)  # the robustness levels gamma tried by SLS
    # Solver of the sweep: SCS reaches the same optimum as CLARABEL on these programs about five times faster
    # (``benchmarks/bench_robust.py`` prints both), which matters for 120 syntheses.
    sweep_solver: str = "SCS"
    # The record's target: a controller that stabilizes the true system at a cost at most this many times the
    # optimal one, at this data set and at every larger one of the seed. The question is safety with little
    # data, so the bar is loose; robust CE's FIR controllers of length 15 cannot reach the optimal cost anyway
    # (:func:`fir_floor`).
    safe_cost_factor: float = 10.0
    # Runs of the record's tuning sweep (seeds from :data:`ce_lib.experiments.TUNING_SEED_START`).
    tuning_runs: int = 10

    @property
    def safe_cost_target(self) -> float:
        """The record's target as a relative cost error: ``safe_cost_factor - 1``."""
        return self.safe_cost_factor - 1.0


SETTINGS = Settings()
"""The settings the chapter runs with."""



def _one_run(job):
    """Nominal CE, robust SLS and the robust static gain on one data set (one seed, one size)."""
    name, n_rollouts, seed = job
    prob = lqr_study.problem(name)
    A, B, Q, R = prob.A, prob.B, prob.Q, prob.R
    _, j_star = prob.optimal()
    # The data sets of one seed are nested: the first n of max(SETTINGS.rollout_counts) rollouts.
    X, U, Xn = rollouts(A, B, max(SETTINGS.rollout_counts), SETTINGS.short_horizon, child_seed(seed, 0))
    keep = slice(0, n_rollouts * SETTINGS.short_horizon)
    X, U, Xn = X[keep], U[keep], Xn[keep]
    A_hat, B_hat = fit_dynamics(X, U, Xn)
    sigma_w = float(np.sqrt(np.mean((Xn - X @ A_hat.T - U @ B_hat.T) ** 2)))
    eps_A, eps_B = bootstrap_errors(A_hat, B_hat, n_rollouts, SETTINGS.short_horizon, sigma_w, child_seed(seed, 1))
    covered = bool(np.linalg.norm(A - A_hat, 2) <= eps_A and np.linalg.norm(B - B_hat, 2) <= eps_B)
    rel = lambda J: (J - j_star) / j_star  # noqa: E731
    try:
        nominal = rel(lqr_cost(A, B, Q, R, lqr_gain(A_hat, B_hat, Q, R)))
    except ValueError:  # the fitted pair cannot be stabilized
        nominal = float("inf")
    sls = sls_synthesis(A_hat, B_hat, Q, R, eps_A, eps_B, fir=SETTINGS.sweep_fir, gammas=SETTINGS.sweep_robustness_levels, solver=SETTINGS.sweep_solver)
    static = robust_static_gain(A_hat, B_hat, Q, R, eps_A, eps_B)
    # LSPI (the best model-free learner of chapter 05) on the very same transitions, from the same
    # stabilizing initial gain chapter 05 gives it.
    K_lspi = lspi(prob, X, U, Xn, lqr_study.SETTINGS.stabilizing_start[prob.name])
    lspi_err = float("inf") if K_lspi is None or not np.all(np.isfinite(K_lspi)) else rel(lqr_cost(A, B, Q, R, K_lspi))
    return {"nominal": nominal, "lspi": lspi_err, "sls": rel(sls_cost(A, B, Q, R, sls)), "sls_status": sls.status,
            "sls_bound": rel(sls.bound), "static": rel(sls_cost(A, B, Q, R, static)),
            "static_status": static.status, "eps_A": eps_A, "eps_B": eps_B, "covered": covered,
            "sls_time": sls.solve_time}


def fir_floor(name: str = "laplacian", fir: int = SETTINGS.sweep_fir) -> float:
    """Relative cost error of the best FIR controller of length ``fir`` when the model is exact:
    the price of the finite impulse response itself, below which the robust curve cannot go."""
    prob = lqr_study.problem(name)
    res = sls_synthesis(prob.A, prob.B, prob.Q, prob.R, 0.0, 0.0, fir=fir, gammas=(0.5,))
    _, j_star = prob.optimal()
    return (sls_cost(prob.A, prob.B, prob.Q, prob.R, res) - j_star) / j_star


def data_sweep(name: str = "laplacian", counts: Sequence[int] = SETTINGS.rollout_counts, n_seeds: int = 20,
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
    lqr_study.problem(name)
    counts = [check_positive_int(c, "counts (each)") for c in counts]
    if not counts or max(counts) > max(SETTINGS.rollout_counts):
        raise ValueError(f"counts must be non-empty and at most {max(SETTINGS.rollout_counts)} (the nested data of a seed)")
    seed_start = check_positive_int(seed_start, "seed_start", minimum=0)
    return cached(_data_sweep, name=name, counts=counts, n_seeds=check_positive_int(n_seeds, "n_seeds"),
                  seed_start=seed_start)


def _data_sweep(name, counts, n_seeds, seed_start):
    jobs = [(name, c, s) for s in range(seed_start, seed_start + n_seeds) for c in counts]
    runs = parallel_map(_one_run, jobs, n_jobs=2)
    out = {"rollouts": np.array(counts), "transitions": np.array(counts) * SETTINGS.short_horizon}
    for key in runs[0]:
        out[key] = np.array([r[key] for r in runs]).reshape(n_seeds, len(counts))
    return out


# ----------------------------------------------------------------------------------------------
# The scoreboard record: how little data each method needs for a safe, decent controller
# ----------------------------------------------------------------------------------------------

#: The record's methods: key of a run of the sweep -> (name, family).
RECORD_METHODS = {"nominal": ("nominal CE", "ce"), "sls": ("robust CE (SLS)", "ce"),
                  "static": ("robust static gain", "ce"), "lspi": ("LSPI", "rl")}
#: What both sides are told (the record is "same": the same transitions, the same cost).
RECORD_NOTE = "every method reads the same short rollouts and is told Q and R"


def transitions_to_safe(sweep: dict, key: str) -> np.ndarray:
    """Per seed of a :func:`data_sweep`, the transitions until method ``key``'s controller stabilizes
    the true system with relative cost error at most ``SETTINGS.safe_cost_target`` and still does at
    every larger data set of the seed (``inf`` if not within the sweep)."""
    if key not in RECORD_METHODS:
        raise ValueError(f"key must be one of {sorted(RECORD_METHODS)}, got {key!r}")
    err = np.asarray(sweep[key], dtype=float)
    counts = np.asarray(sweep["transitions"], dtype=float)
    return samples_to_target(counts, err, SETTINGS.safe_cost_target, persist=True)


def headline(n_seeds: int = 20) -> list[dict]:
    """Scoreboard record: transitions of short rollouts until the controller is safe and within
    ``SETTINGS.safe_cost_target`` of optimal, robust and nominal CE against LSPI on the same data
    (``information="same"``). The best CE method is chosen on ``SETTINGS.tuning_runs`` tuning seeds."""
    n_seeds = check_positive_int(n_seeds, "n_seeds", minimum=2)
    report = data_sweep("laplacian", SETTINGS.rollout_counts, n_seeds)
    tune = data_sweep("laplacian", SETTINGS.rollout_counts, SETTINGS.tuning_runs, seed_start=TUNING_SEED_START)
    methods = [MethodResult(name, family, transitions_to_safe(report, key), "none needed (no parameter tuned on "
                            "the data; robust CE's level is chosen inside the synthesis)" if key == "sls"
                            else "none needed", transitions_to_safe(tune, key))
               for key, (name, family) in RECORD_METHODS.items()]
    budget = float(max(SETTINGS.rollout_counts) * SETTINGS.short_horizon)
    return [make_record(chapter="robust", task=f"Laplacian system (3 states), rollouts of {SETTINGS.short_horizon} steps "
                                               "from rest; " + RECORD_NOTE,
                        metric=f"transitions until the controller stabilizes the true system at most "
                               f"{SETTINGS.safe_cost_factor:g}x the optimal cost, at that and every larger data set",
                        target=SETTINGS.safe_cost_target, budget=budget, information="same", methods=methods)]
