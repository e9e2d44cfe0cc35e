"""Shared experiment machinery: seed sweeps, samples-to-target, bootstrap intervals, a disk cache.

Every chapter measures the same thing: how many samples a method needs before its learning curve
reaches a target, over many seeds, summarized by a median with a bootstrap confidence interval, and
compared with another method through the ratio of medians. The pieces here do exactly that and
nothing else, so the chapters and the scoreboard (:mod:`ce_lib.scoreboard`) agree by construction.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import inspect
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Sequence

import numpy as np
from joblib import Parallel, delayed, parallel_config

if TYPE_CHECKING:
    import torch

__all__ = [
    "HOLD",
    "Interval",
    "MethodResult",
    "REPORTED_SEED_START",
    "TUNING_SEED_START",
    "TUNING_STATISTICS",
    "argmax_random_ties",
    "as_float_array",
    "as_rng",
    "best_by_tuning",
    "bootstrap_median",
    "loglog_slope",
    "bootstrap_ratio",
    "cache_dir",
    "cached",
    "code_fingerprint",
    "censor",
    "check_finite_array",
    "child_seed",
    "check_positive_int",
    "check_seeds",
    "check_real",
    "grid_tuning",
    "hit_summary",
    "log_grid",
    "make_record",
    "reported_seeds",
    "module_dependencies",
    "parallel_map",
    "progress_enabled",
    "ratio_bound",
    "run_seeds",
    "samples_to_target",
    "seed_span",
    "spawn_rngs",
    "Seed",
    "seed_int",
    "torch_generator",
    "tuning_score",
    "tuning_seeds",
    "window_mean",
    "torch_threads",
]


class Interval(NamedTuple):
    """A point estimate with a confidence interval."""

    median: float  #: the point estimate (a median, or a ratio of medians)
    lo: float  #: lower end of the confidence interval
    hi: float  #: upper end of the confidence interval

    def as_dict(self) -> dict:
        """The ``{"median", "lo", "hi"}`` mapping used by the scoreboard records."""
        return {"median": float(self.median), "lo": float(self.lo), "hi": float(self.hi)}


# ----------------------------------------------------------------------------------------------
# Validation helpers shared by the library
# ----------------------------------------------------------------------------------------------


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an ``int``; raise ``TypeError`` (not an integer) or ``ValueError``
    (below ``minimum``), naming the argument ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_real(value: Any, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, allow_inf: bool = False) -> float:
    """Return ``value`` as a ``float`` after checking it is a finite real number within bounds.

    Raises ``TypeError`` for anything that is not a real number (a string, ``None``, a bool, an
    array) and ``ValueError`` for NaN, an infinity (unless ``allow_inf``) or a value outside
    ``[low, high]`` (open at an end when ``low_open`` / ``high_open``); the message names ``name``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    x = float(value)
    if np.isnan(x) or (np.isinf(x) and not allow_inf):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and (x > high or (high_open and x == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value!r}")
    return x


def as_float_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a float array (NaN and inf allowed: a missing point, a miss), or a ``TypeError``
    naming ``name`` for a string, ``None`` or anything else that is not numbers."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {value!r}")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers, got {value!r}") from err


def check_finite_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float array, raising ``ValueError`` if it is not finite or of the wrong rank."""
    if isinstance(value, str) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__} {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of numbers, got {value!r}") from err
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def as_rng(seed: Any) -> np.random.Generator:
    """Turn a seed (int, sequence of ints or a Generator) into a ``numpy.random.Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or seed is None:
        raise TypeError("seed must be an int, a sequence of ints or a numpy Generator; got "
                        f"{seed!r} (no implicit global seeding in ce_lib)")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise ValueError(f"seed must be a non-negative int or a sequence of them, got {seed!r}") from err


Seed = int | np.random.Generator
"""What every function of one random run takes as ``seed``: a non-negative int or a numpy Generator.

The seed rule of ``ce_lib``, in full:

- **One run** takes ``seed``, an int or a ``numpy.random.Generator`` (drawn from, never reset);
  :func:`as_rng` turns either into a Generator. Where another library needs a plain integer
  (gymnasium's ``reset``, stable-baselines3, a stored run keyed by its seed), :func:`seed_int`
  passes an int through and draws one from a Generator.
- **A batch of runs** takes either ``seeds``, a sequence of ints (run ``i`` is the run with
  ``seed=seeds[i]``, whatever else is in the batch), or ``n_runs`` with one ``seed`` that all its
  runs draw from (one stream, or ``seed``'s ``SeedSequence`` children through :func:`spawn_rngs`;
  each function's docstring says which).
- **The steps inside a run** (a learner's ``select`` or ``act``, a problem's ``draw`` or
  ``sample``, a gradient estimate) receive the run's numpy Generator as ``rng``, or a torch
  generator as ``generator`` (``generators``: one per stacked model), made by
  :func:`torch_generator` and nowhere else. ``None`` there means that the step draws nothing
  (greedy sampling, a search in the rules' order), never a global generator.
- Where torch's own code draws from its global generator (a layer's default initialization, a
  distribution's ``sample``), the function seeds it from ``seed`` inside
  ``torch.random.fork_rng()``, so the caller's generators are as they were afterwards.
"""


def seed_int(seed: Seed, name: str = "seed") -> int:
    """A plain non-negative int from a seed: an int passes through unchanged (so an int-seeded run is
    the run with that number), a Generator gives ``integers(2**31)`` drawn from itself."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative int or a numpy Generator, got {type(seed).__name__}")
    return check_positive_int(seed, name, minimum=0)


def torch_generator(seed: Seed) -> "torch.Generator":
    """The one place ``ce_lib`` makes a ``torch.Generator``: from an int, seeded with it; from a numpy
    Generator (or a ``SeedSequence``, turned into one), seeded with a 62-bit integer drawn from it."""
    import torch

    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return torch.Generator().manual_seed(check_positive_int(int(seed), "seed", minimum=0))
    if not isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        raise TypeError(f"seed must be an int, a numpy Generator or a SeedSequence, got {type(seed).__name__}")
    return torch.Generator().manual_seed(int(as_rng(seed).integers(2**62)))


def spawn_rngs(seed: Any, n: int) -> list[np.random.Generator]:
    """``n`` independent generators derived from ``seed`` (``numpy.random.SeedSequence`` children).

    For an int, a sequence of ints or a ``SeedSequence``, the ``i``-th generator is a pure function
    of ``seed`` and ``i`` (the child with spawn key ``i``), however often it is asked for: a
    simulation that gives run ``i`` generator ``i`` hands the same random numbers to run ``i`` of
    every method it is called with (common random numbers), whatever the other runs do. A
    ``Generator`` is split with its own ``spawn``, which gives fresh children at every call.

    Parameters
    ----------
    seed : int, sequence of ints, numpy.random.SeedSequence or numpy.random.Generator
    n : int
    """
    n = check_positive_int(n, "n")
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n))
    if not isinstance(seed, np.random.SeedSequence):
        as_rng(seed)  # the same checks and messages as everywhere else
        seed = np.random.SeedSequence(seed)
    return [np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i),
                                                         pool_size=seed.pool_size)) for i in range(n)]


def child_seed(seed: Any, i: int) -> np.random.SeedSequence:
    """The ``i``-th child of an int or ``SeedSequence`` seed, as :func:`spawn_rngs` makes it: a seed
    to hand on to a function that splits it further (every call gets the same child)."""
    i = check_positive_int(i, "i", minimum=0)
    if not isinstance(seed, np.random.SeedSequence):
        if isinstance(seed, np.random.Generator):
            raise TypeError("seed must be an int, a sequence of ints or a SeedSequence to take a fixed child")
        as_rng(seed)
        seed = np.random.SeedSequence(seed)
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i), pool_size=seed.pool_size)


# ----------------------------------------------------------------------------------------------
# Samples to target
# ----------------------------------------------------------------------------------------------


def log_grid(maximum: int, per_decade: int = 5) -> np.ndarray:
    """Integer checkpoints from 1 to ``maximum``, about ``per_decade`` per decade, log-spaced,
    without repeats (where learning curves are recorded)."""
    maximum = check_positive_int(maximum, "maximum")
    per_decade = check_positive_int(per_decade, "per_decade")
    n = int(per_decade * np.log10(maximum)) + 1
    return np.unique(np.round(np.logspace(0, np.log10(maximum), n)).astype(int))


def samples_to_target(samples, values, target: float, *, direction: str = "below",
                      persist: bool = False, hold: float | None = None) -> np.ndarray:
    """Samples a learning curve needs to reach ``target``.

    Parameters
    ----------
    samples : array_like, shape (T,)
        Cumulative number of samples at each point of the curve, strictly increasing.
    values : array_like, shape (..., T)
        One learning curve per leading index (for example one per seed), measured at ``samples``.
    target : float
        The level to reach.
    direction : {"below", "above"}
        ``"below"`` when smaller is better (an error, a cost, a regret); ``"above"`` for a return.
    persist : bool
        If true, count the first point from which the curve stays at the target until the end,
        instead of the first point that touches it (useful for noisy curves).
    hold : float, optional
        If given (a factor >= 1), count the first point :math:`t` at which the curve is at the
        target and still is at every recorded point up to and including the first recorded point
        at or beyond ``hold * samples[t]`` (which must exist): "reach the target and hold it for a
        while". On a coarse grid the check therefore reaches the next point even when it lies
        further than ``hold`` times away.

    Returns
    -------
    numpy.ndarray, shape (...)
        ``samples[t]`` at the first qualifying point ``t``, or ``numpy.inf`` if the curve never
        qualifies. :func:`hit_summary` turns the infinities into the budget and a success rate.

    Notes
    -----
    With :math:`v_t` the curve and :math:`n_t` the sample counts, the result is
    :math:`n_{\\tau}` with :math:`\\tau = \\min\\{t : v_t \\le \\text{target}\\}` (for ``"below"``).
    """
    n = check_finite_array(samples, "samples", ndim=1)
    if n.size == 0:
        raise ValueError("samples must not be empty")
    if np.any(np.diff(n) <= 0):
        raise ValueError("samples must be strictly increasing")
    v = as_float_array(values, "values")
    if v.ndim == 0 or v.shape[-1] != n.size:
        raise ValueError(f"values must have last dimension {n.size} (the length of samples), "
                         f"got shape {v.shape}")
    if np.any(np.isnan(v)):
        raise ValueError("values must not contain NaN (use inf for a diverged run)")
    target = check_real(target, "target")
    if direction == "below":
        ok = v <= target
    elif direction == "above":
        ok = v >= target
    else:
        raise ValueError(f"direction must be 'below' or 'above', got {direction!r}")
    if persist:
        # ok_from[t] is true when every point from t to the end qualifies.
        ok = np.flip(np.logical_and.accumulate(np.flip(ok, axis=-1), axis=-1), axis=-1)
    if hold is not None:
        hold = check_real(hold, "hold", low=1.0)
        # j(t): the first recorded point at or beyond hold * n_t; it must exist, and the curve must
        # qualify at every point from t up to and including j(t).
        j = np.searchsorted(n, hold * n, side="left")
        exists = j < n.size
        j = np.minimum(j, n.size - 1)
        bad_before = np.concatenate([np.zeros(ok.shape[:-1] + (1,), dtype=int),
                                     np.cumsum(~ok, axis=-1)], axis=-1)
        held = (bad_before[..., j + 1] - bad_before[..., : n.size]) == 0
        ok = held & exists
    hit = ok.any(axis=-1)
    first = np.argmax(ok, axis=-1)
    return np.where(hit, n[first], np.inf)


# ----------------------------------------------------------------------------------------------
# Bootstrap intervals
# ----------------------------------------------------------------------------------------------


def _check_level(level: float) -> float:
    return check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)


def bootstrap_median(x, *, level: float = 0.95, n_boot: int = 2000, seed: Seed = 0) -> Interval:
    """Median of ``x`` with a percentile-bootstrap confidence interval.

    Parameters
    ----------
    x : array_like, shape (n,)
        One number per seed (``inf`` allowed, e.g. a censored count; it sorts last).
    level : float
        Coverage of the interval, in (0, 1).
    n_boot : int
        Number of bootstrap resamples.
    seed : int or numpy.random.Generator
        Randomness of the resampling (fixed by default so that reports are reproducible).

    Returns
    -------
    Interval
        ``(median, lo, hi)``.
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"x must be a non-empty 1-d array, got shape {arr.shape}")
    if np.any(np.isnan(arr)):
        raise ValueError("x must not contain NaN")
    level = _check_level(level)
    n_boot = check_positive_int(n_boot, "n_boot")
    rng = as_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_boot, arr.size))
    meds = np.median(arr[idx], axis=1)
    alpha = (1.0 - level) / 2.0
    return Interval(float(np.median(arr)), *_quantiles_with_inf(meds, (alpha, 1.0 - alpha)))


def _quantiles_with_inf(values: np.ndarray, qs) -> list[float]:
    """numpy's (linear) quantiles of ``values``, where ``inf`` sorts last: numpy itself interpolates a
    finite value towards ``inf`` as ``a + (inf - a) * 0 = nan`` and two infinities as ``inf - inf``.
    An infinity is replaced by a finite stand-in above every finite value; a quantile that lands above
    the largest finite value was drawn towards it, and is ``inf``."""
    big = np.isposinf(values)
    if not big.any():
        return [float(np.quantile(values, q)) for q in qs]
    finite = values[~big]
    top = float(finite.max()) if finite.size else 0.0
    stand_in = np.where(big, 2.0 * abs(top) + 1.0, values)
    return [float(x) if x <= top else float("inf") for x in (np.quantile(stand_in, q) for q in qs)]


def bootstrap_ratio(numerator, denominator, *, paired: bool = True, level: float = 0.95,
                    n_boot: int = 2000, seed: Seed = 0) -> Interval:
    """Ratio of medians, ``median(numerator) / median(denominator)``, with a bootstrap interval.

    This is the scoreboard's headline number: numerator = samples the best RL method needed,
    denominator = samples the best CE method needed, one entry per seed.

    Parameters
    ----------
    numerator, denominator : array_like, shape (n,)
        Positive numbers, one per seed.
    paired : bool
        If true (the default, since both methods ran on the same seeds), resample seeds jointly;
        otherwise resample the two samples independently (they may then differ in length).
    level, n_boot, seed
        As in :func:`bootstrap_median`.

    Returns
    -------
    Interval
        ``(ratio of medians, lo, hi)``.

    Notes
    -----
    .. math:: \\hat r = \\operatorname{median}(a_{1:n}) / \\operatorname{median}(b_{1:n}),

    and the interval is the percentile interval of :math:`\\hat r` over resampled seeds.
    """
    if not isinstance(paired, bool):
        raise TypeError(f"paired must be True or False, got {paired!r}")
    a = as_float_array(numerator, "numerator")
    b = as_float_array(denominator, "denominator")
    for arr, name in ((a, "numerator"), (b, "denominator")):
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-d array, got shape {arr.shape}")
        if np.any(np.isnan(arr)) or np.any(arr <= 0):
            raise ValueError(f"{name} must contain positive numbers only")
        if not np.all(np.isfinite(arr)):  # an inf median made the ratio inf and its interval NaN
            raise ValueError(f"{name} must be finite: count a miss at its budget first (censor)")
    if paired and a.size != b.size:
        raise ValueError(f"paired=True needs numerator and denominator of equal length, "
                         f"got {a.size} and {b.size}")
    level = _check_level(level)
    n_boot = check_positive_int(n_boot, "n_boot")
    rng = as_rng(seed)
    ia = rng.integers(0, a.size, size=(n_boot, a.size))
    ib = ia if paired else rng.integers(0, b.size, size=(n_boot, b.size))
    ratios = np.median(a[ia], axis=1) / np.median(b[ib], axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(ratios, alpha), np.quantile(ratios, 1.0 - alpha)
    return Interval(float(np.median(a) / np.median(b)), float(lo), float(hi))


def loglog_slope(dims, hits, *, budget=None, baseline=None, n_boot: int = 2000, seed: Seed = 0) -> Interval:
    r"""Slope of log(median samples) against log(difficulty), with a bootstrap interval over seeds.

    How a method's cost grows with a difficulty parameter (the dimension in :ref:`ch-dfo`, the rarity of
    the right strategy in :ref:`ch-reasoning`): a slope of 1 means cost proportional to the difficulty.
    With ``baseline`` (another method's hits on the same seeds and levels), the difference of the two
    slopes, bootstrapped over the same resampled seeds (a paired interval).

    Parameters
    ----------
    dims : array_like, shape (D,)
        The difficulty levels (positive).
    hits : array_like, shape (D, n_seeds)
        Samples to target (``inf`` counts at ``budget``).
    budget : array_like, shape (D,), optional
        Needed when ``hits`` (or ``baseline``) has misses.
    baseline : array_like, shape (D, n_seeds), optional
        Hits of the method whose slope is subtracted.

    Returns
    -------
    Interval
        Least-squares slope of :math:`\log \operatorname{median} N(d)` on :math:`\log d` (minus
        the baseline's).
    """
    d = check_finite_array(dims, "dims", ndim=1)
    if d.size < 2 or np.any(d <= 0):
        raise ValueError("dims must hold at least two positive dimensions")

    def table(x, name):
        h = np.asarray(x, dtype=float)
        if h.ndim != 2 or h.shape[0] != d.size:
            raise ValueError(f"{name} must have shape ({d.size}, n_seeds), got {h.shape}")
        if budget is not None:
            h = censor(h, np.asarray(budget, dtype=float)[:, None])
        if not np.all(np.isfinite(h)) or np.any(h <= 0):
            raise ValueError(f"{name} must be positive and finite (pass budget to count misses)")
        return h

    h = table(hits, "hits")
    b = None if baseline is None else table(baseline, "baseline")
    if b is not None and b.shape != h.shape:
        raise ValueError(f"baseline must have the shape of hits {h.shape}, got {b.shape}")
    n_boot = check_positive_int(n_boot, "n_boot")
    x = np.log(d)

    def slope(i):
        s = float(np.polyfit(x, np.log(np.median(h[:, i], axis=1)), 1)[0])
        return s if b is None else s - float(np.polyfit(x, np.log(np.median(b[:, i], axis=1)), 1)[0])

    rng = as_rng(seed)
    idx = rng.integers(0, h.shape[1], size=(n_boot, h.shape[1]))
    boot = [slope(i) for i in idx]
    return Interval(slope(np.arange(h.shape[1])), float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975)))


def censor(hits, budget) -> np.ndarray:
    """Samples-to-target with every miss (``inf``) counted at ``budget``: the statistic every
    chapter reports and every tuning minimizes.

    Parameters
    ----------
    hits : array_like
        Samples to target per seed, ``inf`` for a seed that never reached it.
    budget : float or array_like
        The samples each seed was allowed (positive and finite), one number or an array that
        broadcasts against ``hits`` (for example one budget per row of a (dims, seeds) table, as
        ``budget[:, None]``); no hit may exceed its budget.

    Returns
    -------
    numpy.ndarray
        ``hits`` with ``inf`` replaced by ``budget``.
    """
    h = as_float_array(hits, "hits")
    if h.size == 0:
        raise ValueError("hits must not be empty")
    if np.any(np.isnan(h)) or np.any(h < 0):
        raise ValueError("hits must hold non-negative numbers or inf (a miss)")
    if np.ndim(budget) == 0:
        b = check_real(budget, "budget", low=0, low_open=True)
    else:
        b = check_finite_array(budget, "budget")
        if np.any(b <= 0):
            raise ValueError("budget must be positive")
        try:
            np.broadcast_shapes(h.shape, b.shape)
        except ValueError as err:
            raise ValueError(f"budget of shape {b.shape} does not broadcast against hits of shape {h.shape}") from err
    if np.any(np.where(np.isfinite(h), h, 0.0) > b):
        raise ValueError(f"hits must not exceed budget; got {h[np.isfinite(h)].max():g}")
    return np.where(np.isfinite(h), h, b)


#: The statistics a tuning grid can rank configurations by (see :func:`tuning_score`).
TUNING_STATISTICS = ("median", "mean")


def tuning_score(hits, budget: float, statistic: str = "median") -> tuple[float, float, float]:
    """How a tuning grid ranks a configuration (smaller is better).

    With ``statistic="median"`` (the default): ``(median, -success_rate, mean)`` of the
    samples-to-target over the tuning seeds, misses counted at ``budget`` -- first the median, the
    number the chapters and the scoreboard report, then, to break ties (for example several
    configurations censored at the budget), the share of seeds that reached the target, then the
    mean. With ``statistic="mean"``: ``(mean, -success_rate, median)``, a ranking that sees a
    setting failing on one tuning seed in three, which the median cannot.
    """
    if statistic not in TUNING_STATISTICS:
        raise ValueError(f"statistic must be one of {TUNING_STATISTICS}, got {statistic!r}")
    c = censor(hits, budget)
    med, rate, mean = float(np.median(c)), -float(np.mean(np.isfinite(np.asarray(hits, dtype=float)))), float(np.mean(c))
    return (med, rate, mean) if statistic == "median" else (mean, rate, med)


def best_by_tuning(candidates: Sequence, budget: float, statistic: str = "median") -> int:
    """Index of the candidate whose tuning hits score best by :func:`tuning_score` (first on ties).

    Parameters
    ----------
    candidates : sequence of array_like
        Samples-to-target on the tuning seeds, one array per configuration or method.
    budget : float
    statistic : {"median", "mean"}
        What ranks them first (misses at the budget).
    """
    candidates = list(candidates)
    if not candidates:
        raise ValueError("candidates must not be empty")
    if statistic not in TUNING_STATISTICS:
        raise ValueError(f"statistic must be one of {TUNING_STATISTICS}, got {statistic!r}")
    scores = [tuning_score(c, budget, statistic) for c in candidates]
    return int(min(range(len(scores)), key=scores.__getitem__))


#: First seed of the runs every chapter reports, and of the disjoint runs used for tuning and for
#: choosing each family's best method. Seeds are these explicit numbers, never derived from labels.
REPORTED_SEED_START, TUNING_SEED_START = 0, 1000

#: The book's hold factor: a count of samples to a target counts only if the target is still met at
#: every checkpoint up to this factor later (``samples_to_target(..., hold=HOLD)``); the gym tasks,
#: whose evaluations are far apart, use their own (:data:`ce_lib.gym_tasks.GYM_HOLD`).
HOLD = 1.25


def reported_seeds(n: int) -> tuple[int, ...]:
    """The first ``n`` reported seeds (from :data:`REPORTED_SEED_START`): what the chapters report on."""
    n = check_positive_int(n, "n")
    return tuple(range(REPORTED_SEED_START, REPORTED_SEED_START + n))


def tuning_seeds(n: int) -> tuple[int, ...]:
    """The seeds of ``n`` tuning runs: ``1000 .. 1000 + n - 1`` (disjoint from the reported ones)."""
    n = check_positive_int(n, "n")
    return tuple(range(TUNING_SEED_START, TUNING_SEED_START + n))


def seed_span(seeds: Sequence[int]) -> str:
    """``"1000-1009"`` for a run of consecutive seeds (the form records and chapters print)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return ", ".join(map(str, seeds))


def grid_tuning(n_configs: int, seeds: Sequence[int] | str, statistic: str = "median") -> str:
    """The ``tuning`` text of a method tuned over a grid: how many settings, on which seeds, by what.

    ``seeds`` is the list of tuning seeds, or a phrase for runs split from one seed (for example
    ``"20 runs split from seed 1000"``); ``statistic`` what ranked them (:func:`tuning_score`)."""
    n_configs = check_positive_int(n_configs, "n_configs")
    if statistic not in TUNING_STATISTICS:
        raise ValueError(f"statistic must be one of {TUNING_STATISTICS}, got {statistic!r}")
    where = seeds if isinstance(seeds, str) else f"seeds {seed_span(seeds)}"
    return f"grid of {n_configs} on {where}, chosen by {statistic} samples-to-target (misses at the budget)"


def hit_summary(hits, budget: float, *, level: float = 0.95, seed: Seed = 0) -> dict:
    """Summarize samples-to-target over seeds the way the scoreboard reports it.

    A seed that never reached the target (``inf``) counts at ``budget``, and the success rate says
    how many did reach it.

    Returns
    -------
    dict
        ``{"samples_to_target": {"median", "lo", "hi"}, "success_rate": float}``.
    """
    h = np.asarray(hits, dtype=float)
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"hits must be a non-empty 1-d array, got shape {h.shape}")
    ci = bootstrap_median(censor(h, budget), level=level, seed=seed)
    return {"samples_to_target": ci.as_dict(), "success_rate": float(np.mean(np.isfinite(h)))}


class MethodResult(NamedTuple):
    """One method's samples-to-target, as :func:`make_record` takes it."""

    name: str  #: the name a reader recognises (it is shown in tables and figures)
    family: str  #: "ce" (certainty equivalence) or "rl" (reinforcement learning)
    hits: Any  #: samples to target on the reported seeds, in seed order (inf = never reached)
    tuning: str = "none needed"  #: how its settings were chosen ("published: ...", "grid of N on seeds ...")
    tuning_hits: Any = None  #: the same settings on the tuning seeds; picks the family's best method
    budget: Any = None  #: samples this method was allowed, if not the record's budget (a number or one per seed)


def _median_censored(h: np.ndarray) -> bool:
    """True when the median of per-seed counts depends on a miss (the upper middle value is one)."""
    n = h.size
    return int(np.sum(~np.isfinite(h))) >= n - n // 2


def ratio_bound(rl_hits, ce_hits) -> str:
    """What kind of number the ratio of medians (RL / CE) is, given each side's per-seed counts.

    ``"lower"`` when the RL median depends on seeds that never reached the target (counted at the
    budget, so the ratio is at least what is printed), ``"upper"`` when the CE median does,
    ``"none"`` when both do, ``"exact"`` otherwise.
    """
    rl, ce = (np.asarray(h, dtype=float) for h in (rl_hits, ce_hits))
    for h, name in ((rl, "rl_hits"), (ce, "ce_hits")):
        if h.ndim != 1 or h.size == 0 or np.any(np.isnan(h)):
            raise ValueError(f"{name} must be a non-empty 1-d array of counts (inf for a miss)")
    return {(False, False): "exact", (True, False): "lower", (False, True): "upper", (True, True): "none"}[
        (_median_censored(rl), _median_censored(ce))]


def make_record(*, chapter: str, task: str, metric: str, target: float, budget: float, information: str,
                ce_given: str = "", methods: Sequence[MethodResult], seed: Seed = 0) -> dict:
    """Build one scoreboard record (the format of :mod:`ce_lib.scoreboard`).

    Parameters
    ----------
    chapter, task, metric : str
        What the record is about.
    target : float
        The level that was to be reached.
    budget : float
        Samples each method was allowed; misses count at it. A method with its own ``budget``
        (a smaller cap, say) counts its misses at that instead, and should say so in its name.
    information : {"same", "more"}
        ``"same"`` when the CE methods learn only from what the RL methods observed, ``"more"``
        when CE is given something beyond that; ``ce_given`` then says what, in one sentence.
    methods : sequence of MethodResult
        Every method's hits on the same reported seeds (same order, so the ratio can pair them).
        Where a family has several methods, each needs ``tuning_hits`` on the tuning seeds: the
        family's best method is the one with the best :func:`tuning_score` there, never on the
        reported seeds.
    seed : int
        Seed of the bootstrap resampling.

    Returns
    -------
    dict
        The record. ``ratio`` is (best RL median) / (best CE median) on the reported seeds with a
        paired bootstrap interval; ``ratio["bound"]`` is ``"lower"`` when the RL median is censored
        at the budget (the ratio is at least this), ``"upper"`` when the CE median is, ``"none"``
        when both are (the ratio then says nothing) and ``"exact"`` otherwise.
    """
    if information not in ("same", "more"):
        raise ValueError(f"information must be 'same' or 'more', got {information!r}")
    if not isinstance(ce_given, str) or (information == "more") != bool(ce_given.strip()):
        raise ValueError("ce_given must say what CE is told when information is 'more', and be empty "
                         f"when it is 'same'; got information={information!r}, ce_given={ce_given!r}")
    budget = check_real(budget, "budget", low=0, low_open=True)
    target = check_real(target, "target")
    methods = [MethodResult(*m) for m in methods]
    if not methods:
        raise ValueError("methods must not be empty")
    hits = {}
    for m in methods:
        if m.family not in ("ce", "rl"):
            raise ValueError(f"methods: family of {m.name!r} must be 'ce' or 'rl', got {m.family!r}")
        if m.name in hits:
            raise ValueError(f"methods: {m.name!r} appears twice")
        if not isinstance(m.tuning, str) or not m.tuning.strip():
            raise ValueError(f"methods: {m.name!r} needs a tuning description")
        h = np.asarray(m.hits, dtype=float)
        if h.ndim != 1 or h.size == 0:
            raise ValueError(f"methods: hits of {m.name!r} must be a non-empty 1-d array, got shape {h.shape}")
        hits[m.name] = h
    sizes = {h.size for h in hits.values()}
    if len(sizes) != 1:
        raise ValueError(f"methods: every method needs hits on the same seeds, got lengths {sorted(sizes)}")
    best = {}
    for fam in ("ce", "rl"):
        family = [m for m in methods if m.family == fam]
        if not family:
            raise ValueError(f"methods must include at least one {fam!r} method")
        if len(family) == 1:
            best[fam] = family[0].name
            continue
        missing = [m.name for m in family if m.tuning_hits is None]
        if missing:
            raise ValueError(f"methods: {missing} need tuning_hits: with several {fam!r} methods the best is "
                             "chosen on the tuning seeds")
        best[fam] = family[best_by_tuning([m.tuning_hits for m in family], budget)].name
    budgets = {m.name: budget if m.budget is None else m.budget for m in methods}
    rl, ce = hits[best["rl"]], hits[best["ce"]]
    ratio = bootstrap_ratio(np.maximum(censor(rl, budgets[best["rl"]]), 1.0),
                            np.maximum(censor(ce, budgets[best["ce"]]), 1.0), seed=seed)
    bound = ratio_bound(rl, ce)
    return {"chapter": chapter, "task": task, "metric": metric, "target": float(target),
            "n_seeds": int(next(iter(sizes))), "budget": float(budget), "information": information,
            "ce_given": ce_given.strip(),
            "methods": [{"name": m.name, "family": m.family, **hit_summary(hits[m.name], budgets[m.name], seed=seed),
                         "tuning": m.tuning} for m in methods],
            "ratio": {**ratio.as_dict(), "bound": bound, "rl": best["rl"], "ce": best["ce"]}}


# ----------------------------------------------------------------------------------------------
# Small shared pieces: ties, sliding windows
# ----------------------------------------------------------------------------------------------


def argmax_random_ties(values, rng: np.random.Generator, *, atol: float = 0.0) -> np.ndarray:
    """Row-wise argmax over the last axis, ties (within ``atol`` of the maximum) broken uniformly at random.

    Used by every learner that acts greedily on estimates that start out equal.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 0 or v.shape[-1] == 0:
        raise ValueError(f"values must have at least one entry along the last axis, got shape {v.shape}")
    top = v >= v.max(axis=-1, keepdims=True) - atol
    return np.argmax(np.where(top, rng.random(v.shape), -1.0), axis=-1)


def window_mean(x, window: int) -> np.ndarray:
    """Mean of each sliding window of ``window`` consecutive entries along the last axis.

    Entry ``t`` of the result covers ``x[..., t : t + window]``; the result has
    ``T - window + 1`` entries (the last window ends at round ``T``).
    """
    window = check_positive_int(window, "window")
    a = np.asarray(x, dtype=float)
    if a.ndim == 0 or a.shape[-1] < window:
        raise ValueError(f"x must have at least window = {window} entries along its last axis, got shape {a.shape}")
    c = np.concatenate([np.zeros(a.shape[:-1] + (1,)), np.cumsum(a, axis=-1)], axis=-1)
    return (c[..., window:] - c[..., :-window]) / window


# ----------------------------------------------------------------------------------------------
# Seed sweeps
# ----------------------------------------------------------------------------------------------


def progress_enabled() -> bool:
    """True when progress bars should be shown: a terminal, and not inside the book build."""
    if os.environ.get("CE_LIB_PROGRESS", "").lower() in {"0", "off", "false", "no"}:
        return False
    if "ipykernel" in sys.modules:  # executing inside a notebook (the book build, Jupyter)
        return False
    return sys.stderr.isatty()


def parallel_map(fn: Callable[..., Any], items: Sequence, *, n_jobs: int = -1, backend: str | None = None,
                 desc: str | None = None) -> list:
    """``[fn(item) for item in items]``, computed in parallel with joblib, in order.

    Parameters
    ----------
    fn : callable
        A function of one argument; it must derive all its randomness from that argument.
    items : sequence
        The arguments, in order; the results come back in the same order.
    n_jobs : int
        Worker processes (``-1``: all cores). Results do not depend on it.
    backend : str, optional
        A joblib backend name. ``None`` uses the active one, so a user with a cluster can wrap the
        call in ``joblib.parallel_backend("dask")`` (or pass the name here).
    desc : str, optional
        Label of the progress bar shown in a terminal (never inside the book build).

    Returns
    -------
    list
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise TypeError(f"items must be a sequence of work items, got {type(items).__name__}")
    items = list(items)
    if not items:
        raise ValueError("items must not be empty")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer (-1: all cores), got {n_jobs!r}")
    if backend is not None and not isinstance(backend, str):
        raise TypeError(f"backend must be a joblib backend name or None, got {backend!r}")
    tasks = (delayed(fn)(item) for item in items)
    # A backend named here is activated as a context, exactly as a user's
    # ``joblib.parallel_backend(...)`` would be: joblib's dask backend, when named in Parallel(...)
    # directly, forwards an internal argument to the tasks and fails.
    context = contextlib.nullcontext() if backend is None else parallel_config(backend=backend)
    with context:
        if progress_enabled() and len(items) > 1:
            from tqdm.auto import tqdm

            parallel = Parallel(n_jobs=n_jobs, return_as="generator")
            return list(tqdm(parallel(tasks), total=len(items), desc=desc, leave=False))
        return list(Parallel(n_jobs=n_jobs)(tasks))


def check_seeds(seeds: Any) -> list:
    """A non-empty sequence of non-negative int seeds, as a list (a single int or a string is refused)."""
    if isinstance(seeds, (str, bytes)) or isinstance(seeds, (int, np.integer)):
        raise TypeError(f"seeds must be a sequence of ints, got {seeds!r}")
    try:
        seeds = list(seeds)
    except TypeError as err:
        raise TypeError(f"seeds must be a sequence of ints, got {seeds!r}") from err
    if not seeds:
        raise ValueError("seeds must not be empty")
    for s in seeds:
        check_positive_int(s, "seeds (each)", minimum=0)
    return seeds


class torch_threads:
    """Run a block with ``n`` torch threads (``None``: leave the setting alone), then restore it.

    The experiments fix their thread counts: with MKL's reproducible branch (see
    :mod:`ce_lib.numerics`) a result can depend on the number of threads, not on the processor.
    """

    def __init__(self, n: int | None):
        self.n = None if n is None else check_positive_int(n, "n_threads")

    def __enter__(self):
        import torch

        self.old = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.old)


def run_seeds(fn: Callable[..., Any], seeds: Sequence[int], *, n_jobs: int = -1,
              backend: str | None = None, desc: str | None = None, **kwargs) -> list:
    """Run ``fn(seed=s, **kwargs)`` for every seed, in parallel with joblib (see :func:`parallel_map`).

    Parameters
    ----------
    fn : callable
        A function with a ``seed`` keyword; it must derive all its randomness from it.
    seeds : sequence of int
        The seeds, in order; the results come back in the same order.
    n_jobs, backend, desc
        As in :func:`parallel_map`.
    **kwargs
        Passed to ``fn`` unchanged.

    Returns
    -------
    list
        ``[fn(seed=s, **kwargs) for s in seeds]``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    seeds = check_seeds(seeds)
    return parallel_map(functools.partial(_call_with_seed, fn, kwargs), seeds, n_jobs=n_jobs,
                        backend=backend, desc=desc)


def _call_with_seed(fn, kwargs, seed):
    return fn(seed=seed, **kwargs)


# ----------------------------------------------------------------------------------------------
# Disk cache
# ----------------------------------------------------------------------------------------------


def cache_dir() -> Path | None:
    """Folder of the result cache, or ``None`` when caching is off.

    ``CE_LIB_CACHE`` chooses it (``off`` disables caching); the default is ``ce_lib`` inside the
    user's cache folder (``XDG_CACHE_HOME`` or ``~/.cache``). The book's Makefile points it into
    ``_build`` so that a clean build really starts from nothing.
    """
    env = os.environ.get("CE_LIB_CACHE")
    if env is not None and env.strip().lower() in {"off", "0", "false", "no", ""}:
        return None
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ce_lib"


@functools.lru_cache(maxsize=1)
def _library_fingerprint() -> str:
    """Hash of every source file of ce_lib (its studies included): what a function defined outside
    ce_lib is keyed on, since it may call any of it.

    Computed once per process, so that it describes the code that is running even if the files
    are edited afterwards (as are the fingerprints of :func:`_dependency_fingerprint`)."""
    h = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def _dependency_fingerprint(module: str) -> str:
    """Hash of the code a ce_lib module runs (:func:`module_dependencies`), once per process."""
    return code_fingerprint(module_dependencies(module))


@functools.lru_cache(maxsize=None)
def _module_file(module: str) -> Path | None:
    """The source file of a ce_lib module (a package's ``__init__.py``), or None if there is none."""
    if module != "ce_lib" and not module.startswith("ce_lib."):
        return None
    base = Path(__file__).parent.joinpath(*module.split(".")[1:])
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _direct_imports(module: str) -> set[str]:
    """The ce_lib modules that ``module``'s source imports, at the top or inside functions.

    ``from package import name`` counts the package's ``__init__`` only when a name is not a module
    of it; a subpackage's ``__init__`` run on the way to a module (the registry of studies) is not
    code the module runs, and ``ce_lib``'s own is always counted (it pins the arithmetic)."""
    path = _module_file(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = {"ce_lib"}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            submodules = {f"{target}.{a.name}" for a in node.names if _module_file(f"{target}.{a.name}") is not None}
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(target)
    return {m for m in found if _module_file(m) is not None and m != module}


def module_dependencies(module: str) -> tuple[str, ...]:
    """The ce_lib modules whose code ``module`` runs: itself and every ce_lib module it imports,
    directly or through others (imports inside functions included), sorted.

    This is what the result cache keys a ce_lib function on (see :func:`cached`), and what
    ``tools/stale_chapters.py`` uses to re-execute only the chapters whose code changed: a change
    to ``ce_lib.reasoning`` recomputes what the reasoning study computes and nothing else, a change
    to ``ce_lib.experiments`` (imported by everything) recomputes everything. Only imports written
    in the source count: :func:`ce_lib.scoreboard.records` loads the chapters' studies by name when
    it is called, and whoever calls it depends on all of them.

    Parameters
    ----------
    module : str
        A module of ce_lib, as imported (``"ce_lib.studies.lqr"``).

    Returns
    -------
    tuple of str
        Module names, ``module`` included.
    """
    if not isinstance(module, str) or _module_file(module) is None:
        raise ValueError(f"module must name a module of ce_lib (such as 'ce_lib.lqr'), got {module!r}")
    seen, todo = {module}, [module]
    while todo:
        for dep in _direct_imports(todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return tuple(sorted(seen))


def code_fingerprint(modules) -> str:
    """Hash of the source files of the given ce_lib modules (names and contents), and of every file
    of ``ce_lib/data`` whose name a module's source mentions (the stored runs it reads)."""
    h = hashlib.sha256()
    data = Path(__file__).parent / "data"
    stored = sorted(data.iterdir()) if data.is_dir() else []
    for module in sorted(set(modules)):
        source = _module_file(module).read_bytes()
        h.update(module.encode())
        h.update(source)
        for path in stored:
            if path.is_file() and path.name.encode() in source:
                h.update(path.name.encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def _key_form(obj: Any, where: str) -> Any:
    """A JSON-able form of a cache parameter that determines it exactly.

    Arrays are represented by dtype, shape and a hash of their bytes (``repr`` would shorten a long
    array and let two different arrays share a key); anything this cannot represent exactly is
    refused rather than keyed approximately.
    """
    import dataclasses

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, (bool, np.bool_)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return {"__float__": float(obj).hex()}  # exact, and NaN/inf survive
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f"params{where}: object arrays cannot key the cache")
        data = np.ascontiguousarray(obj)
        return {"__ndarray__": [data.dtype.str, list(data.shape), hashlib.sha256(data.tobytes()).hexdigest()]}
    if isinstance(obj, list):
        return [_key_form(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, tuple):  # tagged: a function may treat (1, 2) and [1, 2] differently
        return {"__tuple__": [_key_form(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"params{where}: dictionary keys must be strings")
        return {k: _key_form(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__dataclass__": type(obj).__qualname__,
                "fields": {f.name: _key_form(getattr(obj, f.name), f"{where}.{f.name}")
                           for f in dataclasses.fields(obj)}}
    raise TypeError(f"params{where}: a {type(obj).__name__} cannot key the cache exactly; pass numbers, "
                    "strings, arrays, lists, dicts or dataclasses")


def _code_digest(code) -> str:
    """Hash of a code object: its bytecode, constants (nested code included) and names."""
    h = hashlib.sha256(code.co_code)
    for const in code.co_consts:
        h.update(_code_digest(const).encode() if hasattr(const, "co_code") else repr(const).encode())
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
    return h.hexdigest()


def _function_key(fn: Callable[..., Any]) -> Any:
    """What identifies the computation ``fn`` does, for the cache key.

    A function of ce_lib is named (:func:`module_dependencies` covers its code). Any other function
    -- a student's experiment, a lambda -- is keyed by its code: the whole source file that defines
    it where there is one (so that editing a helper in the same file recomputes), else its own
    bytecode and constants; plus its default arguments and the values it closes over. A
    ``functools.partial`` is keyed by its function and its bound arguments.
    """
    if isinstance(fn, functools.partial):
        return {"partial": _function_key(fn.func), "args": _key_form(list(fn.args), ".args"),
                "keywords": _key_form(dict(fn.keywords), ".keywords")}
    module = getattr(fn, "__module__", None) or ""
    name = f"{module}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    if module == "ce_lib" or module.startswith("ce_lib."):
        return name
    code = getattr(fn, "__code__", None)
    if code is None:
        raise TypeError(f"fn: a {type(fn).__name__} cannot key the cache exactly; pass a plain function")
    source = None
    try:
        source_file = inspect.getsourcefile(fn)
        if source_file and Path(source_file).is_file():
            source = hashlib.sha256(Path(source_file).read_bytes()).hexdigest()
    except TypeError:
        pass
    closure = [c.cell_contents for c in (fn.__closure__ or ())]
    return {"name": name, "code": _code_digest(code), "file": source,
            "defaults": _key_form(list(fn.__defaults__ or ()), " (fn's defaults)"),
            "kwdefaults": _key_form(dict(fn.__kwdefaults__ or {}), " (fn's keyword defaults)"),
            "closure": _key_form(closure, " (values fn closes over)")}


def _environment_key() -> dict:
    """The numerical mode and the versions of the libraries that compute: a result made under other
    arithmetic or another torch is another computation."""
    from importlib import metadata

    from . import numerics

    mode = numerics.status()
    versions = {}
    for package in ("numpy", "scipy", "torch", "gymnasium", "stable-baselines3", "cvxpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"numerics": mode.mode, "reproducible": mode.reproducible, "versions": versions}


def _code_key(fn: Callable[..., Any]) -> str:
    """The code a cached computation depends on: for a function of ce_lib, the modules it runs
    (its own and what they import, see :func:`module_dependencies`); for any other, all of ce_lib."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    module = getattr(fn, "__module__", None) or ""
    if (module == "ce_lib" or module.startswith("ce_lib.")) and _module_file(module) is not None:
        return _dependency_fingerprint(module)
    return _library_fingerprint()


def _settings_key(fn: Callable[..., Any]) -> dict:
    """The settings a ce_lib function reads besides its parameters: the ``SETTINGS`` value (a chapter
    study's frozen dataclass) of every module it runs, so that a study run with other settings
    (``dataclasses.replace``) is another computation."""
    import dataclasses

    while isinstance(fn, functools.partial):
        fn = fn.func
    module = getattr(fn, "__module__", None) or ""
    if not (module == "ce_lib" or module.startswith("ce_lib.")) or _module_file(module) is None:
        return {}
    out = {}
    for name in module_dependencies(module):
        settings = getattr(sys.modules.get(name), "SETTINGS", None)
        if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
            out[name] = _key_form(settings, f" ({name}.SETTINGS)")
    return out


def _cache_path(fn: Callable[..., Any], params: dict) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    parts = [_function_key(fn), _key_form(params, ""), _code_key(fn), _settings_key(fn), _environment_key()]
    key = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]
    label = "".join(c if c.isalnum() or c in "._-" else "_" for c in getattr(fn, "__qualname__", "fn"))
    return folder / f"{label}-{key}.pkl"


def cached(fn: Callable[..., Any], **params) -> Any:
    """Return ``fn(**params)``, computed once and then read from the disk cache.

    The key is the function (a ce_lib function by its name, any other by its code, see
    ``_function_key``), the parameters, the source of the code it runs (for a ce_lib function, its
    module and every ce_lib module that imports, :func:`module_dependencies`; for any other
    function, all of ``ce_lib``), the ``SETTINGS`` of the chapter studies among those modules, the
    numerical mode and the versions of numpy, scipy, torch, gymnasium, stable-baselines3 and
    cvxpy: a change to any of them recomputes. Writes are atomic
    (a temporary file renamed into place): an interrupted run leaves no half-written entry.

    Parameters
    ----------
    fn : callable
        A deterministic function of its keyword arguments (seeds included among them).
    **params
        Keyword arguments of ``fn``: numbers, strings, arrays, lists, dicts or dataclasses; an
        array is keyed by its dtype, shape and contents, and anything that cannot be keyed
        exactly raises ``TypeError``.

    Returns
    -------
    object
        Whatever ``fn`` returns (it must be picklable).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    path = _cache_path(fn, params)
    if path is None:
        return fn(**params)
    folder = path.parent
    if path.is_file():
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError):
            path.unlink(missing_ok=True)  # a corrupt entry is recomputed
    result = fn(**params)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pkl")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result
