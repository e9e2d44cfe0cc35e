"""Short computations of every kind the book runs, printed as fingerprints (a JSON object).

Run as a script in a fresh process by tests/test_numerics.py, once in ce_lib's reproducible mode
and once on other instruction-set paths. ce_lib is imported first, as every chapter does.
"""

import hashlib
import json

import ce_lib  # noqa: F401  (first: pins the arithmetic)
import numpy as np
import torch

from ce_lib import numerics, sb3_agents, stored


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
    out.update(stored.arithmetic())  # "mlp": 8 PPO updates; "transformer": a small transformer's first steps
    torch.set_num_threads(1)
    dqn = sb3_agents.run("DQN", 0, stop_after=2000)  # stable-baselines3 DQN: two evaluations, 1,000 updates
    out["sb3_dqn"] = fingerprint(dqn["eval_scores"])
    out["mode"] = numerics.status()._asdict()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
