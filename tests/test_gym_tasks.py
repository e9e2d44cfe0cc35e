import numpy as np
import pytest

from ce_lib import gym_tasks as gt


def _left(obs):
    return np.zeros(len(obs), dtype=int)  # always push left: CartPole falls within a few dozen steps


def test_run_episodes_is_seeded_and_aborts_without_losing_finished_returns():
    r1 = gt.run_episodes(_left, "CartPole-v1", 4, seed=5)
    r2 = gt.run_episodes(_left, "CartPole-v1", 4, seed=5)
    np.testing.assert_array_equal(r1, r2)
    assert np.all(r1 < 50)
    cut = gt.run_episodes(_left, "CartPole-v1", 4, seed=5, abort_below=500)
    done = np.isfinite(cut)
    assert done.any() and np.all(cut[done] == r1[done])  # finished episodes keep their returns
    assert np.nanmin(cut) == r1.min()  # the first to fall is the worst: the minimum is exact


def test_evaluate_scores_a_policy_that_fails_one_episode_by_its_return():
    # Balance (the true linearization's LQR gain) except in the episode that starts tilted right:
    # four episodes last 500 steps, one falls; the score is that episode's return, not -inf.
    from ce_lib import known_form as cc

    good = cc.cartpole_controller(cc.cartpole_linearization())
    first = None

    def policy(obs):
        nonlocal first
        if first is None:
            first = obs[:, 2].argmax()
        a = good(obs)
        a[first] = 1 - a[first]  # the wrong push, every step, in that one episode
        return a

    full = gt.run_episodes(policy, "CartPole-v1", 5, gt.evaluation_seed(0))
    first = None
    score = gt.evaluate(policy, "CartPole-v1", 0)
    assert np.isfinite(score) and score == full.min() < 500
    assert np.sum(full == 500) == 4
    assert gt.evaluate(None, "CartPole-v1", 0) == -np.inf


def test_evaluation_seeds_never_collide_with_training_seeds():
    assert gt.evaluation_seed(0) == 10_000 and gt.evaluation_seed(3) == 10_300
    with pytest.raises(ValueError, match="seed"):
        gt.evaluation_seed(-1)


def test_random_transitions_are_seeded():
    a = gt.random_transitions("Pendulum-v1", 5, seed=1)
    b = gt.random_transitions("Pendulum-v1", 5, seed=1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert a[0].shape == (5, 3) and a[3].shape == (5,)


def test_bad_input():
    with pytest.raises(ValueError, match="env_id"):
        gt.run_episodes(lambda o: 0, "NoSuchEnv-v9", 2)
    with pytest.raises(ValueError, match="n_episodes"):
        gt.run_episodes(lambda o: 0, "CartPole-v1", 0)
    with pytest.raises(TypeError, match="policy"):
        gt.run_episodes(3, "CartPole-v1", 1)
    with pytest.raises(ValueError, match="env_id"):
        gt.evaluate(lambda o: 0, "MountainCar-v0", 0)
