r"""Proximal policy optimization, built from first principles (the PPO chapter, :ref:`ch-ppo`).

One readable story, top to bottom: hyperparameters, the actor-critic network, rollout collection
with gymnasium vector environments under a frozen copy of the policy, generalized advantage
estimation, the clipped surrogate objective with a value loss and an entropy bonus, minibatch
epochs with gradient clipping and an optional KL early stop.

The pieces that carry the mathematics are small functions with tests: :func:`gae`,
:func:`clipped_surrogate`, :func:`value_loss`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
from torch import nn

from .experiments import Seed, check_positive_int, check_real, seed_int, torch_generator
from .gym_tasks import make_vector_env

__all__ = [
    "PPOConfig", "ActorCritic", "gae", "clipped_surrogate", "value_loss", "TrainResult", "train",
]


@dataclass(frozen=True)
class PPOConfig:
    """Hyperparameters of :func:`train` (defaults: the rl-baselines3-zoo settings for CartPole-v1)."""

    n_envs: int = 8
    """Environments stepped in parallel (one gymnasium SyncVectorEnv)."""
    n_steps: int = 32
    """Steps per environment in each rollout; a batch holds ``n_envs * n_steps`` transitions."""
    gamma: float = 0.98
    """Discount factor."""
    gae_lambda: float = 0.8
    """GAE's lambda: 0 is one-step TD advantages, 1 is Monte Carlo returns minus the baseline."""
    n_epochs: int = 20
    """Passes over each batch."""
    minibatch_size: int = 256
    """Transitions per gradient step."""
    learning_rate: float = 1e-3
    """Adam's step size at the start (decayed linearly to 0 when ``anneal`` is true)."""
    clip: float = 0.2
    """Clip range epsilon of the probability ratio (decayed like the learning rate when ``anneal``)."""
    anneal: bool = True
    """Decay the learning rate and the clip range linearly to 0 over training."""
    vf_coef: float = 0.5
    """Weight of the value loss (a mean squared error, as in stable-baselines3)."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus at the start (decayed linearly when ``anneal``)."""
    max_grad_norm: float = 0.5
    """Gradient clipping threshold (global norm)."""
    target_kl: float | None = None
    """Stop the epochs of a batch early once the approximate KL exceeds this (None: never)."""
    normalize_advantages: bool = True
    """Normalize advantages to zero mean and unit variance within each minibatch."""
    use_critic: bool = True
    """Use the learned value function as the baseline (False: advantages are plain returns)."""
    hidden: tuple = (64, 64)
    """Sizes of the hidden layers of the actor and of the critic (separate networks)."""

    def __post_init__(self):
        for name in ("n_envs", "n_steps", "n_epochs", "minibatch_size"):
            check_positive_int(getattr(self, name), name)
        for name in ("gamma", "gae_lambda"):
            check_real(getattr(self, name), name, low=0.0, high=1.0)
        for name in ("learning_rate", "clip", "max_grad_norm"):
            check_real(getattr(self, name), name, low=0.0, low_open=True)
        for name in ("vf_coef", "ent_coef"):
            check_real(getattr(self, name), name, low=0.0)
        if self.target_kl is not None:
            check_real(self.target_kl, "target_kl", low=0.0, low_open=True)
        for name in ("anneal", "normalize_advantages", "use_critic"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.hidden, tuple):
            raise TypeError(f"hidden must be a tuple of layer sizes, got {self.hidden!r}")
        for h in self.hidden:
            check_positive_int(h, "hidden (each layer size)")


def gae(rewards, values, dones, last_values, gamma: float, lam: float):
    r"""Generalized advantage estimation (Schulman et al. 2016), computed backwards in time.

    .. math::
        \delta_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t), \qquad
        A_t = \delta_t + \gamma\lambda (1 - d_t) A_{t+1},

    where :math:`d_t = 1` if the episode ended at step :math:`t` (the next state's value is then
    not bootstrapped).

    Parameters
    ----------
    rewards, values, dones : array_like, shape (T, N)
        Per step and environment; ``values`` are the critic's :math:`V(s_t)`.
    last_values : array_like, shape (N,)
        :math:`V(s_T)`, the value of the state after the last step.

    Returns
    -------
    (advantages, returns) : arrays of shape (T, N); ``returns = advantages + values``.
    """
    from .experiments import check_finite_array

    r = check_finite_array(rewards, "rewards")
    v = check_finite_array(values, "values")
    d = check_finite_array(dones, "dones")
    if r.shape != v.shape or r.shape != d.shape or r.ndim != 2:
        raise ValueError(f"rewards, values and dones must have the same shape (T, N); got {r.shape}, {v.shape}, {d.shape}")
    if not np.all((d == 0) | (d == 1)):
        raise ValueError("dones must hold 0 (the episode goes on) or 1 (it ended) only")
    nxt = check_finite_array(last_values, "last_values")
    if nxt.shape != r.shape[1:]:
        raise ValueError(f"last_values must have shape ({r.shape[1]},), got {nxt.shape}")
    gamma = check_real(gamma, "gamma", low=0.0, high=1.0)
    lam = check_real(lam, "lam", low=0.0, high=1.0)
    adv = np.zeros_like(r)
    running = np.zeros(r.shape[1])
    for t in range(r.shape[0] - 1, -1, -1):
        delta = r[t] + gamma * (1 - d[t]) * nxt - v[t]
        running = delta + gamma * lam * (1 - d[t]) * running
        adv[t] = running
        nxt = v[t]
    return adv, adv + v


def clipped_surrogate(new_logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip: float):
    r"""PPO's clipped surrogate loss (to minimize), :math:`-\mathbb{E}\min(\rho A, \operatorname{clip}(\rho, 1-\epsilon, 1+\epsilon) A)`.

    :math:`\rho = \pi_\theta(a \mid s) / \pi_{\theta_\text{old}}(a \mid s)`. Where the ratio has moved
    past the clip range in the direction the advantage favours, the minimum picks the clipped,
    constant term and the sample's gradient is exactly zero: the update stops pushing.
    """
    clip = check_real(clip, "clip", low=0.0, low_open=True)
    for name, t in (("new_logp", new_logp), ("old_logp", old_logp), ("advantages", advantages)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not (new_logp.shape == old_logp.shape == advantages.shape):
        raise ValueError(f"new_logp, old_logp and advantages must have one shape, got {tuple(new_logp.shape)}, "
                         f"{tuple(old_logp.shape)}, {tuple(advantages.shape)}")
    ratio = torch.exp(new_logp - old_logp)
    return -torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip, 1 + clip) * advantages).mean()


def value_loss(values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    r"""The critic's loss, the mean squared error :math:`\mathbb{E}(V(s) - \hat R)^2`.

    Without the factor 1/2 some implementations use, so that ``vf_coef`` means what it means in
    stable-baselines3, whose tuned values (rl-baselines3-zoo) the defaults copy.
    """
    return ((values - returns) ** 2).mean()


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs (tanh); a categorical policy for discrete actions, a Gaussian
    with a state-independent log standard deviation for continuous ones."""

    def __init__(self, obs_dim: int, action_space, hidden=(64, 64)):
        super().__init__()
        from gymnasium import spaces

        def mlp(out, gain):
            layers, d = [], obs_dim
            for h in hidden:
                lin = nn.Linear(d, h)
                nn.init.orthogonal_(lin.weight, np.sqrt(2))
                nn.init.zeros_(lin.bias)
                layers += [lin, nn.Tanh()]
                d = h
            last = nn.Linear(d, out)
            nn.init.orthogonal_(last.weight, gain)
            nn.init.zeros_(last.bias)
            return nn.Sequential(*layers, last)

        if isinstance(action_space, spaces.Discrete):
            self.discrete = True
            self.actor = mlp(int(action_space.n), 0.01)
        elif isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
            self.discrete = False
            self.actor = mlp(action_space.shape[0], 0.01)
            self.log_std = nn.Parameter(torch.zeros(action_space.shape[0]))
        else:
            raise ValueError(f"action space must be Discrete or a 1-d Box, got {action_space}")
        self.critic = mlp(1, 1.0)

    def dist(self, obs: torch.Tensor):
        """The policy's action distribution at ``obs``."""
        out = self.actor(obs)
        if self.discrete:
            return torch.distributions.Categorical(logits=out, validate_args=False)  # inputs are ours: skip checks
        return torch.distributions.Normal(out, self.log_std.exp(), validate_args=False)

    def log_prob(self, dist, actions):
        """Log-probability of ``actions`` (summed over action dimensions for a Gaussian)."""
        lp = dist.log_prob(actions)
        return lp if self.discrete else lp.sum(-1)

    def entropy(self, dist):
        """Entropy of the distribution (summed over action dimensions for a Gaussian)."""
        e = dist.entropy()
        return e if self.discrete else e.sum(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """The critic's :math:`V(s)`."""
        return self.critic(obs).squeeze(-1)


class TrainResult(NamedTuple):
    """Output of :func:`train`."""

    steps: np.ndarray  # environment steps at the end of each finished episode
    returns: np.ndarray  # that episode's undiscounted return
    model: Any  # the trained ActorCritic


def train(env_id: str, total_timesteps: int, seed: Seed = 0, config: PPOConfig = PPOConfig(),
          callback: Callable[[TrainResult, int], bool] | None = None,
          schedule_timesteps: int | None = None) -> TrainResult:
    """Train PPO on a gymnasium environment; returns the learning curve and the policy.

    Rollouts are collected by the parameters frozen at the start of each batch (their
    log-probabilities are stored); the minibatch epochs then move the current parameters, and the
    ratio of the two policies is what the clipped objective controls. All randomness comes from
    ``seed``; torch's global random state is restored on return.

    Parameters
    ----------
    env_id : str
        A gymnasium environment id with a ``Discrete`` or 1-d ``Box`` action space.
    total_timesteps : int
        Environment steps in all (rounded down to whole batches of ``n_envs * n_steps``, at least one).
    seed : int
        Seeds the environments, the network's initialization and the action sampling (a
        non-negative integer: torch and gymnasium take integers).
    config : PPOConfig
        Hyperparameters.
    callback : callable, optional
        Called after each update with the :class:`TrainResult` so far (its episodes and the current
        model) and the number of environment steps taken, ``callback(result, steps)``; returning
        true stops training (used to evaluate the greedy policy at checkpoints and stop at a target).
    schedule_timesteps : int, optional
        Steps over which the learning rate, clip range and entropy weight decay to 0 when
        ``config.anneal`` (default ``total_timesteps``); beyond them the policy stays fixed while
        rollouts continue (used to check that a policy keeps its level after the budget).

    Examples
    --------
    >>> from ce_lib.ppo import train
    >>> result = train('CartPole-v1', total_timesteps=2048, seed=0)
    >>> len(result.returns), round(float(result.returns[-5:].mean()), 1)  # episodes, mean of the last 5
    (82, 24.0)
    """
    if schedule_timesteps is not None:
        schedule_timesteps = check_positive_int(schedule_timesteps, "schedule_timesteps")
    seed = seed_int(seed)
    total_timesteps = check_positive_int(total_timesteps, "total_timesteps")
    if not isinstance(config, PPOConfig):
        raise TypeError(f"config must be a PPOConfig, got {type(config).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    with torch.random.fork_rng():
        return _train(env_id, total_timesteps, seed, config, callback, schedule_timesteps)


def _train(env_id, total_timesteps, seed, config, callback=None, schedule_timesteps=None):
    envs = make_vector_env(env_id, config.n_envs)
    torch.manual_seed(seed)
    rng_actions = torch_generator(seed)
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    model = ActorCritic(obs_dim, envs.single_action_space, config.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=config.learning_rate, eps=1e-5, fused=True)
    N, T = config.n_envs, config.n_steps
    obs, _ = envs.reset(seed=seed)
    envs.action_space.seed(seed)
    ep_ret = np.zeros(N)
    curve_steps, curve_returns = [], []
    steps_done = 0
    n_updates = max(1, total_timesteps // (N * T))
    n_schedule = n_updates if schedule_timesteps is None else max(1, schedule_timesteps // (N * T))
    for update in range(n_updates):
        frac = max(0.0, 1.0 - update / n_schedule) if config.anneal else 1.0
        for g in opt.param_groups:
            g["lr"] = config.learning_rate * frac
        clip = config.clip * frac if config.anneal else config.clip
        buf_obs = np.zeros((T, N, obs_dim), dtype=np.float32)
        buf_act, buf_logp, buf_val = [], np.zeros((T, N)), np.zeros((T, N))
        buf_rew, buf_done = np.zeros((T, N)), np.zeros((T, N))
        for t in range(T):
            o = torch.as_tensor(obs, dtype=torch.float32).reshape(N, obs_dim)
            with torch.no_grad():  # the frozen policy acts
                dist = model.dist(o)
                a = dist.sample()
                buf_logp[t] = model.log_prob(dist, a).numpy()
                buf_val[t] = model.value(o).numpy()
            act = a.numpy()
            if not model.discrete:
                act = np.clip(act, envs.single_action_space.low, envs.single_action_space.high)
            obs, r, term, trunc, info = envs.step(act)
            buf_obs[t], buf_rew[t] = o.numpy(), r
            buf_act.append(a)
            done = np.logical_or(term, trunc)
            # A truncated episode did not end: bootstrap its value into the last reward.
            if np.any(trunc & ~term) and "final_obs" in info:
                for i in np.flatnonzero(trunc & ~term):
                    fo = torch.as_tensor(np.asarray(info["final_obs"][i], dtype=np.float32)).reshape(1, obs_dim)
                    with torch.no_grad():
                        buf_rew[t, i] += config.gamma * float(model.value(fo))
            buf_done[t] = done
            ep_ret += r
            steps_done += N
            for i in np.flatnonzero(done):
                curve_steps.append(steps_done)
                curve_returns.append(ep_ret[i])
                ep_ret[i] = 0.0
        with torch.no_grad():
            last_v = model.value(torch.as_tensor(obs, dtype=torch.float32).reshape(N, obs_dim)).numpy()
        values = buf_val if config.use_critic else np.zeros_like(buf_val)
        adv, ret = gae(buf_rew, values, buf_done, last_v if config.use_critic else np.zeros(N),
                       config.gamma, config.gae_lambda)
        b_obs = torch.as_tensor(buf_obs.reshape(T * N, obs_dim))
        b_act = torch.stack(buf_act).reshape(T * N, *buf_act[0].shape[1:])
        b_logp = torch.as_tensor(buf_logp.reshape(-1), dtype=torch.float32)
        b_adv = torch.as_tensor(adv.reshape(-1), dtype=torch.float32)
        b_ret = torch.as_tensor(ret.reshape(-1), dtype=torch.float32)
        stop = frac == 0.0  # past the end of the schedule: the policy is frozen, nothing to learn
        for _ in range(0 if stop else config.n_epochs):
            perm = torch.randperm(T * N, generator=rng_actions)
            for start in range(0, T * N, config.minibatch_size):
                idx = perm[start:start + config.minibatch_size]
                dist = model.dist(b_obs[idx])
                new_logp = model.log_prob(dist, b_act[idx])
                mb_adv = b_adv[idx]
                if config.normalize_advantages and idx.numel() > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                loss = clipped_surrogate(new_logp, b_logp[idx], mb_adv, clip)
                if config.use_critic:
                    loss = loss + config.vf_coef * value_loss(model.value(b_obs[idx]), b_ret[idx])
                loss = loss - config.ent_coef * frac * model.entropy(dist).mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                opt.step()
                if config.target_kl is not None:
                    with torch.no_grad():
                        log_ratio = new_logp - b_logp[idx]
                        approx_kl = float(((log_ratio.exp() - 1) - log_ratio).mean())
                    if approx_kl > config.target_kl:
                        stop = True
                        break
            if stop:
                break
        if callback is not None and callback(TrainResult(np.array(curve_steps), np.array(curve_returns), model),
                                             steps_done):
            break
    envs.close()
    return TrainResult(np.array(curve_steps), np.array(curve_returns), model)
