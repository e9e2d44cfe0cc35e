r"""Reasoning with a verifier: guess-and-check RL against sharpening the model, search and supervision.

Used by the chapter :ref:`ch-reasoning`. The task is ``n_digits``-digit addition, checked by a
verifier that reads only the final answer. A small causal transformer (the *base model*) is
pretrained on a mixture of two kinds of answers:

* **guesses**: a marker ``G`` and then the sum plus a small random error, least significant digit
  first -- right only a tenth of the time;
* **careful traces**: a marker ``S`` and then, digit by digit from the least significant, the digit
  of the sum and the carry -- right unless a carry is dropped (which happens now and then).

The first completion token is pivotal: after ``S`` the model is nearly always right, after ``G``
nearly always wrong. Four ways to get a better answer out of the same base model are compared:

* **guess-and-check RL** (GRPO-style: a group of samples per prompt, reward = the verifier,
  advantage = reward minus the group mean, optionally divided by the group's standard deviation,
  a clipped ratio and a KL penalty to the base model) -- Shao et al. 2024; Liu et al. 2025;
* **changing the sampler** -- low temperature, or the *power distribution* :math:`p^\alpha` over
  whole answers (Karan & Du 2025), drawn by importance resampling or by Metropolis-Hastings over
  suffixes; no verifier and no training;
* **search with the verifier** at inference: best-of-n;
* **supervised data**: rejection-sampling fine-tuning on the verified samples (STaR, RFT, RAFT),
  and fine-tuning on traces written by the task's own program.

Every model of the chapter is one slice of an :class:`LMEnsemble`: ``M`` independent transformers
whose weights are stacked along a leading axis, so that ten seeds train in one batched computation.
Adam is elementwise, so training the stack on the sum of the models' losses is exactly training
each model on its own loss.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from .experiments import torch_threads as _threads
from .experiments import Seed, as_rng, check_positive_int, check_real, check_seeds, child_seed, spawn_rngs, torch_generator

__all__ = [
    "VOCAB", "PAD", "END", "GUESS", "STEPS", "AdditionTask", "encode", "decode", "show", "make_problems",
    "careful_traces", "guesses", "answers_of", "verify", "pretraining_data", "LMEnsemble",
    "init_ensemble", "TableModel", "completion_logprobs", "sample", "PretrainResult", "pretrain",
    "power_resample", "power_mcmc", "pass_at_k", "MCMCResult", "group_advantages", "grpo_loss",
    "stack_models", "accuracy", "FINETUNE_METHODS", "FinetuneResult", "finetune", "SCHEDULES",
    "FINAL_LR_FRACTION", "lr_factor", "count_carries", "prompt_styles",
]

#: The token alphabet: digits, the two operators, the two answer markers, end and padding.
VOCAB = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "=", "G", "S", "E", ".")
_ID = {c: i for i, c in enumerate(VOCAB)}
PLUS, EQUALS, GUESS, STEPS, END, PAD = (_ID[c] for c in "+=GSE.")


def encode(text: str) -> np.ndarray:
    """Token ids of a string over :data:`VOCAB` (one character per token)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    bad = sorted({c for c in text if c not in _ID})
    if bad:
        raise ValueError(f"text contains characters outside the vocabulary: {bad}")
    return np.array([_ID[c] for c in text], dtype=np.int64)


def decode(tokens) -> str:
    """The string of a sequence of token ids (the inverse of :func:`encode`)."""
    t = np.asarray(tokens)
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.integer) or (t.size and (t.min() < 0 or t.max() >= len(VOCAB))):
        raise ValueError(f"tokens must be a 1-d array of ids in [0, {len(VOCAB)}), got {tokens!r}")
    return "".join(VOCAB[i] for i in t)


class AdditionTask(NamedTuple):
    """``n_digits``-digit addition and the base model's pretraining mixture.

    Two optional fields make a task harder without changing its model (the chapter's difficulty axes):

    * ``p_careful`` may be a tuple, one careful share per *prompt style*: every prompt then opens with a
      style token (id ``len(VOCAB) + k`` for style ``k``) and the pretraining data of style ``k`` holds
      careful traces with chance ``p_careful[k]`` -- one base model covers every level of rarity of the
      right strategy. ``style`` picks the style of the problems :func:`make_problems` draws (``None``:
      each prompt's style at random, the pretraining mixture: uniform, or in proportion to
      ``style_weights``).
    * ``carries`` (``None``: any) keeps only problems whose sum has exactly that many carries, each a
      chance for a careful trace to go wrong.
    """

    n_digits: int = 3  # digits of each operand
    p_careful: Any = 0.4  # share of careful traces in the pretraining data (the rest are guesses), or one per style
    p_drop: float = 0.15  # chance that a careful trace drops a carry it should write
    p_right: float = 0.1  # chance that a guess is the exact sum
    style: int | None = None  # the prompt style of the problems drawn (styled tasks only; None: uniform)
    carries: int | None = None  # exactly this many carries in every problem drawn (None: any number)
    style_weights: tuple | None = None  # how often each style is drawn when style is None (None: uniformly)

    @property
    def n_styles(self) -> int:
        """Prompt styles: the length of ``p_careful`` when it is a tuple, else 0 (no style token)."""
        return len(self.p_careful) if isinstance(self.p_careful, (tuple, list)) else 0

    @property
    def vocab_size(self) -> int:
        """Token ids a model of this task reads and writes: :data:`VOCAB` and one per prompt style."""
        return len(VOCAB) + self.n_styles

    @property
    def prompt_len(self) -> int:
        """Tokens of a prompt: the style token (styled tasks), the operands' digit pairs and ``=``."""
        return 2 * self.n_digits + 1 + (1 if self.n_styles else 0)

    @property
    def completion_len(self) -> int:
        """Tokens of the longest completion: ``S``, a (digit, carry) pair per digit, ``E``."""
        return 2 * self.n_digits + 2

    def check(self) -> "AdditionTask":
        """Validate the fields (a ``ValueError`` names the one that is wrong)."""
        check_positive_int(self.n_digits, "n_digits")
        if self.n_digits > 9:
            raise ValueError(f"n_digits must be at most 9, got {self.n_digits}")
        if isinstance(self.p_careful, (tuple, list)):
            if not self.p_careful:
                raise ValueError("p_careful must be a number or a non-empty tuple of numbers (one per style), got ()")
            for x in self.p_careful:
                check_real(x, "p_careful (each style's)", low=0, high=1)
        else:
            check_real(self.p_careful, "p_careful", low=0, high=1)
        for name in ("p_drop", "p_right"):
            check_real(getattr(self, name), name, low=0, high=1)
        if self.style is not None:
            if not self.n_styles:
                raise ValueError(f"style needs a styled task (p_careful one number per style), got style={self.style!r}")
            check_positive_int(self.style, "style", minimum=0)
            if self.style >= self.n_styles:
                raise ValueError(f"style must be below the number of styles ({self.n_styles}), got {self.style!r}")
        if self.style_weights is not None:
            if not self.n_styles:
                raise ValueError(f"style_weights needs a styled task (p_careful one number per style), "
                                 f"got style_weights={self.style_weights!r}")
            if not isinstance(self.style_weights, (tuple, list)) or len(self.style_weights) != self.n_styles:
                raise ValueError(f"style_weights must be a tuple of {self.n_styles} weights (one per style), "
                                 f"got {self.style_weights!r}")
            for x in self.style_weights:
                check_real(x, "style_weights (each style's)", low=0)
            if not sum(self.style_weights) > 0:
                raise ValueError(f"style_weights must not all be 0, got {self.style_weights!r}")
        if self.carries is not None:
            check_positive_int(self.carries, "carries", minimum=0)
            if self.carries > self.n_digits:
                raise ValueError(f"carries must be at most n_digits ({self.n_digits}), got {self.carries!r}")
        return self


def _task(task: Any) -> AdditionTask:
    if not isinstance(task, AdditionTask):
        raise TypeError(f"task must be an AdditionTask, got {type(task).__name__}")
    return task.check()


def count_carries(task: AdditionTask, prompts) -> np.ndarray:
    """How many carries the exact sum of each prompt has (``(n,)``): the places where a careful trace
    must write a 1, and may drop it."""
    a, b = _operands(_task(task), prompts)
    return _carries_of(np.stack([a, b], axis=-1).reshape(len(a), -1), task.n_digits)


def make_problems(task: AdditionTask, n: int, seed: Seed) -> np.ndarray:
    """``n`` prompts with uniform ``n_digits``-digit operands (leading zeros allowed).

    A prompt lists the operands' digits in pairs, least significant first, then ``=``:
    ``a0 b0 a1 b1 ... =`` (so 123 + 456 is ``3 6 2 5 1 4 =``; :func:`show` writes it as
    ``123+456=``). The layout puts the two digits that step ``i`` of a careful trace needs at a
    fixed distance behind it, which a two-layer transformer learns quickly. A styled task's prompts
    open with their style token (``task.style``, or uniform styles); with ``task.carries`` the
    operands are drawn uniformly among those whose sum has exactly that many carries. Returns an
    ``(n, prompt_len)`` array of token ids.
    """
    task = _task(task)
    n = check_positive_int(n, "n")
    rng = as_rng(seed)
    d = task.n_digits
    if task.carries is None:
        digits = rng.integers(0, 10, size=(n, 2 * d))
    else:  # rejection: draw batches of uniform operands, keep those with the right number of carries
        kept, have = [], 0
        while have < n:
            draw = rng.integers(0, 10, size=(max(2 * n, 64), 2 * d))
            ok = draw[_carries_of(draw, d) == task.carries]
            kept.append(ok[:n - have])
            have += len(kept[-1])
        digits = np.concatenate(kept)
    body = np.concatenate([digits, np.full((n, 1), EQUALS)], axis=1).astype(np.int64)
    if not task.n_styles:
        return body
    if task.style is not None:
        style = np.full(n, task.style)
    elif task.style_weights is None:
        style = rng.integers(0, task.n_styles, size=n)
    else:
        w = np.asarray(task.style_weights, dtype=float)
        style = rng.choice(task.n_styles, size=n, p=w / w.sum())
    return np.concatenate([len(VOCAB) + style[:, None], body], axis=1).astype(np.int64)


def _carries_of(digits: np.ndarray, d: int) -> np.ndarray:
    carry, count = np.zeros(len(digits), dtype=np.int64), np.zeros(len(digits), dtype=np.int64)
    for i in range(d):
        carry = (digits[:, 2 * i] + digits[:, 2 * i + 1] + carry >= 10).astype(np.int64)
        count += carry
    return count


def prompt_styles(task: AdditionTask, prompts) -> np.ndarray:
    """The style of each prompt of a styled task (``(n,)``)."""
    task = _task(task)
    if not task.n_styles:
        raise ValueError("task has no prompt styles (p_careful is one number)")
    _operands(task, prompts)
    return np.asarray(prompts)[:, 0] - len(VOCAB)


def _operands(task: AdditionTask, prompts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Operand digits, least significant first, each ``(n, n_digits)``."""
    p = np.asarray(prompts)
    if p.ndim != 2 or p.shape[1] != task.prompt_len:
        raise ValueError(f"prompts must have shape (n, {task.prompt_len}), got {p.shape}")
    if task.n_styles:
        if np.any(p[:, 0] < len(VOCAB)) or np.any(p[:, 0] >= task.vocab_size):
            raise ValueError(f"prompts of a styled task must open with a style token (ids {len(VOCAB)} to "
                             f"{task.vocab_size - 1})")
        p = p[:, 1:]
    if np.any(p[:, :-1] > 9) or np.any(p[:, :-1] < 0) or np.any(p[:, -1] != EQUALS):
        raise ValueError("prompts must be operand digits followed by '='")
    return p[:, 0:-1:2], p[:, 1:-1:2]


def careful_traces(task: AdditionTask, prompts, seed: Seed = 0, p_drop: float | None = None) -> np.ndarray:
    """Careful completions ``S d0 c0 d1 c1 ... E``: sum digit and carry, least significant first.

    Each carry that should be 1 is dropped (written 0, and not added to the next digit) with
    chance ``p_drop`` (default: the task's); ``p_drop=0`` gives the program-written traces.
    Returns ``(n, completion_len)`` ids.
    """
    task = _task(task)
    p_drop = task.p_drop if p_drop is None else check_real(p_drop, "p_drop", low=0, high=1)
    a, b = _operands(task, prompts)
    rng = as_rng(seed)
    n, d = a.shape
    out = np.full((n, task.completion_len), PAD, dtype=np.int64)
    out[:, 0] = STEPS
    carry = np.zeros(n, dtype=np.int64)
    for i in range(d):
        s = a[:, i] + b[:, i] + carry
        carry = (s >= 10).astype(np.int64)
        carry = np.where(carry.astype(bool) & (rng.random(n) < p_drop), 0, carry)
        out[:, 1 + 2 * i] = s % 10
        out[:, 2 + 2 * i] = carry
    out[:, 2 * d + 1] = END
    return out


def guesses(task: AdditionTask, prompts, seed: Seed = 0) -> np.ndarray:
    """Guessed completions ``G s0 s1 ... s_d E``: the sum, least significant digit first, plus an
    error that is 0 with chance ``p_right`` and otherwise uniform on +-1..+-9 (kept in range).
    Returns ``(n, completion_len)`` ids (padded)."""
    task = _task(task)
    a, b = _operands(task, prompts)
    rng = as_rng(seed)
    n, d = a.shape
    place = 10 ** np.arange(d)
    total = (a * place).sum(1) + (b * place).sum(1)
    err = rng.integers(1, 10, size=n) * rng.choice([-1, 1], size=n)
    err = np.where(rng.random(n) < task.p_right, 0, err)
    top = 2 * 10 ** d - 2
    value = np.where((total + err < 0) | (total + err > top), total - err, total + err)
    out = np.full((n, task.completion_len), PAD, dtype=np.int64)
    out[:, 0] = GUESS
    out[:, 1:d + 2] = (value[:, None] // 10 ** np.arange(d + 1)) % 10
    out[:, d + 2] = END
    return out


def answers_of(task: AdditionTask, completions) -> np.ndarray:
    """The number each completion answers (``-1`` where it is not a well-formed answer)."""
    task = _task(task)
    c = np.asarray(completions)
    if c.ndim != 2 or c.shape[1] != task.completion_len:
        raise ValueError(f"completions must have shape (n, {task.completion_len}), got {c.shape}")
    d = task.n_digits
    n = c.shape[0]
    digits_ok = lambda x: np.all(x <= 9, axis=1)  # noqa: E731
    # guess: G s0..s_d E
    g_ok = (c[:, 0] == GUESS) & digits_ok(c[:, 1:d + 2]) & (c[:, d + 2] == END)
    g_val = (np.minimum(c[:, 1:d + 2], 9) * 10 ** np.arange(d + 1)).sum(1)
    # careful: S d0 c0 ... E; the answer is c_{d-1} d_{d-1} ... d0
    dig, car = c[:, 1:2 * d + 1:2], c[:, 2:2 * d + 2:2]
    s_ok = (c[:, 0] == STEPS) & digits_ok(dig) & np.all(car <= 1, axis=1) & (c[:, 2 * d + 1] == END)
    s_val = (np.minimum(dig, 9) * 10 ** np.arange(d)).sum(1) + np.minimum(car[:, -1], 1) * 10 ** d
    return np.where(g_ok, g_val, np.where(s_ok, s_val, -1)).astype(np.int64).reshape(n)


def verify(task: AdditionTask, prompts, completions) -> np.ndarray:
    """The verifier: ``True`` where a completion's final answer is the sum (the trace is not read).

    Examples
    --------
    >>> from ce_lib.reasoning import AdditionTask, careful_traces, make_problems, verify
    >>> task = AdditionTask(n_digits=2)
    >>> prompts = make_problems(task, 4, seed=0)
    >>> verify(task, prompts, careful_traces(task, prompts, p_drop=0.0))
    array([ True,  True,  True,  True])
    """
    a, b = _operands(_task(task), prompts)
    c = np.asarray(completions)
    if c.ndim != 2 or c.shape[0] != a.shape[0]:
        raise ValueError(f"completions must have one row per prompt ({a.shape[0]}), got shape {c.shape}")
    place = 10 ** np.arange(task.n_digits)
    return answers_of(task, c) == (a * place).sum(1) + (b * place).sum(1)


def show(task: AdditionTask, prompt, completion=None) -> str:
    """A prompt (and a completion) as a reader writes it: ``23+56=`` and ``79`` (``?`` where the
    completion is not a well-formed answer)."""
    task = _task(task)
    a, b = _operands(task, np.asarray(prompt).reshape(1, -1))
    place = 10 ** np.arange(task.n_digits)
    text = f"{int((a * place).sum()):0{task.n_digits}d}+{int((b * place).sum()):0{task.n_digits}d}="
    if task.n_styles:
        text = f"[style {int(np.asarray(prompt).reshape(-1)[0]) - len(VOCAB)}] " + text
    if completion is None:
        return text
    value = answers_of(task, np.asarray(completion).reshape(1, -1))[0]
    return text + (str(value) if value >= 0 else "?")


def pretraining_data(task: AdditionTask, n: int, seed: Seed) -> np.ndarray:
    """``n`` pretraining sequences (prompt then completion) from the task's mixture (a styled task's
    careful share is that of each prompt's style)."""
    task = _task(task)
    rng = as_rng(seed)
    prompts = make_problems(task, n, rng)
    if task.n_styles:  # each prompt's style sets its share of careful traces
        careful = rng.random(n) < np.asarray(task.p_careful, dtype=float)[prompt_styles(task, prompts)]
    else:
        careful = rng.random(n) < task.p_careful
    comp = np.where(careful[:, None], careful_traces(task, prompts, rng), guesses(task, prompts, rng))
    return np.concatenate([prompts, comp], axis=1)


# ----------------------------------------------------------------------------------------------
# The model: M small causal transformers trained side by side
# ----------------------------------------------------------------------------------------------


class LMEnsemble(nn.Module):
    """``M`` independent causal transformers with stacked weights (pre-norm, learned positions).

    ``forward(tokens)`` takes ``(M, B, T)`` ids (model ``m`` reads ``tokens[m]``) and returns
    ``(M, B, T, V)`` next-token logits. Every weight has a leading axis of length ``M``; no weight
    is shared between models.
    """

    def __init__(self, n_models: int, seq_len: int, *, d_model: int = 64, n_layers: int = 2, n_heads: int = 4,
                 d_ff: int = 256, vocab: int = len(VOCAB)):
        super().__init__()
        M = check_positive_int(n_models, "n_models")
        self.seq_len = check_positive_int(seq_len, "seq_len")
        D = check_positive_int(d_model, "d_model")
        self.n_layers = check_positive_int(n_layers, "n_layers")
        self.n_heads = check_positive_int(n_heads, "n_heads")
        if D % n_heads:
            raise ValueError(f"d_model ({D}) must be a multiple of n_heads ({n_heads})")
        F = check_positive_int(d_ff, "d_ff")
        V = check_positive_int(vocab, "vocab")
        P = nn.Parameter
        self.tok = P(torch.zeros(M, V, D))
        self.pos = P(torch.zeros(M, self.seq_len, D))
        self.ln_g = P(torch.ones(M, 2 * n_layers + 1, D))
        self.ln_b = P(torch.zeros(M, 2 * n_layers + 1, D))
        self.qkv = P(torch.zeros(n_layers, M, D, 3 * D))
        self.out = P(torch.zeros(n_layers, M, D, D))
        self.w1 = P(torch.zeros(n_layers, M, D, F))
        self.b1 = P(torch.zeros(n_layers, M, 1, F))
        self.w2 = P(torch.zeros(n_layers, M, F, D))
        self.b2 = P(torch.zeros(n_layers, M, 1, D))
        self.head = P(torch.zeros(M, D, V))

    @property
    def n_models(self) -> int:
        """Number of models in the stack."""
        return self.tok.shape[0]

    def n_params(self) -> int:
        """Parameters of one model."""
        return sum(p.numel() for p in self.parameters()) // self.n_models

    def _norm(self, x, i):
        x = torch.nn.functional.layer_norm(x, x.shape[-1:])
        return x * self.ln_g[:, i, None, :] + self.ln_b[:, i, None, :]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # noqa: D102
        M, B, T = tokens.shape
        if M != self.n_models or T > self.seq_len:
            raise ValueError(f"tokens must have shape ({self.n_models}, B, <= {self.seq_len}), got {tuple(tokens.shape)}")
        D, H = self.tok.shape[-1], self.n_heads
        x = torch.gather(self.tok, 1, tokens.reshape(M, B * T, 1).expand(M, B * T, D)).reshape(M, B, T, D)
        x = (x + self.pos[:, None, :T, :]).reshape(M, B * T, D)
        for layer in range(self.n_layers):
            h = self._norm(x, 2 * layer)
            q, k, v = torch.bmm(h, self.qkv[layer]).reshape(M * B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
            att = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + torch.bmm(att.permute(0, 2, 1, 3).reshape(M, B * T, D), self.out[layer])
            h = self._norm(x, 2 * layer + 1)
            h = torch.nn.functional.gelu(torch.baddbmm(self.b1[layer], h, self.w1[layer]))
            x = x + torch.baddbmm(self.b2[layer], h, self.w2[layer])
        return torch.bmm(self._norm(x, 2 * self.n_layers), self.head).reshape(M, B, T, -1)


def init_ensemble(n_models: int, seq_len: int, seed: Seed, **sizes) -> LMEnsemble:
    """An :class:`LMEnsemble` whose model ``m`` is initialized from child ``m`` of ``seed``
    (normal weights with standard deviation 0.02, residual projections scaled by
    ``1/sqrt(2 n_layers)``, as in GPT-2), so model ``m`` is the same whatever ``n_models`` is."""
    net = LMEnsemble(n_models, seq_len, **sizes)
    L = net.n_layers
    for m, rng in enumerate(spawn_rngs(seed, net.n_models)):
        g = torch_generator(rng)
        with torch.no_grad():
            for name, p in net.named_parameters():
                if name in ("tok", "pos", "head"):
                    p[m].normal_(0.0, 0.02, generator=g)
                elif name in ("qkv", "w1"):
                    p[:, m].normal_(0.0, 0.02, generator=g)
                elif name in ("out", "w2"):
                    p[:, m].normal_(0.0, 0.02 / math.sqrt(2 * L), generator=g)
    return net


class TableModel:
    """A language model given by a table, for tests and exercises: ``probs(prefix)`` returns the
    next-token distribution after a completion prefix (a tuple of ids); it has the same
    ``__call__`` as :class:`LMEnsemble` (one model, ``M = 1``)."""

    def __init__(self, probs: Callable[[tuple], Sequence[float]], prompt_len: int, vocab: int = len(VOCAB)):
        if not callable(probs):
            raise TypeError("probs must be callable")
        self.probs = probs
        self.prompt_len = check_positive_int(prompt_len, "prompt_len")
        self.vocab = check_positive_int(vocab, "vocab")
        self.n_models = 1

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        M, B, T = tokens.shape
        if M != 1:
            raise ValueError(f"a TableModel is one model: tokens must have shape (1, B, T), got {tuple(tokens.shape)}")
        out = torch.full((M, B, T, self.vocab), -1e9, dtype=torch.float64)
        tok = tokens[0].numpy()
        for t in range(self.prompt_len - 1, T):
            prefixes, where = np.unique(tok[:, self.prompt_len:t + 1], axis=0, return_inverse=True)
            table = np.stack([np.asarray(self.probs(tuple(int(x) for x in row)), dtype=float) for row in prefixes])
            if table.shape[1] != self.vocab or np.any(table < 0) or not np.allclose(table.sum(1), 1):
                raise ValueError("probs must return a probability vector over the vocabulary")
            logits = np.where(table > 0, np.log(np.maximum(table, 1e-300)), -1e9)
            out[0, :, t] = torch.as_tensor(logits[np.asarray(where).reshape(-1)])
        return out


# ----------------------------------------------------------------------------------------------
# Likelihoods and sampling
# ----------------------------------------------------------------------------------------------


def _live(completions: torch.Tensor) -> torch.Tensor:
    """Mask of the tokens that belong to each completion: up to and including the first END."""
    ended = torch.cumsum((completions == END).to(torch.int64), dim=-1)
    return (ended - (completions == END).to(torch.int64)) == 0


def completion_logprobs(model, prompts: torch.Tensor, completions: torch.Tensor, *,
                        temperature: float = 1.0, grad: bool = False) -> torch.Tensor:
    """Per-token log-probabilities of ``completions`` after ``prompts`` (``(M, B, C)``; zero after
    the first END), under the model at ``temperature`` (positive: a likelihood at temperature 0 is
    not defined)."""
    temperature = check_real(temperature, "temperature", low=0, low_open=True)
    if not (isinstance(prompts, torch.Tensor) and isinstance(completions, torch.Tensor)):
        raise TypeError(f"prompts and completions must be torch tensors of token ids, got "
                        f"{type(prompts).__name__} and {type(completions).__name__}")
    T = prompts.shape[-1]
    seq = torch.cat([prompts, completions], dim=-1)
    with torch.set_grad_enabled(grad):
        logits = model(seq[..., :-1])[..., T - 1:, :]
        logp = torch.log_softmax(logits.double() / temperature, dim=-1)
        tok = torch.gather(logp, -1, completions[..., None])[..., 0]
    return torch.where(_live(completions), tok, torch.zeros((), dtype=tok.dtype))


def sample(model, prompts: torch.Tensor, completion_len: int, *, temperature: float = 1.0,
           generator: torch.Generator | Sequence[torch.Generator] | None = None, prefix: torch.Tensor | None = None,
           start: torch.Tensor | int = 0) -> torch.Tensor:
    """Ancestral sampling of completions (``(M, B, completion_len)``); ``temperature=0`` is greedy.

    ``generator`` is one torch generator for the whole stack, or one per model (a list of ``M``):
    then model ``m``'s answers depend only on its own generator, whichever models share the stack.
    With ``prefix`` (``(M, B, completion_len)``) and ``start`` (an int or a ``(M, B)`` tensor),
    tokens before ``start`` are kept from ``prefix`` and only the rest is drawn (the suffix
    proposal of :func:`power_mcmc`). After END every token is PAD.
    """
    temperature = check_real(temperature, "temperature", low=0)
    completion_len = check_positive_int(completion_len, "completion_len")
    per_model = isinstance(generator, (list, tuple))
    if temperature > 0 and not (isinstance(generator, torch.Generator)
                                or (per_model and generator and all(isinstance(g, torch.Generator) for g in generator))):
        raise TypeError(f"generator must be a torch.Generator (or a list of one per model) to sample with (ce_lib "
                        f"never draws from torch's global generator), got {type(generator).__name__}; temperature=0 "
                        f"(greedy) needs none")
    if not isinstance(prompts, torch.Tensor) or prompts.dim() != 3:
        raise ValueError(f"prompts must be a (M, B, P) tensor of token ids, got {type(prompts).__name__}")
    M, B, _ = prompts.shape
    if temperature > 0 and per_model and len(generator) != M:
        raise ValueError(f"generator must be one torch.Generator or one per model ({M}), got a list of {len(generator)}")
    if prefix is not None and tuple(prefix.shape) != (M, B, completion_len):
        raise ValueError(f"prefix must have shape {(M, B, completion_len)}, got {tuple(prefix.shape)}")
    comp = torch.full((M, B, completion_len), PAD, dtype=torch.int64) if prefix is None else prefix.clone()
    start = torch.as_tensor(start).expand(M, B)
    done = torch.zeros(M, B, dtype=torch.bool)
    with torch.no_grad():
        for t in range(completion_len):
            keep = t < start
            if not bool(keep.all()):
                logits = model(torch.cat([prompts, comp[..., :t]], dim=-1))[..., -1, :].double()
                if temperature == 0:
                    new = logits.argmax(-1)
                else:
                    probs = torch.softmax(logits / temperature, dim=-1)
                    if per_model:
                        new = torch.stack([torch.multinomial(probs[m], 1, generator=g)[:, 0]
                                           for m, g in enumerate(generator)])
                    else:
                        new = torch.multinomial(probs.reshape(M * B, -1), 1, generator=generator).reshape(M, B)
                tok = torch.where(keep, comp[..., t], new)
            else:
                tok = comp[..., t]
            tok = torch.where(done, torch.full_like(tok, PAD), tok)
            comp[..., t] = tok
            done = done | (tok == END)
    return comp


def _stack_seeds(seeds) -> list[int]:
    return [int(x) for x in check_seeds(seeds)]


# ----------------------------------------------------------------------------------------------
# Training: Adam with one learning rate per model, pretraining
# ----------------------------------------------------------------------------------------------


class _Adam:
    """Adam (Kingma & Ba 2015) with a learning rate per model of the stack. Elementwise, like
    ``torch.optim.Adam``; written out so that the models of one stack may use different rates
    (a tuning grid then runs as one stack)."""

    def __init__(self, net: LMEnsemble, lr, betas=(0.9, 0.98), eps=1e-8):
        self.net, self.betas, self.eps, self.t = net, betas, eps, 0
        self.lr = torch.as_tensor(np.broadcast_to(np.asarray(lr, dtype=float), (net.n_models,)).copy(),
                                  dtype=torch.float32)
        self.state = {n: (torch.zeros_like(p), torch.zeros_like(p)) for n, p in net.named_parameters()}

    def step(self, scale=1.0):
        """One step with every model's rate times ``scale`` (a number, or one per model)."""
        b1, b2 = self.betas
        self.t += 1
        if np.ndim(scale):
            lr = self.lr * torch.as_tensor(np.asarray(scale, dtype=float), dtype=torch.float32)
            scale = 1.0
        else:
            lr = self.lr
        with torch.no_grad():
            for name, p in self.net.named_parameters():
                if p.grad is None:
                    continue
                m, v = self.state[name]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                upd = (m / (1 - b1 ** self.t)) / ((v / (1 - b2 ** self.t)).sqrt() + self.eps)
                shape = [1] * p.dim()
                shape[1 if name in ("qkv", "out", "w1", "b1", "w2", "b2") else 0] = -1
                p.sub_(scale * lr.reshape(shape) * upd)
                p.grad = None


def _cosine(step: int, steps: int, warmup: int) -> float:
    return min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / steps))


#: Learning-rate schedules of :func:`finetune` after its warm-up: ``"constant"``, or ``"cosine"``
#: down to :data:`FINAL_LR_FRACTION` of the starting rate at the last step.
SCHEDULES = ("constant", "cosine")
FINAL_LR_FRACTION = 0.1


def lr_factor(schedule: str, step: int, steps: int, warmup: int) -> float:
    r"""The factor on the learning rate at fine-tuning step ``step`` (1 .. ``steps``): a linear
    warm-up over ``warmup`` steps times, for ``"cosine"``,
    :math:`f + (1 - f)\,\tfrac12 (1 + \cos(\pi\, s / S))` with :math:`f` =
    :data:`FINAL_LR_FRACTION`, :math:`s` = ``step``, :math:`S` = ``steps`` (so the last step runs at
    :math:`f` times the rate), and 1 for ``"constant"``."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    warm = min(1.0, step / warmup)
    if schedule == "constant":
        return warm
    f = FINAL_LR_FRACTION
    return warm * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * step / steps)))


def _completion_nll(net, seqs: torch.Tensor, prompt_len: int) -> torch.Tensor:
    """Negative log-likelihood of each sequence's completion tokens (``(M, B)``, summed)."""
    logits = net(seqs[..., :-1])[..., prompt_len - 1:, :]
    tgt = seqs[..., prompt_len:]
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                                            reduction="none").reshape(tgt.shape)
    return (nll * (tgt != PAD)).sum(-1)


class PretrainResult(NamedTuple):
    """The base models and their training curves."""

    model: LMEnsemble  # one base model per seed, stacked in the order of the seeds
    loss: np.ndarray  # (steps, M) mean completion-token loss of each model's batch
    seeds: tuple  # the seeds, one per model


def pretrain(task: AdditionTask, seeds: Sequence[int], *, steps: int = 3000, batch: int = 64, lr: float = 1e-2,
             warmup: int = 200, d_model: int = 32, n_layers: int = 2, n_heads: int = 4, d_ff: int = 128,
             n_threads: int | None = None) -> PretrainResult:
    """Pretrain one base model per seed on the task's mixture of guesses and careful traces.

    Model ``m`` is initialized from child 0 of ``seeds[m]`` and reads batches drawn from child 1,
    so it does not depend on which other seeds share the stack. Adam with a warm-up and a cosine
    decay; the loss is the completions' token-level cross-entropy (the prompts are given).

    Returns
    -------
    PretrainResult

    Examples
    --------
    >>> from ce_lib.reasoning import AdditionTask, pretrain
    >>> result = pretrain(AdditionTask(n_digits=1), seeds=[0, 1], steps=30, n_threads=1)
    >>> result.loss.shape, result.loss[-1].round(2)  # (steps, models); each model's final loss
    ((30, 2), array([2.23, 2.31]))
    """
    task = _task(task)
    seeds = _stack_seeds(seeds)
    steps = check_positive_int(steps, "steps")
    batch = check_positive_int(batch, "batch")
    lr = check_real(lr, "lr", low=0, low_open=True)
    warmup = check_positive_int(warmup, "warmup")
    seq_len = task.prompt_len + task.completion_len - 1
    with _threads(n_threads):
        net = _init_from(seeds, seq_len, d_model=d_model, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff,
                         vocab=task.vocab_size)
        data_rngs = [as_rng(child_seed(s, 1)) for s in seeds]
        opt = _Adam(net, lr)
        losses = np.empty((steps, len(seeds)))
        for step in range(steps):
            seqs = torch.as_tensor(np.stack([pretraining_data(task, batch, r) for r in data_rngs]))
            tokens = (seqs[..., task.prompt_len:] != PAD).sum(-1)
            loss = _completion_nll(net, seqs, task.prompt_len).sum(-1) / tokens.sum(-1)
            loss.sum().backward()
            opt.step(_cosine(step, steps, warmup))
            losses[step] = loss.detach().numpy()
    return PretrainResult(net, losses, tuple(seeds))


def _init_from(seeds, seq_len, **sizes) -> LMEnsemble:
    """A stack whose model ``m`` is initialized from child 0 of ``seeds[m]``."""
    parts = [init_ensemble(1, seq_len, child_seed(s, 0), **sizes) for s in seeds]
    return stack_models(parts)


def stack_models(parts: Sequence[LMEnsemble], index: Sequence[Sequence[int]] | None = None) -> LMEnsemble:
    """One :class:`LMEnsemble` holding copies of chosen models of others.

    ``stack_models([a, b])`` stacks every model of ``a`` then of ``b``; with ``index``, only the
    models ``index[i]`` of ``parts[i]`` (repeats allowed: a tuning grid starts every setting from
    the same base model).
    """
    parts = list(parts)
    if not parts or not all(isinstance(p, LMEnsemble) for p in parts):
        raise TypeError("parts must be a non-empty sequence of LMEnsemble")
    index = [list(range(p.n_models)) for p in parts] if index is None else [list(i) for i in index]
    if len(index) != len(parts):
        raise ValueError("index must have one list of model indices per part")
    first = parts[0]
    sizes = dict(d_model=first.tok.shape[-1], n_layers=first.n_layers, n_heads=first.n_heads,
                 d_ff=first.w1.shape[-1], vocab=first.tok.shape[1])
    total = sum(len(i) for i in index)
    out = LMEnsemble(total, first.seq_len, **sizes)
    with torch.no_grad():
        for name, p in out.named_parameters():
            axis = 1 if name in ("qkv", "out", "w1", "b1", "w2", "b2") else 0
            pieces = []
            for part, idx in zip(parts, index):
                src = dict(part.named_parameters())[name]
                if src.shape[:axis] + src.shape[axis + 1:] != p.shape[:axis] + p.shape[axis + 1:]:
                    raise ValueError("parts must have the same sizes and sequence length")
                pieces.append(src.index_select(axis, torch.as_tensor(idx, dtype=torch.long)))
            p.copy_(torch.cat(pieces, dim=axis))
    return out


# ----------------------------------------------------------------------------------------------
# Samplers that sharpen the model: the power distribution p^alpha
# ----------------------------------------------------------------------------------------------


def power_resample(logp: torch.Tensor | np.ndarray, alpha: float, generator: torch.Generator | None = None,
                   *, expected: bool = False):
    r"""Importance resampling towards :math:`p^\alpha` from ``N`` draws of :math:`p` (last axis).

    Draws :math:`x_1..x_N \sim p` have weights :math:`p(x_i)^\alpha / p(x_i) = p(x_i)^{\alpha-1}`;
    one of them is chosen with probability proportional to its weight. As :math:`N \to \infty`
    the choice is distributed as :math:`p^\alpha / Z` (self-normalized importance sampling);
    ``alpha = 1`` returns a draw of :math:`p` itself.

    Parameters
    ----------
    logp : array, shape (..., N)
        Log-probabilities of the draws under the model at temperature 1.
    alpha : float
        The power, >= 1.
    generator : torch.Generator, optional
        What the choice is drawn with; needed unless ``expected`` (there is no fallback to torch's
        global generator).
    expected : bool
        If true, return the resampling probabilities (shape ``(..., N)``) instead of a choice, so that
        an accuracy can be computed exactly given the draws.

    Returns
    -------
    torch.Tensor
        Index of the chosen draw (shape ``(...)``), or the probabilities.

    Examples
    --------
    >>> import torch
    >>> from ce_lib.reasoning import power_resample
    >>> logp = torch.log(torch.tensor([[0.6, 0.3, 0.1]]))
    >>> power_resample(logp, alpha=3.0, expected=True).round(decimals=3)  # draw i with weight p_i^(alpha-1)
    tensor([[0.7830, 0.1960, 0.0220]], dtype=torch.float64)
    """
    alpha = check_real(alpha, "alpha", low=1)
    lp = torch.as_tensor(logp, dtype=torch.float64)
    if lp.dim() < 1 or lp.shape[-1] < 1:
        raise ValueError("logp must have at least one draw on its last axis")
    if not expected and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator to draw with (ce_lib never draws from torch's global "
                        f"generator), got {type(generator).__name__}; or pass expected=True")
    w = torch.softmax((alpha - 1.0) * lp, dim=-1)
    if expected:
        return w
    flat = w.reshape(-1, w.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).reshape(w.shape[:-1])


class MCMCResult(NamedTuple):
    """Chains of the Metropolis-Hastings power sampler."""

    completions: torch.Tensor  # (M, B, C) the chains' states after the last step
    trace: torch.Tensor  # (steps + 1, M, B, C) the states after every step (step 0: the proposal's draw)
    accepted: np.ndarray  # (steps,) share of proposals accepted at each step
    tokens: np.ndarray  # (steps + 1,) tokens sampled per chain so far (the initial draw included)


def power_mcmc(model, prompts: torch.Tensor, completion_len: int, *, alpha: float = 4.0, steps: int = 10,
               proposal_temperature: float = 1.0, seed: Seed = 0) -> MCMCResult:
    r"""Metropolis-Hastings over whole completions with target :math:`p^\alpha` (Karan & Du 2025).

    A chain starts from a draw of the proposal (the model at ``proposal_temperature``). Each step
    picks a position :math:`j` uniformly among the current completion's :math:`L(x)` tokens (up
    to and including END), redraws the suffix from :math:`j` from the proposal :math:`q`, and
    accepts the new completion :math:`x'` with probability

    .. math::
        \min\Big\{1,\ \frac{p(x')^\alpha\, q(x_{j:} \mid x_{<j})\, / L(x')}
                          {p(x)^\alpha\, q(x'_{j:} \mid x_{<j})\, / L(x)}\Big\},

    which leaves :math:`p^\alpha / Z` invariant (the :math:`1/L` terms are the chance of picking
    :math:`j`, needed when completions differ in length). Karan & Du grow long answers block by
    block and run the chain on each block; answers here are a few tokens, so one block is the
    whole completion.

    Parameters
    ----------
    model : LMEnsemble or TableModel
    prompts : torch.Tensor, shape (M, B, P)
    completion_len : int
    alpha : float
        The power, >= 1.
    steps : int
        Metropolis-Hastings steps per chain (>= 0).
    proposal_temperature : float
        Temperature of the suffix proposal (Karan & Du use ``1 / alpha``).
    seed : int or Generator

    Returns
    -------
    MCMCResult
    """
    alpha = check_real(alpha, "alpha", low=1)
    steps = check_positive_int(steps, "steps", minimum=0)
    tau = check_real(proposal_temperature, "proposal_temperature", low=0, low_open=True)
    completion_len = check_positive_int(completion_len, "completion_len")
    rng = as_rng(seed)
    gen = torch_generator(rng)
    M, B, _ = prompts.shape
    x = sample(model, prompts, completion_len, temperature=tau, generator=gen)
    lp = completion_logprobs(model, prompts, x)
    lq = completion_logprobs(model, prompts, x, temperature=tau)
    trace, accepted = [x.clone()], []
    tokens = [float(_live(x).sum(-1).double().mean())]
    pos = torch.arange(completion_len)
    for _ in range(steps):
        length = _live(x).sum(-1)  # (M, B)
        j = (torch.rand(M, B, generator=gen, dtype=torch.float64) * length).floor().to(torch.int64)
        y = sample(model, prompts, completion_len, temperature=tau, generator=gen, prefix=x, start=j)
        lp_y = completion_logprobs(model, prompts, y)
        lq_y = completion_logprobs(model, prompts, y, temperature=tau)
        suffix = pos >= j[..., None]
        log_a = (alpha * (lp_y.sum(-1) - lp.sum(-1)) + (lq * suffix).sum(-1) - (lq_y * suffix).sum(-1)
                 + torch.log(length.double()) - torch.log(_live(y).sum(-1).double()))
        u = torch.rand(M, B, generator=gen, dtype=torch.float64)
        acc = torch.log(u) < log_a
        x = torch.where(acc[..., None], y, x)
        lp = torch.where(acc[..., None], lp_y, lp)
        lq = torch.where(acc[..., None], lq_y, lq)
        trace.append(x.clone())
        accepted.append(float(acc.double().mean()))
        tokens.append(tokens[-1] + float((_live(y) & suffix).sum(-1).double().mean()))
    return MCMCResult(x, torch.stack(trace), np.array(accepted), np.array(tokens))


def pass_at_k(n: int, c, k: int) -> np.ndarray:
    r"""Unbiased estimate of pass@k from ``n`` samples of which ``c`` are correct (Chen et al. 2021):
    :math:`1 - \binom{n-c}{k} / \binom{n}{k}`, elementwise over ``c``.

    Examples
    --------
    >>> from ce_lib.reasoning import pass_at_k
    >>> pass_at_k(10, [0, 1, 5, 10], k=3).round(3)  # 10 draws, c correct: chance that 3 draws hold one
    array([0.   , 0.3  , 0.917, 1.   ])
    """
    n = check_positive_int(n, "n")
    k = check_positive_int(k, "k")
    if k > n:
        raise ValueError(f"k must be at most n ({n}), got {k}")
    c = np.asarray(c)
    if not np.issubdtype(c.dtype, np.integer) or np.any(c < 0) or np.any(c > n):
        raise ValueError(f"c must hold integer counts in [0, {n}]")
    # prod_{i=n-c+1}^{n} (1 - k / i), computed stably
    i = np.arange(1, n + 1)
    with np.errstate(divide="ignore"):
        logs = np.log1p(-np.minimum(k / i, 1.0))  # -inf where i <= k: every k-subset holds a correct one
    csum = np.concatenate([[0.0], np.cumsum(logs[::-1])])  # csum[c]: sum over i = n-c+1..n
    return 1.0 - np.exp(csum[c])


# ----------------------------------------------------------------------------------------------
# Fine-tuning: guess-and-check RL, rejection-sampling fine-tuning, program-written traces
# ----------------------------------------------------------------------------------------------

#: The fine-tuning methods of :func:`finetune`.
FINETUNE_METHODS = ("grpo", "rft", "sft")


class FinetuneResult(NamedTuple):
    """Learning curves of a fine-tuned stack (one column per model)."""

    model: LMEnsemble  # the fine-tuned models
    cost: np.ndarray  # (E,) supervision used per model before each evaluation: verifier calls or traces
    accuracy: np.ndarray  # (E, M) single-sample accuracy (temperature 1) on each model's test prompts
    greedy: np.ndarray  # (E, M) accuracy of the greedy answer (temperature 0) on the same prompts
    flops: np.ndarray  # (E, M) training compute so far: 2 n per token sampled, 6 n per token trained on
    careful: np.ndarray  # (E, M) share of test answers that open a careful trace


def group_advantages(reward: torch.Tensor, *, std_norm: bool = True, eps: float = 1e-4) -> torch.Tensor:
    r"""GRPO's advantages: each reward minus its group's mean (last axis), divided by the group's
    standard deviation plus ``eps`` when ``std_norm`` (Shao et al. 2024; Liu et al. 2025 drop the
    division)."""
    if not isinstance(std_norm, bool):
        raise TypeError(f"std_norm must be True or False, got {std_norm!r}")
    eps = check_real(eps, "eps", low=0, low_open=True)  # eps = 0 divides a group of equal rewards by 0
    r = torch.as_tensor(reward, dtype=torch.float64)
    if r.dim() < 1 or r.shape[-1] < 2:
        raise ValueError(f"reward must have groups of at least 2 on its last axis, got shape {tuple(r.shape)}")
    adv = r - r.mean(-1, keepdim=True)
    return adv / (r.std(-1, keepdim=True) + eps) if std_norm else adv


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, live: torch.Tensor, *,
              completion_len: int, clip: float = 0.2, kl: float = 0.0, ref_logp: torch.Tensor | None = None
              ) -> torch.Tensor:
    r"""The clipped surrogate of GRPO, to be minimized, averaged over answers (second-last axis).

    .. math::
        L = -\frac{1}{N} \sum_i \frac{1}{C} \sum_t \big[\min(\rho_{it} A_i,
        \operatorname{clip}(\rho_{it}, 1-\epsilon, 1+\epsilon) A_i)
        - \beta\, (e^{d_{it}} - d_{it} - 1)\big],

    with :math:`\rho_{it} = e^{\log\pi(x_{it}) - \log\pi_{old}(x_{it})}` over the answer's tokens
    (``live``), :math:`C` the fixed ``completion_len`` (Dr. GRPO's constant in place of each
    answer's length), and the k3 estimate of the KL divergence to a reference model,
    :math:`d_{it} = \log\pi_{ref}(x_{it}) - \log\pi(x_{it})`, weighted by ``kl``.

    Parameters
    ----------
    logp, old_logp : torch.Tensor, shape (..., N, C)
        Token log-probabilities under the model being trained and under the sampling policy.
    advantages : torch.Tensor, shape (..., N)
    live : torch.Tensor, shape (..., N, C)
        1 for the answers' tokens, 0 after their end.
    completion_len : int
    clip, kl : float
    ref_logp : torch.Tensor, optional
        Token log-probabilities under the reference model (needed when ``kl > 0``).
    """
    completion_len = check_positive_int(completion_len, "completion_len")
    clip = check_real(clip, "clip", low=0, low_open=True)
    kl = check_real(kl, "kl", low=0)
    if kl > 0 and ref_logp is None:
        raise ValueError("ref_logp is needed when kl > 0")
    if logp.shape != old_logp.shape or logp.shape != live.shape or advantages.shape != logp.shape[:-1]:
        raise ValueError("logp, old_logp and live must have one shape (..., N, C) and advantages (..., N); got "
                         f"{tuple(logp.shape)}, {tuple(old_logp.shape)}, {tuple(live.shape)}, {tuple(advantages.shape)}")
    ratio = torch.exp(logp - old_logp)
    adv = advantages[..., None]
    obj = torch.minimum(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv) * live
    if kl > 0:
        d = ref_logp - logp
        obj = obj - kl * (torch.exp(d) - d - 1) * live
    return -(obj.sum(-1) / completion_len).mean(-1)


def accuracy(model, task: AdditionTask, prompts: torch.Tensor, *, temperature: float = 1.0,
             samples: int = 1, seed: Seed = 0, seeds: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean accuracy of ``samples`` draws per prompt at ``temperature`` (``(M,)``), and the share
    of draws that open a careful trace (``(M,)``). ``seed`` is one seed for the whole stack; ``seeds``
    (ints or ``SeedSequence`` children, one per model) replaces it, and then each model's answers
    depend on its own seed only."""
    task = _task(task)
    samples = check_positive_int(samples, "samples")
    temperature = check_real(temperature, "temperature", low=0)
    if isinstance(seed, (list, tuple)):
        raise TypeError("seed must be one int or Generator for the whole stack; pass one per model as seeds")
    if seeds is not None:
        if isinstance(seeds, (str, bytes, int)) or len(seeds) != prompts.shape[0]:
            raise ValueError(f"seeds must be one seed per model ({prompts.shape[0]}), got {seeds!r}")
        gen = [torch_generator(as_rng(s)) for s in seeds]
    else:
        gen = torch_generator(as_rng(seed))
    p = prompts.repeat_interleave(samples, dim=1)
    comp = sample(model, p, task.completion_len, temperature=temperature, generator=gen)
    ok = np.stack([verify(task, p[m].numpy(), comp[m].numpy()) for m in range(p.shape[0])])
    return ok.mean(1), (comp[..., 0] == STEPS).double().mean(1).numpy()


def finetune(base: LMEnsemble, task: AdditionTask, method: str, test_prompts: torch.Tensor, seeds: Sequence[int], *,
             steps: int = 60, prompts_per_step: int = 16, group: int = 8, lr=1e-3, schedule="constant",
             epochs: int = 1, std_norm: bool = True, clip: float = 0.2, kl: float = 0.0, eval_every: int = 5,
             eval_samples: int = 2, warmup: int = 10, stop_after: int | None = None,
             n_threads: int | None = None) -> FinetuneResult:
    r"""Fine-tune every model of a stack with one method, recording accuracy against supervision.

    Each step draws ``prompts_per_step`` fresh problems per model and then

    * ``"grpo"`` -- guess-and-check RL: ``group`` answers per prompt from the current model, reward
      :math:`r_i \in \{0, 1\}` from the verifier, advantage :math:`A_i = r_i - \bar r` (divided
      by the group's standard deviation when ``std_norm``; Shao et al. 2024, Liu et al. 2025 drop
      it), and ``epochs`` gradient steps on the clipped surrogate
      :math:`\sum_t \min(\rho_t A_i, \operatorname{clip}(\rho_t, 1 \pm \epsilon) A_i) / C`
      (:math:`\rho_t` the token's probability ratio to the sampling policy, :math:`C` the
      completion length, as in Dr. GRPO) minus ``kl`` times the k3 estimate of the KL divergence
      to the base model. Cost: ``prompts_per_step * group`` verifier calls per step.
    * ``"rft"`` -- rejection-sampling fine-tuning (STaR, RFT, RAFT): the same samples and verifier
      calls, but only the verified answers are kept and the model is fitted to them by maximum
      likelihood, ``epochs`` gradient steps per batch.
    * ``"sft"`` -- supervised fine-tuning on ``prompts_per_step * group`` careful traces written
      by the task's own program (no dropped carries). Cost: traces; no sampling, no verifier.

    With ``epochs`` > 1 each batch is reused for several gradient steps (GRPO's and PPO's inner
    steps: the probability ratio then moves away from 1 and the clip can bind); their compute is
    counted. Every method uses Adam with the learning rate warmed up linearly over ``warmup`` steps
    (the first Adam steps move every weight by about ``lr`` whatever the gradient's size, which can
    break a small pretrained model), then held (``schedule="constant"``) or decayed on a cosine to a
    tenth (``"cosine"``, :func:`lr_factor`). Model ``m`` draws its problems, answers and
    evaluation samples from children of ``seeds[m]`` only, so its run is the same whichever models
    share the stack; a stack may hold the same base model several times with different learning
    rates and schedules (``lr`` and ``schedule`` per model), and those copies then see the same
    problems. ``stop_after`` stops after that many of the ``steps`` (the schedule still runs over
    ``steps``): the start of a longer run, exactly.

    Returns
    -------
    FinetuneResult
        Evaluated at step 0 and every ``eval_every`` steps: ``eval_samples`` answers per test
        prompt at temperature 1, and the greedy answer.
    """
    task = _task(task)
    if method not in FINETUNE_METHODS:
        raise ValueError(f"method must be one of {FINETUNE_METHODS}, got {method!r}")
    if not isinstance(base, LMEnsemble):
        raise TypeError(f"base must be an LMEnsemble, got {type(base).__name__}")
    seeds = _stack_seeds(seeds)
    M = base.n_models
    if len(seeds) != M:
        raise ValueError(f"seeds must have one entry per model ({M}), got {len(seeds)}")
    if not isinstance(test_prompts, torch.Tensor) or test_prompts.dim() != 3 or test_prompts.shape[0] != M \
            or test_prompts.shape[2] != task.prompt_len:
        raise ValueError(f"test_prompts must be a tensor of shape ({M}, N, {task.prompt_len})")
    steps = check_positive_int(steps, "steps")
    P = check_positive_int(prompts_per_step, "prompts_per_step")
    G = check_positive_int(group, "group", minimum=2 if method == "grpo" else 1)
    epochs = check_positive_int(epochs, "epochs")
    eval_every = check_positive_int(eval_every, "eval_every")
    eval_samples = check_positive_int(eval_samples, "eval_samples")
    warmup = check_positive_int(warmup, "warmup")
    stop_after = steps if stop_after is None else check_positive_int(stop_after, "stop_after")
    if stop_after > steps:
        raise ValueError(f"stop_after must be at most steps ({steps}), got {stop_after!r}")
    clip = check_real(clip, "clip", low=0, low_open=True)
    kl = check_real(kl, "kl", low=0)
    lr_array = np.asarray(lr)
    if lr_array.dtype.kind not in "iuf":  # '1e-3' would be read as a number
        raise TypeError(f"lr must be a number or one number per model, got {lr!r}")
    if lr_array.ndim > 1 or (lr_array.ndim == 1 and lr_array.size not in (1, M)):
        raise ValueError(f"lr must be one number or one per model ({M}), got shape {lr_array.shape}")
    lrs = np.broadcast_to(lr_array.astype(float), (M,))
    if not np.all(np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError(f"lr must be positive (one number or one per model), got {lr!r}")
    schedules = [schedule] * M if isinstance(schedule, str) else list(schedule) \
        if isinstance(schedule, (list, tuple, np.ndarray)) else None
    if schedules is None or len(schedules) != M or any(x not in SCHEDULES for x in schedules):
        raise ValueError(f"schedule must be one of {SCHEDULES} or one per model ({M}), got {schedule!r}")
    C, Pl = task.completion_len, task.prompt_len
    with _threads(n_threads):
        net = stack_models([base])
        ref = stack_models([base]) if (method == "grpo" and kl > 0) else None
        opt = _Adam(net, lrs, betas=(0.9, 0.99))
        rngs = [as_rng(child_seed(s, 2)) for s in seeds]
        gen = [torch_generator(child_seed(s, 3)) for s in seeds]
        eval_seeds = [child_seed(s, 4) for s in seeds]
        cost, acc, greedy, flops, careful = [], [], [], [], []
        spent, used = 0, np.zeros(M)
        n_par = net.n_params()

        def record(step):
            a, c = accuracy(net, task, test_prompts, samples=eval_samples,
                            seeds=[child_seed(e, step) for e in eval_seeds])
            g, _ = accuracy(net, task, test_prompts, temperature=0.0)
            cost.append(spent), acc.append(a), greedy.append(g), flops.append(used.copy()), careful.append(c)

        record(0)
        for step in range(1, stop_after + 1):
            if method == "sft":  # P * G distinct problems, each with its program-written trace
                prompts = np.stack([make_problems(task, P * G, r) for r in rngs])
                p_rep = torch.as_tensor(prompts)
                comp = torch.as_tensor(np.stack([careful_traces(task, prompts[m], 0, p_drop=0.0) for m in range(M)]))
                weight = torch.ones(M, P * G, dtype=torch.float64)
            else:
                prompts = np.stack([make_problems(task, P, r) for r in rngs])  # (M, P, Pl)
                p_rep = torch.as_tensor(prompts).repeat_interleave(G, dim=1)  # (M, P*G, Pl)
            if method != "sft":
                comp = sample(net, p_rep, C, generator=gen)
                used += 2 * n_par * (Pl + _live(comp).sum(-1).double()).sum(-1).numpy()
                reward = torch.as_tensor(np.stack([verify(task, p_rep[m].numpy(), comp[m].numpy())
                                                   for m in range(M)]), dtype=torch.float64)
                if method == "rft":
                    weight = reward
                else:
                    adv = group_advantages(reward.reshape(M, P, G), std_norm=std_norm).reshape(M, P * G)
                    old = completion_logprobs(net, p_rep, comp)
                    live = _live(comp).double()
                    base_lp = completion_logprobs(ref, p_rep, comp) if ref is not None else None
            spent += P * G
            for _ in range(epochs):
                if method == "grpo":
                    new = completion_logprobs(net, p_rep, comp, grad=True)
                    loss = grpo_loss(new, old, adv, live, completion_len=C, clip=clip, kl=kl, ref_logp=base_lp)
                    used += 6 * n_par * (Pl + live.sum(-1)).sum(-1).detach().numpy()
                else:
                    seqs = torch.cat([p_rep, comp], dim=-1)
                    nll = _completion_nll(net, seqs, Pl).double()
                    loss = (weight * nll).sum(-1) / weight.sum(-1).clamp(min=1.0)
                    used += 6 * n_par * ((Pl + _live(comp).sum(-1).double()) * weight).sum(-1).numpy()
                loss.sum().backward()
                factors = [lr_factor(x, step, steps, warmup) for x in schedules]
                opt.step(factors[0] if len(set(schedules)) == 1 else factors)
            if step % eval_every == 0 or step == stop_after:
                record(step)
    return FinetuneResult(net, np.array(cost, dtype=float), np.array(acc), np.array(greedy), np.array(flops),
                          np.array(careful))
