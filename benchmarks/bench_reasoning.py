"""Pretraining ten base models as one stacked ensemble against one after another.

The reasoning chapter trains one small transformer per seed. `ce_lib.reasoning.LMEnsemble` stacks
the models' weights on a leading axis so that a step of all of them is one set of batched matrix
products. This script times a number of pretraining steps of 10 models both ways (same sizes,
same batch per model) and prints the time per step of each and their ratio.
Usage: python benchmarks/bench_reasoning.py [--models 10] [--steps 60] [--threads 2]
"""

import argparse
import time

import torch

from ce_lib import reasoning as rs
from ce_lib.studies import reasoning as reasoning_study


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = list(range(args.models))
    rs.pretrain(reasoning_study.SETTINGS.task, seeds[:1], steps=5, warmup=1)  # warm up allocators and kernels
    start = time.perf_counter()
    rs.pretrain(reasoning_study.SETTINGS.task, seeds, steps=args.steps, warmup=1)
    stacked = (time.perf_counter() - start) / args.steps
    start = time.perf_counter()
    for s in seeds:
        rs.pretrain(reasoning_study.SETTINGS.task, [s], steps=args.steps, warmup=1)
    alone = (time.perf_counter() - start) / args.steps
    print(f"{args.models} models, {args.threads} threads: stacked {1000 * stacked:.1f} ms per step of all models, "
          f"one after another {1000 * alone:.1f} ms; ratio {alone / stacked:.1f}x")


if __name__ == "__main__":
    main()
