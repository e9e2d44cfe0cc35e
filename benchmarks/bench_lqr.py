"""Scoring the LQR chapter's gains: one relative_error call per gain against relative_errors on the
whole GainTrace (the problem checked and J* solved once), on the same gains, in one process.

Prints seconds per 1,000 gains scored each way, their ratio, and that the two agree bit for bit.
Usage: python benchmarks/bench_lqr.py
"""

import time

import numpy as np

import ce_lib  # noqa: F401  (pins the numerical mode first)
from ce_lib import lqr


def main():
    for problem in (lqr.double_integrator(), lqr.laplacian_system()):
        trace = lqr.random_search(problem, 4000, step=0.02, explore=0.05, checkpoints=lqr_checkpoints(4000),
                                  K0=problem.optimal()[0] * 0.9, n_runs=20, seed=0)
        gains = trace.gains.reshape(-1, problem.m, problem.n)
        t = time.perf_counter()
        one = np.array([lqr.relative_error(problem, K) for K in gains])
        per_gain = time.perf_counter() - t
        t = time.perf_counter()
        batch = lqr.relative_errors(problem, gains)
        batched = time.perf_counter() - t
        print(f"{problem.name}: {len(gains)} gains; relative_error one by one {1000 * per_gain / len(gains):.3f} s "
              f"per 1,000, relative_errors {1000 * batched / len(gains):.3f} s per 1,000: "
              f"{per_gain / batched:.1f}x; identical: {np.array_equal(one, batch)}")


def lqr_checkpoints(budget):
    return np.unique(np.geomspace(40, budget, 30).astype(int))


if __name__ == "__main__":
    main()
