"""Our PPO against stable-baselines3's PPO on CartPole-v1: steps to a 20-episode mean of 475, and speed.

Both run in this process, one after the other, with the same environment, the same seeds and the
rl-baselines3-zoo CartPole-v1 hyperparameters (8 environments x 32 steps, 20 epochs, minibatch 256,
gamma 0.98, GAE lambda 0.8, learning rate 1e-3 and clip range 0.2 both decayed linearly to 0,
no entropy bonus, gradient clipping at 0.5, separate 64-64 tanh networks) on one torch thread.
Prints, per seed and as medians, the environment steps at which the mean return of the last 20
training episodes first reached 475 and the wall-clock seconds per 1,000 environment steps, and
the ratios (stable-baselines3 / ours). stable-baselines3 is the ``bench`` extra:
``pip install -e ".[bench]"``.
Usage: python benchmarks/bench_ppo.py [--seeds 5] [--timesteps 100000]
"""

import argparse
import time

import numpy as np
import torch

from ce_lib import ppo
from ce_lib.studies import ppo as ppo_study
from ce_lib.experiments import bootstrap_ratio


def ours(seed, timesteps):
    start = time.perf_counter()
    res = ppo.train("CartPole-v1", timesteps, seed, ppo.PPOConfig())
    seconds = time.perf_counter() - start
    return ppo_study.steps_to_mean_return(res.steps, res.returns), seconds


def sb3(seed, timesteps):
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    class Episodes(BaseCallback):
        def __init__(self):
            super().__init__()
            self.steps, self.returns = [], []

        def _on_step(self):
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.steps.append(self.num_timesteps)
                    self.returns.append(info["episode"]["r"])
            return True

    cfg = ppo.PPOConfig()
    env = make_vec_env("CartPole-v1", n_envs=cfg.n_envs, seed=seed)
    model = PPO("MlpPolicy", env, n_steps=cfg.n_steps, batch_size=cfg.minibatch_size, gae_lambda=cfg.gae_lambda,
                gamma=cfg.gamma, n_epochs=cfg.n_epochs, ent_coef=cfg.ent_coef, vf_coef=cfg.vf_coef,
                max_grad_norm=cfg.max_grad_norm, learning_rate=lambda p: p * cfg.learning_rate,
                clip_range=lambda p: p * cfg.clip, seed=seed, device="cpu", verbose=0)
    cb = Episodes()
    start = time.perf_counter()
    model.learn(timesteps, callback=cb)
    seconds = time.perf_counter() - start
    env.close()
    return ppo_study.steps_to_mean_return(np.array(cb.steps), np.array(cb.returns, dtype=float)), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=100_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # Pay one-time costs (imports, torch's optimizer machinery, gymnasium's registry) before timing.
    ours(0, 256)
    sb3(0, 256)
    rows = {"ours": [], "sb3": []}
    for seed in range(args.seeds):
        for name, fn in (("ours", ours), ("sb3", sb3)):
            hit, seconds = fn(seed, args.timesteps)
            rows[name].append((hit, 1000 * seconds / args.timesteps))
            print(f"seed {seed}  {name:5s} steps to 475: {hit:>8.0f}   {rows[name][-1][1]:.3f} s per 1,000 steps",
                  flush=True)
    med = {k: np.median(np.array(v), axis=0) for k, v in rows.items()}
    solved = {k: np.mean(np.isfinite(np.array(v)[:, 0])) for k, v in rows.items()}
    print(f"CartPole-v1, {args.seeds} seeds, {args.timesteps:,} steps each (inf: never reached 475)")
    for k, name in (("ours", "ce_lib.ppo"), ("sb3", "stable-baselines3")):
        print(f"  {name:18s} median steps to 475: {med[k][0]:>8.0f} (reached by {solved[k]:.0%} of seeds), "
              f"{med[k][1]:.3f} s per 1,000 steps")
    # Unpaired bootstrap: the two libraries draw different random numbers from the same seed.
    hits = {k: np.minimum(np.array(v)[:, 0], args.timesteps) for k, v in rows.items()}
    steps = bootstrap_ratio(hits["sb3"], hits["ours"], paired=False)
    print(f"  ratio sb3 / ours: steps {steps.median:.2f} (95% CI {steps.lo:.2f}-{steps.hi:.2f}; above 1: ours needs "
          f"fewer), wall-clock {med['sb3'][1] / med['ours'][1]:.2f} (above 1: ours is faster)")


if __name__ == "__main__":
    main()
