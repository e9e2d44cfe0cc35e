"""Time of the robust SLS synthesis (Laplacian system, FIR length 15) with CLARABEL and SCS.

Fits the Laplacian system from 100 rollouts of 6 steps, estimates the model errors by the
bootstrap, and solves the robust SLS program for one robustness level with each solver, several
times; prints the median solve time of each, their ratio, and how far apart their optima are.
Usage: python benchmarks/bench_robust.py [--fir 15] [--repeats 5]
"""

import argparse
import time
import warnings

import numpy as np

from ce_lib import lqr, robust


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fir", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    p = lqr.laplacian_system()
    rng = np.random.default_rng(0)
    X, U, Xn = lqr.rollouts(p.A, p.B, 100, 6, rng)
    A_hat, B_hat = lqr.fit_dynamics(X, U, Xn)
    eps_A, eps_B = robust.bootstrap_errors(A_hat, B_hat, 100, 6, 1.0, rng)
    print(f"Laplacian system, FIR length {args.fir}, eps_A = {eps_A:.3f}, eps_B = {eps_B:.3f}, gamma = 0.6")
    times, bounds = {}, {}
    for solver in ("CLARABEL", "SCS"):
        runs = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = robust.sls_synthesis(A_hat, B_hat, p.Q, p.R, eps_A, eps_B, fir=args.fir, gammas=(0.6,),
                                           solver=solver)
            runs.append(time.perf_counter() - start)
        times[solver], bounds[solver] = float(np.median(runs)), res.bound
        print(f"  {solver:8s} {res.status:10s} median {times[solver]:.2f} s per synthesis "
              f"(solver alone {res.solve_time:.2f} s), cost bound {res.bound:.5f}")
    print(f"  CLARABEL / SCS time ratio {times['CLARABEL'] / times['SCS']:.1f}; "
          f"relative difference of the optima {abs(bounds['CLARABEL'] - bounds['SCS']) / bounds['CLARABEL']:.1e}")


if __name__ == "__main__":
    main()
