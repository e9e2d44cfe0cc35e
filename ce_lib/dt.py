r"""Decision transformers versus planning on a learned model, on random graphs.

Used by the chapter :ref:`ch-dt`. An agent must walk from any node of a random directed graph to a
goal node; all it has is a log of *random walks*. Three ways to use the log:

* **decision transformer** (Chen et al. 2021): a causal transformer trained to predict the action
  from (return-to-go, state, action) sequences, asked for the action that goes with a *high*
  return;
* **the same sequence model as a model**: a second head of the transformer predicts the return of
  the walk that follows each action; act greedily on that prediction;
* **explicit certainty equivalence**: the graph (and the transition frequencies) seen in the log,
  planned on by value iteration -- shortest paths when the graph is deterministic.
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from .experiments import Seed, as_rng, check_positive_int, check_real, seed_int, torch_generator
from .mdp import EmpiricalModel

__all__ = [
    "RandomGraph", "random_graph", "GraphWalkEnv", "Walks", "random_walks", "shortest_paths",
    "plan_from_data", "optimal_steps", "optimal_success", "CONTEXT", "DecisionTransformer", "FitResult",
    "train", "evaluate", "fitted_q_iteration",
]


class RandomGraph(NamedTuple):
    """A directed graph with a goal."""

    adjacency: np.ndarray  # (n, n) bool, adjacency[i, j]: an edge i -> j
    goal: int  # the goal node

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.adjacency.shape[0]


def random_graph(n: int = 20, p: float = 0.1, seed: Seed = 0, goal: int | None = None) -> RandomGraph:
    """An Erdos-Renyi directed graph (each edge i -> j, i != j, with probability ``p``).

    ``goal=None`` picks the node that the most other nodes can reach (the smallest such index),
    so that the task is not vacuous.
    """
    n = check_positive_int(n, "n", minimum=2)
    if not 0 < p <= 1:
        raise ValueError(f"p must lie in (0, 1], got {p!r}")
    if goal is not None and not 0 <= int(goal) < n:
        raise ValueError(f"goal must be a node in [0, {n}), got {goal}")
    rng = as_rng(seed)
    adj = rng.random((n, n)) < p
    np.fill_diagonal(adj, False)
    if goal is None:
        goal = int(np.argmax([np.isfinite(shortest_paths(adj, g)).sum() for g in range(n)]))
    return RandomGraph(adj, int(goal))


def shortest_paths(adjacency, goal: int) -> np.ndarray:
    """Number of steps from every node to ``goal`` (breadth-first search backwards; ``inf`` if unreachable)."""
    adj = np.asarray(adjacency, bool)
    n = adj.shape[0]
    if not 0 <= goal < n:
        raise ValueError(f"goal must be a node in [0, {n}), got {goal}")
    dist = np.full(n, np.inf)
    dist[goal] = 0
    frontier = [goal]
    while frontier:
        nxt = []
        for v in frontier:
            for u in np.flatnonzero(adj[:, v]):
                if not np.isfinite(dist[u]):
                    dist[u] = dist[v] + 1
                    nxt.append(u)
        frontier = nxt
    return dist


class GraphWalkEnv(gym.Env):
    """Walk on a directed graph to its goal.

    Observation: the current node. Action: the node to move to; a node that is not an
    out-neighbour leaves the walker where it is. With probability ``slip`` a move goes to a
    uniformly random out-neighbour instead (the stochastic variant). Reward -1 per step;
    reaching the goal pays 0 and ends the episode; ``max_steps`` truncates it. Episodes start
    at a uniformly random node other than the goal, or at ``options={"start": node}``.
    """

    metadata = {"render_modes": []}

    def __init__(self, graph: RandomGraph, slip: float = 0.0, max_steps: int = 20):
        if not isinstance(graph, RandomGraph):
            raise TypeError(f"graph must be a RandomGraph, got {type(graph).__name__}")
        if not 0 <= slip <= 1:
            raise ValueError(f"slip must lie in [0, 1], got {slip!r}")
        self.graph, self.slip = graph, float(slip)
        self.max_steps = check_positive_int(max_steps, "max_steps")
        self.observation_space = spaces.Discrete(graph.n)
        self.action_space = spaces.Discrete(graph.n)
        self._node, self._t = 0, 0

    def reset(self, *, seed=None, options=None):
        """Start a new episode; ``options={"start": node}`` fixes the start node."""
        super().reset(seed=seed)
        start = (options or {}).get("start")
        if start is None:
            others = [v for v in range(self.graph.n) if v != self.graph.goal]
            start = int(self.np_random.choice(others))
        elif not 0 <= int(start) < self.graph.n:
            raise ValueError(f"start must be a node in [0, {self.graph.n}), got {start}")
        self._node, self._t = int(start), 0
        return self._node, {}

    def step(self, action):
        """Move towards ``action`` (a node); returns (node, reward, terminated, truncated, info)."""
        a = int(action)
        nbrs = np.flatnonzero(self.graph.adjacency[self._node])
        if nbrs.size and self.slip > 0 and self.np_random.random() < self.slip:
            a = int(self.np_random.choice(nbrs))
        if self.graph.adjacency[self._node, a]:
            self._node = a
        self._t += 1
        done = self._node == self.graph.goal
        return self._node, (0.0 if done else -1.0), bool(done), self._t >= self.max_steps and not done, {}


class Walks(NamedTuple):
    """Logged trajectories, padded to ``max_steps``."""

    states: np.ndarray  # (W, T) node at each step
    actions: np.ndarray  # (W, T) node chosen at each step
    rewards: np.ndarray  # (W, T) reward (-1 per step, 0 on reaching the goal)
    next_states: np.ndarray  # (W, T) node after the step
    lengths: np.ndarray  # (W,) number of real steps (the rest is padding)
    returns_to_go: np.ndarray  # (W, T) sum of the rewards from step t to the end of the walk


def _step(adj, nodes, actions, slip, rng: np.random.Generator):
    """Vectorized environment step: slip to a random out-neighbour with probability ``slip``."""
    if slip > 0:
        deg = adj[nodes].sum(axis=1)
        slipping = (rng.random(nodes.size) < slip) & (deg > 0)
        if np.any(slipping):
            actions = actions.copy()
            actions[slipping] = _random_neighbour(adj, nodes[slipping], rng)
    moved = adj[nodes, actions]
    return np.where(moved, actions, nodes)


def _random_neighbour(adj, nodes, rng: np.random.Generator):
    """A uniformly random out-neighbour of each node (the node itself if it has none)."""
    weights = adj[nodes] * rng.random((nodes.size, adj.shape[0]))
    choice = np.argmax(weights, axis=1)
    return np.where(adj[nodes].any(axis=1), choice, nodes)


def random_walks(graph: RandomGraph, n_walks: int, seed: Seed, *, slip: float = 0.0, max_steps: int = 20) -> Walks:
    """Random-walk data: start at a uniformly random non-goal node, move to a uniformly random
    out-neighbour each step, stop at the goal or after ``max_steps`` steps.

    Walks are independent of each other, so the first ``k`` walks of a data set are a data set of
    ``k`` walks in their own right: the chapter's data sets of one graph are nested this way."""
    if not isinstance(graph, RandomGraph):
        raise TypeError(f"graph must be a RandomGraph, got {type(graph).__name__}")
    n_walks = check_positive_int(n_walks, "n_walks")
    T = check_positive_int(max_steps, "max_steps")
    slip = check_real(slip, "slip", low=0.0, high=1.0)
    rng = as_rng(seed)
    adj, goal, n = graph.adjacency, graph.goal, graph.n
    starts = rng.integers(0, n - 1, n_walks)
    node = np.where(starts >= goal, starts + 1, starts)  # uniform over the non-goal nodes
    S = np.zeros((n_walks, T), int)
    A = np.zeros((n_walks, T), int)
    Sn = np.zeros((n_walks, T), int)
    R = np.zeros((n_walks, T))
    alive = np.ones(n_walks, bool)
    lengths = np.zeros(n_walks, int)
    for t in range(T):
        act = _random_neighbour(adj, node, rng)
        nxt = _step(adj, node, act, slip, rng)
        S[:, t], A[:, t], Sn[:, t] = node, act, nxt
        R[:, t] = np.where(alive, np.where(nxt == goal, 0.0, -1.0), 0.0)
        lengths += alive
        alive = alive & (nxt != goal)
        node = nxt
    R[np.arange(T)[None, :] >= lengths[:, None]] = 0.0
    rtg = np.ascontiguousarray(np.cumsum(R[:, ::-1], axis=1)[:, ::-1])
    return Walks(S, A, R, Sn, lengths, rtg)


def _check_walks(walks):
    if not isinstance(walks, Walks):
        raise TypeError(f"walks must be a Walks data set (see random_walks), got {type(walks).__name__}")
    if walks.states.size == 0 or walks.lengths.sum() == 0:
        raise ValueError("walks must not be empty")


def _check_data(walks, n, goal) -> int:
    """Validate logged walks, the number of nodes and the goal; return ``n`` as an int."""
    _check_walks(walks)
    n = check_positive_int(n, "n", minimum=2)
    if not 0 <= int(goal) < n:
        raise ValueError(f"goal must be a node in [0, {n}), got {goal}")
    return n


def plan_from_data(walks: Walks, n: int, goal: int, max_steps: int = 20):
    r"""Explicit certainty equivalence: the empirical transition model of the logged moves, planned
    on by dynamic programming (for a deterministic graph, shortest paths on the edges seen).

    The model has :math:`\hat P(s' \mid s, a) = N(s, a, s') / N(s, a)` for every pair seen in the
    walks and nothing else. Value iteration over ``max_steps`` steps maximizes the expected return
    (-1 per step) with a failure penalty of ``-max_steps`` for not being at the goal when time runs
    out; a node with no recorded move can only wait.

    Returns
    -------
    (policy, values)
        ``policy[s]`` is the planned action (``-1`` where the data show no move from ``s``), and
        ``values[s]`` the planned value, ``-inf`` where the edges seen contain no path to the goal.

    Examples
    --------
    >>> from ce_lib.dt import evaluate, random_graph, random_walks
    >>> graph = random_graph(12, 0.25, seed=0)
    >>> walks = random_walks(graph, 200, seed=0)
    >>> round(float(evaluate('planner', graph, walks)['success'].mean()), 2)  # plans on the walks' graph
    1.0
    """
    n = _check_data(walks, n, goal)
    max_steps = check_positive_int(max_steps, "max_steps")
    mask = np.arange(walks.states.shape[1])[None, :] < walks.lengths[:, None]
    model = EmpiricalModel(1, n, n)
    s, a, s2 = walks.states[mask], walks.actions[mask], walks.next_states[mask]
    model.add(np.zeros_like(s), s, a, s2, walks.rewards[mask])
    counts = model.counts[0]
    P, _ = model.estimate()
    P = P[0]
    seen = model.visits()[0] > 0
    V = np.full(n, -float(max_steps))
    V[goal] = 0.0
    for _ in range(max_steps):
        Q = np.where(seen, -1.0 + np.einsum("sat,t->sa", P, V), -np.inf)
        V = np.where(seen.any(axis=1), Q.max(axis=1), V - 1.0)
        V[goal] = 0.0
    policy = np.where(seen.any(axis=1), Q.argmax(axis=1), -1)
    policy[goal] = -1
    seen_edges = (counts.sum(axis=1) > 0) & ~np.eye(n, dtype=bool)  # s -> s' observed
    reachable = np.isfinite(shortest_paths(seen_edges, goal))
    return policy, np.where(reachable, V, -np.inf)


def fitted_q_iteration(walks: Walks, n: int, goal: int, iterations: int = 20):
    r"""Offline value learning: fitted Q-iteration (Ernst, Geurts & Wehenkel, 2005) on the logged
    transitions, with a table as the function class and the maximum restricted to actions seen in
    the data (the batch-constrained choice of Fujimoto et al., 2019, which keeps the targets away
    from pairs the data say nothing about).

    .. math::
        Q_{k+1} = \arg\min_{Q} \sum_{(s, a, r, s')} \Big(Q(s, a) - r - \mathbb 1\{s' \ne g\}
        \max_{a' \in \mathcal A_{\text{seen}}(s')} Q_k(s', a')\Big)^2, \qquad Q_0 = 0,

    the maximum over an empty set being ``-iterations`` (a node the data never leave). With a table
    the regression is an average over the samples of each pair, so this is value iteration on the
    counted model: offline value learning and certainty equivalence coincide in the tabular case.

    Returns
    -------
    (policy, Q)
        ``policy[s]``: the greedy action among those seen at ``s`` (``-1`` if none, and at the goal);
        ``Q``: (n, n) with ``-inf`` on pairs never seen.

    Examples
    --------
    >>> from ce_lib.dt import evaluate, random_graph, random_walks
    >>> graph = random_graph(12, 0.25, seed=0)
    >>> walks = random_walks(graph, 200, seed=0)
    >>> round(float(evaluate('fqi', graph, walks)['success'].mean()), 2)
    1.0
    """
    n = _check_data(walks, n, goal)
    iterations = check_positive_int(iterations, "iterations")
    mask = np.arange(walks.states.shape[1])[None, :] < walks.lengths[:, None]
    s, a, r, s2 = walks.states[mask], walks.actions[mask], walks.rewards[mask], walks.next_states[mask]
    counts = np.zeros((n, n))
    np.add.at(counts, (s, a), 1.0)
    seen = counts > 0
    Q = np.where(seen, 0.0, -np.inf)
    for _ in range(iterations):
        V = np.where(seen.any(axis=1), Q.max(axis=1), -float(iterations))
        V[goal] = 0.0
        target = r + np.where(s2 == goal, 0.0, V[s2])
        sums = np.zeros((n, n))
        np.add.at(sums, (s, a), target)
        Q = np.where(seen, sums / np.maximum(counts, 1.0), -np.inf)
    policy = np.where(seen.any(axis=1), Q.argmax(axis=1), -1)
    policy[goal] = -1
    return policy, Q


# ----------------------------------------------------------------------------------------------
# The sequence model
# ----------------------------------------------------------------------------------------------



#: Steps of history the transformer sees (its context window), as in Chen et al.'s windowed training.
CONTEXT = 4


class DecisionTransformer(nn.Module):
    r"""A small causal transformer over (return-to-go, state, action) tokens (Chen et al. 2021).

    A window of the last ``CONTEXT`` steps becomes ``3 * CONTEXT`` tokens: token ``3j`` embeds the
    return-to-go :math:`\hat R_t` (a scalar, divided by ``max_steps``) or, when the return is
    hidden, a learned "unknown return" vector; token ``3j + 1`` the state and token ``3j + 2`` the
    action, each plus an embedding of the step ``t``. Windows that start before the walk are padded
    with a padding node and a padding step. Two heads: the **policy head** reads a state token and
    predicts its action (with returns visible this is the decision transformer; hidden, behaviour
    cloning); the **return head** reads an action token of a window whose returns are hidden and
    predicts :math:`\hat R_t` -- the sequence model used as a model of what an action leads to.
    """

    def __init__(self, n_nodes: int, max_steps: int, d_model: int = 48, n_layers: int = 2, n_heads: int = 2):
        super().__init__()
        self.n_nodes, self.max_steps = n_nodes, max_steps
        self.ret = nn.Linear(1, d_model)
        self.unknown = nn.Parameter(torch.zeros(d_model))
        self.state = nn.Embedding(n_nodes + 1, d_model)  # index n_nodes: padding
        self.action = nn.Embedding(n_nodes + 1, d_model)
        self.time = nn.Embedding(max_steps + 1, d_model)  # index max_steps: padding
        self.kind = nn.Embedding(3, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=2 * d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.body = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.policy_head = nn.Linear(d_model, n_nodes)
        self.return_head = nn.Linear(d_model, 1)

    def forward(self, rtg, states, actions, times, hide_return):
        """``rtg`` (B, K) float, ``states``/``actions``/``times`` (B, K) long, ``hide_return`` (B,)
        bool. Returns action logits (B, K, n) and predicted returns (B, K)."""
        B, K = states.shape
        t = self.time(times)
        r = self.ret(rtg[..., None] / self.max_steps)
        r = torch.where(hide_return[:, None, None], self.unknown.expand_as(r), r)
        tokens = torch.stack([r + t + self.kind.weight[0], self.state(states) + t + self.kind.weight[1],
                              self.action(actions) + t + self.kind.weight[2]], dim=2).reshape(B, 3 * K, -1)
        mask = torch.triu(torch.full((3 * K, 3 * K), float("-inf")), diagonal=1)
        h = self.norm(self.body(tokens, mask=mask, is_causal=True)).reshape(B, K, 3, -1)
        return self.policy_head(h[:, :, 1]), self.return_head(h[:, :, 2])[..., 0] * self.max_steps


def _padded(walks: Walks, n_nodes: int, K: int):
    """Walk arrays with ``K - 1`` padding steps on the left, and the step index of every column."""
    W, T = walks.states.shape
    pad = lambda x, v: np.concatenate([np.full((W, K - 1), v, dtype=x.dtype), x], axis=1)  # noqa: E731
    times = np.concatenate([np.full(K - 1, T), np.arange(T)])
    return pad(walks.states, n_nodes), pad(walks.actions, n_nodes), pad(walks.returns_to_go, 0.0), times


class FitResult(NamedTuple):
    """What :func:`train` returns."""

    model: "DecisionTransformer"  # the trained network (in evaluation mode)
    losses: np.ndarray  # (steps,) training loss of every minibatch


def train(walks: Walks, n_nodes: int, seed: Seed = 0, *, steps: int = 800, batch: int = 64, lr: float = 2e-3,
          d_model: int = 48) -> FitResult:
    """Train a :class:`DecisionTransformer` on logged walks (seeded, reproducible).

    Each example is a window of ``CONTEXT`` steps ending at a uniformly random step of the data.
    Each minibatch hides the returns of a random half of its windows. Loss: cross-entropy of the
    policy head on every real step of the windows, plus the squared error (in units of
    ``max_steps``) of the return head on the hidden half.

    Returns
    -------
    FitResult
        The model and the loss of every step.

    Examples
    --------
    >>> from ce_lib.dt import evaluate, random_graph, random_walks, train
    >>> graph = random_graph(12, 0.25, seed=0)
    >>> walks = random_walks(graph, 200, seed=0)
    >>> fit = train(walks, 12, seed=0, steps=100)
    >>> round(float(fit.losses[0]), 2), round(float(fit.losses[-1]), 2)  # training loss, first and last step
    (2.89, 0.43)
    >>> sorted(evaluate('dt', graph, walks, fit.model))
    ['shortest', 'starts', 'steps', 'success']
    """
    _check_walks(walks)
    n_nodes = check_positive_int(n_nodes, "n_nodes", minimum=2)
    if int(walks.states.max()) >= n_nodes or int(walks.actions.max()) >= n_nodes:
        raise ValueError(f"n_nodes ({n_nodes}) must exceed every node in the walks")
    seed = seed_int(seed)
    steps = check_positive_int(steps, "steps")
    batch = check_positive_int(batch, "batch")
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    d_model = check_positive_int(d_model, "d_model", minimum=2)
    if d_model % 2:
        raise ValueError(f"d_model must be even (two attention heads share it), got {d_model}")
    with torch.random.fork_rng():  # seed the initialization without touching the caller's torch state
        torch.manual_seed(seed)
        return _train(walks, n_nodes, seed, steps, batch, lr, d_model)


def _train(walks, n_nodes, seed, steps, batch, lr, d_model):
    K, T = CONTEXT, walks.states.shape[1]
    model = DecisionTransformer(n_nodes, T, d_model=d_model)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    S, A, G, times = (torch.as_tensor(np.ascontiguousarray(x)) for x in _padded(walks, n_nodes, K))
    G = G.float()
    ends = np.argwhere(np.arange(T)[None, :] < walks.lengths[:, None])  # (walk, step) of every real step
    cols = torch.as_tensor(ends[:, 1])[:, None] + torch.arange(K)[None, :]  # padded columns of each window
    rows = torch.as_tensor(ends[:, 0])
    gen = torch_generator(int(seed))
    losses = []
    for _ in range(steps):
        pick = torch.randint(0, rows.shape[0], (batch,), generator=gen)
        r, c = rows[pick][:, None], cols[pick]
        s, a, g, tt = S[r, c], A[r, c], G[r, c], times[c]
        hide = torch.rand(batch, generator=gen) < 0.5
        logits, pred = model(g, s, a, tt, hide)
        real = s < n_nodes
        pol = torch.nn.functional.cross_entropy(logits[real], a[real])
        vm = real & hide[:, None]
        val = (((pred - g) / T) ** 2)[vm].mean() if vm.any() else torch.zeros(())
        loss = pol + val
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return FitResult(model, np.array(losses))


def _best_observed_return(walks: Walks, n: int) -> np.ndarray:
    """The highest return-to-go seen in the data from each node (the "high return" to ask for)."""
    mask = np.arange(walks.states.shape[1])[None, :] < walks.lengths[:, None]
    best = np.full(n, -np.inf)
    np.maximum.at(best, walks.states[mask], walks.returns_to_go[mask])
    return np.where(np.isfinite(best), best, walks.returns_to_go[mask].max())


def evaluate(policy: str, graph: RandomGraph, walks: Walks, model=None, *, slip: float = 0.0, max_steps: int = 20,
             repeats: int = 1, seed: Seed = 0) -> dict:
    """Run a policy from every start node that can reach the goal; ``policy`` is ``"dt"`` (return-
    conditioned), ``"dt-model"`` (argmax of the return head), ``"planner"`` (explicit CE),
    ``"fqi"`` (:func:`fitted_q_iteration`) or ``"oracle"`` (shortest paths on the true graph). Every
    policy learned from the walks chooses among the actions seen at its node in the walks (at a node
    the walks never visited, among all).

    Returns
    -------
    dict
        ``starts``, ``success`` (fraction of runs reaching the goal, per start), ``steps`` (mean
        steps of the successful runs, per start; ``nan`` if none) and ``shortest`` (true distances).
    """
    if policy not in ("dt", "dt-model", "planner", "fqi", "oracle"):
        raise ValueError(f"policy must be 'dt', 'dt-model', 'planner', 'fqi' or 'oracle', got {policy!r}")
    if policy.startswith("dt") and not isinstance(model, DecisionTransformer):
        raise ValueError("model must be the trained DecisionTransformer for the transformer policies")
    if not isinstance(graph, RandomGraph):
        raise TypeError(f"graph must be a RandomGraph, got {type(graph).__name__}")
    _check_walks(walks)
    slip = check_real(slip, "slip", low=0.0, high=1.0)
    max_steps = check_positive_int(max_steps, "max_steps")
    repeats = check_positive_int(repeats, "repeats")
    rng = as_rng(seed)
    n, goal, adj = graph.n, graph.goal, graph.adjacency
    dist = shortest_paths(adj, goal)
    starts = np.flatnonzero(np.isfinite(dist) & (np.arange(n) != goal))
    if starts.size == 0:
        raise ValueError("graph: no node can reach the goal")
    node = np.repeat(starts, repeats)
    B = node.size
    T = max_steps
    S = np.zeros((B, T), int)
    A = np.zeros((B, T), int)
    G = np.zeros((B, T))
    done = np.zeros(B, bool)
    steps = np.zeros(B, int)
    if policy == "planner":
        plan, _ = plan_from_data(walks, n, goal, max_steps)
    if policy == "fqi":
        plan, _ = fitted_q_iteration(walks, n, goal, max_steps)
    if policy == "oracle":
        nxt_dist = np.where(adj, dist[None, :], np.inf)
        plan = np.where(np.isfinite(nxt_dist.min(axis=1)), nxt_dist.argmin(axis=1), -1)
    target = _best_observed_return(walks, n)[node] if policy == "dt" else np.zeros(B)
    mask = np.arange(walks.states.shape[1])[None, :] < walks.lengths[:, None]
    tried = np.zeros((n, n), bool)
    tried[walks.states[mask], walks.actions[mask]] = True
    tried[~tried.any(axis=1)] = True  # a node never seen in the data: every action is a candidate
    for t in range(T):
        S[:, t] = node
        G[:, t] = target
        if policy in ("planner", "fqi", "oracle"):
            act = plan[node]
            act = np.where(act < 0, node, act)  # no plan: stay
        else:
            K = CONTEXT
            lo = t + 1 - K
            cols = np.arange(lo, t + 1)
            real = cols >= 0
            cc = np.clip(cols, 0, None)
            st = torch.as_tensor(np.where(real, S[:, cc], n))
            at = torch.as_tensor(np.where(real, A[:, cc], n))
            gt = torch.as_tensor(np.where(real, G[:, cc], 0.0), dtype=torch.float32)
            tt = torch.as_tensor(np.where(real, cols, T)).expand(B, K)
            with torch.no_grad():
                if policy == "dt":  # the action head, among the actions seen at this node
                    logits, _ = model(gt, st, at, tt, torch.zeros(B, dtype=torch.bool))
                    act = np.where(tried[node], logits[:, -1].numpy(), -np.inf).argmax(axis=1)
                else:  # score every action tried from this node in the data with the return head
                    at_c = at.repeat_interleave(n, 0).clone()
                    at_c[:, -1] = torch.arange(n).repeat(B)
                    _, pred = model(gt.repeat_interleave(n, 0), st.repeat_interleave(n, 0), at_c,
                                    tt.repeat_interleave(n, 0), torch.ones(B * n, dtype=torch.bool))
                    scores = pred[:, -1].reshape(B, n).numpy()
                    act = np.where(tried[node], scores, -np.inf).argmax(axis=1)
        A[:, t] = act
        new = _step(adj, node, act, slip, rng)
        active = ~done
        steps += active
        node = np.where(active, new, node)
        target = target + 1.0  # the return still to come after paying -1 for this step
        done = done | (node == goal)
    success = done.reshape(starts.size, repeats).mean(axis=1)
    hits = done.reshape(starts.size, repeats)
    total = np.where(done, steps, 0).reshape(starts.size, repeats).sum(axis=1)
    mean_steps = np.where(hits.any(axis=1), total / np.maximum(hits.sum(axis=1), 1), np.nan)
    return {"starts": starts, "success": success, "steps": mean_steps, "shortest": dist[starts]}


def _transition_tensor(graph: RandomGraph, slip: float) -> np.ndarray:
    n, adj = graph.n, graph.adjacency
    deg = adj.sum(axis=1)
    P = np.zeros((n, n, n))  # P[s, a, s']
    for s in range(n):
        nbrs = np.flatnonzero(adj[s])
        for a in range(n):
            target = a if adj[s, a] else s
            P[s, a, target] += 1.0 - (slip if deg[s] else 0.0)
            if deg[s] and slip > 0:
                P[s, a, nbrs] += slip / nbrs.size
    return P


def optimal_success(graph: RandomGraph, slip: float = 0.0, max_steps: int = 20) -> np.ndarray:
    """Highest probability of reaching the goal within ``max_steps`` steps from each node, on the
    true model (backward induction): the ceiling for every policy in the slippery variant."""
    P = _transition_tensor(graph, slip)
    p = np.zeros(graph.n)
    p[graph.goal] = 1.0
    for _ in range(check_positive_int(max_steps, "max_steps")):
        p = np.einsum("sat,t->sa", P, p).max(axis=1)
        p[graph.goal] = 1.0
    return p


def optimal_steps(graph: RandomGraph, slip: float = 0.0, max_steps: int = 20) -> np.ndarray:
    """Expected steps to the goal under the optimal policy on the *true* model (value iteration;
    ``inf`` where the goal cannot be reached). With ``slip = 0`` these are the BFS distances."""
    goal, adj = graph.goal, graph.adjacency
    P = _transition_tensor(graph, slip)
    dist = shortest_paths(adj, goal)
    ok = np.isfinite(dist)
    big = 1e6  # cost of entering a node from which the goal cannot be reached
    V = np.where(ok, 0.0, big)
    for _ in range(10_000):
        new = np.where(ok, 1.0 + np.einsum("sat,t->sa", P, V).min(axis=1), big)
        new[goal] = 0.0
        done = np.max(np.abs(new - V)) < 1e-10
        V = new
        if done:
            break
    return np.where(ok & (V < big / 2), V, np.inf)
