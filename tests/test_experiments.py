import functools
from pathlib import Path

import numpy as np
import pytest

from ce_lib import experiments as ex


# ---- samples_to_target ------------------------------------------------------------------------

def test_samples_to_target_first_crossing_below_and_above():
    n = np.array([0, 10, 20, 30, 40])
    curves = np.array([[5.0, 3.0, 0.9, 2.0, 0.5],   # touches 1 at 20
                       [5.0, 4.0, 3.0, 2.0, 1.5]])  # never
    hits = ex.samples_to_target(n, curves, 1.0)
    assert hits[0] == 20 and np.isinf(hits[1])
    up = ex.samples_to_target(n, -curves, -1.0, direction="above")
    np.testing.assert_array_equal(up, hits)


def test_samples_to_target_persist_waits_until_it_stays():
    n = np.array([1, 2, 3, 4, 5])
    curve = np.array([2.0, 0.5, 2.0, 0.5, 0.4])
    assert ex.samples_to_target(n, curve, 1.0) == 2
    assert ex.samples_to_target(n, curve, 1.0, persist=True) == 4


def test_samples_to_target_hold_needs_a_lasting_stretch():
    n = np.array([10, 11, 12, 13, 20, 30, 40])
    curve = np.array([[0.5, 2.0, 0.5, 0.5, 0.5, 2.0, 2.0],    # touches at 10; holds 12 -> 15: 12
                      [0.5, 0.5, 0.5, 0.5, 2.0, 0.5, 0.5]])   # 10 -> 12.5 held: 10
    np.testing.assert_array_equal(ex.samples_to_target(n, curve, 1.0, hold=1.25), [12, 10])
    # the window must have been observed: a stretch that starts at the last point never holds
    assert np.isinf(ex.samples_to_target(n, [2, 2, 2, 2, 2, 2, 0.5], 1.0, hold=1.25))
    with pytest.raises(ValueError, match="hold"):
        ex.samples_to_target(n, curve, 1.0, hold=0.5)


def test_hold_checks_the_next_point_of_a_coarse_grid():
    # Points 10x apart: "held for 25% more samples" must look at the next recorded point, the first
    # at or beyond 1.25 n, even though it lies far beyond 1.25 n. A dip at 10 that is gone at 100
    # does not count, and a dip at the last point cannot be confirmed at all.
    n = np.array([1.0, 10.0, 100.0, 1000.0])
    assert np.isinf(ex.samples_to_target(n, [2.0, 0.5, 2.0, 0.5], 1.0, hold=1.25))
    assert ex.samples_to_target(n, [2.0, 0.5, 0.5, 2.0], 1.0, hold=1.25) == 10
    assert ex.samples_to_target(n, [2.0, 2.0, 0.5, 0.5], 1.0, hold=1.25) == 100
    assert ex.samples_to_target(n, [0.5, 0.5, 2.0, 2.0], 1.0, hold=1.25) == 1


def test_samples_to_target_already_at_target():
    assert ex.samples_to_target([0, 5], [0.1, 0.2], 1.0) == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(samples=[1, 1, 2], values=[1, 1, 1], target=0.5), "strictly increasing"),
    (dict(samples=[1, 2], values=[1, 1, 1], target=0.5), "last dimension"),
    (dict(samples=[1, 2], values=[1, np.nan], target=0.5), "NaN"),
    (dict(samples=[1, 2], values=[1, 1], target=np.inf), "target"),
    (dict(samples=[1, 2], values=[1, 1], target=0.5, direction="up"), "direction"),
    (dict(samples=[], values=[], target=0.5), "samples"),
])
def test_samples_to_target_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ex.samples_to_target(**kwargs)


# ---- bootstrap intervals ----------------------------------------------------------------------

def test_bootstrap_median_covers_the_true_median_and_is_reproducible():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 1.0, size=400)
    iv = ex.bootstrap_median(x)
    assert iv.lo < 3.0 < iv.hi
    assert iv.lo <= iv.median <= iv.hi
    assert ex.bootstrap_median(x) == iv  # fixed resampling seed


def test_bootstrap_median_coverage_is_near_nominal():
    rng = np.random.default_rng(1)
    # direct check: 200 experiments, 95% intervals should cover the true median ~95% of the time
    hits = 0
    for i in range(200):
        iv = ex.bootstrap_median(rng.exponential(size=60), n_boot=500, seed=i)
        hits += iv.lo <= np.log(2) <= iv.hi
    assert 0.88 <= hits / 200 <= 0.99


def test_bootstrap_ratio_known_ratio_and_pairing():
    rng = np.random.default_rng(2)
    b = rng.lognormal(size=50)
    a = 10 * b
    iv = ex.bootstrap_ratio(a, b)
    assert iv.median == pytest.approx(10)
    assert iv.lo == pytest.approx(10) and iv.hi == pytest.approx(10)  # paired: exactly 10 every time
    unpaired = ex.bootstrap_ratio(a, b, paired=False)
    assert unpaired.lo < 10 < unpaired.hi


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match="numerator"):
        ex.bootstrap_ratio([1, -1], [1, 1])
    with pytest.raises(ValueError, match="paired"):
        ex.bootstrap_ratio([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="level"):
        ex.bootstrap_median([1, 2], level=1.5)
    with pytest.raises(ValueError, match="x must"):
        ex.bootstrap_median([])


def test_censor_and_tuning_score_use_the_reported_statistic():
    np.testing.assert_array_equal(ex.censor([3, np.inf, 5], 10), [3, 10, 5])
    with pytest.raises(ValueError, match="exceed"):
        ex.censor([30], 10)
    # the median first: a fast but unreliable setting beats a slow reliable one on the median ...
    fast, slow = [10, 12, 14, np.inf, np.inf], [50, 50, 50, 50, 50]
    assert ex.best_by_tuning([slow, fast], 100) == 1
    # ... and among equal medians, the one that reaches the target more often wins
    assert ex.best_by_tuning([[5, np.inf, np.inf], [5, 100.0, np.inf]], 100) == 1
    assert ex.tuning_score([np.inf, np.inf], 100)[0] == 100
    # the mean sees the failures: with misses at a budget of 200 the slow reliable setting wins
    # (mean 50 against 87.2) where the median picks the fast one (14 against 50)
    assert ex.best_by_tuning([slow, fast], 200) == 1
    assert ex.best_by_tuning([slow, fast], 200, statistic="mean") == 0
    assert ex.tuning_score(fast, 200, "mean") == (pytest.approx(87.2), -0.6, 14.0)
    assert "chosen by mean samples-to-target" in ex.grid_tuning(4, [1000, 1001], "mean")
    for call in (lambda: ex.tuning_score(fast, 100, "best"), lambda: ex.best_by_tuning([fast], 100, "q90"),
                 lambda: ex.grid_tuning(4, [1000], "max")):
        with pytest.raises(ValueError, match="statistic"):
            call()


def test_window_mean_is_a_sliding_mean():
    x = np.array([[1, 1, 0, 0, 1, 1]], dtype=float)
    np.testing.assert_allclose(ex.window_mean(x, 2), [[1.0, 0.5, 0.0, 0.5, 1.0]])
    with pytest.raises(ValueError, match="window"):
        ex.window_mean(x, 7)


def test_argmax_random_ties_breaks_ties_uniformly():
    rng = np.random.default_rng(0)
    picks = ex.argmax_random_ties(np.tile([1.0, 3.0, 3.0, 0.0], (4000, 1)), rng)
    assert set(np.unique(picks)) == {1, 2}
    assert abs(np.mean(picks == 1) - 0.5) < 0.03
    assert np.all(ex.argmax_random_ties([[0.0, 1.0 - 1e-13]], rng, atol=1e-12) <= 1)


def test_spawned_generators_are_a_pure_function_of_the_seed():
    a = [g.random() for g in ex.spawn_rngs(5, 3)]
    b = [g.random() for g in ex.spawn_rngs(5, 3)]
    c = [g.random() for g in ex.spawn_rngs(np.random.SeedSequence(5), 4)]
    assert a == b == c[:3] and len(set(a)) == 3
    assert ex.as_rng(ex.child_seed(5, 1)).random() == a[1]
    with pytest.raises(ValueError, match="seed"):
        ex.spawn_rngs(-1, 2)


def test_hit_summary_counts_misses_at_budget():
    s = ex.hit_summary([10, 20, np.inf, np.inf, np.inf], budget=100)
    assert s["success_rate"] == pytest.approx(0.4)
    assert s["samples_to_target"]["median"] == 100
    with pytest.raises(ValueError, match="budget"):
        ex.hit_summary([10], budget=0)
    with pytest.raises(ValueError, match="exceed"):
        ex.hit_summary([200], budget=100)


# ---- seeds and joblib -------------------------------------------------------------------------

def _noisy_mean(seed, n):
    return float(np.random.default_rng(seed).normal(size=n).mean())


def test_run_seeds_is_ordered_and_independent_of_workers():
    serial = ex.run_seeds(_noisy_mean, range(6), n_jobs=1, n=100)
    parallel = ex.run_seeds(_noisy_mean, range(6), n_jobs=2, n=100)
    assert serial == parallel == [_noisy_mean(s, 100) for s in range(6)]


def test_run_seeds_rejects_bad_seeds():
    with pytest.raises(ValueError, match="seeds"):
        ex.run_seeds(_noisy_mean, [], n=1)
    with pytest.raises(ValueError, match="seeds"):
        ex.run_seeds(_noisy_mean, [-1], n=1)
    with pytest.raises(TypeError, match="fn"):
        ex.run_seeds(42, [1])


def test_as_rng_refuses_implicit_global_seeding():
    with pytest.raises(TypeError, match="seed"):
        ex.as_rng(None)
    with pytest.raises(ValueError, match="seed"):
        ex.as_rng(-3)


# ---- disk cache -------------------------------------------------------------------------------

CALLS = []


def _expensive(a, b=1):
    CALLS.append((a, b))
    return {"sum": a + b}


def test_cache_hits_misses_and_parameters(tmp_cache):
    CALLS.clear()
    assert ex.cached(_expensive, a=1, b=2) == {"sum": 3}
    assert ex.cached(_expensive, a=1, b=2) == {"sum": 3}
    assert CALLS == [(1, 2)]
    ex.cached(_expensive, a=1, b=3)
    assert CALLS == [(1, 2), (1, 3)]
    assert not list(tmp_cache.glob(".tmp-*"))  # nothing half-written left behind


def test_cache_is_invalidated_by_a_code_change(tmp_cache, monkeypatch):
    CALLS.clear()
    ex.cached(_expensive, a=5)
    monkeypatch.setattr(ex, "_library_fingerprint", lambda: "a different library")
    ex.cached(_expensive, a=5)
    assert CALLS == [(5, 1), (5, 1)]


def test_cache_recovers_from_a_corrupt_entry(tmp_cache):
    CALLS.clear()
    ex.cached(_expensive, a=7)
    (entry,) = tmp_cache.glob("*.pkl")
    entry.write_bytes(b"not a pickle")
    assert ex.cached(_expensive, a=7) == {"sum": 8}
    assert len(CALLS) == 2


def test_cache_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("CE_LIB_CACHE", "off")
    CALLS.clear()
    ex.cached(_expensive, a=2)
    ex.cached(_expensive, a=2)
    assert len(CALLS) == 2 and ex.cache_dir() is None


def test_cache_keys_arrays_by_their_contents(tmp_cache):
    # numpy prints long arrays with "...": two arrays that differ only in the middle must not share
    # a cache entry (they did when the key was repr-based)
    CALLS.clear()
    x = np.zeros(2000)
    y = x.copy()
    y[1000] = 1.0
    assert repr(x) == repr(y)
    assert ex.cached(_expensive, a=x)["sum"].sum() == 2000
    assert ex.cached(_expensive, a=y)["sum"].sum() == 2001
    assert ex.cached(_expensive, a=x.astype(np.float32))["sum"].dtype == np.float32  # dtype is part of the key
    assert len(CALLS) == 3
    ex.cached(_expensive, a=y.copy())
    assert len(CALLS) == 3  # same contents: a hit


def test_cache_refuses_parameters_it_cannot_key_exactly(tmp_cache):
    with pytest.raises(TypeError, match="cannot key"):
        ex.cached(_expensive, a=object())
    with pytest.raises(TypeError, match="object arrays"):
        ex.cached(_expensive, a=np.array([1, "a"], dtype=object))


def test_cache_rejects_a_failed_write_without_leftovers(tmp_cache):
    def unpicklable(seed):
        return lambda: seed  # lambdas cannot be pickled
    with pytest.raises(Exception):
        ex.cached(unpicklable, seed=1)
    assert not list(tmp_cache.glob("*"))


# ---- scoreboard records -----------------------------------------------------------------------

def _record(**kw):
    base = dict(chapter="toy", task="t", metric="m", target=0.5, budget=100, information="same")
    base.update(kw)
    return ex.make_record(**base)


def test_make_record_chooses_each_family_on_the_tuning_seeds():
    from ce_lib.scoreboard import validate_record

    M = ex.MethodResult
    # "b" is faster on the reported seeds, "a" on the tuning seeds: "a" must be chosen
    rec = _record(methods=[M("a", "ce", [2, 4, np.inf], "none needed", [1, 1, 1]),
                           M("b", "ce", [1, 1, 1], "none needed", [9, 9, 9]),
                           M("c", "rl", [20, 40, 50], "grid of 3 on seeds 1000-1002")])
    validate_record(rec)
    assert rec["ratio"]["ce"] == "a" and rec["ratio"]["rl"] == "c"
    a = rec["methods"][0]
    assert a["samples_to_target"]["median"] == 4 and a["success_rate"] == pytest.approx(2 / 3)
    assert rec["ratio"]["median"] == pytest.approx(40 / 4) and rec["ratio"]["bound"] == "exact"
    assert a["tuning"] == "none needed"
    with pytest.raises(ValueError, match="tuning_hits"):
        _record(methods=[M("a", "ce", [1]), M("b", "ce", [2]), M("c", "rl", [3])])


def test_make_record_marks_censored_ratios():
    M = ex.MethodResult
    rl_misses = _record(methods=[M("a", "ce", [2, 4, 5]), M("c", "rl", [20, np.inf, np.inf])])
    assert rl_misses["ratio"]["bound"] == "lower" and rl_misses["ratio"]["median"] == pytest.approx(100 / 4)
    ce_misses = _record(methods=[M("a", "ce", [2, np.inf, np.inf]), M("c", "rl", [20, 30, 40])])
    assert ce_misses["ratio"]["bound"] == "upper"
    both = _record(methods=[M("a", "ce", [np.inf] * 2), M("c", "rl", [np.inf] * 2)])
    assert both["ratio"]["bound"] == "none"
    # with an even number of seeds the median is censored once half of the seeds missed
    assert ex.ratio_bound([1, 2, np.inf, np.inf], [1, 1, 1, 1]) == "lower"
    assert ex.ratio_bound([1, 2, 3, np.inf], [1, 1, 1, 1]) == "exact"


@pytest.mark.parametrize("kw, match", [
    (dict(information="maybe"), "information"),
    (dict(information="more"), "ce_given"),
    (dict(information="same", ce_given="the model"), "ce_given"),
    (dict(methods=[ex.MethodResult("a", "bayes", [1]), ex.MethodResult("c", "rl", [2])]), "family"),
    (dict(methods=[ex.MethodResult("a", "ce", [1, 2]), ex.MethodResult("c", "rl", [2])]), "same seeds"),
    (dict(methods=[ex.MethodResult("a", "ce", [1])]), "'rl'"),
    (dict(methods=[ex.MethodResult("a", "ce", [1], ""), ex.MethodResult("c", "rl", [2])]), "tuning"),
    (dict(budget=0), "budget"),
])
def test_make_record_rejects_bad_input(kw, match):
    base = dict(methods=[ex.MethodResult("a", "ce", [1]), ex.MethodResult("c", "rl", [2])])
    base.update(kw)
    with pytest.raises((ValueError, TypeError), match=match):
        _record(**base)


def test_log_grid():
    from ce_lib.experiments import log_grid

    g = log_grid(5000, 5)
    assert g[0] == 1 and g[-1] == 5000 and np.all(np.diff(g) > 0)
    assert len(log_grid(1000, 4)) == 13
    with pytest.raises(ValueError, match="maximum"):
        log_grid(0)


# ---- beyond one machine: joblib's Dask backend -------------------------------------------------

def test_run_seeds_on_a_dask_cluster_returns_exactly_the_local_results():
    distributed = pytest.importorskip("distributed")
    import joblib

    local = ex.run_seeds(_noisy_mean, range(8), n_jobs=1, n=50)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        # the three lines the README shows: a Client, joblib's dask backend, the usual call
        with joblib.parallel_backend("dask"):
            remote = ex.run_seeds(_noisy_mean, range(8), n=50)
        named = ex.run_seeds(_noisy_mean, range(8), n=50, backend="dask")
    assert remote == named == local


def test_seed_and_tuning_descriptions():
    assert ex.tuning_seeds(3) == (1000, 1001, 1002)
    assert ex.seed_span([1000, 1001, 1002]) == "1000-1002" and ex.seed_span([3, 7]) == "3, 7"
    text = ex.grid_tuning(12, ex.tuning_seeds(10))
    assert text.startswith("grid of 12 on seeds 1000-1009") and "median" in text
    assert "20 runs split from seed 1000" in ex.grid_tuning(4, "20 runs split from seed 1000")
    with pytest.raises(ValueError, match="seeds"):
        ex.seed_span([])


def test_as_float_array_keeps_misses_and_refuses_text():
    np.testing.assert_array_equal(ex.as_float_array([1, np.inf, np.nan], "x")[:2], [1, np.inf])
    with pytest.raises(TypeError, match="curves"):
        ex.as_float_array("1, 2", "curves")


def test_the_cache_never_answers_for_another_function(tmp_cache):
    """Lambdas share a name; the cache keys them by their code, defaults and closed-over values."""
    assert ex.cached(lambda x: x + 1, x=3) == 4
    assert ex.cached(lambda x: x * 100, x=3) == 300
    assert ex.cached(lambda x, k=2: x * k, x=3) == 6
    assert ex.cached(lambda x, k=5: x * k, x=3) == 15

    def scaled(k):
        return lambda x: x * k

    assert ex.cached(scaled(2), x=3) == 6
    assert ex.cached(scaled(7), x=3) == 21
    assert ex.cached(functools.partial(_expensive, b=10), a=1) == {"sum": 11}
    assert ex.cached(functools.partial(_expensive, b=20), a=1) == {"sum": 21}


def test_the_cache_tells_tuples_from_lists(tmp_cache):
    assert ex.cached(lambda x: type(x).__name__, x=(1, 2)) == "tuple"
    assert ex.cached(lambda x: type(x).__name__, x=[1, 2]) == "list"


def test_editing_a_students_experiment_recomputes(tmp_cache, tmp_path, monkeypatch):
    """A function defined outside ce_lib is keyed by the file that defines it."""
    import importlib
    import sys

    module = tmp_path / "my_experiment.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    module.write_text("def helper(x):\n    return x + 1\n\ndef run(x):\n    return helper(x)\n")
    mod = importlib.import_module("my_experiment")
    assert ex.cached(mod.run, x=1) == 2
    module.write_text("def helper(x):\n    return x + 1000\n\ndef run(x):\n    return helper(x)\n")
    del sys.modules["my_experiment"]
    importlib.invalidate_caches()
    mod = importlib.import_module("my_experiment")
    assert ex.cached(mod.run, x=1) == 1001  # only the helper changed


def test_the_cache_keys_on_the_numerical_mode(tmp_cache, monkeypatch):
    from ce_lib import numerics

    CALLS.clear()
    ex.cached(_expensive, a=9)
    monkeypatch.setenv(numerics.MODE_VARIABLE, "native")
    ex.cached(_expensive, a=9)
    assert CALLS == [(9, 1), (9, 1)]


def test_the_cache_refuses_what_it_cannot_key(tmp_cache):
    class Callable:
        def __call__(self, x):
            return x

    with pytest.raises(TypeError, match="fn"):
        ex.cached(Callable(), x=1)
    lock = object()
    with pytest.raises(TypeError, match="closes over"):
        ex.cached(lambda x: (x, lock), x=1)


def test_torch_threads_sets_and_restores_the_thread_count():
    import torch

    before = torch.get_num_threads()
    with ex.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with ex.torch_threads(None):
        assert torch.get_num_threads() == before
    for bad in (0, -2, 1.5, "2"):
        with pytest.raises((ValueError, TypeError), match="n_threads"):
            ex.torch_threads(bad)


# ----------------------------------------------------------------------------------------------
# What a computation depends on: the result cache and the book's re-execution read the same thing
# ----------------------------------------------------------------------------------------------

def test_module_dependencies_follow_imports_and_nothing_else():
    deps = ex.module_dependencies("ce_lib.studies.reasoning")
    assert {"ce_lib.studies.reasoning", "ce_lib.reasoning", "ce_lib.experiments", "ce_lib.numerics", "ce_lib"} <= set(deps)
    assert not {"ce_lib.lqr", "ce_lib.plotting", "ce_lib.scoreboard", "ce_lib.studies"} & set(deps)
    # one study imports another in reading order: robust control uses the LQR chapter's problems
    assert "ce_lib.studies.lqr" in ex.module_dependencies("ce_lib.studies.robust_control")
    assert set(ex.module_dependencies("ce_lib.experiments")) == {"ce_lib", "ce_lib.experiments", "ce_lib.numerics"}
    for bad in ("ce_lib.nope", "numpy", "lqr", 3):
        with pytest.raises(ValueError, match="module must name a module of ce_lib"):
            ex.module_dependencies(bad)


def _copy_of_the_library(tmp_path):
    import shutil

    root = Path(ex.__file__).resolve().parents[1]
    for folder in ("ce_lib", "tools", "chapters"):
        shutil.copytree(root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    return tmp_path


def _edit(path):
    with open(path, "a") as f:
        f.write("\n# an edit\n")


def test_the_cache_keys_a_library_function_on_the_code_it_runs(tmp_path):
    """Editing a module recomputes the results of the functions that import it, and only those."""
    import subprocess
    import sys

    root = _copy_of_the_library(tmp_path)
    probe = ("import ce_lib; from ce_lib import experiments as ex; from ce_lib.studies import reasoning, lqr; "
             "print(ex._code_key(reasoning.rerun_stored), ex._code_key(lqr.comparison))")

    def keys():
        out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
        return tuple(out.stdout.split())

    start = keys()
    _edit(root / "ce_lib" / "plotting.py")  # draws figures; computes nothing cached
    assert keys() == start
    _edit(root / "ce_lib" / "reasoning.py")
    after = keys()
    assert after[0] != start[0] and after[1] == start[1]
    _edit(root / "ce_lib" / "experiments.py")  # imported by every computation
    last = keys()
    assert last[0] != after[0] and last[1] != after[1]


def test_the_book_re_executes_only_the_chapters_whose_code_changed(tmp_path):
    import subprocess
    import sys

    root = _copy_of_the_library(tmp_path)
    (root / "_build" / ".jupyter_cache").mkdir(parents=True)

    def stale(*flags):
        out = subprocess.run([sys.executable, "tools/stale_chapters.py", *flags], cwd=root, capture_output=True,
                             text=True, check=True).stdout
        return set(out.split("execute again: ")[1].strip().split(", ")) if "execute again" in out else set()

    assert "01_dfo.md" in stale()  # no record yet: every page (the record is written now)
    assert stale("--dry-run") == set()
    _edit(root / "ce_lib" / "reasoning.py")
    assert stale("--dry-run") == {"10_reasoning.md", "99_scoreboard.md"}  # the scoreboard runs every study
    (root / "ce_lib" / "reasoning.py").write_text((root / "ce_lib" / "reasoning.py").read_text()[:-len("\n# an edit\n")])
    _edit(root / "ce_lib" / "studies" / "lqr.py")
    assert stale("--dry-run") == {"05_lqr.md", "06_robust_control.md", "99_scoreboard.md"}
    _edit(root / "ce_lib" / "experiments.py")
    assert stale("--dry-run") >= {f"{p.stem}.md" for p in (root / "chapters").glob("[0-9][0-9]_*.md")}


def test_a_study_run_with_other_settings_is_another_computation(tmp_cache, monkeypatch):
    """The cache keys a study's function on the study's SETTINGS (and on those of the studies it uses)."""
    from dataclasses import replace

    from ce_lib.studies import lqr as lqr_study
    from ce_lib.studies import robust_control as robust_study

    def entry():
        return ex._cache_path(robust_study.data_sweep, {"name": "x"}).name

    before = entry()
    monkeypatch.setattr(robust_study, "SETTINGS", replace(robust_study.SETTINGS, sweep_fir=8))
    changed = entry()
    assert changed != before
    # robust control reads the LQR chapter's stabilizing gains: a change there is a change here too
    gains = {k: 2 * v for k, v in lqr_study.SETTINGS.stabilizing_start.items()}
    monkeypatch.setattr(lqr_study, "SETTINGS", replace(lqr_study.SETTINGS, stabilizing_start=gains))
    assert entry() not in (before, changed)
    monkeypatch.undo()
    assert entry() == before


def test_loglog_slope_of_a_difference_is_paired_over_seeds():
    from ce_lib.experiments import loglog_slope

    dims = np.array([1.0, 10.0, 100.0])
    noise = np.random.default_rng(0).lognormal(0, 0.3, size=(1, 15))
    a = 5 * dims[:, None] ** 1.0 * noise  # cost proportional to the difficulty, one spread per seed
    b = 7 * dims[:, None] ** 0.25 * noise
    diff = loglog_slope(dims, a, baseline=b)
    assert diff.median == pytest.approx(0.75)
    assert diff.lo == pytest.approx(0.75) and diff.hi == pytest.approx(0.75)  # the seeds' spread cancels in pairs
    assert loglog_slope(dims, a).median == pytest.approx(1.0)
    with pytest.raises(ValueError, match="baseline must"):
        loglog_slope(dims, a, baseline=b[:, :3])
    with pytest.raises(ValueError, match="baseline must be positive and finite"):
        loglog_slope(dims, a, baseline=np.where(b > 0, np.inf, b))


def test_a_bootstrap_interval_through_misses_is_inf_not_nan_and_warns_nothing():
    import warnings

    from ce_lib.experiments import bootstrap_median

    hits = [3840, 12800, np.inf, 5120, 7040, np.inf, 3840, np.inf, 5120, 12160]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's inf - inf would warn
        iv = bootstrap_median(hits)
        all_missed = bootstrap_median([np.inf] * 4)
    assert iv.median == 9600 and 3840 <= iv.lo < 9600 and iv.hi == np.inf
    assert all_missed == (np.inf, np.inf, np.inf)
    # without misses, numpy's own quantiles, unchanged
    x = np.random.default_rng(0).exponential(size=15)
    iv = bootstrap_median(x, seed=3)
    meds = np.median(x[np.random.default_rng(3).integers(0, 15, size=(2000, 15))], axis=1)
    assert (iv.lo, iv.hi) == (np.quantile(meds, 0.025), np.quantile(meds, 0.975))


# ----------------------------------------------------------------------------------------------
# The seed rule (experiments.Seed's docstring), checked on every public signature of the library
# ----------------------------------------------------------------------------------------------

_RANDOM_WORDS = ("seed", "rng", "generator", "random_state")
# The rule's own helpers take every form a seed can come in (SeedSequences, lists of seeds, labels).
_RULE_HELPERS = {"experiments." + n for n in ("as_rng", "spawn_rngs", "child_seed", "check_seeds", "seed_span",
                                              "grid_tuning", "seed_int", "torch_generator")}
# Not a source of randomness: how many of each chapter's reported seeds the scoreboard reruns.
_NOT_RANDOMNESS = {("scoreboard.records", "n_seeds")}


def _library_signatures():
    """(name, callable, signature) of every public function, constructor and method of the library
    (``ce_lib``'s modules, not the chapters' studies); gymnasium's ``reset(seed=None)`` is its own API."""
    import importlib
    import inspect
    import pkgutil

    import gymnasium as gym

    import ce_lib

    out = []
    for info in pkgutil.iter_modules(ce_lib.__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        mod = importlib.import_module("ce_lib." + info.name)
        for name in getattr(mod, "__all__", [n for n in vars(mod) if not n.startswith("_")]):
            obj = getattr(mod, name, None)
            if getattr(obj, "__module__", None) != mod.__name__:
                continue
            found = []
            if inspect.isfunction(obj):
                found.append((name, obj))
            elif inspect.isclass(obj) and not (issubclass(obj, tuple) and hasattr(obj, "_fields")):
                found.append((name, obj))  # the constructor
                for k, v in vars(obj).items():
                    if inspect.isfunction(v) and not k.startswith("_"):
                        if not (k == "reset" and issubclass(obj, gym.Env)):
                            found.append((f"{name}.{k}", v))
            for qual, fn in found:
                try:
                    out.append((f"{info.name}.{qual}", fn, inspect.signature(fn)))
                except (TypeError, ValueError):
                    continue
    return out


def test_every_public_signature_follows_the_seed_rule():
    import inspect

    problems, counts = [], {"seed": 0, "seeds": 0, "rng": 0, "generator": 0}
    signatures = _library_signatures()
    assert len(signatures) > 200  # the walk found the library
    for qual, fn, sig in signatures:
        if qual in _RULE_HELPERS:
            continue
        for p in sig.parameters.values():
            if not any(w in p.name.lower() for w in _RANDOM_WORDS) or (qual, p.name) in _NOT_RANDOMNESS:
                continue
            ann = p.annotation if isinstance(p.annotation, str) else inspect.formatannotation(p.annotation)
            if p.kind is p.POSITIONAL_ONLY:
                problems.append(f"{qual}: {p.name} cannot be passed by keyword")
            if p.name == "seed":  # one run: an int or a Generator, default 0 where there is one
                counts["seed"] += 1
                if ann not in ("Seed", "int | numpy.random._generator.Generator"):
                    problems.append(f"{qual}: seed is annotated {ann!r}, not experiments.Seed")
                if p.default is not p.empty and p.default != 0:
                    problems.append(f"{qual}: seed defaults to {p.default!r}, not 0")
                if "check_positive_int(seed" in inspect.getsource(fn):
                    problems.append(f"{qual}: seed is checked as an int only (a Generator is refused)")
            elif p.name == "seeds":  # a batch: a sequence of ints, required unless it replaces a seed
                counts["seeds"] += 1
                optional = p.default is None and "seed" in sig.parameters
                if "Sequence[int]" not in ann or (p.default is not p.empty and not optional):
                    problems.append(f"{qual}: seeds is {ann!r} with default {p.default!r}, not a required Sequence[int]")
            elif p.name == "rng":  # a step inside a run: the run's numpy Generator
                counts["rng"] += 1
                if ann not in ("np.random.Generator", "np.random.Generator | None") or p.default not in (p.empty, None):
                    problems.append(f"{qual}: rng is {ann!r} with default {p.default!r}")
            elif p.name in ("generator", "generators"):  # a step inside a run: torch generator(s)
                counts["generator"] += 1
                if "torch.Generator" not in ann or p.default not in (p.empty, None):
                    problems.append(f"{qual}: {p.name} is {ann!r} with default {p.default!r}")
            else:
                problems.append(f"{qual}: {p.name} is none of seed, seeds, rng, generator(s)")
    assert not problems, "\n".join(problems)
    assert min(counts.values()) >= 2, counts  # every form is in use, so the walk sees each


def test_the_rule_would_catch_a_stray_seed_argument(monkeypatch):
    import ce_lib.dfo as dfo

    def stray(problem, n_seeds: int, random_state=None):
        """A learner that breaks the rule twice."""

    monkeypatch.setattr(dfo, "stray", stray, raising=False)
    monkeypatch.setattr(dfo, "__all__", [*dfo.__all__, "stray"])
    stray.__module__ = dfo.__name__
    with pytest.raises(AssertionError, match="n_seeds is none of.*\n.*random_state is none of"):
        test_every_public_signature_follows_the_seed_rule()


def test_seed_int_and_torch_generator_keep_int_seeded_runs():
    import torch

    assert ex.seed_int(7) == 7 and ex.seed_int(np.int64(7)) == 7
    a, b = ex.seed_int(np.random.default_rng(3)), ex.seed_int(np.random.default_rng(3))
    assert a == b and 0 <= a < 2**31
    for bad, err in (("7", TypeError), (True, TypeError), (None, TypeError), (-1, ValueError), (1.0, TypeError)):
        with pytest.raises(err, match="seed"):
            ex.seed_int(bad)
    assert ex.torch_generator(5).initial_seed() == 5  # an int seeds torch directly
    g = ex.torch_generator(np.random.default_rng(5))  # a Generator gives a 62-bit draw
    assert g.initial_seed() == int(np.random.default_rng(5).integers(2**62))
    ss = np.random.SeedSequence(5)
    assert ex.torch_generator(ss).initial_seed() == int(np.random.default_rng(ss).integers(2**62))
    assert torch.equal(torch.rand(3, generator=ex.torch_generator(9)), torch.rand(3, generator=ex.torch_generator(9)))
    with pytest.raises(TypeError, match="seed"):
        ex.torch_generator("5")


def test_functions_that_needed_an_int_take_a_generator():
    from ce_lib import dt, gym_tasks, known_form

    def twice(f):
        return f(np.random.default_rng(11)), f(np.random.default_rng(11))

    a, b = twice(lambda g: gym_tasks.random_transitions("CartPole-v1", 30, seed=g)[0])
    assert np.array_equal(a, b)
    assert gym_tasks.random_transitions("CartPole-v1", 30, seed=ex.seed_int(np.random.default_rng(11)))[0].tolist() == a.tolist()
    a, b = twice(lambda g: known_form.cartpole_trial(30, seed=g))
    assert a == b
    graph = dt.random_graph(8, seed=0)
    walks = dt.random_walks(graph, 10, seed=0)
    a, b = twice(lambda g: dt.train(walks, 8, seed=g, steps=3, d_model=8).losses)
    assert np.array_equal(a, b)


def test_training_leaves_the_global_generators_as_they_were():
    import torch

    from ce_lib import dt, ppo

    torch_before, numpy_before = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    graph = dt.random_graph(8, seed=0)
    dt.train(dt.random_walks(graph, 10, seed=0), 8, seed=1, steps=3, d_model=8)
    config = ppo.PPOConfig(n_envs=2, n_steps=32, n_epochs=1, minibatch_size=32)
    runs = [ppo.train("CartPole-v1", 256, seed=s, config=config) for s in (np.random.default_rng(4), 4, 4)]
    assert torch.equal(torch.random.get_rng_state(), torch_before)
    assert np.array_equal(np.random.get_state()[1], numpy_before)
    assert np.array_equal(runs[1].returns, runs[2].returns) and len(runs[0].returns) > 0
