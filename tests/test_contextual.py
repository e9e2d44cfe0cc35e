import numpy as np
import pytest

from ce_lib import contextual as c
from ce_lib.studies import contextual_bandits as contextual_bandits_study


def test_ridge_inverse_matches_a_direct_solve():
    agent = c.GreedyLS(reg=2.0)
    agent.reset(3, 2, 4)
    rng = np.random.default_rng(0)
    xs, arms, rs = rng.standard_normal((50, 3, 4)), rng.integers(0, 2, (50, 3)), rng.standard_normal((50, 3))
    for x, a, r in zip(xs, arms, rs):
        agent.update(x, a, r)
    for run in range(3):
        for k in range(2):
            sel = arms[:, run] == k
            X, y = xs[sel, run], rs[sel, run]
            theta = np.linalg.solve(2.0 * np.eye(4) + X.T @ X, X.T @ y)
            np.testing.assert_allclose(agent.estimates()[run, k], theta, atol=1e-9)


def test_greedy_fails_without_diversity_and_matches_linucb_with_it():
    sweep = contextual_bandits_study.diversity_sweep(spreads=(0.0, 2.0), horizon=2000, n_runs=40, seed=0)
    greedy, ucb = sweep["regret"]["greedy least squares"], sweep["regret"]["LinUCB"]
    assert greedy[0].mean() > 3 * ucb[0].mean()  # no diversity: greedy locks in
    assert greedy[1].mean() < 1.5 * ucb[1].mean()  # diverse contexts: greedy is as good


def test_linear_learners_find_the_best_arm_on_diverse_contexts():
    env = c.LinearBandit.random(n_arms=3, spread=1.0, seed=1)
    for agent in (c.LinUCB(), c.LinearThompson(), c.GreedyLS()):
        run = c.simulate(agent, env, 3000, 10, seed=2)
        assert run.optimal[:, -500:].mean() > 0.9, agent.name


def test_policy_gradient_learns_the_digits():
    env = c.digits_bandit()
    run = c.simulate(c.SoftmaxPolicyGradient(0.1), env, 3000, 5, seed=0)
    assert run.rewards[:, -500:].mean() > 0.7  # far above the 10% of guessing


def test_digits_bandit_and_ceiling():
    env = c.digits_bandit(n_components=8)
    assert env.features.shape == (1797, 9) and env.n_arms == 10
    np.testing.assert_allclose(env.features[:, -1], 1.0)
    assert 0.8 < c.digits_ceiling(env) < 1.0
    idx = np.array([0, 5])
    np.testing.assert_array_equal(env.mean_rewards(idx).sum(axis=1), [1, 1])


class _Oracle(c.GreedyLS):
    """Greedy on the true parameters: after its round robin it must never regret a round."""

    def __init__(self, theta):
        super().__init__()
        self.theta = theta

    def estimates(self):
        return np.broadcast_to(self.theta, self.b.shape)


def test_an_oracle_has_zero_regret_and_regret_is_the_gap_otherwise():
    env = c.LinearBandit.random(n_arms=3, spread=1.0, seed=3)
    run = c.simulate(_Oracle(env.theta), env, 300, 4, seed=0)
    assert np.all(run.regret[:, 3:] == 0) and np.all(run.optimal[:, 3:])
    uniform = c.simulate(c.SoftmaxPolicyGradient(1e-12), env, 300, 4, seed=0)  # a policy that never moves
    assert np.all((uniform.regret > 0) == ~uniform.optimal)
    assert 0.2 < uniform.optimal.mean() < 0.5  # about one round in three is lucky


def test_simulation_is_reproducible():
    env = c.LinearBandit.random(seed=0)
    a = c.simulate(c.LinearThompson(), env, 200, 3, seed=5)
    b = c.simulate(c.LinearThompson(), env, 200, 3, seed=5)
    np.testing.assert_array_equal(a.regret, b.regret)


def test_headline_record_validates():
    from ce_lib.scoreboard import validate_record

    rec = contextual_bandits_study._headline(n_seeds=3)
    validate_record(rec)
    assert rec["chapter"] == "contextual" and rec["information"] == "same"
    assert rec["ratio"]["rl"].startswith("softmax policy gradient")


@pytest.mark.parametrize("call, match", [
    (lambda: c.LinearBandit.random(n_arms=1), "n_arms"),
    (lambda: c.LinearBandit.random(dim=1), "dim"),
    (lambda: c.LinearBandit(np.ones((1, 3)), 1.0, 0.5), "theta"),
    (lambda: c.LinearBandit(np.ones((2, 3)), 1.0, -0.5), "noise"),
    (lambda: c.LinearBandit.random(spread=-1), "spread"),
    (lambda: c.LinearBandit.random(noise=0), "noise"),
    (lambda: c.GreedyLS(reg=0), "reg"),
    (lambda: c.LinUCB(alpha=-1), "alpha"),
    (lambda: c.LinearThompson(scale=0), "scale"),
    (lambda: c.SoftmaxPolicyGradient(alpha=np.inf), "alpha"),
    (lambda: c.simulate(c.GreedyLS(), c.LinearBandit.random(), 0, 2, seed=0), "horizon"),
    (lambda: c.digits_bandit(n_components=0), "n_components"),
    (lambda: contextual_bandits_study.diversity_sweep(spreads=[np.nan]), "spreads"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="env"):
        c.simulate(c.GreedyLS(), "digits", 10, 2, seed=0)
    with pytest.raises(TypeError, match="agent"):
        c.simulate(object(), c.LinearBandit.random(), 10, 2, seed=0)


def test_least_squares_recovers_the_parameters_on_noiseless_data():
    env = c.LinearBandit.random(n_arms=2, dim=4, spread=1.0, noise=1e-9, seed=4)
    for agent in (c.GreedyLS(reg=1e-6), c.LinUCB(reg=1e-6)):
        c.simulate(agent, env, 400, 3, seed=0)
        est, checked = agent.estimates(), 0
        for run in range(3):
            for k in range(2):
                gram = np.linalg.inv(agent.a_inv[run, k]) - 1e-6 * np.eye(4)  # sum of x x^T
                if np.linalg.eigvalsh(gram).min() > 1e-2:  # the arm saw contexts in every direction
                    np.testing.assert_allclose(est[run, k], env.theta[k], atol=1e-4)
                    checked += 1
        assert checked >= 3, agent.name
