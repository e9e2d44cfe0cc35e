import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ce_lib import mdp as M
from ce_lib.studies import mdps as mdps_study


def random_mdp(seed, S=5, A=3, sparse=False):
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) ** (8 if sparse else 1)
    P /= P.sum(axis=2, keepdims=True)
    return M.TabularMDP(P, rng.standard_normal((S, A)), np.full(S, 1.0 / S))


@pytest.fixture(scope="module")
def lake4():
    return M.frozen_lake("4x4")


def test_value_and_policy_iteration_agree_on_frozen_lake():
    mdp = M.frozen_lake("8x8")
    for gamma in (0.9, 0.99):
        vi, pi = M.value_iteration(mdp, gamma, tol=1e-10), M.policy_iteration(mdp, gamma)
        np.testing.assert_allclose(vi.V, pi.V, atol=1e-9)
        # Both greedy policies are optimal (they may differ where actions tie).
        np.testing.assert_allclose(M.policy_evaluation(mdp, vi.policy, gamma), pi.V, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), S=st.integers(1, 7), A=st.integers(1, 4),
       gamma=st.floats(0.0, 0.98), sparse=st.booleans())
def test_bellman_optimality_residual_is_below_tolerance(seed, S, A, gamma, sparse):
    mdp = random_mdp(seed, S, A, sparse)
    tol = 1e-8
    sol = M.value_iteration(mdp, gamma, tol=tol)
    residual = np.max(np.abs(M.bellman_q(mdp, sol.V, gamma).max(axis=1) - sol.V))
    assert residual <= 2 * tol
    exact = M.policy_iteration(mdp, gamma)
    assert np.max(np.abs(sol.V - exact.V)) <= tol * (1 + 1e-6) + 1e-12
    np.testing.assert_allclose(M.bellman_q(mdp, exact.V, gamma).max(axis=1), exact.V, atol=1e-9)


def test_cliff_walking_golden_value():
    # Deterministic: the shortest safe path takes 13 steps at -1 each (the last one enters the goal).
    mdp = M.cliff_walking()
    gamma = 0.9
    v = mdp.mu @ M.policy_iteration(mdp, gamma).V
    assert v == pytest.approx(-(1 - gamma ** 13) / (1 - gamma), abs=1e-9)


def test_policy_evaluation_matches_gymnasium_rollouts(lake4):
    gamma = 0.9
    policy = M.policy_iteration(lake4, gamma).policy
    exact = lake4.mu @ M.policy_evaluation(lake4, policy, gamma)
    env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True, max_episode_steps=400)
    returns = []
    for episode in range(3000):
        s, _ = env.reset(seed=episode)
        g, disc, done = 0.0, 1.0, False
        while not done:
            s, r, term, trunc, _ = env.step(int(policy[s]))
            g += disc * r
            disc *= gamma
            done = term or trunc
        returns.append(g)
    se = np.std(returns) / np.sqrt(len(returns))
    assert abs(np.mean(returns) - exact) < 4 * se


def test_stochastic_policy_evaluation_is_the_mixture_of_actions():
    mdp = random_mdp(3)
    uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    V = M.policy_evaluation(mdp, uniform, 0.8)
    Q = M.bellman_q(mdp, V, 0.8)
    np.testing.assert_allclose(Q.mean(axis=1), V, atol=1e-10)


def test_sampler_and_empirical_model_converge_to_the_true_model(lake4):
    sampler = M.Sampler(lake4)
    rng = np.random.default_rng(0)
    S, A = lake4.n_states, lake4.n_actions
    model = M.EmpiricalModel(1, S, A)
    s = np.repeat(np.arange(S), A * 4000)
    a = np.tile(np.repeat(np.arange(A), 4000), S)
    s_next, r = sampler.step(s, a, rng)
    model.add(np.zeros_like(s), s, a, s_next, r)
    P_hat, R_hat = model.estimate()
    assert np.max(np.abs(P_hat[0] - lake4.P)) < 0.03
    assert np.max(np.abs(R_hat[0] - lake4.expected_reward)) < 0.03
    starts = sampler.reset(10_000, rng)
    assert np.all(starts == np.argmax(lake4.mu))


def test_unseen_pairs_are_self_loops_without_reward():
    model = M.EmpiricalModel(2, 3, 2)
    P, R = model.estimate()
    np.testing.assert_array_equal(P[1, 2, 1], [0, 0, 1])
    assert np.all(R == 0)


def test_plug_in_policy_is_optimal_with_enough_samples_and_beats_q_learning_early(lake4):
    out = M.generative_experiment(lake4, 0.9, 2000, 4, seed=0)
    assert np.all(out["gap_ce"][:, -1] <= 1e-12)  # every run's plan is optimal
    assert np.all(out["gap_ce"] >= -1e-12)  # no policy beats the optimum
    # After about a hundred rounds the plug-in plan is closer to optimal than Q-learning's.
    j = np.searchsorted(out["rounds"], 100)
    assert np.median(out["gap_ce"][:, j]) < np.median(out["gap_q"][:, :, j].min(axis=0))
    assert out["samples"][-1] == 2000 * lake4.n_states * lake4.n_actions


def test_q_learning_improves_with_samples(lake4):
    out = M.generative_experiment(lake4, 0.9, 3000, 4, seed=1, schedules=[("rescaled linear", 2.0)])
    gaps = np.median(out["gap_q"][0], axis=0)
    assert gaps[0] == pytest.approx(1.0) and gaps[-1] < 0.05


def test_step_sizes():
    t = np.array([1.0, 10.0])
    np.testing.assert_allclose(M.step_sizes("rescaled linear", 1.0, t, 0.9), 1 / (1 + 0.1 * t))
    np.testing.assert_allclose(M.step_sizes("polynomial", 0.5, t, 0.9), t ** -0.5)
    np.testing.assert_allclose(M.step_sizes("constant", 0.3, t, 0.9), [0.3, 0.3])
    with pytest.raises(ValueError, match="kind"):
        M.step_sizes("harmonic", 1.0, t, 0.9)


def test_online_learners(lake4):
    configs = [("ce-optimism", 1.0), ("q-learning", 0.5, 0.1), ("policy-gradient", 1.0)]
    out = M.online_experiment(lake4, 0.99, 6000, configs, 6, seed=0, episode_cap=100)
    assert out["gap"].shape == (3, 6, out["steps"].size)
    final = np.median(out["gap"][:, :, -1], axis=1)
    assert final[0] < 0.15  # optimistic CE finds a near-optimal plan in a few thousand steps
    assert np.all(out["gap"] >= -1e-9) and np.all(out["gap"] <= 1 + 1e-9)
    assert out["labels"][0].startswith("CE + optimism")
    again = M.online_experiment(lake4, 0.99, 6000, configs, 6, seed=0, episode_cap=100)
    np.testing.assert_array_equal(out["gap"], again["gap"])  # same seed, same numbers


def test_bad_input_names_the_argument(lake4):
    P = np.full((2, 1, 2), 0.4)
    with pytest.raises(ValueError, match="P"):
        M.TabularMDP(P, np.zeros((2, 1)), [0.5, 0.5])
    good = np.full((2, 1, 2), 0.5)
    with pytest.raises(ValueError, match="R must have shape"):
        M.TabularMDP(good, np.zeros((3, 1)), [0.5, 0.5])
    with pytest.raises(ValueError, match="mu"):
        M.TabularMDP(good, np.zeros((2, 1)), [0.5, 0.6])
    with pytest.raises(ValueError, match="P must have shape"):
        M.TabularMDP(np.full((2, 2), 0.5), np.zeros((2, 1)), [0.5, 0.5])
    with pytest.raises(ValueError, match="R must contain only finite"):
        M.TabularMDP(good, [[np.nan], [0.0]], [0.5, 0.5])
    for gamma in (1.0, -0.1, 1.5, "x", None):
        with pytest.raises((ValueError, TypeError), match="gamma"):
            M.value_iteration(lake4, gamma)
    with pytest.raises(ValueError, match="n_max"):
        M.generative_experiment(lake4, 0.9, -5, 2)
    with pytest.raises(ValueError, match="n_runs"):
        M.generative_experiment(lake4, 0.9, 5, 0)
    with pytest.raises(ValueError, match="budget"):
        M.online_experiment(lake4, 0.9, 0, [("q-learning", 0.1, 0.1)], 2)
    with pytest.raises(ValueError, match="method"):
        M.online_experiment(lake4, 0.9, 10, [("sarsa", 0.1)], 2)
    with pytest.raises(ValueError, match="policy"):
        M.policy_evaluation(lake4, np.zeros(3, int), 0.9)
    with pytest.raises(ValueError, match="policy"):
        M.policy_evaluation(lake4, np.full(lake4.n_states, 7), 0.9)
    with pytest.raises(ValueError, match="tol"):
        M.value_iteration(lake4, 0.9, tol=0)
    with pytest.raises(ValueError, match="map_name"):
        M.frozen_lake("5x5")
    with pytest.raises(ValueError, match="env"):
        M.TabularMDP.from_gymnasium(gym.make("CartPole-v1"))
    with pytest.raises(TypeError, match="mdp"):
        M.policy_iteration("FrozenLake", 0.9)


def test_model_arrays_are_read_only(lake4):
    with pytest.raises(ValueError):
        lake4.P[0, 0, 0] = 1.0


def test_suboptimality_is_zero_for_the_optimal_policy_and_positive_otherwise(lake4):
    gamma = 0.9
    best = M.policy_iteration(lake4, gamma).policy
    assert M.suboptimality(lake4, best, gamma) == pytest.approx(0.0, abs=1e-12)
    uniform = np.full((lake4.n_states, lake4.n_actions), 0.25)
    assert 0 < M.suboptimality(lake4, uniform, gamma) <= 1


def test_horizon_scaling_recovers_a_known_slope():
    rng = np.random.default_rng(0)
    sweep = []
    for gamma in (0.9, 0.99, 0.999):
        ce = rng.uniform(90, 110, 30)
        sweep.append({"gamma": gamma, "hits_ce": ce, "hits_rl": ce * 3.0 / (1 - gamma) * 0.1, "budget": 1e9})
    out = mdps_study.horizon_scaling(sweep, n_boot=200)
    assert out["slope"].median == pytest.approx(1.0, abs=1e-9)  # Q / CE = 3 H / 10 exactly
    assert out["bound"] == ["exact"] * 3
    np.testing.assert_allclose(out["horizon"], [10, 100, 1000])
    with pytest.raises(ValueError, match="sweep"):
        mdps_study.horizon_scaling(sweep[:1])


def test_variance_reduced_q_learning_converges_to_the_value_iteration_fixed_point():
    lake4 = M.frozen_lake("4x4")
    gamma = 0.9
    q_star = M.bellman_q(lake4, M.value_iteration(lake4, gamma).V, gamma)
    # 4,228 rounds end the fourth epoch: recentrings of 8, 32, 128, 512 and 2,048 rounds, 300 updates each
    out = M.generative_experiment(lake4, gamma, 4228, 8, seed=2, schedules=[("rescaled linear", 1.0)],
                                  vr_settings=[(300, 8)])
    err_vr = np.abs(out["q_vr_final"][0] - q_star).max(axis=(1, 2)).mean()
    err_q = np.abs(out["q_final"][0] - q_star).max(axis=(1, 2)).mean()
    assert err_vr < 0.035 * q_star.max()
    assert err_vr < err_q  # recentring removes most of the noise synchronous Q-learning keeps


def test_variance_reduced_q_learning_is_exact_on_a_deterministic_mdp():
    """With no noise, every recentring is exact and the epochs contract to Q* like value iteration."""
    cliff = M.cliff_walking()
    gamma = 0.5
    q_star = M.bellman_q(cliff, M.value_iteration(cliff, gamma).V, gamma)
    out = M.generative_experiment(cliff, gamma, 400, 1, seed=0, schedules=(), vr_settings=[(50, 1)])
    np.testing.assert_allclose(out["q_vr_final"][0, 0], q_star, atol=1e-3 * np.abs(q_star).max())


def test_optimistic_q_learning_stays_below_v_max_and_learns():
    lake4 = M.frozen_lake("4x4")
    configs = [("optimistic-q", 0.0), ("optimistic-q", 0.1)]
    out = M.online_experiment(lake4, 0.9, 20_000, configs, 6, seed=3, episode_cap=100)
    assert out["labels"] == ["optimistic Q-learning (beta = 0)", "optimistic Q-learning (beta = 0.1)"]
    # the returned greedy policies lose less than the uniformly random policy does after 20,000 steps
    random_gap = 1 - lake4.mu @ M.policy_evaluation(lake4, np.full((lake4.n_states, lake4.n_actions), 0.25), 0.9) \
        / out["v_star"]
    assert np.median(out["gap"][:, :, -1]) < 0.5 * random_gap
    with pytest.raises(ValueError, match="bonus scales"):
        M.online_experiment(lake4, 0.9, 10, [("optimistic-q", -1.0)], 2)
    with pytest.raises(ValueError, match="vr_settings"):
        M.generative_experiment(lake4, 0.9, 5, 2, vr_settings=[(0, 2)])


# ----------------------------------------------------------------------------------------------
# The online learners, alone and side by side
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("learner, config", [
    (lambda: M.OptimisticCE(beta=0.3), ("ce-optimism", 0.3)),
    (lambda: M.QLearning(alpha=0.2, epsilon=0.1), ("q-learning", 0.2, 0.1)),
    (lambda: M.OptimisticQLearning(beta=0.05), ("optimistic-q", 0.05)),
    (lambda: M.PolicyGradient(alpha=1.0), ("policy-gradient", 1.0)),
])
def test_a_learner_alone_is_the_experiments_learner(learner, config):
    """online_runs with one learner and online_experiment with its one config are the same runs."""
    lake = M.frozen_lake("4x4")
    alone = M.online_runs(lake, 0.9, learner(), budget=1500, n_runs=3, seed=11)
    exp = M.online_experiment(lake, 0.9, 1500, [config], n_runs=3, seed=11)
    assert np.array_equal(alone["gap"], exp["gap"][0]) and np.array_equal(alone["steps"], exp["steps"])
    assert alone["policy"].shape == (3, lake.n_states, lake.n_actions)


def test_per_run_settings_are_the_runs_of_separate_settings():
    """A learner with one setting per run is several settings side by side (Q-learning draws the
    same numbers whatever its step size, so its runs line up with single-setting runs)."""
    lake = M.frozen_lake("4x4")
    both = M.online_runs(lake, 0.9, M.QLearning(alpha=[0.1, 0.5], epsilon=0.0), budget=800, n_runs=2, seed=3)
    exp = M.online_experiment(lake, 0.9, 800, [("q-learning", 0.1, 0.0), ("q-learning", 0.5, 0.0)], n_runs=1, seed=3)
    assert np.array_equal(both["gap"], exp["gap"][:, 0])


@pytest.mark.parametrize("make, word", [
    (lambda: M.QLearning(alpha=0.0), "alpha"),
    (lambda: M.QLearning(alpha=0.1, epsilon=1.5), "epsilon"),
    (lambda: M.QLearning(alpha=[0.1, 0.2, 0.3]), "alpha"),
    (lambda: M.OptimisticCE(beta=-1.0), "beta"),
    (lambda: M.OptimisticCE(replan_every=0), "replan_every"),
    (lambda: M.OptimisticQLearning(beta=float("nan")), "beta"),
    (lambda: M.PolicyGradient(alpha=-0.1), "alpha"),
    (lambda: M.PolicyGradient(alpha=0.1, baseline_step=-1.0), "baseline_step"),
])
def test_online_learners_name_their_bad_settings(make, word):
    with pytest.raises((ValueError, TypeError), match=word):
        M.online_runs(M.frozen_lake("4x4"), 0.9, make(), budget=10, n_runs=2, seed=0)


def test_online_runs_refuses_what_is_not_a_learner():
    with pytest.raises(TypeError, match="learner"):
        M.online_runs(M.frozen_lake("4x4"), 0.9, "q-learning", budget=10, n_runs=2, seed=0)
    with pytest.raises(ValueError, match="n_runs"):
        M.online_runs(M.frozen_lake("4x4"), 0.9, M.QLearning(0.1), budget=10, n_runs=0, seed=0)
