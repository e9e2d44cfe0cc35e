"""What batching seeds buys PPO's gradient steps, in the reproducible numerical mode and natively.

The plan of seed-batched PPO (one computation for N seeds: stacked weights, batched matrix
products) rests on a premise: that a CartPole-sized actor-critic is dominated by Python's
per-call overhead, so that N seeds cost little more than one. This script measures the premise.
For each mode, in a fresh process (the mode is fixed when a process starts), one thread:

- today's step: the PPO chapter's two MLPs (4-64-64-2 actor, 4-64-64-1 critic, tanh) as
  ``torch.nn`` modules, one minibatch of 256, forward, backward, gradient clipping, fused Adam;
- the same step for S seeds at once: weights stacked to (S, in, out), ``torch.baddbmm``, one
  backward, one fused Adam over the stacked tensors; S = 1, 5, 20.

It prints milliseconds per step and per seed, and the speed-up per seed of S = 20 over today's
step. Usage: python benchmarks/bench_seed_batching.py
"""

import json
import os
import subprocess
import sys

WORK = r'''
import json, time
import ce_lib
import torch
from torch import nn
from ce_lib import numerics
from ce_lib.ppo import ActorCritic
import gymnasium as gym
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
B = 256


def timed(step, n=150):
    for _ in range(10):
        step()
    t = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t) / n * 1e3


model = ActorCritic(4, gym.spaces.Discrete(2))
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-5, fused=True)
x, a = torch.randn(B, 4, generator=g), torch.randint(0, 2, (B,), generator=g)


def today():
    d = model.dist(x)
    loss = -d.log_prob(a).mean() + model.value(x).pow(2).mean()
    opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(model.parameters(), 0.5); opt.step()


def stacked(S):
    dims = {"actor": [4, 64, 64, 2], "critic": [4, 64, 64, 1]}
    params = {k: [(torch.randn(S, i, o, generator=g).mul_(0.1).requires_grad_(),
                   torch.zeros(S, 1, o).requires_grad_()) for i, o in zip(d[:-1], d[1:])] for k, d in dims.items()}
    flat = [p for layers in params.values() for wb in layers for p in wb]
    sopt = torch.optim.Adam(flat, lr=1e-3, eps=1e-5, fused=True)
    xs, acts = torch.randn(S, B, 4, generator=g), torch.randint(0, 2, (S, B, 1), generator=g)

    def net(layers, h):
        for j, (w, b) in enumerate(layers):
            h = torch.baddbmm(b, h, w)
            h = torch.tanh(h) if j < len(layers) - 1 else h
        return h

    def step():
        logp = net(params["actor"], xs).log_softmax(-1).gather(-1, acts).squeeze(-1)
        loss = (-logp.mean(-1) + net(params["critic"], xs).squeeze(-1).pow(2).mean(-1)).sum()
        sopt.zero_grad(); loss.backward()
        with torch.no_grad():  # per-seed global norm, as clip_grad_norm_ does for one seed
            norms = torch.stack([p.grad.flatten(1).norm(dim=1) for p in flat], 1).norm(dim=1)
            coef = (0.5 / (norms + 1e-6)).clamp(max=1.0)
            for p in flat:
                p.grad.mul_(coef.view(-1, *[1] * (p.dim() - 1)))
        sopt.step()
    return step


out = {"today": timed(today), "paths": numerics.status().paths}
for S in (1, 5, 20):
    out[str(S)] = timed(stacked(S), n=max(20, 150 // S))
print(json.dumps(out))
'''

MODES = {"reproducible": {}, "native": {"CE_LIB_NUMERICS": "native"}}


def run(extra):
    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                                                            "NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE",
                                                            "CE_LIB_NUMERICS")}
    env.update(extra)
    out = subprocess.run([sys.executable, "-c", WORK], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main():
    for name, extra in MODES.items():
        r = run(extra)
        per = {S: r[str(S)] / S for S in (1, 5, 20)}
        print(f"{name:13s} today's step {r['today']:.2f} ms/seed; stacked: "
              + ", ".join(f"S={S} {r[str(S)]:.2f} ms ({per[S]:.2f} ms/seed)" for S in (1, 5, 20))
              + f"; S=20 per seed is {r['today'] / per[20]:.2f}x faster than today's step   [{r['paths']}]", flush=True)


if __name__ == "__main__":
    main()
