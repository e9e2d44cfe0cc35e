"""Tests of ce_lib.checkers_model: the learned rules model and search with it."""
import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("pyspiel")

from ce_lib import checkers, checkers_model as cm  # noqa: E402
from ce_lib.checkers_ppo import CheckersPPOConfig, train  # noqa: E402

DIRECTIONS = ((-1, -1), (-1, 1), (1, 1), (1, -1))  # OpenSpiel's order: up-left, up-right, down-right, down-left


def true_effects():
    """The rules' effect of every action id in the mover's frame, written out from the action encoding."""
    source, target, captured = (np.full(checkers.N_ACTIONS, -1) for _ in range(3))
    for a in range(checkers.N_ACTIONS):
        r, c, d, jump = checkers.decode_action(a)
        k = 2 if jump else 1
        r2, c2 = r + k * DIRECTIONS[d][0], c + k * DIRECTIONS[d][1]
        if checkers.DARK_SQUARES[r, c] and 0 <= r2 < 8 and 0 <= c2 < 8:
            source[a], target[a] = r * 8 + c, r2 * 8 + c2
            captured[a] = (r + DIRECTIONS[d][0]) * 8 + c + DIRECTIONS[d][1] if jump else -1
    return source, target, captured, (target >= 0) & (target // 8 == 0)


class TrueLegality(nn.Module):
    """The rules' legal actions from the classifier's six planes (a reference for the search, written from the
    rules: men forward, kings both ways, captures forced, a multiple jump goes on from its landing square)."""

    def forward(self, x):
        source, target, captured, _ = true_effects()
        backward = np.array([checkers.decode_action(a)[2] >= 2 for a in range(checkers.N_ACTIONS)])
        out = np.full((len(x), checkers.N_ACTIONS), -10.0, dtype=np.float32)
        for i, planes in enumerate(x.numpy()):
            codes = (planes[:5].reshape(5, 64).argmax(0) + 1) % 5
            landing = np.flatnonzero(planes[5].reshape(-1))
            ok = source >= 0
            piece = codes[np.maximum(source, 0)]
            ok &= (piece == cm.OWN_KING) | ((piece == cm.OWN_MAN) & ~backward)
            ok &= codes[np.maximum(target, 0)] == cm.EMPTY
            ok &= (captured < 0) | np.isin(codes[np.maximum(captured, 0)], (cm.OPP_MAN, cm.OPP_KING))
            jumps = ok & (captured >= 0)
            if landing.size and landing[0] // 8 == 0 and codes[landing[0]] == cm.OWN_KING:
                ok[:] = False  # a man crowned by a jump: its move ends (the tests' positions start without kings)
            elif landing.size:
                ok = jumps & (source == landing[0])
            elif jumps.any():
                ok = jumps
            out[i, ok] = 10.0
        return torch.from_numpy(out)


def true_model():
    source, target, captured, crowns = true_effects()
    return cm.RulesModel(source, target, captured, crowns, captured >= 0, np.ones(4, bool), TrueLegality(), 0)


def random_positions(n, seed, kings=False):
    """Positions after a random opening of 4-29 plies (none near the draw rule), without kings unless asked."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        state = checkers.new_game().new_initial_state()
        for _ in range(int(rng.integers(4, 30))):
            if state.is_terminal():
                break
            actions = state.legal_actions()
            state.apply_action(actions[rng.integers(len(actions))])
        if state.is_terminal():
            continue
        obs = checkers.observation(state)
        if kings or not (obs[1].any() or obs[3].any()):
            out.append(state)
    return out


@pytest.mark.parametrize("depth, n", [(1, 12), (2, 12), (3, 6)])
def test_search_with_the_rules_as_its_model_values_positions_as_alphabeta_does(depth, n):
    # Kings are left out: a king on the far row after a jump may be one just crowned (its move ends) or an old
    # one (it may jump on), which the board does not tell -- nor a learned model.
    model = true_model()
    for state in random_positions(n, seed=depth):
        values = cm.model_search(model, checkers.observation(state), checkers.legal_mask(state), depth)
        assert values.max() == pytest.approx(checkers.alphabeta(state, depth)[1], abs=1e-9)
        assert np.all(np.isneginf(values[~checkers.legal_mask(state)]))


def test_the_effect_table_is_counted_right_from_random_play():
    moves = cm.collect_moves(4000, seed=0)
    model = cm.fit(moves, seed=0, epochs=1)
    source, target, captured, crowns = true_effects()
    known = model.known()
    played = np.bincount(moves.action, minlength=checkers.N_ACTIONS)
    assert known.sum() > 100 and np.all(played[known] > 0)
    assert np.array_equal(model.source[known], source[known])
    assert np.array_equal(model.target[known], target[known])
    often = known & (played >= 3)  # a capture is told from the opponent's reply by its majority
    assert np.array_equal(model.captured[often], captured[often])
    assert np.all(captured[model.goes_on] >= 0), "only jumps were seen followed by another move of the same player"
    assert model.goes_on.any() and model.crowns.any()
    assert np.all(model.crowns <= crowns)
    assert model.conditions.all(), "the rules' necessary conditions held in every recorded move"


class Anything(nn.Module):
    """A classifier that calls every action legal."""

    def forward(self, x):
        return torch.full((len(x), checkers.N_ACTIONS), 10.0)


def test_the_necessary_conditions_keep_a_careless_classifier_inside_the_rules_and_the_search_finite():
    # Without them, a classifier that lets a king step on and on in the middle of a multiple jump makes a
    # turn that never ends; with them, every step of a multiple jump captures, so the turn does end.
    model = true_model()._replace(classifier=Anything())
    positions = random_positions(8, seed=5, kings=True)
    codes = cm._codes(np.stack([checkers.observation(s) for s in positions]))
    legal = cm._legal(model, codes, np.full(len(codes), -1))
    for s, row in zip(positions, legal):
        assert np.all(row[checkers.legal_mask(s)]), "no legal action is lost"
    rows, acts = np.nonzero(legal)
    assert cm._held(model, codes[rows], acts, np.full(len(acts), -1)).all()
    loose = model._replace(conditions=np.zeros(4, bool))
    assert cm._legal(loose, codes, np.full(len(codes), -1)).sum() > legal.sum()
    for s in positions[:3]:
        values = cm.model_search(model, checkers.observation(s), checkers.legal_mask(s), 2)
        assert np.isfinite(values[checkers.legal_mask(s)]).all()


def test_fit_depends_only_on_its_seed():
    moves = cm.collect_moves(300, seed=1)
    x = torch.zeros(1, 6, 8, 8)
    a, b, c = (cm.fit(moves, seed=s, epochs=1) for s in (3, 3, 4))
    assert torch.equal(a.classifier(x), b.classifier(x))
    assert not torch.equal(a.classifier(x), c.classifier(x))


def test_ppo_records_what_it_saw_without_changing_its_run():
    cfg = CheckersPPOConfig(eval_every=10_000)
    plain, recorded = train(2048, 0, cfg), train(2048, 0, cfg, record_moves=1024)
    assert len(plain.moves.action) == 0
    for p, q in zip(plain.model.parameters(), recorded.model.parameters()):
        assert torch.equal(p, q)
    moves = recorded.moves
    assert len(moves.action) == 1024
    assert moves.mask[np.arange(1024), moves.action].all()
    per_slot = 1024 // cfg.n_envs  # the first 64 moves of each of the 16 game slots, slot after slot
    for k in range(1024 - 1):
        if (k + 1) % per_slot and not moves.done[k]:
            assert np.array_equal(moves.next_obs[k], moves.obs[k + 1])


@pytest.mark.slow
def test_a_player_searching_a_learned_model_plays_legal_moves_and_beats_random_play():
    model = cm.fit(cm.collect_moves(6000, seed=2), seed=0)
    result = checkers.match(cm.ModelSearchPlayer(model, 2, seed=0), checkers.RandomPlayer(1), 12, seed=3)
    assert result.score >= 0.6
    assert cm.legal_accuracy(model, cm.collect_moves(500, seed=4))["exact"] > 0.5
