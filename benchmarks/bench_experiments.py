"""Speed of the shared machinery: joblib seed sweeps against a serial loop, and cache reads.

Prints the wall-clock time of a 16-seed sweep of a CPU-bound function with ``run_seeds`` on all
cores and with one worker (the reference, same process), their ratio, and the time to read a
cached DFO sweep compared with computing it.
Usage: python benchmarks/bench_experiments.py
"""

import os
import tempfile
import time

import numpy as np

from ce_lib.studies import dfo as dfo_study
from ce_lib.experiments import cached, run_seeds


def work(seed, n=500):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    for _ in range(60):
        a = np.tanh(a @ a.T / n)
    return float(a.sum())


def main():
    seeds = range(16)
    start = time.perf_counter()
    serial = run_seeds(work, seeds, n_jobs=1)
    t_serial = time.perf_counter() - start
    start = time.perf_counter()
    parallel = run_seeds(work, seeds, n_jobs=-1)
    t_parallel = time.perf_counter() - start
    assert serial == parallel
    print(f"run_seeds, 16 seeds on {os.cpu_count()} cores: {t_parallel:.2f} s; "
          f"one worker (reference): {t_serial:.2f} s; speed-up {t_serial / t_parallel:.2f}x")

    with tempfile.TemporaryDirectory() as folder:
        os.environ["CE_LIB_CACHE"] = folder
        params = dict(problem="quadratic", dims=(2, 4, 8, 16, 32), n_seeds=10, target=0.05, budget_per_dim=2000)
        start = time.perf_counter()
        cached(dfo_study.dimension_sweep, **params)
        t_compute = time.perf_counter() - start
        start = time.perf_counter()
        cached(dfo_study.dimension_sweep, **params)
        t_read = time.perf_counter() - start
    print(f"cached sweep: computed in {t_compute:.2f} s, read back in {t_read * 1e3:.1f} ms "
          f"({t_compute / t_read:,.0f}x)")


if __name__ == "__main__":
    main()
