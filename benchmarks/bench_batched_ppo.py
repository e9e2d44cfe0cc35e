"""PPO for many seeds as one stacked computation: does it give each seed today's run, and how much faster is it?

A sketch of the seed-batched trainer, measured before it is built into ce_lib (CartPole's discrete
actions, the zoo's settings, no KL early stop, no evaluations): S actor-critics with stacked weights
(torch.baddbmm), all seeds' environments stepped in one loop, each seed's action sampling and
minibatch order from its own generators. It runs seeds 0 .. S-1 batched, then one after another
with ce_lib.ppo.train, and prints whether every seed's learning curve and actor weights are equal bit
for bit, and the speed-up. Three things had to match today's trainer exactly, in the reproducible
numerical mode:

- sampling: each seed's torch generator continues the global stream that today's train samples
  from after initializing its networks;
- one-output layers (the critic's head): F.linear takes a matrix-vector path whose sums differ from a
  batched product's, so those run per seed;
- fused Adam handles the elements past a tensor's last full vector on a scalar path that rounds
  differently, so a parameter whose size is not a multiple of 64 (the heads' biases) is kept as
  separate per-seed tensors.

Usage: python benchmarks/bench_batched_ppo.py [steps] [seeds]   (default 10240 steps, 20 seeds)
"""
import sys
import time

import ce_lib  # noqa: F401  (pins the arithmetic)
import numpy as np
import torch
from torch import nn

from ce_lib.gym_tasks import make_vector_env
from ce_lib.ppo import ActorCritic, PPOConfig, gae, train

torch.set_num_threads(1)


def stack_model(seeds, obs_dim, space, hidden):
    models, gens = [], []
    for s in seeds:
        with torch.random.fork_rng():
            torch.manual_seed(s)
            m = ActorCritic(obs_dim, space, hidden)
            g = torch.Generator()
            g.set_state(torch.get_rng_state())  # today's train samples from the global stream after init
        models.append(m)
        gens.append(g)
    params = {}
    for net in ("actor", "critic"):
        layers = [l for l in getattr(models[0], net) if isinstance(l, nn.Linear)]
        params[net] = []
        for j in range(len(layers)):
            W = torch.stack([[l for l in getattr(m, net) if isinstance(l, nn.Linear)][j].weight.detach() for m in models])
            b = torch.stack([[l for l in getattr(m, net) if isinstance(l, nn.Linear)][j].bias.detach() for m in models])
            params[net].append((Stacked(W), Stacked(b)))
    return params, gens


class Stacked:
    """S seeds' copies of one parameter. Fused Adam treats the elements past the last full vector of a
    tensor on a scalar path whose rounding differs from the vector path, so a parameter whose size is
    not a multiple of 64 stays S separate tensors (each takes the path it takes alone)."""

    def __init__(self, value):
        self.split = value[0].numel() % 64 != 0
        self.leaves = [v.clone().requires_grad_() for v in value] if self.split else [value.clone().requires_grad_()]

    def get(self):
        return torch.stack(self.leaves) if self.split else self.leaves[0]


def forward(layers, x):
    for j, (W, b) in enumerate(layers):
        W, b = W.get(), b.get()
        if W.shape[1] == 1:  # one output: F.linear takes a matrix-vector path whose sums differ from bmm's
            x = torch.stack([nn.functional.linear(x[s], W[s], b[s]) for s in range(W.shape[0])])
        else:
            x = torch.baddbmm(b[:, None, :], x, W.transpose(1, 2))
        if j < len(layers) - 1:
            x = torch.tanh(x)
    return x


def forward_one(layers, s, x):  # seed s alone, as nn.Linear would (the truncation bootstrap)
    for j, (W, b) in enumerate(layers):
        W, b = W.get(), b.get()
        x = nn.functional.linear(x, W[s], b[s])
        if j < len(layers) - 1:
            x = torch.tanh(x)
    return x


def train_batch(env_id, total, seeds, config=PPOConfig()):
    S, N, T = len(seeds), config.n_envs, config.n_steps
    envs = [make_vector_env(env_id, N) for _ in seeds]
    obs_dim = int(np.prod(envs[0].single_observation_space.shape))
    params, gens = stack_model(seeds, obs_dim, envs[0].single_action_space, config.hidden)
    perms = [torch.Generator().manual_seed(s) for s in seeds]
    flat = [leaf for net in ("actor", "critic") for wb in params[net] for p in wb for leaf in p.leaves]
    opt = torch.optim.Adam(flat, lr=config.learning_rate, eps=1e-5, fused=True)
    obs = []
    for e, s in zip(envs, seeds):
        o, _ = e.reset(seed=s)
        e.action_space.seed(s)
        obs.append(o)
    ep_ret = np.zeros((S, N))
    curves = [([], []) for _ in seeds]
    steps_done = 0
    n_updates = max(1, total // (N * T))
    for update in range(n_updates):
        frac = max(0.0, 1.0 - update / n_updates) if config.anneal else 1.0
        for gr in opt.param_groups:
            gr["lr"] = config.learning_rate * frac
        clip = config.clip * frac if config.anneal else config.clip
        buf_obs = np.zeros((S, T, N, obs_dim), dtype=np.float32)
        buf_act = torch.zeros((S, T, N), dtype=torch.long)
        buf_logp, buf_val, buf_rew, buf_done = (np.zeros((S, T, N)) for _ in range(4))
        for t in range(T):
            o = torch.as_tensor(np.stack(obs), dtype=torch.float32).reshape(S, N, obs_dim)
            with torch.no_grad():
                dist = torch.distributions.Categorical(logits=forward(params["actor"], o), validate_args=False)
                a = torch.stack([torch.multinomial(dist.probs[s], 1, True, generator=gens[s]).T.reshape(N)
                                 for s in range(S)])
                buf_logp[:, t] = dist.log_prob(a).numpy()
                buf_val[:, t] = forward(params["critic"], o).squeeze(-1).numpy()
            buf_obs[:, t] = o.numpy()
            buf_act[:, t] = a
            for s, e in enumerate(envs):
                ob, r, term, trunc, info = e.step(a[s].numpy())
                obs[s] = ob
                done = np.logical_or(term, trunc)
                buf_rew[s, t] = r  # the bootstrap goes into the buffer, not into the episode's return
                if np.any(trunc & ~term) and "final_obs" in info:
                    for i in np.flatnonzero(trunc & ~term):
                        fo = torch.as_tensor(np.asarray(info["final_obs"][i], dtype=np.float32)).reshape(1, obs_dim)
                        with torch.no_grad():
                            buf_rew[s, t, i] += config.gamma * float(forward_one(params["critic"], s, fo).squeeze(-1))
                buf_done[s, t] = done
                ep_ret[s] += r
                for i in np.flatnonzero(done):
                    curves[s][0].append(steps_done + N)
                    curves[s][1].append(ep_ret[s, i])
                    ep_ret[s, i] = 0.0
            steps_done += N
        with torch.no_grad():
            last_v = forward(params["critic"], torch.as_tensor(np.stack(obs), dtype=torch.float32)
                             .reshape(S, N, obs_dim)).squeeze(-1).numpy()
        advs, rets = zip(*[gae(buf_rew[s], buf_val[s], buf_done[s], last_v[s], config.gamma, config.gae_lambda)
                           for s in range(S)])
        b_obs = torch.as_tensor(buf_obs.reshape(S, T * N, obs_dim))
        b_act = buf_act.reshape(S, T * N)
        b_logp = torch.as_tensor(buf_logp.reshape(S, -1), dtype=torch.float32)
        b_adv = torch.as_tensor(np.stack(advs).reshape(S, -1), dtype=torch.float32)
        b_ret = torch.as_tensor(np.stack(rets).reshape(S, -1), dtype=torch.float32)
        for _ in range(config.n_epochs):
            perm = torch.stack([torch.randperm(T * N, generator=g) for g in perms])
            for start in range(0, T * N, config.minibatch_size):
                idx = perm[:, start:start + config.minibatch_size]
                ob = torch.gather(b_obs, 1, idx[:, :, None].expand(-1, -1, obs_dim))
                dist = torch.distributions.Categorical(logits=forward(params["actor"], ob), validate_args=False)
                new_logp = dist.log_prob(torch.gather(b_act, 1, idx))
                mb_adv = torch.gather(b_adv, 1, idx)
                mb_adv = (mb_adv - mb_adv.mean(1, keepdim=True)) / (mb_adv.std(1, keepdim=True) + 1e-8)
                ratio = torch.exp(new_logp - torch.gather(b_logp, 1, idx))
                loss = -torch.min(ratio * mb_adv, torch.clamp(ratio, 1 - clip, 1 + clip) * mb_adv).mean(1)
                v = forward(params["critic"], ob).squeeze(-1)
                loss = loss + config.vf_coef * ((v - torch.gather(b_ret, 1, idx)) ** 2).mean(1)
                loss = loss - config.ent_coef * frac * dist.entropy().mean(1)
                opt.zero_grad()
                loss.sum().backward()
                with torch.no_grad():
                    per = []  # per parameter, the (S,) norms of each seed's gradient
                    for net in ("actor", "critic"):
                        for wb in params[net]:
                            for p in wb:
                                if p.split:
                                    per.append(torch.stack([torch.linalg.vector_norm(l.grad, 2) for l in p.leaves]))
                                else:
                                    per.append(torch.linalg.vector_norm(p.leaves[0].grad.flatten(1), 2, dim=1))
                    total_norm = torch.linalg.vector_norm(torch.stack(per, 1), 2, dim=1)
                    coef = torch.clamp(config.max_grad_norm / (total_norm + 1e-6), max=1.0)
                    for net in ("actor", "critic"):
                        for wb in params[net]:
                            for p in wb:
                                if p.split:
                                    for s_, l in enumerate(p.leaves):
                                        l.grad.mul_(coef[s_])
                                else:
                                    l = p.leaves[0]
                                    l.grad.mul_(coef.view(-1, *[1] * (l.dim() - 1)))
                opt.step()
    return curves, params


if __name__ == "__main__":
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10240
    seeds = list(range(int(sys.argv[2]) if len(sys.argv) > 2 else 20))
    t = time.perf_counter()
    curves, params = train_batch("CartPole-v1", total, seeds)
    tb = time.perf_counter() - t
    t = time.perf_counter()
    alone = [train("CartPole-v1", total, s) for s in seeds]
    ta = time.perf_counter() - t
    for s, res in enumerate(alone):
        same_curve = np.array_equal(res.steps, curves[s][0]) and np.array_equal(res.returns, curves[s][1])
        lin = [m for m in res.model.actor if isinstance(m, nn.Linear)]
        same_w = all(torch.equal(l.weight.detach(), params["actor"][j][0].get()[s].detach()) and
                     torch.equal(l.bias.detach(), params["actor"][j][1].get()[s].detach()) for j, l in enumerate(lin))
        print(f"seed {s}: curve equal {same_curve} ({len(res.returns)} episodes), actor weights equal {same_w}")
    print(f"batched {tb:.1f} s, one after another {ta:.1f} s, speed-up {ta / tb:.2f}x for {len(seeds)} seeds x {total} steps")
