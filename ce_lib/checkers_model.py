"""A model of checkers' rules learned from play, and search with it -- certainty equivalence in the checkers
chapter when it is given no more than the reinforcement learner saw.

The reinforcement learner of :mod:`ce_lib.checkers_ppo` sees, at each of its moves, the board from its side
(:func:`ce_lib.checkers.observation`), the mask of its legal actions, the action it took, and the board at
its next move (after the opponent's reply, or at once when its own multiple jump goes on), and the result
when a game ends. :func:`fit` builds a model of the rules from exactly those records
(:class:`ce_lib.checkers.Moves`):

- **what an action does** -- counted: for each action id, the square one of the mover's pieces always
  leaves and the square one arrives at; whether it captures (the opponent had fewer pieces at the next
  move every time it was played -- a reply never removes the replier's own pieces) and which square it
  empties (one the opponent held before every such move, emptied most often: not always, since the reply
  may land there, recapturing); and whether a man arriving there was made a king. An action's effect is a
  table lookup, learned only for the ids that were played.
- **which actions are legal** -- first, necessary conditions (:data:`CONDITIONS`), each checked against every
  recorded move and enforced only if it held every time: the action's source square holds one of the
  mover's pieces, its target square is empty, the square it captures holds one of the opponent's, and in a
  multiple jump the next jump starts where the last one landed. The actions whose effect is known and that
  meet them are the candidates. Then a classifier (the reinforcement learner's own network shape: two
  convolutions and a dense layer) tells which candidates are legal, fitted to the masks the learner saw
  with its loss over the candidates only, one output per action id, with a sixth input plane marking the
  square where a multiple jump stands (known from the records: the board at the learner's next move is
  exactly its own action's effect, with no reply). The positions where a jump ended the turn are added
  with no legal action, so the classifier also learns when a turn goes on (whether a man moves backward,
  whether a capture elsewhere forces this one, are its to learn).

Three priors are built in and stated here, because they are information of a kind: (1) each action has the
same deterministic effect wherever it is legal (a table, not a function of the board); (2) the opponent
plays by the same rules seen from its side of the board (the model is applied to the board rotated by 180
degrees, colours swapped); (3) the four conditions are the ones put to the data -- the records decide
whether each holds, but which are tested is a choice, as a feature is in a regression. The draw rule
(:data:`ce_lib.checkers.MAX_PLIES_WITHOUT_CAPTURE`) is not modelled.

:func:`model_search` looks ahead with the model as :func:`ce_lib.checkers.alphabeta` does with the rules
(depth in turns, material at the leaves, a side with no legal action loses), level by level with one batched
call of the classifier per level; at the root it uses the true legal mask, which the learner also gets.
:class:`ModelSearchPlayer` plays with it.

References
----------
Schrittwieser et al. (2020), Mastering Atari, Go, chess and shogi by planning with a learned model (search
with a learned model).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from . import checkers
from .checkers import Moves
from .experiments import Seed, as_rng, check_positive_int, torch_generator, torch_threads

__all__ = ["CONDITIONS", "collect_moves", "RulesModel", "fit", "legal_accuracy", "model_search", "ModelSearchPlayer"]

EMPTY, OWN_MAN, OWN_KING, OPP_MAN, OPP_KING = range(5)
_SQUARES = checkers.ROWS * checkers.COLUMNS
CONDITIONS = ("the source square holds one of the mover's pieces", "the target square is empty",
              "the captured square holds one of the opponent's pieces", "a multiple jump goes on from its landing square")
"""Necessary conditions of a legal action that :func:`fit` checks against every recorded move; those that held
every time are enforced on top of the classifier (:attr:`RulesModel.conditions`)."""
_SWAP = np.array([EMPTY, OPP_MAN, OPP_KING, OWN_MAN, OWN_KING], dtype=np.int8)  # colours swapped


def _codes(obs: np.ndarray) -> np.ndarray:
    """Boards as square codes (EMPTY, OWN_MAN, ...), shape (n, 64), from observations (n, 5, 8, 8)."""
    planes = np.asarray(obs).reshape(len(obs), len(checkers.PLANES), _SQUARES)
    return ((planes.argmax(1) + 1) % 5).astype(np.int8)  # plane order own men, own kings, opp men, opp kings, empty


def _check_moves(moves):
    if not isinstance(moves, Moves):
        raise TypeError(f"moves must be a Moves record, got {type(moves).__name__}")
    n = len(moves.action)
    shapes = {"obs": (n, len(checkers.PLANES), checkers.ROWS, checkers.COLUMNS), "mask": (n, checkers.N_ACTIONS),
              "action": (n,), "next_obs": (n, len(checkers.PLANES), checkers.ROWS, checkers.COLUMNS), "done": (n,)}
    for name, shape in shapes.items():
        if np.shape(getattr(moves, name)) != shape:
            raise ValueError(f"moves.{name} must have shape {shape}, got {np.shape(getattr(moves, name))}")
    if n == 0:
        raise ValueError("moves must hold at least one move")
    action = np.asarray(moves.action)
    if action.dtype.kind not in "iu" or action.min() < 0 or action.max() >= checkers.N_ACTIONS:
        raise ValueError(f"moves.action must hold action ids in 0 .. {checkers.N_ACTIONS - 1}")
    if np.asarray(moves.mask).dtype != bool or np.asarray(moves.done).dtype != bool:
        raise TypeError("moves.mask and moves.done must be boolean arrays")
    if not np.all(np.asarray(moves.mask)[np.arange(n), action]):
        raise ValueError("moves: every action must be legal under its mask")
    return moves


def collect_moves(n_moves: int, opponent: str = "random", seed: Seed = 0, *, opening_plies: int = 2) -> Moves:
    """``n_moves`` moves of a player choosing uniformly among its legal actions against ``opponent`` (a name
    for :func:`ce_lib.checkers.make_player`), one game after another, its colour and openings drawn from
    ``seed``: data of the kind :func:`fit` learns from, for tests and exercises (the checkers study fits the moves
    its PPO agent made, ``ce_lib.studies.checkers.fit_from_ppo``)."""
    n_moves = check_positive_int(n_moves, "n_moves")
    checkers.make_player(opponent)
    rng = as_rng(seed)
    env = checkers.CheckersEnv(checkers.make_player(opponent, rng.spawn(1)[0]), opening_plies=opening_plies)
    obs, info = env.reset(seed=int(rng.integers(2**31)))
    rec = {k: [] for k in Moves._fields}
    for _ in range(n_moves):
        mask = info["action_mask"]
        action = int(rng.choice(np.flatnonzero(mask)))
        next_obs, _, done, _, info = env.step(action)
        for k, v in zip(Moves._fields, (obs, mask, action, next_obs, done)):
            rec[k].append(v)
        obs = next_obs
        if done:
            obs, info = env.reset(seed=int(rng.integers(2**31)))
    return Moves(np.array(rec["obs"], dtype=np.float32), np.array(rec["mask"]), np.array(rec["action"]),
                 np.array(rec["next_obs"], dtype=np.float32), np.array(rec["done"]))


class RulesModel(NamedTuple):
    """A learned model of the rules, in the mover's frame (see the module's docstring)."""

    source: np.ndarray  # (512,) int: square the moving piece leaves; -1 where the action was never played
    target: np.ndarray  # (512,) int: square it arrives at; -1 where unknown
    captured: np.ndarray  # (512,) int: opponent's square emptied by the action; -1 for none
    crowns: np.ndarray  # (512,) bool: a man arriving by this action becomes a king
    goes_on: np.ndarray  # (512,) bool: the action was seen followed by another move of the same player
    conditions: np.ndarray  # (4,) bool: which of CONDITIONS held in every recorded move (those are enforced)
    classifier: Any  # the legality classifier (a torch module: (B, 6, 8, 8) -> (B, 512) logits)
    n_moves: int  # the moves it was fitted to

    def known(self) -> np.ndarray:
        """Action ids whose effect the model has learned."""
        return (self.source >= 0) & (self.target >= 0)


class _LegalityNet(nn.Module):
    def __init__(self, generator, channels=(32, 32), hidden=256):
        super().__init__()
        layers, c_in = [], len(checkers.PLANES) + 1
        with torch.random.fork_rng():
            for c in channels:
                layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
                c_in = c
            layers += [nn.Flatten(), nn.Linear(c_in * _SQUARES, hidden), nn.ReLU(), nn.Linear(hidden, checkers.N_ACTIONS)]
            self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.orthogonal_(m.weight, np.sqrt(2), generator=generator)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.net(x)


def _inputs(codes: np.ndarray, landing: np.ndarray) -> torch.Tensor:
    """Classifier inputs (B, 6, 8, 8): the five planes of the observation and the landing square's plane."""
    n = len(codes)
    x = np.zeros((n, len(checkers.PLANES) + 1, _SQUARES), dtype=np.float32)
    plane = (codes.astype(np.int64) - 1) % 5  # code -> observation plane (EMPTY -> 4)
    x[np.arange(n)[:, None], plane, np.arange(_SQUARES)[None, :]] = 1.0
    on = landing >= 0
    x[np.flatnonzero(on), len(checkers.PLANES), landing[on]] = 1.0
    return torch.from_numpy(x.reshape(n, -1, checkers.ROWS, checkers.COLUMNS))


def _effects(before, after, action):
    """The counted effect table (source, target, captured, crowns, observations) from boards before and at
    the next move."""
    own_b, own_a = np.isin(before, (OWN_MAN, OWN_KING)), np.isin(after, (OWN_MAN, OWN_KING))
    opp_b, opp_a = np.isin(before, (OPP_MAN, OPP_KING)), np.isin(after, (OPP_MAN, OPP_KING))
    left, arrived, emptied = own_b & ~own_a, own_a & ~own_b, opp_b & ~opp_a
    n_a = np.bincount(action, minlength=checkers.N_ACTIONS)
    jumps = np.bincount(action, weights=opp_a.sum(1) < opp_b.sum(1), minlength=checkers.N_ACTIONS)
    always_left = np.zeros((checkers.N_ACTIONS, _SQUARES), dtype=int)
    np.add.at(always_left, action, left)
    emptied_n = np.zeros_like(always_left)
    np.add.at(emptied_n, action, emptied)
    held = np.zeros_like(always_left)  # the opponent held the square before the move
    np.add.at(held, action, opp_b)
    arrivals = np.zeros_like(always_left)
    np.add.at(arrivals, action, arrived)
    source, target, captured = (np.full(checkers.N_ACTIONS, -1) for _ in range(3))
    for a in np.flatnonzero(n_a):
        s = np.flatnonzero(always_left[a] == n_a[a])
        if len(s) == 1:
            source[a] = s[0]
        if arrivals[a].any():
            target[a] = int(arrivals[a].argmax())
        # A capture: the opponent had fewer pieces at the player's next move every time (its reply never
        # removes its own), and the square taken is one it held before every such move, emptied most often
        # (not always: its reply may land on it, recapturing).
        if jumps[a] == n_a[a]:
            held_always = held[a] == n_a[a]
            if held_always.any():
                captured[a] = int(np.argmax(np.where(held_always, emptied_n[a], -1)))
    # A man that arrives as a king: counted over the moves where a man left the source square.
    crowned = np.zeros(checkers.N_ACTIONS, dtype=int)
    men = np.zeros(checkers.N_ACTIONS, dtype=int)
    rows = np.arange(len(action))
    ok = (source[action] >= 0) & (target[action] >= 0)
    man = ok & (before[rows, np.maximum(source[action], 0)] == OWN_MAN)
    seen = man & np.isin(after[rows, np.maximum(target[action], 0)], (OWN_MAN, OWN_KING))
    np.add.at(men, action[seen], 1)
    np.add.at(crowned, action[seen & (after[rows, np.maximum(target[action], 0)] == OWN_KING)], 1)
    crowns = (men > 0) & (2 * crowned > men)
    return source, target, captured, crowns


def _apply(model: RulesModel, codes: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Boards after ``actions`` by the model's effect table (same frame; the mover still to move)."""
    out = codes.copy()
    rows = np.arange(len(codes))
    src, dst, cap = model.source[actions], model.target[actions], model.captured[actions]
    piece = out[rows, src]
    out[rows, src] = EMPTY
    has_cap = cap >= 0
    out[rows[has_cap], cap[has_cap]] = EMPTY
    piece = np.where((piece == OWN_MAN) & model.crowns[actions], OWN_KING, piece)
    out[rows, dst] = piece
    return out


def _rotate(codes: np.ndarray) -> np.ndarray:
    """The board as the other player sees it: rotated by 180 degrees, colours swapped."""
    return _SWAP[codes[:, ::-1]]


def fit(moves: Moves, seed: Seed = 0, *, epochs: int = 10, batch_size: int = 256, lr: float = 3e-3) -> RulesModel:
    """Fit a :class:`RulesModel` to ``moves``: the effect table by counting, then the legality classifier
    :math:`f_\\theta` by ``epochs`` passes of Adam (step ``lr``) over the positions :math:`s` (the moves' boards,
    and the boards where a jump ended the turn, with no legal action), its initialization and minibatch
    order from ``seed``:

    .. math:: \\min_\\theta \\sum_s \\sum_{a\\ \\text{known}} \\ell\\big(f_\\theta(s)_a,\\ \\mathbb{1}[a \\text{ legal in } s]\\big),
              \\qquad \\ell(z, y) = -y \\log \\sigma(z) - (1 - y) \\log(1 - \\sigma(z)),

    the known actions being those whose effect the table has learned. An action is legal in the model where
    :math:`f_\\theta(s)_a > 0`.

    Parameters
    ----------
    moves : Moves
        What the player saw (consecutive moves of whole games, as :func:`collect_moves` and the chapter's PPO
        runs record them).
    seed : int or numpy.random.Generator
    epochs, batch_size : int
    lr : float

    Returns
    -------
    RulesModel
    """
    _check_moves(moves)
    epochs, batch_size = check_positive_int(epochs, "epochs"), check_positive_int(batch_size, "batch_size")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    rng = as_rng(seed)
    before, after = _codes(moves.obs), _codes(moves.next_obs)
    action, done = np.asarray(moves.action, dtype=np.int64), np.asarray(moves.done, dtype=bool)
    source, target, captured, crowns = _effects(before, after, action)
    # The player moved again without a reply where the board at its next move is exactly its own action's
    # effect: any reply moves or removes a piece on top of it (and may land on the very square the player's
    # jump emptied, so counting the opponent's arrivals alone would not do).
    table = RulesModel(source, target, captured, crowns, np.zeros(checkers.N_ACTIONS, bool),
                       np.zeros(len(CONDITIONS), bool), None, len(action))
    again = ~done & table.known()[action]
    again[again] = np.all(_apply(table, before[again], action[again]) == after[again], 1)
    goes_on = np.zeros(checkers.N_ACTIONS, dtype=bool)
    goes_on[action[again]] = True
    # Training positions: every move's board (with the landing square when a multiple jump goes on), and the
    # boards just after a move that may go on but did not, with no legal action.
    follows = again[:-1] & np.all(before[1:] == after[:-1], 1)  # the next record is that next move
    landing = np.full(len(action), -1)
    landing[1:][follows] = target[action[:-1][follows]]
    provisional = table._replace(goes_on=goes_on)
    conditions = _conditions(provisional, before, action, landing)
    ended = ~again & goes_on[action] & provisional.known()[action]
    x_codes = np.concatenate([before, _apply(provisional, before[ended], action[ended])])
    x_landing = np.concatenate([landing, target[action[ended]]])
    y = np.concatenate([np.asarray(moves.mask, dtype=bool), np.zeros((int(ended.sum()), checkers.N_ACTIONS), bool)])
    x, y = _inputs(x_codes, x_landing), torch.from_numpy(y.astype(np.float32))
    # The loss is over the candidates: the actions whose effect is known and that meet the conditions.
    weight = torch.from_numpy(_candidates(provisional._replace(conditions=conditions), x_codes, x_landing)
                              .astype(np.float32))
    gen = torch_generator(rng)
    with torch_threads(1):
        net = _LegalityNet(gen)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        for _ in range(epochs):
            perm = torch.randperm(len(x), generator=gen)
            for s in range(0, len(x), batch_size):
                idx = perm[s:s + batch_size]
                loss = (nn.functional.binary_cross_entropy_with_logits(net(x[idx]), y[idx], weight=weight[idx],
                                                                       reduction="sum") / weight[idx].sum().clamp(min=1))
                opt.zero_grad()
                loss.backward()
                opt.step()
    net.eval()
    return provisional._replace(conditions=conditions, classifier=net)


_MINE = np.array([False, True, True, False, False])  # code -> one of the mover's pieces
_THEIRS = np.array([False, False, False, True, True])  # code -> one of the opponent's pieces


def _tests(model, codes, actions, landing):
    """One function per condition of CONDITIONS, each giving whether it holds for action ``actions[k]`` (the
    same K actions on every board) or ``actions[b, k]`` (per board) on board ``codes[b]`` with ``landing[b]``
    (-1 where no multiple jump is in progress), broadcastable to (B, K): the one place they are written."""
    actions = np.asarray(actions)
    src, dst, cap = model.source[actions], model.target[actions], model.captured[actions]
    rows = slice(None) if actions.ndim == 1 else np.arange(len(codes))[:, None]  # whole columns when shared

    def at(squares):
        return codes[rows, np.maximum(squares, 0)]

    land = np.asarray(landing)[:, None]
    return (lambda: _MINE[at(src)],  # the source holds one of the mover's pieces
            lambda: at(dst) == EMPTY,  # the target is empty
            lambda: (cap < 0) | _THEIRS[at(cap)],  # a captured square holds an opponent's piece
            lambda: (land < 0) | (src == land))  # a multiple jump goes on from its landing square


def _held(model, codes, actions, landing):
    """(len(actions), 4): whether each condition holds for one action per board (``actions[i]`` on ``codes[i]``)."""
    shape = (len(actions), 1)
    return np.stack([np.broadcast_to(t(), shape)[:, 0] for t in _tests(model, codes, np.asarray(actions)[:, None],
                                                                       landing)], -1)


def _candidates(model, codes, landing):
    """(B, 512): the actions whose effect is known and that meet every enforced condition on each board."""
    out = np.zeros((len(codes), checkers.N_ACTIONS), dtype=bool)
    acts = np.flatnonzero(model.known())
    if len(codes) == 0 or len(acts) == 0:
        return out
    ok = np.ones((len(codes), len(acts)), dtype=bool)
    for on, test in zip(model.conditions, _tests(model, codes, acts, landing)):
        if on:
            ok &= test()
    out[:, acts] = ok
    return out


def _conditions(model, before, action, landing):
    """Which of CONDITIONS held at every recorded move whose action's effect is known."""
    ok = model.known()[action]
    if not ok.any():
        return np.zeros(len(CONDITIONS), bool)
    return _held(model, before[ok], action[ok], landing[ok]).all(0)


def _check_model(model):
    if not isinstance(model, RulesModel) or not isinstance(model.classifier, nn.Module):
        raise TypeError(f"model must be a fitted RulesModel (from fit), got {type(model).__name__}")
    return model


def _legal(model: RulesModel, codes: np.ndarray, landing: np.ndarray) -> np.ndarray:
    """The model's legal actions (B, 512) for boards with the mover to move (``landing`` -1 or the square of a
    multiple jump in progress): the classifier's verdict, among the candidates (known effect, conditions met)."""
    if len(codes) == 0:
        return np.zeros((0, checkers.N_ACTIONS), dtype=bool)
    with torch.no_grad():
        logits = model.classifier(_inputs(codes, landing)).numpy()
    return (logits > 0) & _candidates(model, codes, landing)


def legal_accuracy(model: RulesModel, moves: Moves) -> dict:
    """How well the model's legality matches the true masks of ``moves`` (boards of the player to move, no
    multiple jump in progress): the share of boards whose legal set it gets exactly, and the share of
    legal actions it misses and of illegal ones it allows."""
    _check_model(model)
    _check_moves(moves)
    codes = _codes(moves.obs)
    with torch_threads(1):
        pred = _legal(model, codes, np.full(len(codes), -1))
    truth = np.asarray(moves.mask, dtype=bool)
    return {"exact": float(np.mean(np.all(pred == truth, 1))),
            "missed": float((truth & ~pred).sum() / max(truth.sum(), 1)),
            "allowed": float((pred & ~truth).sum() / max(pred.sum(), 1))}


def _material(codes):
    return ((codes == OWN_MAN).sum(1) + 2.0 * (codes == OWN_KING).sum(1)
            - (codes == OPP_MAN).sum(1) - 2.0 * (codes == OPP_KING).sum(1))


def model_search(model: RulesModel, obs: np.ndarray, mask: np.ndarray, depth: int) -> np.ndarray:
    """The value, for the player to move, of each action in ``mask`` by looking ``depth`` turns ahead with
    ``model`` (full width, negamax; material at the leaves; a player without a legal action loses, worth
    :data:`ce_lib.checkers.WIN` less the plies to it), -inf for the actions not in the mask.

    Parameters
    ----------
    model : RulesModel
    obs : ndarray (5, 8, 8)
        The board from the mover's side (:func:`ce_lib.checkers.observation`).
    mask : ndarray (512,) of bool
        The true legal actions at the root.
    depth : int
        Turns to look ahead (1: the end of the mover's own turn).
    """
    _check_model(model)
    depth = check_positive_int(depth, "depth")
    if np.shape(obs) != (len(checkers.PLANES), checkers.ROWS, checkers.COLUMNS):
        raise ValueError(f"obs must be a board of shape {(len(checkers.PLANES), checkers.ROWS, checkers.COLUMNS)}, "
                         f"got {np.shape(obs)}")
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (checkers.N_ACTIONS,) or not mask.any():
        raise ValueError(f"mask must be a boolean vector of {checkers.N_ACTIONS} with a legal action")
    root = _codes(np.asarray(obs, dtype=np.float32)[None])
    actions = np.flatnonzero(mask)
    values = np.full(checkers.N_ACTIONS, -np.inf)
    known = model.known()[actions]
    # Actions the model has never seen played: valued at the material as it stands (a blind move).
    values[actions[~known]] = float(_material(root)[0])
    acts = actions[known]
    if len(acts) == 0:
        return values
    # Nodes, each the position just after an action, in the frame of the player who made it: its board, the
    # landing square where the action may be followed by another jump (-1 where the turn surely ends), the
    # turns left, the parent, and (once settled) the sign of its value for the parent's mover.
    boards = _apply(model, np.repeat(root, len(acts), 0), acts)
    landing = np.where(model.goes_on[acts], model.target[acts], -1)
    left, parent, ply = np.full(len(acts), depth), np.full(len(acts), -1), np.ones(len(acts))
    sign, value = np.ones(len(acts)), np.full(len(acts), np.nan)
    lo, generations = 0, []
    with torch_threads(1):
        while lo < len(boards):
            hi = len(boards)
            generations.append((lo, hi))
            b, land, lft = boards[lo:hi].copy(), landing[lo:hi].copy(), left[lo:hi].copy()
            legal = np.zeros((hi - lo, checkers.N_ACTIONS), dtype=bool)
            maybe = land >= 0  # a multiple jump goes on if the model sees a legal action from the landing square
            legal[maybe] = _legal(model, b[maybe], land[maybe])
            ends = ~legal.any(1)
            b[ends] = _rotate(b[ends])  # the opponent is to move, on its side of the board
            land[ends], lft[ends] = -1, lft[ends] - 1
            sign[lo:hi][ends] = -1.0
            legal[ends] = _legal(model, b[ends], land[ends])
            val = np.full(hi - lo, np.nan)
            lost = ~legal.any(1)
            val[lost] = -(checkers.WIN - ply[lo:hi][lost])
            leaf = ~lost & (lft == 0)
            val[leaf] = _material(b[leaf])
            boards[lo:hi], landing[lo:hi], left[lo:hi], value[lo:hi] = b, land, lft, val
            rows, acts_c = np.nonzero(legal & np.isnan(val)[:, None])
            if len(rows):
                idx = rows + lo
                boards = np.concatenate([boards, _apply(model, boards[idx], acts_c)])
                landing = np.concatenate([landing, np.where(model.goes_on[acts_c], model.target[acts_c], -1)])
                left, parent = np.concatenate([left, left[idx]]), np.concatenate([parent, idx])
                ply = np.concatenate([ply, ply[idx] + 1])
                sign, value = np.concatenate([sign, np.ones(len(idx))]), np.concatenate([value, np.full(len(idx), np.nan)])
            lo = hi
    # Back up, generation by generation from the deepest: every node's parent is in an earlier generation.
    best = np.full(len(boards), -np.inf)
    for lo, hi in reversed(generations):
        v = np.where(np.isnan(value[lo:hi]), best[lo:hi], value[lo:hi]) * sign[lo:hi]  # for the parent's mover
        has = parent[lo:hi] >= 0
        np.maximum.at(best, parent[lo:hi][has], v[has])
        value[lo:hi][~has] = v[~has]
    values[acts] = value[:len(acts)]
    return values


class ModelSearchPlayer:
    """A player that looks ``depth`` turns ahead with a learned :class:`RulesModel` (:func:`model_search`)
    from the true legal actions at the root, breaking ties at random from its own generator (``seed``);
    called with a state, it returns a board-frame action id."""

    def __init__(self, model: RulesModel, depth: int, seed: Seed = 0):
        _check_model(model)
        self.model, self.depth, self.rng = model, check_positive_int(depth, "depth"), as_rng(seed)

    def __call__(self, state) -> int:
        values = model_search(self.model, checkers.observation(state), checkers.legal_mask(state), self.depth)
        best = np.flatnonzero(values == values.max())
        return checkers.from_mover(int(self.rng.choice(best)), state.current_player())

    def __repr__(self):
        return f"ModelSearchPlayer(depth={self.depth})"
