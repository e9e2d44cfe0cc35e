"""The study of the chapter on reasoning models (:ref:`ch-reasoning`): its settings, its stored runs and
the numbers its prose glues.

What the chapter runs: the task, the seeds, the pretraining and fine-tuning budgets, the grids every
fine-tuning method is tuned on, and the scoreboard records. The problems and learners are the library's,
:mod:`ce_lib.reasoning`; this module only chooses and runs them.

**Why the runs are stored.** Pretraining one base model per seed for 38 seeds, tuning GRPO over its
learning rate, schedule and inner steps and the supervised methods over theirs, and running every chosen
setting on 20 seeds takes about half an hour of two cores: more than a chapter may take to execute.
``python -m ce_lib.studies.reasoning generate`` makes them once and stores them with the settings,
library versions and numerical mode in ``ce_lib/data/reasoning_runs.json`` (:mod:`ce_lib.stored`).
Every model's run depends only on its own seed (a stack of models is exactly its models run one by
one), so the chapter and the tests pretrain one seed's base model again, fine-tune it, and require
the stored numbers bit for bit (:func:`rerun_stored`).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import torch

from .. import stored
from ..experiments import (
    MethodResult,
    best_by_tuning,
    bootstrap_median,
    censor,
    check_finite_array,
    check_positive_int,
    check_real,
    child_seed,
    grid_tuning,
    loglog_slope,
    make_record,
    reported_seeds,
    tuning_seeds,
)
from ..experiments import torch_generator
from ..experiments import torch_threads as _threads
from ..reasoning import (
    FINETUNE_METHODS,
    SCHEDULES,
    STEPS,
    AdditionTask,
    LMEnsemble,
    _live,
    accuracy,
    completion_logprobs,
    finetune,
    make_problems,
    pass_at_k,
    power_mcmc,
    power_resample,
    pretrain,
    sample,
    stack_models,
    verify,
)

__all__ = [
    "Settings", "SETTINGS", "DATA_FILE", "GENERATE_COMMAND", "grid", "hits_at", "ratios_by_target", "load_data",
    "run", "tuning_table", "LABELS", "answer_flops", "smallest_draws", "serving_hits", "training_flops",
    "break_even", "break_even_table", "rerun_stored", "DECODINGS", "headline", "weak_seeds_sentence", "generate", "main",
    "DifficultySettings", "DIFFICULTY", "DIFFICULTY_FILE", "DIFFICULTY_COMMAND", "AXES", "SAMPLERS", "FAMILIES",
    "level_task", "difficulty_levels", "load_difficulty", "difficulty", "difficulty_table", "difficulty_slopes",
    "difficulty_record", "difficulty_records", "generate_difficulty", "describe_slope", "describe_difference", "difficulty_minutes",
    "rerun_difficulty",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try
    (the stored runs are refused for any other settings: regenerate them).
    """

    # The task of the chapter: two-digit addition, 40% careful traces, carries dropped 15% of the time.
    task: AdditionTask = AdditionTask(n_digits=2)
    # Reported seeds (a seed is a base model, its test problems and its fine-tuning data).
    reported_seeds: tuple = reported_seeds(30)
    # Seeds on which every method's settings are chosen (their own base models and test problems).
    tuning_seeds: tuple = tuning_seeds(8)
    pretrain_steps: int = 3000  # pretraining steps (batch 64, Adam, lr 0.01 with warm-up and cosine decay)
    n_test: int = 200  # test problems per seed
    target: float = 0.9  # accuracy to reach (one answer per query, sampled at temperature 1; or greedy)
    alpha: float = 4.0  # the power of the power distribution
    ft_steps: int = 80  # fine-tuning steps
    ft_prompts: int = 16  # problems per fine-tuning step
    ft_group: int = 8  # answers (or traces) per problem and step
    ft_eval_every: int = 5  # fine-tuning steps between evaluations
    lr_grid: tuple = (1e-3, 3e-3, 1e-2)  # learning rates tried for every fine-tuning method
    schedules: tuple = SCHEDULES  # learning-rate schedules tried for every method (constant; cosine to 10%)
    inner_steps: tuple = (1, 2, 4)  # gradient steps per batch tried for GRPO (its reuse of each batch)
    std_norm: bool = False  # GRPO's advantages divided by the group's std? (no: Dr. GRPO, Liu et al. 2025)
    tuning_statistic: str = "mean"  # ranks a setting by its mean calls to the target, misses at the budget
    # Candidates per query tried for best-of-n and for power sampling by importance resampling.
    draws: tuple = (1, 2, 4, 8, 16, 32)
    mcmc_steps: int = 24  # Metropolis-Hastings steps per chain
    mcmc_temperatures: tuple = (1.0, 1.0 / 4.0)  # the proposal temperatures compared
    queries: int = 1000  # queries served in the compute record
    temperatures: tuple = (1.0, 0.5, 0.25, 0.0)  # low temperatures compared with temperature 1 (0: greedy)
    pass_test: int = 40  # test problems per seed for pass@k
    pass_k: int = 32  # answers drawn per problem for pass@k
    power_pass_draws: int = 8  # candidates per power-sampled answer in the pass@k comparison
    n_threads: int = 2  # torch threads of every computation (the runs do not depend on it)


SETTINGS = Settings()
"""The settings the chapter runs with."""

DATA_FILE = "reasoning_runs.json"
"""Name of the stored runs inside ``ce_lib/data``."""
GENERATE_COMMAND = "python -m ce_lib.studies.reasoning generate"
"""The command that remakes them."""

#: Names a reader recognises, for tables and legends.
LABELS = {"grpo": "GRPO-style RL", "rft": "rejection-sampling fine-tuning", "sft": "fine-tuning on program traces",
          "power_ir": "power sampling (importance resampling)", "power_mcmc": "power sampling (MCMC)",
          "best_of_n": "best-of-n with the verifier", "base": "base model"}

#: The two ways a fine-tuned model answers: one draw at temperature 1, or the greedy answer.
DECODINGS = ("sampled", "greedy")


def grid(method: str) -> list[dict]:
    """The settings ``method`` is tuned over: every learning rate of ``SETTINGS.lr_grid`` with every
    schedule, and for GRPO also every number of inner steps (the supervised methods take one step per
    batch)."""
    if method not in FINETUNE_METHODS:
        raise ValueError(f"method must be one of {FINETUNE_METHODS}, got {method!r}")
    epochs = SETTINGS.inner_steps if method == "grpo" else (1,)
    return [dict(lr=lr, schedule=s, epochs=e) for e in epochs for lr in SETTINGS.lr_grid for s in SETTINGS.schedules]


def _test_prompts(seeds) -> torch.Tensor:
    return torch.as_tensor(np.stack([make_problems(SETTINGS.task, SETTINGS.n_test, child_seed(s, 5)) for s in seeds]))


def _gens(seeds, k: int) -> list:
    """One torch generator per seed, from its child ``k``."""
    return [torch_generator(child_seed(s, k)) for s in seeds]


def _verify(prompts: torch.Tensor, completions: torch.Tensor) -> np.ndarray:
    return np.stack([verify(SETTINGS.task, prompts[m].numpy(), completions[m].numpy()) for m in range(prompts.shape[0])])


# ----------------------------------------------------------------------------------------------
# The experiments (run by generate)
# ----------------------------------------------------------------------------------------------


def _sampler_study(model: LMEnsemble, seeds) -> dict:
    """Everything that needs no training: temperatures, best-of-n, power sampling (IR, MCMC)."""
    test = _test_prompts(seeds)
    M, n = len(seeds), max(SETTINGS.draws)
    out = {"temperature": [], "careful": []}
    for k, T in enumerate(SETTINGS.temperatures):
        a, c = accuracy(model, SETTINGS.task, test, temperature=T, samples=4, seeds=[child_seed(s, 10 + k) for s in seeds])
        out["temperature"].append(a), out["careful"].append(c)
    rep = test.repeat_interleave(n, dim=1)
    comp = sample(model, rep, SETTINGS.task.completion_len, generator=_gens(seeds, 20))
    lp = completion_logprobs(model, rep, comp).sum(-1).reshape(M, SETTINGS.n_test, n)
    ok = _verify(rep, comp).reshape(M, SETTINGS.n_test, n)
    careful = (comp[..., 0] == STEPS).numpy().reshape(M, SETTINGS.n_test, n)
    out["careful_accuracy"] = [ok[m][careful[m]].mean() for m in range(M)]
    out["guess_accuracy"] = [ok[m][~careful[m]].mean() for m in range(M)]
    out["tokens_per_answer"] = float(_live(comp).sum(-1).double().mean())
    # the likelihoods of the base model's own answers, pooled, as a histogram per kind of answer
    flat = lp.numpy().ravel()
    edges = np.linspace(np.percentile(flat, 0.5), 0, 41)
    kinds = {"careful, right": careful & ok, "careful, wrong": careful & ~ok, "guess, right": ~careful & ok,
             "guess, wrong": ~careful & ~ok}
    out["loglik_histogram"] = {"edges": edges, "counts": {k: np.histogram(flat[v.ravel()], edges)[0] for k, v in kinds.items()},
                               "shares": {k: float(v.mean()) for k, v in kinds.items()}}
    # best-of-n with the verifier = pass@n; power sampling from the first N draws, exactly in expectation
    out["best_of_n"], out["power_ir"] = _draw_curves(lp, ok, SETTINGS.draws)
    out["mcmc"] = []
    for k, tau in enumerate(SETTINGS.mcmc_temperatures):
        res = power_mcmc(model, test, SETTINGS.task.completion_len, alpha=SETTINGS.alpha, steps=SETTINGS.mcmc_steps,
                         proposal_temperature=tau, seed=child_seed(seeds[0], 30 + k))
        acc = np.stack([_verify(test, res.trace[s]).mean(-1) for s in range(SETTINGS.mcmc_steps + 1)])
        out["mcmc"].append(dict(accuracy=acc, tokens=res.tokens, accepted=res.accepted))
    return out


def _draw_curves(lp: torch.Tensor, ok: np.ndarray, draws) -> tuple[list, list]:
    """Accuracy of best-of-N with the verifier (pass@N) and of power sampling by importance resampling
    from N draws (exactly in expectation), for every N in ``draws``, from ``n`` draws per problem:
    log-likelihoods ``lp`` and verdicts ``ok``, both ``(M, problems, n)``."""
    n = ok.shape[-1]
    best = [pass_at_k(n, ok.sum(-1), N).mean(-1) for N in draws]
    power = [np.stack([(power_resample(lp[..., s:s + N], SETTINGS.alpha, expected=True).numpy()
                        * ok[..., s:s + N]).sum(-1).mean(-1) for s in range(0, n, N)]).mean(0) for N in draws]
    return best, power


def _curves(res, columns) -> dict:
    return dict(cost=res.cost, accuracy=res.accuracy[:, columns], greedy=res.greedy[:, columns],
                flops=res.flops[:, columns], careful=res.careful[:, columns])


def _finetune_configs(base: LMEnsemble, seeds, method: str, configs: list[dict], keep_models: bool = False):
    """Every configuration on every seed: one stack per number of inner steps (learning rates and
    schedules differ within a stack). Returns one dict of curves per configuration (and the models)."""
    M = len(seeds)
    test = _test_prompts(seeds)
    by_epochs: dict = {}
    for i, cfg in enumerate(configs):
        by_epochs.setdefault(cfg["epochs"], []).append(i)
    curves, models = [None] * len(configs), [None] * len(configs)
    for epochs, idx in by_epochs.items():
        stack = stack_models([base], [list(range(M)) * len(idx)])
        lrs = np.repeat([configs[i]["lr"] for i in idx], M)
        schedules = [configs[i]["schedule"] for i in idx for _ in range(M)]
        res = finetune(stack, SETTINGS.task, method, test.repeat(len(idx), 1, 1), list(seeds) * len(idx),
                       steps=SETTINGS.ft_steps, prompts_per_step=SETTINGS.ft_prompts, group=SETTINGS.ft_group, lr=lrs,
                       schedule=schedules, epochs=epochs, std_norm=SETTINGS.std_norm, eval_every=SETTINGS.ft_eval_every)
        for j, i in enumerate(idx):
            cols = list(range(j * M, (j + 1) * M))
            curves[i] = _curves(res, cols)
            if keep_models:
                models[i] = stack_models([res.model], [cols])
    return (curves, models) if keep_models else curves


def _pass_study(models: dict, seeds) -> dict:
    test = _test_prompts(seeds)[:, :SETTINGS.pass_test]
    M = len(seeds)
    out = {}
    for i, (name, model) in enumerate(models.items()):
        rep = test.repeat_interleave(SETTINGS.pass_k, dim=1)
        comp = sample(model, rep, SETTINGS.task.completion_len, generator=_gens(seeds, 40 + i))
        out[name] = _pass_curve(_verify(rep, comp).reshape(M, SETTINGS.pass_test, SETTINGS.pass_k))
    base = models["base"]
    n = SETTINGS.pass_k * SETTINGS.power_pass_draws
    rep = test.repeat_interleave(n, dim=1)
    comp = sample(base, rep, SETTINGS.task.completion_len, generator=_gens(seeds, 49))
    lp = completion_logprobs(base, rep, comp).sum(-1).reshape(M, SETTINGS.pass_test, SETTINGS.pass_k, SETTINGS.power_pass_draws)
    pick = power_resample(lp, SETTINGS.alpha, torch_generator(child_seed(seeds[0], 48)))  # (M, pass_test, pass_k)
    ok = _verify(rep, comp).reshape(lp.shape)
    out["power"] = _pass_curve(np.take_along_axis(ok, pick.numpy()[..., None], -1)[..., 0])
    return out


def _pass_curve(ok: np.ndarray) -> np.ndarray:
    """pass@k for k = 1..n from ``(M, problems, n)`` verdicts: ``(M, n)``."""
    n = ok.shape[-1]
    c = ok.sum(-1)
    return np.stack([pass_at_k(n, c, k).mean(-1) for k in range(1, n + 1)], axis=-1)


def _budget() -> int:
    return SETTINGS.ft_steps * SETTINGS.ft_prompts * SETTINGS.ft_group


def _choose(tuning_curves: list[dict], decoding: str) -> int:
    key = "accuracy" if decoding == "sampled" else "greedy"
    hits = [hits_at(c["cost"], c[key]) for c in tuning_curves]
    return best_by_tuning(hits, _budget(), SETTINGS.tuning_statistic)


def _experiments(log=print) -> dict:
    """Every run of the chapter, as plain numbers (see :func:`generate`)."""
    seeds, tun_seeds = list(SETTINGS.reported_seeds), list(SETTINGS.tuning_seeds)
    if set(seeds) & set(tun_seeds):
        raise ValueError("SETTINGS.reported_seeds and SETTINGS.tuning_seeds must not overlap")
    everyone = seeds + tun_seeds
    M = len(seeds)
    seconds, out = {}, {"seeds": seeds, "tuning_seeds": tun_seeds}
    t0 = time.perf_counter()
    pre = pretrain(SETTINGS.task, everyone, steps=SETTINGS.pretrain_steps)
    seconds["pretrain"] = (time.perf_counter() - t0) / len(everyone)
    log(f"pretrained {len(everyone)} base models in {time.perf_counter() - t0:.0f} s")
    rep = stack_models([pre.model], [list(range(M))])
    tun = stack_models([pre.model], [list(range(M, len(everyone)))])
    out["n_params"] = rep.n_params()
    out["pretrain_loss"] = pre.loss[-100:, :M].mean(0)
    t0 = time.perf_counter()
    out["samplers"] = _sampler_study(rep, seeds)
    seconds["samplers"] = (time.perf_counter() - t0) / M
    out["samplers_tuning"] = _sampler_study(tun, tun_seeds)
    log(f"samplers done ({seconds['samplers']:.1f} s per seed)")
    models = {"base": rep}
    for method in FINETUNE_METHODS:
        configs = grid(method)
        t0 = time.perf_counter()
        tuning = _finetune_configs(tun, tun_seeds, method, configs)
        seconds[f"{method}_tuning"] = time.perf_counter() - t0
        best = {d: _choose(tuning, d) for d in DECODINGS}
        chosen = sorted(set(best.values()))
        t0 = time.perf_counter()
        reported, fitted = _finetune_configs(rep, seeds, method, [configs[i] for i in chosen], keep_models=True)
        seconds[method] = (time.perf_counter() - t0) / (M * len(chosen))
        models[method] = fitted[chosen.index(best["sampled"])]
        out[method] = {"tuning": tuning, "best": best, "reported": dict(zip(map(str, chosen), reported))}
        log(f"{method}: tuned {len(configs)} settings in {seconds[f'{method}_tuning']:.0f} s, chose "
            f"{[configs[i] for i in chosen]}")
    t0 = time.perf_counter()
    out["pass_at_k"] = _pass_study(models, seeds)
    seconds["pass_at_k"] = (time.perf_counter() - t0) / M
    out["seconds"] = seconds
    return out


# ----------------------------------------------------------------------------------------------
# Reading the stored runs
# ----------------------------------------------------------------------------------------------


def _settings() -> dict:
    """What the stored runs depend on besides the code: a change to any of it refuses them."""
    return {**asdict(SETTINGS), "grids": {m: grid(m) for m in FINETUNE_METHODS}}


def load_data(path=None) -> dict:
    """The stored runs (``ce_lib/data/reasoning_runs.json`` by default), with the settings, versions,
    numerical mode and command they were made with (:func:`ce_lib.stored.load` refuses them when the
    settings changed)."""
    return stored.load(DATA_FILE, _settings(), GENERATE_COMMAND, path, what="stored reasoning runs")


def _arrays(d):
    if isinstance(d, dict):
        return {k: _arrays(v) for k, v in d.items()}
    if isinstance(d, list) and d and all(isinstance(x, (int, float)) or isinstance(x, list) for x in d):
        try:
            return np.asarray(d, dtype=float)
        except ValueError:
            return [_arrays(x) for x in d]
    if isinstance(d, list):
        return [_arrays(x) for x in d]
    return d


def _samplers(s: dict) -> dict:
    s = _arrays(s)
    out = {k: s[k] for k in ("careful_accuracy", "guess_accuracy", "tokens_per_answer", "loglik_histogram")}
    out["temperature"] = dict(zip(SETTINGS.temperatures, s["temperature"]))
    out["careful"] = dict(zip(SETTINGS.temperatures, s["careful"]))
    out["best_of_n"] = dict(zip(SETTINGS.draws, s["best_of_n"]))
    out["power_ir"] = dict(zip(SETTINGS.draws, s["power_ir"]))
    out["mcmc"] = dict(zip(SETTINGS.mcmc_temperatures, s["mcmc"]))
    return out


def run(n_seeds: int | None = None) -> dict:
    """The chapter's runs, read from the stored file: a dict of plain arrays (no models).

    For each fine-tuning method ``out[method]`` holds the grid, the chosen settings (``best``, for
    sampled answers; ``best_greedy``), the tuning curves and hits, and the reported runs of the chosen
    setting: ``cost``, ``accuracy``, ``greedy``, ``flops``, ``careful``, ``hits`` and ``greedy_hits``
    (the greedy ones from the setting chosen for greedy answers). ``n_seeds`` other than the stored
    number is refused.
    """
    if n_seeds is not None and check_positive_int(n_seeds, "n_seeds") != len(SETTINGS.reported_seeds):
        raise ValueError(f"n_seeds: the reasoning runs are stored for {len(SETTINGS.reported_seeds)} seeds; "
                         f"regenerate them with `{GENERATE_COMMAND}` for another number, got {n_seeds!r}")
    data = load_data()
    r = data["runs"]
    budget = _budget()
    out = {"seeds": [int(s) for s in r["seeds"]], "tuning_seeds": [int(s) for s in r["tuning_seeds"]],
           "n_params": int(r["n_params"]), "pretrain_loss": np.asarray(r["pretrain_loss"], dtype=float),
           "samplers": _samplers(r["samplers"]), "samplers_tuning": _samplers(r["samplers_tuning"]),
           "pass_at_k": _arrays(r["pass_at_k"]), "seconds": r["seconds"], "budget": budget,
           "versions": data["versions"], "numerics": data["numerics"]}
    for method in FINETUNE_METHODS:
        d = r[method]
        configs = grid(method)
        tuning = [_arrays(c) for c in d["tuning"]]
        best, best_g = int(d["best"]["sampled"]), int(d["best"]["greedy"])
        main_run, greedy_run = _arrays(d["reported"][str(best)]), _arrays(d["reported"][str(best_g)])
        out[method] = dict(
            grid=configs, best=best, best_greedy=best_g,
            tuning_hits=[hits_at(c["cost"], c["accuracy"]) for c in tuning],
            tuning_greedy_hits=[hits_at(c["cost"], c["greedy"]) for c in tuning],
            tuning_accuracy=[c["accuracy"] for c in tuning], tuning_greedy=[c["greedy"] for c in tuning],
            tuning_flops=[c["flops"] for c in tuning],
            tuning=grid_tuning(len(configs), out["tuning_seeds"], SETTINGS.tuning_statistic),
            hits=hits_at(main_run["cost"], main_run["accuracy"]),
            greedy_hits=hits_at(greedy_run["cost"], greedy_run["greedy"]), greedy_flops=greedy_run["flops"],
            **{k: main_run[k] for k in ("cost", "accuracy", "greedy", "flops", "careful")})
    return out


def _check_out(out) -> dict:
    if not isinstance(out, dict) or not all(k in out for k in (*FINETUNE_METHODS, "budget", "n_params", "samplers_tuning")):
        raise ValueError("out must be the dict returned by run() (every fine-tuning method, the budget, the samplers)")
    return out


def tuning_table(out: dict, method: str) -> list[dict]:
    """One row per setting of ``method``'s grid: the setting, its mean and median verifier calls to the
    target on the tuning seeds (misses at the budget), its share of tuning seeds reaching it, for
    sampled and for greedy answers, and whether it was chosen."""
    from ..experiments import censor

    if method not in FINETUNE_METHODS:
        raise ValueError(f"method must be one of {FINETUNE_METHODS}, got {method!r}")
    d, rows = _check_out(out)[method], []
    for i, cfg in enumerate(d["grid"]):
        row = dict(cfg)
        for name, hits in (("sampled", d["tuning_hits"][i]), ("greedy", d["tuning_greedy_hits"][i])):
            c = censor(hits, out["budget"])
            row[f"{name}_mean"], row[f"{name}_median"] = float(np.mean(c)), float(np.median(c))
            row[f"{name}_rate"] = float(np.mean(np.isfinite(hits)))
        row["chosen"], row["chosen_greedy"] = i == d["best"], i == d["best_greedy"]
        rows.append(row)
    return rows


def hits_at(cost, accuracy, target: float = SETTINGS.target) -> np.ndarray:
    """Supervision (verifier calls or traces) each run needs until its accuracy is at least
    ``target`` and still is at the next evaluation; ``inf`` where that never happens.

    Parameters
    ----------
    cost : array, shape (E,)
        Supervision used before each evaluation (increasing).
    accuracy : array, shape (E, M)
        Accuracy of each of ``M`` runs at each evaluation.
    target : float
        In (0, 1].
    """
    from ..experiments import samples_to_target

    target = check_real(target, "target", low=0, high=1, low_open=True)
    acc = check_finite_array(accuracy, "accuracy", ndim=2)
    return samples_to_target(cost, acc.T, target, direction="above", hold=1.0 + 1e-9)


def ratios_by_target(out: dict, targets: Sequence[float] = (0.6, 0.7, 0.8, 0.9, 0.95)) -> dict:
    """The records' ratios read off the same learning curves at other accuracy targets.

    For each target: every fine-tuning method's hits (:func:`hits_at`) and two records (built by
    :func:`ce_lib.experiments.make_record` with the study's budget): GRPO-style RL against
    rejection-sampling fine-tuning (``"rft"``) and against program traces (``"sft"``). The
    settings stay the ones tuned for ``SETTINGS.target``.

    Returns
    -------
    dict
        ``{target: {"hits": {method: array}, "rft": record, "sft": record}}``.
    """
    if not isinstance(out, dict) or not all(k in out for k in (*FINETUNE_METHODS, "budget")):
        raise ValueError("out must be the dict returned by run() (with every fine-tuning method and the budget)")
    targets = [check_real(t, "targets (each)", low=0, high=1, low_open=True) for t in targets]
    if not targets:
        raise ValueError("targets must not be empty")
    result = {}
    for target in targets:
        hits = {k: hits_at(out[k]["cost"], out[k]["accuracy"], target) for k in FINETUNE_METHODS}
        entry = {"hits": hits}
        for k in ("rft", "sft"):
            entry[k] = make_record(chapter="reasoning", task="two-digit addition with a verifier",
                                   metric=f"supervision to {target:.0%} accuracy", target=target,
                                   budget=out["budget"], information="same" if k == "rft" else "more",
                                   ce_given="" if k == "rft" else "the task's algorithm",
                                   methods=[MethodResult(LABELS["grpo"], "rl", hits["grpo"], "tuned for the records"),
                                            MethodResult(LABELS[k], "ce", hits[k], "tuned for the records")])
        result[target] = entry
    return result


# ----------------------------------------------------------------------------------------------
# Compute: a one-off training run against a per-query price
# ----------------------------------------------------------------------------------------------


def answer_flops(n_params: int) -> float:
    """Compute to sample one answer: 2 x parameters x tokens (prompt and the longest completion)."""
    return 2.0 * n_params * (SETTINGS.task.prompt_len + SETTINGS.task.completion_len)


def smallest_draws(accuracies: dict) -> int | None:
    """The smallest number of draws (a key of ``accuracies``) whose median accuracy over seeds
    reaches ``SETTINGS.target``, or ``None``."""
    for n in sorted(accuracies):
        if np.median(accuracies[n]) >= SETTINGS.target:
            return int(n)
    return None


def training_flops(out: dict, method: str, decoding: str = "sampled", tuning: bool = False) -> np.ndarray:
    """Training compute of each run of ``method`` up to the point where it reached the target (for
    ``decoding`` ``"sampled"``: one answer at temperature 1; ``"greedy"``: the greedy answer), on the
    reported seeds or (``tuning``) on the tuning seeds with the chosen setting; ``inf`` where it missed."""
    if method not in FINETUNE_METHODS:
        raise ValueError(f"method must be one of {FINETUNE_METHODS}, got {method!r}")
    if decoding not in DECODINGS:
        raise ValueError(f"decoding must be one of {DECODINGS}, got {decoding!r}")
    d = _check_out(out)[method]
    if tuning:
        i = d["best"] if decoding == "sampled" else d["best_greedy"]
        hits = d["tuning_hits" if decoding == "sampled" else "tuning_greedy_hits"][i]
        flops = d["tuning_flops"][i]
    else:
        hits = d["hits" if decoding == "sampled" else "greedy_hits"]
        flops = d["flops" if decoding == "sampled" else "greedy_flops"]
    return np.array([flops[np.flatnonzero(d["cost"] == h)[0], j] if np.isfinite(h) else np.inf
                     for j, h in enumerate(hits)])


def serving_hits(out: dict, which: str) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Compute to answer ``SETTINGS.queries`` queries at ``SETTINGS.target`` accuracy, per reported and
    tuning seed, for ``"grpo"`` (training to the target, then one answer per query, sampled) or a
    sampler ``"power_ir"`` / ``"best_of_n"`` (N draws per query, N chosen on the tuning seeds).
    Misses are ``inf``. Returns (reported, tuning, N)."""
    per = answer_flops(_check_out(out)["n_params"])
    if which == "grpo":
        return (training_flops(out, "grpo") + SETTINGS.queries * per,
                training_flops(out, "grpo", tuning=True) + SETTINGS.queries * per, None)
    if which not in ("power_ir", "best_of_n"):
        raise ValueError(f"which must be 'grpo', 'power_ir' or 'best_of_n', got {which!r}")
    n = smallest_draws(out["samplers_tuning"][which])
    if n is None:
        return (np.full(len(out["seeds"]), np.inf), np.full(len(out["tuning_seeds"]), np.inf), None)
    cost = SETTINGS.queries * n * per
    rep = np.where(out["samplers"][which][n] >= SETTINGS.target, cost, np.inf)
    tun = np.where(out["samplers_tuning"][which][n] >= SETTINGS.target, cost, np.inf)
    return rep, tun, n


def break_even(out: dict, method: str, decoding: str = "sampled") -> np.ndarray:
    r"""Queries after which fine-tuning with ``method`` (trained to the target, then one answer per
    query) costs less compute than power sampling by importance resampling (its draws per query chosen
    on the tuning seeds), per reported seed: :math:`Q^* = F_{\text{train}} / ((N - 1) f)`, with
    :math:`f` the compute of one answer and :math:`N` the sampler's draws per query. ``inf`` where the
    run missed the target, ``nan`` for every seed if no number of draws reaches it."""
    train = training_flops(out, method, decoding)
    n = smallest_draws(out["samplers_tuning"]["power_ir"])
    if n is None:
        return np.full(train.shape, np.nan)
    if n == 1:  # one draw per query: the sampler costs what the fine-tuned model does, training never pays
        return np.full(train.shape, np.inf)
    return train / ((n - 1) * answer_flops(out["n_params"]))


def break_even_table(out: dict) -> list[dict]:
    """One row per fine-tuning method and way of answering (sampled, greedy): the median and 95%
    bootstrap interval over the reported seeds of its training compute to the target and of the queries
    after which it is cheaper than power sampling (:func:`break_even`; runs that missed count as never),
    and the share of seeds that reached the target."""
    from ..experiments import bootstrap_median

    _check_out(out)
    rows = []
    for method in FINETUNE_METHODS:
        for decoding in DECODINGS:
            train = training_flops(out, method, decoding)
            be = break_even(out, method, decoding)
            rows.append({"method": method, "decoding": decoding, "rate": float(np.mean(np.isfinite(train))),
                         "flops": bootstrap_median(train).as_dict(),
                         "break_even": None if np.isnan(be).all() else bootstrap_median(be).as_dict()})
    return rows


def headline(n_seeds: int | None = None) -> list[dict]:
    """The chapter's scoreboard records (see :mod:`ce_lib.scoreboard`), read from the stored runs: four at the
    chapter's task, then one per difficulty axis (:func:`difficulty_records`)."""
    out = run(n_seeds)
    budget = out["budget"]
    task = "two-digit addition with a verifier"
    target = SETTINGS.target

    def method(k, fam, greedy=False):
        d = out[k]
        if greedy:
            return MethodResult(LABELS[k], fam, d["greedy_hits"], d["tuning"], d["tuning_greedy_hits"][d["best_greedy"]])
        return MethodResult(LABELS[k], fam, d["hits"], d["tuning"], d["tuning_hits"][d["best"]])

    records = [
        make_record(chapter="reasoning", task=task, metric=f"verifier calls to {target:.0%} accuracy (one answer per query)",
                    target=target, budget=budget, information="same", methods=[method("grpo", "rl"), method("rft", "ce")]),
        make_record(chapter="reasoning", task=task,
                    metric=f"supervision to {target:.0%} accuracy (verifier calls for RL, traces for supervision)",
                    target=target, budget=budget, information="more",
                    ce_given="the task's algorithm: traces written by the task's own program",
                    methods=[method("grpo", "rl"), method("sft", "ce")]),
        make_record(chapter="reasoning", task=task + ", greedy answers",
                    metric=f"verifier calls to {target:.0%} accuracy of the greedy answer",
                    target=target, budget=budget, information="same",
                    methods=[method("grpo", "rl", True), method("rft", "ce", True)]),
    ]
    g_rep, g_tun, _ = serving_hits(out, "grpo")
    flop_budget = float(np.max(out["grpo"]["flops"][-1]) + SETTINGS.queries * max(SETTINGS.draws) * answer_flops(out["n_params"]))
    methods = [MethodResult(LABELS["grpo"], "rl", g_rep, out["grpo"]["tuning"], g_tun)]
    for k in ("power_ir", "best_of_n"):
        rep, tun, n = serving_hits(out, k)
        tuning = (f"draws per query: smallest of {list(SETTINGS.draws)} reaching the target on seeds "
                  f"{out['tuning_seeds'][0]}-{out['tuning_seeds'][-1]}" + ("" if n else " (none did)"))
        methods.append(MethodResult(LABELS[k] + (f", {n} draws" if n else ""), "ce", rep, tuning, tun))
    records.append(make_record(chapter="reasoning", task=task,
                               metric=f"training and sampling FLOPs to answer {SETTINGS.queries:,} queries at {target:.0%} accuracy",
                               target=target, budget=flop_budget, information="same", methods=methods))
    return records + difficulty_records()


def weak_seeds_sentence(sft_hits, careful_accuracy, grpo_hits, rft_hits) -> str:
    """The chapter's sentence about the seeds on which even program traces miss the target.

    Its wording follows the numbers -- no such seed, one, several, all -- so that the chapter says
    only true things whatever a rerun gives. Arrays have one entry per reported seed: each method's
    hits (``inf``: missed within the budget) and the share of the base model's careful traces that
    are right.
    """
    arrays = {"sft_hits": sft_hits, "careful_accuracy": careful_accuracy, "grpo_hits": grpo_hits,
              "rft_hits": rft_hits}
    for name, a in arrays.items():
        if isinstance(a, str) or a is None:
            raise TypeError(f"{name} must be an array of numbers, got {type(a).__name__}")
    sft_hits, careful, grpo, rft = (np.asarray(a, dtype=float).ravel() for a in arrays.values())
    n = sft_hits.size
    if n == 0:
        raise ValueError("sft_hits must have one entry per seed, got none")
    for name, a in zip(arrays, (sft_hits, careful, grpo, rft)):
        if a.size != n:
            raise ValueError(f"{name} must have one entry per seed, like sft_hits ({n}), got {a.size}")
        if np.isnan(a).any():
            raise ValueError(f"{name} must not contain NaN")
    check_finite_array(careful, "careful_accuracy")
    if careful.min() < 0 or careful.max() > 1:
        raise ValueError("careful_accuracy must lie in [0, 1]")
    weak = ~np.isfinite(sft_hits)
    k = int(weak.sum())
    if k == 0:
        return f"Program traces reach the target on all {n} seeds within the budget."
    seeds = "one seed" if k == 1 else (f"all {n} seeds" if k == n else f"{k} of the {n} seeds")
    such = "that seed" if k == 1 else "those seeds"
    owner = "The base model of that seed" if k == 1 else ("Their base models" if k == n else "The base model of such a seed")
    weak_acc = float(np.mean(careful[weak]))
    if k < n:
        strong_acc = float(np.median(careful[~weak]))
        how = "learned addition less well in pretraining" if weak_acc < strong_acc else \
            "learned addition no worse than the others in pretraining"
        how += f" (its careful traces are right {weak_acc:.0%} of the time, against {strong_acc:.0%} for the others)"
    else:
        how = f"get their careful traces right {weak_acc:.0%} of the time"
    return (f"On {seeds} even the program traces miss the target within the budget. {owner} {how}; on {such} "
            f"GRPO reaches the target on {np.mean(np.isfinite(grpo[weak])):.0%} and rejection sampling on "
            f"{np.mean(np.isfinite(rft[weak])):.0%}.")


# ----------------------------------------------------------------------------------------------
# Where the factor grows: the difficulty axes (a second stored file)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DifficultySettings:
    """The two difficulty axes of the chapter, each level a task of its own.

    *Rarity of the right strategy*: one base model per seed is pretrained on a styled task whose prompts
    open with a style token, style ``k`` holding careful traces with chance ``rarity[k]`` -- the prior of
    the right strategy at level ``k``, the same arithmetic skill at every level (the commonest style holds
    ``rarity_first_share`` of the data, so that the skill is learned from as many careful traces as the
    chapter's base models see). *Pivots per answer*: base models pretrained like the chapter's, on
    ``carries_digits``-digit addition (three digits: a sum can then carry up to three times), fine-tuned
    and tested on problems with exactly ``c`` carries, each a token a careful trace can get wrong. Every
    fine-tuning method runs with the setting chosen on the chapter's tuning seeds at its own task (not
    re-tuned per level: the tuning grids at ten levels would cost hours).
    """

    rarity: tuple = (0.4, 0.1, 0.025, 0.006, 0.0015, 0.0004)  # careful share of each style's pretraining data
    # share of the styled pretraining data in the commonest style (the rest split evenly): enough careful
    # traces in all for the base model to learn the arithmetic as well as the chapter's does
    rarity_first_share: float = 0.5
    carries: tuple = (0, 1, 2, 3)  # carries per problem (all a sum of carries_digits-digit operands can have)
    carries_digits: int = 3  # digits of each operand on the pivots axis (the chapter's task has two)
    seeds: tuple = reported_seeds(10)  # the chapter's first reported seeds
    rarity_steps: int = 240  # fine-tuning steps at every rarity level (budget: steps x problems x group)
    carries_steps: int = 120  # fine-tuning steps at every carries level
    eval_every: int = 10  # fine-tuning steps between evaluations
    n_test: int = 100  # test problems per seed and level
    draws: tuple = (1, 2, 4, 8, 16, 32, 64)  # answers per query tried for best-of-n and power sampling
    axes: tuple = ("rarity", "carries")  # the axes the stored sweep holds


DIFFICULTY = DifficultySettings()
"""The difficulty sweep the chapter reports."""

DIFFICULTY_FILE = "reasoning_difficulty.json"
"""Name of the stored difficulty sweep inside ``ce_lib/data``."""
DIFFICULTY_COMMAND = "python -m ce_lib.studies.reasoning generate-difficulty"
"""The command that remakes it."""

#: The difficulty axes: the prior of the right strategy, and the pivotal tokens (carries) per answer.
AXES = ("rarity", "carries")
#: The samplers compared at every level (no training): best-of-n with the verifier, power sampling.
SAMPLERS = ("best_of_n", "power_ir")
#: Every family whose cost is measured against difficulty.
FAMILIES = (*FINETUNE_METHODS, *SAMPLERS)


def _check_axis(axis) -> str:
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}, got {axis!r}")
    return axis


def level_task(axis: str, level: int) -> AdditionTask:
    """The task at level ``level`` (an index) of ``axis``: the styled task's style ``level``, or the chapter's
    task with ``DIFFICULTY.carries_digits`` digits, restricted to ``DIFFICULTY.carries[level]`` carries."""
    levels = DIFFICULTY.rarity if _check_axis(axis) == "rarity" else DIFFICULTY.carries
    level = check_positive_int(level, "level", minimum=0)
    if level >= len(levels):
        raise ValueError(f"level must be below {len(levels)} (the levels of {axis}), got {level!r}")
    if axis == "rarity":
        n, first = len(DIFFICULTY.rarity), DIFFICULTY.rarity_first_share
        weights = (first, *[(1 - first) / (n - 1)] * (n - 1)) if n > 1 else (1.0,)
        return SETTINGS.task._replace(p_careful=tuple(DIFFICULTY.rarity), style=level, style_weights=weights)
    return SETTINGS.task._replace(n_digits=DIFFICULTY.carries_digits, carries=DIFFICULTY.carries[level])


def difficulty_levels(axis: str) -> np.ndarray:
    r"""How hard each level of ``axis`` is, as one number: the inverse of the prior of the right strategy,
    :math:`1/\rho`, or the inverse of a careful trace's chance to be right, :math:`1/(1 - p_{\text{drop}})^c`."""
    if _check_axis(axis) == "rarity":
        return 1.0 / np.asarray(DIFFICULTY.rarity, dtype=float)
    return (1.0 / (1.0 - SETTINGS.task.p_drop)) ** np.asarray(DIFFICULTY.carries, dtype=float)


def _base_task(axis: str) -> AdditionTask:
    """The task an axis's base models are pretrained on: every style mixed (rarity), or the chapter's own
    task with ``DIFFICULTY.carries_digits`` digits and any number of carries (the levels only restrict the
    problems fine-tuned and tested on)."""
    return level_task(axis, 0)._replace(style=None, carries=None)


def _chosen_configs() -> dict:
    """Each fine-tuning method's setting chosen on the tuning seeds for answers at temperature 1."""
    runs = load_data()["runs"]
    return {m: grid(m)[int(runs[m]["best"]["sampled"])] for m in FINETUNE_METHODS}


def _difficulty_settings() -> dict:
    shared = {k: getattr(SETTINGS, k) for k in ("task", "pretrain_steps", "target", "alpha", "ft_prompts", "ft_group",
                                                "std_norm", "mcmc_steps", "n_threads")}
    return {**asdict(DIFFICULTY), **shared, "configs": _chosen_configs()}


def _level_study(model: LMEnsemble, task: AdditionTask, seeds, steps: int, configs: dict, log=print) -> dict:
    """Everything measured at one level: the base model's careful share and accuracy, best-of-n and power
    sampling against draws per query, MCMC power sampling, and every fine-tuning method's curve."""
    D = DIFFICULTY
    M, n = len(seeds), max(D.draws)
    test = torch.as_tensor(np.stack([make_problems(task, D.n_test, child_seed(s, 5)) for s in seeds]))
    rep = test.repeat_interleave(n, dim=1)
    comp = sample(model, rep, task.completion_len, generator=_gens(seeds, 20))
    lp = completion_logprobs(model, rep, comp).sum(-1).reshape(M, D.n_test, n)
    ok = np.stack([verify(task, rep[m].numpy(), comp[m].numpy()) for m in range(M)]).reshape(M, D.n_test, n)
    careful = (comp[..., 0] == STEPS).numpy().reshape(M, D.n_test, n)
    out = {"base_careful": careful.mean((1, 2)), "base_accuracy": ok.mean((1, 2)),
           "careful_accuracy": [float(ok[m][careful[m]].mean()) if careful[m].any() else float("nan") for m in range(M)]}
    out["best_of_n"], out["power_ir"] = _draw_curves(lp, ok, D.draws)
    res = power_mcmc(model, test, task.completion_len, alpha=SETTINGS.alpha, steps=SETTINGS.mcmc_steps,
                     proposal_temperature=1.0, seed=child_seed(seeds[0], 30))
    out["mcmc"] = np.stack([verify(task, test[m].numpy(), res.completions[m].numpy()) for m in range(M)]).mean(1)
    for method in FINETUNE_METHODS:
        cfg = configs[method]
        t0 = time.perf_counter()
        r = finetune(model, task, method, test, list(seeds), steps=steps, prompts_per_step=SETTINGS.ft_prompts,
                     group=SETTINGS.ft_group, lr=cfg["lr"], schedule=cfg["schedule"], epochs=cfg["epochs"],
                     std_norm=SETTINGS.std_norm, eval_every=D.eval_every)
        out[method] = dict(cost=r.cost, accuracy=r.accuracy, greedy=r.greedy, careful=r.careful,
                           seconds=(time.perf_counter() - t0) / M)
    log(f"  level done: base careful {np.round(out['base_careful'], 4).tolist()}")
    return out


def _difficulty_experiments(log=print) -> dict:
    """Every run of the difficulty sweep, as plain numbers (see :func:`generate_difficulty`)."""
    seeds, configs = list(DIFFICULTY.seeds), _chosen_configs()
    out: dict = {"seeds": seeds, "configs": configs, "seconds": {}}
    for axis in DIFFICULTY.axes:
        t0 = time.perf_counter()
        base = pretrain(_base_task(axis), seeds, steps=SETTINGS.pretrain_steps).model
        out["seconds"][f"{axis}_pretrain"] = (time.perf_counter() - t0) / len(seeds)
        steps = DIFFICULTY.rarity_steps if axis == "rarity" else DIFFICULTY.carries_steps
        levels = DIFFICULTY.rarity if axis == "rarity" else DIFFICULTY.carries
        out[axis] = []
        for k in range(len(levels)):
            log(f"{axis} level {k} ({levels[k]})")
            out[axis].append(_level_study(base, level_task(axis, k), seeds, steps, configs, log))
    return out


def load_difficulty(path=None) -> dict:
    """The stored difficulty sweep (``ce_lib/data/reasoning_difficulty.json`` by default), refused when its
    settings -- or the settings chosen on the chapter's tuning seeds, which it runs -- have changed."""
    return stored.load(DIFFICULTY_FILE, _difficulty_settings(), DIFFICULTY_COMMAND, path, what="stored difficulty sweep")


def _steps(axis: str) -> int:
    return DIFFICULTY.rarity_steps if axis == "rarity" else DIFFICULTY.carries_steps


def _draw_hits(acc: np.ndarray) -> np.ndarray:
    """Smallest number of draws per query whose accuracy reaches the target, per seed (``(len(draws), M)``
    accuracies in; ``inf`` where even the most draws miss)."""
    draws = np.asarray(DIFFICULTY.draws, dtype=float)
    reached = acc >= SETTINGS.target
    return np.where(reached.any(0), draws[np.argmax(reached, axis=0)], np.inf)


def difficulty(axis: str, path=None) -> dict:
    """The cost of every family against one difficulty axis, read from the stored sweep (or ``path``).

    Returns
    -------
    dict
        ``levels`` (the axis's values), ``nominal_x`` (:func:`difficulty_levels`), ``x`` (the difficulty
        the base models actually present: one over their median share of careful traces, or over their
        careful traces' median accuracy -- a prior of 1 in 2,500 is not learned exactly from the
        pretraining data), ``seeds``; per level and seed
        ``base_careful`` (share of the base model's answers that are careful traces), ``base_accuracy``,
        ``careful_accuracy`` and ``mcmc`` (accuracy of MCMC power sampling); and for every family of
        :data:`FAMILIES` a dict with ``hits`` (``(levels, seeds)``, ``inf`` = missed), ``budget`` (per
        level) and ``unit``: verifier calls or traces for the fine-tuning methods (one-off), answers
        drawn per query for the samplers (every query, within ``max(DIFFICULTY.draws)``).
    """
    if _check_axis(axis) not in DIFFICULTY.axes:
        raise ValueError(f"axis: the stored sweep holds {DIFFICULTY.axes}, not {axis!r}")
    data = load_difficulty(path)["runs"]
    lv = [_arrays(x) for x in data[axis]]
    out = {"levels": DIFFICULTY.rarity if axis == "rarity" else DIFFICULTY.carries,
           "nominal_x": difficulty_levels(axis), "seeds": [int(s) for s in data["seeds"]], "configs": data["configs"]}
    for k in ("base_careful", "base_accuracy", "careful_accuracy", "mcmc"):
        out[k] = np.stack([np.asarray(x[k], dtype=float) for x in lv])
    # the difficulty the methods met: the base models' own careful share, or their careful traces' accuracy
    # (floored at one answer in all that were drawn: the finest share the measurement can see)
    measured = out["base_careful"] if axis == "rarity" else out["careful_accuracy"]
    floor = 1.0 / (DIFFICULTY.n_test * max(DIFFICULTY.draws))
    with np.errstate(all="ignore"):
        med = np.array([np.nanmedian(m) if np.isfinite(m).any() else 0.0 for m in measured])
    out["x"] = 1.0 / np.maximum(med, floor)
    budget = _steps(axis) * SETTINGS.ft_prompts * SETTINGS.ft_group
    for m in FINETUNE_METHODS:
        out[m] = {"hits": np.stack([hits_at(x[m]["cost"], x[m]["accuracy"]) for x in lv]),
                  "budget": np.full(len(lv), float(budget)), "unit": "traces" if m == "sft" else "verifier calls",
                  "seconds": float(np.mean([x[m]["seconds"] for x in lv]))}
    for m in SAMPLERS:
        out[m] = {"hits": np.stack([_draw_hits(np.asarray(x[m], dtype=float)) for x in lv]),
                  "budget": np.full(len(lv), float(max(DIFFICULTY.draws))), "unit": "answers per query",
                  "accuracy": np.stack([np.asarray(x[m], dtype=float) for x in lv])}
    return out


def difficulty_minutes() -> float:
    """Minutes of two cores the stored difficulty sweep took: its pretraining and fine-tuning runs (the
    samplers, a few seconds per level, are not timed)."""
    runs = load_difficulty()["runs"]
    n = len(runs["seeds"])
    total = sum(runs["seconds"][f"{axis}_pretrain"] * n for axis in DIFFICULTY.axes)
    total += sum(level[m]["seconds"] * n for axis in DIFFICULTY.axes for level in runs[axis] for m in FINETUNE_METHODS)
    return total / 60


def _check_difficulty(d) -> dict:
    if not isinstance(d, dict) or not all(k in d for k in (*FAMILIES, "x", "levels")):
        raise ValueError("d must be the dict returned by difficulty(axis)")
    return d


def difficulty_table(d: dict) -> list[dict]:
    """One row per family and level of ``d`` (:func:`difficulty`): median cost with its 95% bootstrap
    interval over seeds (misses sort last: a median that is a miss is ``inf``) and the share of seeds
    that reached the target."""
    _check_difficulty(d)
    rows = []
    for fam in FAMILIES:
        for i, level in enumerate(d["levels"]):
            h = d[fam]["hits"][i]
            rows.append({"family": fam, "level": level, "x": float(d["x"][i]), "unit": d[fam]["unit"],
                         "budget": float(d[fam]["budget"][i]), "rate": float(np.mean(np.isfinite(h))),
                         "cost": bootstrap_median(h).as_dict()})
    return rows


def difficulty_slopes(d: dict) -> dict:
    """How fast each family's cost grows with difficulty: the least-squares slope of log median cost on
    log difficulty over the levels of ``d`` (misses counted at the budget, so a slope through censored
    levels is a lower bound), with a 95% bootstrap interval over seeds; and the differences of GRPO's
    slope and the supervised methods' (``"grpo-rft"``, ``"grpo-sft"``), paired over seeds.
    Returns ``{name: Interval}``."""
    _check_difficulty(d)
    out = {fam: loglog_slope(d["x"], d[fam]["hits"], budget=d[fam]["budget"]) for fam in FAMILIES}
    for other in ("rft", "sft"):
        out[f"grpo-{other}"] = loglog_slope(d["x"], d["grpo"]["hits"], budget=d["grpo"]["budget"],
                                            baseline=censor(d[other]["hits"], d[other]["budget"][:, None]))
    return out


def _num(x: float, sign: bool = False) -> str:
    x = round(float(x), 2) + 0.0  # no "-0.00"
    return f"{x:+.2f}" if sign else f"{x:.2f}"


def describe_slope(slope) -> str:
    """Words for a slope of log cost on log difficulty (an :class:`~ce_lib.experiments.Interval`), chosen
    by where its interval lies against 0 (no growth) and 1 (cost proportional to the difficulty)."""
    if not (hasattr(slope, "lo") and hasattr(slope, "hi") and hasattr(slope, "median")):
        raise TypeError(f"slope must be an Interval (median, lo, hi), got {type(slope).__name__}")
    m, lo, hi = (float(x) for x in (slope.median, slope.lo, slope.hi))
    if not all(np.isfinite([m, lo, hi])) or lo > hi:
        raise ValueError(f"slope must hold finite numbers with lo <= hi, got {slope!r}")
    tol = 1e-9  # a flat cost fits a slope of 0 up to rounding
    if hi < -tol:
        words = "falls as the task gets harder"
    elif lo <= tol:
        words = "does not measurably grow"
    elif hi < 1:
        words = "grows, more slowly than the difficulty"
    elif lo <= 1:
        words = "grows about in proportion to the difficulty"
    else:
        words = "grows faster than the difficulty"
    return f"{words} (slope {_num(m)} [{_num(lo)}, {_num(hi)}])"


def describe_difference(diff, other: str) -> str:
    """Words for the difference of GRPO's slope and another method's (an Interval, paired over seeds);
    ``other`` names that method's cost in the possessive (``"rejection sampling's"``)."""
    if not (hasattr(diff, "lo") and hasattr(diff, "hi") and hasattr(diff, "median")):
        raise TypeError(f"diff must be an Interval (median, lo, hi), got {type(diff).__name__}")
    if not isinstance(other, str) or not other:
        raise TypeError(f"other must name the method compared, in the possessive, got {other!r}")
    m, lo, hi = (float(x) for x in (diff.median, diff.lo, diff.hi))
    if lo > 1e-9:
        words = f"GRPO's cost grows faster than {other}"
    elif hi < -1e-9:
        words = f"GRPO's cost grows more slowly than {other}"
    else:
        words = f"GRPO's cost and {other} grow at rates this sweep cannot tell apart"
    return f"{words} (difference of slopes {_num(m, True)} [{_num(lo, True)}, {_num(hi, True)}])"


_DIGIT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _hardest_reached(d: dict, families=("grpo", "rft")) -> int:
    """The hardest level at which every family's median run reached the target (the last level if none did)."""
    ok = [i for i in range(len(d["levels"])) if all(np.isfinite(np.median(d[f]["hits"][i])) for f in families)]
    return ok[-1] if ok else len(d["levels"]) - 1


#: What each supervised method is told beyond GRPO's verifier, for the difficulty records.
_TOLD = {"rft": "", "sft": "the task's algorithm: traces written by the task's own program"}


def difficulty_record(axis: str, level: int | None = None, other: str = "rft") -> dict:
    """A scoreboard record at one level of a difficulty axis: GRPO against rejection-sampling fine-tuning
    (``other="rft"``, same information) or against fine-tuning on the program's traces (``"sft"``, more
    information: told the algorithm), in verifier calls (or traces) to the target, misses counted at the
    budget. ``level`` is an index into the axis's levels (negative counts from the hardest); ``None``
    picks the hardest level at which both medians reach the target (the hardest level if none does)."""
    if other not in _TOLD:
        raise ValueError(f"other must be one of {tuple(_TOLD)}, got {other!r}")
    n = len(DIFFICULTY.rarity if _check_axis(axis) == "rarity" else DIFFICULTY.carries)
    if level is not None and (isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not -n <= level < n):
        raise ValueError(f"level must be an index into the {n} levels of {axis} (or None), got {level!r}")
    d = difficulty(axis)
    i = _hardest_reached(d, ("grpo", other)) if level is None else int(level) % n
    task = (f"{_DIGIT_WORDS[SETTINGS.task.n_digits]}-digit addition with a verifier, right strategy in 1 of "
            f"{1 / d['levels'][i]:,.0f} pretraining answers" if axis == "rarity" else f"{_DIGIT_WORDS[DIFFICULTY.carries_digits]}-digit addition with a verifier, "
                                     f"exactly {d['levels'][i]} carries per problem")
    tuning = (f"the chapter's setting (chosen on seeds {SETTINGS.tuning_seeds[0]}-{SETTINGS.tuning_seeds[-1]} at "
              f"its own task), not re-tuned at this level")
    metric = (f"verifier calls to {SETTINGS.target:.0%} accuracy (one answer per query)" if other == "rft" else
              f"supervision to {SETTINGS.target:.0%} accuracy (verifier calls for RL, traces for supervision)")
    return make_record(
        chapter="reasoning", task=task, metric=metric, target=SETTINGS.target, budget=float(d["grpo"]["budget"][i]),
        information="same" if other == "rft" else "more", ce_given=_TOLD[other],
        methods=[MethodResult(LABELS["grpo"], "rl", d["grpo"]["hits"][i], tuning),
                 MethodResult(LABELS[other], "ce", d[other]["hits"][i], tuning)])


def difficulty_records() -> list[dict]:
    """The scoreboard's difficulty records, one per stored axis: GRPO against rejection-sampling fine-tuning
    (same information) at the hardest level of the axis where both medians reach the target."""
    return [difficulty_record(axis) for axis in DIFFICULTY.axes]


def rerun_difficulty(axis: str = "carries", level: int = 0, seed: int = 0, method: str = "grpo", steps: int = 10) -> dict:
    """Make one cell of the stored difficulty sweep again -- pretrain seed ``seed``'s base model for ``axis``,
    fine-tune it with ``method`` at ``level`` for its first ``steps`` steps (a multiple of
    ``DIFFICULTY.eval_every``) -- and compare every evaluation with the stored one.

    Returns
    -------
    dict
        ``identical``, ``exact_expected`` and ``why`` (:func:`ce_lib.stored.exact_rerun_expected`),
        ``seconds`` (CPU time), ``rerun`` and ``stored`` (that seed's accuracy and greedy accuracy).
    """
    task = level_task(axis, level)
    if axis not in DIFFICULTY.axes:
        raise ValueError(f"axis: the stored sweep holds {DIFFICULTY.axes}, not {axis!r}")
    seed = check_positive_int(seed, "seed", minimum=0)
    if seed not in DIFFICULTY.seeds:
        raise ValueError(f"seed must be one of the sweep's seeds {DIFFICULTY.seeds[0]}-{DIFFICULTY.seeds[-1]}, got {seed!r}")
    if method not in FINETUNE_METHODS:
        raise ValueError(f"method must be one of {FINETUNE_METHODS}, got {method!r}")
    steps = check_positive_int(steps, "steps")
    if steps > _steps(axis) or steps % DIFFICULTY.eval_every:
        raise ValueError(f"steps must be a multiple of {DIFFICULTY.eval_every} up to {_steps(axis)}, got {steps!r}")
    data = load_difficulty()
    j, n_eval = DIFFICULTY.seeds.index(seed), steps // DIFFICULTY.eval_every + 1
    cell = data["runs"][axis][level][method]
    old = {k: np.asarray(cell[k], dtype=float)[:n_eval, j] for k in ("accuracy", "greedy")}
    cfg = data["runs"]["configs"][method]
    start = time.process_time()
    with _threads(SETTINGS.n_threads):
        base = pretrain(_base_task(axis), [seed], steps=SETTINGS.pretrain_steps).model
        test = torch.as_tensor(make_problems(task, DIFFICULTY.n_test, child_seed(seed, 5))[None])
        res = finetune(base, task, method, test, [seed], steps=_steps(axis), prompts_per_step=SETTINGS.ft_prompts,
                       group=SETTINGS.ft_group, lr=cfg["lr"], schedule=cfg["schedule"], epochs=cfg["epochs"],
                       std_norm=SETTINGS.std_norm, eval_every=DIFFICULTY.eval_every, stop_after=steps)
    new = {"accuracy": res.accuracy[:, 0], "greedy": res.greedy[:, 0]}
    exact, why = stored.exact_rerun_expected(data, kernels=("transformer",))
    return {"identical": all(np.array_equal(new[k], old[k]) for k in old), "exact_expected": exact, "why": why,
            "seconds": time.process_time() - start, "rerun": new, "stored": old}


def generate_difficulty(path=None, n_jobs: int = 2) -> dict:
    """Make the difficulty sweep -- a styled pretraining and the chapter's base models for
    ``DIFFICULTY.seeds``, every level's samplers and fine-tuning runs -- with ``n_jobs`` torch threads and
    write it, with its settings, versions and numerical mode, to ``path`` (default:
    ``ce_lib/data/reasoning_difficulty.json``), whole or not at all."""
    path, n_jobs = stored.generate_args(path, n_jobs, DIFFICULTY_FILE)
    import os

    settings = _difficulty_settings()  # the chapter's chosen settings must be readable before hours of runs
    with _threads(os.cpu_count() if n_jobs == -1 else n_jobs):
        runs = _difficulty_experiments()
    return stored.write(path, settings=settings, runs=runs, command=DIFFICULTY_COMMAND)


# ----------------------------------------------------------------------------------------------
# Rerunning a stored run, and generating them
# ----------------------------------------------------------------------------------------------


def rerun_stored(seed: int = 0, method: str = "grpo", steps: int | None = None) -> dict:
    """Pretrain reported seed ``seed``'s base model again, fine-tune it with ``method``'s chosen setting
    for its first ``steps`` steps (default: the whole run; a multiple of ``SETTINGS.ft_eval_every``),
    and compare every evaluation (accuracy, greedy accuracy, compute, careful share) with the stored run.

    Returns
    -------
    dict
        ``identical``, ``exact_expected`` and ``why`` (:func:`ce_lib.stored.exact_rerun_expected`),
        ``seconds`` (CPU time), ``rerun`` and ``stored`` (the compared curves of that seed).
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    if seed not in SETTINGS.reported_seeds:
        raise ValueError(f"seed must be one of the reported seeds {SETTINGS.reported_seeds[0]}-"
                         f"{SETTINGS.reported_seeds[-1]}, got {seed!r}")
    if method not in FINETUNE_METHODS:
        raise ValueError(f"method must be one of {FINETUNE_METHODS}, got {method!r}")
    steps = SETTINGS.ft_steps if steps is None else check_positive_int(steps, "steps")
    if steps > SETTINGS.ft_steps or steps % SETTINGS.ft_eval_every:
        raise ValueError(f"steps must be a multiple of {SETTINGS.ft_eval_every} up to {SETTINGS.ft_steps}, got {steps!r}")
    data = load_data()
    d = data["runs"][method]
    best = int(d["best"]["sampled"])
    cfg = grid(method)[best]
    j = SETTINGS.reported_seeds.index(seed)
    n_eval = steps // SETTINGS.ft_eval_every + 1
    old = {k: np.asarray(v, dtype=float)[:n_eval, j] for k, v in d["reported"][str(best)].items() if k != "cost"}
    start = time.process_time()
    with _threads(SETTINGS.n_threads):
        base = pretrain(SETTINGS.task, [seed], steps=SETTINGS.pretrain_steps).model
        res = finetune(base, SETTINGS.task, method, _test_prompts([seed]), [seed], steps=SETTINGS.ft_steps,
                       prompts_per_step=SETTINGS.ft_prompts, group=SETTINGS.ft_group, lr=cfg["lr"],
                       schedule=cfg["schedule"], epochs=cfg["epochs"], std_norm=SETTINGS.std_norm,
                       eval_every=SETTINGS.ft_eval_every, stop_after=steps)
    new = {k: v[:, 0] for k, v in _curves(res, [0]).items() if k != "cost"}
    exact, why = stored.exact_rerun_expected(data, kernels=("transformer",))
    return {"identical": all(np.array_equal(new[k], old[k]) for k in old), "exact_expected": exact, "why": why,
            "seconds": time.process_time() - start, "rerun": new, "stored": old, "setting": cfg}


def generate(path=None, n_jobs: int = 2) -> dict:
    """Make every stored run -- pretraining, the samplers, every fine-tuning method's grid on the tuning
    seeds, the chosen settings on the reported seeds, pass@k -- with ``n_jobs`` torch threads, and write
    them, with the settings, library versions, numerical mode and this command, to ``path`` (default:
    the library's own ``ce_lib/data/reasoning_runs.json``), whole or not at all."""
    path, n_jobs = stored.generate_args(path, n_jobs, DATA_FILE)
    import os

    with _threads(os.cpu_count() if n_jobs == -1 else n_jobs):
        runs = _experiments()
    return stored.write(path, settings=_settings(), runs=runs, command=GENERATE_COMMAND)


def main(argv=None) -> None:
    """``python -m ce_lib.studies.reasoning generate [--out PATH] [--jobs N]``: :func:`generate` from the
    command line (``--jobs``: torch threads); ``generate-difficulty`` runs :func:`generate_difficulty`."""
    stored.generate_cli(argv, prog="python -m ce_lib.studies.reasoning", what="the reasoning chapter's runs",
                        name=DATA_FILE, generate=generate,
                        extra={"generate-difficulty": ("the chapter's difficulty sweep", DIFFICULTY_FILE,
                                                       generate_difficulty)})


if __name__ == "__main__":
    main()
