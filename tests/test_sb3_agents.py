"""The stable-baselines3 agents (ce_lib.sb3_agents): our settings are the zoo's, they reach the
agents, and the stored runs are what the code produces."""

import numpy as np
import pytest

from ce_lib import numerics, sb3_agents
from ce_lib.studies import deep_rl as deep_rl_study

# The rl-baselines3-zoo entries, copied here by hand from hyperparams/sac.yml (Pendulum-v1),
# hyperparams/td3.yml (Pendulum; the sb3/td3-Pendulum-v1 agent's card lists the same values) and
# hyperparams/dqn.yml (CartPole-v1).
ZOO = {
    "SAC": dict(n_timesteps=20000, policy="MlpPolicy", learning_rate=1e-3),
    "TD3": dict(n_timesteps=20000, policy="MlpPolicy", gamma=0.98, buffer_size=200000, learning_starts=10000,
                noise_type="normal", noise_std=0.1, gradient_steps=-1, train_freq=[1, "episode"],
                learning_rate=1e-3, policy_kwargs={"net_arch": [400, 300]}),
    "DQN": dict(n_timesteps=50000, policy="MlpPolicy", learning_rate=2.3e-3, batch_size=64, buffer_size=100000,
                learning_starts=1000, gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
                exploration_fraction=0.16, exploration_final_eps=0.04, policy_kwargs={"net_arch": [256, 256]}),
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_settings_are_the_zoos(name):
    zoo = dict(ZOO[name])
    assert sb3_agents.AGENTS[name].budget == zoo.pop("n_timesteps")
    assert sb3_agents.ZOO_SETTINGS[name] == zoo


def test_the_settings_reach_the_agents():
    sac = sb3_agents.make_agent("SAC", 0)
    assert sac.learning_rate == 1e-3 and sac.gamma == 0.99 and sac.batch_size == 256  # the rest: SB3's defaults
    td3 = sb3_agents.make_agent("TD3", 0)
    assert (td3.gamma, td3.buffer_size, td3.learning_starts, td3.gradient_steps) == (0.98, 200000, 10000, -1)
    assert td3.train_freq.frequency == 1 and td3.train_freq.unit.value == "episode"
    assert td3.policy_kwargs["net_arch"] == [400, 300]
    assert np.allclose(td3.action_noise._sigma, 0.1)
    dqn = sb3_agents.make_agent("DQN", 0)
    assert (dqn.learning_rate, dqn.batch_size, dqn.target_update_interval, dqn.gradient_steps) == (2.3e-3, 64, 10, 128)
    assert dqn.exploration_fraction == 0.16 and dqn.exploration_final_eps == 0.04
    # trained for 1.5 times the budget, the exploration still ends where the zoo's does
    longer = sb3_agents.make_agent("DQN", 0, 75_000)
    assert longer.exploration_fraction * 75_000 == pytest.approx(0.16 * 50_000)


@pytest.mark.parametrize("call, word", [
    (lambda: sb3_agents.run("A2C", 0), "agent"),
    (lambda: sb3_agents.run("SAC", -1), "seed"),
    (lambda: sb3_agents.run("SAC", 0, budget=0), "budget"),
    (lambda: sb3_agents.run("SAC", 0, stop_after=0), "stop_after"),
    (lambda: deep_rl_study.stored_runs("SAC", "CartPole-v1", [0]), "env_id"),
    (lambda: deep_rl_study.stored_runs("SAC", "Pendulum-v1", [77]), "seeds"),
    (lambda: deep_rl_study.stored_runs("A2C", "Pendulum-v1", [0]), "name"),
])
def test_bad_input_names_the_argument(call, word):
    with pytest.raises((ValueError, TypeError), match=word):
        call()


def test_stored_runs_cover_every_agent_and_seed():
    data = deep_rl_study.load_data()
    seeds = deep_rl_study.SETTINGS.reported_seeds + deep_rl_study.SETTINGS.tuning_seeds
    for name, spec in sb3_agents.AGENTS.items():
        runs = deep_rl_study.stored_runs(name, spec.env_id, seeds)
        for r in runs:
            assert len(r["eval_steps"]) == len(r["eval_scores"]) > 0
            assert np.isinf(r["hit"]) or r["hit"] in r["eval_steps"]
    assert set(data["runs"]) == set(sb3_agents.AGENTS)  # PPO's runs are the PPO chapter's
    assert set(data["versions"]) >= {"stable-baselines3", "torch", "gymnasium"}


def test_stored_runs_are_refused_after_a_settings_change_naming_it(monkeypatch):
    monkeypatch.setitem(sb3_agents.ZOO_SETTINGS, "SAC", {"policy": "MlpPolicy", "learning_rate": 3e-4})
    with pytest.raises(ValueError, match=r"settings\.agents\.SAC\.zoo\.learning_rate changed\); regenerate"):
        deep_rl_study.load_data()


def test_ppo_runs_are_the_ppo_chapters_stored_runs_for_reported_and_tuning_seeds():
    from ce_lib.studies import ppo as ppo_study

    for env_id in ("CartPole-v1", "Pendulum-v1"):
        seeds = deep_rl_study.SETTINGS.reported_seeds[:2] + deep_rl_study.SETTINGS.tuning_seeds
        hits = [r["hit"] for r in deep_rl_study.rl_runs("PPO", env_id, seeds)]
        assert hits == [r["hit"] for r in ppo_study.runs(env_id, 2)] + list(ppo_study.ppo_tuning_hits(env_id)[:len(seeds) - 2])
    with pytest.raises(ValueError, match="seeds"):
        deep_rl_study.rl_runs("PPO", "CartPole-v1", [77])


@pytest.mark.slow
@pytest.mark.parametrize("name, steps", [("DQN", 3000), ("SAC", 2000), ("TD3", 11000)])
def test_the_start_of_a_stored_run_is_reproduced(name, steps):
    """Bit for bit where the stored runs promise it (same numerical mode and versions); otherwise
    the rerun's evaluations must lie inside the stored seeds' spread, and the message says why
    bit-identity was not expected and which arithmetic this run used."""
    spec = sb3_agents.AGENTS[name]
    data = deep_rl_study.load_data()
    stored = deep_rl_study.stored_runs(name, spec.env_id, [0])[0]
    again = sb3_agents.run(name, 0, stop_after=steps)
    k = steps // sb3_agents.EVAL_EVERY
    assert again["eval_steps"] == stored["eval_steps"][:k]
    exact, why = deep_rl_study.exact_rerun_expected(data)
    if exact:
        assert again["eval_scores"] == stored["eval_scores"][:k], why
        return
    seeds = deep_rl_study.SETTINGS.reported_seeds + deep_rl_study.SETTINGS.tuning_seeds
    others = deep_rl_study.stored_runs(name, spec.env_id, seeds)
    for j, score in enumerate(again["eval_scores"]):
        at_j = [r["eval_scores"][j] for r in others if len(r["eval_scores"]) > j]
        lo, hi = min(at_j), max(at_j)
        slack = 0.05 * (hi - lo) + 1e-6 * max(abs(lo), abs(hi))
        assert lo - slack <= score <= hi + slack, (
            f"{name} seed 0, evaluation at {again['eval_steps'][j]} steps: {score:.6g} lies outside the stored "
            f"seeds' range [{lo:.6g}, {hi:.6g}]. Bit-identity was not expected: {why}")


def test_a_run_leaves_nothing_in_the_temporary_directory(monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where stable-baselines3's default logger writes
    out = sb3_agents.run("DQN", 0, stop_after=sb3_agents.EVAL_EVERY)
    assert out["eval_steps"] == [sb3_agents.EVAL_EVERY]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("SB3-")]  # no logger folder left behind


def test_a_rerun_is_exact_only_under_the_recorded_mode(monkeypatch):
    data = deep_rl_study.load_data()
    assert deep_rl_study.exact_rerun_expected({**data, "numerics": None})[0] is False
    from ce_lib import stored

    made = {"mode": "reproducible", "reproducible": True, "paths": {}, "arithmetic": stored.arithmetic()}
    exact, why = deep_rl_study.exact_rerun_expected({**data, "numerics": made, "versions": deep_rl_study._versions()})
    assert exact == numerics.status().reproducible, why
    exact, why = deep_rl_study.exact_rerun_expected({**data, "numerics": made, "versions": {"torch": "0.0"}})
    assert not exact and "versions differ" in why


def test_without_stable_baselines3_bad_input_is_named_first_then_the_missing_package(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "stable_baselines3", None)  # as if it were not installed
    with pytest.raises(ValueError, match="agent must be one of"):
        sb3_agents.run("PPO2", 0)
    with pytest.raises(ValueError, match="seed"):
        sb3_agents.make_agent("SAC", -1)
    with pytest.raises(ValueError, match="total_timesteps"):
        sb3_agents.make_agent("DQN", 0, total_timesteps=0)
    with pytest.raises(ModuleNotFoundError, match="pip install stable-baselines3"):
        sb3_agents.run("SAC", 0, budget=10)


@pytest.mark.parametrize("argv, flag", [
    (["generate", "--jobs", "0"], "--jobs"),
    (["generate", "--out", "/no/such/folder/runs.json", "--seeds", "0"], "--out"),
    (["generate", "--seeds", "3", "3"], "--seeds"),
    (["generate", "--agents", "A2C", "--seeds", "0"], "--agents"),
])
def test_the_generate_command_names_the_flag_before_any_run(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        deep_rl_study.main(argv)
    assert exit_.value.code == 2 and flag in capsys.readouterr().err
