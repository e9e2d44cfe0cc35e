"""Speed of the vectorized bandit simulator against a plain loop over runs, in the same process.

Simulates every agent for 2,000 runs x 10,000 rounds on a 10-armed Gaussian bandit in one
vectorized call, and times the same agent run by run (n_runs = 1 per call) on a subset of runs;
prints seconds per run for both and the speed-up.
Usage: python benchmarks/bench_bandits.py [--runs 2000] [--horizon 10000] [--loop-runs 10]
"""

import argparse
import time

import numpy as np

from ce_lib import bandits as b


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--horizon", type=int, default=10_000)
    parser.add_argument("--loop-runs", type=int, default=10)
    args = parser.parse_args()
    means = np.random.default_rng(0).standard_normal(10)
    env = b.GaussianBandit(means)
    agents = [b.Greedy(), b.EpsilonGreedy(0.1), b.UCB(2.0), b.KLUCB(), b.ThompsonSampling(), b.GradientBandit(0.1)]
    print(f"{args.runs} runs x {args.horizon:,} rounds, 10 Gaussian arms")
    for agent in agents:
        start = time.perf_counter()
        b.simulate(agent, env, args.horizon, args.runs, seed=0)
        vec = (time.perf_counter() - start) / args.runs
        start = time.perf_counter()
        for s in range(args.loop_runs):
            b.simulate(agent, env, args.horizon, 1, seed=s)
        loop = (time.perf_counter() - start) / args.loop_runs
        print(f"  {agent.name:20s} vectorized {vec * args.runs:6.2f} s in all ({vec * 1e3:7.3f} ms/run); "
              f"per-run loop {loop * 1e3:7.1f} ms/run; speed-up {loop / vec:6.0f}x")


if __name__ == "__main__":
    main()
