"""The study of the chapter on decision transformers (:ref:`ch-dt`): its settings and experiments.

What the chapter runs and the numbers its prose glues: the graph task's settings, the sweep over the
size of the log for every policy and the scoreboard record. The problems and learners are the
library's, :mod:`ce_lib.dt`; this module only chooses and runs them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..dt import (
    Walks,
    evaluate,
    optimal_steps,
    optimal_success,
    plan_from_data,
    random_graph,
    random_walks,
    shortest_paths,
    train,
)
from ..experiments import (
    MethodResult,
    cached,
    check_positive_int,
    child_seed,
    make_record,
    parallel_map,
    samples_to_target,
)

__all__ = [
    "Settings", "SETTINGS", "POLICIES", "LABELS", "sweep", "RECORD_CE", "headline",
]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings: what its experiments run, on which seeds, with which budgets and grids.

    The chapter uses :data:`SETTINGS`; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try.
    """

    n_nodes: int = 20  # nodes of the random graph (Chen et al.'s graph task)
    edge_p: float = 0.1  # probability of each directed edge
    max_steps: int = 20  # episode cap, for the walks and for every policy
    walk_counts: tuple = (10, 30, 100, 300, 1000)  # sizes of the log of random walks
    slip: float = 0.3  # slip probability of the stochastic variant
    slip_walks: int = 1000  # walks the stochastic variant is given


SETTINGS = Settings()
"""The settings the chapter runs with."""



POLICIES = ("dt", "dt-model", "planner", "fqi")
LABELS = {"dt": "decision transformer", "dt-model": "sequence model as a model", "planner": "plan on the data's graph",
          "fqi": "fitted Q-iteration"}


def _summary(res, optimal):
    ok = res["success"] > 0
    ratio = res["steps"][ok] / optimal[res["starts"]][ok]
    return {"success": float(res["success"].mean()), "length_ratio": float(np.mean(ratio)) if ok.any() else np.nan}


def _one(job):
    """One graph (seed) and one data size: train, then evaluate every policy.

    The graph comes from ``seed``; its walks from the seed's child 0 (deterministic) or 1 (slippery),
    the first ``n_walks`` of ``SETTINGS.walk_counts``'s largest data set, so the data sets of one graph are
    nested; the evaluation's slips from child 2."""
    torch.set_num_threads(1)
    seed, n_walks, slip = job
    graph = random_graph(SETTINGS.n_nodes, SETTINGS.edge_p, seed=seed)
    data_seed = child_seed(seed, 1 if slip > 0 else 0)
    walks = _first_walks(random_walks(graph, max(SETTINGS.walk_counts[-1], SETTINGS.slip_walks), data_seed, slip=slip,
                                      max_steps=SETTINGS.max_steps), n_walks)
    model = train(walks, graph.n, seed=seed).model
    optimal = optimal_steps(graph, slip, SETTINGS.max_steps)
    repeats = 1 if slip == 0 else 10
    out = {"optimal_success": float(np.mean(optimal_success(graph, slip, SETTINGS.max_steps)[
        (np.arange(graph.n) != graph.goal) & np.isfinite(shortest_paths(graph.adjacency, graph.goal))]))}
    for p in POLICIES:
        res = evaluate(p, graph, walks, model, slip=slip, max_steps=SETTINGS.max_steps, repeats=repeats, seed=child_seed(seed, 2))
        out[p] = _summary(res, optimal)
        if p == "planner":
            plan, V = plan_from_data(walks, graph.n, graph.goal, SETTINGS.max_steps)
            out["covered"] = float(np.mean(np.isfinite(V[res["starts"]])))  # data contain a path
    return out


def _first_walks(walks: Walks, k: int) -> Walks:
    """The data set of the first ``k`` walks."""
    return Walks(*(x[:k] for x in walks))


def sweep(n_seeds: int = 10) -> dict:
    """Success rate and path length (relative to optimal) of the three policies, for every walk
    count on deterministic graphs and for ``SETTINGS.slip_walks`` walks on slippery ones (cached)."""
    return cached(_sweep, n_seeds=check_positive_int(n_seeds, "n_seeds"))


def _sweep(n_seeds):
    jobs = [(s, w, 0.0) for s in range(n_seeds) for w in SETTINGS.walk_counts] + [(s, SETTINGS.slip_walks, SETTINGS.slip) for s in range(n_seeds)]
    runs = parallel_map(_one, jobs, n_jobs=2)
    det, slip = runs[: n_seeds * len(SETTINGS.walk_counts)], runs[n_seeds * len(SETTINGS.walk_counts):]
    out = {"walks": np.array(SETTINGS.walk_counts)}
    shape = (n_seeds, len(SETTINGS.walk_counts))
    for p in POLICIES:
        for k in ("success", "length_ratio"):
            out[f"{p}/{k}"] = np.array([r[p][k] for r in det]).reshape(shape)
            out[f"slip/{p}/{k}"] = np.array([r[p][k] for r in slip])
    out["covered"] = np.array([r["covered"] for r in det]).reshape(shape)
    out["slip/optimal_success"] = np.array([r["optimal_success"] for r in slip])
    return out


def _walks_to_target(out, policy):
    good = (out[f"{policy}/success"] >= 0.95) & (out[f"{policy}/length_ratio"] <= 1.10)
    return samples_to_target(out["walks"], good.astype(float), 0.5, direction="above", persist=True)


#: The records: the decision transformer against each certainty-equivalent reading of the same walks.
RECORD_CE = ("planner", "dt-model")


def headline(n_seeds: int = 10) -> list[dict]:
    """Scoreboard records: random walks until 95% success with paths within 10% of the shortest, the
    decision transformer against the planner, and against the same network read as a model, and
    offline value learning (fitted Q-iteration) against the planner (all learn from the same logged
    walks: ``information="same"``)."""
    out = sweep(n_seeds)
    dt_hits = _walks_to_target(out, "dt")
    tuning = "none (one architecture and training length, checked only for a levelled-off loss)"
    task = (f"reach a goal on random graphs ({SETTINGS.n_nodes} nodes, edge probability {SETTINGS.edge_p}) from logged random walks")
    fqi = make_record(chapter="dt", task=task, metric="random walks until >= 95% success from every start with "
                      "paths within 10% of the shortest", target=0.95, budget=float(SETTINGS.walk_counts[-1]), information="same",
                      methods=[MethodResult(LABELS["planner"], "ce", _walks_to_target(out, "planner"), "none needed"),
                               MethodResult(LABELS["fqi"], "rl", _walks_to_target(out, "fqi"),
                                            f"none needed ({SETTINGS.max_steps} iterations, the episode length)")])
    return [make_record(chapter="dt", task=f"reach a goal on random graphs ({SETTINGS.n_nodes} nodes, edge probability "
                        f"{SETTINGS.edge_p}) from logged random walks", metric="random walks until >= 95% success from every "
                        "start with paths within 10% of the shortest", target=0.95, budget=float(SETTINGS.walk_counts[-1]),
                        information="same",
                        methods=[MethodResult(LABELS[p], "ce", _walks_to_target(out, p),
                                              "none needed" if p == "planner" else tuning),
                                 MethodResult(LABELS["dt"], "rl", dt_hits, tuning)])
            for p in RECORD_CE] + [fqi]
