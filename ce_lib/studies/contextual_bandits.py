"""The study of the chapter on contextual bandits (:ref:`ch-contextual`): its settings and experiments.

What the chapter runs and the numbers its prose glues: the context-diversity sweep, the digits task,
the tuning of policy gradient and the scoreboard record. The problems and learners are the
library's, :mod:`ce_lib.contextual`; this module only chooses and runs them.
"""
from __future__ import annotations

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
    "diversity_sweep", "POLICY_GRADIENT_STEPS", "POLICY_GRADIENT_BASELINES", "RECORD_RUNS",
    "ACCURACY_WINDOW", "ACCURACY_LEVEL", "DIGITS_ROUNDS", "HOLD", "digits_curves", "rounds_to_accuracy",
    "RECORD_CE_AGENTS", "tune_policy_gradient", "headline",
]


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


#: The policy gradient's tuning grid on the digits task: step sizes 10^(k/10) from 0.01 to 1 (21 values, a
#: factor of about 1.26 apart), each with the running-average and the learned baseline.
POLICY_GRADIENT_STEPS = tuple(float(f"{10 ** (k / 10):.3g}") for k in range(-20, 1))
#: The policy gradient's baselines (see :class:`SoftmaxPolicyGradient`).
POLICY_GRADIENT_BASELINES = ("average", "learned")
#: Runs per method in the scoreboard record (reported and tuning runs alike).
RECORD_RUNS = 50
#: Window and accuracy of the scoreboard's target on the digits task, and the rounds per run.
ACCURACY_WINDOW, ACCURACY_LEVEL, DIGITS_ROUNDS = 200, 0.8, 8000
#: Hold factor of the scoreboard's target.
HOLD = 1.25


def digits_curves(n_runs: int = 20, horizon: int = DIGITS_ROUNDS, alpha: float = 0.1, seed: Any = 0,
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
    """Rounds until a run's accuracy over the last :data:`ACCURACY_WINDOW` rounds reaches
    :data:`ACCURACY_LEVEL` and is still there for every window ending up to 25% later (``inf``
    if never within :data:`DIGITS_ROUNDS`)."""
    run = simulate(agent, env, DIGITS_ROUNDS, n_runs, seed)
    acc = window_mean(run.rewards, ACCURACY_WINDOW)
    ends = np.arange(ACCURACY_WINDOW, DIGITS_ROUNDS + 1, dtype=float)
    return samples_to_target(ends, acc, ACCURACY_LEVEL, direction="above", hold=HOLD)


#: The model-based agents of the scoreboard record, with their textbook settings (untuned).
RECORD_CE_AGENTS = {"greedy least squares": GreedyLS, "LinUCB": LinUCB, "linear Thompson sampling": LinearThompson}


def tune_policy_gradient(n_seeds: int = RECORD_RUNS, baseline: str = "average") -> dict:
    """The policy gradient's step size on the digits for one baseline, chosen over
    :data:`POLICY_GRADIENT_STEPS` on ``n_seeds`` runs split from the tuning seed, by the median rounds
    to the accuracy target (misses at the budget) -- the statistic the scoreboard reports (cached).

    Returns
    -------
    dict
        ``alpha``, ``baseline``, ``tuning_hits`` (the chosen step's counts on the tuning runs),
        ``grid_size``, ``at_edge`` (the chosen step is the grid's smallest or largest) and ``medians``
        (every step's tuning median).
    """
    if baseline not in POLICY_GRADIENT_BASELINES:
        raise ValueError(f"baseline must be one of {POLICY_GRADIENT_BASELINES}, got {baseline!r}")
    return cached(_tune_policy_gradient, n_seeds=check_positive_int(n_seeds, "n_seeds", minimum=2),
                  baseline=baseline, steps=list(POLICY_GRADIENT_STEPS))


def _tune_policy_gradient(n_seeds: int, baseline: str, steps: list) -> dict:
    env = digits_bandit()
    tuned = [rounds_to_accuracy(SoftmaxPolicyGradient(a, baseline), env, n_seeds, TUNING_SEED_START) for a in steps]
    i = best_by_tuning(tuned, DIGITS_ROUNDS)
    return {"alpha": steps[i], "baseline": baseline, "tuning_hits": tuned[i], "grid_size": len(steps),
            "at_edge": i in (0, len(steps) - 1),
            "medians": {a: float(np.median(censor(h, DIGITS_ROUNDS))) for a, h in zip(steps, tuned)}}


def _headline(n_seeds: int) -> dict:
    env = digits_bandit()
    report, tune = REPORTED_SEED_START, TUNING_SEED_START
    methods = [MethodResult(name, "ce", rounds_to_accuracy(cls(), env, n_seeds, report),
                            "none needed (textbook settings)", rounds_to_accuracy(cls(), env, n_seeds, tune))
               for name, cls in RECORD_CE_AGENTS.items()]
    for baseline in POLICY_GRADIENT_BASELINES:
        tuned = tune_policy_gradient(n_seeds, baseline)
        agent = SoftmaxPolicyGradient(tuned["alpha"], baseline)
        methods.append(MethodResult(f"{agent.name} (alpha = {tuned['alpha']:g})", "rl",
                                    rounds_to_accuracy(agent, env, n_seeds, report),
                                    grid_tuning(tuned["grid_size"], f"{n_seeds} runs split from seed {tune}"),
                                    tuned["tuning_hits"]))
    return make_record(chapter="contextual", task="handwritten digits as a 10-armed contextual bandit",
                       metric=f"rounds until {ACCURACY_LEVEL:.0%} accuracy over a {ACCURACY_WINDOW}-round window",
                       target=ACCURACY_LEVEL, budget=DIGITS_ROUNDS, information="same", methods=methods)


def headline(n_seeds: int = RECORD_RUNS) -> list[dict]:
    """Scoreboard record: rounds to 80% online accuracy on the digits, the CE agents against the tuned
    policy gradients, with the average and with the learned baseline (same images and rewards seen:
    ``information="same"``)."""
    return [cached(_headline, n_seeds=check_positive_int(n_seeds, "n_seeds", minimum=2))]
