import numpy as np
import pytest
import torch

from ce_lib import ppo
from ce_lib.studies import ppo as ppo_study


def test_gae_hand_computed_example():
    # One environment, three steps, the episode ends after the second step.
    r = np.array([[1.0], [2.0], [3.0]])
    v = np.array([[0.5], [1.0], [1.5]])
    d = np.array([[0.0], [1.0], [0.0]])
    g, lam = 0.9, 0.5
    adv, ret = ppo.gae(r, v, d, np.array([2.0]), g, lam)
    d2 = 3.0 + g * 2.0 - 1.5
    d1 = 2.0 - 1.0  # terminal: no bootstrap
    d0 = 1.0 + g * 1.0 - 0.5
    np.testing.assert_allclose(adv[:, 0], [d0 + g * lam * d1, d1, d2])
    np.testing.assert_allclose(ret, adv + v)


@pytest.mark.parametrize("lam", [0.0, 0.7, 1.0])
def test_gae_recursion_identity_and_limits(lam):
    rng = np.random.default_rng(0)
    T, N, g = 12, 3, 0.95
    r, v = rng.standard_normal((T, N)), rng.standard_normal((T, N))
    d = (rng.random((T, N)) < 0.2).astype(float)
    last = rng.standard_normal(N)
    adv, _ = ppo.gae(r, v, d, last, g, lam)
    nxt = np.vstack([v[1:], last[None]])
    delta = r + g * (1 - d) * nxt - v
    np.testing.assert_allclose(adv[:-1], delta[:-1] + g * lam * (1 - d[:-1]) * adv[1:])
    if lam == 0.0:
        np.testing.assert_allclose(adv, delta)  # one-step TD errors
    if lam == 1.0:  # Monte Carlo return (bootstrapped at the end) minus the baseline
        G = np.zeros((T, N))
        run = last.copy()
        for t in range(T - 1, -1, -1):
            run = r[t] + g * (1 - d[t]) * run
            G[t] = run
        np.testing.assert_allclose(adv, G - v)


def test_clipped_surrogate_has_zero_gradient_outside_the_clip_range():
    old = torch.zeros(4)
    new = torch.tensor([0.5, -0.5, 0.05, -0.05], requires_grad=True)  # ratios e^0.5, e^-0.5, ~1.05, ~0.95
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    ppo.clipped_surrogate(new, old, adv, clip=0.2).backward()
    # Ratio above 1 + eps with a positive advantage, below 1 - eps with a negative one: clipped, no push.
    assert new.grad[0] == 0 and new.grad[1] == 0
    assert new.grad[2] != 0 and new.grad[3] != 0
    # On the "wrong" side the unclipped term is kept, so the gradient pulls the ratio back.
    new2 = torch.tensor([0.5], requires_grad=True)
    ppo.clipped_surrogate(new2, torch.zeros(1), torch.tensor([-1.0]), clip=0.2).backward()
    assert new2.grad[0] > 0


def test_surrogate_and_value_loss_on_tiny_batches():
    new, old = torch.log(torch.tensor([0.6, 0.3])), torch.log(torch.tensor([0.5, 0.5]))
    adv = torch.tensor([2.0, 1.0])
    # ratios 1.2 (clipped to 1.1) and 0.6: min(2.4, 2.2) = 2.2 and min(0.6, 0.9) = 0.6
    assert float(ppo.clipped_surrogate(new, old, adv, 0.1)) == pytest.approx(-(2.2 + 0.6) / 2)
    assert float(ppo.value_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0]))) == pytest.approx(2.5)


def test_short_training_improves_the_return():
    res = ppo.train("CartPole-v1", 8_000, seed=0)
    assert res.returns[-10:].mean() > 2 * res.returns[:10].mean()
    again = ppo.train("CartPole-v1", 8_000, seed=0)
    np.testing.assert_array_equal(res.returns, again.returns)  # seeded: same numbers


def test_continuous_actions_are_supported():
    res = ppo.train("Pendulum-v1", 2_000, seed=0, config=ppo.PPOConfig(n_envs=2, n_steps=200, n_epochs=2))
    assert res.returns.size >= 2 and not res.model.discrete


@pytest.mark.slow
def test_ppo_learns_cartpole():
    res = ppo.train("CartPole-v1", 60_000, seed=1)
    assert res.returns[-20:].mean() >= 200


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="env_id"):
        ppo.train("NoSuchEnv-v0", 1000)
    with pytest.raises(ValueError, match="total_timesteps"):
        ppo.train("CartPole-v1", 0)
    with pytest.raises(ValueError, match="clip"):
        ppo.PPOConfig(clip=0.0)
    with pytest.raises(ValueError, match="clip"):
        ppo.clipped_surrogate(torch.zeros(1), torch.zeros(1), torch.zeros(1), clip=-1)
    with pytest.raises(ValueError, match="action space"):
        ppo.ActorCritic(4, __import__("gymnasium").spaces.MultiBinary(3))
    with pytest.raises(ValueError, match="same shape"):
        ppo.gae(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 2)), np.zeros(2), 0.9, 0.9)


def test_training_leaves_torchs_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ppo.train("CartPole-v1", 512, seed=5, config=ppo.PPOConfig(n_epochs=1))
    torch.testing.assert_close(torch.rand(3), expected)


def test_rolling_return_and_steps_to_mean_return():
    steps = np.array([10, 20, 30, 40])
    returns = np.array([1.0, 3.0, 5.0, 7.0])
    out = ppo_study.rolling_return(steps, returns, np.array([5, 20, 35, 40]), window=2)
    np.testing.assert_allclose(out, [np.nan, 2.0, 4.0, 6.0])
    assert ppo_study.steps_to_mean_return(steps, returns, level=4.0, window=2) == 30
    assert ppo_study.steps_to_mean_return(steps, returns, level=100.0, window=2) == np.inf


def test_callback_sees_progress_and_can_stop_training():
    seen = []

    def stop_after_two(so_far, steps):
        seen.append((steps, so_far.returns.size))
        return len(seen) == 2

    cfg = ppo.PPOConfig(n_envs=2, n_steps=64, n_epochs=1, minibatch_size=64)
    ppo.train("CartPole-v1", 10_000, seed=0, config=cfg, callback=stop_after_two)
    assert [s for s, _ in seen] == [128, 256]
    assert seen[1][1] >= seen[0][1] > 0


def test_greedy_policy_is_deterministic_and_in_the_action_space():
    res = ppo.train("CartPole-v1", 512, seed=0, config=ppo.PPOConfig(n_epochs=1))
    act = ppo_study.greedy_policy(res.model)(np.zeros((3, 4)))
    assert act.shape == (3,) and set(act.tolist()) <= {0, 1}
    np.testing.assert_array_equal(act, ppo_study.greedy_policy(res.model)(np.zeros((3, 4))))


def test_run_evaluates_with_the_shared_target_and_stops():
    out = ppo_study.run("CartPole-v1", 0, budget=4096)
    # Training continues to 1.5 x the budget so that a late hit could be confirmed; evaluations
    # every 1,024 steps.
    np.testing.assert_array_equal(out["eval_steps"], 1024 * np.arange(1, 7))
    assert out["hit"] == np.inf and out["total_steps"] == 6144  # not solved that fast
    with pytest.raises(ValueError, match="env_id"):
        ppo_study.run("Acrobot-v1", 0)
    with pytest.raises(ValueError, match="budget"):
        ppo_study.run("CartPole-v1", 0, budget=0)


def test_ce_hits_need_the_target_kept_at_every_larger_size():

    from ce_lib.known_form import SIZES

    n = len(SIZES["CartPole-v1"])
    scores = np.full((2, n), 500.0)
    scores[0, :3] = 10.0
    scores[1, 5] = 499.0  # a failure later on: the hit moves past it
    hits = ppo_study.ce_hits("CartPole-v1", scores)
    assert hits[0] == SIZES["CartPole-v1"][3] and hits[1] == SIZES["CartPole-v1"][6]
    with pytest.raises(ValueError, match="env_id"):
        ppo_study.ce_hits("MountainCar-v0", scores)


def test_policy_is_frozen_after_the_schedule_ends():
    snapshots = []

    def snap(so_far, steps):
        snapshots.append([p.detach().clone() for p in so_far.model.parameters()])
        return False

    cfg = ppo.PPOConfig(n_envs=2, n_steps=64, n_epochs=2, minibatch_size=64)
    ppo.train("CartPole-v1", 128 * 4, seed=0, config=cfg, callback=snap, schedule_timesteps=128 * 2)
    changed = [any(not torch.equal(a, b) for a, b in zip(snapshots[i], snapshots[i + 1])) for i in range(3)]
    assert changed == [True, False, False]  # updates 0, 1 learn (1 at half rate); 2, 3 have rate 0


# The chapter's stored runs (ce_lib/data/ppo_runs.json): complete, refused after a settings change, and
# what the code makes.

def test_every_stored_job_has_its_run():
    data = ppo_study.load_data()
    assert data["command"] == ppo_study.GENERATE_COMMAND
    for group, key, seed, env_id, _ in ppo_study.stored_jobs():
        (r,) = ppo_study.stored_runs(group, key, [seed])
        assert r["total_steps"] > 0 and r["seconds"] > 0
        assert r["steps"].dtype == np.int64 and np.all(np.diff(r["steps"]) >= 0)
    assert len(ppo_study.runs("CartPole-v1")) == ppo_study.SETTINGS.n_seeds["CartPole-v1"]
    assert set(ppo_study.ablations()) == {"tuned", *ppo_study.SETTINGS.ablations}


def test_stored_runs_are_refused_after_a_settings_change_naming_it(monkeypatch):
    from dataclasses import replace

    settings = ppo_study.SETTINGS
    monkeypatch.setattr(ppo_study, "SETTINGS", replace(settings, ablation_budget=settings.ablation_budget + 1))
    with pytest.raises(ValueError, match=r"settings\.ablation_budget changed.*python -m ce_lib\.studies\.ppo generate"):
        ppo_study.load_data()
    # ARS's grid is run live, not stored: changing it leaves the stored runs valid
    monkeypatch.setattr(ppo_study, "SETTINGS", replace(settings, ars_grid=settings.ars_grid[:3]))
    assert ppo_study.load_data()["runs"]


@pytest.mark.slow
@pytest.mark.parametrize("group, key, seed, steps", [("runs", "Pendulum-v1", 0, 8192),
                                                      ("tuning", "CartPole-v1", 1000, 4096),
                                                      ("ablations", "no critic", 1, 4096)])
def test_the_start_of_a_stored_run_is_made_again_bit_for_bit(group, key, seed, steps):
    out = ppo_study.rerun_stored(group, key, seed, stop_after=steps)
    assert out["steps"] >= steps
    if not out["exact_expected"]:
        pytest.skip(out["why"])
    assert out["identical"], out["why"]


def test_same_run_sees_a_change_in_the_last_bit_and_a_run_that_ends_elsewhere():
    (old,) = ppo_study.stored_runs("runs", "CartPole-v1", [0])
    assert ppo_study.same_run(old, old)
    start = {k: (v[:5] if k in ("steps", "returns", "eval_steps", "eval_scores") else v) for k, v in old.items()}
    assert ppo_study.same_run(start, old, whole=False) and not ppo_study.same_run(start, old)
    nudged = dict(old, returns=np.nextafter(old["returns"], np.inf))
    assert not ppo_study.same_run(nudged, old, whole=False)
    assert not ppo_study.same_run(dict(old, hit=old["hit"] + 1), old)


def test_rerun_stored_names_a_run_that_is_not_stored():
    with pytest.raises(ValueError, match="no stored run"):
        ppo_study.rerun_stored("runs", "CartPole-v1", 99)
    with pytest.raises(ValueError, match="stop_after"):
        ppo_study.rerun_stored("runs", "CartPole-v1", 0, stop_after=0)
