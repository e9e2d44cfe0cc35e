"""Our masked PPO on checkers beside sb3-contrib's MaskablePPO: the same task, network and settings.

Both train against random play (16 games in parallel, two random plies opening each game) with the
checkers chapter's settings (64 moves per game slot per rollout, 4 epochs of minibatches of 256,
learning rate 3e-4, entropy weight 0.01, gamma 0.99, GAE lambda 0.95, clip 0.2, gradient clipping 0.5)
and the same network: two 3x3 convolutions of 16 channels, a dense layer of 128 and two heads, with
illegal actions masked. After ``--timesteps`` moves each greedy policy plays 200 games against random
play and 200 against alpha-beta at depth 1 (fresh openings, colours alternated). Prints, per seed
and as medians, the scores and the CPU-seconds per 1,000 training moves, and the ratios
(MaskablePPO / ours). A parity check of the algorithm, not a tuned comparison: where the medians
differ by more than the spread over seeds, one of the two implementations differs from PPO as the
other runs it. sb3-contrib is the ``bench`` extra: ``pip install -e ".[bench]"``.
Usage: python benchmarks/bench_checkers_ppo.py [--seeds 3] [--timesteps 49152]
"""

import argparse
import time

import ce_lib  # noqa: F401 - first: pins the arithmetic (ce_lib.numerics)
import numpy as np
import torch
from torch import nn

from ce_lib import checkers
from ce_lib.checkers_ppo import CheckersPPOConfig, PolicyPlayer, train

CFG = CheckersPPOConfig()


def score(player, spec, seed):
    res = checkers.match(player, checkers.make_player(spec, seed + 7), 200, opening_plies=CFG.opening_plies,
                         seed=seed + 11)
    return res.score


def ours(seed, timesteps):
    start = time.process_time()
    res = train(timesteps, seed, CFG, ladder=("random",) * 100)  # stays on random play (no rung is the last)
    seconds = time.process_time() - start - (res.evaluations[-1, 7] if len(res.evaluations) else 0.0)
    player = PolicyPlayer(res.model)
    return score(player, "random", seed), score(player, "alphabeta:1", seed), seconds


def maskable(seed, timesteps):
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from stable_baselines3.common.vec_env import DummyVecEnv

    class Board(BaseFeaturesExtractor):
        def __init__(self, space):
            super().__init__(space, CFG.hidden)
            c_in, layers = space.shape[0], []
            for c in CFG.channels:
                layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
                c_in = c
            self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * 64, CFG.hidden), nn.ReLU())

        def forward(self, obs):
            return self.net(obs)

    rng = np.random.default_rng(seed)
    envs = DummyVecEnv([lambda s=int(s): checkers.CheckersEnv(checkers.RandomPlayer(s), opening_plies=CFG.opening_plies)
                        for s in rng.integers(2**31, size=CFG.n_envs)])
    model = MaskablePPO("MlpPolicy", envs, n_steps=CFG.n_steps, batch_size=CFG.minibatch_size, n_epochs=CFG.n_epochs,
                        learning_rate=CFG.learning_rate, gamma=CFG.gamma, gae_lambda=CFG.gae_lambda, clip_range=CFG.clip,
                        ent_coef=CFG.ent_coef, vf_coef=CFG.vf_coef, max_grad_norm=CFG.max_grad_norm,
                        policy_kwargs=dict(features_extractor_class=Board, net_arch=[]), seed=seed, device="cpu",
                        verbose=0)
    start = time.process_time()
    model.learn(timesteps)
    seconds = time.process_time() - start

    def player(state):
        action, _ = model.predict(checkers.observation(state), action_masks=checkers.legal_mask(state),
                                  deterministic=True)
        return checkers.from_mover(int(action), state.current_player())

    return score(player, "random", seed), score(player, "alphabeta:1", seed), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--timesteps", type=int, default=49152)
    args = parser.parse_args()
    if args.seeds < 1 or args.timesteps < CFG.n_envs * CFG.n_steps:
        parser.error(f"--seeds must be >= 1 and --timesteps >= {CFG.n_envs * CFG.n_steps}")
    torch.set_num_threads(1)
    rows = {"ours": [], "MaskablePPO": []}
    for seed in range(args.seeds):
        for name, fn in (("ours", ours), ("MaskablePPO", maskable)):
            r, d1, sec = fn(seed, args.timesteps)
            rows[name].append((r, d1, 1000 * sec / args.timesteps))
            print(f"seed {seed}  {name:>11}: score vs random {r:.3f}, vs depth 1 {d1:.3f}, "
                  f"{rows[name][-1][2]:.2f} CPU-s per 1,000 moves", flush=True)
    med = {k: np.median(np.array(v), axis=0) for k, v in rows.items()}
    for k, m in med.items():
        print(f"median {k:>11}: vs random {m[0]:.3f}, vs depth 1 {m[1]:.3f}, {m[2]:.2f} CPU-s per 1,000 moves")
    print(f"ratio MaskablePPO / ours: CPU per move {med['MaskablePPO'][2] / med['ours'][2]:.2f}")


if __name__ == "__main__":
    main()
