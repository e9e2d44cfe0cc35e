"""The study of the chapter on reasoning models (:ref:`ch-reasoning`): its settings and experiments.

What the chapter runs and the numbers its prose glues: the task, the seeds, the pretraining and
fine-tuning budgets, the grids every method is tuned on, the study that runs them all, and the
scoreboard records. The problems and learners are the library's, :mod:`ce_lib.reasoning`; this
module only chooses and runs them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..experiments import (
    check_finite_array,
    check_positive_int,
    check_real,
    child_seed,
    reported_seeds,
    tuning_seeds,
)
from ..experiments import torch_threads as _threads
from ..reasoning import (
    FINETUNE_METHODS,
    STEPS,
    AdditionTask,
    FinetuneResult,
    LMEnsemble,
    _live,
    _stack_seeds,
    _torch_gen,
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
    "Settings", "SETTINGS", "hits_at", "ratios_by_target", "study", "LABELS", "answer_flops",
    "smallest_draws", "serving_hits", "run", "headline", "weak_seeds_sentence",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    # The task of the chapter: two-digit addition, 40% careful traces, carries dropped 15% of the time.
    task: AdditionTask = AdditionTask(n_digits=2)
    # Reported seeds (a seed is a base model, its test problems and its fine-tuning data).
    reported_seeds: tuple = reported_seeds(10)
    # Seeds on which every method's settings are chosen (their own base models and test problems).
    tuning_seeds: tuple = tuning_seeds(3)
    pretrain_steps: int = 3000  # pretraining steps (batch 64, Adam, lr 0.01 with warm-up and cosine decay)
    n_test: int = 200  # test problems per seed
    target: float = 0.9  # accuracy to reach (one answer per query, sampled at temperature 1)
    alpha: float = 4.0  # the power of the power distribution
    ft_steps: int = 80  # fine-tuning steps
    ft_prompts: int = 16  # problems per fine-tuning step
    ft_group: int = 8  # answers (or traces) per problem and step
    ft_eval_every: int = 5  # fine-tuning steps between evaluations
    # Learning rates tried for every fine-tuning method (GRPO also with and without std normalization).
    lr_grid: tuple = (1e-3, 3e-3, 1e-2)
    # Candidates per query tried for best-of-n and for power sampling by importance resampling.
    draws: tuple = (1, 2, 4, 8, 16, 32)
    mcmc_steps: int = 24  # Metropolis-Hastings steps per chain
    mcmc_temperatures: tuple = (1.0, 1.0 / 4.0)  # the proposal temperatures compared
    queries: int = 1000  # queries served in the compute comparison
    temperatures: tuple = (1.0, 0.5, 0.25, 0.0)  # low temperatures compared with temperature 1 (0: greedy)
    pass_test: int = 40  # test problems per seed for pass@k
    pass_k: int = 32  # answers drawn per problem for pass@k
    power_pass_draws: int = 8  # candidates per power-sampled answer in the pass@k comparison


SETTINGS = Settings()
"""The settings the chapter runs with."""



def _grid(method: str) -> list[dict]:
    if method == "grpo":
        return [dict(lr=lr, std_norm=s) for lr in SETTINGS.lr_grid for s in (True, False)]
    return [dict(lr=lr) for lr in SETTINGS.lr_grid]


def _test_prompts(seeds) -> torch.Tensor:
    return torch.as_tensor(np.stack([make_problems(SETTINGS.task, SETTINGS.n_test, child_seed(s, 5)) for s in seeds]))


def _sampler_study(model: LMEnsemble, seeds) -> dict:
    """Everything that needs no training: temperatures, best-of-n, power sampling (IR, MCMC)."""
    test = _test_prompts(seeds)
    M, n = len(seeds), max(SETTINGS.draws)
    out = {"temperature": {}, "careful": {}}
    for k, T in enumerate(SETTINGS.temperatures):
        a, c = accuracy(model, SETTINGS.task, test, temperature=T, samples=4, seed=child_seed(seeds[0], 10 + k))
        out["temperature"][T], out["careful"][T] = a, c
    rep = test.repeat_interleave(n, dim=1)
    comp = sample(model, rep, SETTINGS.task.completion_len, generator=_torch_gen(child_seed(seeds[0], 20)))
    lp = completion_logprobs(model, rep, comp).sum(-1).reshape(M, SETTINGS.n_test, n)
    ok = np.stack([verify(SETTINGS.task, rep[m].numpy(), comp[m].numpy()) for m in range(M)]).reshape(M, SETTINGS.n_test, n)
    out["logp"], out["ok"] = lp.numpy(), ok
    out["is_careful"] = (comp[..., 0] == STEPS).numpy().reshape(M, SETTINGS.n_test, n)
    out["tokens_per_answer"] = float(_live(comp).sum(-1).double().mean())
    # best-of-n with the verifier = pass@n; power sampling from the first N draws, exactly in expectation
    out["best_of_n"] = {N: pass_at_k(n, ok.sum(-1), N).mean(-1) for N in SETTINGS.draws}
    out["power_ir"] = {N: np.stack([(power_resample(lp[..., s:s + N], SETTINGS.alpha, expected=True).numpy()
                                     * ok[..., s:s + N]).sum(-1).mean(-1) for s in range(0, n, N)]).mean(0)
                       for N in SETTINGS.draws}
    out["mcmc"] = {}
    for k, tau in enumerate(SETTINGS.mcmc_temperatures):
        res = power_mcmc(model, test, SETTINGS.task.completion_len, alpha=SETTINGS.alpha, steps=SETTINGS.mcmc_steps, proposal_temperature=tau,
                         seed=child_seed(seeds[0], 30 + k))
        acc = np.stack([[verify(SETTINGS.task, test[m].numpy(), res.trace[s, m].numpy()).mean() for m in range(M)]
                        for s in range(SETTINGS.mcmc_steps + 1)])
        out["mcmc"][tau] = dict(accuracy=acc, tokens=res.tokens, accepted=res.accepted)
    return out


def _finetune_grid(model: LMEnsemble, seeds, method: str, configs: list[dict]) -> list[FinetuneResult]:
    """Every configuration on every seed, as one stack (configurations differ in lr only, or are
    run one stack per std-normalization choice)."""
    M = len(seeds)
    test = _test_prompts(seeds)
    groups: dict = {}
    for i, cfg in enumerate(configs):
        groups.setdefault(cfg.get("std_norm", True), []).append(i)
    results: list = [None] * len(configs)
    for std, idx in groups.items():
        stack = stack_models([model], [list(range(M)) * len(idx)])
        lrs = np.repeat([configs[i]["lr"] for i in idx], M)
        res = finetune(stack, SETTINGS.task, method, test.repeat(len(idx), 1, 1), list(seeds) * len(idx),
                       steps=SETTINGS.ft_steps, prompts_per_step=SETTINGS.ft_prompts, group=SETTINGS.ft_group, lr=lrs, std_norm=std,
                       eval_every=SETTINGS.ft_eval_every)
        for j, i in enumerate(idx):
            sl = slice(j * M, (j + 1) * M)
            results[i] = FinetuneResult(stack_models([res.model], [list(range(j * M, (j + 1) * M))]), res.cost,
                                        res.accuracy[:, sl], res.flops[:, sl], res.careful[:, sl])
    return results


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


def _hits(res: FinetuneResult) -> np.ndarray:
    return hits_at(res.cost, res.accuracy)


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
    from ..experiments import MethodResult, make_record

    if not isinstance(out, dict) or not all(k in out for k in (*FINETUNE_METHODS, "budget")):
        raise ValueError("out must be the dict returned by study() (with every fine-tuning method and the budget)")
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


def _pass_curve(ok: np.ndarray) -> np.ndarray:
    """pass@k for k = 1..n from ``(M, problems, n)`` verdicts: ``(M, n)``."""
    n = ok.shape[-1]
    c = ok.sum(-1)
    return np.stack([pass_at_k(n, c, k).mean(-1) for k in range(1, n + 1)], axis=-1)


def _pass_study(models: dict, seeds) -> dict:
    test = _test_prompts(seeds)[:, :SETTINGS.pass_test]
    M = len(seeds)
    out = {}
    for i, (name, model) in enumerate(models.items()):
        rep = test.repeat_interleave(SETTINGS.pass_k, dim=1)
        comp = sample(model, rep, SETTINGS.task.completion_len, generator=_torch_gen(child_seed(seeds[0], 40 + i)))
        ok = np.stack([verify(SETTINGS.task, rep[m].numpy(), comp[m].numpy()) for m in range(M)]).reshape(M, SETTINGS.pass_test, SETTINGS.pass_k)
        out[name] = _pass_curve(ok)
    base = models["base"]
    n = SETTINGS.pass_k * SETTINGS.power_pass_draws
    rep = test.repeat_interleave(n, dim=1)
    gen = _torch_gen(child_seed(seeds[0], 49))
    comp = sample(base, rep, SETTINGS.task.completion_len, generator=gen)
    lp = completion_logprobs(base, rep, comp).sum(-1).reshape(M, SETTINGS.pass_test, SETTINGS.pass_k, SETTINGS.power_pass_draws)
    pick = power_resample(lp, SETTINGS.alpha, gen)  # (M, SETTINGS.pass_test, SETTINGS.pass_k)
    ok = np.stack([verify(SETTINGS.task, rep[m].numpy(), comp[m].numpy()) for m in range(M)]).reshape(lp.shape)
    out["power"] = _pass_curve(np.take_along_axis(ok, pick.numpy()[..., None], -1)[..., 0])
    return out


def study(seeds: Sequence[int] = SETTINGS.reported_seeds, tuning_seeds: Sequence[int] = SETTINGS.tuning_seeds,
          n_threads: int | None = 2) -> dict:
    """Run the chapter's comparison: pretrain one base model per seed, then every method on it.

    Every fine-tuning method is tuned over its grid on ``tuning_seeds`` (their own base models and
    test problems), chosen by :func:`ce_lib.experiments.tuning_score` of its supervision to
    ``SETTINGS.target``, and run with that setting on ``seeds``. Returns a dict of plain arrays (no
    models): accuracies, costs, compute, wall-clock seconds.
    """
    import time

    from ..experiments import best_by_tuning, grid_tuning

    seeds, tuning_seeds = _stack_seeds(seeds), _stack_seeds(tuning_seeds)
    if set(seeds) & set(tuning_seeds):
        raise ValueError("seeds and tuning_seeds must not overlap")
    everyone = seeds + tuning_seeds
    M = len(seeds)
    with _threads(n_threads):
        t0 = time.perf_counter()
        pre = pretrain(SETTINGS.task, everyone, steps=SETTINGS.pretrain_steps)
        seconds = {"pretrain": (time.perf_counter() - t0) / len(everyone)}
        rep = stack_models([pre.model], [list(range(M))])
        tun = stack_models([pre.model], [list(range(M, len(everyone)))])
        out = dict(seeds=seeds, tuning_seeds=tuning_seeds, n_params=rep.n_params(), pretrain_loss=pre.loss[:, :M])
        t0 = time.perf_counter()
        out["samplers"] = _sampler_study(rep, seeds)
        seconds["samplers"] = (time.perf_counter() - t0) / M
        out["samplers_tuning"] = _sampler_study(tun, tuning_seeds)
        budget = SETTINGS.ft_steps * SETTINGS.ft_prompts * SETTINGS.ft_group
        models = {"base": rep}
        for method in FINETUNE_METHODS:
            grid = _grid(method)
            tuned = _finetune_grid(tun, tuning_seeds, method, grid)
            tuning_hits = [_hits(r) for r in tuned]
            best = best_by_tuning(tuning_hits, budget)
            t0 = time.perf_counter()
            res = _finetune_grid(rep, seeds, method, [grid[best]])[0]
            seconds[method] = (time.perf_counter() - t0) / M
            models[method] = res.model
            out[method] = dict(grid=grid, best=best, tuning_hits=tuning_hits, hits=_hits(res), cost=res.cost,
                               accuracy=res.accuracy, flops=res.flops, careful=res.careful,
                               tuning=grid_tuning(len(grid), tuning_seeds),
                               tuning_accuracy=[r.accuracy for r in tuned], tuning_flops=[r.flops for r in tuned])
        t0 = time.perf_counter()
        out["pass_at_k"] = _pass_study(models, seeds)
        seconds["pass_at_k"] = (time.perf_counter() - t0) / M
        out["seconds"] = seconds
        out["budget"] = budget
    return out


#: Names a reader recognises, for tables and legends.
LABELS = {"grpo": "GRPO-style RL", "rft": "rejection-sampling fine-tuning", "sft": "fine-tuning on program traces",
          "power_ir": "power sampling (importance resampling)", "power_mcmc": "power sampling (MCMC)",
          "best_of_n": "best-of-n with the verifier", "base": "base model"}


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


def serving_hits(out: dict, which: str) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Compute to answer ``SETTINGS.queries`` queries at ``SETTINGS.target`` accuracy, per reported and
    tuning seed, for ``"grpo"`` (training to the target, then one answer per query) or a
    sampler ``"power_ir"`` / ``"best_of_n"`` (N draws per query, N chosen on the tuning seeds).
    Misses are ``inf``. Returns (reported, tuning, N)."""
    per = answer_flops(out["n_params"])
    if which == "grpo":
        d = out["grpo"]

        def at_hit(hits, flops):
            return np.array([flops[np.flatnonzero(d["cost"] == h)[0], j] + SETTINGS.queries * per if np.isfinite(h) else np.inf
                             for j, h in enumerate(hits)])

        return (at_hit(d["hits"], d["flops"]), at_hit(d["tuning_hits"][d["best"]], d["tuning_flops"][d["best"]]),
                None)
    if which not in ("power_ir", "best_of_n"):
        raise ValueError(f"which must be 'grpo', 'power_ir' or 'best_of_n', got {which!r}")
    n = smallest_draws(out["samplers_tuning"][which])
    if n is None:
        return (np.full(len(out["seeds"]), np.inf), np.full(len(out["tuning_seeds"]), np.inf), None)
    cost = SETTINGS.queries * n * per
    rep = np.where(out["samplers"][which][n] >= SETTINGS.target, cost, np.inf)
    tun = np.where(out["samplers_tuning"][which][n] >= SETTINGS.target, cost, np.inf)
    return rep, tun, n


def run(n_seeds: int | None = None) -> dict:
    """The chapter's study, cached (see :func:`ce_lib.experiments.cached`)."""
    from ..experiments import cached

    seeds = SETTINGS.reported_seeds if n_seeds is None else tuple(range(check_positive_int(n_seeds, "n_seeds")))
    return cached(study, seeds=list(seeds), tuning_seeds=list(SETTINGS.tuning_seeds))


def headline(n_seeds: int | None = None) -> list[dict]:
    """The chapter's scoreboard records (see :mod:`ce_lib.scoreboard`)."""
    from ..experiments import MethodResult, make_record

    out = run(n_seeds)
    budget = out["budget"]
    task = "two-digit addition with a verifier"
    metric = f"verifier calls to {SETTINGS.target:.0%} accuracy (one answer per query)"
    m = {k: MethodResult(LABELS[k], fam, out[k]["hits"], out[k]["tuning"], out[k]["tuning_hits"][out[k]["best"]])
         for k, fam in (("grpo", "rl"), ("rft", "ce"), ("sft", "ce"))}
    records = [
        make_record(chapter="reasoning", task=task, metric=metric, target=SETTINGS.target, budget=budget, information="same",
                    methods=[m["grpo"], m["rft"]]),
        make_record(chapter="reasoning", task=task,
                    metric=f"supervision to {SETTINGS.target:.0%} accuracy (verifier calls for RL, traces for supervision)",
                    target=SETTINGS.target, budget=budget, information="more",
                    ce_given="the task's algorithm: traces written by the task's own program", methods=[m["grpo"], m["sft"]]),
    ]
    g_rep, g_tun, _ = serving_hits(out, "grpo")
    flop_budget = float(np.max(out["grpo"]["flops"][-1]) + SETTINGS.queries * max(SETTINGS.draws) * answer_flops(out["n_params"]))
    methods = [MethodResult(LABELS["grpo"], "rl", g_rep, m["grpo"].tuning, g_tun)]
    for k in ("power_ir", "best_of_n"):
        rep, tun, n = serving_hits(out, k)
        tuning = (f"draws per query: smallest of {list(SETTINGS.draws)} reaching the target on seeds "
                  f"{out['tuning_seeds'][0]}-{out['tuning_seeds'][-1]}" + ("" if n else " (none did)"))
        methods.append(MethodResult(LABELS[k] + (f", {n} draws" if n else ""), "ce", rep, tuning, tun))
    records.append(make_record(chapter="reasoning", task=task,
                               metric=f"training and sampling FLOPs to answer {SETTINGS.queries:,} queries at {SETTINGS.target:.0%} accuracy",
                               target=SETTINGS.target, budget=flop_budget, information="same", methods=methods))
    return records


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
