r"""Certainty equivalence with a generic learned model: an ensemble of small neural networks fitted
to the observed transitions and rewards, and model-predictive control on it (chapter:
:ref:`ch-deep-rl`).

This is the same-information opponent of the deep-RL agents: it is told no physics and no cost.
It sees what they see -- observations, actions, rewards and whether an episode ended in failure --
and nothing else:

1. **Model.** An ensemble of ``n_members`` multilayer perceptrons, each mapping an observation and
   an action to the change of the observation, the reward and (on tasks where episodes can fail)
   the log-odds of failing, :math:`(s, a) \mapsto (s' - s,\ r,\ \text{logit}\ p_{\text{end}})`.
   Each member is trained by Adam on its own bootstrap draws of the data (squared error on the
   standardized changes and rewards, cross-entropy on the endings).
2. **Planner.** At every step, the cross-entropy method searches action sequences of length
   ``horizon``: it samples ``population`` sequences, scores each by its predicted return averaged
   over the members (a sequence is rolled out under every member), refits the sampling
   distribution to the best ``n_elite`` and repeats ``iterations`` times; the first action of the
   best sequence found is applied, and the search starts the next step from the shifted plan.
3. **Data.** One episode of random actions, then episodes of the planner's own actions; the
   ensemble is refitted after every episode.

This is PETS {cite}`chua2018pets` simplified: deterministic members (PETS's output a Gaussian
each), one rollout of every sequence per member instead of PETS's propagated particles, and small
networks (two hidden layers). The variant ``reward="known"`` is told the task's reward function
(and, on CartPole, the failure rule) and learns only the dynamics.

Every group of runs is computed as one batched computation: the members of all seeds' ensembles
are stacked into one tensor, as are all seeds' planners, but each seed draws its own random
numbers (its own ``torch.Generator``), so a seed's run does not depend on which other seeds are in
the batch.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch

from .experiments import check_positive_int, check_real, check_seeds, child_seed, samples_to_target, torch_generator, torch_threads
from .gym_tasks import TASK_TARGETS, evaluation_seed, make_vector_env

__all__ = ["ModelConfig", "PlannerConfig", "Ensemble", "TASK_SPECS", "TaskSpec", "cem_plan", "mpc_runs",
           "CONFIGS", "known_reward"]


@dataclass(frozen=True)
class ModelConfig:
    """Settings of the ensemble and its fit (checked when made, however it is made)."""

    n_members: int = 5
    """Networks in the ensemble."""
    hidden: int = 32
    """Units in each of the two hidden layers."""
    fit_steps: int = 200
    """Adam steps after each episode (warm-started from the previous fit)."""
    batch_size: int = 64
    """Bootstrap draws per member and step."""
    learning_rate: float = 1e-3
    """Adam's step size."""
    weight_decay: float = 1e-5
    """L2 penalty on the weights."""

    def __post_init__(self):
        for name in ("n_members", "hidden", "fit_steps", "batch_size"):
            check_positive_int(getattr(self, name), name)
        check_real(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        check_real(self.weight_decay, "weight_decay", low=0.0)


@dataclass(frozen=True)
class PlannerConfig:
    """Settings of the cross-entropy-method planner (checked when made, however it is made)."""

    horizon: int = 25
    """Steps of each planned action sequence."""
    population: int = 200
    """Sequences sampled per iteration."""
    n_elite: int = 20
    """Best sequences the sampling distribution is refitted to (at most ``population``)."""
    iterations: int = 4
    """Refits per environment step."""
    smoothing: float = 0.1
    """Weight of the old distribution in each refit, in [0, 1)."""

    def __post_init__(self):
        for name in ("horizon", "population", "n_elite", "iterations"):
            check_positive_int(getattr(self, name), name)
        if self.n_elite > self.population:
            raise ValueError(f"n_elite ({self.n_elite}) must not exceed population ({self.population})")
        check_real(self.smoothing, "smoothing", low=0.0, high=1.0, high_open=True)


@dataclass(frozen=True)
class TaskSpec:
    """What the learned-model controller needs to know about a task's interface (not its physics)."""

    discrete: bool
    """Actions are 0 .. n-1 (True) or a box (False)."""
    action_low: float
    """Smallest action (a box) -- the interface, as for any agent."""
    action_high: float
    """Largest action (a box)."""
    can_fail: bool
    """Episodes can end before the time limit (a failure the model must predict)."""
    max_episodes: int
    """Episodes of data the controller may collect."""

    def __post_init__(self):
        for name in ("discrete", "can_fail"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        low = check_real(self.action_low, "action_low")
        if check_real(self.action_high, "action_high") <= low:
            raise ValueError(f"action_high ({self.action_high}) must exceed action_low ({self.action_low})")
        check_positive_int(self.max_episodes, "max_episodes")


TASK_SPECS = {
    "CartPole-v1": TaskSpec(True, 0.0, 1.0, True, 8),
    "Pendulum-v1": TaskSpec(False, -2.0, 2.0, False, 8),
}
"""The interface of the two tasks (action space and whether episodes can fail), as gymnasium
declares it: the same facts every RL agent is given."""


def known_reward(env_id: str) -> Callable:
    """The task's reward function, for the ``reward="known"`` variant: a function of torch tensors
    ``(obs, action, next_obs) -> (reward, p_end)``. CartPole: reward 1 per step and failure when the
    cart leaves [-2.4, 2.4] or the pole tilts past 12 degrees; Pendulum: gymnasium's cost
    :math:`-(\\theta^2 + 0.1\\dot\\theta^2 + 0.001u^2)` of the state before the step."""
    if env_id == "CartPole-v1":
        def cartpole(obs, action, nxt):
            fail = (nxt[..., 0].abs() > 2.4) | (nxt[..., 2].abs() > 12 * 2 * math.pi / 360)
            return torch.ones_like(nxt[..., 0]), fail.to(nxt.dtype)
        return cartpole
    if env_id == "Pendulum-v1":
        def pendulum(obs, action, nxt):
            th = torch.atan2(obs[..., 1], obs[..., 0])
            u = action[..., 0].clamp(-2.0, 2.0)
            return -(th ** 2 + 0.1 * obs[..., 2] ** 2 + 0.001 * u ** 2), torch.zeros_like(th)
        return pendulum
    raise ValueError(f"env_id must be one of {sorted(TASK_SPECS)}, got {env_id!r}")


# ----------------------------------------------------------------------------------------------
# The ensemble: G groups (seeds) x E members, stacked.
# ----------------------------------------------------------------------------------------------

class Ensemble:
    """``n_groups`` independent ensembles of ``config.n_members`` two-hidden-layer SiLU networks,
    with stacked weights. Group ``g`` is initialized, and draws its minibatches, with
    ``generators[g]`` only.

    Parameters
    ----------
    in_dim, out_dim : int
        Inputs (observation and action features) and outputs (change of observation, reward, and
        the failure logit where there is one).
    config : ModelConfig
    generators : list of torch.Generator
        One per group.
    """

    def __init__(self, in_dim: int, out_dim: int, config: ModelConfig, generators: Sequence[torch.Generator]):
        self.in_dim = check_positive_int(in_dim, "in_dim")
        self.out_dim = check_positive_int(out_dim, "out_dim")
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
        self.config = config
        self.generators = list(generators)
        if not self.generators or not all(isinstance(g, torch.Generator) for g in self.generators):
            raise ValueError("generators must be a non-empty list of torch.Generator, one per group")
        G, E, H = len(self.generators), config.n_members, config.hidden
        sizes = [(in_dim, H), (H, H), (H, out_dim)]
        self.weights, self.biases = [], []
        for fan_in, fan_out in sizes:
            bound = 1.0 / math.sqrt(fan_in)
            w = torch.stack([(torch.rand(E, fan_in, fan_out, generator=g) * 2 - 1) * bound for g in self.generators])
            self.weights.append(w.reshape(G * E, fan_in, fan_out).requires_grad_())
            self.biases.append(torch.zeros(G * E, 1, fan_out, requires_grad=True))
        self.params = self.weights + self.biases
        self.optimizer = torch.optim.Adam(self.params, lr=config.learning_rate, weight_decay=config.weight_decay)
        self.x_mean = torch.zeros(G, 1, in_dim)
        self.x_std = torch.ones(G, 1, in_dim)
        self.y_mean = torch.zeros(G, 1, out_dim)
        self.y_std = torch.ones(G, 1, out_dim)
        self._frozen = None

    @property
    def n_groups(self) -> int:
        return len(self.generators)

    def _net(self, z: torch.Tensor) -> torch.Tensor:
        """Raw network outputs for standardized inputs ``z`` of shape (G * E, N, in_dim)."""
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = torch.baddbmm(b, z, w)
            if i < len(self.weights) - 1:
                z = torch.nn.functional.silu(z)
        return z

    def predict(self, x: torch.Tensor, logit_columns: int = 0) -> torch.Tensor:
        """Outputs in the data's units for inputs ``x`` of shape (G, E, N, in_dim); shape (G, E, N, out_dim).
        The last ``logit_columns`` outputs are logits and are not standardized."""
        G, E, N, _ = x.shape
        z = (x - self.x_mean[:, None]) / self.x_std[:, None]
        out = self._net(z.reshape(G * E, N, self.in_dim)).reshape(G, E, N, self.out_dim)
        return out * self.y_std[:, None] + self.y_mean[:, None]

    def frozen(self, logit_columns: int = 0) -> "_Frozen":
        """The fitted networks with the standardization folded into the first and last layers and
        the first layer split into observation inputs and the (last, scalar) action input: the
        planner's fast form. Cached until the next :meth:`fit`."""
        if self._frozen is not None:
            return self._frozen
        n_inputs_first = self.in_dim - 1
        with torch.no_grad():
            E = self.config.n_members
            xm = self.x_mean.repeat_interleave(E, 0)  # (G*E, 1, in)
            xs = self.x_std.repeat_interleave(E, 0)
            w1 = self.weights[0] / xs.transpose(1, 2)  # (G*E, in, H)
            b1 = self.biases[0] - xm / xs @ self.weights[0]
            ym = self.y_mean.repeat_interleave(E, 0)
            ys = self.y_std.repeat_interleave(E, 0)
            reg = self.out_dim - logit_columns
            ys[..., reg:], ym[..., reg:] = 1.0, 0.0
            w3 = self.weights[2] * ys
            b3 = self.biases[2] * ys + ym
            self._frozen = _Frozen(w1[:, :n_inputs_first].clone(), w1[:, n_inputs_first:].clone(), b1.clone(),
                                   self.weights[1].detach().clone(), self.biases[1].detach().clone(), w3.clone(),
                                   b3.clone())
        return self._frozen

    def fit(self, X: list, Y: list, logit_columns: int = 0) -> float:
        """``config.fit_steps`` Adam steps on group ``g``'s data ``X[g]`` (n_g, in_dim) ->
        ``Y[g]`` (n_g, out_dim): each member draws its own bootstrap minibatch each step. The
        last ``logit_columns`` columns of ``Y`` are 0/1 labels fitted by cross-entropy. Returns
        the last step's loss."""
        G, E, B = self.n_groups, self.config.n_members, self.config.batch_size
        if len(X) != G or len(Y) != G:
            raise ValueError(f"X and Y need one array per group ({G}), got {len(X)} and {len(Y)}")
        Xt = [torch.as_tensor(np.asarray(x), dtype=torch.float32) for x in X]
        Yt = [torch.as_tensor(np.asarray(y), dtype=torch.float32) for y in Y]
        reg = self.out_dim - logit_columns
        for g in range(G):  # standardize with each group's own data (logit columns untouched)
            self.x_mean[g, 0] = Xt[g].mean(0)
            self.x_std[g, 0] = Xt[g].std(0, unbiased=False).clamp_min(1e-6)
            self.y_mean[g, 0, :reg] = Yt[g][:, :reg].mean(0)
            self.y_std[g, 0, :reg] = Yt[g][:, :reg].std(0, unbiased=False).clamp_min(1e-6)
        self._frozen = None
        self._logit_columns = logit_columns
        pos_weight = torch.ones(G, 1)
        if logit_columns:
            rate = torch.stack([y[:, reg:].mean(0) for y in Yt])  # (G, logit_columns)
            pos_weight = ((1 - rate) / rate.clamp_min(1e-3)).clamp_min(1.0)
        loss = torch.tensor(0.0)
        for _ in range(self.config.fit_steps):
            xb, yb = [], []
            for g in range(G):
                idx = torch.randint(len(Xt[g]), (E, B), generator=self.generators[g])
                xb.append(Xt[g][idx])
                yb.append(Yt[g][idx])
            xb, yb = torch.stack(xb), torch.stack(yb)  # (G, E, B, dim)
            z = (xb - self.x_mean[:, None]) / self.x_std[:, None]
            target = (yb - self.y_mean[:, None]) / self.y_std[:, None]
            out = self._net(z.reshape(G * E, B, self.in_dim)).reshape(G, E, B, self.out_dim)
            # mean over groups, summed over the members so that each member's step does not depend on E or G
            loss = ((out[..., :reg] - target[..., :reg]) ** 2).mean(dim=(2, 3)).sum()
            if logit_columns:  # rare failures weighted up to balance the two classes in each group
                labels = yb[..., reg:]
                weight = 1 + (pos_weight[:, None, None] - 1) * labels
                loss = loss + (weight * torch.nn.functional.binary_cross_entropy_with_logits(
                    out[..., reg:], labels, reduction="none")).mean(dim=(2, 3)).sum()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return float(loss.detach()) / (G * E)


# ----------------------------------------------------------------------------------------------
# The planner
# ----------------------------------------------------------------------------------------------

class _Frozen(NamedTuple):
    """Fitted networks in the data's units, stacked (G * E, ...), for fast prediction."""

    w1s: torch.Tensor  # (G*E, obs_dim, H) first layer, observation inputs
    w1a: torch.Tensor  # (G*E, 1, H) first layer, action input
    b1: torch.Tensor  # (G*E, 1, H)
    w2: torch.Tensor
    b2: torch.Tensor
    w3: torch.Tensor
    b3: torch.Tensor

    def select(self, groups, n_members: int) -> "_Frozen":
        """The networks of some groups only, in the order given."""
        idx = torch.tensor([g * n_members + e for g in groups for e in range(n_members)])
        return _Frozen(*(t.index_select(0, idx) for t in self))

    def __call__(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Outputs for observations ``s`` (G*E, N, obs_dim) and scalar action features ``a`` (G*E, N)."""
        z = torch.baddbmm(self.b1, s, self.w1s).addcmul_(a[..., None], self.w1a)
        z = torch.baddbmm(self.b2, torch.nn.functional.silu(z), self.w2)
        return torch.baddbmm(self.b3, torch.nn.functional.silu(z), self.w3)


def _features(spec: TaskSpec, actions: torch.Tensor) -> torch.Tensor:
    """Model input for actions: CartPole's 0/1 as -1/+1, a box action as it is (same shape)."""
    return 2.0 * actions - 1.0 if spec.discrete else actions


def _rollout_returns(net: "_Frozen", E: int, spec: TaskSpec, obs: torch.Tensor, seqs: torch.Tensor,
                     reward_fn: Callable | None) -> torch.Tensor:
    """Predicted return of every sequence, each rolled out under one member of its group's ensemble
    (sequence ``p`` under member ``p mod E``: the members share the population evenly).

    obs: (G, K, obs_dim); seqs: (G, K, P, H) actions, P a multiple of E. Returns (G, K, P)."""
    G, K, P, H = seqs.shape
    d = obs.shape[-1]
    n = K * (P // E)
    # (G, K, P/E, E, H) -> (G*E, K * P/E, H): sequence p = j * E + e goes to member e
    per_member = _features(spec, seqs.reshape(G, K, P // E, E, H).permute(0, 3, 1, 2, 4).reshape(G * E, n, H))
    s = obs[:, None, :, None, :].expand(G, E, K, P // E, d).reshape(G * E, n, d)
    alive = None
    total = torch.zeros(G * E, n)
    logits = spec.can_fail and reward_fn is None
    for t in range(H):
        a = per_member[..., t]
        out = net(s, a)
        nxt = s + out[..., :d]
        if reward_fn is None:
            r = out[..., d]
            p_end = torch.sigmoid(out[..., d + 1]) if logits else None
        else:
            r, p_end = reward_fn(s, a[..., None], nxt)
        total = total + (r if alive is None else alive * r)
        if p_end is not None:
            alive = (1 - p_end) if alive is None else alive * (1 - p_end)
        s = nxt
    return total.reshape(G, E, K, P // E).permute(0, 2, 3, 1).reshape(G, K, P)


def cem_plan(model, spec: TaskSpec, obs: torch.Tensor, mean: torch.Tensor, config: PlannerConfig,
             generators: Sequence[torch.Generator], reward_fn: Callable | None = None, groups=None):
    """One step of the cross-entropy method for every group and episode.

    Parameters
    ----------
    model : Ensemble or callable
        The fitted models, one group per seed; or any model ``model(s, a) -> outputs`` acting on
        observations (G, N, obs_dim) and action features (G, N), with the same outputs as the
        ensemble's (change of observation, reward, failure logit where episodes can fail) -- a
        known model, for instance.
    spec : TaskSpec
    obs : torch.Tensor, shape (G, K, obs_dim)
        Current observations (K episodes per group).
    mean : torch.Tensor, shape (G, K, H)
        The plan to start from: action means (box) or probabilities of action 1 (discrete).
    config : PlannerConfig
    generators : list of torch.Generator
        One per group: the group's sampling noise.
    reward_fn : callable, optional
        A known reward (see :func:`known_reward`); ``None`` uses the learned one.
    groups : list of int, optional
        Plan with these groups of ``ens`` only (``obs``, ``mean`` and ``generators`` then have one
        entry per listed group); default: all.

    Returns
    -------
    action : torch.Tensor, shape (G, K)
        The first action of the final distribution's mean (box actions, as in PETS) or of the best
        sequence found (0/1 actions).
    plan : torch.Tensor, shape (G, K, H)
        The final sampling distribution's mean (to shift and reuse at the next step).
    """
    if not isinstance(config, PlannerConfig):
        raise TypeError(f"config must be a PlannerConfig, got {type(config).__name__}")
    if not isinstance(spec, TaskSpec):
        raise TypeError(f"spec must be a TaskSpec, got {type(spec).__name__}")
    if not (isinstance(obs, torch.Tensor) and isinstance(mean, torch.Tensor)):
        raise TypeError(f"obs and mean must be torch tensors, got {type(obs).__name__} and {type(mean).__name__}")
    if obs.ndim != 3 or mean.ndim != 3 or mean.shape[:2] != obs.shape[:2] or mean.shape[2] != config.horizon:
        raise ValueError(f"obs must have shape (G, K, obs_dim) and mean (G, K, horizon={config.horizon}); "
                         f"got {tuple(obs.shape)} and {tuple(mean.shape)}")
    G, K, H = mean.shape
    P, n_elite, a = config.population, config.n_elite, config.smoothing
    width = (spec.action_high - spec.action_low) / 2
    std = torch.full_like(mean, width)
    best_val = torch.full((G, K), -torch.inf)
    best_act = torch.zeros(G, K)
    draw = torch.rand if spec.discrete else torch.randn
    noise = torch.stack([draw(config.iterations, K, P, H, generator=g) for g in generators])  # (G, I, K, P, H)
    if isinstance(model, Ensemble):
        net, n_members = model.frozen(getattr(model, "_logit_columns", 0)), model.config.n_members
        if groups is not None:
            net = net.select(groups, n_members)
    elif callable(model):
        if groups is not None:
            raise ValueError("groups: only an Ensemble has groups to choose from")
        net, n_members = model, 1
    else:
        raise TypeError(f"model must be an Ensemble or a callable, got {type(model).__name__}")
    if config.population % n_members:
        raise ValueError(f"config: population ({config.population}) must be a multiple of the members ({n_members})")
    if len(generators) != G:
        raise ValueError(f"generators: need one per planned group ({G}), got {len(generators)}")
    for i in range(config.iterations):
        if spec.discrete:
            seqs = (noise[:, i] < mean[:, :, None]).float()
        else:
            seqs = (mean[:, :, None] + std[:, :, None] * noise[:, i]).clamp(spec.action_low, spec.action_high)
        values = _rollout_returns(net, n_members, spec, obs, seqs, reward_fn)
        top = values.topk(n_elite, dim=-1).indices
        elite = torch.gather(seqs, 2, top[..., None].expand(G, K, n_elite, H))
        better = values.max(-1).values > best_val
        best_val = torch.where(better, values.max(-1).values, best_val)
        best_act = torch.where(better, elite[:, :, 0, 0], best_act)
        mean = a * mean + (1 - a) * elite.mean(2)
        if not spec.discrete:
            std = a * std + (1 - a) * elite.std(2, unbiased=False)
    # Box actions: the first action of the final mean (as PETS); 0/1 actions: of the best sequence.
    return (best_act if spec.discrete else mean[..., 0]), mean


# ----------------------------------------------------------------------------------------------
# Runs: collect, refit, evaluate -- every seed of a list at once.
# ----------------------------------------------------------------------------------------------

CONFIGS = {
    "CartPole-v1": PlannerConfig(horizon=25, population=50, n_elite=5, iterations=3),
    "Pendulum-v1": PlannerConfig(horizon=20, population=50, n_elite=5, iterations=3),
}
"""The planner's settings on each task."""


class _Controller:
    """MPC with the ensemble: acts for K episodes of each of G seeds at once."""

    def __init__(self, ens, spec, planner, gens, reward_fn, K, groups):
        self.ens, self.spec, self.planner, self.reward_fn, self.groups = ens, spec, planner, reward_fn, groups
        self.gens = [gens[g] for g in groups]
        G, H = len(groups), planner.horizon
        self.init = 0.5 if spec.discrete else (spec.action_low + spec.action_high) / 2
        self.plan = torch.full((G, K, H), self.init)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            act, plan = cem_plan(self.ens, self.spec, torch.as_tensor(obs, dtype=torch.float32), self.plan,
                                 self.planner, self.gens, self.reward_fn, self.groups)
        self.plan = torch.cat([plan[..., 1:], torch.full_like(plan[..., :1], self.init)], -1)
        return act.numpy()


def _episodes(env_id, seeds_per_group, policy, K, *, random_actions: bool = False):
    """Run K episodes for each group side by side (episode k of group g starts from
    ``reset(seed=seeds_per_group[g] + k)``), with ``policy`` or, if ``random_actions``, uniformly
    random actions seeded the same way; returns per group a list of transitions
    (obs, action, reward, next_obs, failed) and the episodes' returns (G, K)."""
    G = len(seeds_per_group)
    envs = make_vector_env(env_id, G * K)
    flat_seeds = [s + k for s in seeds_per_group for k in range(K)]
    obs, _ = envs.reset(seed=flat_seeds)
    if random_actions:
        for i, s in enumerate(flat_seeds):
            envs.envs[i].action_space.seed(s)
    discrete = hasattr(envs.single_action_space, "n")
    done = np.zeros(G * K, dtype=bool)
    returns = np.zeros(G * K)
    data = [[] for _ in range(G)]
    try:
        while not done.all():
            if random_actions:
                action = np.array([e.action_space.sample() for e in envs.envs])
            else:
                action = np.asarray(policy(obs.reshape(G, K, -1))).reshape(G * K)
            action = action.astype(np.int64) if discrete else action.reshape(G * K, 1).astype(np.float32)
            nxt, r, term, trunc, info = envs.step(action)
            real_next = nxt.copy()
            ended = term | trunc
            if ended.any() and "final_obs" in info:
                for i in np.flatnonzero(ended):
                    real_next[i] = info["final_obs"][i]
            for i in np.flatnonzero(~done):
                data[i // K].append((obs[i].copy(), np.atleast_1d(action[i]).astype(float), float(r[i]),
                                     real_next[i].copy(), float(term[i])))
            returns += np.where(done, 0.0, r)
            done |= ended
            obs = nxt
    finally:
        envs.close()
    return data, returns.reshape(G, K)


def _arrays(spec, transitions):
    O = np.array([t[0] for t in transitions])
    A = np.array([t[1] for t in transitions])
    R = np.array([t[2] for t in transitions])
    O2 = np.array([t[3] for t in transitions])
    F = np.array([t[4] for t in transitions])
    af = (2 * A - 1) if spec.discrete else A
    X = np.concatenate([O, af], 1)
    Y = np.concatenate([O2 - O, R[:, None]] + ([F[:, None]] if spec.can_fail else []), 1)
    return X, Y


def mpc_runs(env_id: str, seeds: Sequence[int], *, reward: str = "learned", model: ModelConfig = ModelConfig(),
              planner: PlannerConfig | None = None, n_episodes: int | None = None,
              stop_at_target: bool = True, n_threads: int | None = 2) -> list[dict]:
    """Learned-model CE on ``env_id`` for every seed of ``seeds`` at once (one batched computation).

    Seed ``s`` collects its first episode with random actions (``reset(seed=s)``, actions seeded
    with ``s``), then plans; episode ``i`` starts from ``reset(seed=s + 7919 * i)``. After every
    episode the ensemble is refitted and the planner is evaluated on the task's episodes of
    :func:`ce_lib.gym_tasks.evaluation_seed` ``(s)`` -- the same starts as every other method of
    seed ``s`` -- and scored as :func:`ce_lib.gym_tasks.evaluate` scores a policy.

    Parameters
    ----------
    env_id : str
        ``"CartPole-v1"`` or ``"Pendulum-v1"``.
    seeds : sequence of int
        Non-negative, distinct.
    reward : {"learned", "known"} or callable
        Learn the reward (and failures) from data, or be told the task's reward function
        (:func:`known_reward`), or plan with your own ``reward(obs, action, next_obs) -> (reward,
        p_end)`` on torch tensors (a cost you choose, say).
    model, planner : ModelConfig, PlannerConfig
        Settings (planner: :data:`CONFIGS` of the task by default).
    n_episodes : int, optional
        Episodes of data at most (default: the task's ``max_episodes``).
    stop_at_target : bool
        Stop a seed once its target is met and held (:data:`ce_lib.gym_tasks.GYM_HOLD`).
    n_threads : int or None
        torch threads for the batch (fixed, so that results do not depend on the machine's cores;
        ``None``: torch's current setting).

    Returns
    -------
    list of dict
        Per seed: ``eval_steps`` (transitions collected at each evaluation), ``eval_scores``,
        ``hit`` (transitions to the target, held; ``inf`` if not reached), ``first_hit`` (the first
        evaluation that met the target, held or not), ``unconfirmed`` (true when the target was met
        but the run ran out of episodes before the hold rule could confirm it: ``hit`` is then
        ``inf`` although a score reached the target), ``seconds`` (wall-clock of the batch divided by
        the number of seeds).
    """
    with torch_threads(n_threads):
        return _mpc_runs(env_id, seeds, reward=reward, model=model, planner=planner, n_episodes=n_episodes,
                          stop_at_target=stop_at_target)


def _mpc_runs(env_id, seeds, *, reward, model, planner, n_episodes, stop_at_target):
    from .gym_tasks import GYM_HOLD as HOLD

    if env_id not in TASK_SPECS:
        raise ValueError(f"env_id must be one of {sorted(TASK_SPECS)}, got {env_id!r}")
    if not callable(reward) and reward not in ("learned", "known"):
        raise ValueError(f"reward must be 'learned', 'known' or a reward function, got {reward!r}")
    if not isinstance(model, ModelConfig):
        raise TypeError(f"model must be a ModelConfig, got {type(model).__name__}")
    planner = CONFIGS[env_id] if planner is None else planner
    if not isinstance(planner, PlannerConfig):
        raise TypeError(f"planner must be a PlannerConfig, got {type(planner).__name__}")
    seeds = check_seeds(seeds)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    spec = TASK_SPECS[env_id]
    n_episodes = spec.max_episodes if n_episodes is None else check_positive_int(n_episodes, "n_episodes")
    target = TASK_TARGETS[env_id]
    reward_fn = reward if callable(reward) else known_reward(env_id) if reward == "known" else None
    start = time.perf_counter()
    gens = [torch_generator(int(s)) for s in seeds]
    # The planners' streams come from the seed's own child, not from seed + 1 (the next seed's ensemble stream).
    plan_gens = [torch_generator(child_seed(int(s), 1))
                 for s in seeds]
    probe = make_vector_env(env_id, 1)
    obs_dim = probe.single_observation_space.shape[0]
    probe.close()
    out_dim = obs_dim + 1 + (1 if spec.can_fail else 0)
    ens = Ensemble(obs_dim + 1, out_dim, model, gens)
    data = [[] for _ in seeds]
    evals = [[] for _ in seeds]
    G = len(seeds)
    active = list(range(G))  # seeds that have not yet held their target
    for episode in range(n_episodes):
        ep_seeds = [seeds[g] + 7919 * episode for g in active]
        if episode == 0:
            new, _ = _episodes(env_id, ep_seeds, None, 1, random_actions=True)
        else:
            new, _ = _episodes(env_id, ep_seeds, _Controller(ens, spec, planner, plan_gens, reward_fn, 1, active), 1)
        for j, g in enumerate(active):
            data[g] += new[j]
        # Every group is refitted (those that are done too), so a seed's model never depends on the others.
        arrays = [_arrays(spec, d) for d in data]
        ens.fit([a[0] for a in arrays], [a[1] for a in arrays], 1 if spec.can_fail else 0)
        ctrl = _Controller(ens, spec, planner, plan_gens, reward_fn, target.n_eval, active)
        _, returns = _episodes(env_id, [evaluation_seed(seeds[g]) for g in active], ctrl, target.n_eval)
        for j, g in enumerate(active):
            score = returns[j].min() if target.score == "min" else returns[j].mean()
            evals[g].append((len(data[g]), float(score)))
        if stop_at_target:
            active = [g for g in active if not _held(evals[g], target.target, HOLD)]
            if not active:
                break
    seconds = (time.perf_counter() - start) / len(seeds)
    out = []
    for g in range(len(seeds)):
        steps, scores = np.array(evals[g], dtype=float).T
        hit = float(samples_to_target(steps, scores, target.target, direction="above", hold=HOLD))
        met = np.flatnonzero(scores >= target.target)
        first = float(steps[met[0]]) if met.size else np.inf
        out.append({"eval_steps": steps.tolist(), "eval_scores": scores.tolist(), "hit": hit, "first_hit": first,
                    "unconfirmed": bool(np.isfinite(first) and not np.isfinite(hit)), "seconds": seconds})
    return out


def _held(evals, target, hold) -> bool:
    steps, scores = np.array(evals, dtype=float).T
    return bool(np.isfinite(samples_to_target(steps, scores, target, direction="above", hold=hold)))

