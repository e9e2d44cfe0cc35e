r"""PPO with legal-action masks on checkers, climbing a ladder of opponents (the checkers chapter,
:ref:`ch-checkers`).

The agent plays :class:`ce_lib.checkers.CheckersEnv` games against one rung of a ladder of opponents at a
time (random play, then alpha-beta search one, two, three ... turns deep). What is particular to a
board game, next to the PPO of :mod:`ce_lib.ppo` (whose :func:`~ce_lib.ppo.gae`,
:func:`~ce_lib.ppo.clipped_surrogate` and :func:`~ce_lib.ppo.value_loss` this module uses):

- **Action masks.** Of the 512 action ids only about five are legal in a position. The logits of the
  illegal ones are set to :math:`-\infty` before the softmax, when acting and when computing the
  probability ratio, so the policy never wastes probability on them and their logits get no gradient
  (Huang & Ontañón 2022, the method of sb3-contrib's ``MaskablePPO``).
- **A board network.** Two 3x3 convolutions over the five planes of the mover's view, a dense layer, and
  two heads: 512 logits and a value.
- **A curriculum on score.** Every ``eval_every`` steps the greedy policy plays ``eval_games`` games
  against the current rung (colours alternated, random two-ply openings); when it scores at least
  ``target_score`` (a win 1, a draw 1/2) at two evaluations in a row, the rung counts as passed at the
  first of them and training moves to the next rung.

The reward is the game's result at its end (1, 0 or -1), nothing before. All randomness comes from
``seed``; torch runs on one thread, so a run is the same on any machine in :mod:`ce_lib.numerics`'s
reproducible mode.

References
----------
Schulman et al. (2017), Proximal policy optimization algorithms. Huang & Ontañón (2022), A closer look at
invalid action masking in policy gradient algorithms.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from . import checkers
from .experiments import Seed, check_positive_int, check_real, child_seed, seed_int, torch_generator, torch_threads
from .ppo import clipped_surrogate, gae, value_loss

__all__ = ["LADDER", "CheckersPPOConfig", "BoardActorCritic", "masked_logits", "PolicyPlayer", "CurriculumResult",
           "EVALUATION_COLUMNS", "train"]

LADDER = ("random", "alphabeta:1", "alphabeta:2", "alphabeta:3", "alphabeta:4")
"""The chapter's ladder of opponents, weakest first (names for :func:`ce_lib.checkers.make_player`)."""


@dataclass(frozen=True)
class CheckersPPOConfig:
    """Hyperparameters of :func:`train`. The discount, GAE's lambda, the clip range, the value weight, the
    gradient clipping and the learning rate are stable-baselines3's defaults for ``MaskablePPO``; the
    rollouts (16 games x 64 moves), minibatches (256), epochs (4) and the entropy bonus are ours."""

    n_envs: int = 16
    """Games played in parallel."""
    n_steps: int = 64
    """Agent moves per game slot in each rollout; a batch holds ``n_envs * n_steps`` moves."""
    gamma: float = 0.99
    """Discount factor (per agent move)."""
    gae_lambda: float = 0.95
    """GAE's lambda."""
    n_epochs: int = 4
    """Passes over each batch."""
    minibatch_size: int = 256
    """Moves per gradient step."""
    learning_rate: float = 3e-4
    """Adam's step size (constant)."""
    clip: float = 0.2
    """Clip range of the probability ratio."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus (over the legal actions)."""
    max_grad_norm: float = 0.5
    """Gradient clipping threshold (global norm)."""
    channels: tuple = (16, 16)
    """Channels of the 3x3 convolutions."""
    hidden: int = 128
    """Width of the dense layer."""
    opening_plies: int = 2
    """Random plies opening every game, in training and in evaluations."""
    eval_every: int = 24576
    """Environment steps (agent moves) between evaluations."""
    eval_games: int = 200
    """Games per evaluation."""
    target_score: float = 0.75
    """Score per game (win 1, draw 1/2) that passes a rung, held at the next evaluation."""

    def __post_init__(self):
        for name in ("n_envs", "n_steps", "n_epochs", "minibatch_size", "hidden", "eval_every", "eval_games"):
            check_positive_int(getattr(self, name), name)
        check_positive_int(self.opening_plies, "opening_plies", minimum=0)
        for name in ("gamma", "gae_lambda"):
            check_real(getattr(self, name), name, low=0.0, high=1.0)
        for name in ("learning_rate", "clip", "max_grad_norm"):
            check_real(getattr(self, name), name, low=0.0, low_open=True)
        for name in ("vf_coef", "ent_coef"):
            check_real(getattr(self, name), name, low=0.0)
        check_real(self.target_score, "target_score", low=0.0, high=1.0)
        if not isinstance(self.channels, tuple) or not self.channels:
            raise TypeError(f"channels must be a non-empty tuple of channel counts, got {self.channels!r}")
        for c in self.channels:
            check_positive_int(c, "channels (each)")


class BoardActorCritic(nn.Module):
    """Convolutions over the board's planes, a dense layer, a policy head (one logit per action id) and a
    value head; initialized orthogonally from ``generator`` (the policy head small, as in PPO's usual
    initialization, so that the first policy is near uniform over the legal actions)."""

    def __init__(self, channels=(16, 16), hidden=128, *, generator: torch.Generator):
        super().__init__()
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator (no fallback to torch's global generator), "
                            f"got {type(generator).__name__}")
        layers, c_in = [], len(checkers.PLANES)
        with torch.random.fork_rng():  # the layers' default initialization draws from the global generator
            for c in channels:
                layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
                c_in = c
            layers += [nn.Flatten(), nn.Linear(c_in * checkers.ROWS * checkers.COLUMNS, hidden), nn.ReLU()]
            self.trunk = nn.Sequential(*layers)
            self.policy = nn.Linear(hidden, checkers.N_ACTIONS)
            self.value = nn.Linear(hidden, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                gain = 0.01 if m is self.policy else (1.0 if m is self.value else np.sqrt(2))
                nn.init.orthogonal_(m.weight, gain, generator=generator)
                nn.init.zeros_(m.bias)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits over the action ids and the value, for a batch of observations ``(B, 5, 8, 8)``."""
        h = self.trunk(obs)
        return self.policy(h), self.value(h).squeeze(-1)


def masked_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""``logits`` with the illegal actions' set to :math:`-\infty`: the softmax then puts all the probability
    on the legal ones, and the illegal ones' logits get no gradient. Every row of ``mask`` must allow at
    least one action."""
    if mask.shape != logits.shape or mask.dtype != torch.bool:
        raise ValueError(f"mask must be a boolean tensor of the logits' shape {tuple(logits.shape)}, "
                         f"got {mask.dtype} {tuple(mask.shape)}")
    if not bool(mask.any(-1).all()):
        raise ValueError("mask: every row must allow at least one action")
    return logits.masked_fill(~mask, float("-inf"))


class PolicyPlayer:
    """The trained policy as a player for :func:`ce_lib.checkers.match`: called with a state, it returns
    the board-frame id of the legal action with the highest logit (greedy)."""

    def __init__(self, model: BoardActorCritic):
        if not isinstance(model, BoardActorCritic):
            raise TypeError(f"model must be a BoardActorCritic, got {type(model).__name__}")
        self.model = model

    def __call__(self, state) -> int:
        obs = torch.as_tensor(checkers.observation(state))[None]
        mask = torch.as_tensor(checkers.legal_mask(state))[None]
        with torch.no_grad():
            logits, _ = self.model(obs)
        action = int(torch.argmax(masked_logits(logits, mask), -1))
        return checkers.from_mover(action, state.current_player())

    def __repr__(self):
        return "PolicyPlayer()"


EVALUATION_COLUMNS = ("steps", "games", "rung", "wins", "draws", "losses", "train_cpu_s", "eval_cpu_s")
"""The columns of :attr:`CurriculumResult.evaluations`: environment steps and training games so far, the
rung played, the evaluation's wins, draws and losses, and the CPU-seconds of training (rollouts with the
opponents' moves, and updates) and of evaluations so far."""


class CurriculumResult(NamedTuple):
    """Output of :func:`train`."""

    ladder: tuple  # the opponents, weakest first
    passed_at: np.ndarray  # index of the evaluation at which each rung was passed (the first of two in a row); -1 where not
    evaluations: np.ndarray  # one row per evaluation, columns EVALUATION_COLUMNS
    episodes: np.ndarray  # one row per finished training game: steps at its end, the agent's result, the rung
    steps: int  # environment steps taken
    model: Any  # the trained BoardActorCritic
    moves: checkers.Moves  # what the agent saw at its first record_moves moves (slot by slot); empty by default


def train(total_timesteps: int, seed: Seed = 0, config: CheckersPPOConfig = CheckersPPOConfig(),
          ladder: Sequence[str] = LADDER, *, record_moves: int = 0) -> CurriculumResult:
    """Train PPO with action masks against the rungs of ``ladder`` in turn, moving up on score.

    Parameters
    ----------
    total_timesteps : int
        Environment steps (agent moves) at most; training also stops once the last rung is passed. The
        run's first ``k`` steps do not depend on ``total_timesteps`` (nothing is scheduled on it), so a
        shorter run is the start of a longer one.
    seed : int
        Seeds the network, the sampling of actions and minibatches, the games' openings and colours, and
        the opponents' and evaluations' generators (through :func:`ce_lib.experiments.child_seed`).
    config : CheckersPPOConfig
    ladder : sequence of str
        Opponents, weakest first, as :func:`ce_lib.checkers.make_player` names them.
    record_moves : int
        Keep what the agent saw at its first ``record_moves`` moves (board, legal mask, action, next board,
        end of game) in :attr:`CurriculumResult.moves`: the data a learned model of the rules may be fitted
        to (:mod:`ce_lib.checkers_model`). Recording changes nothing in the run.

    Returns
    -------
    CurriculumResult
    """
    total_timesteps = check_positive_int(total_timesteps, "total_timesteps")
    seed = seed_int(seed)
    if not isinstance(config, CheckersPPOConfig):
        raise TypeError(f"config must be a CheckersPPOConfig, got {type(config).__name__}")
    if isinstance(ladder, str) or not isinstance(ladder, Sequence) or not ladder:
        raise TypeError(f"ladder must be a non-empty sequence of player names, got {ladder!r}")
    ladder = tuple(ladder)
    for spec in ladder:
        checkers.make_player(spec)  # the same message as make_player's, before any work
    record_moves = check_positive_int(record_moves, "record_moves", minimum=0)
    with torch_threads(1):
        return _train(total_timesteps, seed, config, ladder, record_moves)


def _train(total_timesteps, seed, config, ladder, record_moves=0):
    N, T = config.n_envs, config.n_steps
    model = BoardActorCritic(config.channels, config.hidden, generator=torch_generator(child_seed(seed, 0)))
    gen = torch_generator(child_seed(seed, 1))  # actions and minibatch orders
    opt = torch.optim.Adam(model.parameters(), lr=config.learning_rate, eps=1e-5)
    env_seeds = np.random.default_rng(child_seed(seed, 2)).integers(2**31, size=N)
    opponents_seed, eval_seed = child_seed(seed, 3), child_seed(seed, 4)

    def opponents(rung):
        return [checkers.make_player(ladder[rung], child_seed(opponents_seed, rung * N + i)) for i in range(N)]

    rung = 0
    envs = [checkers.CheckersEnv(opp, opening_plies=config.opening_plies) for opp in opponents(rung)]
    first = [e.reset(seed=int(s)) for e, s in zip(envs, env_seeds)]
    obs = np.stack([o for o, _ in first])
    masks = np.stack([info["action_mask"] for _, info in first])
    passed_at = np.full(len(ladder), -1)
    evaluations, episodes = [], []
    log = []  # (slot, move index, obs, mask, action, next obs, done) of the first record_moves moves
    steps = games = streak = 0
    train_cpu = eval_cpu = 0.0
    next_eval = config.eval_every
    while steps < total_timesteps and rung < len(ladder):
        start = time.process_time()
        b_obs = np.zeros((T, N) + obs.shape[1:], dtype=np.float32)
        b_mask = np.zeros((T, N, checkers.N_ACTIONS), dtype=bool)
        b_act, b_logp, b_val = np.zeros((T, N), dtype=np.int64), np.zeros((T, N)), np.zeros((T, N))
        b_rew, b_done = np.zeros((T, N)), np.zeros((T, N))
        for t in range(T):
            o, m = torch.as_tensor(obs), torch.as_tensor(masks)
            with torch.no_grad():  # the frozen policy acts
                logits, v = model(o)
                logp_all = torch.log_softmax(masked_logits(logits, m), -1)
                a = torch.multinomial(logp_all.exp(), 1, generator=gen).squeeze(1)
            b_obs[t], b_mask[t], b_act[t] = obs, masks, a.numpy()
            b_logp[t] = logp_all.gather(1, a[:, None]).squeeze(1).numpy()
            b_val[t] = v.numpy()
            for i, env in enumerate(envs):
                o_i, r, done, _, info = env.step(int(a[i]))
                if info.get("illegal"):  # cannot happen through the mask; a loud failure if it ever does
                    raise RuntimeError(f"the masked policy chose an illegal action {int(a[i])}")
                b_rew[t, i], b_done[t, i] = r, done
                if steps + i < record_moves:
                    log.append((i, steps + i, b_obs[t, i], b_mask[t, i], b_act[t, i], o_i, done))
                if done:
                    episodes.append((steps + N, r, rung))
                    games += 1
                    o_i, info = env.reset()
                obs[i], masks[i] = o_i, info["action_mask"]
            steps += N
        with torch.no_grad():
            last_v = model(torch.as_tensor(obs))[1].numpy()
        adv, ret = gae(b_rew, b_val, b_done, last_v, config.gamma, config.gae_lambda)
        f_obs = torch.as_tensor(b_obs.reshape(T * N, *obs.shape[1:]))
        f_mask = torch.as_tensor(b_mask.reshape(T * N, -1))
        f_act = torch.as_tensor(b_act.reshape(-1))
        f_logp = torch.as_tensor(b_logp.reshape(-1), dtype=torch.float32)
        f_adv = torch.as_tensor(adv.reshape(-1), dtype=torch.float32)
        f_ret = torch.as_tensor(ret.reshape(-1), dtype=torch.float32)
        for _ in range(config.n_epochs):
            perm = torch.randperm(T * N, generator=gen)
            for s in range(0, T * N, config.minibatch_size):
                idx = perm[s:s + config.minibatch_size]
                logits, values = model(f_obs[idx])
                logp_all = torch.log_softmax(masked_logits(logits, f_mask[idx]), -1)
                new_logp = logp_all.gather(1, f_act[idx, None]).squeeze(1)
                mb_adv = f_adv[idx]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                # Entropy over the legal actions (the illegal ones have probability 0 and contribute 0).
                entropy = -(logp_all.exp() * logp_all.clamp(min=-1e30)).sum(-1).mean()
                loss = (clipped_surrogate(new_logp, f_logp[idx], mb_adv, config.clip)
                        + config.vf_coef * value_loss(values, f_ret[idx]) - config.ent_coef * entropy)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                opt.step()
        train_cpu += time.process_time() - start
        if steps >= next_eval:
            next_eval += config.eval_every
            start = time.process_time()
            k = len(evaluations)
            opponent = checkers.make_player(ladder[rung], child_seed(eval_seed, 2 * k))
            res = checkers.match(PolicyPlayer(model), opponent, config.eval_games, opening_plies=config.opening_plies,
                                 seed=child_seed(eval_seed, 2 * k + 1))
            eval_cpu += time.process_time() - start
            evaluations.append((steps, games, rung, *res, train_cpu, eval_cpu))
            streak = streak + 1 if res.score >= config.target_score else 0
            if streak == 2:
                passed_at[rung] = k - 1
                rung, streak = rung + 1, 0
                if rung < len(ladder):
                    for env, opp in zip(envs, opponents(rung)):
                        env.opponent = opp  # a game in progress goes on against the next rung
    log.sort(key=lambda row: row[:2])  # slot by slot, each slot's moves in order
    moves = checkers.Moves(np.array([r[2] for r in log], dtype=np.float32).reshape(-1, *obs.shape[1:]),
                           np.array([r[3] for r in log], dtype=bool).reshape(-1, checkers.N_ACTIONS),
                           np.array([r[4] for r in log], dtype=np.int64),
                           np.array([r[5] for r in log], dtype=np.float32).reshape(-1, *obs.shape[1:]),
                           np.array([r[6] for r in log], dtype=bool))
    return CurriculumResult(ladder, passed_at, np.array(evaluations, dtype=float).reshape(-1, len(EVALUATION_COLUMNS)),
                            np.array(episodes, dtype=float).reshape(-1, 3), steps, model, moves)
