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


def test_cache_rejects_a_failed_write_without_leftovers(tmp_cache):
    def unpicklable(seed):
        return lambda: seed  # lambdas cannot be pickled
    with pytest.raises(Exception):
        ex.cached(unpicklable, seed=1)
    assert not list(tmp_cache.glob("*"))


# ---- scoreboard records -----------------------------------------------------------------------

def test_make_record_pairs_the_best_of_each_family():
    rec = ex.make_record(chapter="toy", task="t", metric="m", target=0.5, n_seeds=3, budget=100,
                         results=[("a", "ce", [2, 4, np.inf]), ("b", "ce", [10, 10, 10]),
                                  ("c", "rl", [20, 40, 50])])
    from ce_lib.scoreboard import validate_record
    validate_record(rec)
    a = rec["methods"][0]
    assert a["samples_to_target"]["median"] == 4 and a["success_rate"] == pytest.approx(2 / 3)
    assert rec["ratio"]["median"] == pytest.approx(40 / 4)
    with pytest.raises(ValueError, match="family"):
        ex.make_record(chapter="t", task="t", metric="m", target=1, n_seeds=1, budget=10,
                       results=[("a", "bayes", [1])])
    with pytest.raises(ValueError, match="shape"):
        ex.make_record(chapter="t", task="t", metric="m", target=1, n_seeds=2, budget=10,
                       results=[("a", "ce", [1])])
    with pytest.raises(ValueError, match="'rl'"):
        ex.make_record(chapter="t", task="t", metric="m", target=1, n_seeds=1, budget=10,
                       results=[("a", "ce", [1])])


def test_log_grid():
    from ce_lib.experiments import log_grid

    g = log_grid(5000, 5)
    assert g[0] == 1 and g[-1] == 5000 and np.all(np.diff(g) > 0)
    assert len(log_grid(1000, 4)) == 13
    with pytest.raises(ValueError, match="maximum"):
        log_grid(0)
