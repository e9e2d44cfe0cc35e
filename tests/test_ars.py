"""ARS over linear policies (ce_lib.ars): the fast CartPole is gymnasium's CartPole, episodes are
counted step by step, the update is the paper's, and a run depends on its seed alone."""
import gymnasium as gym
import numpy as np
import pytest

from ce_lib import ars


def test_the_batched_cartpole_has_the_dynamics_of_cartpole_v1():
    env = ars._batch_env("CartPole-v1", 3)
    obs, _ = env.reset(seed=5)
    singles = []
    for i in range(3):  # the same starting states in three CartPole-v1 environments
        e = gym.make("CartPole-v1").unwrapped
        e.reset(seed=0)
        e.state = np.array(env.state[:, i], dtype=np.float64)
        singles.append(e)
    rng = np.random.default_rng(0)
    for _ in range(8):
        a = rng.integers(0, 2, size=3)
        obs, r, term, trunc, _ = env.step(a)
        for i, e in enumerate(singles):
            o, ri, ti, _, _ = e.step(int(a[i]))
            np.testing.assert_allclose(obs[i], o, rtol=0, atol=1e-6)
            assert r[i] == ri and bool(term[i]) == ti


def test_episode_returns_count_every_step_of_every_episode_once():
    env = ars._batch_env("CartPole-v1", 4)
    W = np.zeros((4, 2, 4))  # always push left: the pole falls within a few dozen steps
    R, lengths, count, total, total_sq = ars.episode_returns(env, W, np.zeros(4), np.ones(4), seed=1)
    assert np.all(lengths > 0) and np.all(lengths < 60)
    np.testing.assert_array_equal(R, lengths)  # CartPole pays 1 per step
    assert count == lengths.sum()  # the states each episode acted on, once
    assert total.shape == total_sq.shape == (4,) and np.all(total_sq >= 0)


def test_one_iteration_is_the_papers_update():
    """Reproduce the first iteration by hand: directions from the seed's generator, episodes at
    M +- nu*delta, the top b by max(R+, R-), the step scaled by the returns' standard deviation."""
    cfg = ars.ARSConfig(step=0.05, explore=0.1, n_dirs=4, top=2, normalize=False)
    out = ars.train("CartPole-v1", 1, seed=3, config=cfg)  # stops after one iteration
    rng = np.random.default_rng(3)
    delta = rng.standard_normal((4, 2, 4))
    env = ars._batch_env("CartPole-v1", 8)
    W = np.concatenate([0.1 * delta, -0.1 * delta])
    R, lengths, *_ = ars.episode_returns(env, W, np.zeros(4), np.ones(4), int(rng.integers(2 ** 31)))
    order = np.argsort(-np.maximum(R[:4], R[4:]), kind="stable")[:2]
    sigma = np.std(np.concatenate([R[:4][order], R[4:][order]]))
    M = 0.05 / (2 * sigma) * np.einsum("k,kad->ad", R[:4][order] - R[4:][order], delta[order])
    np.testing.assert_allclose(out.policy.weights, M, rtol=1e-12)
    assert out.steps[-1] == lengths.sum()


def test_a_run_depends_on_its_seed_only_and_a_generator_is_a_seed():
    cfg = ars.ARSConfig(n_dirs=2)
    a = ars.train("CartPole-v1", 3000, seed=7, config=cfg)
    b = ars.train("CartPole-v1", 3000, seed=np.random.default_rng(7), config=cfg)
    c = ars.train("CartPole-v1", 3000, seed=8, config=cfg)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.policy.weights, b.policy.weights)
    assert not np.array_equal(a.policy.weights, c.policy.weights)


def test_v2_standardizes_by_the_states_it_visited_and_v1_does_not():
    v2 = ars.train("CartPole-v1", 2000, seed=0, config=ars.ARSConfig(normalize=True))
    v1 = ars.train("CartPole-v1", 2000, seed=0, config=ars.ARSConfig(normalize=False))
    assert np.all(v2.policy.std > 0) and not np.allclose(v2.policy.std, 1)
    np.testing.assert_array_equal(v1.policy.mean, 0)
    np.testing.assert_array_equal(v1.policy.std, 1)


def test_the_callback_sees_the_policy_and_can_stop():
    seen = []

    def cb(result, steps):
        seen.append((steps, result.policy.weights.copy()))
        return len(seen) == 2

    out = ars.train("CartPole-v1", 10 ** 6, seed=0, callback=cb)
    assert len(out.steps) == 2 and out.steps[-1] == seen[-1][0]
    np.testing.assert_array_equal(out.policy.weights, seen[-1][1])


def test_a_continuous_task_runs_with_clipped_actions():
    out = ars.train("Pendulum-v1", 2000, seed=0, config=ars.ARSConfig(n_dirs=2, step=0.5, explore=1.0))
    assert out.steps[-1] >= 2000 and np.all(np.isfinite(out.returns))
    act = out.policy(np.array([[1.0, 0.0, 50.0]]))
    assert act.shape == (1, 1) and -2.0 <= act[0, 0] <= 2.0


@pytest.mark.slow
def test_ars_balances_cartpole_for_most_seeds_within_20000_steps():
    """The reason ARS is in the PPO chapter: a linear policy found from returns alone balances
    CartPole for all 500 steps well inside PPO's budget."""
    from ce_lib.gym_tasks import evaluate

    ok = [evaluate(ars.train("CartPole-v1", 20_000, seed=s).policy, "CartPole-v1", s) >= 500 for s in range(5)]
    assert sum(ok) >= 3
