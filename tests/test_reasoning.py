"""Tests of ce_lib.reasoning: the task, the samplers against enumeration, GRPO's gradient, seeding."""

import itertools
import math

import numpy as np
import pytest
import torch

from ce_lib import reasoning as rs
from ce_lib.studies import reasoning as reasoning_study

TASK = rs.AdditionTask(n_digits=2)


# ----------------------------------------------------------------------------------------------
# Task, tokenizer, verifier
# ----------------------------------------------------------------------------------------------


def test_tokenizer_round_trips():
    text = "3625=S910E"
    assert rs.decode(rs.encode(text)) == text
    ids = np.arange(len(rs.VOCAB))
    assert np.array_equal(rs.encode(rs.decode(ids)), ids)


def test_the_plain_task_draws_its_problems_as_it_always_has():
    """Styles and carries are opt-in: the plain task's prompts are the seed's uniform digits and '='."""
    digits = np.random.default_rng(7).integers(0, 10, size=(5, 4))
    assert np.array_equal(rs.make_problems(TASK, 5, 7)[:, :4], digits)
    assert TASK.prompt_len == 5 and TASK.vocab_size == len(rs.VOCAB) and TASK.n_styles == 0


def test_a_styled_task_opens_each_prompt_with_its_style_and_sets_its_careful_share():
    task = rs.AdditionTask(n_digits=2, p_careful=(0.4, 0.05))
    assert (task.n_styles, task.vocab_size, task.prompt_len) == (2, len(rs.VOCAB) + 2, 6)
    one = rs.make_problems(task._replace(style=1), 40, 0)
    assert np.all(one[:, 0] == len(rs.VOCAB) + 1) and np.all(rs.prompt_styles(task, one) == 1)
    assert rs.verify(task, one, rs.careful_traces(task, one, p_drop=0.0)).all()
    assert rs.show(task, one[0]).startswith("[style 1] ")
    mixed = rs.make_problems(task, 400, 1)
    assert set(rs.prompt_styles(task, mixed)) == {0, 1}
    data = rs.pretraining_data(task, 20000, 2)
    style, careful = data[:, 0] - len(rs.VOCAB), data[:, task.prompt_len] == rs.STEPS
    for k, share in enumerate(task.p_careful):
        n = np.sum(style == k)
        assert abs(careful[style == k].mean() - share) < 5 * math.sqrt(share * (1 - share) / n)
    base = rs.pretrain(task, [0], steps=3, n_threads=1).model
    assert base.tok.shape[1] == task.vocab_size and base.seq_len == task.prompt_len + task.completion_len - 1


def test_style_weights_set_how_often_each_style_is_drawn_and_leave_a_fixed_style_alone():
    task = rs.AdditionTask(n_digits=2, p_careful=(0.4, 0.05, 0.01))
    uniform = rs.make_problems(task, 300, 4)
    same = rs.make_problems(task._replace(style_weights=(1, 1, 1)), 300, 4)  # drawn another way, same law
    assert set(rs.prompt_styles(task, same)) == {0, 1, 2} and uniform.shape == same.shape
    weighted = task._replace(style_weights=(8, 1, 1))
    styles = rs.prompt_styles(task, rs.make_problems(weighted, 20000, 5))
    assert abs(np.mean(styles == 0) - 0.8) < 5 * math.sqrt(0.8 * 0.2 / 20000)
    assert np.mean(styles == 1) == pytest.approx(0.1, abs=0.015)
    only = rs.make_problems(task._replace(style_weights=(0, 0, 2)), 50, 6)
    assert np.all(rs.prompt_styles(task, only) == 2)
    # a fixed style ignores the weights: the same prompts as without them
    assert np.array_equal(rs.make_problems(weighted._replace(style=1), 40, 7),
                          rs.make_problems(task._replace(style=1), 40, 7))
    # the rarity axis's base task gives its commonest style the share the study asks for
    study = reasoning_study
    w = np.asarray(study.level_task("rarity", 0).style_weights)
    assert w[0] / w.sum() == pytest.approx(study.DIFFICULTY.rarity_first_share) and np.allclose(w[1:], w[1])


@pytest.mark.parametrize("c", [0, 1, 2])
def test_problems_with_exactly_c_carries_make_careful_traces_right_about_q_to_the_c(c):
    task = TASK._replace(carries=c)
    prompts = rs.make_problems(task, 20000, c)
    assert np.all(rs.count_carries(TASK, prompts) == c)
    a, b = prompts[:, 0:-1:2], prompts[:, 1:-1:2]
    assert np.unique(a[:, 0] * 10 + b[:, 0]).size > 10  # still a spread of problems
    right = rs.verify(task, prompts, rs.careful_traces(task, prompts, seed=3)).mean()
    q = (1 - task.p_drop) ** c
    assert abs(right - q) < 5 * math.sqrt(max(q * (1 - q), 1e-4) / 20000)
    # counting agrees with the sum: a carry is a place whose digits (plus the carry in) reach 10
    assert np.array_equal(rs.count_carries(TASK, rs.encode("9191=")[None]), [2])
    assert np.array_equal(rs.count_carries(TASK, rs.encode("3625=")[None]), [0])


def test_prompts_and_answers_mean_what_they_say():
    p = rs.encode("3625=")[None]  # 23 + 56, digits least significant first
    assert rs.verify(TASK, p, rs.encode("S9070E")[None])[0]  # 9, carry 0, 7, carry 0 -> 79
    assert rs.verify(TASK, p, rs.encode("G970E.")[None])[0]
    assert not rs.verify(TASK, p, rs.encode("G980E.")[None])[0]
    assert not rs.verify(TASK, p, rs.encode("S907E.")[None])[0]  # no END where it belongs
    p = rs.encode("9999=")[None]  # 99 + 99 = 198: every carry is 1
    assert rs.decode(rs.careful_traces(TASK, p, p_drop=0.0)[0]) == "S8191E"
    assert rs.verify(TASK, p, rs.encode("S8191E")[None])[0]


def test_program_traces_are_always_right_and_guesses_right_at_their_rate():
    prompts = rs.make_problems(TASK, 4000, seed=1)
    assert rs.verify(TASK, prompts, rs.careful_traces(TASK, prompts, seed=2, p_drop=0.0)).all()
    rate = rs.verify(TASK, prompts, rs.guesses(TASK, prompts, seed=3)).mean()
    assert abs(rate - TASK.p_right) < 0.02
    # dropped carries: a trace is wrong exactly when a carry it needed was dropped
    noisy = rs.verify(TASK, prompts, rs.careful_traces(TASK, prompts, seed=4, p_drop=1.0))
    a, b = prompts[:, 0:-1:2], prompts[:, 1:-1:2]
    any_carry = ((a[:, 0] + b[:, 0]) >= 10) | ((a[:, 1] + b[:, 1]) >= 10)
    assert np.array_equal(noisy, ~any_carry)


# ----------------------------------------------------------------------------------------------
# The power distribution against enumeration
# ----------------------------------------------------------------------------------------------

# Two-token answers over {a, b, c} (ids 0, 1, 2), then END. After the example of Karan & Du:
# p(ab) = .40, p(ba) = p(bb) = .25; here p(aa) = .05 and p(bc) = .05, so that the first token's
# marginal favours b (.55 against .45) while p^2 favours a.
A, B, C = 0, 1, 2
SEQ = {(A, A): 0.05, (A, B): 0.40, (B, A): 0.25, (B, B): 0.25, (B, C): 0.05}
PROMPT = torch.full((1, 1, 1), rs.EQUALS, dtype=torch.int64)


def _table(prefix):
    p = np.zeros(len(rs.VOCAB))
    if len(prefix) == 0:
        for (x, _), q in SEQ.items():
            p[x] += q
    elif len(prefix) == 1:
        tot = sum(q for (x, _), q in SEQ.items() if x == prefix[0])
        for (x, y), q in SEQ.items():
            if x == prefix[0]:
                p[y] += q / tot
    else:
        p[rs.END] = 1.0
    return p


TOY = rs.TableModel(_table, prompt_len=1)


def _power(alpha):
    w = {s: q ** alpha for s, q in SEQ.items()}
    z = sum(w.values())
    return {s: v / z for s, v in w.items()}


def test_power_distribution_prefers_a_where_low_temperature_prefers_b():
    power = _power(2.0)
    first_power = {x: sum(v for (y, _), v in power.items() if y == x) for x in (A, B)}
    assert first_power[A] > first_power[B]
    logits = TOY(PROMPT)[0, 0, -1]
    low_t = torch.softmax(logits / 0.5, dim=-1)
    assert low_t[B] > low_t[A]


def test_completion_logprobs_equal_the_table():
    comp = torch.tensor([[[A, B, rs.END], [B, C, rs.END]]])
    lp = rs.completion_logprobs(TOY, PROMPT.expand(1, 2, 1), comp).sum(-1)[0].numpy()
    assert np.allclose(np.exp(lp), [SEQ[(A, B)], SEQ[(B, C)]])


def _empirical(comp):
    keys, counts = np.unique(comp[..., :2].reshape(-1, 2), axis=0, return_counts=True)
    return {tuple(int(v) for v in k): c / counts.sum() for k, c in zip(keys, counts)}


def test_importance_resampling_approaches_the_power_distribution():
    gen = torch.Generator().manual_seed(0)
    n_q, N = 20000, 64
    prompts = PROMPT.expand(1, n_q * N, 1)
    comp = rs.sample(TOY, prompts, 3, generator=gen)
    lp = rs.completion_logprobs(TOY, prompts, comp).sum(-1).reshape(n_q, N)
    pick = rs.power_resample(lp, 2.0, gen)
    chosen = comp[0].reshape(n_q, N, 3)[torch.arange(n_q), pick].numpy()
    emp, exact = _empirical(chosen), _power(2.0)
    for s, q in exact.items():
        assert abs(emp.get(s, 0.0) - q) < 0.02, (s, emp.get(s), q)


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_metropolis_hastings_leaves_the_power_distribution_invariant(tau):
    # chains started anywhere converge to p^alpha; with 4,000 chains the frequencies are within 0.03
    res = rs.power_mcmc(TOY, PROMPT.expand(1, 4000, 1), 3, alpha=2.0, steps=25, proposal_temperature=tau, seed=1)
    emp, exact = _empirical(res.completions[0].numpy()), _power(2.0)
    for s, q in exact.items():
        assert abs(emp.get(s, 0.0) - q) < 0.03, (tau, s, emp.get(s), q)
    assert res.trace.shape == (26, 1, 4000, 3) and res.accepted.shape == (25,)


def test_resampling_weights_are_the_normalized_powers():
    lp = torch.log(torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64))
    w = rs.power_resample(lp, 3.0, expected=True).numpy()
    assert np.allclose(w, np.array([0.25, 0.0625, 0.0625]) / 0.375)
    assert np.allclose(rs.power_resample(lp, 1.0, expected=True).numpy(), 1 / 3)


# ----------------------------------------------------------------------------------------------
# pass@k, GRPO's gradient
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, c, k", [(5, 2, 1), (5, 2, 3), (6, 0, 2), (6, 6, 4), (7, 3, 5), (8, 1, 8)])
def test_pass_at_k_equals_brute_force(n, c, k):
    items = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    brute = np.mean([any(items[i] for i in s) for s in subsets])
    assert math.isclose(float(rs.pass_at_k(n, np.array([c]), k)[0]), brute, abs_tol=1e-12)


def test_grpo_gradient_on_a_one_step_problem_is_the_analytic_one():
    # a softmax policy over 4 answers of one token; at the sampling policy every ratio is 1, so the
    # gradient of the surrogate is -(1 / (N C)) sum_i A_i (e_{a_i} - pi)
    torch.manual_seed(0)
    theta = torch.randn(4, dtype=torch.float64, requires_grad=True)
    actions = torch.tensor([0, 1, 1, 3, 2, 0, 3, 3])
    reward = torch.tensor([1, 0, 0, 1, 0, 1, 1, 0], dtype=torch.float64)
    adv = rs.group_advantages(reward.reshape(2, 4), std_norm=False).reshape(-1)
    logp = torch.log_softmax(theta, 0)[actions][:, None]  # (N, 1 token)
    live = torch.ones_like(logp)
    loss = rs.grpo_loss(logp, logp.detach(), adv, live, completion_len=1)
    loss.backward()
    pi = torch.softmax(theta, 0).detach()
    expected = -sum(a * (torch.nn.functional.one_hot(x, 4).double() - pi) for a, x in zip(adv, actions)) / len(actions)
    assert torch.allclose(theta.grad, expected)
    # the group baseline: advantages sum to zero in every group; std normalization scales them
    g = rs.group_advantages(reward.reshape(2, 4), std_norm=True)
    assert torch.allclose(g.sum(-1), torch.zeros(2, dtype=torch.float64))
    assert torch.allclose(g.std(-1), torch.ones(2, dtype=torch.float64), atol=1e-3)


def test_grpo_clipping_stops_the_gradient_beyond_the_trust_region():
    logp = torch.tensor([[math.log(0.9)]], dtype=torch.float64, requires_grad=True)
    old = torch.tensor([[math.log(0.5)]], dtype=torch.float64)  # ratio 1.8 > 1.2
    loss = rs.grpo_loss(logp, old, torch.tensor([1.0], dtype=torch.float64), torch.ones(1, 1), completion_len=1)
    loss.backward()
    assert logp.grad.abs().item() == 0.0


# ----------------------------------------------------------------------------------------------
# Models: seeding, stacking, fine-tuning bookkeeping
# ----------------------------------------------------------------------------------------------


def test_seeded_pretraining_reproduces_and_a_model_does_not_depend_on_its_neighbours():
    one = rs.pretrain(TASK, [7], steps=15, warmup=5)
    again = rs.pretrain(TASK, [7], steps=15, warmup=5)
    both = rs.pretrain(TASK, [3, 7], steps=15, warmup=5)
    assert np.array_equal(one.loss, again.loss)
    for p, q in zip(one.model.parameters(), again.model.parameters()):
        assert torch.equal(p, q)
    assert np.allclose(one.loss[:, 0], both.loss[:, 1], atol=1e-5)
    assert not np.allclose(both.loss[:, 0], both.loss[:, 1])


def test_stack_models_copies_the_chosen_models():
    pre = rs.pretrain(TASK, [1, 2], steps=2, warmup=1)
    stack = rs.stack_models([pre.model], [[1, 1, 0]])
    tokens = torch.as_tensor(np.stack([rs.make_problems(TASK, 3, 0)] * 3))
    out = stack(tokens)
    ref = pre.model(torch.as_tensor(np.stack([rs.make_problems(TASK, 3, 0)] * 2)))
    assert torch.allclose(out[0], ref[1]) and torch.allclose(out[1], ref[1]) and torch.allclose(out[2], ref[0])


@pytest.mark.parametrize("method", rs.FINETUNE_METHODS)
def test_fine_tuning_counts_its_supervision_and_compute(method):
    pre = rs.pretrain(TASK, [0, 1], steps=3, warmup=1)
    test = torch.as_tensor(np.stack([rs.make_problems(TASK, 20, s) for s in (5, 6)]))
    res = rs.finetune(pre.model, TASK, method, test, [0, 1], steps=4, prompts_per_step=3, group=2, lr=[1e-3, 2e-3],
                      eval_every=2)
    assert np.array_equal(res.cost, [0, 12, 24])  # 3 problems x 2 answers (or traces) per step
    assert res.accuracy.shape == res.greedy.shape == res.flops.shape == res.careful.shape == (3, 2)
    assert np.all(res.flops[0] == 0)
    if method == "sft":  # 6 traces a step, each trained on once: 6 x params x tokens
        per_step = 6 * pre.model.n_params() * 6 * (TASK.prompt_len + TASK.completion_len)
        assert np.allclose(res.flops[1], 2 * per_step)
    else:
        assert np.all(res.flops[2] > res.flops[1])
    again = rs.finetune(pre.model, TASK, method, test, [0, 1], steps=4, prompts_per_step=3, group=2, lr=[1e-3, 2e-3],
                        eval_every=2)
    assert np.array_equal(res.accuracy, again.accuracy) and np.array_equal(res.flops, again.flops)


def test_the_cosine_schedule_warms_up_then_ends_at_a_tenth():
    assert [rs.lr_factor("constant", s, 80, 10) for s in (1, 5, 10, 80)] == [0.1, 0.5, 1.0, 1.0]
    cosine = [rs.lr_factor("cosine", s, 80, 10) for s in range(1, 81)]
    assert cosine[-1] == pytest.approx(rs.FINAL_LR_FRACTION)
    assert cosine[39] == pytest.approx(rs.FINAL_LR_FRACTION + (1 - rs.FINAL_LR_FRACTION) / 2)  # half-way
    assert all(a >= b for a, b in zip(cosine[9:], cosine[10:]))  # decreasing after the warm-up
    with pytest.raises(ValueError, match="schedule"):
        rs.lr_factor("linear", 1, 80, 10)


def test_a_fine_tuning_run_depends_only_on_its_seed_and_stops_as_the_start_of_a_longer_one():
    """Model m's problems, answers and evaluations come from its own seed: the same run alone and in a
    stack with other seeds and settings; and stop_after gives the start of the full run, bit for bit."""
    pre = rs.pretrain(TASK, [4, 9], steps=300, warmup=30)  # long enough to answer some problems right
    test = torch.as_tensor(np.stack([rs.make_problems(TASK, 16, s) for s in (5, 6)]))
    kw = dict(steps=6, prompts_per_step=8, group=4, eval_every=2, epochs=2)
    stack = rs.finetune(rs.stack_models([pre.model], [[0, 1, 1]]), TASK, "grpo", test[[0, 1, 1]], [4, 9, 9],
                        lr=[1e-3, 3e-3, 1e-2], schedule=["cosine", "cosine", "constant"], **kw)
    alone = rs.finetune(rs.stack_models([pre.model], [[1]]), TASK, "grpo", test[[1]], [9], lr=3e-3,
                        schedule="cosine", **kw)
    assert stack.accuracy[:, 1].max() > 0  # rewards, hence gradients, are not all zero
    for field in ("accuracy", "greedy", "flops", "careful"):
        assert np.array_equal(getattr(stack, field)[:, 1], getattr(alone, field)[:, 0]), field
    start = rs.finetune(rs.stack_models([pre.model], [[1]]), TASK, "grpo", test[[1]], [9], lr=3e-3,
                        schedule="cosine", stop_after=4, **kw)
    assert np.array_equal(start.cost, alone.cost[:3]) and np.array_equal(start.accuracy, alone.accuracy[:3])
    assert not torch.equal(stack.model.head[1], stack.model.head[2])  # another setting, another run


def test_sampling_with_one_generator_per_model_does_not_depend_on_the_neighbours():
    pre = rs.pretrain(TASK, [1, 2], steps=5, warmup=2)
    prompts = torch.as_tensor(np.stack([rs.make_problems(TASK, 8, 0)] * 2))
    both = rs.sample(pre.model, prompts, TASK.completion_len, generator=[torch.Generator().manual_seed(s) for s in (3, 4)])
    one = rs.sample(rs.stack_models([pre.model], [[1]]), prompts[1:], TASK.completion_len,
                    generator=[torch.Generator().manual_seed(4)])
    assert torch.equal(both[1], one[0])
    with pytest.raises(ValueError, match="one per model"):
        rs.sample(pre.model, prompts, TASK.completion_len, generator=[torch.Generator()])


def test_hits_need_the_target_held_at_the_next_evaluation():
    cost = np.array([0.0, 10, 20, 30, 40])
    acc = np.array([[0.1, 0.5, 0.2], [0.95, 0.6, 0.3], [0.8, 0.95, 0.4], [0.95, 0.96, 0.5], [0.97, 0.97, 0.95]])
    # run 0 touches 0.9 at 10 but drops at 20, then holds from 30; run 1 holds from 20; run 2 only at the end
    assert np.array_equal(reasoning_study.hits_at(cost, acc, 0.9), [30, 20, np.inf])
    with pytest.raises(ValueError, match="target"):
        reasoning_study.hits_at(cost, acc, 1.5)


def test_ratios_by_target_read_the_same_curves():
    cost = np.arange(0, 60, 10, dtype=float)
    ramp = np.linspace(0.4, 1.0, cost.size)
    out = {"budget": 50.0,
           "grpo": {"cost": cost, "accuracy": np.tile(ramp[:, None], (1, 4))},
           "rft": {"cost": cost, "accuracy": np.tile(np.minimum(ramp + 0.12, 1)[:, None], (1, 4))},
           "sft": {"cost": cost, "accuracy": np.tile(np.minimum(ramp + 0.24, 1)[:, None], (1, 4))}}
    gap = reasoning_study.ratios_by_target(out, targets=(0.75, 0.9))
    assert set(gap) == {0.75, 0.9}
    # ramp: 0.4 .52 .64 .76 .88 1.0 -> grpo reaches 0.75 at 30, rft at 20, sft at 10
    assert np.all(gap[0.75]["hits"]["grpo"] == 30) and np.all(gap[0.75]["hits"]["rft"] == 20)
    assert gap[0.75]["rft"]["ratio"]["median"] == 1.5 and gap[0.75]["sft"]["ratio"]["median"] == 3.0
    assert gap[0.75]["rft"]["information"] == "same" and gap[0.75]["sft"]["information"] == "more"
    with pytest.raises(ValueError, match="out"):
        reasoning_study.ratios_by_target({"budget": 1.0})


def test_the_weak_seeds_sentence_follows_the_numbers():
    inf = np.inf
    none = reasoning_study.weak_seeds_sentence([1, 2, 3], [.9, .8, .9], [1, 2, 3], [1, 1, 1])
    assert none == "Program traces reach the target on all 3 seeds within the budget."
    one = reasoning_study.weak_seeds_sentence([1, inf, 3], [.9, .5, .9], [1, inf, 3], [1, 1, 1])
    assert one.startswith("On one seed even") and "less well" in one and "50%" in one and "90%" in one
    assert "GRPO reaches the target on 0% and rejection sampling on 100%" in one
    some = reasoning_study.weak_seeds_sentence([inf, inf, 3], [.95, .9, .8], [1, inf, 3], [inf, 1, 1])
    assert some.startswith("On 2 of the 3 seeds") and "no worse than the others" in some
    every = reasoning_study.weak_seeds_sentence([inf, inf], [.6, .5], [1, inf], [inf, 1])
    assert every.startswith("On all 2 seeds") and "for the others" not in every


@pytest.mark.parametrize("kwargs, word", [
    (dict(sft_hits=[], careful_accuracy=[], grpo_hits=[], rft_hits=[]), "sft_hits"),
    (dict(sft_hits=[1, 2], careful_accuracy=[.5], grpo_hits=[1, 2], rft_hits=[1, 2]), "careful_accuracy"),
    (dict(sft_hits=[1], careful_accuracy=[1.5], grpo_hits=[1], rft_hits=[1]), "careful_accuracy"),
    (dict(sft_hits=[1], careful_accuracy=[.5], grpo_hits=[np.nan], rft_hits=[1]), "grpo_hits"),
    (dict(sft_hits="1", careful_accuracy=[.5], grpo_hits=[1], rft_hits=[1]), "sft_hits"),
])
def test_the_weak_seeds_sentence_refuses_bad_input(kwargs, word):
    with pytest.raises((ValueError, TypeError), match=word):
        reasoning_study.weak_seeds_sentence(**kwargs)


# ----------------------------------------------------------------------------------------------
# The study's stored runs
# ----------------------------------------------------------------------------------------------


def test_every_fine_tuning_grid_holds_the_schedules_and_grpo_also_its_inner_steps():
    S = reasoning_study.SETTINGS
    assert len(reasoning_study.grid("grpo")) == len(S.lr_grid) * len(S.schedules) * len(S.inner_steps)
    assert {c["schedule"] for c in reasoning_study.grid("rft")} == set(rs.SCHEDULES)
    assert {c["epochs"] for c in reasoning_study.grid("sft")} == {1}
    with pytest.raises(ValueError, match="method"):
        reasoning_study.grid("ppo")


def test_the_stored_runs_match_their_settings_and_tell_the_chosen_settings():
    out = reasoning_study.run()
    S = reasoning_study.SETTINGS
    assert out["seeds"] == list(S.reported_seeds) and out["tuning_seeds"] == list(S.tuning_seeds)
    for method in rs.FINETUNE_METHODS:
        d = out[method]
        assert d["accuracy"].shape == d["greedy"].shape == (S.ft_steps // S.ft_eval_every + 1, len(S.reported_seeds))
        table = reasoning_study.tuning_table(out, method)
        chosen = [r for r in table if r["chosen"]]
        assert len(chosen) == 1 and chosen[0]["sampled_mean"] == min(r["sampled_mean"] for r in table)
    flops = reasoning_study.training_flops(out, "grpo")
    assert np.array_equal(np.isfinite(flops), np.isfinite(out["grpo"]["hits"]))
    be = reasoning_study.break_even(out, "grpo")
    assert np.all(be[np.isfinite(flops)] > 0)


@pytest.mark.slow
def test_a_stored_run_is_reproduced_bit_for_bit():
    """Pretrain seed 0's base model again and fine-tune it with GRPO's chosen setting: every evaluation
    of the stored run, bit for bit (where ce_lib's reproducible numerical mode and the libraries' versions
    are those the runs were made with)."""
    result = reasoning_study.rerun_stored(seed=0, method="grpo", steps=20)
    if not result["exact_expected"]:
        pytest.skip(result["why"])
    assert result["identical"], (result["rerun"], result["stored"])


def test_the_difficulty_sweep_runs_end_to_end_and_reads_back(tmp_path, monkeypatch):
    """A tiny sweep (two seeds, two levels per axis, a few steps) through generate_difficulty and every
    reader: the shapes, the units and the censoring the chapter relies on."""
    from dataclasses import replace

    study = reasoning_study
    configs = {m: study.grid(m)[0] for m in rs.FINETUNE_METHODS}
    monkeypatch.setattr(study, "SETTINGS", replace(study.SETTINGS, pretrain_steps=40, mcmc_steps=2))
    monkeypatch.setattr(study, "DIFFICULTY", replace(study.DIFFICULTY, rarity=(0.4, 0.01), carries=(0, 2), seeds=(0, 1),
                                                      rarity_steps=10, carries_steps=10, eval_every=5, n_test=8,
                                                      draws=(1, 4), axes=("rarity", "carries")))
    monkeypatch.setattr(study, "_chosen_configs", lambda: configs)
    path = tmp_path / "difficulty.json"
    study.generate_difficulty(path, n_jobs=1)
    for axis in study.AXES:
        d = study.difficulty(axis, path)
        assert d["base_careful"].shape == (2, 2) and d["mcmc"].shape == (2, 2)
        for fam in study.FAMILIES:
            assert d[fam]["hits"].shape == (2, 2)
            assert np.all(np.isinf(d[fam]["hits"]) | (d[fam]["hits"] <= d[fam]["budget"][:, None]))
        assert d["sft"]["unit"] == "traces" and d["best_of_n"]["unit"] == "answers per query"
        assert d["grpo"]["budget"][0] == 10 * study.SETTINGS.ft_prompts * study.SETTINGS.ft_group
        rows = study.difficulty_table(d)
        assert len(rows) == len(study.FAMILIES) * 2 and all(0 <= r["rate"] <= 1 for r in rows)
        slopes = study.difficulty_slopes(d)
        assert set(slopes) == {*study.FAMILIES, "grpo-rft", "grpo-sft"}
    # a level's careful share follows its style's prior: the rare style is sampled less
    d = study.difficulty("rarity", path)
    assert np.all(d["base_careful"][1] <= d["base_careful"][0])
    with pytest.raises(ValueError, match="settings"):  # another sweep's settings: refused, naming them
        monkeypatch.setattr(study, "DIFFICULTY", replace(study.DIFFICULTY, n_test=9))
        study.difficulty("rarity", path)


def test_the_difficulty_levels_are_tasks_and_bad_levels_are_named():
    study = reasoning_study
    assert study.level_task("rarity", 1).style == 1 and study.level_task("rarity", 1).n_styles == len(study.DIFFICULTY.rarity)
    assert study.level_task("carries", 2).carries == study.DIFFICULTY.carries[2]
    assert np.allclose(study.difficulty_levels("rarity"), 1 / np.asarray(study.DIFFICULTY.rarity))
    assert study.difficulty_levels("carries")[0] == 1.0
    for bad, match in ((("depth", 0), "axis"), (("rarity", 99), "level"), (("carries", -1), "level")):
        with pytest.raises(ValueError, match=match):
            study.level_task(*bad)
    with pytest.raises(ValueError, match="axis"):
        study.difficulty_levels("depth")
    with pytest.raises(ValueError, match="difficulty"):
        study.difficulty_table({"x": 1})


def test_the_words_for_a_slope_follow_its_interval():
    from ce_lib.experiments import Interval

    study = reasoning_study
    assert study.describe_slope(Interval(0.1, -0.2, 0.3)).startswith("does not measurably grow")
    assert study.describe_slope(Interval(0.5, 0.2, 0.8)).startswith("grows, more slowly")
    assert study.describe_slope(Interval(0.9, 0.6, 1.3)).startswith("grows about in proportion")
    assert study.describe_slope(Interval(1.6, 1.2, 2.0)).startswith("grows faster")
    assert study.describe_slope(Interval(-0.6, -0.9, -0.2)).startswith("falls")
    assert "(slope 0.50 [0.20, 0.80])" in study.describe_slope(Interval(0.5, 0.2, 0.8))
    assert study.describe_difference(Interval(0.4, 0.1, 0.7), "RFT's").startswith("GRPO's cost grows faster than RFT's (")
    assert study.describe_difference(Interval(-0.4, -0.7, -0.1), "RFT's").startswith("GRPO's cost grows more slowly")
    assert "cannot tell apart" in study.describe_difference(Interval(0.1, -0.2, 0.4), "RFT's")
    with pytest.raises(TypeError, match="slope"):
        study.describe_slope(0.5)
    with pytest.raises(ValueError, match="slope"):
        study.describe_slope(Interval(0.5, 0.9, 0.2))
    with pytest.raises(TypeError, match="other"):
        study.describe_difference(Interval(0.1, -0.2, 0.4), "")


def test_the_stored_difficulty_sweep_matches_its_settings_and_covers_every_level():
    study = reasoning_study
    runs = study.load_difficulty()["runs"]
    assert runs["configs"] == {m: study.grid(m)[int(study.load_data()["runs"][m]["best"]["sampled"])]
                               for m in rs.FINETUNE_METHODS}
    for axis in study.DIFFICULTY.axes:
        levels = study.DIFFICULTY.rarity if axis == "rarity" else study.DIFFICULTY.carries
        assert len(runs[axis]) == len(levels)
        d = study.difficulty(axis)
        assert d["grpo"]["hits"].shape == (len(levels), len(study.DIFFICULTY.seeds))
    # on the pivots axis, careful traces are right less often with every carry
    acc = np.nanmedian(study.difficulty("carries")["careful_accuracy"], axis=1)
    assert np.all(np.diff(acc) < 0) and acc[0] > 0.9
    # on the rarity axis, the base models open careful traces less often at every rarer style, and
    # their careful traces are about as good at every level where there are enough to judge
    dr = study.difficulty("rarity")
    share = np.median(dr["base_careful"], axis=1)
    assert np.all(np.diff(share) <= 0) and share[0] > 0.3
    assert np.nanmedian(dr["careful_accuracy"][:3]) > 0.75
    records = study.headline()
    assert len(records) == 4 + len(study.DIFFICULTY.axes) and all(r["information"] == "same" for r in records[4:])
    with pytest.raises(ValueError, match="axis"):
        study.difficulty("depth")


@pytest.mark.slow
@pytest.mark.parametrize("axis, level", [("carries", 2), ("rarity", 3)])
def test_a_cell_of_the_difficulty_sweep_is_made_again_bit_for_bit(axis, level):
    out = reasoning_study.rerun_difficulty(axis, level=level, seed=0, method="grpo", steps=10)
    if not out["exact_expected"]:
        pytest.skip(out["why"])
    assert out["identical"], (out["rerun"], out["stored"])


@pytest.mark.parametrize("argv, flag", [
    (["generate", "--jobs", "0"], "--jobs"),
    (["generate-difficulty", "--jobs", "-3"], "--jobs"),
    (["generate-difficulty", "--out", "/no/such/folder/sweep.json"], "--out"),
    (["generate-everything"], "invalid choice"),
])
def test_the_generate_commands_name_the_flag_before_any_run(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        reasoning_study.main(argv)
    assert exit_.value.code == 2 and flag in capsys.readouterr().err


def test_a_flat_cost_is_not_said_to_fall():
    from ce_lib.experiments import Interval

    words = reasoning_study.describe_slope(Interval(-1e-16, -2e-16, -1e-17))
    assert words.startswith("does not measurably grow") and "-0.00" not in words
