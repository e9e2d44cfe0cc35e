import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ce_lib import dfo
from ce_lib.studies import dfo as dfo_study
from ce_lib.experiments import HOLD, samples_to_target


@pytest.fixture(scope="module")
def quad():
    return dfo.make_quadratic(6, seed=3)


@pytest.fixture(scope="module")
def logit():
    return dfo.make_logistic(4, n_data=400, seed=5)


# ---- objectives -------------------------------------------------------------------------------

def test_quadratic_is_normalized_and_its_minimizer_is_known(quad):
    assert quad.gap(quad.start) == pytest.approx(1.0)
    assert quad.gap(quad.x_star) == 0.0
    assert quad.gap(quad.x_star + 0.1) > 0


def test_quadratic_loss_is_unbiased_for_the_gap(quad):
    rng = np.random.default_rng(0)
    x = np.full(quad.dim, 0.3)
    xi = quad.sample(rng, (200_000,))
    losses = quad.loss(x, xi)
    assert losses.mean() == pytest.approx(quad.gap(x), abs=4 * losses.std() / np.sqrt(len(losses)))


def test_logistic_minimizer_is_stationary_and_loss_unbiased(logit):
    w = logit.x_star
    eps = 1e-6
    grad = np.array([(logit.risk(w + eps * e) - logit.risk(w - eps * e)) / (2 * eps) for e in np.eye(logit.dim)])
    assert np.abs(grad).max() < 1e-7
    assert logit.gap(w) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(1)
    x = np.full(logit.dim, 0.2)
    losses = logit.loss(np.broadcast_to(x, (100_000, logit.dim)), logit.sample(rng, (100_000,)))
    assert losses.mean() == pytest.approx(logit.risk(x), abs=4 * losses.std() / np.sqrt(len(losses)))


# ---- gradient estimators: unbiased within Monte Carlo error -----------------------------------

def _mean_and_se(draw, n_rep=20_000):
    g = draw(n_rep)  # (n_rep, d)
    return g.mean(axis=0), g.std(axis=0) / np.sqrt(n_rep)


@pytest.mark.parametrize("estimator", ["reinforce", "regression"])
def test_estimators_are_unbiased_for_the_gradient(quad, estimator):
    # On a quadratic, smoothing does not move the gradient: E f(x + s e) = f(x) + const.
    rng = np.random.default_rng(2)
    x = np.linspace(-0.5, 0.5, quad.dim)
    true = quad.curvature * (x - quad.x_star)
    explore = np.full((20_000, 1), 0.3)
    xs = np.broadcast_to(x, (20_000, quad.dim))
    if estimator == "reinforce":
        g = dfo.reinforce_gradient(quad, xs, explore, 5, rng)
    else:
        g = dfo.regression_gradient(quad, xs, explore, quad.dim + 4, rng)
    mean, se = g.mean(axis=0), g.std(axis=0) / np.sqrt(len(g))
    assert np.all(np.abs(mean - true) < 5 * se + 1e-9)


def test_antithetic_estimator_points_along_the_gradient(quad):
    # ARS divides by the spread of the values, so it estimates the gradient's direction; with all
    # directions kept and the spread fixed, (y+ - y-) delta / (2 nu) is unbiased for the gradient.
    rng = np.random.default_rng(3)
    x = np.linspace(-0.5, 0.5, quad.dim)
    true = quad.curvature * (x - quad.x_star)
    g = dfo.antithetic_gradient(quad, np.broadcast_to(x, (20_000, quad.dim)), np.full((20_000, 1), 0.2), 8, 8, rng)
    mean = g.mean(axis=0)
    cos = mean @ true / (np.linalg.norm(mean) * np.linalg.norm(true))
    assert cos > 0.99


def test_regression_gradient_is_exact_without_noise():
    obj = dfo.make_quadratic(5, spread=0.0, seed=1)
    x = np.linspace(-1, 1, 5)[None, :]
    g = dfo.regression_gradient(obj, x, np.array([[1e-4]]), 8, np.random.default_rng(0))
    np.testing.assert_allclose(g[0], obj.curvature * (x[0] - obj.x_star), rtol=1e-3, atol=1e-6)


# ---- the methods reach the known minimizer ----------------------------------------------------

@pytest.mark.parametrize("method, kwargs", [
    (dfo.reinforce, dict(step=0.05, explore=0.3, batch=8)),
    (dfo.random_search, dict(step=0.05, explore=0.3, n_dirs=4)),
    (dfo.local_model, dict(step=0.5, explore=0.3, batch=14)),
])
def test_black_box_methods_converge_on_a_quadratic(quad, method, kwargs):
    trace = method(quad, 20_000, n_runs=8, seed=0, **kwargs)
    assert trace.gap.shape == (8, trace.samples.size)
    assert np.median(trace.gap[:, -1]) < 0.05  # from a gap of 1
    assert np.all(np.diff(trace.samples) > 0) and trace.samples[-1] <= 20_000


def test_model_based_matches_its_closed_form(quad):
    trace = dfo.model_based(quad, 50, n_runs=4000, seed=1)
    n = trace.samples[-1]
    expected = quad.spread**2 * quad.curvature.sum() / (2 * n)
    assert trace.gap[:, -1].mean() == pytest.approx(expected, rel=0.08)


def test_model_based_logistic_is_erm(logit):
    trace = dfo.model_based(logit, 3000, n_runs=3, seed=0)
    assert np.all(trace.gap[:, -1] < 0.05 * trace.gap[:, 0])


def test_ce_theory_samples_closed_form(quad):
    n = dfo_study.ce_theory_samples(quad, 0.01)
    assert n == pytest.approx(quad.spread**2 * quad.curvature.sum() / 0.02)


def test_divergent_runs_are_reported_as_inf(quad):
    trace = dfo.reinforce(quad, 2000, step=[1e3, 0.05], explore=0.3, batch=4, n_runs=2, seed=0)
    assert np.isinf(trace.gap[0, -1]) and np.isfinite(trace.gap[1, -1])


def test_early_stop_only_after_every_run_settled(quad):
    trace = dfo.random_search(quad, 50_000, step=0.05, explore=0.3, n_dirs=4, n_runs=4, seed=0,
                              stop_below=0.05)
    assert trace.samples[-1] < 50_000
    assert np.all(trace.gap.min(axis=1) <= 0.05)


def test_batches_are_reproducible(quad):
    a = dfo_study.run_batch("REINFORCE", quad, 2000, [dict(step=0.05, explore=0.3, batch=4)], [0, 1, 2])
    b = dfo_study.run_batch("REINFORCE", quad, 2000, [dict(step=0.05, explore=0.3, batch=4)], [0, 1, 2])
    np.testing.assert_array_equal(a.gap, b.gap)


def test_small_sweep_is_deterministic_and_well_formed():
    kw = dict(problem="quadratic", dims=(2, 4), n_seeds=3, target=0.05, budget_per_dim=1500)
    one = dfo_study.dimension_sweep(**kw)
    two = dfo_study.dimension_sweep(**kw)
    for name in dfo.SWEEP_METHODS:
        np.testing.assert_array_equal(one["methods"][name]["hits"], two["methods"][name]["hits"])
        assert one["methods"][name]["hits"].shape == (2, 3)
    assert np.all(np.isfinite(one["methods"]["model known (CE)"]["hits"]))
    from ce_lib.scoreboard import validate_record
    for information in ("same", "more"):
        record = validate_record(dfo_study.sweep_record(one, "tiny", information))
        assert record["information"] == information
        ce = {m["name"] for m in record["methods"] if m["family"] == "ce"}
        assert ce == {"model known (CE)" if information == "more" else "local model (CE)"}
        assert record["ratio"]["rl"] in ("REINFORCE", "random search (ARS)")
    cma = dfo_study.dimension_sweep(**kw, methods=("CMA-ES",))
    assert set(cma["methods"]) == {"CMA-ES"} and cma["methods"]["CMA-ES"]["hits"].shape == (2, 3)
    record = validate_record(dfo_study.cma_record(one, cma))
    assert record["information"] == "same" and "CMA-ES" in {m["name"] for m in record["methods"]}
    assert record["task"].startswith("random-target quadratic, d = 4")


# ---- slopes -----------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.2, 3.0), c=st.floats(0.5, 50.0))
def test_loglog_slope_recovers_a_power_law(p, c):
    dims = np.array([2, 4, 8, 16, 32])
    hits = np.repeat((c * dims**p)[:, None], 5, axis=1)
    iv = dfo_study.loglog_slope(dims, hits)
    assert iv.median == pytest.approx(p, abs=1e-9)


def test_loglog_slope_counts_misses_at_budget():
    dims = np.array([2, 4])
    hits = np.array([[10.0, 10.0, 10.0], [np.inf, np.inf, 40.0]])
    with pytest.raises(ValueError, match="budget"):
        dfo_study.loglog_slope(dims, hits)
    assert dfo_study.loglog_slope(dims, hits, budget=[100, 40]).median == pytest.approx(2.0)


# ---- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda q: dfo.make_quadratic(0), "dim"),
    (lambda q: dfo.make_quadratic(3, spread=-1), "spread"),
    (lambda q: dfo.make_quadratic(3, condition=0.5), "condition"),
    (lambda q: dfo.make_logistic(3, reg=0), "reg"),
    (lambda q: dfo.StochasticQuadratic([1.0, -1.0], [0.0, 0.0], 0.1, [0.0, 0.0]), "curvature"),
    (lambda q: dfo.StochasticQuadratic([1.0, 1.0], [0.0], 0.1, [0.0, 0.0]), "x_star"),
    (lambda q: dfo.StochasticQuadratic([1.0, 1.0], [0.0, 0.0], -0.1, [0.0, 0.0]), "spread"),
    (lambda q: dfo.reinforce(q, 100, step=-1, explore=0.1, batch=4), "step"),
    (lambda q: dfo.reinforce(q, 100, step=0.1, explore=np.nan, batch=4), "explore"),
    (lambda q: dfo.reinforce(q, 100, step=[0.1, 0.2], explore=0.1, batch=4, n_runs=3), "step"),
    (lambda q: dfo.reinforce(q, 100, step=0.1, explore=0.1, batch=1), "batch"),
    (lambda q: dfo.reinforce(q, 3, step=0.1, explore=0.1, batch=4), "budget"),
    (lambda q: dfo.reinforce(q, 0, step=0.1, explore=0.1, batch=4), "budget"),
    (lambda q: dfo.random_search(q, 100, step=0.1, explore=0.1, n_dirs=2, top=3), "top"),
    (lambda q: dfo.local_model(q, 100, step=0.1, explore=0.1, batch=q.dim), "batch"),
    (lambda q: dfo.model_based(q, 100, growth=1.0), "growth"),
    (lambda q: dfo_study.dimension_sweep(dims=(), n_seeds=2), "dims"),
    (lambda q: dfo_study.dimension_sweep(dims=(2,), target=2.0), "target"),
    (lambda q: dfo_study.hyper_grid("simulated annealing", 4), "method"),
    (lambda q: dfo_study.dimension_sweep(problem="rosenbrock", dims=(2,), n_seeds=2), "problem"),
])
def test_bad_input_names_the_argument(quad, call, match):
    with pytest.raises(ValueError, match=match):
        call(quad)


def test_wrong_objective_type_is_a_type_error():
    with pytest.raises(TypeError, match="obj"):
        dfo.reinforce("not a problem", 100, step=0.1, explore=0.1, batch=4)


# ---- tuning -----------------------------------------------------------------------------------

def test_tuning_batch_stops_when_a_configurations_median_is_decided():
    rule = dfo_study._median_decided_rule(n_configs=2, n_seeds=3, cap=1e9)
    none = np.zeros(6, dtype=bool)
    assert not rule(10.0, none, none)
    assert not rule(10.0, np.array([1, 0, 0, 1, 0, 0], dtype=bool), none)  # one of three: undecided
    assert rule(10.0, np.array([0, 0, 0, 1, 0, 1], dtype=bool), none)  # two of three: the median is known
    assert rule(1e9, none, none)  # past the cap nothing can win any more


def test_tune_minimizes_the_reported_median_over_the_whole_grid():
    obj = dfo.problem_instance("quadratic", 4)
    out = dfo_study.tune("random search (ARS)", obj, budget=8000, target=0.05)
    assert out["runs"] == out["grid_size"] // 2 * len(dfo_study.SETTINGS.tuning_seeds)  # the two readouts of a setting share a run
    assert out["hyper"] in dfo_study.hyper_grid("random search (ARS)", 4)
    assert isinstance(out["step_at_edge"], bool)
    assert out["median_samples"] == np.median(np.where(np.isfinite(out["tuning_hits"]), out["tuning_hits"], 8000))
    # brute force: every batch of the grid run to the end (no early stop, the same random numbers
    # as tune's batches up to where they stopped); no configuration has a smaller median
    seeds = list(dfo_study.SETTINGS.tuning_seeds)
    groups = {}
    for hyper in dfo_study.hyper_grid("random search (ARS)", 4):
        groups.setdefault(dfo_study._structure(hyper), []).append(hyper)
    medians = []
    for hypers in groups.values():
        trace = dfo_study.run_batch("random search (ARS)", obj, 8000, hypers, seeds)
        hits = samples_to_target(trace.samples, trace.gap, 0.05, hold=HOLD).reshape(len(hypers), len(seeds))
        medians += list(np.median(np.where(np.isfinite(hits), hits, 8000), axis=1))
    assert out["median_samples"] == pytest.approx(min(medians))


def test_problem_instances_are_fixed_per_dimension():
    a, b = dfo.problem_instance("quadratic", 8), dfo.problem_instance("quadratic", 8)
    np.testing.assert_array_equal(a.x_star, b.x_star)
    with pytest.raises(ValueError, match="problem"):
        dfo.problem_instance("rosenbrock", 8)


def test_a_run_settles_only_after_staying_at_the_target():
    s = dfo._Settling(np.array([1.0, 1.0, 0.1]), 0.5)
    np.testing.assert_array_equal(s.update(10, np.array([0.4, 0.4, 0.2])), [False, False, True])
    np.testing.assert_array_equal(s.update(13, np.array([0.4, 0.6, 0.2])), [True, False, True])
    np.testing.assert_array_equal(s.update(20, np.array([0.4, 0.4, 0.7])), [True, False, True])


def test_lucky_bounces_do_not_win_the_tuning():
    # On the 2-d logistic task, a huge step bounces through the target early by luck; the hold rule
    # counts a run only once it stays, so the tuned configuration keeps most reported seeds there.
    obj = dfo.problem_instance("logistic", 2)
    tol = 0.1 * float(obj.gap(obj.start))
    tuned = dfo_study.tune("REINFORCE", obj, budget=32_000, target=tol)
    trace = dfo_study.run_batch("REINFORCE", obj, 32_000, [tuned["hyper"]], list(range(10)), stop_below=tol)
    hits = samples_to_target(trace.samples, trace.gap, tol, hold=HOLD)
    assert np.mean(np.isfinite(hits)) >= 0.8


def test_learning_curves_run_every_method_without_early_stop():
    hypers = {"model known (CE)": {}, "local model (CE)": dict(step=0.5, explore=0.3, batch=10),
              "REINFORCE": dict(step=0.05, explore=0.3, batch=4),
              "random search (ARS)": dict(step=0.05, explore=0.3, n_dirs=2, top=2)}
    curves = dfo_study.learning_curves("quadratic", 4, hypers, n_seeds=3, budget=500)
    assert set(curves) == set(dfo.SWEEP_METHODS)
    for trace in curves.values():
        assert trace.gap.shape[0] == 3 and trace.gap[0, 0] == pytest.approx(1.0)
        assert trace.samples[-1] <= 500
    with pytest.raises(ValueError, match="hypers"):
        dfo_study.learning_curves("quadratic", 4, {}, n_seeds=2, budget=100)


def test_cma_es_is_reproducible_leaves_numpy_global_state_alone_and_solves_a_noiseless_quadratic():
    obj = dfo.make_quadratic(6, spread=0.0, seed=3)
    state = np.random.get_state()[1].copy()
    a = dfo.cma_es(obj, 3000, explore=[0.5, 1.0], popsize_factor=1, n_runs=2, seed=7)
    b = dfo.cma_es(obj, 3000, explore=[0.5, 1.0], popsize_factor=1, n_runs=2, seed=7)
    np.testing.assert_array_equal(a.gap, b.gap)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert np.all(a.gap[:, -1] < 1e-8 * a.gap[:, 0])  # without noise CMA-ES converges fast
    c = dfo.cma_es(obj, 3000, explore=[0.5, 1.0], popsize_factor=1, n_runs=2, seed=8)
    assert not np.array_equal(a.gap, c.gap)
    with pytest.raises(ValueError, match="budget"):
        dfo.cma_es(obj, 5, explore=1.0, popsize_factor=4)
    with pytest.raises(ValueError, match="popsize_factor"):
        dfo.cma_es(obj, 500, explore=1.0, popsize_factor=0)


def _package_strategies(obj, explores, popsize, streams):
    """One cma.CMAEvolutionStrategy per run, drawing its normal variates from its own generator."""
    import cma

    opts = {"popsize": popsize, "seed": float("nan"), "verbose": -9, "verb_log": 0, "verb_disp": 0,
            "tolfun": 0, "tolfunhist": 0, "tolfunrel": 0, "tolx": 0, "tolstagnation": int(1e12),
            "tolflatfitness": int(1e12), "tolconditioncov": np.inf, "maxiter": np.inf, "maxfevals": np.inf}
    return [cma.CMAEvolutionStrategy(np.asarray(obj.start, dtype=float), float(s),
                                     {**opts, "randn": (lambda g: lambda n, d: g.standard_normal((n, d)))(g)})
            for s, g in zip(explores, streams)]


def _assert_same_state(package, ours, r):
    es = package
    assert np.array_equal(es.mean, ours.mean[r]) and es.sigma == ours.sigma[r]
    assert np.array_equal(es.sm.C, ours.C[r]) and np.array_equal(es.sm.D, ours.D[r])
    assert np.array_equal(es.adapt_sigma.ps, ours.ps[r]) and np.array_equal(es.pc, ours.pc[r])
    assert np.array_equal(es.gp.pheno(es.mean), ours.estimate()[r])


@pytest.mark.parametrize("dim, factor, n_iter", [(3, 1, 300), (8, 4, 150), (16, 1, 200), (40, 2, 60)])
def test_batched_cma_strategies_are_the_package_bit_for_bit(dim, factor, n_iter):
    """Same variates, same values: every state of every run equals the cma package's, every iteration."""
    obj = dfo.make_quadratic(dim, seed=5)
    lam = factor * (4 + int(3 * np.log(dim)))
    explores = [0.3, 1.0, 3.0]
    rng = np.random.default_rng(21)
    package = _package_strategies(obj, explores, lam, [np.random.default_rng(s) for s in (1, 2, 3)])
    ours = dfo._CMAStrategies(np.asarray(obj.start), np.array(explores), lam)
    mine = [np.random.default_rng(s) for s in (1, 2, 3)]
    for _ in range(n_iter):
        xi = obj.sample(rng, (3, lam))
        points = ours.ask(np.stack([g.standard_normal((lam, dim)) for g in mine]))
        ours.tell(obj.loss(points, xi))
        for r, es in enumerate(package):
            X = np.asarray(es.ask())
            assert np.array_equal(X, points[r])
            es.tell(X, obj.loss(X, xi[r]))
            _assert_same_state(es, ours, r)


def test_batched_cma_strategies_follow_the_package_through_its_remedies():
    """A noisy run in d = 2 that the package carries through all four of its remedies: the covariance
    moved into a change of coordinates, two candidates rounding to the same point, a runaway step size
    moved into the covariance, a covariance that lost positive definiteness. Still bit for bit."""
    import warnings

    obj = dfo.make_quadratic(2, seed=3)
    rng = np.random.default_rng(11)
    streams, mine = rng.spawn(6)[4], np.random.default_rng(11).spawn(6)[4]
    (es,) = _package_strategies(obj, [2.46], 6, [streams])
    ours = dfo._CMAStrategies(np.zeros(2), np.array([2.46]), 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package prints and warns as it applies its remedies
        for _ in range(2141):
            xi = obj.sample(rng, (6, 6))[4:5]
            points = ours.ask(mine.standard_normal((1, 6, 2)))
            ours.tell(obj.loss(points, xi))
            X = np.asarray(es.ask())
            assert np.array_equal(X, points[0])
            es.tell(X, obj.loss(X, xi[0]))
            _assert_same_state(es, ours, 0)
    assert all(count > 0 for count in ours.remedies.values()), ours.remedies


def test_cma_es_is_the_package_run_by_run():
    """cma_es against the loop it replaced (one package strategy per run, settled runs frozen), with the
    package's estimate read as a point of the problem."""
    obj = dfo.make_quadratic(8, seed=1)
    tol = 0.02
    n_runs, lam, budget = 4, 4 * (4 + int(3 * np.log(8))), 20000
    explores = np.array([0.3, 1.0, 3.0, 0.5])
    trace = dfo.cma_es(obj, budget, explore=explores, popsize_factor=4, n_runs=n_runs, seed=9, stop_below=tol)
    rng = np.random.default_rng(9)
    package = _package_strategies(obj, explores, lam, rng.spawn(n_runs))
    n_iter = budget // lam
    checks = np.unique(np.round(np.geomspace(1, n_iter, 120)).astype(int))
    x = np.zeros((n_runs, 8))
    settling = dfo._Settling(obj.gap(x), tol)
    done, record = np.zeros(n_runs, dtype=bool), [obj.gap(x)]
    for t in range(1, n_iter + 1):
        xi = obj.sample(rng, (n_runs, lam))
        for r in np.flatnonzero(~done):
            X = np.asarray(package[r].ask())
            package[r].tell(X, obj.loss(X, xi[r]))
            x[r] = package[r].gp.pheno(package[r].mean)
        if t in checks:
            record.append(obj.gap(x))
            done = settling.update(float(t * lam), record[-1]).copy()
            if done.all():
                break
    assert 0 < done.sum() <= n_runs
    np.testing.assert_array_equal(trace.gap, np.stack(record, axis=1))


def test_averaging_removes_the_wandering_of_a_constant_step():
    # same steps either way (the readout differs), so the averaged iterate ends far closer to the optimum
    obj = dfo.make_quadratic(8, seed=1)
    kw = dict(step=0.5 / 8, explore=0.3, batch=10, n_runs=16, seed=4)
    last = dfo.reinforce(obj, 40_000, average=False, **kw)
    avg = dfo.reinforce(obj, 40_000, average=True, **kw)
    np.testing.assert_array_equal(last.gap[:, 0], avg.gap[:, 0])
    assert np.median(avg.gap[:, -1]) < 0.5 * np.median(last.gap[:, -1])
    mixed = dfo.random_search(obj, 4000, step=0.1, explore=0.3, n_dirs=4, average=np.array([True, False]), n_runs=2)
    assert mixed.gap.shape[0] == 2
    with pytest.raises(TypeError, match="average"):
        dfo.reinforce(obj, 400, step=0.1, explore=0.3, batch=4, average="yes")
    with pytest.raises(TypeError, match="average"):
        dfo.random_search(obj, 400, step=0.1, explore=0.3, n_dirs=4, average=np.array([1, 0]), n_runs=2)


def test_run_batch_shares_one_simulation_between_the_two_readouts():
    obj = dfo.make_quadratic(4, seed=2)
    h = dict(step=0.05, explore=0.3, batch=6)
    both = dfo_study.run_batch("REINFORCE", obj, 3000, [dict(h, average=False), dict(h, average=True)], [0, 1])
    raw = dfo_study.run_batch("REINFORCE", obj, 3000, [dict(h, average=False)], [0, 1])
    avg = dfo_study.run_batch("REINFORCE", obj, 3000, [dict(h, average=True)], [0, 1])
    np.testing.assert_array_equal(both.gap[:2], raw.gap)
    np.testing.assert_array_equal(both.gap[2:], avg.gap)
    assert not np.array_equal(raw.gap[:, -1], avg.gap[:, -1])
    with pytest.raises(ValueError, match="same settings"):
        dfo_study.run_batch("REINFORCE", obj, 3000, [dict(h, average=False), h], [0])
