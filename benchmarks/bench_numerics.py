"""What the reproducible numerical mode costs (ce_lib.numerics): the same work in three modes.

Each mode runs in a fresh process, one after the other (the mode is chosen when a process starts):
the reproducible mode (MKL's COMPATIBLE branch, AVX2 kernels), MKL's AVX2 branch with AVX2 kernels
(reproducible on Intel processors only), and the native mode (each library's fastest path here).
Prints seconds per 1,000 PPO steps on CartPole (one thread, the PPO chapter's settings), seconds per
step of the reasoning chapter's pretraining (13 stacked transformers, two threads), seconds per
1,000 SAC steps (stable-baselines3, the zoo's Pendulum settings), and each ratio to the native mode.
Usage: python benchmarks/bench_numerics.py
"""

import json
import os
import subprocess
import sys

WORK = r'''
import json, time
import ce_lib
import torch
from ce_lib import numerics, ppo, reasoning, sb3_agents
from ce_lib.studies import reasoning as reasoning_study
torch.set_num_threads(1)
ppo.train("CartPole-v1", 512, 0, ppo.PPOConfig())
t = time.perf_counter(); ppo.train("CartPole-v1", 20480, 1, ppo.PPOConfig()); p = (time.perf_counter() - t) / 20.48
t = time.perf_counter(); reasoning.pretrain(reasoning_study.SETTINGS.task, list(range(13)), steps=30, n_threads=2)
r = (time.perf_counter() - t) / 30
t = time.perf_counter(); sb3_agents.run("SAC", 0, stop_after=1500); s = (time.perf_counter() - t) / 1.5
print(json.dumps({"ppo": p, "pretrain": r, "sac": s, "paths": numerics.status().paths}))
'''

MODES = {
    "reproducible (MKL COMPATIBLE)": {},
    "MKL AVX2 branch (Intel only)": {"MKL_CBWR": "AVX2"},
    "native": {"CE_LIB_NUMERICS": "native"},
}


def run(extra):
    env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                                                            "NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE",
                                                            "CE_LIB_NUMERICS")}
    if "MKL_CBWR" in extra:  # ce_lib would override it: take the reproducible mode, then MKL's AVX2 branch
        env["CE_LIB_NUMERICS"] = "native"
        env.update(ATEN_CPU_CAPABILITY="avx2", ONEDNN_MAX_CPU_ISA="AVX2")
    env.update(extra)
    out = subprocess.run([sys.executable, "-c", WORK], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main():
    rows = {name: run(extra) for name, extra in MODES.items()}
    ref = rows["native"]
    for name, r in rows.items():
        print(f"{name:32s} PPO {r['ppo']:.3f} s / 1,000 steps ({r['ppo'] / ref['ppo']:.2f}x native), "
              f"pretraining {r['pretrain']:.3f} s / step ({r['pretrain'] / ref['pretrain']:.2f}x), "
              f"SAC {r['sac']:.2f} s / 1,000 steps ({r['sac'] / ref['sac']:.2f}x)   [{r['paths']}]", flush=True)


if __name__ == "__main__":
    main()
