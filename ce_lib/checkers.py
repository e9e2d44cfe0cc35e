"""Checkers (8x8 English draughts): OpenSpiel's rules seen from the player to move, and players that
search with them -- the ground of the checkers chapter.

The rules are OpenSpiel's ``checkers`` game (Lanctot et al., 2019), pinned to the version in
``pyproject.toml``: men move and capture diagonally forward, kings one square in any diagonal
direction, captures are forced, a man that reaches the far row is crowned and its move ends there, a
player with no legal move loses, and -- stricter than the official English rule of 40 moves *each* --
the game is drawn after :data:`MAX_PLIES_WITHOUT_CAPTURE` actions in a row without a capture. Each
jump of a multiple jump is its own action, after which the same player moves again.

What this module adds:

- **The mover's view.** :func:`observation` gives the board as the player to move sees it, rotated by
  180 degrees for the second player, so that the mover's men always advance toward row 0;
  :func:`to_mover` and :func:`from_mover` translate action ids between the board's frame and the
  mover's (a rotation of the board maps each action id to one action id), and :func:`legal_mask` is
  the mover's legal actions as a mask over the :data:`N_ACTIONS` ids.
- **Search with the rules** (certainty equivalence in a game, where the model is the rules):
  :func:`alphabeta` with a material evaluation (:func:`material`), its depth counted in *turns*, so
  that a multiple jump is looked at whole; :class:`AlphaBetaPlayer` breaks ties at random from its
  own seed.
- **Play**: :class:`MCTSPlayer` (OpenSpiel's C++ Monte Carlo tree search with random rollouts),
  :func:`play_game` and :func:`match` (colours alternated, openings randomised from a seed, wins, draws
  and losses counted from the first player's side), and :class:`CheckersEnv`, a gymnasium environment
  in which an agent plays against any of these, with a legal-action mask.

OpenSpiel is installed with ``ce_lib`` where it ships wheels (Python 3.11 or later on Linux x86-64
and Apple-silicon macOS, 3.12 or later on Linux aarch64); elsewhere the functions that need it say so.

References
----------
Lanctot et al. (2019), OpenSpiel: a framework for reinforcement learning in games. Schaeffer et al.
(2007), Checkers is solved. Knuth & Moore (1975), An analysis of alpha-beta pruning.
"""
from __future__ import annotations

import copy
from typing import Callable, NamedTuple

import gymnasium as gym
import numpy as np

from .experiments import Seed, as_rng, check_positive_int

__all__ = ["ROWS", "COLUMNS", "N_ACTIONS", "PLANES", "MAX_PLIES_WITHOUT_CAPTURE", "WIN", "new_game",
           "decode_action", "flip_action", "to_mover", "from_mover", "observation", "legal_mask", "material",
           "alphabeta", "negamax", "AlphaBetaPlayer", "RandomPlayer", "MCTSPlayer", "make_player", "play_game",
           "MatchResult", "match",
           "CheckersEnv", "Moves", "DARK_SQUARES", "draw_position"]

ROWS = COLUMNS = 8  #: the board
N_DIRECTIONS = 4  #: diagonal directions, in OpenSpiel's order: up-left, up-right, down-right, down-left
N_MOVE_TYPES = 2  #: a step (0) or a jump (1)
N_ACTIONS = ROWS * COLUMNS * N_DIRECTIONS * N_MOVE_TYPES
"""Action ids: ``((row * COLUMNS + column) * N_DIRECTIONS + direction) * N_MOVE_TYPES + move_type``, the
square a piece leaves (row 0 at the top of OpenSpiel's board), where it goes, and whether it jumps."""
PLANES = ("own men", "own kings", "opponent men", "opponent kings", "empty")
"""The planes of :func:`observation`, from the side of the player to move."""
MAX_PLIES_WITHOUT_CAPTURE = 40
"""OpenSpiel's draw rule: the game ends drawn after this many actions in a row without a capture."""
DARK_SQUARES = np.add.outer(np.arange(ROWS), np.arange(COLUMNS)) % 2 == 1
"""The squares the pieces stand on (row 0 at the top, as OpenSpiel prints the board)."""
WIN = 1000.0
"""Value of a won position for :func:`alphabeta` (less the plies it takes, so that a faster win is better);
material counts men 1 and kings 2, far below it."""


def _pyspiel():
    try:
        import pyspiel
    except ImportError:  # pragma: no cover - depends on the platform
        raise ImportError("the checkers module needs OpenSpiel: `pip install open-spiel==2.0.2` (wheels for "
                          "Python 3.11+ on Linux x86-64 and Apple-silicon macOS, 3.12+ on Linux aarch64)") from None
    return pyspiel


def new_game():
    """OpenSpiel's 8x8 checkers, with the planes of its observation ordered from the observer's side."""
    return _pyspiel().load_game("checkers", {"egocentric": True, "rows": ROWS, "columns": COLUMNS})


def _check_state(state):
    if not hasattr(state, "legal_actions") or not hasattr(state, "observation_tensor"):
        raise TypeError(f"state must be an OpenSpiel checkers state, got {type(state).__name__}")
    if state.get_game().get_type().short_name != "checkers":
        raise ValueError(f"state must be a checkers state, got one of {state.get_game().get_type().short_name!r}")
    params = state.get_game().get_parameters()
    if params.get("rows", ROWS) != ROWS or params.get("columns", COLUMNS) != COLUMNS:
        raise ValueError(f"state must be of the {ROWS}x{COLUMNS} game, got {params}")
    return state


def _check_action(action, name="action"):
    if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or not 0 <= action < N_ACTIONS:
        raise ValueError(f"{name} must be an action id in 0 .. {N_ACTIONS - 1}, got {action!r}")
    return int(action)


def decode_action(action: int) -> tuple[int, int, int, int]:
    """``(row, column, direction, move_type)`` of an action id (see :data:`N_ACTIONS`)."""
    action = _check_action(action)
    move_type = action % N_MOVE_TYPES
    direction = (action // N_MOVE_TYPES) % N_DIRECTIONS
    square = action // (N_MOVE_TYPES * N_DIRECTIONS)
    return square // COLUMNS, square % COLUMNS, direction, move_type


def flip_action(action: int) -> int:
    """The action id of the same move on the board rotated by 180 degrees: the square (r, c) becomes
    (7 - r, 7 - c) and each direction its opposite. Its own inverse."""
    row, col, direction, move_type = decode_action(action)
    square = (ROWS - 1 - row) * COLUMNS + (COLUMNS - 1 - col)
    return (square * N_DIRECTIONS + (direction + 2) % N_DIRECTIONS) * N_MOVE_TYPES + move_type


_FLIP = np.array([flip_action(a) for a in range(N_ACTIONS)])


def _check_player(player):
    if isinstance(player, bool) or player not in (0, 1):
        raise ValueError(f"player must be 0 or 1, got {player!r}")
    return int(player)


def to_mover(action: int, player: int) -> int:
    """Board-frame action id -> the id of the same move in ``player``'s frame (rotated for player 1)."""
    action, player = _check_action(action), _check_player(player)
    return int(_FLIP[action]) if player == 1 else action


def from_mover(action: int, player: int) -> int:
    """``player``'s action id -> the board-frame id OpenSpiel applies (the inverse of :func:`to_mover`)."""
    action, player = _check_action(action), _check_player(player)
    return int(_FLIP[action]) if player == 1 else action


def _planes(state, player: int) -> np.ndarray:
    """OpenSpiel's observation planes for ``player`` in :data:`PLANES` order, in the board's frame."""
    obs = np.asarray(state.observation_tensor(player), dtype=np.float32).reshape(len(PLANES), ROWS, COLUMNS)
    if not state.get_game().get_parameters().get("egocentric", False) and player == 1:
        obs = obs[[2, 3, 0, 1, 4]]  # planes in absolute order: make them the observer's
    return obs


def observation(state) -> np.ndarray:
    """The board as the player to move sees it: :data:`PLANES` x rows x columns (float32, 0 or 1), rotated
    by 180 degrees for the second player so that the mover's men always advance toward row 0.

    It does not say whether the mover is in the middle of a multiple jump, nor how close the draw rule is:
    a policy that reads only this sees what a player looking at the board sees.
    """
    _check_state(state)
    if state.is_terminal():
        raise ValueError("state: the game is over, no player is to move")
    return _view(state, state.current_player())


def _view(state, player):
    obs = _planes(state, player)
    return np.ascontiguousarray(obs[:, ::-1, ::-1]) if player == 1 else obs


def legal_mask(state) -> np.ndarray:
    """The mover's legal actions as a boolean mask over the :data:`N_ACTIONS` ids in the mover's frame
    (what :func:`observation` shows)."""
    _check_state(state)
    mask = np.zeros(N_ACTIONS, dtype=bool)
    if state.is_terminal():
        return mask
    actions = np.asarray(state.legal_actions(), dtype=int)
    mask[_FLIP[actions] if state.current_player() == 1 else actions] = True
    return mask


def material(state, player: int) -> float:
    """Material balance from ``player``'s side: own men + 2 x own kings - (the opponent's)."""
    _check_state(state)
    obs = _planes(state, _check_player(player))
    return float(obs[0].sum() + 2 * obs[1].sum() - obs[2].sum() - 2 * obs[3].sum())


def _terminal_value(state, player, ply):
    r = state.returns()[player]
    return 0.0 if r == 0 else float(np.sign(r)) * (WIN - ply)


def negamax(state, depth: int) -> float:
    """The value of ``state`` for the player to move by exhaustive search ``depth`` turns deep (no
    pruning): what :func:`alphabeta` must return. For tests and small positions."""
    _check_state(state)
    depth = check_positive_int(depth, "depth", minimum=0)
    if state.is_terminal():
        raise ValueError("state: the game is over, no player is to move")
    return _negamax(state, depth, 0)


def _negamax(state, depth, ply):
    player = state.current_player()
    if depth == 0:
        return material(state, player)
    best = -np.inf
    for a in state.legal_actions():
        child = state.child(a)
        if child.is_terminal():
            v = _terminal_value(child, player, ply + 1)
        elif child.current_player() == player:  # a multiple jump goes on: the same turn
            v = _negamax(child, depth, ply + 1)
        else:
            v = -_negamax(child, depth - 1, ply + 1)
        best = max(best, v)
    return best


def alphabeta(state, depth: int, rng: np.random.Generator | None = None) -> tuple[int, float]:
    """Alpha-beta search (negamax form) ``depth`` turns deep with the material evaluation; the best
    action for the player to move and its value.

    A turn is all the actions of one player before the other moves (the jumps of a multiple jump), so
    depth 1 sees the end of the mover's own turn. Wins and losses are worth :data:`WIN` less the plies
    to them. With ``rng`` (the player's numpy Generator), the root's actions are searched in a random
    order, and the first of them with the best value is chosen: a uniformly random choice among the
    best actions. Without it, the first in OpenSpiel's order.

    .. math:: V(s, d) = \\max_a \\begin{cases} -V(s', d - 1) & \\text{the opponent moves in } s' \\\\
              V(s', d) & \\text{the mover jumps again in } s' \\end{cases},\\qquad V(s, 0) = \\text{material}

    Returns
    -------
    (int, float)
        A board-frame action id and the value of ``state`` for the player to move.
    """
    _check_state(state)
    depth = check_positive_int(depth, "depth")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator or None, got {type(rng).__name__}")
    if state.is_terminal():
        raise ValueError("state: the game is over, there is no action to choose")
    actions = list(state.legal_actions())
    if rng is not None:
        actions = [actions[i] for i in rng.permutation(len(actions))]
    player = state.current_player()
    best_a, alpha = actions[0], -np.inf
    for a in actions:
        v = _child_value(state.child(a), player, depth, 1, alpha, np.inf)
        if v > alpha:
            best_a, alpha = a, v
    return int(best_a), float(alpha)


def _child_value(child, player, depth, ply, alpha, beta):
    """Value for ``player`` (who just moved) of the position ``child`` reached after ``ply`` plies."""
    if child.is_terminal():
        return _terminal_value(child, player, ply)
    if child.current_player() == player:
        return _ab(child, depth, ply, alpha, beta)
    return -_ab(child, depth - 1, ply, -beta, -alpha)


def _ab(state, depth, ply, alpha, beta):
    player = state.current_player()
    if depth == 0:
        return material(state, player)
    best = -np.inf
    for a in state.legal_actions():
        v = _child_value(state.child(a), player, depth, ply + 1, alpha, beta)
        if v > best:
            best = v
            if v > alpha:
                alpha = v
                if alpha >= beta:
                    break
    return best


class AlphaBetaPlayer:
    """A player that searches ``depth`` turns with :func:`alphabeta`, breaking ties at random from its own
    generator (made from ``seed``): called with a state, it returns a board-frame action id."""

    def __init__(self, depth: int, seed: Seed = 0):
        self.depth = check_positive_int(depth, "depth")
        self.rng = as_rng(seed)

    def __call__(self, state) -> int:
        return alphabeta(state, self.depth, self.rng)[0]

    def __repr__(self):
        return f"AlphaBetaPlayer(depth={self.depth})"


class RandomPlayer:
    """A player that picks a legal action uniformly at random from its own generator."""

    def __init__(self, seed: Seed = 0):
        self.rng = as_rng(seed)

    def __call__(self, state) -> int:
        _check_state(state)
        actions = state.legal_actions()
        return int(actions[self.rng.integers(len(actions))])

    def __repr__(self):
        return "RandomPlayer()"


def make_player(spec: str, seed: Seed = 0):
    """A player from its name: ``"random"``, ``"alphabeta:D"`` (search ``D`` turns deep) or ``"mcts:N"``
    (``N`` simulations per move), with its own generator from ``seed``. The names are what the checkers
    chapter's ladder and its stored runs write down.

    >>> make_player("alphabeta:3", seed=0)
    AlphaBetaPlayer(depth=3)
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a string such as 'random', 'alphabeta:3' or 'mcts:100', got {spec!r}")
    kind, _, arg = spec.partition(":")
    if kind == "random" and not arg:
        return RandomPlayer(seed)
    if kind in ("alphabeta", "mcts") and arg.isascii() and arg.isdigit() and int(arg) > 0:
        return AlphaBetaPlayer(int(arg), seed) if kind == "alphabeta" else MCTSPlayer(int(arg), seed)
    raise ValueError(f"spec must be 'random', 'alphabeta:D' or 'mcts:N' with a positive integer, got {spec!r}")


def _check_player_fn(p, name):
    if not callable(p):
        raise TypeError(f"{name} must be a callable from a state to an action id, got {type(p).__name__}")
    return p


def play_game(first: Callable, second: Callable, *, opening_plies: int = 0, seed: Seed = 0,
              max_plies: int | None = None) -> float:
    """One game: ``first`` plays the first player (OpenSpiel's player 0, who moves first), ``second`` the
    other; the first ``opening_plies`` actions are legal actions drawn at random from ``seed``, so that a
    fixed opponent cannot be met with a memorised line. Returns the first player's result: 1, 0 or -1.
    ``max_plies`` (default: none) ends a game that runs longer as a draw."""
    _check_player_fn(first, "first")
    _check_player_fn(second, "second")
    opening_plies = check_positive_int(opening_plies, "opening_plies", minimum=0)
    if max_plies is not None:
        max_plies = check_positive_int(max_plies, "max_plies")
    rng = as_rng(seed)
    state = new_game().new_initial_state()
    ply = 0
    while not state.is_terminal():
        if max_plies is not None and ply >= max_plies:
            return 0.0
        if ply < opening_plies:
            actions = state.legal_actions()
            action = actions[rng.integers(len(actions))]
        else:
            action = (first if state.current_player() == 0 else second)(state)
            if action not in state.legal_actions():
                raise ValueError(f"{'first' if state.current_player() == 0 else 'second'} chose an illegal "
                                 f"action {action!r}")
        state.apply_action(action)
        ply += 1
    return float(state.returns()[0])


class MCTSPlayer:
    """Monte Carlo tree search with random rollouts, OpenSpiel's C++ ``MCTSBot``: ``simulations`` per move,
    exploration constant ``uct_c``, ``rollouts`` random games per leaf, its generators seeded from ``seed``.
    Called with a state, it returns a board-frame action id.

    References
    ----------
    Kocsis & Szepesvari (2006), Bandit based Monte-Carlo planning; Lanctot et al. (2019).
    """

    def __init__(self, simulations: int, seed: Seed = 0, *, uct_c: float = 2.0, rollouts: int = 1):
        self.simulations = check_positive_int(simulations, "simulations")
        rollouts = check_positive_int(rollouts, "rollouts")
        if isinstance(uct_c, bool) or not isinstance(uct_c, (int, float)) or not np.isfinite(uct_c) or uct_c < 0:
            raise ValueError(f"uct_c must be a finite number >= 0, got {uct_c!r}")
        rollout_seed, search_seed = (int(x) for x in as_rng(seed).integers(0, 2**31 - 1, size=2))
        pyspiel = _pyspiel()
        self._bot = pyspiel.MCTSBot(new_game(), pyspiel.RandomRolloutEvaluator(rollouts, rollout_seed), float(uct_c),
                                    self.simulations, 1000, True, search_seed, False)

    def __call__(self, state) -> int:
        _check_state(state)
        return int(self._bot.step(state))

    def __repr__(self):
        return f"MCTSPlayer(simulations={self.simulations})"


class MatchResult(NamedTuple):
    """A match from the side of player ``a``."""

    wins: int  # games a won
    draws: int  # games drawn
    losses: int  # games a lost

    @property
    def score(self) -> float:
        """Wins plus half the draws, per game."""
        n = self.wins + self.draws + self.losses
        return (self.wins + 0.5 * self.draws) / n if n else float("nan")

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """A confidence interval for the expected score per game: Wilson's interval for a proportion,
        with the score in place of the proportion of wins. A draw scores the mean of a win and a loss with
        no spread, so a game's score varies less than a win-or-loss game's with the same mean, and the
        interval is conservative.

        .. math:: \\frac{\\hat s + \\frac{z^2}{2n} \\pm z \\sqrt{\\frac{\\hat s (1 - \\hat s)}{n} + \\frac{z^2}{4n^2}}}
                  {1 + \\frac{z^2}{n}}
        """
        from scipy.stats import norm

        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
            raise ValueError(f"level must be a number in (0, 1), got {level!r}")
        n = self.wins + self.draws + self.losses
        if n == 0:
            return float("nan"), float("nan")
        z, s = float(norm.ppf(0.5 + level / 2)), self.score
        centre = (s + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(s * (1 - s) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def match(a: Callable, b: Callable, n_games: int, *, opening_plies: int = 2, seed: Seed = 0) -> MatchResult:
    """``n_games`` games of ``a`` against ``b``, colours alternated (``a`` moves first in even games), each
    game opened by ``opening_plies`` random actions from its own seed (the same opening for the pair of
    games 2k and 2k + 1, so that each side plays both colours of it). Players keep their own generators
    across games."""
    _check_player_fn(a, "a")
    _check_player_fn(b, "b")
    n_games = check_positive_int(n_games, "n_games")
    opening_plies = check_positive_int(opening_plies, "opening_plies", minimum=0)
    openings = as_rng(seed).spawn((n_games + 1) // 2)
    results = []
    for g in range(n_games):
        opening = copy.deepcopy(openings[g // 2])  # the pair of games 2k, 2k + 1 replays one opening
        r = play_game(a, b, opening_plies=opening_plies, seed=opening) if g % 2 == 0 else \
            -play_game(b, a, opening_plies=opening_plies, seed=opening)
        results.append(r)
    r = np.array(results)
    return MatchResult(int(np.sum(r > 0)), int(np.sum(r == 0)), int(np.sum(r < 0)))


class CheckersEnv(gym.Env):
    """A gymnasium environment: the agent plays one side of a game against ``opponent``.

    Observations are :func:`observation` from the agent's side (the board rotated when it plays second),
    actions are action ids in the agent's frame (``Discrete(N_ACTIONS)``), and ``info["action_mask"]``
    and :meth:`action_masks` (the protocol of sb3-contrib's ``MaskablePPO``) give the legal ones. The
    reward is the agent's result when the game ends: 1, 0 (a draw) or -1; 0 before. An illegal action
    ends the game as a loss (``info["illegal"]``), so that a policy without the mask learns the rules
    too. At ``reset`` the agent's colour is ``agent_player`` (0 or 1; default: drawn at random) and the
    game opens with ``opening_plies`` random actions, both from the reset's seed; the opponent keeps its
    own generator.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, opponent: Callable, *, agent_player: int | None = None, opening_plies: int = 0,
                 render_mode: str | None = None):
        self.opponent = _check_player_fn(opponent, "opponent")
        self.agent_player = None if agent_player is None else _check_player(agent_player)
        self.opening_plies = check_positive_int(opening_plies, "opening_plies", minimum=0)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, (len(PLANES), ROWS, COLUMNS), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self.state = None
        self.player = 0
        self.over = True  # the episode has ended (the game is over, or the agent played an illegal action)

    def _advance(self):
        """Let the opponent move until it is the agent's turn or the game is over."""
        while not self.state.is_terminal() and self.state.current_player() != self.player:
            action = self.opponent(self.state)
            if action not in self.state.legal_actions():
                raise ValueError(f"opponent chose an illegal action {action!r}")
            self.state.apply_action(action)

    def _out(self):
        return _view(self.state, self.player), {"action_mask": self.action_masks()}

    def reset(self, *, seed=None, options=None):
        """Start a game: the agent's colour and the opening from ``seed``; returns the agent's first
        observation and ``{"action_mask": ...}``."""
        super().reset(seed=seed)
        self.player = int(self.np_random.integers(2)) if self.agent_player is None else self.agent_player
        self.state = new_game().new_initial_state()
        for _ in range(self.opening_plies):
            actions = self.state.legal_actions()
            self.state.apply_action(actions[self.np_random.integers(len(actions))])
        self._advance()
        self.over = self.state.is_terminal()
        return self._out()

    def action_masks(self) -> np.ndarray:
        """The agent's legal actions (all False once the game is over)."""
        if self.state is None:
            raise RuntimeError("call reset before action_masks")
        if self.over or self.state.is_terminal() or self.state.current_player() != self.player:
            return np.zeros(N_ACTIONS, dtype=bool)
        return legal_mask(self.state)

    def step(self, action):
        """Play ``action`` (an id in the agent's frame), then the opponent's reply; returns the observation,
        the reward (the agent's result once the game is over), whether it is over, ``False`` (no time
        limit) and ``{"action_mask": ...}``."""
        if self.state is None:
            raise RuntimeError("call reset before step")
        if self.over:
            raise RuntimeError("the game is over: call reset")
        action = _check_action(action)
        board_action = from_mover(action, self.player)
        if board_action not in self.state.legal_actions():
            self.over = True
            obs, info = self._out()
            return obs, -1.0, True, False, {**info, "illegal": True}
        self.state.apply_action(board_action)
        self._advance()
        self.over = done = self.state.is_terminal()
        obs, info = self._out()
        return obs, float(self.state.returns()[self.player]) if done else 0.0, done, False, info

    def render(self):
        """The board as text (``render_mode="ansi"``), or None."""
        if self.render_mode == "ansi" and self.state is not None:
            return str(self.state)
        return None


class Moves(NamedTuple):
    """What a player of :class:`CheckersEnv` saw at each of its moves, in its own frame (:func:`observation`), the
    moves of one game slot in the order they were made (of several slots, one slot after another): the
    records a learned model of the rules is fitted to (:func:`ce_lib.checkers_model.fit`)."""

    obs: np.ndarray  # (n, 5, 8, 8) float32: the board before the move
    mask: np.ndarray  # (n, 512) bool: the legal actions there
    action: np.ndarray  # (n,) int: the action taken (the player's frame)
    next_obs: np.ndarray  # (n, 5, 8, 8) float32: the board at the player's next move, or at the game's end
    done: np.ndarray  # (n,) bool: the game ended before the player's next move


def draw_position(state, ax=None, *, player: int = 0):
    """Draw the board of ``state`` on a matplotlib axis (a new figure if ``ax`` is None) from ``player``'s
    side: dark squares shaded, men as discs, kings as discs with a ring; ``player``'s pieces light,
    the opponent's dark. Returns the axis."""
    import matplotlib.pyplot as plt

    _check_state(state)
    player = _check_player(player)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    obs = _view(state, player)
    for r in range(ROWS):
        for c in range(COLUMNS):
            shade = "#9a9a9a" if DARK_SQUARES[r, c] else "#f4f4f4"
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=shade, edgecolor="none"))
    for plane, face, king in ((0, "#f3e3c3", False), (1, "#f3e3c3", True), (2, "#7a1f1f", False), (3, "#7a1f1f", True)):
        for r, c in zip(*np.nonzero(obs[plane])):
            ax.add_patch(plt.Circle((c, r), 0.38, facecolor=face, edgecolor="black", lw=1.0))
            if king:
                ax.add_patch(plt.Circle((c, r), 0.2, facecolor="none", edgecolor="black", lw=1.4))
    ax.set_xticks(range(COLUMNS))
    ax.set_yticks(range(ROWS))
    ax.set_xticklabels("abcdefgh" if player == 0 else "hgfedcba")
    ax.set_yticklabels([str(ROWS - r) if player == 0 else str(r + 1) for r in range(ROWS)])
    ax.tick_params(length=0)
    ax.grid(False)
    ax.set_xlim(-0.5, COLUMNS - 0.5)
    ax.set_ylim(ROWS - 0.5, -0.5)
    ax.set_aspect("equal")
    return ax
