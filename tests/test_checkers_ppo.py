"""ce_lib.checkers_ppo: masked PPO on checkers with a curriculum; and the checkers chapter's stored runs."""
from dataclasses import replace

import numpy as np
import pytest
import torch

pytest.importorskip("pyspiel", reason="OpenSpiel has no wheel for this platform")

from ce_lib import checkers as C  # noqa: E402
from ce_lib import checkers_ppo as P  # noqa: E402

TINY = P.CheckersPPOConfig(n_envs=4, n_steps=64, minibatch_size=128, n_epochs=2, eval_every=512, eval_games=4)


def _model(seed=0):
    return P.BoardActorCritic(generator=torch.Generator().manual_seed(seed))


def test_masked_logits_put_all_the_probability_on_legal_actions_and_no_gradient_on_the_others():
    logits = torch.randn(3, C.N_ACTIONS, requires_grad=True)
    mask = torch.zeros(3, C.N_ACTIONS, dtype=torch.bool)
    mask[0, [1, 5]] = mask[1, 7] = True
    mask[2] = True
    logp = torch.log_softmax(P.masked_logits(logits, mask), -1)
    probs = logp.exp()
    assert torch.all(probs[~mask] == 0)
    assert torch.allclose(probs.sum(-1), torch.ones(3))
    assert probs[1, 7] == 1
    logp[mask].sum().backward()
    assert torch.all(logits.grad[~mask] == 0) and torch.any(logits.grad[0, [1, 5]] != 0)


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(2, C.N_ACTIONS, dtype=torch.bool), "at least one action"),
    (torch.ones(2, 3, dtype=torch.bool), "shape"),
    (torch.ones(2, C.N_ACTIONS), "boolean"),
])
def test_masked_logits_refuse_a_bad_mask(bad, match):
    with pytest.raises(ValueError, match=match):
        P.masked_logits(torch.zeros(2, C.N_ACTIONS), bad)


def test_the_network_is_made_from_its_generator_only():
    before = torch.random.get_rng_state()
    a, b, c = _model(0), _model(0), _model(1)
    assert torch.equal(torch.random.get_rng_state(), before)  # torch's global generator untouched
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.trunk[0].weight, c.trunk[0].weight)
    logits, value = a(torch.zeros(5, len(C.PLANES), 8, 8))
    assert logits.shape == (5, C.N_ACTIONS) and value.shape == (5,)
    with pytest.raises(TypeError, match="generator"):
        P.BoardActorCritic()


def test_the_policy_player_plays_legal_moves_for_both_colours():
    player = P.PolicyPlayer(_model())
    result = C.match(player, C.RandomPlayer(0), 4, seed=0)  # play_game refuses an illegal action
    assert result.wins + result.draws + result.losses == 4
    with pytest.raises(TypeError, match="model"):
        P.PolicyPlayer("network")


def test_a_run_depends_only_on_its_seed_and_a_shorter_run_is_the_start_of_a_longer_one():
    long = P.train(1024, seed=3, config=TINY)
    again = P.train(1024, seed=3, config=TINY)
    short = P.train(512, seed=3, config=TINY)
    other = P.train(1024, seed=4, config=TINY)
    assert long.evaluations.shape == (2, len(P.EVALUATION_COLUMNS))
    assert np.array_equal(long.evaluations[:, :6], again.evaluations[:, :6])
    assert np.array_equal(long.episodes, again.episodes)
    assert np.array_equal(short.evaluations[:, :6], long.evaluations[:1, :6])
    assert not np.array_equal(long.episodes, other.episodes)
    assert set(np.unique(long.episodes[:, 1])) <= {-1.0, 0.0, 1.0} and long.steps == 1024
    assert np.all(np.diff(long.evaluations[:, 6]) > 0)  # training CPU-seconds add up


def test_the_curriculum_moves_up_after_two_passing_evaluations_and_stops_at_the_top():
    easy = replace(TINY, target_score=0.0)  # every evaluation passes
    res = P.train(10_000, seed=0, config=easy, ladder=("random", "alphabeta:1"))
    assert res.passed_at.tolist() == [0, 2]  # each rung at the first of two passing evaluations
    assert res.evaluations[:, 2].tolist() == [0, 0, 1, 1]  # the rungs the evaluations played
    assert res.steps == 4 * easy.eval_every  # and training stopped once the ladder was climbed
    hard = replace(TINY, target_score=1.0)
    assert P.train(1024, seed=0, config=hard).passed_at.tolist() == [-1] * len(P.LADDER)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_envs": 0}, "n_envs"), ({"gamma": 1.5}, "gamma"), ({"learning_rate": 0.0}, "learning_rate"),
    ({"channels": ()}, "channels"), ({"channels": (16, 0)}, "channels"), ({"target_score": 2.0}, "target_score"),
    ({"opening_plies": -1}, "opening_plies"), ({"eval_games": 0}, "eval_games"),
])
def test_the_config_names_a_bad_field(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        P.CheckersPPOConfig(**kwargs)


@pytest.mark.parametrize("args, match", [
    ((0,), "total_timesteps"), ((100, -1), "seed"), ((100, 0, "config"), "config"),
    ((100, 0, TINY, "random"), "ladder"), ((100, 0, TINY, ()), "ladder"), ((100, 0, TINY, ("minimax:3",)), "spec"),
])
def test_train_names_a_bad_argument_before_any_work(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        P.train(*args)


# The chapter's stored runs (ce_lib/data/checkers_runs.json): complete, refused after a settings change,
# and what the code makes.

def test_every_stored_run_is_there_and_the_chapters_tables_come_out_of_them():
    from ce_lib.studies import checkers as study

    data = study.load_data()
    assert data["command"] == study.GENERATE_COMMAND
    S = study.SETTINGS
    assert len(data["runs"]) == len(S.learning_rates) * S.n_tuning_seeds + S.n_seeds + len(S.ladder)
    costs = study.rung_costs(data)
    assert costs["steps"].shape == (S.n_seeds, len(S.ladder))
    passed = np.isfinite(costs["steps"])
    assert np.all(passed[:, :-1] | ~passed[:, 1:])  # a rung is passed only after the one below it
    assert np.all(np.diff(np.where(passed, costs["steps"], np.inf), axis=1)[passed[:, 1:]] > 0)
    for row in study.search_ladder(data):
        assert row["depth"] is None or row["depth"] in S.search_depths
    records = study.headline()
    more = [r for r in records if r["information"] == "more"]
    same = [r for r in records if r["information"] == "same"]
    assert len(more) == len(S.ladder) - 1 and len(same) == len(S.ladder) and len(records) == len(more) + len(same)
    assert all(r["ce_given"] == "" for r in same)


def test_the_same_information_matches_are_stored_and_climb_as_the_curriculum_does():
    from ce_lib import checkers_model
    from ce_lib.studies import checkers as study

    data = study.load_learned()
    assert data["command"] == study.LEARNED_COMMAND
    S, L = study.SETTINGS, study.LEARNED_SETTINGS
    assert len(data["runs"]) == S.n_seeds * len(L.moves)
    target = study.config().target_score
    for row in study.learned_ladder(data):
        specs = [spec for spec in S.ladder if spec in row["rungs"]]
        assert specs == list(S.ladder[:len(row["rungs"])])  # the rungs from the first, with none skipped
        for k, spec in enumerate(specs):  # every rung below the last one tried was passed
            assert (row["depth"][spec] is not None) or k == len(specs) - 1
            tried = [int(d) for d in row["rungs"][spec]]
            assert tried == list(L.depths[:len(tried)])  # depths shallowest first, stopping at the first pass
            scores = [(m["wins"] + 0.5 * m["draws"]) / S.ladder_games for m in row["rungs"][spec].values()]
            assert all(x < target for x in scores[:-1])
            if scores[-1] < target:  # a rung not passed was tried at every depth
                assert tried == list(L.depths)
        assert 0 <= row["accuracy"]["exact"] <= 1
    for run in data["runs"].values():  # the rules' necessary conditions held in everything PPO saw
        assert run["conditions"] == [True] * len(checkers_model.CONDITIONS)
    costs = study.learned_costs(data)
    assert costs["ce_moves"].shape == costs["ppo_moves"].shape == (S.n_seeds, len(S.ladder))
    assert set(np.unique(costs["ce_moves"])) <= set(L.moves) | {np.inf}
    summary = study.learned_summary(data)
    assert [row["moves"] for row in summary] == list(L.moves)


def test_the_same_information_matches_are_refused_after_a_settings_change(monkeypatch):
    from ce_lib.studies import checkers as study

    monkeypatch.setattr(study, "LEARNED_SETTINGS", replace(study.LEARNED_SETTINGS, depths=(1, 2, 3)))
    with pytest.raises(ValueError, match=r"settings\.depths changed.*generate-learned"):
        study.load_learned()


@pytest.mark.slow
def test_a_stored_learned_model_is_made_again_with_the_same_legality():
    from ce_lib import stored
    from ce_lib.experiments import child_seed
    from ce_lib.studies import checkers as study
    from ce_lib import checkers_model

    data = study.load_learned()
    exact, why = stored.exact_rerun_expected(data)
    if not exact:
        pytest.skip(why)
    n = min(study.LEARNED_SETTINGS.moves)
    model, _, _ = study.fit_from_ppo(1, n)
    test = checkers_model.collect_moves(study.LEARNED_SETTINGS.test_moves, "alphabeta:2", child_seed(1, 501))
    assert checkers_model.legal_accuracy(model, test) == data["runs"][f"learned/1/{n}"]["accuracy"]
    assert int(model.known().sum()) == data["runs"][f"learned/1/{n}"]["known_actions"]


def test_the_stored_runs_are_refused_after_a_settings_change_naming_it(monkeypatch):
    from ce_lib.studies import checkers as study

    monkeypatch.setattr(study, "SETTINGS", replace(study.SETTINGS, budget=400_000))
    with pytest.raises(ValueError, match=r"settings\.budget changed.*checkers generate"):
        study.load_data()


@pytest.mark.slow
def test_the_start_of_a_stored_run_is_made_again_bit_for_bit():
    from ce_lib.studies import checkers as study

    out = study.rerun_stored(1, n_evaluations=1)
    if not out["exact_expected"]:
        pytest.skip(out["why"])
    assert out["identical"], (out["rerun"], out["stored"])
    assert out["rerun"].shape == (1, 6)
