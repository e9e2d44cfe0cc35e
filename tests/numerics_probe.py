"""Short computations of every kind the book runs, printed as fingerprints (a JSON object).

Run as a script in a fresh process by tests/test_numerics.py, once in ce_lib's reproducible mode
and once on other instruction-set paths. ce_lib is imported first, as every chapter does.
"""

import hashlib
import json

import ce_lib  # noqa: F401  (first: pins the arithmetic)
import numpy as np
import torch

from ce_lib import numerics, ppo, reasoning, sb3_agents
from ce_lib.studies import reasoning as reasoning_study


def fingerprint(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()[:16]


def main():
    out = {}
    x = np.random.default_rng(0).normal(size=4096) * 3
    A = np.random.default_rng(1).normal(size=(48, 48))
    out["numpy"] = fingerprint(np.exp(x), np.log1p(np.abs(x)), np.tanh(x), np.exp(x.astype(np.float32)),
                               np.linalg.solve(A, x[:48]), A @ A)
    torch.set_num_threads(1)
    res = ppo.train("CartPole-v1", 2048, 0, ppo.PPOConfig())  # a PPO run of 8 updates
    out["ppo"] = fingerprint(res.returns, *[p.detach().numpy() for p in res.model.parameters()])
    pre = reasoning.pretrain(reasoning_study.SETTINGS.task, [0], steps=15, n_threads=2)  # a small transformer's first steps
    out["reasoning"] = fingerprint(pre.loss, *[p.detach().numpy() for p in pre.model.parameters()])
    dqn = sb3_agents.run("DQN", 0, stop_after=2000)  # stable-baselines3 DQN: two evaluations, 1,000 updates
    out["sb3_dqn"] = fingerprint(dqn["eval_scores"])
    out["mode"] = numerics.status()._asdict()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
