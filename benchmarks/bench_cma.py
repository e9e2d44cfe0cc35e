"""CMA-ES: the cma package's strategy objects stepped one by one against ce_lib's batched copy
(``ce_lib.dfo._CMAStrategies``), on the same normal variates and the same noisy quadratic, in one process.

Prints milliseconds per iteration per run each way at d = 16, 64 and 128 (20 runs, the default
population), their ratio, and whether every run's final mean, step size and covariance agree bit for bit.
Usage: python benchmarks/bench_cma.py [n_iterations]
"""

import sys
import time

import numpy as np

import ce_lib  # noqa: F401  (pins the numerical mode first)
from ce_lib import dfo


def main(n_iter: int = 60, n_runs: int = 20):
    import cma

    for dim in (16, 64, 128):
        obj = dfo.make_quadratic(dim, seed=0)
        lam = 4 + int(3 * np.log(dim))
        noise = np.random.default_rng(1)
        xis = [obj.sample(noise, (n_runs, lam)) for _ in range(n_iter)]
        opts = {"popsize": lam, "seed": float("nan"), "verbose": -9, "verb_log": 0, "verb_disp": 0}
        gens = [np.random.default_rng(s) for s in range(n_runs)]
        package = [cma.CMAEvolutionStrategy(np.zeros(dim), 1.0, {**opts, "randn": (lambda g: lambda n, d:
                                            g.standard_normal((n, d)))(g)}) for g in gens]
        t = time.perf_counter()
        for xi in xis:
            for es, x in zip(package, xi):
                X = np.asarray(es.ask())
                es.tell(X, obj.loss(X, x))
        one_by_one = (time.perf_counter() - t) / n_iter / n_runs
        gens = [np.random.default_rng(s) for s in range(n_runs)]
        batch = dfo._CMAStrategies(np.zeros(dim), np.ones(n_runs), lam)
        t = time.perf_counter()
        for xi in xis:
            points = batch.ask(np.stack([g.standard_normal((lam, dim)) for g in gens]))
            batch.tell(obj.loss(points, xi))
        batched = (time.perf_counter() - t) / n_iter / n_runs
        same = all(np.array_equal(es.mean, batch.mean[r]) and es.sigma == batch.sigma[r]
                   and np.array_equal(es.sm.C, batch.C[r]) for r, es in enumerate(package))
        print(f"d = {dim:3d}, population {lam}: package {1e3 * one_by_one:.3f} ms per iteration per run, "
              f"batched {1e3 * batched:.3f} ms: {one_by_one / batched:.1f}x; identical: {same}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
