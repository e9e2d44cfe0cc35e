"""The LQR chapter's inner loops against their earlier forms, on the same inputs, in one process:

- scoring gains: one relative_error call per gain against relative_errors on the whole GainTrace (the
  problem checked and J* solved once);
- the searches' rollouts (``_rollout_costs``, where the chapter spends most of its time): each step's cost
  terms added by ``_row_sums`` against numpy's ``sum(axis=1)``, for random search's batch of the chapter's
  tuning grid (140 runs x 8 rollouts) and policy gradient's (120 runs x 10 rollouts with input noise);
- LSPI's quadratic features of 1,000 rollouts of 200 steps: the upper-triangle products alone against the
  whole outer product, then a selection of it.

Prints the time of each way, their ratio, and that the two agree bit for bit.
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


def _summed(a):
    return a.sum(axis=1)


def best_of(fn, repeats=5):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def rollouts():
    problem = lqr.laplacian_system()
    rng = np.random.default_rng(0)
    for what, runs, sigma in (("random search", 140 * 8, None), ("policy gradient", 120 * 10, 0.3)):
        K = 0.1 * np.eye(3) + 0.05 * rng.standard_normal((runs, 3, 3))
        sig = None if sigma is None else np.full(runs, sigma)

        def step(K=K, sig=sig):
            return lqr._rollout_costs(problem, K, np.random.default_rng(1), 200, sigma_u=sig)

        new_t, new = best_of(step)
        row_sums = lqr._row_sums
        lqr._row_sums = _summed  # the earlier form: numpy's reduction
        try:
            old_t, old = best_of(step)
        finally:
            lqr._row_sums = row_sums
        same = all(np.array_equal(a, b) for a, b in zip(old[:2], new[:2]))
        print(f"rollouts, {what} ({runs} rollouts of 200 steps): sum(axis=1) {1e6 * old_t / 200:.0f} us per step, "
              f"_row_sums {1e6 * new_t / 200:.0f} us: {old_t / new_t:.2f}x; identical: {same}")


def features():
    problem = lqr.laplacian_system()
    X, U, _ = lqr.rollouts(problem.A, problem.B, 1000, 200, 0)
    Z = np.hstack([X, U])

    def outer_then_select():
        i, j = np.triu_indices(Z.shape[1])
        return (Z[:, :, None] * Z[:, None, :])[:, i, j] * np.where(i == j, 1.0, 2.0)

    old_t, old = best_of(outer_then_select)
    new_t, new = best_of(lambda: lqr._svec_features(Z))
    print(f"LSPI features of {len(Z):,} transitions: outer product then selection {1e3 * old_t:.1f} ms, "
          f"upper triangle alone {1e3 * new_t:.1f} ms: {old_t / new_t:.1f}x; identical: {np.array_equal(old, new)}")


def lqr_checkpoints(budget):
    return np.unique(np.geomspace(40, budget, 30).astype(int))


if __name__ == "__main__":
    main()
    rollouts()
    features()
