"""The study of the chapter on multi-armed bandits (:ref:`ch-bandits`): its settings and experiments.

What the chapter runs and the numbers its prose glues: Sutton & Barto's testbed, the explore-then-
commit experiment, the regret curves of the chapter's instance, the tuning of the policy learners
and the scoreboard record. The problems and learners are the library's, :mod:`ce_lib.bandits`; this
module only chooses and runs them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bandits import (
    EXP3,
    KLUCB,
    UCB,
    BernoulliBandit,
    EpsilonGreedy,
    ExploreThenCommit,
    GaussianBandit,
    GradientBandit,
    Greedy,
    ThompsonSampling,
    TsallisINF,
    simulate,
)
from ..experiments import (
    HOLD,
    REPORTED_SEED_START,
    TUNING_SEED_START,
    MethodResult,
    as_rng,
    best_by_tuning,
    cached,
    censor,
    check_finite_array,
    check_positive_int,
    check_real,
    child_seed,
    grid_tuning,
    make_record,
    samples_to_target,
    window_mean,
)

__all__ = [
    "Settings", "SETTINGS", "testbed", "etc_regret_bound", "etc_experiment", "regret_curves",
    "rounds_to_commit", "RL_AGENTS", "RECORD_CE_AGENTS", "setting_label", "tune_policy_learner",
    "headline",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    instance: tuple = (0.5, 0.45, 0.4, 0.35, 0.3)  # Bernoulli means of the regret and scoreboard experiments
    commit_window: int = 100  # the scoreboard's target: a best arm in at least commit_level of this many rounds
    commit_level: float = 0.9  # ... the fraction of the window (90%)
    commit_horizon: int = 20_000  # rounds of the scoreboard experiment
    record_runs: int = 50  # runs per method in the scoreboard record (reported and tuning runs alike)
    # The gradient bandit's step sizes (each with and without the reward baseline).
    gradient_bandit_steps: tuple = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
    # Multipliers of Tsallis-INF's published learning rate 2/sqrt(t) (1 = the paper's), each with both estimators.
    tsallis_scales: tuple = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    # Multipliers of EXP3's anytime learning rate sqrt(log K / (t K)).
    exp3_scales: tuple = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)

    @property
    def rl_grids(self) -> dict:
        """The policy-based learners of the scoreboard record and their tuning grids (keyword arguments)."""
        return {"gradient bandit": [{"alpha": a, "baseline": b} for a in self.gradient_bandit_steps for b in (True, False)],
                "Tsallis-INF": [{"c": c, "estimator": e} for c in self.tsallis_scales for e in ("iw", "rv")],
                "EXP3": [{"c": c} for c in self.exp3_scales]}


SETTINGS = Settings()
"""The settings the chapter runs with."""



def testbed(n_runs: int = 2000, horizon: int = 1000, n_arms: int = 10, seed: Any = 0) -> dict:
    """Sutton & Barto's 10-armed testbed: :math:`q^*_k \\sim \\mathcal N(0, 1)` per run, unit noise.

    Runs epsilon-greedy with :math:`\\varepsilon \\in \\{0, 0.01, 0.1\\}` (estimates start at 0),
    UCB with :math:`c = 2` and the gradient bandit with :math:`\\alpha = 0.1` and a baseline, all
    on the same instances and the same reward draws (one ``seed`` for every agent). Returns, per
    method, the average reward and the fraction of runs that pulled a best arm, each of shape
    (horizon,).
    """
    n_runs = check_positive_int(n_runs, "n_runs")
    horizon = check_positive_int(horizon, "horizon")
    instance_rng, sim_seed = as_rng(child_seed(seed, 0)), child_seed(seed, 1)
    q = instance_rng.standard_normal((n_runs, check_positive_int(n_arms, "n_arms", minimum=2)))
    env = GaussianBandit(q, 1.0)
    greedy = EpsilonGreedy(0.0)
    greedy.name = "greedy"  # epsilon = 0 is greedy, started at 0 as in the book
    agents = {"greedy (epsilon = 0)": greedy, "epsilon = 0.01": EpsilonGreedy(0.01),
              "epsilon = 0.1": EpsilonGreedy(0.1), "UCB, c = 2": UCB(2.0),
              "gradient bandit, alpha = 0.1": GradientBandit(0.1)}
    out = {}
    for name, agent in agents.items():
        run = simulate(agent, env, horizon, n_runs, seed=sim_seed)
        out[name] = {"reward": run.rewards.mean(axis=0), "optimal": run.optimal.mean(axis=0),
                     "family": agent.family, "agent": agent.name}
    out["expected_best"] = float(q.max(axis=1).mean())
    return out


def etc_regret_bound(delta: float, n: int, m: int) -> float:
    """Lattimore & Szepesvari's Theorem 6.1 for two 1-sub-Gaussian arms with gap ``delta``.

    .. math:: R_n \\le m\\Delta + (n - 2m)\\,\\Delta\\, e^{-m\\Delta^2/4}
    """
    delta = check_real(delta, "delta", low=0.0)
    n = check_positive_int(n, "n", minimum=2)
    m = check_positive_int(m, "m")
    if 2 * m > n:
        raise ValueError(f"m must be at most n / 2 = {n // 2} (two arms explored m times each), got {m}")
    return float(m * delta + (n - 2 * m) * delta * np.exp(-m * delta**2 / 4))


def etc_experiment(deltas, n: int = 1000, n_runs: int = 2000, seed: Any = 0) -> dict:
    """Explore-then-commit on two unit-variance Gaussian arms (means 0 and -delta), n rounds.

    For every gap, ETC uses the exploration length ``m`` that minimizes the bound of
    :func:`etc_regret_bound` (as Lattimore & Szepesvari do); UCB runs alongside, on the same reward
    draws. Returns the mean regret and its standard error per gap, and the bound.
    """
    deltas = check_finite_array(deltas, "deltas", ndim=1)
    if deltas.size == 0 or np.any(deltas <= 0):
        raise ValueError("deltas must be a non-empty list of positive gaps")
    n = check_positive_int(n, "n", minimum=4)
    n_runs = check_positive_int(n_runs, "n_runs")
    out = {"deltas": deltas, "etc": [], "etc_se": [], "ucb": [], "ucb_se": [], "bound": [], "m": []}
    for i, d in enumerate(deltas):
        ms = np.arange(1, n // 2 + 1)
        bounds = ms * d + (n - 2 * ms) * d * np.exp(-ms * d**2 / 4)
        m = int(ms[np.argmin(bounds)])
        env = GaussianBandit([0.0, -float(d)], 1.0)
        for key, agent in (("etc", ExploreThenCommit(m)), ("ucb", UCB())):
            total = simulate(agent, env, n, n_runs, seed=child_seed(seed, i)).regret.sum(axis=1)
            out[key].append(float(total.mean()))
            out[f"{key}_se"].append(float(total.std() / np.sqrt(n_runs)))
        out["bound"].append(min(n * float(d), etc_regret_bound(float(d), n, m)))
        out["m"].append(m)
    return {k: np.asarray(v) for k, v in out.items()}


def regret_curves(means=SETTINGS.instance, horizon: int = 20_000, n_runs: int = 200, seed: Any = 0,
                  rl_settings: dict | None = None) -> dict:
    """Cumulative pseudo-regret of every agent on one Bernoulli instance, per run (every agent on
    the same reward draws).

    ``rl_settings`` maps names of :data:`RL_AGENTS` to their keyword arguments (the tuned settings
    of :func:`tune_policy_learner`); a learner left out runs with its published default.

    Returns ``{name: {"family", "regret": (n_runs, horizon) cumulative}}``.
    """
    rl_settings = {} if rl_settings is None else dict(rl_settings)
    unknown = set(rl_settings) - set(RL_AGENTS)
    if unknown:
        raise ValueError(f"rl_settings has unknown learners {sorted(unknown)}; expected names of {sorted(RL_AGENTS)}")
    env = BernoulliBandit(means)
    agents = [Greedy(), EpsilonGreedy(0.1), UCB(), KLUCB(), ThompsonSampling()]
    agents += [cls(**rl_settings.get(name, {"alpha": 0.1} if cls is GradientBandit else {}))
               for name, cls in RL_AGENTS.items()]
    out = {}
    for agent in agents:
        run = simulate(agent, env, horizon, n_runs, seed=seed)
        out[agent.name] = {"family": agent.family, "regret": np.cumsum(run.regret, axis=1)}
    return out


def rounds_to_commit(agent, means=SETTINGS.instance, horizon: int = SETTINGS.commit_horizon, n_runs: int = 20, seed: Any = 0):
    """Rounds until a run pulls a best arm in at least 90% of a sliding window of 100 and holds it.

    The count is the last round of the first window that reaches the level and is still at it
    for every window ending up to 25% later (:func:`ce_lib.experiments.samples_to_target` with
    ``hold=1.25``); ``inf`` if that never happens within ``horizon``.
    """
    run = simulate(agent, BernoulliBandit(means), horizon, n_runs, seed)
    rate = window_mean(run.optimal, SETTINGS.commit_window)
    ends = np.arange(SETTINGS.commit_window, horizon + 1, dtype=float)
    return samples_to_target(ends, rate, SETTINGS.commit_level, direction="above", hold=HOLD)


RL_AGENTS = {"gradient bandit": GradientBandit, "Tsallis-INF": TsallisINF, "EXP3": EXP3}
#: The model-based agents of the scoreboard record (untuned: their textbook settings).
RECORD_CE_AGENTS = {"UCB": UCB, "KL-UCB": KLUCB, "Thompson sampling": ThompsonSampling}


def setting_label(name: str, setting: dict) -> str:
    """A short readable label of one learner's setting, e.g. ``'Tsallis-INF (c = 1, rv)'``."""
    if name not in RL_AGENTS:
        raise ValueError(f"name must be one of {sorted(RL_AGENTS)}, got {name!r}")
    parts = []
    for key, value in setting.items():
        if key == "baseline":
            parts.append("baseline" if value else "no baseline")
        elif key == "estimator":
            parts.append({"iw": "IW estimates", "rv": "RV estimates"}[value])
        else:
            parts.append(f"{key} = {value:g}")
    return f"{name} ({', '.join(parts)})"


def tune_policy_learner(name: str, n_seeds: int = SETTINGS.record_runs) -> dict:
    """One policy-based learner's setting, chosen over its grid in ``SETTINGS.rl_grids`` on ``n_seeds``
    runs split from the tuning seed, by the median rounds to commit (misses at the budget) -- the
    statistic the scoreboard reports (cached).

    Returns
    -------
    dict
        ``setting`` (keyword arguments of the learner), ``label``, ``tuning_hits`` (the chosen
        setting's counts on the tuning runs), ``grid_size``, ``at_edge`` (whether a chosen numeric
        value is the smallest or largest of its grid) and ``medians`` (every setting's tuning median,
        keyed by label).
    """
    if name not in SETTINGS.rl_grids:
        raise ValueError(f"name must be one of {sorted(SETTINGS.rl_grids)}, got {name!r}")
    return cached(_tune_policy_learner, name=name, grid=SETTINGS.rl_grids[name],
                  n_seeds=check_positive_int(n_seeds, "n_seeds", minimum=2))


def _tune_policy_learner(name: str, grid: list, n_seeds: int) -> dict:
    cls = RL_AGENTS[name]
    tuned = [rounds_to_commit(cls(**kw), n_runs=n_seeds, seed=TUNING_SEED_START) for kw in grid]
    i = best_by_tuning(tuned, SETTINGS.commit_horizon)
    numeric = [k for k, v in grid[i].items() if isinstance(v, float)]
    at_edge = any(grid[i][k] in (min(g[k] for g in grid), max(g[k] for g in grid)) for k in numeric)
    return {"setting": dict(grid[i]), "label": setting_label(name, grid[i]), "tuning_hits": tuned[i],
            "grid_size": len(grid), "at_edge": bool(at_edge),
            "medians": {setting_label(name, kw): float(np.median(censor(h, SETTINGS.commit_horizon)))
                        for kw, h in zip(grid, tuned)}}


def headline(n_seeds: int = SETTINGS.record_runs) -> list[dict]:
    """Scoreboard record: rounds to commit to the best arm, the CE agents against the tuned
    policy-based learners -- the gradient bandit, Tsallis-INF and EXP3 (same rewards seen:
    ``information="same"``)."""
    return [cached(_headline, n_seeds=check_positive_int(n_seeds, "n_seeds", minimum=2))]


def _headline(n_seeds: int) -> dict:
    # Every method runs on the tuning runs and on the reported runs, with the rewards shared between
    # methods run by run (see simulate): the reported runs are split from seed 0, the tuning runs
    # from seed 1000.
    report, tune = REPORTED_SEED_START, TUNING_SEED_START
    methods = [MethodResult(name, "ce", rounds_to_commit(cls(), n_runs=n_seeds, seed=report),
                            "none needed (textbook settings)", rounds_to_commit(cls(), n_runs=n_seeds, seed=tune))
               for name, cls in RECORD_CE_AGENTS.items()]
    for name, cls in RL_AGENTS.items():
        tuned = tune_policy_learner(name, n_seeds)
        methods.append(MethodResult(
            tuned["label"], "rl", rounds_to_commit(cls(**tuned["setting"]), n_runs=n_seeds, seed=report),
            grid_tuning(tuned["grid_size"], f"{n_seeds} runs split from seed {tune}"), tuned["tuning_hits"]))
    return make_record(chapter="bandits", task=f"Bernoulli arms {list(SETTINGS.instance)}",
                       metric=f"rounds until a best arm is pulled in {SETTINGS.commit_level:.0%} of a "
                              f"{SETTINGS.commit_window}-round window",
                       target=SETTINGS.commit_level, budget=SETTINGS.commit_horizon, information="same", methods=methods)
