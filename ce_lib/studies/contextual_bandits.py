"""The study of the chapter on contextual bandits (:ref:`ch-contextual`): its settings and experiments.

What the chapter runs and the numbers its prose glues: the context-diversity sweep, the digits task,
the tuning of policy gradient and the scoreboard record. The problems and learners are the
library's, :mod:`ce_lib.contextual`; this module only chooses and runs them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..contextual import (
    GreedyLS,
    LinearBandit,
    LinearThompson,
    LinUCB,
    SoftmaxPolicyGradient,
    digits_bandit,
    simulate,
)
from ..experiments import (
    HOLD,
    REPORTED_SEED_START,
    TUNING_SEED_START,
    MethodResult,
    best_by_tuning,
    cached,
    censor,
    check_finite_array,
    check_positive_int,
    child_seed,
    grid_tuning,
    make_record,
    samples_to_target,
    window_mean,
)

__all__ = [
    "Settings", "SETTINGS", "diversity_sweep", "digits_curves", "rounds_to_accuracy", "RECORD_CE_AGENTS",
    "tune_policy_gradient", "headline",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    # The policy gradient's step sizes on the digits task: 10^(k/10) from 0.01 to 1 (21 values, a factor of
    # about 1.26 apart), each tried with both baselines.
    policy_gradient_steps: tuple = tuple(float(f"{10 ** (k / 10):.3g}") for k in range(-20, 1))
    # The policy gradient's baselines (see :class:`ce_lib.contextual.SoftmaxPolicyGradient`).
    policy_gradient_baselines: tuple = ("average", "learned")
    record_runs: int = 50  # runs per method in the scoreboard record (reported and tuning runs alike)
    accuracy_window: int = 200  # the scoreboard's target on the digits task: accuracy over this many rounds ...
    accuracy_level: float = 0.8  # ... at least this high
    digits_rounds: int = 8000  # rounds per run on the digits task


SETTINGS = Settings()
"""The settings the chapter runs with."""



def diversity_sweep(spreads=(0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0), n_arms: int = 2, horizon: int = 4000,
                    n_runs: int = 50, seed: Any = 0) -> dict:
    """Regret after ``horizon`` rounds of greedy, LinUCB and linear Thompson against context spread.

    Two arms by default, the setting of Bastani, Bayati & Khosravi's main theorem. One instance
    (drawn from ``seed``) for every spread; per spread, the total regret of every run, with the
    three agents on the same contexts and noise.
    """
    spreads = check_finite_array(spreads, "spreads", ndim=1)
    if spreads.size == 0 or np.any(spreads < 0):
        raise ValueError("spreads must be a non-empty list of numbers >= 0")
    agents = {"greedy least squares": GreedyLS(), "LinUCB": LinUCB(), "linear Thompson sampling": LinearThompson()}
    out = {"spreads": spreads, "regret": {name: [] for name in agents}}
    theta = LinearBandit.random(n_arms=n_arms, seed=child_seed(seed, 0)).theta
    for i, rho in enumerate(spreads):
        env = LinearBandit(theta, float(rho), 0.5)
        for name, agent in agents.items():
            run = simulate(agent, env, horizon, n_runs, seed=child_seed(child_seed(seed, 1), i))
            out["regret"][name].append(run.regret.sum(axis=1))
    out["regret"] = {k: np.array(v) for k, v in out["regret"].items()}
    return out


def digits_curves(n_runs: int = 20, horizon: int = SETTINGS.digits_rounds, alpha: float = 0.1, seed: Any = 0,
                  learned_alpha: float | None = None) -> dict:
    """Online accuracy of every agent on the digits bandit: per run, the reward of every round
    (every agent on the same sequence of images). ``learned_alpha`` adds the policy gradient with
    the learned baseline at that step."""
    env = digits_bandit()
    agents = [GreedyLS(), LinUCB(), LinearThompson(), SoftmaxPolicyGradient(alpha)]
    if learned_alpha is not None:
        agents.append(SoftmaxPolicyGradient(learned_alpha, "learned"))
    out = {}
    for agent in agents:
        run = simulate(agent, env, horizon, n_runs, seed=seed)
        out[agent.name] = {"family": agent.family, "rewards": run.rewards}
    return out


def rounds_to_accuracy(agent, env, n_runs: int, seed: Any) -> np.ndarray:
    """Rounds until a run's accuracy over the last ``SETTINGS.accuracy_window`` rounds reaches
    ``SETTINGS.accuracy_level`` and is still there for every window ending up to 25% later (``inf``
    if never within ``SETTINGS.digits_rounds``)."""
    run = simulate(agent, env, SETTINGS.digits_rounds, n_runs, seed)
    acc = window_mean(run.rewards, SETTINGS.accuracy_window)
    ends = np.arange(SETTINGS.accuracy_window, SETTINGS.digits_rounds + 1, dtype=float)
    return samples_to_target(ends, acc, SETTINGS.accuracy_level, direction="above", hold=HOLD)


#: The model-based agents of the scoreboard record, with their textbook settings (untuned).
RECORD_CE_AGENTS = {"greedy least squares": GreedyLS, "LinUCB": LinUCB, "linear Thompson sampling": LinearThompson}


def tune_policy_gradient(n_seeds: int = SETTINGS.record_runs, baseline: str = "average") -> dict:
    """The policy gradient's step size on the digits for one baseline, chosen over
    ``SETTINGS.policy_gradient_steps`` on ``n_seeds`` runs split from the tuning seed, by the median rounds
    to the accuracy target (misses at the budget) -- the statistic the scoreboard reports (cached).

    Returns
    -------
    dict
        ``alpha``, ``baseline``, ``tuning_hits`` (the chosen step's counts on the tuning runs),
        ``grid_size``, ``at_edge`` (the chosen step is the grid's smallest or largest) and ``medians``
        (every step's tuning median).
    """
    if baseline not in SETTINGS.policy_gradient_baselines:
        raise ValueError(f"baseline must be one of {SETTINGS.policy_gradient_baselines}, got {baseline!r}")
    return cached(_tune_policy_gradient, n_seeds=check_positive_int(n_seeds, "n_seeds", minimum=2),
                  baseline=baseline, steps=list(SETTINGS.policy_gradient_steps))


def _tune_policy_gradient(n_seeds: int, baseline: str, steps: list) -> dict:
    env = digits_bandit()
    tuned = [rounds_to_accuracy(SoftmaxPolicyGradient(a, baseline), env, n_seeds, TUNING_SEED_START) for a in steps]
    i = best_by_tuning(tuned, SETTINGS.digits_rounds)
    return {"alpha": steps[i], "baseline": baseline, "tuning_hits": tuned[i], "grid_size": len(steps),
            "at_edge": i in (0, len(steps) - 1),
            "medians": {a: float(np.median(censor(h, SETTINGS.digits_rounds))) for a, h in zip(steps, tuned)}}


def _headline(n_seeds: int) -> dict:
    env = digits_bandit()
    report, tune = REPORTED_SEED_START, TUNING_SEED_START
    methods = [MethodResult(name, "ce", rounds_to_accuracy(cls(), env, n_seeds, report),
                            "none needed (textbook settings)", rounds_to_accuracy(cls(), env, n_seeds, tune))
               for name, cls in RECORD_CE_AGENTS.items()]
    for baseline in SETTINGS.policy_gradient_baselines:
        tuned = tune_policy_gradient(n_seeds, baseline)
        agent = SoftmaxPolicyGradient(tuned["alpha"], baseline)
        methods.append(MethodResult(f"{agent.name} (alpha = {tuned['alpha']:g})", "rl",
                                    rounds_to_accuracy(agent, env, n_seeds, report),
                                    grid_tuning(tuned["grid_size"], f"{n_seeds} runs split from seed {tune}"),
                                    tuned["tuning_hits"]))
    return make_record(chapter="contextual", task="handwritten digits as a 10-armed contextual bandit",
                       metric=f"rounds until {SETTINGS.accuracy_level:.0%} accuracy over a {SETTINGS.accuracy_window}-round window",
                       target=SETTINGS.accuracy_level, budget=SETTINGS.digits_rounds, information="same", methods=methods)


def headline(n_seeds: int = SETTINGS.record_runs) -> list[dict]:
    """Scoreboard record: rounds to 80% online accuracy on the digits, the CE agents against the tuned
    policy gradients, with the average and with the learned baseline (same images and rewards seen:
    ``information="same"``)."""
    return [cached(_headline, n_seeds=check_positive_int(n_seeds, "n_seeds", minimum=2))]
