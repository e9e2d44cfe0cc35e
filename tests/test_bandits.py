import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ce_lib import bandits as b
from ce_lib.studies import bandits as bandits_study


TWO = b.BernoulliBandit([0.6, 0.4])


def test_ucb_regret_is_below_its_theoretical_bound():
    # UCB1 (Auer et al. 2002, Theorem 1) for rewards in [0, 1]:
    # E R_T <= sum_k (8 log T / Delta_k) + (1 + pi^2 / 3) sum_k Delta_k.
    T, delta = 5000, 0.2
    run = b.simulate(b.UCB(c=np.sqrt(2)), TWO, T, 400, seed=0)
    mean_regret = run.regret.sum(axis=1).mean()
    bound = 8 * np.log(T) / delta + (1 + np.pi**2 / 3) * delta
    assert mean_regret < bound


def test_thompson_sampling_concentrates_on_the_best_arm():
    run = b.simulate(b.ThompsonSampling(), TWO, 3000, 200, seed=1)
    assert run.optimal[:, -500:].mean() > 0.95


def test_kl_ucb_and_ts_beat_epsilon_greedy_and_greedy_on_average():
    env = b.BernoulliBandit(bandits_study.SETTINGS.instance)
    regret = {a.name: b.simulate(a, env, 5000, 200, seed=2).regret.sum(axis=1).mean()
              for a in (b.Greedy(), b.EpsilonGreedy(0.1), b.KLUCB(), b.ThompsonSampling())}
    assert regret["KL-UCB"] < regret["epsilon-greedy"] and regret["Thompson sampling"] < regret["greedy"]


def test_greedy_sometimes_locks_onto_a_bad_arm():
    run = b.simulate(b.Greedy(), TWO, 2000, 500, seed=3)
    stuck = run.optimal[:, -500:].mean(axis=1) == 0
    assert 0.02 < stuck.mean() < 0.6  # some runs never recover: linear regret


def test_explore_then_commit_explores_round_robin_then_commits():
    run = b.simulate(b.ExploreThenCommit(5), b.GaussianBandit([0.0, -1.0]), 50, 3, seed=0)
    np.testing.assert_array_equal(run.regret[:, :10], np.tile([0.0, 1.0] * 5, (3, 1)))
    assert np.all(run.regret[:, 10:] == run.regret[:, 10:11])  # committed: the same arm every round


def test_gradient_bandit_learns_the_best_arm_and_is_rl():
    agent = b.GradientBandit(0.1)
    assert agent.family == "rl"
    run = b.simulate(agent, TWO, 3000, 200, seed=4)
    assert run.optimal[:, -500:].mean() > 0.8


def test_epsilon_one_is_uniform():
    run = b.simulate(b.EpsilonGreedy(1.0), b.BernoulliBandit([0.9, 0.1, 0.1, 0.1]), 2000, 50, seed=5)
    assert run.optimal.mean() == pytest.approx(0.25, abs=0.02)


def test_testbed_reproduces_sutton_barto_orderings():
    tb = bandits_study.testbed(n_runs=500, horizon=1000, seed=0)
    late = {k: v["optimal"][-100:].mean() for k, v in tb.items() if k != "expected_best"}
    assert late["greedy (epsilon = 0)"] < late["epsilon = 0.01"] < late["epsilon = 0.1"]
    assert 0.25 < late["greedy (epsilon = 0)"] < 0.45  # "approximately one-third of the tasks"
    assert tb["expected_best"] == pytest.approx(1.54, abs=0.05)  # E max of 10 standard normals


def test_simulation_is_reproducible_and_shaped():
    a = b.simulate(b.ThompsonSampling(), TWO, 100, 7, seed=9)
    c = b.simulate(b.ThompsonSampling(), TWO, 100, 7, seed=9)
    assert a.regret.shape == (7, 100)
    np.testing.assert_array_equal(a.regret, c.regret)


def test_per_run_instances():
    means = np.array([[0.9, 0.1], [0.1, 0.9]])
    run = b.simulate(b.ThompsonSampling(), b.BernoulliBandit(means), 500, 2, seed=0)
    assert run.optimal[:, -100:].mean() > 0.9


@settings(max_examples=30, deadline=None)
@given(p=st.floats(0.01, 0.99), q=st.floats(0.01, 0.99))
def test_kl_bernoulli_is_a_divergence(p, q):
    assert b.kl_bernoulli(p, q) >= -1e-12
    assert b.kl_bernoulli(p, p) == pytest.approx(0.0, abs=1e-12)
    # Pinsker: kl(p, q) >= 2 (p - q)^2
    assert b.kl_bernoulli(p, q) >= 2 * (p - q) ** 2 - 1e-12


def test_lai_robbins_constant_golden_case():
    assert b.lai_robbins_constant([0.5, 0.4]) == pytest.approx(0.1 / b.kl_bernoulli(0.4, 0.5))


def test_etc_bound_matches_theorem_6_1():
    assert bandits_study.etc_regret_bound(0.5, 1000, 10) == pytest.approx(10 * 0.5 + 980 * 0.5 * np.exp(-10 * 0.25 / 4))


def test_headline_record_validates(monkeypatch):
    from ce_lib.scoreboard import validate_record

    from dataclasses import replace

    small = replace(bandits_study.SETTINGS, gradient_bandit_steps=(0.4,), tsallis_scales=(2.0,), exp3_scales=(1.0,))
    monkeypatch.setattr(bandits_study, "SETTINGS", small)
    rec = bandits_study._headline(n_seeds=4)
    validate_record(rec)
    assert rec["chapter"] == "bandits" and rec["information"] == "same"
    rl = {m["name"].split(" (")[0]: m for m in rec["methods"] if m["family"] == "rl"}
    assert set(rl) == {"gradient bandit", "Tsallis-INF", "EXP3"}
    assert "grid of 2" in rl["gradient bandit"]["tuning"] and "grid of 1" in rl["EXP3"]["tuning"]


def _ftrl_by_bisection(L, eta):
    """The Tsallis-INF distribution from its optimality conditions, by bisection on the normalizer."""
    lo, hi = L.min() - 1e6, L.min() - 1e-12
    for _ in range(200):
        x = 0.5 * (lo + hi)
        total = np.sum(4.0 / (eta * (L - x)) ** 2)
        lo, hi = (x, hi) if total < 1 else (lo, x)
    w = 4.0 / (eta * (L - 0.5 * (lo + hi))) ** 2
    return w / w.sum()


def test_tsallis_weights_solve_the_ftrl_problem():
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    for _ in range(20):
        L = rng.exponential(scale=rng.choice([0.1, 10.0, 1000.0]), size=5)
        eta = 2.0 / np.sqrt(rng.integers(1, 10_000))
        w = b.tsallis_weights(L, eta)
        np.testing.assert_allclose(w, _ftrl_by_bisection(L, eta), rtol=1e-8, atol=1e-12)
    # and the same point minimizes <w, L> - (4 / eta) sum sqrt(w) over the simplex (a generic solver)
    L, eta = np.array([3.0, 1.0, 2.5, 4.0]), 0.7
    objective = lambda w: w @ L - 4.0 / eta * np.sum(np.sqrt(np.maximum(w, 0.0)))
    res = minimize(objective, np.full(4, 0.25), method="SLSQP", bounds=[(1e-9, 1)] * 4,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}], options={"ftol": 1e-14})
    np.testing.assert_allclose(b.tsallis_weights(L, eta), res.x, atol=1e-5)


def test_tsallis_weights_batched_and_uniform_for_equal_losses():
    w = b.tsallis_weights(np.zeros((3, 4)), np.array([0.1, 1.0, 10.0]))
    np.testing.assert_allclose(w, 0.25)
    w = b.tsallis_weights(np.array([[0.0, 50.0], [50.0, 0.0]]), 1.0)
    assert w[0, 0] > 0.99 and w[1, 1] > 0.99


@pytest.mark.parametrize("agent", [b.TsallisINF(1.0), b.TsallisINF(2.0, "rv"), b.EXP3(4.0)])
def test_policy_learners_find_a_clear_best_arm(agent):
    run = b.simulate(agent, b.BernoulliBandit([0.9, 0.1]), 2000, 20, seed=0)
    assert run.optimal[:, -200:].mean() > 0.9
    # regret grows sublinearly: the second half costs less than the first
    assert run.regret[:, 1000:].sum() < run.regret[:, :1000].sum()


def test_importance_weighted_estimates_are_unbiased():
    """EXP3 with a tiny learning rate plays nearly uniformly; its loss estimates then average to t * (1 - mu)."""
    agent = b.EXP3(1e-6)
    b.simulate(agent, b.BernoulliBandit([0.8, 0.5, 0.2]), 3000, 400, seed=1)
    np.testing.assert_allclose(agent.L.mean(axis=0) / 3000, [0.2, 0.5, 0.8], atol=0.02)


@pytest.mark.parametrize("call, match", [
    (lambda: b.BernoulliBandit([0.5, 1.5]), "probabilities"),
    (lambda: b.BernoulliBandit([0.5]), "K >= 2"),
    (lambda: b.GaussianBandit([0.0, 1.0], sigma=0), "sigma"),
    (lambda: b.GaussianBandit([0.0, 1.0], sigma=-1.0), "sigma"),
    (lambda: b.GaussianBandit(np.zeros((2, 2, 2))), "means"),
    (lambda: b.GaussianBandit([0.0, np.nan]), "finite"),
    (lambda: b.EpsilonGreedy(1.5), "epsilon"),
    (lambda: b.UCB(c=-1), "c must"),
    (lambda: b.GradientBandit(alpha=0), "alpha"),
    (lambda: b.TsallisINF(c=0), "c must"),
    (lambda: b.TsallisINF(estimator="ix"), "estimator"),
    (lambda: b.EXP3(c=-1.0), "c must"),
    (lambda: b.tsallis_weights([1.0], 1.0), "losses"),
    (lambda: b.tsallis_weights([1.0, 2.0], 0.0), "eta"),
    (lambda: bandits_study.tune_policy_learner("PPO"), "name must"),
    (lambda: bandits_study.regret_curves(rl_settings={"PPO": {}}), "rl_settings"),
    (lambda: b.ExploreThenCommit(0), "m must"),
    (lambda: b.simulate(b.UCB(), TWO, 0, 5, seed=0), "horizon"),
    (lambda: b.simulate(b.UCB(), TWO, 10, 0, seed=0), "n_runs"),
    (lambda: b.simulate(b.UCB(), b.BernoulliBandit(np.full((3, 2), 0.5)), 10, 4, seed=0), "rows"),
    (lambda: bandits_study.rounds_to_commit(b.UCB(), horizon=50, n_runs=2), "window"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="bandit"):
        b.simulate(b.UCB(), [0.5, 0.4], 10, 2, seed=0)
    with pytest.raises(TypeError, match="agent"):
        b.simulate("ucb", TWO, 10, 2, seed=0)


# ---- closed forms and references --------------------------------------------------------------

def test_thompson_posteriors_match_the_closed_forms():
    ts = b.ThompsonSampling()
    ts.reset(1, 2, b.BernoulliBandit([0.5, 0.5]))
    for arm, r in [(0, 1.0), (0, 0.0), (0, 1.0), (1, 0.0)]:
        ts.update(np.array([arm]), np.array([r]))
    a, bb = ts.posterior()
    np.testing.assert_array_equal(a, [[3.0, 1.0]])   # Beta(1 + successes, ...)
    np.testing.assert_array_equal(bb, [[2.0, 2.0]])  # ... 1 + failures)
    g = b.ThompsonSampling()
    g.reset(1, 2, b.GaussianBandit([0.0, 0.0], sigma=2.0))
    for r in (1.0, 2.0, 6.0):
        g.update(np.array([0]), np.array([r]))
    mean, sd = g.posterior()
    assert mean[0, 0] == pytest.approx(3.0) and sd[0, 0] == pytest.approx(2.0 / np.sqrt(3))
    assert np.isinf(sd[0, 1])


def _reference_ucb(means, tape, horizon, c):
    """A plain per-run UCB, written independently of the vectorized code."""
    k = len(means)
    counts, sums, regret = [0] * k, [0.0] * k, []
    for t in range(1, horizon + 1):
        untried = [a for a in range(k) if counts[a] == 0]
        if untried:
            arm = untried[0]
        else:
            arm = max(range(k), key=lambda a: sums[a] / counts[a] + c * np.sqrt(np.log(t) / counts[a]))
        r = tape[arm, counts[arm]]
        counts[arm] += 1
        sums[arm] += r
        regret.append(max(means) - means[arm])
    return np.array(regret)


def _tapes(env, horizon, runs, seed):
    """The rewards simulate() draws in advance for each run: run i's n-th pull of arm k."""
    from ce_lib.experiments import spawn_rngs

    rngs = spawn_rngs(seed, runs + 1)[:runs]
    return np.stack([env.reward_table(np.asarray(env.means, float), horizon, r) for r in rngs])


def test_vectorized_simulator_equals_a_per_run_reference():
    means, horizon, runs = [0.3, 0.0, -0.2], 300, 6
    env = b.GaussianBandit(np.array(means), 1.0)
    tape = _tapes(env, horizon, runs, seed=0)
    run = b.simulate(b.UCB(c=1.0), env, horizon, runs, seed=0)
    for i in range(runs):
        ref = _reference_ucb(means, tape[i], horizon, 1.0)
        # the first K rounds try the arms in random order; after that the runs must agree exactly
        np.testing.assert_array_equal(run.regret[i, 3:], ref[3:])
        assert run.regret[i].sum() == pytest.approx(ref.sum())


def test_every_agent_of_a_seed_sees_the_same_rewards_for_the_same_pulls():
    # common random numbers: the n-th pull of arm k in run i pays the same whoever pulls it
    env, horizon, runs = b.BernoulliBandit([0.6, 0.5, 0.4]), 200, 5
    tape = _tapes(env, horizon, runs, seed=7)
    for agent in (b.UCB(), b.GradientBandit(0.5), b.EpsilonGreedy(0.3)):
        run = b.simulate(agent, env, horizon, runs, seed=7)
        arms = np.argmax(np.isclose(run.regret[..., None], np.max(env.means) - env.means), axis=-1)
        for i in range(runs):
            counts = np.zeros(3, dtype=int)
            for t in range(horizon):
                assert run.rewards[i, t] == tape[i, arms[i, t], counts[arms[i, t]]]
                counts[arms[i, t]] += 1


def test_gradient_bandit_update_is_unbiased_for_the_softmax_gradient():
    # E[(R - b)(1{A=k} - pi_k)] = pi_k (mu_k - sum_j pi_j mu_j) with a baseline b independent of A.
    means, n = np.array([1.0, 0.0, -0.5]), 400_000
    agent = b.GradientBandit(alpha=1.0)
    agent.reset(n, 3, b.GaussianBandit(means))
    agent.prefs[:] = [0.5, 0.0, -0.3]
    pi = agent._policy()[0]
    before = agent.prefs.copy()
    rng = np.random.default_rng(1)
    arms = agent.select(1, rng)
    agent.update(arms, means[arms] + rng.standard_normal(n))
    step = agent.prefs - before
    exact = pi * (means - pi @ means)
    se = step.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(step.mean(axis=0) - exact) < 5 * se)
