"""Bad input, tried as a student would, across the public API: every case must raise a
``ValueError`` or ``TypeError`` whose message names the argument -- never pass silently, never
hang, never fail deep inside numpy, torch or gymnasium. One table per module, at least 20 cases
each (the README's promise, checked rather than asserted)."""

import importlib.util
import signal

import numpy as np
import pytest
import torch

import dataclasses

from ce_lib import (ars, bandits, checkers, known_form, contextual, dfo, dt, experiments, gym_tasks, learned_model, lqr, mdp, plotting,
                    ppo, reasoning, robust, sb3_agents, scoreboard, stored)
from ce_lib.studies import bandits as bandits_study
from ce_lib.studies import contextual_bandits as contextual_bandits_study
from ce_lib.studies import decision_transformers as decision_transformers_study
from ce_lib.studies import deep_rl as deep_rl_study
from ce_lib.studies import dfo as dfo_study
from ce_lib.studies import lqr as lqr_study
from ce_lib.studies import mdps as mdps_study
from ce_lib.studies import ppo as ppo_study
from ce_lib.studies import reasoning as reasoning_study
from ce_lib.studies import robust_control as robust_control_study

BAD = (ValueError, TypeError)


def _quad():
    return dfo.make_quadratic(4, seed=0)


def _tmp_json(text=None):
    """A path in a fresh temporary folder: holding ``text``, or not yet written."""
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "runs.json"
    if text is not None:
        path.write_text(text)
    return path


def _tictactoe():
    import pyspiel

    return pyspiel.load_game("tic_tac_toe").new_initial_state()


def _finished_checkers():
    state = checkers.new_game().new_initial_state()
    rng = np.random.default_rng(0)
    while not state.is_terminal():
        actions = state.legal_actions()
        state.apply_action(actions[rng.integers(len(actions))])
    return state


def _lake():
    return mdp.frozen_lake("4x4")


def _graph():
    return dt.random_graph(12, 0.2, seed=0)


def _walks():
    return dt.random_walks(_graph(), 20, 0)


def _prob():
    return lqr.double_integrator()


def _ax():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


M = experiments.MethodResult


def _rec(**changes):
    rec = {"chapter": "dfo", "task": "toy", "metric": "samples to 1%", "target": 0.01, "n_seeds": 20, "budget": 1e3,
           "information": "same", "ce_given": "",
           "methods": [{"name": "a", "family": "ce", "samples_to_target": {"median": 2, "lo": 1, "hi": 3},
                        "success_rate": 1.0, "tuning": "none needed"},
                       {"name": "b", "family": "rl", "samples_to_target": {"median": 30, "lo": 20, "hi": 40},
                        "success_rate": 1.0, "tuning": "default"}],
           "ratio": {"median": 15, "lo": 10, "hi": 20, "bound": "exact", "rl": "b", "ce": "a"}}
    rec.update(changes)
    return rec

CASES = {
    "experiments": [
        ("bootstrap_ratio inf numerator", lambda: experiments.bootstrap_ratio([np.inf, 2.0], [1.0, 2.0]), "numerator"),
        ("bootstrap_ratio paired str", lambda: experiments.bootstrap_ratio([1.0, 2.0], [1.0, 2.0], paired="yes"),
         "paired"),
        ("bootstrap_ratio str", lambda: experiments.bootstrap_ratio("12", [1.0, 2.0]), "numerator"),
        ("censor str", lambda: experiments.censor("ab", 3), "hits"),
        ("parallel_map int items", lambda: experiments.parallel_map(abs, 3), "items"),
        ("argmax_random_ties empty", lambda: experiments.argmax_random_ties(np.zeros(0), np.random.default_rng(0)),
         "values"),
        ("samples_to_target target str", lambda: experiments.samples_to_target([1, 2], [1, 1], "0.5"), "target"),
        ("samples_to_target hold nan", lambda: experiments.samples_to_target([1, 2], [1, 1], 0.5, hold=np.nan), "hold"),
        ("samples_to_target hold < 1", lambda: experiments.samples_to_target([1, 2], [1, 1], 0.5, hold=0.9), "hold"),
        ("samples_to_target samples str", lambda: experiments.samples_to_target("abc", [1, 1, 1], 0.5), "samples"),
        ("bootstrap_median nan", lambda: experiments.bootstrap_median([1.0, np.nan]), "x must"),
        ("bootstrap_median level str", lambda: experiments.bootstrap_median([1, 2], level="0.9"), "level"),
        ("bootstrap_ratio zero", lambda: experiments.bootstrap_ratio([1, 0], [1, 1]), "numerator"),
        ("bootstrap_ratio n_boot 0", lambda: experiments.bootstrap_ratio([1, 2], [1, 2], n_boot=0), "n_boot"),
        ("censor budget 0", lambda: experiments.censor([1], 0), "budget"),
        ("censor nan", lambda: experiments.censor([np.nan], 10), "hits"),
        ("as_rng None", lambda: experiments.as_rng(None), "seed"),
        ("as_rng float", lambda: experiments.as_rng(1.5), "seed"),
        ("spawn_rngs n 0", lambda: experiments.spawn_rngs(0, 0), "n must"),
        ("run_seeds negative", lambda: experiments.run_seeds(lambda seed: seed, [-1]), "seeds"),
        ("run_seeds fn", lambda: experiments.run_seeds(3, [1]), "fn"),
        ("parallel_map n_jobs 0", lambda: experiments.parallel_map(abs, [1], n_jobs=0), "n_jobs"),
        ("parallel_map backend type", lambda: experiments.parallel_map(abs, [1], backend=3), "backend"),
        ("cached unkeyable", lambda: experiments.cached(abs, x=object()), "cannot key"),
        ("log_grid 0", lambda: experiments.log_grid(0), "maximum"),
        ("window_mean too long", lambda: experiments.window_mean([1, 2], 3), "window"),
        ("make_record information", lambda: experiments.make_record(
            chapter="c", task="t", metric="m", target=1, budget=10, information="?",
            methods=[M("a", "ce", [1]), M("b", "rl", [2])]), "information"),
        ("grid_tuning n 0", lambda: experiments.grid_tuning(0, [1000]), "n_configs"),
    ],
    "scoreboard": [
        ("records unknown", lambda: scoreboard.records(["nope"]), "known"),
        ("records string", lambda: scoreboard.records("dfo"), "chapters"),
        ("records seeds 1", lambda: scoreboard.records(["dfo"], n_seeds=1), "n_seeds"),
        ("records seeds float", lambda: scoreboard.records(["dfo"], n_seeds=2.5), "n_seeds"),
        ("records seeds bool", lambda: scoreboard.records(["dfo"], n_seeds=True), "n_seeds"),
        ("validate not dict", lambda: scoreboard.validate_record([]), "record"),
        ("validate empty", lambda: scoreboard.validate_record({}), "missing"),
        ("format_table width", lambda: scoreboard.format_table([], width=10), "width"),
        ("format_table width str", lambda: scoreboard.format_table([], width="80"), "width"),
    ] + [(f"validate missing {k}", (lambda k=k: scoreboard.validate_record(
        {key: None for key in scoreboard._RECORD_KEYS if key != k})), "record")
        for k in ("chapter", "task", "metric", "target", "n_seeds", "information", "methods")] + [
        ("validate nan target", lambda: scoreboard.validate_record(_rec(target=float("nan"))), "target"),
        ("validate empty task", lambda: scoreboard.validate_record(_rec(task=" ")), "task"),
        ("validate empty chapter", lambda: scoreboard.validate_record(_rec(chapter="")), "chapter"),
        ("format_table a record with information 'Same'", lambda: scoreboard.format_table([_rec(information="Same")]),
         "information"),
        ("format_markdown not a list", lambda: scoreboard.format_markdown(_rec()), "recs"),
        ("format_tuning_markdown bad record", lambda: scoreboard.format_tuning_markdown([{"chapter": "dfo"}]),
         "record"),
        ("ratio_text bad record", lambda: scoreboard.ratio_text({"ratio": {}}), "record"),
        ("chapter_summary information", lambda: scoreboard.chapter_summary([_rec()], "Same"), "information"),
        ("summary_numbers empty", lambda: scoreboard.summary_numbers([]), "recs"),
        ("verdict_text empty", lambda: scoreboard.verdict_text([]), "recs"),
        ("format_summary_markdown empty", lambda: scoreboard.format_summary_markdown([]), "recs"),
        ("side not a record", lambda: scoreboard.side("dfo"), "rec"),
        ("moved_ratio one name", lambda: scoreboard.moved_ratio(_rec(), names="UCB"), "names"),
        ("forest_label number", lambda: scoreboard.forest_label(_rec(), -1), "number"),
        ("forest_label width", lambda: scoreboard.forest_label(_rec(), 1, width=5), "width"),
        ("plot_forest empty", lambda: scoreboard.plot_forest([]), "recs"),
        ("plot_forest dict", lambda: scoreboard.plot_forest(_rec()), "recs"),
    ],
    "sb3_agents": [
        ("sb3_kwargs unknown", lambda: sb3_agents.sb3_kwargs("A2C"), "agent"),
        ("sb3_kwargs int", lambda: sb3_agents.sb3_kwargs(3), "agent"),
        ("sb3_kwargs lower case", lambda: sb3_agents.sb3_kwargs("sac"), "agent"),
        ("make_agent unknown", lambda: sb3_agents.make_agent("PPO2", 0), "agent"),
        ("make_agent seed negative", lambda: sb3_agents.make_agent("SAC", -1), "seed"),
        ("make_agent seed float", lambda: sb3_agents.make_agent("SAC", 1.5), "seed"),
        ("make_agent seed str", lambda: sb3_agents.make_agent("SAC", "0"), "seed"),
        ("make_agent seed bool", lambda: sb3_agents.make_agent("SAC", True), "seed"),
        ("make_agent timesteps 0", lambda: sb3_agents.make_agent("SAC", 0, total_timesteps=0), "total_timesteps"),
        ("make_agent timesteps float", lambda: sb3_agents.make_agent("SAC", 0, total_timesteps=1e4),
         "total_timesteps"),
        ("run unknown", lambda: sb3_agents.run("A2C", 0), "agent"),
        ("run seed negative", lambda: sb3_agents.run("TD3", -2), "seed"),
        ("run seed str", lambda: sb3_agents.run("SAC", "0"), "seed"),
        ("run seed float", lambda: sb3_agents.run("SAC", 1.5), "seed"),
        ("run budget 0", lambda: sb3_agents.run("SAC", 0, budget=0), "budget"),
        ("run budget str", lambda: sb3_agents.run("SAC", 0, budget="100"), "budget"),
        ("run budget float", lambda: sb3_agents.run("DQN", 0, budget=100.0), "budget"),
        ("run stop_at_target str", lambda: sb3_agents.run("SAC", 0, budget=100, stop_at_target="yes"),
         "stop_at_target"),
        ("run stop_at_target int", lambda: sb3_agents.run("SAC", 0, budget=100, stop_at_target=1), "stop_at_target"),
        ("run stop_after 0", lambda: sb3_agents.run("SAC", 0, stop_after=0), "stop_after"),
        ("run stop_after str", lambda: sb3_agents.run("SAC", 0, stop_after="10"), "stop_after"),
    ],
    "learned_model": [
        ("ModelConfig members 0", lambda: learned_model.ModelConfig(n_members=0), "n_members"),
        ("ModelConfig fit_steps 0", lambda: learned_model.ModelConfig(fit_steps=0), "fit_steps"),
        ("ModelConfig hidden float", lambda: learned_model.ModelConfig(hidden=2.5), "hidden"),
        ("ModelConfig batch 0", lambda: learned_model.ModelConfig(batch_size=0), "batch_size"),
        ("ModelConfig lr negative", lambda: learned_model.ModelConfig(learning_rate=-1e-3), "learning_rate"),
        ("ModelConfig lr str", lambda: learned_model.ModelConfig(learning_rate="1e-3"), "learning_rate"),
        ("ModelConfig decay nan", lambda: learned_model.ModelConfig(weight_decay=float("nan")), "weight_decay"),
        ("PlannerConfig horizon 0", lambda: learned_model.PlannerConfig(horizon=0), "horizon"),
        ("PlannerConfig iterations 0", lambda: learned_model.PlannerConfig(iterations=0), "iterations"),
        ("PlannerConfig elite > population", lambda: learned_model.PlannerConfig(population=10, n_elite=20),
         "n_elite"),
        ("PlannerConfig smoothing 5", lambda: learned_model.PlannerConfig(smoothing=5.0), "smoothing"),
        ("PlannerConfig smoothing 1", lambda: learned_model.PlannerConfig(smoothing=1.0), "smoothing"),
        ("PlannerConfig replaced", lambda: dataclasses.replace(learned_model.CONFIGS["Pendulum-v1"], horizon=-1),
         "horizon"),
        ("TaskSpec discrete int", lambda: learned_model.TaskSpec(1, -1.0, 1.0, False, 3), "discrete"),
        ("TaskSpec high below low", lambda: learned_model.TaskSpec(False, 1.0, -1.0, False, 3), "action_high"),
        ("TaskSpec episodes 0", lambda: learned_model.TaskSpec(False, -1.0, 1.0, False, 0), "max_episodes"),
        ("known_reward env", lambda: learned_model.known_reward("Acrobot-v1"), "env_id"),
        ("mpc_runs env", lambda: learned_model.mpc_runs("MountainCar-v0", [0]), "env_id"),
        ("mpc_runs reward", lambda: learned_model.mpc_runs("Pendulum-v1", [0], reward="given"), "reward"),
        ("mpc_runs seeds repeated", lambda: learned_model.mpc_runs("Pendulum-v1", [0, 0]), "seeds"),
        ("mpc_runs episodes 0", lambda: learned_model.mpc_runs("Pendulum-v1", [0], n_episodes=0), "n_episodes"),
        ("mpc_runs planner tuple", lambda: learned_model.mpc_runs("Pendulum-v1", [0], planner=(2, 3)), "planner"),
        ("mpc_runs model str", lambda: learned_model.mpc_runs("Pendulum-v1", [0], model="small"), "model"),
        ("Ensemble config", lambda: learned_model.Ensemble(3, 2, "config", [__import__("torch").Generator()]),
         "config"),
        ("Ensemble no generators", lambda: learned_model.Ensemble(3, 2, learned_model.ModelConfig(), []),
         "generators"),
        ("cem_plan spec", lambda: learned_model.cem_plan(lambda s, a: s, "spec", __import__("torch").zeros(1, 1, 3),
                                                         __import__("torch").zeros(1, 1, 20),
                                                         learned_model.CONFIGS["Pendulum-v1"],
                                                         [__import__("torch").Generator()]), "spec"),
        ("cem_plan obs array", lambda: learned_model.cem_plan(lambda s, a: s, learned_model.TASK_SPECS["Pendulum-v1"],
                                                              np.zeros((1, 1, 3)), np.zeros((1, 1, 20)),
                                                              learned_model.CONFIGS["Pendulum-v1"],
                                                              [__import__("torch").Generator()]), "obs"),
    ],
    "plotting": [
        ("color_for family", lambda: plotting.color_for("PPO", "deep"), "family"),
        ("median_band 1d", lambda: plotting.median_band([1, 2, 3]), "curves"),
        ("median_band band", lambda: plotting.median_band([[1, 2]], band=(0.8, 0.2)), "band"),
        ("median_band band range", lambda: plotting.median_band([[1, 2]], band=(-0.1, 0.5)), "band"),
        ("plot_median_band shape", lambda: plotting.plot_median_band(_ax(), [1, 2, 3], [[1, 2]], name="a",
                                                                     family="ce"), "x has shape"),
        ("plot_median_band lo only", lambda: plotting.plot_median_band(_ax(), [1, 2], [1, 2], name="a", family="ce",
                                                                       lo=[0, 0]), "lo and hi"),
        ("plot_median_band family", lambda: plotting.plot_median_band(_ax(), [1, 2], [[1, 2]], name="a",
                                                                      family="x"), "family"),
        ("plot_scaling rows", lambda: plotting.plot_scaling(_ax(), [1, 2], {"a": [[1, 2]]}, {"a": "ce"}), "hits"),
        ("plot_scaling families", lambda: plotting.plot_scaling(_ax(), [1], {"a": [[1, 2]]}, {}), "families"),
        ("plot_scaling misses", lambda: plotting.plot_scaling(_ax(), [1], {"a": [[np.inf, 2]]}, {"a": "ce"}),
         "budgets"),
        ("plot_scaling budgets shape", lambda: plotting.plot_scaling(_ax(), [1, 2], {"a": [[1.0], [2.0]]}, {"a": "ce"},
                                                                     budgets=[1, 2, 3]), "budgets"),
        ("plot_median_band name", lambda: plotting.plot_median_band(_ax(), [1, 2], [[1, 2]], name=3, family="ce"),
         "name"),
        ("color_for name", lambda: plotting.color_for(None, "ce"), "name"),
        ("median_band str", lambda: plotting.median_band("abc"), "curves"),
        ("plot_scaling level", lambda: plotting.plot_scaling(_ax(), [1], {"a": [[1, 2]]}, {"a": "ce"}, level=2),
         "level"),
        ("color_for empty name", lambda: plotting.color_for("", "ce"), "name"),
        ("median_band three quantiles", lambda: plotting.median_band([[1, 2]], band=(0.1, 0.5, 0.9)), "band"),
        ("median_band band str", lambda: plotting.median_band([[1, 2]], band="ab"), "band"),
        ("median_band no runs", lambda: plotting.median_band(np.zeros((0, 3))), "curves"),
        ("plot_median_band no axes", lambda: plotting.plot_median_band(None, [1, 2], [[1, 2]], name="a", family="ce"),
         "ax"),
        ("plot_median_band lo shape", lambda: plotting.plot_median_band(_ax(), [1, 2], [1, 2], name="a", family="ce",
                                                                        lo=[0], hi=[1, 2]), "lo"),
        ("plot_median_band x nan", lambda: plotting.plot_median_band(_ax(), [np.nan, 2], [[1, 2]], name="a",
                                                                     family="ce"), "x"),
        ("plot_scaling hits list", lambda: plotting.plot_scaling(_ax(), [1], [[1, 2]], {"a": "ce"}), "hits"),
        ("plot_scaling families list", lambda: plotting.plot_scaling(_ax(), [1], {"a": [[1, 2]]}, ["ce"]), "families"),
        ("figure_legibility not a figure", lambda: plotting.figure_legibility(_ax()), "fig"),
        ("figure_legibility column", lambda: plotting.figure_legibility(_ax().figure, column_px=0), "column_px"),
    ],
    "dfo": [
        ("make_quadratic dim", lambda: dfo.make_quadratic(0), "dim"),
        ("cma_es explore", lambda: dfo.cma_es(dfo.make_quadratic(3), 100, explore=-1.0), "explore"),
        ("cma_es popsize_factor", lambda: dfo.cma_es(dfo.make_quadratic(3), 100, explore=1.0, popsize_factor=1.5),
         "popsize_factor"),
        ("cma_es mirrored population", lambda: dfo.cma_es(dfo.make_quadratic(1), 100, explore=1.0), "popsize_factor"),
        ("dimension_sweep methods", lambda: dfo_study.dimension_sweep(methods=("CMA",)), "methods"),
        ("cma_record mismatch", lambda: dfo_study.cma_record({"dims": [2], "problem": "quadratic", "target": 0.01},
                                                       {"dims": [4], "problem": "quadratic", "target": 0.01}), "cma"),
        ("make_quadratic dim str", lambda: dfo.make_quadratic("8"), "dim"),
        ("make_quadratic condition", lambda: dfo.make_quadratic(3, condition=0.5), "condition"),
        ("make_logistic reg", lambda: dfo.make_logistic(3, reg=-1), "reg"),
        ("StochasticQuadratic curvature", lambda: dfo.StochasticQuadratic([-1.0], [0.0], 0.1, [0.0]), "curvature"),
        ("StochasticQuadratic spread", lambda: dfo.StochasticQuadratic([1.0], [0.0], -0.1, [0.0]), "spread"),
        ("StochasticLogistic labels", lambda: dfo.StochasticLogistic(np.ones((3, 2)), [0, 1, 1], 0.1, np.zeros(2),
                                                                     np.zeros(2), 0.0), "labels"),
        ("reinforce step str", lambda: dfo.reinforce(_quad(), 100, step="big", explore=0.1, batch=4), "step"),
        ("reinforce explore nan", lambda: dfo.reinforce(_quad(), 100, step=0.1, explore=np.nan, batch=4), "explore"),
        ("reinforce batch 1", lambda: dfo.reinforce(_quad(), 100, step=0.1, explore=0.1, batch=1), "batch"),
        ("reinforce budget", lambda: dfo.reinforce(_quad(), 3, step=0.1, explore=0.1, batch=4), "budget"),
        ("reinforce obj", lambda: dfo.reinforce("quad", 100, step=0.1, explore=0.1, batch=4), "obj"),
        ("random_search top", lambda: dfo.random_search(_quad(), 100, step=0.1, explore=0.1, n_dirs=2, top=3), "top"),
        ("local_model batch", lambda: dfo.local_model(_quad(), 100, step=0.1, explore=0.1, batch=2), "batch"),
        ("model_based growth", lambda: dfo.model_based(_quad(), 100, growth=1.0), "growth"),
        ("tune method", lambda: dfo_study.tune("annealing", _quad(), budget=100, target=0.1), "method"),
        ("tune target", lambda: dfo_study.tune("REINFORCE", _quad(), budget=100, target=-0.1), "target"),
        ("dimension_sweep target", lambda: dfo_study.dimension_sweep(dims=(2,), target=1.5), "target"),
        ("run_batch seeds", lambda: dfo_study.run_batch("REINFORCE", _quad(), 100, [dict(step=0.1, explore=0.1, batch=4)],
                                                  [-1]), "seeds"),
        ("sweep_record information", lambda: dfo_study.sweep_record({}, "t", "some"), "information"),
        ("loglog_slope dims", lambda: dfo_study.loglog_slope([2], [[1.0]]), "dims"),
    ],
    "bandits": [
        ("TsallisINF c", lambda: bandits.TsallisINF(c=0.0), "c must"),
        ("TsallisINF estimator", lambda: bandits.TsallisINF(estimator="x"), "estimator"),
        ("EXP3 c", lambda: bandits.EXP3(c="1"), "c must"),
        ("tsallis_weights eta", lambda: bandits.tsallis_weights([0.0, 1.0], -1.0), "eta"),
        ("tune_policy_learner name", lambda: bandits_study.tune_policy_learner("UCB"), "name must"),
        ("Bernoulli >1", lambda: bandits.BernoulliBandit([0.5, 1.5]), "probabilities"),
        ("Bernoulli one arm", lambda: bandits.BernoulliBandit([0.5]), "K >= 2"),
        ("Bernoulli str", lambda: bandits.BernoulliBandit("ab"), "means"),
        ("Gaussian sigma -1", lambda: bandits.GaussianBandit([0.0, 1.0], sigma=-1), "sigma"),
        ("Gaussian sigma str", lambda: bandits.GaussianBandit([0.0, 1.0], sigma="1"), "sigma"),
        ("Gaussian nan", lambda: bandits.GaussianBandit([0.0, np.nan]), "finite"),
        ("EpsilonGreedy 1.5", lambda: bandits.EpsilonGreedy(1.5), "epsilon"),
        ("EpsilonGreedy str", lambda: bandits.EpsilonGreedy("0.1"), "epsilon"),
        ("UCB c", lambda: bandits.UCB(c=-1), "c must"),
        ("KLUCB steps", lambda: bandits.KLUCB(0), "bisection_steps"),
        ("GradientBandit alpha", lambda: bandits.GradientBandit(0), "alpha"),
        ("GradientBandit baseline", lambda: bandits.GradientBandit(0.1, baseline="yes"), "baseline"),
        ("ETC m", lambda: bandits.ExploreThenCommit(0), "m must"),
        ("simulate horizon", lambda: bandits.simulate(bandits.UCB(), bandits.BernoulliBandit([0.5, 0.4]), 0, 2, 0),
         "horizon"),
        ("simulate seed", lambda: bandits.simulate(bandits.UCB(), bandits.BernoulliBandit([0.5, 0.4]), 5, 2, None),
         "seed"),
        ("simulate bandit", lambda: bandits.simulate(bandits.UCB(), [0.5, 0.4], 5, 2, 0), "bandit"),
        ("lai_robbins 0", lambda: bandits.lai_robbins_constant([0.5, 0.0]), "means"),
        ("etc bound m", lambda: bandits_study.etc_regret_bound(0.5, 10, 6), "m must"),
        ("etc_experiment deltas", lambda: bandits_study.etc_experiment([0.0, 0.5], n=10, n_runs=2), "deltas"),
        ("headline seeds", lambda: bandits_study.headline(n_seeds=1), "n_seeds"),
    ],
    "contextual": [
        ("PG baseline", lambda: contextual.SoftmaxPolicyGradient(0.1, baseline="critic"), "baseline"),
        ("tune baseline", lambda: contextual_bandits_study.tune_policy_gradient(baseline="none"), "baseline"),
        ("LinearBandit theta", lambda: contextual.LinearBandit(np.ones((1, 3)), 1.0, 0.5), "theta"),
        ("LinearBandit noise", lambda: contextual.LinearBandit(np.ones((2, 3)), 1.0, -0.5), "noise"),
        ("LinearBandit spread", lambda: contextual.LinearBandit(np.ones((2, 3)), -1.0, 0.5), "spread"),
        ("LinearBandit spread str", lambda: contextual.LinearBandit(np.ones((2, 3)), "1", 0.5), "spread"),
        ("random n_arms", lambda: contextual.LinearBandit.random(n_arms=1), "n_arms"),
        ("random dim", lambda: contextual.LinearBandit.random(dim=1), "dim"),
        ("Classification labels", lambda: contextual.ClassificationBandit(np.ones((3, 2)), [0.5, 1, 0]), "labels"),
        ("Classification shapes", lambda: contextual.ClassificationBandit(np.ones((3, 2)), [0, 1]), "labels"),
        ("GreedyLS reg", lambda: contextual.GreedyLS(reg=0), "reg"),
        ("LinUCB alpha", lambda: contextual.LinUCB(alpha=-1), "alpha"),
        ("LinearThompson scale", lambda: contextual.LinearThompson(scale=0), "scale"),
        ("PG alpha inf", lambda: contextual.SoftmaxPolicyGradient(np.inf), "alpha"),
        ("simulate horizon", lambda: contextual.simulate(contextual.GreedyLS(), contextual.LinearBandit.random(), 0, 2,
                                                        0), "horizon"),
        ("simulate env", lambda: contextual.simulate(contextual.GreedyLS(), "digits", 5, 2, 0), "env"),
        ("digits n_components", lambda: contextual.digits_bandit(n_components=0), "n_components"),
        ("diversity spreads", lambda: contextual_bandits_study.diversity_sweep(spreads=[-1.0]), "spreads"),
        ("headline seeds", lambda: contextual_bandits_study.headline(n_seeds=0), "n_seeds"),
        ("digits_ceiling env", lambda: contextual.digits_ceiling("digits"), "env"),
        ("digits_ceiling folds", lambda: contextual.digits_ceiling(contextual.digits_bandit(), folds=1), "folds"),
        ("simulate agent name", lambda: contextual.simulate("greedy", contextual.LinearBandit.random(), 5, 2, 0),
         "agent"),
    ],
    "mdp": [
        ("TabularMDP P", lambda: mdp.TabularMDP(np.full((2, 1, 2), 0.6), np.zeros((2, 1)), [0.5, 0.5]), "P must"),
        ("TabularMDP R", lambda: mdp.TabularMDP(np.full((2, 1, 2), 0.5), np.zeros((3, 1)), [0.5, 0.5]), "R must"),
        ("TabularMDP mu", lambda: mdp.TabularMDP(np.full((2, 1, 2), 0.5), np.zeros((2, 1)), [0.5, 0.6]), "mu"),
        ("TabularMDP P str", lambda: mdp.TabularMDP("P", np.zeros((2, 1)), [0.5, 0.5]), "P must"),
        ("gamma 1", lambda: mdp.value_iteration(_lake(), 1.0), "gamma"),
        ("gamma str", lambda: mdp.value_iteration(_lake(), "0.9"), "gamma"),
        ("tol", lambda: mdp.value_iteration(_lake(), 0.9, tol=0), "tol"),
        ("policy shape", lambda: mdp.policy_evaluation(_lake(), np.zeros(3, int), 0.9), "policy"),
        ("policy iteration type", lambda: mdp.policy_iteration("lake", 0.9), "mdp"),
        ("frozen_lake map", lambda: mdp.frozen_lake("5x5"), "map_name"),
        ("generative n_max", lambda: mdp.generative_experiment(_lake(), 0.9, 0, 2), "n_max"),
        ("generative schedule", lambda: mdp.generative_experiment(_lake(), 0.9, 5, 2, schedules=[("cosine", 1.0)]),
         "kind"),
        ("online budget", lambda: mdp.online_experiment(_lake(), 0.9, 0, [("q-learning", 0.1, 0.1)], 2), "budget"),
        ("online method", lambda: mdp.online_experiment(_lake(), 0.9, 10, [("sarsa", 0.1)], 2), "method"),
        ("online epsilon", lambda: mdp.online_experiment(_lake(), 0.9, 10, [("q-learning", 0.1, 2.0)], 2), "epsilon"),
        ("generative_sweep lake", lambda: mdps_study.generative_sweep("9x9"), "lake"),
        ("online_sweep gammas", lambda: mdps_study.online_sweep("4x4", gammas=(1.2,)), "gamma"),
        ("horizon_scaling", lambda: mdps_study.horizon_scaling([{}]), "sweep"),
        ("EmpiricalModel sizes", lambda: mdp.EmpiricalModel(0, 3, 2), "batch"),
        ("Sampler type", lambda: mdp.Sampler("lake"), "mdp"),
    ],
    "lqr": [
        ("rollout_horizon tolerance", lambda: lqr.rollout_horizon(_prob(), 0.0), "tolerance"),
        ("rollout_horizon problem", lambda: lqr.rollout_horizon("system"), "problem"),
        ("dare B rows", lambda: lqr.dare(np.eye(2), np.ones((3, 1)), np.eye(2), np.eye(1)), "B must have 2 rows"),
        ("dare R", lambda: lqr.dare(np.eye(2), np.eye(2), np.eye(2), -np.eye(2)), "R must"),
        ("LQRProblem unstabilizable", lambda: lqr.LQRProblem(np.diag([2.0, 0.5]), np.array([[0.0], [1.0]]), np.eye(2),
                                                            np.eye(1), "p"), "stabilizable"),
        ("LQRProblem name", lambda: lqr.LQRProblem(np.eye(1), np.eye(1), np.eye(1), np.eye(1), ""), "name"),
        ("lqr_cost W", lambda: lqr.lqr_cost(_prob().A, _prob().B, _prob().Q, _prob().R, np.zeros((1, 2)),
                                            W=-np.eye(2)), "W must"),
        ("lqr_cost K shape", lambda: lqr.lqr_cost(np.eye(2), np.eye(2), np.eye(2), np.eye(2), np.zeros((3, 3))), "K must"),
        ("fit_dynamics too few", lambda: lqr.fit_dynamics(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3))), "X"),
        ("rollouts n", lambda: lqr.rollouts(np.eye(2), np.eye(2), 0, 5, 0), "n_rollouts"),
        ("rollouts sigma_w", lambda: lqr.rollouts(np.eye(2), np.eye(2), 1, 5, 0, sigma_w=-1.0), "sigma_w"),
        ("rollouts K shape", lambda: lqr.rollouts(np.eye(2), np.eye(2), 1, 5, 0, K=np.zeros((1, 2))), "K must"),
        ("random_search step", lambda: lqr.random_search(_prob(), 100, step=-1.0, explore=0.1), "step"),
        ("relative_errors shape", lambda: lqr.relative_errors(_prob(), np.zeros((3, 2, 2))), "gains"),
        ("relative_errors str", lambda: lqr.relative_errors(_prob(), "K"), "gains"),
        ("relative_errors problem", lambda: lqr.relative_errors("double integrator", np.zeros((1, 2))), "problem"),
        ("random_search step nan", lambda: lqr.random_search(_prob(), 100, step=np.nan, explore=0.1), "step"),
        ("random_search budget", lambda: lqr.random_search(_prob(), 5, step=0.1, explore=0.1), "budget"),
        ("random_search seed", lambda: lqr.random_search(_prob(), 100, step=0.1, explore=0.1, seed=None), "seed"),
        ("policy_gradient batch 0", lambda: lqr.policy_gradient(_prob(), 100, step=0.1, explore=0.1, batch=0), "batch"),
        ("policy_gradient checkpoints", lambda: lqr.policy_gradient(_prob(), 100, step=0.1, explore=0.1,
                                                                    checkpoints=[50, 20]), "checkpoints"),
        ("lspi K0", lambda: lqr.lspi(_prob(), np.zeros((10, 2)), np.zeros((10, 1)), np.zeros((10, 2)), np.zeros((2, 2))),
         "K0"),
        ("nominal_ce problem", lambda: lqr.nominal_ce("double integrator", 5, 0), "problem"),
        ("problem name", lambda: lqr_study.problem("cart"), "name"),
        ("comparison name", lambda: lqr_study.comparison("cart"), "name"),
        ("best_rollout_gain horizon", lambda: lqr.best_rollout_gain(_prob(), 0), "horizon"),
        ("natural_policy_gradient radius", lambda: lqr.natural_policy_gradient(_prob(), 100, step=0.1, radius=-1.0),
         "radius"),
        ("natural_policy_gradient K0", lambda: lqr.natural_policy_gradient(_prob(), 100, step=0.1, radius=0.1,
                                                                            K0=np.eye(3)), "K0"),
        ("random_search per-run step", lambda: lqr.random_search(_prob(), 100, step=[0.1, 0.1], explore=0.1), "step"),
        ("lqr_gradient unstable", lambda: lqr.lqr_gradient(_prob(), np.zeros((1, 2))), "K must stabilize"),
        ("fit_cost rows", lambda: lqr.fit_cost(np.zeros((10, 2)), np.zeros((10, 1)), np.zeros(9)), "costs"),
        ("stage_costs shape", lambda: lqr.stage_costs(_prob(), np.zeros((10, 3)), np.zeros((10, 1))), "X, U"),
        ("nominal_ce cost", lambda: lqr.nominal_ce(_prob(), 5, 0, cost="true"), "cost"),
        ("learning_curves start", lambda: lqr_study.learning_curves(_prob(), 10, 2, start="cold"), "start"),
    ],
    "robust": [
        ("headline seeds", lambda: robust_control_study.headline(n_seeds=1), "n_seeds"),
        ("transitions_to_safe key", lambda: robust_control_study.transitions_to_safe({}, "cma"), "key"),
        ("data_sweep seed_start", lambda: robust_control_study.data_sweep(seed_start=-1), "seed_start"),
        ("bootstrap delta", lambda: robust.bootstrap_errors(np.eye(2), np.eye(2), 5, 6, 1.0, 0, delta=1.5), "delta"),
        ("bootstrap n_boot", lambda: robust.bootstrap_errors(np.eye(2), np.eye(2), 5, 6, 1.0, 0, n_boot=1), "n_boot"),
        ("bootstrap sigma_w", lambda: robust.bootstrap_errors(np.eye(2), np.eye(2), 5, 6, -1.0, 0), "sigma_w"),
        ("bootstrap seed", lambda: robust.bootstrap_errors(np.eye(2), np.eye(2), 5, 6, 1.0, None), "seed"),
        ("sls eps_A", lambda: robust.sls_synthesis(np.eye(2), np.eye(2), np.eye(2), np.eye(2), -0.1, 0.1), "eps_A"),
        ("sls eps_B str", lambda: robust.sls_synthesis(np.eye(2), np.eye(2), np.eye(2), np.eye(2), 0.1, "x"), "eps_B"),
        ("sls fir", lambda: robust.sls_synthesis(np.eye(2), np.eye(2), np.eye(2), np.eye(2), 0.1, 0.1, fir=1), "fir"),
        ("sls gammas", lambda: robust.sls_synthesis(np.eye(2), np.eye(2), np.eye(2), np.eye(2), 0.1, 0.1,
                                                    gammas=(1.5,)), "gammas"),
        ("sls gammas str", lambda: robust.sls_synthesis(np.eye(2), np.eye(2), np.eye(2), np.eye(2), 0.1, 0.1,
                                                        gammas="0.5"), "gammas"),
        ("sls solver", lambda: robust.sls_synthesis(np.eye(2), np.eye(2), np.eye(2), np.eye(2), 0.1, 0.1,
                                                    solver="MOSEK"), "solver"),
        ("static eps", lambda: robust.robust_static_gain(np.eye(2), np.eye(2), np.eye(2), np.eye(2), np.nan, 0.1),
         "eps_A"),
        ("static Q", lambda: robust.robust_static_gain(np.eye(2), np.eye(2), -np.eye(2), np.eye(2), 0.1, 0.1), "Q must"),
        ("sample_uncertainty n", lambda: robust.sample_uncertainty(np.eye(2), np.eye(2), 0.1, 0.1, 0, 0), "n must"),
        ("sample_uncertainty eps", lambda: robust.sample_uncertainty(np.eye(2), np.eye(2), -0.1, 0.1, 2, 0), "eps_A"),
        ("data_sweep name", lambda: robust_control_study.data_sweep("cart"), "name"),
        ("data_sweep counts", lambda: robust_control_study.data_sweep("laplacian", counts=(0,)), "counts"),
        ("data_sweep counts large", lambda: robust_control_study.data_sweep("laplacian", counts=(10_000,)), "counts"),
        ("fir_floor name", lambda: robust_control_study.fir_floor("cart"), "name"),
    ],
    "gym_tasks": [
        ("make_vector_env id", lambda: gym_tasks.make_vector_env("NoSuchEnv-v9", 2), "env_id"),
        ("make_vector_env id type", lambda: gym_tasks.make_vector_env(3, 2), "env_id"),
        ("make_vector_env n", lambda: gym_tasks.make_vector_env("CartPole-v1", 0), "n must"),
        ("run_episodes policy", lambda: gym_tasks.run_episodes(3, "CartPole-v1", 1), "policy"),
        ("run_episodes n", lambda: gym_tasks.run_episodes(lambda o: 0, "CartPole-v1", 0), "n_episodes"),
        ("run_episodes seed", lambda: gym_tasks.run_episodes(lambda o: 0, "CartPole-v1", 1, seed=-1), "seed"),
        ("run_episodes seed None", lambda: gym_tasks.run_episodes(lambda o: 0, "CartPole-v1", 1, seed=None), "seed"),
        ("run_episodes abort", lambda: gym_tasks.run_episodes(lambda o: 0, "CartPole-v1", 1, abort_below="x"),
         "abort_below"),
        ("random_transitions id", lambda: gym_tasks.random_transitions("NoSuchEnv-v9", 2), "env_id"),
        ("random_transitions n", lambda: gym_tasks.random_transitions("CartPole-v1", 0), "n must"),
        ("random_transitions seed", lambda: gym_tasks.random_transitions("CartPole-v1", 2, seed=1.5), "seed"),
        ("evaluation_seed", lambda: gym_tasks.evaluation_seed(-2), "seed"),
        ("evaluation_seed str", lambda: gym_tasks.evaluation_seed("0"), "seed"),
        ("evaluate env", lambda: gym_tasks.evaluate(lambda o: 0, "MountainCar-v0", 0), "env_id"),
        ("evaluate seed", lambda: gym_tasks.evaluate(lambda o: np.zeros(len(o), int), "CartPole-v1", -1), "seed"),
        ("evaluate seed with no policy", lambda: gym_tasks.evaluate(None, "CartPole-v1", -3), "seed"),
        ("evaluate policy not callable", lambda: gym_tasks.evaluate(3, "CartPole-v1", 0), "policy"),
        ("evaluate seed float", lambda: gym_tasks.evaluate(None, "Pendulum-v1", 0.5), "seed"),
        ("make_vector_env n float", lambda: gym_tasks.make_vector_env("CartPole-v1", 2.0), "n must"),
        ("random_transitions n str", lambda: gym_tasks.random_transitions("CartPole-v1", "5"), "n must"),
    ],
    "known_form": [
        ("fit_cartpole model", lambda: known_form.fit_cartpole(np.zeros((3, 4)), np.zeros(3, int), np.zeros((3, 4)),
                                                                    "quadratic"), "model"),
        ("fit_cartpole actions", lambda: known_form.fit_cartpole(np.zeros((3, 4)), [0, 2, 1], np.zeros((3, 4))),
         "actions"),
        ("fit_cartpole shape", lambda: known_form.fit_cartpole(np.zeros((3, 3)), np.zeros(3, int),
                                                                    np.zeros((3, 3))), "obs"),
        ("fit_cartpole nan", lambda: known_form.fit_cartpole(np.full((3, 4), np.nan), np.zeros(3, int),
                                                                  np.zeros((3, 4))), "obs"),
        ("fit_pendulum shape", lambda: known_form.fit_pendulum(np.zeros((3, 4)), np.zeros(3), np.zeros((3, 4)),
                                                                    np.zeros(3)), "obs"),
        ("fit_pendulum rewards", lambda: known_form.fit_pendulum(np.ones((3, 3)), np.zeros(3), np.ones((3, 3)),
                                                                      np.zeros(2)), "rewards"),
        ("fit_pendulum nan", lambda: known_form.fit_pendulum(np.ones((3, 3)), [0, np.nan, 0], np.ones((3, 3)),
                                                                  np.zeros(3)), "finite"),
        ("plan gamma", lambda: known_form.plan_pendulum(known_form.PendulumModel(1.0, 1.0, 0.05, np.ones(3)),
                                                             gamma=1.0), "gamma"),
        ("plan grid", lambda: known_form.plan_pendulum(known_form.PendulumModel(1.0, 1.0, 0.05, np.ones(3)),
                                                            n_grid=2), "n_grid"),
        ("plan tol", lambda: known_form.plan_pendulum(known_form.PendulumModel(1.0, 1.0, 0.05, np.ones(3)),
                                                           tol=0.0), "tol"),
        ("plan model", lambda: known_form.plan_pendulum("pendulum"), "model"),
        ("controller type", lambda: known_form.cartpole_controller("A"), "fitted"),
        ("sweep env", lambda: known_form.sweep("MountainCar-v0", [0, 1]), "env_id"),
        ("sweep model", lambda: known_form.sweep("CartPole-v1", [0, 1], model="nonlinear"), "model"),
        ("sweep sizes", lambda: known_form.sweep("CartPole-v1", [0, 1], sizes=()), "sizes"),
        ("cartpole_trial n", lambda: known_form.cartpole_trial(0, 0), "n must"),
        ("cartpole_controller Q shape", lambda: known_form.cartpole_controller(known_form.cartpole_linearization(),
                                                                              Q=np.eye(3)), "Q"),
        ("cartpole_controller Q str", lambda: known_form.cartpole_controller(known_form.cartpole_linearization(),
                                                                            Q="identity"), "Q"),
        ("cartpole_controller R zero", lambda: known_form.cartpole_controller(known_form.cartpole_linearization(),
                                                                             R=[[0.0]]), "R"),
        ("cartpole_controller Q indefinite", lambda: known_form.cartpole_controller(
            known_form.cartpole_linearization(), Q=np.diag([1.0, -1.0, 1.0, 1.0])), "Q"),
        ("cartpole_controller Q nan", lambda: known_form.cartpole_controller(known_form.cartpole_linearization(),
                                                                            Q=np.full((4, 4), np.nan)), "Q"),
    ],
    "ppo": [
        ("config n_envs", lambda: ppo.PPOConfig(n_envs=0), "n_envs"),
        ("config gamma", lambda: ppo.PPOConfig(gamma=1.5), "gamma"),
        ("config lr", lambda: ppo.PPOConfig(learning_rate=0.0), "learning_rate"),
        ("config clip", lambda: ppo.PPOConfig(clip=-0.2), "clip"),
        ("config vf_coef", lambda: ppo.PPOConfig(vf_coef=-1.0), "vf_coef"),
        ("config ent str", lambda: ppo.PPOConfig(ent_coef="0.01"), "ent_coef"),
        ("config max_grad_norm", lambda: ppo.PPOConfig(max_grad_norm=0.0), "max_grad_norm"),
        ("config target_kl", lambda: ppo.PPOConfig(target_kl=-0.01), "target_kl"),
        ("config anneal", lambda: ppo.PPOConfig(anneal="yes"), "anneal"),
        ("config hidden 0", lambda: ppo.PPOConfig(hidden=(0,)), "hidden"),
        ("config hidden list", lambda: ppo.PPOConfig(hidden=[64]), "hidden"),
        ("gae gamma", lambda: ppo.gae(np.zeros((2, 1)), np.zeros((2, 1)), np.zeros((2, 1)), np.zeros(1), 2.0, 0.9),
         "gamma"),
        ("gae dones", lambda: ppo.gae(np.zeros((2, 1)), np.zeros((2, 1)), np.full((2, 1), 0.5), np.zeros(1), 0.9, 0.9),
         "dones"),
        ("gae shapes", lambda: ppo.gae(np.zeros((2, 1)), np.zeros((3, 1)), np.zeros((2, 1)), np.zeros(1), 0.9, 0.9),
         "same shape"),
        ("surrogate clip", lambda: ppo.clipped_surrogate(*[__import__("torch").zeros(3)] * 3, clip=0), "clip"),
        ("surrogate type", lambda: ppo.clipped_surrogate(np.zeros(3), np.zeros(3), np.zeros(3), 0.2), "new_logp"),
        ("train seed None", lambda: ppo.train("CartPole-v1", 100, seed=None), "seed"),
        ("train seed str", lambda: ppo.train("CartPole-v1", 100, seed="0"), "seed"),
        ("train steps str", lambda: ppo.train("CartPole-v1", "100", seed=0), "total_timesteps"),
        ("train config", lambda: ppo.train("CartPole-v1", 100, seed=0, config={}), "config"),
        ("train env", lambda: ppo.train("NoSuchEnv-v9", 100, seed=0), "env_id"),
        ("run env", lambda: ppo_study.run("MountainCar-v0", 0), "env_id"),
        ("run changes", lambda: ppo_study.run("CartPole-v1", 0, changes={"clipping": 0.1}), "changes"),
        ("rolling_return window", lambda: ppo_study.rolling_return([1], [1.0], [1], window=0), "window"),
    ],
    "studies.deep_rl": [
        ("stored_runs seeds as a string", lambda: deep_rl_study.stored_runs("SAC", "Pendulum-v1", "01"), "seeds"),
        ("stored_runs seed negative", lambda: deep_rl_study.stored_runs("SAC", "Pendulum-v1", [-1]), "seeds"),
        ("stored_runs name", lambda: deep_rl_study.stored_runs("A2C", "Pendulum-v1", [0]), "name"),
        ("stored_runs env", lambda: deep_rl_study.stored_runs("SAC", "Acrobot-v1", [0]), "env_id"),
        ("generate missing folder", lambda: deep_rl_study.generate("/no/such/folder/runs.json", seeds=[0]), "path"),
        ("generate repeated seeds", lambda: deep_rl_study.generate("runs.json", seeds=[1, 1]), "seeds"),
        ("generate seeds str", lambda: deep_rl_study.generate("runs.json", seeds="01"), "seeds"),
        ("generate n_jobs 0", lambda: deep_rl_study.generate("runs.json", seeds=[0], n_jobs=0), "n_jobs"),
        ("generate merge str", lambda: deep_rl_study.generate("runs.json", seeds=[0], merge="yes"), "merge"),
        ("generate agents", lambda: deep_rl_study.generate("runs.json", agents=["A2C"], seeds=[0]), "agents"),
        ("rl_runs name", lambda: deep_rl_study.rl_runs("A2C", "Pendulum-v1"), "name"),
        ("rl_runs env", lambda: deep_rl_study.rl_runs("SAC", "CartPole-v1"), "name"),
        ("ce_runs reward", lambda: deep_rl_study.ce_runs("Pendulum-v1", "given"), "reward"),
        ("ce_runs env", lambda: deep_rl_study.ce_runs("Acrobot-v1"), "env_id"),
        ("headline seeds", lambda: deep_rl_study.headline(n_seeds=0), "n_seeds"),
        ("rl_hits name", lambda: deep_rl_study.rl_hits("A2C", "Pendulum-v1"), "name"),
        ("rl_hits seeds str", lambda: deep_rl_study.rl_hits("SAC", "Pendulum-v1", "01"), "seeds"),
        ("ce_runs seeds str", lambda: deep_rl_study.ce_runs("Pendulum-v1", seeds="01"), "seeds"),
        ("ce_runs_all seeds str", lambda: deep_rl_study.ce_runs_all(seeds="01"), "seeds"),
        ("ce_hits runs str", lambda: deep_rl_study.ce_hits("runs"), "runs"),
        ("ce_hits runs empty", lambda: deep_rl_study.ce_hits([]), "runs"),
        ("ce_hits runs keys", lambda: deep_rl_study.ce_hits([{"hit": 3}]), "runs"),
        ("stored_runs unknown seed", lambda: deep_rl_study.stored_runs("SAC", "Pendulum-v1", [98765]), "seeds"),
        ("load_data path", lambda: deep_rl_study.load_data("no/such/runs.json"), "path"),
        ("exact_rerun_expected data", lambda: deep_rl_study.exact_rerun_expected(None), "data"),
        ("generate merge missing", lambda: deep_rl_study.generate("no_such_runs_here.json", seeds=[0], merge=True), "path"),
    ],
    "ars": [
        ("config step", lambda: ars.ARSConfig(step=0.0), "step"),
        ("config step nan", lambda: ars.ARSConfig(step=float("nan")), "step"),
        ("config explore", lambda: ars.ARSConfig(explore=-0.1), "explore"),
        ("config n_dirs", lambda: ars.ARSConfig(n_dirs=0), "n_dirs"),
        ("config n_dirs float", lambda: ars.ARSConfig(n_dirs=4.0), "n_dirs"),
        ("config top above n_dirs", lambda: ars.ARSConfig(n_dirs=4, top=8), "top"),
        ("config top zero", lambda: ars.ARSConfig(top=0), "top"),
        ("config normalize", lambda: ars.ARSConfig(normalize="yes"), "normalize"),
        ("train env", lambda: ars.train(3, 100), "env_id"),
        ("train env unknown", lambda: ars.train("NoSuchEnv-v9", 100), "env_id"),
        ("train steps", lambda: ars.train("CartPole-v1", 0), "total_timesteps"),
        ("train steps float", lambda: ars.train("CartPole-v1", 1e4), "total_timesteps"),
        ("train seed", lambda: ars.train("CartPole-v1", 100, seed="zero"), "seed"),
        ("train config", lambda: ars.train("CartPole-v1", 100, config={"step": 0.1}), "config"),
        ("train callback", lambda: ars.train("CartPole-v1", 100, callback=3), "callback"),
        ("policy std", lambda: ars.LinearPolicy(np.zeros((2, 4)), np.zeros(4), np.zeros(4), True), "std"),
        ("policy mean shape", lambda: ars.LinearPolicy(np.zeros((2, 4)), np.zeros(3), np.ones(4), True), "mean"),
        ("policy weights nan", lambda: ars.LinearPolicy(np.full((2, 4), np.nan), np.zeros(4), np.ones(4), True),
         "weights"),
        ("episode_returns weights count", lambda: ars.episode_returns(ars._batch_env("CartPole-v1", 2),
                                                                      np.zeros((3, 2, 4)), np.zeros(4), np.ones(4), 0),
         "weights"),
        ("episode_returns seed", lambda: ars.episode_returns(ars._batch_env("CartPole-v1", 2), np.zeros((2, 2, 4)),
                                                             np.zeros(4), np.ones(4), -1), "seed"),
        ("episode_returns env", lambda: ars.episode_returns("CartPole-v1", np.zeros((2, 2, 4)), np.zeros(4),
                                                            np.ones(4), 0), "env"),
    ],
    "studies.ppo": [
        ("ars_run seed", lambda: ppo_study.ars_run(-1, {}), "seed"),
        ("ars_run config", lambda: ppo_study.ars_run(0, ars.ARSConfig()), "config"),
        ("ars_run config field", lambda: ppo_study.ars_run(0, {"stepsize": 0.1}), "stepsize"),
        ("ars_run budget", lambda: ppo_study.ars_run(0, {}, budget=0), "budget"),
        ("ars_runs seeds", lambda: ppo_study.ars_runs(0), "n_seeds"),
        ("ppo_tuning_hits env", lambda: ppo_study.ppo_tuning_hits("MountainCar-v0"), "env_id"),
        ("rl_methods env", lambda: ppo_study.rl_methods("MountainCar-v0"), "env_id"),
        ("rl_methods seeds", lambda: ppo_study.rl_methods("CartPole-v1", 1), "n_seeds"),
        ("ce_scores env", lambda: ppo_study.ce_scores("MountainCar-v0"), "env_id"),
        ("ce_scores seeds", lambda: ppo_study.ce_scores("CartPole-v1", n_seeds=0), "n_seeds"),
        ("ce_scores seeds str", lambda: ppo_study.ce_scores("CartPole-v1", n_seeds="3"), "n_seeds"),
        ("ce_scores model", lambda: ppo_study.ce_scores("CartPole-v1", n_seeds=2, model="deep"), "model"),
        ("ce_hits env", lambda: ppo_study.ce_hits("MountainCar-v0", np.zeros((2, 3))), "env_id"),
        ("ce_hits shape", lambda: ppo_study.ce_hits("CartPole-v1", np.zeros((2, 3))), "values"),
        ("ce_hits nan", lambda: ppo_study.ce_hits("Pendulum-v1", np.full((1, 7), np.nan)), "NaN"),
        ("ppo_hits env", lambda: ppo_study.ppo_hits("MountainCar-v0"), "env_id"),
        ("ppo_hits seeds", lambda: ppo_study.ppo_hits("CartPole-v1", 0), "n_seeds"),
        ("headline seeds", lambda: ppo_study.headline(n_seeds=1), "n_seeds"),
        ("headline seeds str", lambda: ppo_study.headline(n_seeds="2"), "n_seeds"),
        ("headline seeds bool", lambda: ppo_study.headline(n_seeds=True), "n_seeds"),
        ("ce_scores seeds neg", lambda: ppo_study.ce_scores("Pendulum-v1", n_seeds=-3), "n_seeds"),
        ("ce_hits str", lambda: ppo_study.ce_hits("CartPole-v1", "scores"), "values"),
        ("ppo_hits seeds float", lambda: ppo_study.ppo_hits("CartPole-v1", 2.0), "n_seeds"),
        ("stored_runs group", lambda: ppo_study.stored_runs("best", "CartPole-v1", [0]), "group"),
        ("stored_runs key", lambda: ppo_study.stored_runs("runs", "Acrobot-v1", [0]), "key"),
        ("stored_runs seeds str", lambda: ppo_study.stored_runs("runs", "CartPole-v1", "01"), "seeds"),
        ("stored_runs seed missing", lambda: ppo_study.stored_runs("runs", "CartPole-v1", [99]), "seeds"),
        ("rerun_stored seed", lambda: ppo_study.rerun_stored("runs", "CartPole-v1", -1), "seed"),
        ("rerun_stored stop_after str", lambda: ppo_study.rerun_stored("runs", "CartPole-v1", 0, "10"), "stop_after"),
        ("generate jobs", lambda: ppo_study.generate(n_jobs=0), "n_jobs"),
        ("generate path", lambda: ppo_study.generate("no/such/folder/runs.json"), "path"),
        ("run stop_after", lambda: ppo_study.run("CartPole-v1", 0, stop_after=0), "stop_after"),
        ("ablations seeds", lambda: ppo_study.ablations(0), "n_seeds"),
    ],
    **({"checkers": [
        ("observation type", lambda: checkers.observation("board"), "state"),
        ("observation game", lambda: checkers.observation(_tictactoe()), "checkers"),
        ("observation over", lambda: checkers.observation(_finished_checkers()), "state"),
        ("decode_action high", lambda: checkers.decode_action(512), "action"),
        ("decode_action float", lambda: checkers.decode_action(3.0), "action"),
        ("flip_action bool", lambda: checkers.flip_action(True), "action"),
        ("to_mover player", lambda: checkers.to_mover(3, 2), "player"),
        ("from_mover player", lambda: checkers.from_mover(3, -1), "player"),
        ("legal_mask type", lambda: checkers.legal_mask(None), "state"),
        ("material player", lambda: checkers.material(checkers.new_game().new_initial_state(), "0"), "player"),
        ("alphabeta depth", lambda: checkers.alphabeta(checkers.new_game().new_initial_state(), 0), "depth"),
        ("alphabeta over", lambda: checkers.alphabeta(_finished_checkers(), 1), "state"),
        ("alphabeta rng", lambda: checkers.alphabeta(checkers.new_game().new_initial_state(), 1, 7), "rng"),
        ("negamax depth", lambda: checkers.negamax(checkers.new_game().new_initial_state(), 1.5), "depth"),
        ("player depth", lambda: checkers.AlphaBetaPlayer(-2), "depth"),
        ("random player seed", lambda: checkers.RandomPlayer(seed=1.5), "seed"),
        ("play_game first", lambda: checkers.play_game(3, checkers.RandomPlayer()), "first"),
        ("play_game opening", lambda: checkers.play_game(checkers.RandomPlayer(), checkers.RandomPlayer(),
                                                         opening_plies="2"), "opening_plies"),
        ("match games", lambda: checkers.match(checkers.RandomPlayer(), checkers.RandomPlayer(), -4), "n_games"),
        ("match a", lambda: checkers.match("alpha-beta", checkers.RandomPlayer(), 2), "a"),
        ("make_player kind", lambda: checkers.make_player("minimax:3"), "spec"),
        ("make_player depth", lambda: checkers.make_player("alphabeta:0"), "spec"),
        ("make_player type", lambda: checkers.make_player(3), "spec"),
    ],
    "checkers_ppo": [
        ("ppo config envs", lambda: _checkers_ppo().CheckersPPOConfig(n_envs=0), "n_envs"),
        ("ppo config channels", lambda: _checkers_ppo().CheckersPPOConfig(channels=[16]), "channels"),
        ("ppo config target", lambda: _checkers_ppo().CheckersPPOConfig(target_score=-0.1), "target_score"),
        ("ppo train steps", lambda: _checkers_ppo().train(0), "total_timesteps"),
        ("ppo train seed", lambda: _checkers_ppo().train(10, seed=-1), "seed"),
        ("ppo train ladder str", lambda: _checkers_ppo().train(10, ladder="random"), "ladder"),
        ("ppo train ladder spec", lambda: _checkers_ppo().train(10, ladder=("random", "alphabeta:x")), "spec"),
        ("ppo network generator", lambda: _checkers_ppo().BoardActorCritic(), "generator"),
        ("ppo player model", lambda: _checkers_ppo().PolicyPlayer(None), "model"),
        ("ppo train record_moves", lambda: _checkers_ppo().train(10, record_moves=-1), "record_moves"),
        ("ppo config steps", lambda: _checkers_ppo().CheckersPPOConfig(n_steps=0), "n_steps"),
        ("ppo config gamma", lambda: _checkers_ppo().CheckersPPOConfig(gamma=1.5), "gamma"),
        ("ppo config lambda", lambda: _checkers_ppo().CheckersPPOConfig(gae_lambda=-0.1), "gae_lambda"),
        ("ppo config lr zero", lambda: _checkers_ppo().CheckersPPOConfig(learning_rate=0.0), "learning_rate"),
        ("ppo config lr str", lambda: _checkers_ppo().CheckersPPOConfig(learning_rate="3e-4"), "learning_rate"),
        ("ppo config clip", lambda: _checkers_ppo().CheckersPPOConfig(clip=0.0), "clip"),
        ("ppo config entropy", lambda: _checkers_ppo().CheckersPPOConfig(ent_coef=float("nan")), "ent_coef"),
        ("ppo config channel 0", lambda: _checkers_ppo().CheckersPPOConfig(channels=(16, 0)), "channels"),
        ("ppo config opening", lambda: _checkers_ppo().CheckersPPOConfig(opening_plies=-1), "opening_plies"),
        ("ppo config eval games", lambda: _checkers_ppo().CheckersPPOConfig(eval_games=0), "eval_games"),
        ("ppo train config", lambda: _checkers_ppo().train(10, config={"n_envs": 2}), "config"),
        ("ppo train seed str", lambda: _checkers_ppo().train(10, seed="0"), "seed"),
        ("ppo network generator int", lambda: _checkers_ppo().BoardActorCritic(generator=0), "generator"),
        ("ppo masked_logits shape", lambda: _checkers_ppo().masked_logits(torch.zeros(2, 512), torch.ones(2, 5, dtype=torch.bool)), "mask"),
        ("ppo masked_logits empty row", lambda: _checkers_ppo().masked_logits(torch.zeros(2, 512), torch.zeros(2, 512, dtype=torch.bool)), "mask"),
    ],
    "studies.checkers": [
        ("study rerun seed", lambda: _checkers_study().rerun_stored(-1), "seed"),
        ("study rerun unreported seed", lambda: _checkers_study().rerun_stored(1000), "seed"),
        ("study rerun evaluations", lambda: _checkers_study().rerun_stored(0, 0), "n_evaluations"),
        ("study rerun too many", lambda: _checkers_study().rerun_stored(0, 10_000), "n_evaluations"),
        ("study live games", lambda: _checkers_study().live_ladder(0), "n_games"),
        ("study headline seeds", lambda: _checkers_study().headline(n_seeds=3), "n_seeds"),
        ("study generate jobs", lambda: _checkers_study().generate(n_jobs=0), "n_jobs"),
        ("study generate path", lambda: _checkers_study().generate("no/such/folder/x.json"), "path"),
        ("study fit_from_ppo seed", lambda: _checkers_study().fit_from_ppo(-1, 1024), "seed"),
        ("study fit_from_ppo moves", lambda: _checkers_study().fit_from_ppo(0, 0), "n_moves"),
        ("study generate_learned jobs", lambda: _checkers_study().generate_learned(n_jobs=0), "n_jobs"),
        ("study generate_learned path", lambda: _checkers_study().generate_learned("no/such/folder/x.json"), "path"),
        ("study load_learned path", lambda: _checkers_study().load_learned("no/such/file.json"), "path"),
        ("study live games str", lambda: _checkers_study().live_ladder("40"), "n_games"),
        ("study headline seeds str", lambda: _checkers_study().headline(n_seeds="5"), "n_seeds"),
        ("study generate jobs str", lambda: _checkers_study().generate(n_jobs="2"), "n_jobs"),
        ("study fit_from_ppo moves str", lambda: _checkers_study().fit_from_ppo(0, "1024"), "n_moves"),
        ("study rerun seed str", lambda: _checkers_study().rerun_stored("0"), "seed"),
        ("study generate_learned jobs negative", lambda: _checkers_study().generate_learned(n_jobs=-3), "n_jobs"),
        ("study load_learned type", lambda: _checkers_study().load_learned(3), "path"),
    ],
    "checkers_model": [
        ("collect_moves count", lambda: _cm().collect_moves(0), "n_moves"),
        ("collect_moves opponent", lambda: _cm().collect_moves(5, "minimax:2"), "spec"),
        ("collect_moves seed", lambda: _cm().collect_moves(5, seed="s"), "seed"),
        ("collect_moves opening", lambda: _cm().collect_moves(5, opening_plies=-1), "opening_plies"),
        ("fit type", lambda: _cm().fit({"obs": []}), "moves"),
        ("fit empty", lambda: _cm().fit(_moves(0)), "moves"),
        ("fit obs shape", lambda: _cm().fit(_moves(3)._replace(obs=np.zeros((3, 5, 8)))), "moves.obs"),
        ("fit mask shape", lambda: _cm().fit(_moves(3)._replace(mask=np.ones((3, 511), bool))), "moves.mask"),
        ("fit next_obs rows", lambda: _cm().fit(_moves(3)._replace(next_obs=np.zeros((2, 5, 8, 8)))), "moves.next_obs"),
        ("fit action range", lambda: _cm().fit(_moves(3)._replace(action=np.array([0, 1, 600]))), "moves.action"),
        ("fit action float", lambda: _cm().fit(_moves(3)._replace(action=np.array([0.0, 1.0, 2.0]))), "moves.action"),
        ("fit mask ints", lambda: _cm().fit(_moves(3)._replace(mask=np.ones((3, 512), int))), "moves.mask"),
        ("fit illegal action", lambda: _cm().fit(_moves(3)._replace(mask=np.zeros((3, 512), bool))), "legal"),
        ("fit epochs", lambda: _cm().fit(_moves(3), epochs=0), "epochs"),
        ("fit batch", lambda: _cm().fit(_moves(3), batch_size=2.5), "batch_size"),
        ("fit lr str", lambda: _cm().fit(_moves(3), lr="1e-3"), "lr"),
        ("fit lr nan", lambda: _cm().fit(_moves(3), lr=float("nan")), "lr"),
        ("fit seed", lambda: _cm().fit(_moves(3), seed=-1), "seed"),
        ("model_search model", lambda: _cm().model_search(None, np.zeros((5, 8, 8)), np.ones(512, bool), 1), "model"),
        ("model_search depth", lambda: _cm().model_search(_tiny_model(), np.zeros((5, 8, 8)), np.ones(512, bool), 0),
         "depth"),
        ("model_search obs", lambda: _cm().model_search(_tiny_model(), np.zeros((8, 8)), np.ones(512, bool), 1), "obs"),
        ("model_search mask empty",
         lambda: _cm().model_search(_tiny_model(), np.zeros((5, 8, 8)), np.zeros(512, bool), 1), "mask"),
        ("model_search mask ints", lambda: _cm().model_search(_tiny_model(), np.zeros((5, 8, 8)), np.ones(512, int), 1),
         "mask"),
        ("player model", lambda: _cm().ModelSearchPlayer("rules", 2), "model"),
        ("player depth", lambda: _cm().ModelSearchPlayer(_tiny_model(), 1.5), "depth"),
        ("player seed", lambda: _cm().ModelSearchPlayer(_tiny_model(), 1, seed=1.5), "seed"),
        ("legal_accuracy model", lambda: _cm().legal_accuracy(None, _moves(3)), "model"),
        ("legal_accuracy moves", lambda: _cm().legal_accuracy(_tiny_model(), [1, 2]), "moves"),
    ]} if importlib.util.find_spec("pyspiel") else {}),  # OpenSpiel ships no wheel for some platforms
    "stored": [
        ("versions str", lambda: stored.versions("torch"), "packages"),
        ("versions ints", lambda: stored.versions([1]), "packages"),
        ("versions missing", lambda: stored.versions(("no_such_package_here",)), "packages"),
        ("check_output_path None", lambda: stored.check_output_path(None), "path"),
        ("check_output_path folder", lambda: stored.check_output_path("no/such/folder/x.json"), "path"),
        ("write settings", lambda: stored.write(_tmp_json(), settings=[], runs={}, command="c"), "settings"),
        ("write runs None", lambda: stored.write(_tmp_json(), settings={}, runs=None, command="c"), "runs"),
        ("write runs object", lambda: stored.write(_tmp_json(), settings={}, runs={"a": object()}, command="c"), "runs"),
        ("write command empty", lambda: stored.write(_tmp_json(), settings={}, runs={}, command=" "), "command"),
        ("write command None", lambda: stored.write(_tmp_json(), settings={}, runs={}, command=None), "command"),
        ("write path", lambda: stored.write("no/such/folder/x.json", settings={}, runs={}, command="c"), "path"),
        ("load name None", lambda: stored.load(None, {}, "c"), "name"),
        ("load name missing", lambda: stored.load("no_such_runs.json", {}, "c"), "name"),
        ("load settings", lambda: stored.load("ppo_runs.json", [], "c"), "settings"),
        ("load path missing", lambda: stored.load("x", {}, "c", "no/such/file.json"), "path"),
        ("load path int", lambda: stored.load("x", {}, "c", 3), "path"),
        ("load path not JSON", lambda: stored.load("x", {}, "c", _tmp_json("not json")), "path"),
        ("load path no runs", lambda: stored.load("x", {}, "c", _tmp_json("[1, 2]")), "path"),
        ("exact_rerun_expected data", lambda: stored.exact_rerun_expected([]), "data"),
        ("exact_rerun_expected kernels", lambda: stored.exact_rerun_expected({"numerics": {}}, kernels=("conv",)),
         "kernels"),
        ("arithmetic kernels str", lambda: stored.arithmetic("mlp"), "kernels"),
        ("arithmetic kernels empty", lambda: stored.arithmetic(()), "kernels"),
        ("arithmetic kernels unknown", lambda: stored.arithmetic(("gpu",)), "kernels"),
        ("generate_args jobs", lambda: stored.generate_args(None, 0, "x.json"), "n_jobs"),
    ],
    "dt": [
        ("fqi iterations", lambda: dt.fitted_q_iteration(dt.random_walks(dt.random_graph(6, 0.4), 3, 0), 6, 0,
                                                          iterations=0), "iterations"),
        ("random_graph n", lambda: dt.random_graph(1), "n must"),
        ("random_graph p", lambda: dt.random_graph(10, 0.0), "p must"),
        ("random_graph goal", lambda: dt.random_graph(10, 0.2, goal=10), "goal"),
        ("shortest_paths goal", lambda: dt.shortest_paths(_graph().adjacency, -1), "goal"),
        ("env slip", lambda: dt.GraphWalkEnv(_graph(), slip=1.5), "slip"),
        ("env graph", lambda: dt.GraphWalkEnv("graph"), "graph"),
        ("walks n", lambda: dt.random_walks(_graph(), 0, 0), "n_walks"),
        ("walks n float", lambda: dt.random_walks(_graph(), 2.5, 0), "n_walks"),
        ("walks slip", lambda: dt.random_walks(_graph(), 5, 0, slip=-0.1), "slip"),
        ("walks seed", lambda: dt.random_walks(_graph(), 5, None), "seed"),
        ("plan walks", lambda: dt.plan_from_data("walks", 12, 0), "walks"),
        ("plan goal", lambda: dt.plan_from_data(_walks(), 12, 20), "goal"),
        ("train steps", lambda: dt.train(_walks(), 12, steps=0), "steps"),
        ("train d_model odd", lambda: dt.train(_walks(), 12, d_model=7), "d_model"),
        ("train n_nodes", lambda: dt.train(_walks(), 5), "n_nodes"),
        ("train seed", lambda: dt.train(_walks(), 12, seed=-1), "seed"),
        ("evaluate policy", lambda: dt.evaluate("greedy", _graph(), _walks()), "policy"),
        ("evaluate max_steps", lambda: dt.evaluate("planner", _graph(), _walks(), max_steps=0), "max_steps"),
        ("evaluate model", lambda: dt.evaluate("dt", _graph(), _walks(), model="net"), "model"),
        ("optimal_success steps", lambda: dt.optimal_success(_graph(), 0.0, 0), "max_steps"),
        ("sweep seeds", lambda: decision_transformers_study.sweep(0), "n_seeds"),
        ("jobs seeds", lambda: decision_transformers_study.jobs("10"), "n_seeds"),
        ("rerun_stored seed", lambda: decision_transformers_study.rerun_stored(-1, 10, 0.0), "seed"),
        ("rerun_stored walks", lambda: decision_transformers_study.rerun_stored(0, "10", 0.0), "n_walks"),
        ("rerun_stored slip", lambda: decision_transformers_study.rerun_stored(0, 10, "0"), "slip"),
        ("rerun_stored missing", lambda: decision_transformers_study.rerun_stored(0, 11, 0.0), "no stored job"),
        ("generate jobs", lambda: decision_transformers_study.generate(n_jobs=0), "n_jobs"),
        ("generate path", lambda: decision_transformers_study.generate("no/such/folder/x.json"), "path"),
    ],
    "reasoning": [
        ("task digits", lambda: reasoning.make_problems(reasoning.AdditionTask(n_digits=0), 3, 0), "n_digits"),
        ("task p_drop", lambda: reasoning.make_problems(reasoning.AdditionTask(p_drop=1.5), 3, 0), "p_drop"),
        ("task type", lambda: reasoning.make_problems("2 digits", 3, 0), "task"),
        ("task styles empty", lambda: reasoning.make_problems(reasoning.AdditionTask(p_careful=()), 3, 0), "p_careful"),
        ("task style share", lambda: reasoning.make_problems(reasoning.AdditionTask(p_careful=(0.4, 1.5)), 3, 0),
         "p_careful"),
        ("task style unstyled", lambda: reasoning.make_problems(reasoning.AdditionTask(style=0), 3, 0), "style"),
        ("task style range", lambda: reasoning.make_problems(reasoning.AdditionTask(p_careful=(0.4, 0.1), style=2), 3, 0),
         "style"),
        ("task style negative", lambda: reasoning.make_problems(reasoning.AdditionTask(p_careful=(0.4,), style=-1), 3, 0),
         "style"),
        ("task style weights unstyled", lambda: reasoning.make_problems(reasoning.AdditionTask(style_weights=(1,)), 3, 0),
         "style_weights"),
        ("task style weights length", lambda: reasoning.make_problems(
            reasoning.AdditionTask(p_careful=(0.4, 0.1), style_weights=(1, 1, 1)), 3, 0), "style_weights"),
        ("task style weights negative", lambda: reasoning.make_problems(
            reasoning.AdditionTask(p_careful=(0.4, 0.1), style_weights=(1, -1)), 3, 0), "style_weights"),
        ("task style weights zero", lambda: reasoning.make_problems(
            reasoning.AdditionTask(p_careful=(0.4, 0.1), style_weights=(0, 0)), 3, 0), "style_weights"),
        ("task style weights type", lambda: reasoning.make_problems(
            reasoning.AdditionTask(p_careful=(0.4, 0.1), style_weights=(1, "a")), 3, 0), "style_weights"),
        ("task carries", lambda: reasoning.make_problems(reasoning.AdditionTask(n_digits=2, carries=3), 3, 0), "carries"),
        ("task carries type", lambda: reasoning.make_problems(reasoning.AdditionTask(carries=1.5), 3, 0), "carries"),
        ("styled prompt", lambda: reasoning.verify(reasoning.AdditionTask(n_digits=1, p_careful=(0.4, 0.1)),
                                                   np.array([[3, 4, 5, 11]]), np.zeros((1, 4), dtype=int)), "style token"),
        ("prompt styles unstyled", lambda: reasoning.prompt_styles(reasoning_study.SETTINGS.task, np.zeros((1, 5), int)),
         "no prompt styles"),
        ("problems n", lambda: reasoning.make_problems(reasoning_study.SETTINGS.task, 0, 0), "n must"),
        ("difficulty axis", lambda: reasoning_study.difficulty("digits"), "axis"),
        ("difficulty table", lambda: reasoning_study.difficulty_table([]), "difficulty"),
        ("difficulty slopes", lambda: reasoning_study.difficulty_slopes({"grpo": 1}), "difficulty"),
        ("difficulty record other", lambda: reasoning_study.difficulty_record("carries", other="grpo"), "other"),
        ("difficulty record level", lambda: reasoning_study.difficulty_record("carries", level=9), "level"),
        ("difficulty record level bool", lambda: reasoning_study.difficulty_record("carries", level=True), "level"),
        ("difficulty record axis", lambda: reasoning_study.difficulty_record("depth"), "axis"),
        ("rerun difficulty axis", lambda: reasoning_study.rerun_difficulty("depth"), "axis"),
        ("rerun difficulty level", lambda: reasoning_study.rerun_difficulty("carries", level=4), "level"),
        ("rerun difficulty seed", lambda: reasoning_study.rerun_difficulty(seed=999), "seed"),
        ("rerun difficulty method", lambda: reasoning_study.rerun_difficulty(method="ppo"), "method"),
        ("rerun difficulty steps", lambda: reasoning_study.rerun_difficulty(steps=7), "steps"),
        ("rerun difficulty steps big", lambda: reasoning_study.rerun_difficulty("carries", steps=10_000), "steps"),
        ("describe slope", lambda: reasoning_study.describe_slope((0.1, 0.0, 0.2)), "slope"),
        ("problems seed", lambda: reasoning.make_problems(reasoning_study.SETTINGS.task, 3, None), "seed"),
        ("encode char", lambda: reasoning.encode("12x"), "vocabulary"),
        ("decode id", lambda: reasoning.decode([3, 99]), "tokens"),
        ("verify prompts", lambda: reasoning.verify(reasoning_study.SETTINGS.task, np.zeros((2, 3), int), np.zeros((2, 6), int)),
         "prompts"),
        ("verify completions", lambda: reasoning.verify(reasoning_study.SETTINGS.task, reasoning.make_problems(reasoning_study.SETTINGS.task, 2, 0),
                                                        np.zeros((2, 4), int)), "completions"),
        ("traces p_drop", lambda: reasoning.careful_traces(reasoning_study.SETTINGS.task, reasoning.make_problems(reasoning_study.SETTINGS.task, 2, 0),
                                                           p_drop=-0.1), "p_drop"),
        ("pretrain seeds", lambda: reasoning.pretrain(reasoning_study.SETTINGS.task, 3, steps=1), "seeds"),
        ("pretrain seeds empty", lambda: reasoning.pretrain(reasoning_study.SETTINGS.task, [], steps=1), "seeds"),
        ("pretrain steps", lambda: reasoning.pretrain(reasoning_study.SETTINGS.task, [0], steps=0), "steps"),
        ("pretrain lr", lambda: reasoning.pretrain(reasoning_study.SETTINGS.task, [0], steps=1, lr=-1.0), "lr"),
        ("ensemble heads", lambda: reasoning.LMEnsemble(1, 10, d_model=30, n_heads=4), "d_model"),
        ("power alpha", lambda: reasoning.power_resample(np.zeros(3), 0.5), "alpha"),
        ("power no generator", lambda: reasoning.power_resample(np.zeros(3), 2.0), "generator"),
        ("sample no generator", lambda: reasoning.sample(None, __import__("torch").zeros((1, 1, 5), dtype=__import__("torch").int64), 3),
         "generator"),
        ("power seed not generator", lambda: reasoning.power_resample(np.zeros(3), 2.0, 0), "generator"),
        ("mcmc steps", lambda: reasoning.power_mcmc(None, np.zeros((1, 1, 5)), 6, steps=-1), "steps"),
        ("mcmc temperature", lambda: reasoning.power_mcmc(None, np.zeros((1, 1, 5)), 6, proposal_temperature=0),
         "proposal_temperature"),
        ("pass_at_k k", lambda: reasoning.pass_at_k(4, np.array([1]), 5), "k must"),
        ("pass_at_k c", lambda: reasoning.pass_at_k(4, np.array([5]), 2), "c must"),
        ("finetune method", lambda: reasoning.finetune(None, reasoning_study.SETTINGS.task, "ppo", None, [0]), "method"),
        ("finetune base", lambda: reasoning.finetune("net", reasoning_study.SETTINGS.task, "sft", None, [0]), "base"),
        ("group advantages", lambda: reasoning.group_advantages(np.zeros((3, 1))), "reward"),
        ("grpo_loss kl", lambda: reasoning.grpo_loss(*[__import__("torch").zeros(2, 3)] * 2,
                                                     __import__("torch").zeros(2), __import__("torch").ones(2, 3),
                                                     completion_len=3, kl=0.1), "ref_logp"),
        ("run seeds", lambda: reasoning_study.run(0), "n_seeds"),
        ("hits_at target", lambda: reasoning_study.hits_at([0, 1], np.zeros((2, 1)), 0.0), "target"),
        ("hits_at accuracy", lambda: reasoning_study.hits_at([0, 1], np.zeros(2)), "accuracy"),
        ("ratios_by_target out", lambda: reasoning_study.ratios_by_target([]), "out"),
        ("run seeds other than stored", lambda: reasoning_study.run(5), "n_seeds"),
        ("grid method", lambda: reasoning_study.grid("ppo"), "method"),
        ("tuning_table method", lambda: reasoning_study.tuning_table({}, "dpo"), "method"),
        ("training_flops decoding", lambda: reasoning_study.training_flops({}, "grpo", "beam"), "decoding"),
        ("training_flops out", lambda: reasoning_study.training_flops({}, "grpo"), "out"),
        ("tuning_table out", lambda: reasoning_study.tuning_table([], "grpo"), "out"),
        ("break_even out", lambda: reasoning_study.break_even({"grpo": {}}, "grpo"), "out"),
        ("break_even_table out", lambda: reasoning_study.break_even_table(None), "out"),
        ("serving_hits out", lambda: reasoning_study.serving_hits({}, "grpo"), "out"),
        ("training_flops method", lambda: reasoning_study.training_flops({}, "ppo"), "method"),
        ("rerun_stored seed", lambda: reasoning_study.rerun_stored(seed=1000), "seed"),
        ("rerun_stored seed negative", lambda: reasoning_study.rerun_stored(seed=-1), "seed"),
        ("rerun_stored method", lambda: reasoning_study.rerun_stored(method="dpo"), "method"),
        ("rerun_stored steps", lambda: reasoning_study.rerun_stored(steps=7), "steps"),
        ("rerun_stored steps beyond", lambda: reasoning_study.rerun_stored(steps=10_000), "steps"),
        ("generate jobs", lambda: reasoning_study.generate(n_jobs=0), "n_jobs"),
        ("lr_factor schedule", lambda: reasoning.lr_factor("linear", 1, 10, 2), "schedule"),
        ("sample generators per model", lambda: reasoning.sample(
            reasoning.LMEnsemble(2, 12), __import__("torch").zeros((2, 1, 5), dtype=__import__("torch").int64), 3,
            generator=[__import__("torch").Generator()]), "generator"),
        ("sample generators not generators", lambda: reasoning.sample(
            None, __import__("torch").zeros((1, 1, 5), dtype=__import__("torch").int64), 3, generator=[0]), "generator"),
        ("accuracy seeds per model", lambda: reasoning.accuracy(
            reasoning.LMEnsemble(2, 12), reasoning_study.SETTINGS.task,
            __import__("torch").zeros((2, 1, 5), dtype=__import__("torch").int64), seeds=[0]), "seeds"),
        ("accuracy seed list", lambda: reasoning.accuracy(
            reasoning.LMEnsemble(2, 12), reasoning_study.SETTINGS.task,
            __import__("torch").zeros((2, 1, 5), dtype=__import__("torch").int64), seed=[0, 1]), "seeds"),
        ("tuning_score statistic", lambda: experiments.tuning_score([1.0], 2.0, "q90"), "statistic"),
        ("check_seeds int", lambda: experiments.check_seeds(3), "seeds"),
        ("group advantages eps 0", lambda: reasoning.group_advantages(np.zeros((3, 2)), eps=0.0), "eps"),
        ("group advantages eps str", lambda: reasoning.group_advantages(np.zeros((3, 2)), eps="1e-4"), "eps"),
        ("group advantages std_norm str", lambda: reasoning.group_advantages(np.zeros((3, 2)), std_norm="no"),
         "std_norm"),
        ("completion_logprobs temperature 0", lambda: reasoning.completion_logprobs(
            None, __import__("torch").zeros((1, 1, 3), dtype=__import__("torch").int64),
            __import__("torch").zeros((1, 1, 2), dtype=__import__("torch").int64), temperature=0), "temperature"),
        ("completion_logprobs arrays", lambda: reasoning.completion_logprobs(None, np.zeros((1, 1, 3), int),
                                                                             np.zeros((1, 1, 2), int)), "prompts"),
        ("finetune lr str", lambda: _finetune(lr="1e-3"), "lr"),
        ("finetune lr per model", lambda: _finetune(lr=[1e-3, 1e-3, 1e-3]), "lr"),
        ("finetune lr zero", lambda: _finetune(lr=0.0), "lr"),
        ("finetune schedule", lambda: _finetune(schedule="linear"), "schedule"),
        ("finetune schedule per model", lambda: _finetune(schedule=["cosine", "constant"]), "schedule"),
        ("finetune schedule number", lambda: _finetune(schedule=0.1), "schedule"),
        ("finetune stop_after beyond", lambda: _finetune(stop_after=2), "stop_after"),
        ("finetune stop_after zero", lambda: _finetune(stop_after=0), "stop_after"),
    ],
}


def _finetune(**changes):
    """A valid fine-tuning call of one tiny model, with ``changes``."""
    import torch

    task = reasoning_study.SETTINGS.task
    base = reasoning.LMEnsemble(1, task.prompt_len + task.completion_len)
    test = torch.as_tensor(reasoning.make_problems(task, 4, 0))[None]
    kwargs = dict(steps=1, prompts_per_step=2, group=2, lr=1e-3, **changes)
    return reasoning.finetune(base, task, "grpo", test, [0], **kwargs)


def _checkers_ppo():
    from ce_lib import checkers_ppo  # needs OpenSpiel: imported only where it is installed

    return checkers_ppo


def _cm():
    from ce_lib import checkers_model

    return checkers_model


def _moves(n):
    """``n`` moves of random play, the first ``n`` of a fixed collection (or an empty record)."""
    from ce_lib import checkers

    if n == 0:
        return checkers.Moves(np.zeros((0, 5, 8, 8), np.float32), np.zeros((0, 512), bool), np.zeros(0, int),
                              np.zeros((0, 5, 8, 8), np.float32), np.zeros(0, bool))
    return _cm().collect_moves(n, seed=0)


def _tiny_model():
    return _cm().fit(_moves(40), epochs=1)


def _checkers_study():
    from ce_lib.studies import checkers as study

    return study


def _timeout(signum, frame):
    raise TimeoutError("the call did not return within 60 s: it hangs")


@pytest.mark.parametrize("module", sorted(CASES))
def test_every_module_has_a_table_of_at_least_20_cases(module):
    assert len(CASES[module]) >= 20


def test_every_library_module_that_takes_arguments_has_a_table():
    import inspect
    import pkgutil

    import ce_lib

    missing = []
    for info in pkgutil.iter_modules(ce_lib.__path__):
        if info.ispkg or info.name.startswith("_") or info.name in CASES:
            continue
        if info.name.startswith("checkers") and not importlib.util.find_spec("pyspiel"):
            continue
        mod = importlib.import_module("ce_lib." + info.name)
        takes = [n for n in getattr(mod, "__all__", []) if callable(getattr(mod, n, None))
                 and not isinstance(getattr(mod, n), type) and inspect.signature(getattr(mod, n)).parameters]
        if takes:
            missing.append(f"{info.name} ({', '.join(takes)})")
    assert not missing, "modules with public functions of arguments but no table: " + "; ".join(missing)


@pytest.mark.parametrize("module, label, call, match",
                         [(m, label, call, match) for m, cases in CASES.items() for label, call, match in cases],
                         ids=[f"{m}: {label}" for m, cases in CASES.items() for label, _, _ in cases])
def test_bad_input_gets_a_clear_error_naming_the_argument(module, label, call, match, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the cases' files go where pytest cleans up
    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(60)
    try:
        with pytest.raises(BAD, match=match):
            call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
