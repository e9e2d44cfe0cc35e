"""ce_lib.checkers: OpenSpiel's rules from the mover's side, and alpha-beta against exhaustive search."""
import numpy as np
import pytest

pyspiel = pytest.importorskip("pyspiel", reason="OpenSpiel has no wheel for this platform")

from ce_lib import checkers as C  # noqa: E402

DARK = (np.add.outer(np.arange(8), np.arange(8)) % 2 == 1)  # the squares pieces stand on


def _random_state(seed, plies):
    rng = np.random.default_rng(seed)
    state = C.new_game().new_initial_state()
    for _ in range(plies):
        if state.is_terminal():
            break
        actions = state.legal_actions()
        state.apply_action(actions[rng.integers(len(actions))])
    return state


def test_the_first_players_view_at_the_start_locks_the_plane_layout():
    obs = C.observation(C.new_game().new_initial_state())
    assert obs.shape == (len(C.PLANES), 8, 8) and obs.dtype == np.float32
    own, own_kings, opp, opp_kings, empty = obs
    assert np.array_equal(own.astype(bool), DARK & (np.arange(8)[:, None] >= 5))  # the mover's men at the bottom
    assert np.array_equal(opp.astype(bool), DARK & (np.arange(8)[:, None] <= 2))
    assert own_kings.sum() == opp_kings.sum() == 0 and empty.sum() == 40
    assert np.all(obs.sum(axis=0) == 1)  # every square is exactly one thing


def test_the_second_player_sees_the_board_rotated_and_moves_up():
    game = C.new_game()
    for first in game.new_initial_state().legal_actions():
        state = game.new_initial_state()
        state.apply_action(first)
        assert state.current_player() == 1
        obs = C.observation(state)
        assert np.array_equal(obs[0].astype(bool), DARK & (np.arange(8)[:, None] >= 5))  # own men at the bottom
        mask = C.legal_mask(state)
        legal = set(state.legal_actions())
        assert mask.sum() == len(legal)
        for a in np.flatnonzero(mask):
            row, col, direction, _ = C.decode_action(a)
            assert row == 5 and direction in (0, 1)  # up-left or up-right, from the mover's front row
            assert obs[0, row, col] == 1
            assert C.from_mover(a, 1) in legal


def test_the_view_does_not_depend_on_how_openspiel_orders_its_planes():
    absolute = pyspiel.load_game("checkers")  # planes in absolute order
    for seed in range(5):
        plies = 1 + seed * 7
        ego_state = _random_state(seed, plies)
        abs_state = absolute.new_initial_state()
        for a in ego_state.history():
            abs_state.apply_action(a)
        if not ego_state.is_terminal():
            assert np.array_equal(C.observation(ego_state), C.observation(abs_state))


def test_flip_is_an_involution_that_rotates_the_board():
    for a in range(C.N_ACTIONS):
        b = C.flip_action(a)
        assert C.flip_action(b) == a
        r, c, d, t = C.decode_action(a)
        assert C.decode_action(b) == (7 - r, 7 - c, (d + 2) % 4, t)
    assert C.to_mover(5, 0) == 5 and C.to_mover(5, 1) == C.flip_action(5) == C.from_mover(5, 1)


def test_the_draw_rule_is_40_actions_without_a_capture():
    draws = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        state = C.new_game().new_initial_state()
        quiet = 0
        while not state.is_terminal():
            pieces = C.observation(state)[:4].sum()
            actions = state.legal_actions()
            state.apply_action(actions[rng.integers(len(actions))])
            if state.is_terminal():
                quiet += 1
                break
            quiet = 0 if C.observation(state)[:4].sum() < pieces else quiet + 1
            assert quiet < C.MAX_PLIES_WITHOUT_CAPTURE  # the game would have ended
        if state.returns()[0] == 0:
            draws += 1
            assert quiet == C.MAX_PLIES_WITHOUT_CAPTURE
    assert 0 < draws < 60


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_alphabeta_gives_the_exhaustive_searchs_value_and_a_best_action(depth):
    for seed in range(8 if depth < 3 else 3):
        state = _random_state(100 + seed, 10 + 6 * seed)
        if state.is_terminal():
            continue
        action, value = C.alphabeta(state, depth, np.random.default_rng(seed))
        assert value == C.negamax(state, depth)
        child = state.child(action)
        player = state.current_player()
        if child.is_terminal():
            got = C.WIN - 1 if child.returns()[player] > 0 else (0.0 if child.returns()[player] == 0 else -(C.WIN - 1))
        elif child.current_player() == player:
            got = C._negamax(child, depth, 1)
        else:
            got = -C._negamax(child, depth - 1, 1)
        assert got == value


def test_ties_are_broken_at_random_from_the_seed():
    state = C.new_game().new_initial_state()  # every opening move is worth 0 at depth 1
    chosen = {C.alphabeta(state, 1, np.random.default_rng(seed))[0] for seed in range(30)}
    assert len(chosen) > 3 and chosen <= set(state.legal_actions())
    assert C.alphabeta(state, 1, np.random.default_rng(7)) == C.alphabeta(state, 1, np.random.default_rng(7))
    assert C.alphabeta(state, 1)[0] == state.legal_actions()[0]


def test_search_beats_random_play_and_a_match_alternates_colours():
    result = C.match(C.AlphaBetaPlayer(2, seed=1), C.RandomPlayer(seed=2), 10, seed=0)
    assert result.wins + result.draws + result.losses == 10 and result.wins >= 8
    assert result == C.match(C.AlphaBetaPlayer(2, seed=1), C.RandomPlayer(seed=2), 10, seed=0)  # seeded

    def first_legal(state):
        return state.legal_actions()[0]

    # the same deterministic player on both sides: games 2k and 2k + 1 are one game with colours swapped
    same = C.match(first_legal, first_legal, 8, opening_plies=3, seed=5)
    assert same.wins == same.losses
    assert 0 <= same.score <= 1


@pytest.mark.parametrize("call, word", [
    (lambda: C.observation("board"), "state"),
    (lambda: C.observation(pyspiel.load_game("tic_tac_toe").new_initial_state()), "checkers"),
    (lambda: C.decode_action(512), "action"),
    (lambda: C.decode_action(-1), "action"),
    (lambda: C.flip_action(3.0), "action"),
    (lambda: C.to_mover(3, 2), "player"),
    (lambda: C.from_mover(3, True), "player"),
    (lambda: C.material(C.new_game().new_initial_state(), 2), "player"),
    (lambda: C.alphabeta(C.new_game().new_initial_state(), 0), "depth"),
    (lambda: C.negamax(C.new_game().new_initial_state(), -1), "depth"),
    (lambda: C.AlphaBetaPlayer(0), "depth"),
    (lambda: C.AlphaBetaPlayer(2, seed="x"), "seed"),
    (lambda: C.play_game("me", C.RandomPlayer()), "first"),
    (lambda: C.play_game(C.RandomPlayer(), C.RandomPlayer(), opening_plies=-1), "opening_plies"),
    (lambda: C.play_game(C.RandomPlayer(), C.RandomPlayer(), max_plies=0), "max_plies"),
    (lambda: C.play_game(lambda s: 9999, C.RandomPlayer()), "first chose an illegal action"),
    (lambda: C.match(C.RandomPlayer(), None, 2), "b"),
    (lambda: C.match(C.RandomPlayer(), C.RandomPlayer(), 0), "n_games"),
    (lambda: C.match(C.RandomPlayer(), C.RandomPlayer(), 2, opening_plies=1.5), "opening_plies"),
    (lambda: C.match(C.RandomPlayer(), C.RandomPlayer(), 2, seed=-1), "seed"),
])
def test_bad_input_names_the_argument(call, word):
    with pytest.raises((ValueError, TypeError), match=word):
        call()


def test_a_finished_game_has_no_view_and_no_search():
    state = _random_state(3, 10_000)
    assert state.is_terminal()
    assert not C.legal_mask(state).any()
    with pytest.raises(ValueError, match="state"):
        C.observation(state)
    with pytest.raises(ValueError, match="state"):
        C.alphabeta(state, 2)


def _first_legal(state):
    return state.legal_actions()[0]


def test_the_environment_passes_gymnasiums_checks():
    from gymnasium.utils.env_checker import check_env

    check_env(C.CheckersEnv(C.RandomPlayer(seed=0), opening_plies=2), skip_render_check=True)


@pytest.mark.parametrize("agent_player", [0, 1])
def test_an_agent_that_follows_the_mask_plays_whole_games_from_its_side(agent_player):
    env = C.CheckersEnv(C.RandomPlayer(seed=1), agent_player=agent_player)
    rng = np.random.default_rng(0)
    results = []
    for episode in range(6):
        obs, info = env.reset(seed=episode)
        own_start = DARK & (np.arange(8)[:, None] >= 5)
        assert np.array_equal(obs[0].astype(bool) | ~own_start, np.ones((8, 8), bool))  # own men at the bottom
        done, reward = False, 0.0
        while not done:
            mask = info["action_mask"]
            assert mask.any() and np.array_equal(mask, env.action_masks())
            obs, reward, done, truncated, info = env.step(int(rng.choice(np.flatnonzero(mask))))
            assert not truncated and (reward == 0 or done)
        assert not info["action_mask"].any()
        results.append(reward)
    assert set(results) <= {-1.0, 0.0, 1.0}


def test_an_illegal_action_loses_and_a_seeded_reset_repeats():
    env = C.CheckersEnv(_first_legal, opening_plies=4)
    obs, info = env.reset(seed=3)
    again, _ = env.reset(seed=3)
    assert np.array_equal(obs, again)
    illegal = int(np.flatnonzero(~info["action_mask"])[0])
    _, reward, done, _, info = env.step(illegal)
    assert reward == -1.0 and done and info["illegal"]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_monte_carlo_tree_search_plays_legal_moves_and_beats_random_play():
    result = C.match(C.MCTSPlayer(100, seed=0), C.RandomPlayer(seed=1), 6, seed=2)
    assert result.wins >= 5
    state = C.new_game().new_initial_state()
    assert C.MCTSPlayer(30, seed=4)(state) in state.legal_actions()


@pytest.mark.parametrize("call, word", [
    (lambda: C.CheckersEnv("random"), "opponent"),
    (lambda: C.CheckersEnv(_first_legal, agent_player=2), "player"),
    (lambda: C.CheckersEnv(_first_legal, opening_plies=-1), "opening_plies"),
    (lambda: C.CheckersEnv(_first_legal, render_mode="human"), "render_mode"),
    (lambda: C.CheckersEnv(_first_legal).step(3), "reset"),
    (lambda: C.MCTSPlayer(0), "simulations"),
    (lambda: C.MCTSPlayer(10, uct_c=-1.0), "uct_c"),
    (lambda: C.MCTSPlayer(10, rollouts=0), "rollouts"),
    (lambda: C.MCTSPlayer(10, seed="s"), "seed"),
])
def test_bad_input_to_the_environment_and_players_names_the_argument(call, word):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=word):
        call()


def test_the_score_interval_holds_the_score_and_narrows_with_games():
    few, many = C.MatchResult(6, 2, 2), C.MatchResult(60, 20, 20)
    assert few.score == many.score == 0.7
    lo, hi = few.interval()
    assert 0 <= lo < 0.7 < hi <= 1 and many.interval()[1] - many.interval()[0] < hi - lo
    assert C.MatchResult(10, 0, 0).interval()[1] == pytest.approx(1.0) and C.MatchResult(10, 0, 0).interval()[0] < 1
    assert np.isnan(C.MatchResult(0, 0, 0).score)
    with pytest.raises(ValueError, match="level"):
        few.interval(1.5)


def test_a_drawn_position_shows_each_piece_once_on_the_dark_squares():
    import matplotlib

    matplotlib.use("Agg")
    state = _random_state(1, 31)
    for player in (0, 1):
        ax = C.draw_position(state, player=player)
        pieces = [p for p in ax.patches if getattr(p, "radius", 0) == 0.38]
        assert len(pieces) == C._view(state, player)[:4].sum()
        for p in pieces:
            c, r = (int(round(v)) for v in p.center)
            assert C.DARK_SQUARES[r, c]
    with pytest.raises(ValueError, match="player"):
        C.draw_position(state, player=3)


def test_players_are_made_from_their_names_with_their_own_generators():
    assert repr(C.make_player("alphabeta:3", seed=0)) == "AlphaBetaPlayer(depth=3)"
    assert repr(C.make_player("mcts:30", seed=0)) == "MCTSPlayer(simulations=30)"
    state = _random_state(0, 6)
    a, b = C.make_player("random", seed=5), C.make_player("random", seed=5)
    assert [a(state) for _ in range(20)] == [b(state) for _ in range(20)]
    for bad in ("minimax:2", "alphabeta:0", "alphabeta:", "random:1", "mcts:1.5", "alphabeta:\u00b2"):
        with pytest.raises(ValueError, match="spec"):
            C.make_player(bad)
