"""Speed of the batched DFO runners against a plain loop over runs, in the same process.

Prints the wall-clock time of 20 runs of random search at d = 64 advanced as one batch (how the
book runs them) and as 20 separate single-run calls (the reference), and their ratio.
Usage: python benchmarks/bench_dfo.py [--dim 64] [--runs 20] [--budget 40000]
"""

import argparse
import time

from ce_lib import dfo


def _time(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--budget", type=int, default=40_000)
    args = parser.parse_args()
    obj = dfo.make_quadratic(args.dim, seed=0)
    hyper = dict(step=0.05, explore=0.3, n_dirs=max(1, args.dim // 8))

    def batched():
        dfo.random_search(obj, args.budget, n_runs=args.runs, seed=0, **hyper)

    def looped():
        for s in range(args.runs):
            dfo.random_search(obj, args.budget, n_runs=1, seed=s, **hyper)

    t_batch, t_loop = _time(batched), _time(looped)
    print(f"random search, d={args.dim}, {args.runs} runs x {args.budget:,} samples")
    print(f"  batched (one call, all runs):  {t_batch:8.3f} s")
    print(f"  reference (one call per run):  {t_loop:8.3f} s")
    print(f"  speed-up: {t_loop / t_batch:.1f}x")


if __name__ == "__main__":
    main()
