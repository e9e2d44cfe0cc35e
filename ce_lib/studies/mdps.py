"""The study of the chapter on tabular MDPs (:ref:`ch-mdps`): its settings and experiments.

What the chapter runs and the numbers its prose glues: the discounts of the sweep, the generative-
model and online sweeps with their tuning, the horizon scaling and the scoreboard records. The
problems and learners are the library's, :mod:`ce_lib.mdp`; this module only chooses and runs them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..experiments import (
    HOLD,
    REPORTED_SEED_START,
    TUNING_SEED_START,
    Interval,
    MethodResult,
    as_rng,
    best_by_tuning,
    bootstrap_ratio,
    cached,
    censor,
    check_positive_int,
    grid_tuning,
    make_record,
    parallel_map,
    ratio_bound,
    samples_to_target,
)
from ..mdp import (
    _METHODS,
    VR_SETTINGS,
    check_gamma,
    frozen_lake,
    generative_experiment,
    online_experiment,
)

__all__ = [
    "Settings", "SETTINGS", "ONLINE_CE_GIVEN", "generative_sweep", "horizon_scaling", "online_sweep",
    "headline",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    # Discount factors of the chapter's sweep (effective horizons 10 to 1000).
    discounts: tuple = (0.9, 0.95, 0.99, 0.995, 0.999)
    # Target: the returned policy loses at most this fraction of the optimal value from the start.
    value_loss_target: float = 0.05
    # Rounds of the generative model (each round samples every pair once).
    generative_rounds: int = 5000
    # Environment steps of each online run.
    online_budget: int = 50_000
    # The online tuning grid: (method, parameter[, epsilon]). Q-learning's follows Sutton & Barto's usual
    # alpha and epsilon around 0.1; the policy gradient's step sizes span two decades.
    online_grid: tuple = tuple([("ce-optimism", beta) for beta in (0.1, 0.3, 1.0)]
                               + [("q-learning", alpha, eps) for alpha in (0.05, 0.1, 0.2, 0.5) for eps in (0.05, 0.1, 0.2)]
                               + [("policy-gradient", alpha) for alpha in (0.3, 1.0, 3.0, 10.0)]
                               + [("optimistic-q", beta) for beta in (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)])
    # CE without the bonus: runs alongside the grid, to show what optimism buys (nothing to tune).
    no_bonus: tuple = ("ce-optimism", 0.0)
    # Runs per tuning experiment (their seed is :data:`ce_lib.experiments.TUNING_SEED_START`).
    tuning_runs: int = 10


SETTINGS = Settings()
"""The settings the chapter runs with."""



#: What online CE is told that the model-free learners are not.
ONLINE_CE_GIVEN = "the largest possible reward (r_max = 1), which its optimism assigns to untried actions"


def _hits(samples, gaps):
    return samples_to_target(samples, gaps, SETTINGS.value_loss_target, hold=HOLD)


def _generative_tuned(job: tuple) -> dict:
    lake, gamma, n_seeds = job
    mdp = frozen_lake(lake)
    budget = SETTINGS.generative_rounds * mdp.n_states * mdp.n_actions
    # Every discount factor uses the same seeds: the same simulator draws, for every learner.
    tune = generative_experiment(mdp, gamma, SETTINGS.generative_rounds, SETTINGS.tuning_runs, seed=TUNING_SEED_START,
                                 vr_settings=VR_SETTINGS)
    hits_q = [_hits(tune["samples"], g) for g in tune["gap_q"]]
    hits_vr = [_hits(tune["samples"], g) for g in tune["gap_vr"]]
    bq, bv = best_by_tuning(hits_q, budget), best_by_tuning(hits_vr, budget)
    schedule, setting = tune["schedules"][bq], tune["vr_settings"][bv]
    out = generative_experiment(mdp, gamma, SETTINGS.generative_rounds, n_seeds, seed=REPORTED_SEED_START,
                                schedules=[schedule], vr_settings=[setting])
    res = {"gamma": gamma, "samples": out["samples"], "budget": budget, "v_star": out["v_star"],
           "gap_ce": out["gap_ce"], "gap_q": out["gap_q"][0], "schedule": schedule,
           "gap_vr": out["gap_vr"][0], "vr_setting": setting,
           "vr_at_edge": [setting[0] in (VR_SETTINGS[0][0], VR_SETTINGS[-1][0]),
                          setting[1] in (VR_SETTINGS[0][1], VR_SETTINGS[-1][1])],
           "hits_ce": _hits(out["samples"], out["gap_ce"]), "hits_q": _hits(out["samples"], out["gap_q"][0]),
           "hits_vr": _hits(out["samples"], out["gap_vr"][0]),
           "tuning_hits_ce": _hits(tune["samples"], tune["gap_ce"]), "tuning_hits_q": hits_q[bq],
           "tuning_hits_vr": hits_vr[bv], "grid_size": len(hits_q), "vr_grid_size": len(hits_vr),
           "tuning_runs": (len(hits_q) + len(hits_vr)) * SETTINGS.tuning_runs}
    # The strongest model-free learner, chosen on the tuning runs (as the records choose it).
    vr_wins = best_by_tuning([hits_q[bq], hits_vr[bv]], budget) == 1
    res["best_rl"] = "vr" if vr_wins else "q"
    res["hits_rl"] = res["hits_vr"] if vr_wins else res["hits_q"]
    res["gap_rl"] = res["gap_vr"] if vr_wins else res["gap_q"]
    return res


def _check_sweep(lake, gammas) -> list[float]:
    if lake not in ("4x4", "8x8"):
        raise ValueError(f"lake must be '4x4' or '8x8', got {lake!r}")
    gammas = [check_gamma(g) for g in gammas]
    if not gammas:
        raise ValueError("gammas must not be empty")
    return gammas


def generative_sweep(lake: str = "8x8", gammas: Sequence[float] = SETTINGS.discounts, n_seeds: int = 20) -> list[dict]:
    """The chapter's generative-model comparison on FrozenLake, one entry per discount factor (cached).

    Q-learning's schedule is chosen per discount factor from :data:`Q_SCHEDULES` on
    ``SETTINGS.tuning_runs`` runs drawn from the tuning seed, by the median samples-to-target (misses at
    the budget); the reported runs are drawn from seed 0. Every discount factor uses the same seeds.
    """
    gammas = _check_sweep(lake, gammas)
    return cached(_generative_sweep, lake=lake, gammas=gammas, n_seeds=check_positive_int(n_seeds, "n_seeds"))


def _generative_sweep(lake, gammas, n_seeds):
    return parallel_map(_generative_tuned, [(lake, g, n_seeds) for g in gammas], n_jobs=2)


def horizon_scaling(sweep: Sequence[dict], n_boot: int = 2000, seed: Any = 0) -> dict:
    r"""How the ratio (strongest model-free learner / plug-in samples to target) grows with the horizon
    :math:`1/(1-\gamma)`; the model-free learner of each discount is the one of synchronous and
    variance-reduced Q-learning that did better on the tuning runs (``best_rl`` of the sweep).

    Parameters
    ----------
    sweep : list of dict
        The output of :func:`generative_sweep`.

    Returns
    -------
    dict
        ``horizon`` (:math:`1/(1-\gamma)` per entry), ``ratio`` (list of
        :class:`~ce_lib.experiments.Interval`, paired bootstrap over seeds), ``bound`` (per entry,
        as in the records: ``"lower"`` when Q-learning's median run missed the target) and
        ``slope``: the least-squares slope of log ratio on log horizon, with a bootstrap interval
        that resamples the seeds of every discount factor independently. Theory's worst case
        predicts slope 1.
    """
    n_boot = check_positive_int(n_boot, "n_boot")
    if len(sweep) < 2:
        raise ValueError("sweep must hold at least two discount factors")
    rng = as_rng(seed)
    x = np.log([1.0 / (1.0 - r["gamma"]) for r in sweep])
    pairs = [(censor(r["hits_rl"], r["budget"]), censor(r["hits_ce"], r["budget"])) for r in sweep]
    ratios = [bootstrap_ratio(q, c, seed=seed) for q, c in pairs]
    bounds = [ratio_bound(r["hits_rl"], r["hits_ce"]) for r in sweep]
    point = np.polyfit(x, np.log([r.median for r in ratios]), 1)[0]
    boots = np.empty(n_boot)
    for i in range(n_boot):
        y = []
        for q, c in pairs:
            idx = rng.integers(0, q.size, q.size)
            y.append(np.log(np.median(q[idx]) / np.median(c[idx])))
        boots[i] = np.polyfit(x, y, 1)[0]
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return {"horizon": np.exp(x), "ratio": ratios, "bound": bounds, "slope": Interval(float(point), float(lo), float(hi))}


def _online_tuned(job: tuple) -> dict:
    lake, gamma, n_seeds = job
    mdp = frozen_lake(lake)
    cap = 100 if lake == "4x4" else 200  # gymnasium's time limits for the two maps
    grid = list(SETTINGS.online_grid) + [SETTINGS.no_bonus]
    tune = online_experiment(mdp, gamma, SETTINGS.online_budget, grid, SETTINGS.tuning_runs, seed=TUNING_SEED_START,
                             episode_cap=cap)
    tune_hits = [_hits(tune["steps"], g) for g in tune["gap"]]
    chosen, chosen_hits = [], []
    for method in _METHODS:
        idx = [i for i, c in enumerate(SETTINGS.online_grid) if c[0] == method]
        best = idx[best_by_tuning([tune_hits[i] for i in idx], SETTINGS.online_budget)]
        chosen.append(SETTINGS.online_grid[best])
        chosen_hits.append(tune_hits[best])
    configs = chosen + [SETTINGS.no_bonus]
    chosen_hits.append(tune_hits[-1])
    out = online_experiment(mdp, gamma, SETTINGS.online_budget, configs, n_seeds, seed=REPORTED_SEED_START, episode_cap=cap)
    return {"gamma": gamma, "steps": out["steps"], "labels": out["labels"], "configs": out["configs"],
            "gap": out["gap"], "hits": [_hits(out["steps"], g) for g in out["gap"]], "tuning_hits": chosen_hits,
            "grid_sizes": [sum(c[0] == m for c in SETTINGS.online_grid) for m in _METHODS] + [1],
            "tuning_runs": len(grid) * SETTINGS.tuning_runs, "v_star": out["v_star"]}


def online_sweep(lake: str = "4x4", gammas: Sequence[float] = (0.9, 0.99), n_seeds: int = 20) -> list[dict]:
    """The chapter's online comparison, one entry per discount factor (cached); every learner tuned
    over ``SETTINGS.online_grid`` on ``SETTINGS.tuning_runs`` runs drawn from the tuning seed, by the median
    samples-to-target (misses at the budget)."""
    gammas = _check_sweep(lake, gammas)
    return cached(_online_sweep, lake=lake, gammas=gammas, n_seeds=check_positive_int(n_seeds, "n_seeds"))


def _online_sweep(lake, gammas, n_seeds):
    return parallel_map(_online_tuned, [(lake, g, n_seeds) for g in gammas], n_jobs=2)


def _tuning_text(grid_size: int) -> str:
    if grid_size <= 1:
        return "none needed"
    return grid_tuning(grid_size, f"{SETTINGS.tuning_runs} runs drawn from seed {TUNING_SEED_START}")


def headline(n_seeds: int = 20) -> list[dict]:
    """Scoreboard records: samples to a policy within 5% of optimal from the start, per discount factor,
    with a generative model (FrozenLake 8x8; every learner reads the same draws: ``"same"``) and
    online (FrozenLake 4x4; CE's optimism is told the largest reward: ``"more"``, unless the RL side
    chosen on the tuning runs is optimistic Q-learning, which is told it too: then ``"same"``)."""
    records = []
    for res in generative_sweep("8x8", SETTINGS.discounts, n_seeds):
        if res["gamma"] not in (0.9, 0.99):
            continue
        kind, param = res["schedule"]
        records.append(make_record(
            chapter="mdp", task=f"FrozenLake 8x8 (slippery), generative model, gamma = {res['gamma']:g}",
            metric=f"transitions until the policy is within {SETTINGS.value_loss_target:.0%} of optimal from the start",
            target=SETTINGS.value_loss_target, budget=res["budget"], information="same",
            methods=[MethodResult("plug-in model + policy iteration", "ce", res["hits_ce"], "none needed",
                                  res["tuning_hits_ce"]),
                     MethodResult(f"synchronous Q-learning ({kind}, {param:g})", "rl", res["hits_q"],
                                  _tuning_text(res["grid_size"]) + ", separately for every discount",
                                  res["tuning_hits_q"]),
                     MethodResult(f"variance-reduced Q-learning (M = {res['vr_setting'][0]}, "
                                  f"N0 = {res['vr_setting'][1]})", "rl", res["hits_vr"],
                                  _tuning_text(res["vr_grid_size"]) + ", separately for every discount",
                                  res["tuning_hits_vr"])]))
    for res in online_sweep("4x4", (0.9, 0.99), n_seeds):
        methods = [MethodResult(label, "ce" if cfg[0] == "ce-optimism" else "rl", hits, _tuning_text(size), th)
                   for label, cfg, hits, th, size in zip(res["labels"], res["configs"], res["hits"],
                                                         res["tuning_hits"], res["grid_sizes"])]
        # Optimistic Q-learning is told r_max as well: where it is the RL side, CE knows nothing more.
        rl = [i for i, m in enumerate(methods) if m.family == "rl"]
        best = rl[best_by_tuning([methods[i].tuning_hits for i in rl], SETTINGS.online_budget)]
        both_told = res["configs"][best][0] == "optimistic-q"
        records.append(make_record(
            chapter="mdp", task=f"FrozenLake 4x4 (slippery), online, gamma = {res['gamma']:g}"
                                + (", both sides told r_max = 1" if both_told else ""),
            metric=f"environment steps until the policy is within {SETTINGS.value_loss_target:.0%} of optimal from the start",
            target=SETTINGS.value_loss_target, budget=SETTINGS.online_budget, information="same" if both_told else "more",
            ce_given="" if both_told else ONLINE_CE_GIVEN, methods=methods))
    return records
