import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ce_lib import bandits as b


TWO = b.BernoulliBandit.create([0.6, 0.4])


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
    env = b.BernoulliBandit.create(b.INSTANCE)
    regret = {a.name: b.simulate(a, env, 5000, 200, seed=2).regret.sum(axis=1).mean()
              for a in (b.Greedy(), b.EpsilonGreedy(0.1), b.KLUCB(), b.ThompsonSampling())}
    assert regret["KL-UCB"] < regret["epsilon-greedy"] and regret["Thompson sampling"] < regret["greedy"]


def test_greedy_sometimes_locks_onto_a_bad_arm():
    run = b.simulate(b.Greedy(), TWO, 2000, 500, seed=3)
    stuck = run.optimal[:, -500:].mean(axis=1) == 0
    assert 0.02 < stuck.mean() < 0.6  # some runs never recover: linear regret


def test_explore_then_commit_explores_round_robin_then_commits():
    run = b.simulate(b.ExploreThenCommit(5), b.GaussianBandit.create([0.0, -1.0]), 50, 3, seed=0)
    np.testing.assert_array_equal(run.regret[:, :10], np.tile([0.0, 1.0] * 5, (3, 1)))
    assert np.all(run.regret[:, 10:] == run.regret[:, 10:11])  # committed: the same arm every round


def test_gradient_bandit_learns_the_best_arm_and_is_rl():
    agent = b.GradientBandit(0.1)
    assert agent.family == "rl"
    run = b.simulate(agent, TWO, 3000, 200, seed=4)
    assert run.optimal[:, -500:].mean() > 0.8


def test_epsilon_one_is_uniform():
    run = b.simulate(b.EpsilonGreedy(1.0), b.BernoulliBandit.create([0.9, 0.1, 0.1, 0.1]), 2000, 50, seed=5)
    assert run.optimal.mean() == pytest.approx(0.25, abs=0.02)


def test_testbed_reproduces_sutton_barto_orderings():
    tb = b.testbed(n_runs=500, horizon=1000, seed=0)
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
    run = b.simulate(b.ThompsonSampling(), b.BernoulliBandit.create(means), 500, 2, seed=0)
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


def test_best_arm_rate_is_a_sliding_mean():
    opt = np.array([[1, 1, 0, 0, 1, 1]], dtype=bool)
    np.testing.assert_allclose(b.best_arm_rate(opt, 2), [[1.0, 0.5, 0.0, 0.5, 1.0]])


def test_etc_bound_matches_theorem_6_1():
    assert b.etc_regret_bound(0.5, 1000, 10) == pytest.approx(10 * 0.5 + 980 * 0.5 * np.exp(-10 * 0.25 / 4))


def test_headline_record_validates():
    from ce_lib.scoreboard import validate_record

    rec = b._headline(n_seeds=4)
    validate_record(rec)
    assert rec["chapter"] == "bandits" and rec["tuning"]["runs"] == len(b.ALPHAS) * 2 * 4


@pytest.mark.parametrize("call, match", [
    (lambda: b.BernoulliBandit.create([0.5, 1.5]), "probabilities"),
    (lambda: b.BernoulliBandit.create([0.5]), "K >= 2"),
    (lambda: b.GaussianBandit.create([0.0, 1.0], sigma=0), "sigma"),
    (lambda: b.GaussianBandit.create([0.0, np.nan]), "finite"),
    (lambda: b.EpsilonGreedy(1.5), "epsilon"),
    (lambda: b.UCB(c=-1), "c must"),
    (lambda: b.GradientBandit(alpha=0), "alpha"),
    (lambda: b.ExploreThenCommit(0), "m must"),
    (lambda: b.simulate(b.UCB(), TWO, 0, 5, seed=0), "horizon"),
    (lambda: b.simulate(b.UCB(), TWO, 10, 0, seed=0), "n_runs"),
    (lambda: b.simulate(b.UCB(), b.BernoulliBandit.create(np.full((3, 2), 0.5)), 10, 4, seed=0), "rows"),
    (lambda: b.best_arm_rate(np.ones((2, 3)), 5), "window"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="bandit"):
        b.simulate(b.UCB(), [0.5, 0.4], 10, 2, seed=0)
    with pytest.raises(TypeError, match="agent"):
        b.simulate("ucb", TWO, 10, 2, seed=0)
