"""Shared experiment machinery: seed sweeps, samples-to-target, bootstrap intervals, a disk cache.

Every chapter measures the same thing: how many samples a method needs before its learning curve
reaches a target, over many seeds, summarized by a median with a bootstrap confidence interval, and
compared with another method through the ratio of medians. The pieces here do exactly that and
nothing else, so the chapters and the scoreboard (:mod:`ce_lib.scoreboard`) agree by construction.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
from joblib import Parallel, delayed

__all__ = [
    "Interval",
    "as_rng",
    "bootstrap_median",
    "bootstrap_ratio",
    "cache_dir",
    "cached",
    "check_finite_array",
    "check_positive_int",
    "log_grid",
    "hit_summary",
    "make_record",
    "parallel_map",
    "progress_enabled",
    "run_seeds",
    "samples_to_target",
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


def check_finite_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float array, raising ``ValueError`` if it is not finite or of the wrong rank."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric, got {value!r}") from err
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
        If given (a factor >= 1), count the first point :math:`t` from which the curve stays at
        the target for every recorded point up to ``hold * samples[t]`` samples, and the curve
        was recorded that far: "reach the target and hold it for a while".

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
    v = np.asarray(values, dtype=float)
    if v.ndim == 0 or v.shape[-1] != n.size:
        raise ValueError(f"values must have last dimension {n.size} (the length of samples), "
                         f"got shape {v.shape}")
    if np.any(np.isnan(v)):
        raise ValueError("values must not contain NaN (use inf for a diverged run)")
    if not np.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target}")
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
        if not np.isfinite(hold) or hold < 1:
            raise ValueError(f"hold must be a finite factor >= 1, got {hold}")
        end = np.searchsorted(n, hold * n, side="right") - 1  # last point of each window
        bad_before = np.concatenate([np.zeros(ok.shape[:-1] + (1,), dtype=int),
                                     np.cumsum(~ok, axis=-1)], axis=-1)
        held = (bad_before[..., end + 1] - bad_before[..., : n.size]) == 0
        ok = held & (n[-1] >= hold * n)
    hit = ok.any(axis=-1)
    first = np.argmax(ok, axis=-1)
    return np.where(hit, n[first], np.inf)


# ----------------------------------------------------------------------------------------------
# Bootstrap intervals
# ----------------------------------------------------------------------------------------------


def _check_level(level: float) -> float:
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(level)


def bootstrap_median(x, *, level: float = 0.95, n_boot: int = 2000, seed: Any = 0) -> Interval:
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
    lo, hi = np.quantile(meds, alpha), np.quantile(meds, 1.0 - alpha)
    return Interval(float(np.median(arr)), float(lo), float(hi))


def bootstrap_ratio(numerator, denominator, *, paired: bool = True, level: float = 0.95,
                    n_boot: int = 2000, seed: Any = 0) -> Interval:
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
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    for arr, name in ((a, "numerator"), (b, "denominator")):
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-d array, got shape {arr.shape}")
        if np.any(np.isnan(arr)) or np.any(arr <= 0):
            raise ValueError(f"{name} must contain positive numbers only")
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


def hit_summary(hits, budget: float, *, level: float = 0.95, seed: Any = 0) -> dict:
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
    if not np.isfinite(budget) or budget <= 0:
        raise ValueError(f"budget must be a positive finite number, got {budget}")
    if np.any(h[np.isfinite(h)] > budget):
        raise ValueError("hits must not exceed budget")
    censored = np.where(np.isfinite(h), h, budget)
    ci = bootstrap_median(censored, level=level, seed=seed)
    return {"samples_to_target": ci.as_dict(), "success_rate": float(np.mean(np.isfinite(h)))}


def make_record(*, chapter: str, task: str, metric: str, target: float, n_seeds: int, budget: float,
                results: Sequence[tuple], seed: Any = 0, **extra) -> dict:
    """Build one scoreboard record from each method's samples-to-target over the same seeds.

    Parameters
    ----------
    chapter, task, metric : str
        What the record is about (see :mod:`ce_lib.scoreboard`).
    target : float
        The level that was to be reached.
    n_seeds : int
        Seeds per method.
    budget : float
        Samples each method was allowed; misses (``inf``) count at it.
    results : sequence of (name, family, hits)
        ``family`` is ``"ce"`` or ``"rl"``; ``hits`` has one entry per seed, in the same seed order
        for every method (the ratio pairs them).
    **extra
        Further fields, for example a tuning summary.

    Returns
    -------
    dict
        The record, with ``ratio`` = (best RL median) / (best CE median) and its paired bootstrap
        interval; "best" is the smallest median samples-to-target within each family.
    """
    methods, censored = [], {}
    for name, family, hits in results:
        if family not in ("ce", "rl"):
            raise ValueError(f"results: family of {name!r} must be 'ce' or 'rl', got {family!r}")
        h = np.asarray(hits, dtype=float)
        if h.shape != (n_seeds,):
            raise ValueError(f"results: hits of {name!r} must have shape ({n_seeds},), got {h.shape}")
        methods.append({"name": name, "family": family, **hit_summary(h, budget, seed=seed)})
        censored[name] = np.maximum(np.where(np.isfinite(h), h, budget), 1.0)
    best = {}
    for fam in ("ce", "rl"):
        ranked = [m for m in methods if m["family"] == fam]
        if not ranked:
            raise ValueError(f"results must include at least one {fam!r} method")
        best[fam] = min(ranked, key=lambda m: (m["samples_to_target"]["median"], -m["success_rate"]))["name"]
    ratio = bootstrap_ratio(censored[best["rl"]], censored[best["ce"]], seed=seed)
    return {"chapter": chapter, "task": task, "metric": metric, "target": float(target),
            "n_seeds": int(n_seeds), "methods": methods, "ratio": ratio.as_dict(), **extra}


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
    items = list(items)
    if not items:
        raise ValueError("items must not be empty")
    tasks = (delayed(fn)(item) for item in items)
    if progress_enabled() and len(items) > 1:
        from tqdm.auto import tqdm

        parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")
        return list(tqdm(parallel(tasks), total=len(items), desc=desc, leave=False))
    return list(Parallel(n_jobs=n_jobs, backend=backend)(tasks))


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
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    for s in seeds:
        check_positive_int(s, "seeds (each)", minimum=0)
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
    """Hash of every source file of ce_lib: any code change invalidates every cached result.

    Computed once per process, so that it describes the code that is running even if the files
    are edited afterwards."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _canonical(params: Any) -> str:
    try:
        return json.dumps(params, sort_keys=True, default=repr)
    except (TypeError, ValueError) as err:
        raise TypeError(f"params must be JSON-like (dicts, lists, numbers, strings): {err}") from err


def _cache_path(fn: Callable[..., Any], params: dict) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    name = f"{fn.__module__}.{fn.__qualname__}"
    key_src = "\n".join([name, _canonical(params), _library_fingerprint()])
    key = hashlib.sha256(key_src.encode()).hexdigest()[:24]
    return folder / f"{fn.__qualname__}-{key}.pkl"


def cached(fn: Callable[..., Any], **params) -> Any:
    """Return ``fn(**params)``, computed once and then read from the disk cache.

    The key is the function's qualified name, the parameters and a fingerprint of the whole
    ``ce_lib`` source, so a change to the code or to a parameter recomputes. Writes are atomic
    (a temporary file renamed into place): an interrupted run leaves no half-written entry.

    Parameters
    ----------
    fn : callable
        A deterministic function of its keyword arguments (seeds included among them).
    **params
        Keyword arguments of ``fn``; numbers, strings, lists and dicts.

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
