import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from scipy.linalg import solve_discrete_are

from ce_lib import lqr as L
from ce_lib.studies import lqr as lqr_study


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 4), m=st.integers(1, 3))
def test_dare_matches_scipy_on_random_stabilizable_systems(seed, n, m):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) * rng.uniform(0.3, 1.5)
    B = rng.standard_normal((n, m))
    assume(L.is_stabilizable(A, B))
    # Well-conditioned instances only: controllability Gramian not nearly singular.
    ctrb = np.hstack([np.linalg.matrix_power(A, k) @ B for k in range(n)])
    assume(np.linalg.svd(ctrb, compute_uv=False).min() > 1e-3)
    Q = np.eye(n) * rng.uniform(0.1, 2.0)
    R = np.eye(m) * rng.uniform(0.1, 2.0)
    P = L.dare(A, B, Q, R)
    P_ref = solve_discrete_are(A, B, Q, R)
    np.testing.assert_allclose(P, P_ref, rtol=1e-6, atol=1e-8 * max(1.0, np.abs(P_ref).max()))
    # The Riccati residual vanishes.
    res = A.T @ P @ A - A.T @ P @ B @ np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A) + Q - P
    assert np.abs(res).max() <= 1e-6 * max(1.0, np.abs(P).max())


def test_dare_scalar_golden_case():
    a, b, q, r = 1.2, 0.5, 2.0, 1.0
    c = r * (1 - a * a) - q * b * b
    p = (-c + np.sqrt(c * c + 4 * b * b * q * r)) / (2 * b * b)
    assert L.dare([[a]], [[b]], [[q]], [[r]])[0, 0] == pytest.approx(p, rel=1e-12)
    k = L.lqr_gain([[a]], [[b]], [[q]], [[r]])[0, 0]
    assert k == pytest.approx(b * p * a / (r + b * b * p), rel=1e-12)
    # Average cost of the optimal gain under unit noise equals p (the value of one unit of noise).
    assert L.lqr_cost([[a]], [[b]], [[q]], [[r]], [[k]]) == pytest.approx(p, rel=1e-10)


def test_lqr_cost_matches_monte_carlo():
    prob = L.double_integrator()
    K, J = prob.optimal()
    rng = np.random.default_rng(0)
    runs, steps, burn = 200, 2000, 100
    x = np.zeros((runs, prob.n))
    total = np.zeros(runs)
    for t in range(steps):
        u = -x @ K.T
        if t >= burn:
            total += np.einsum("bi,ij,bj->b", x, prob.Q, x) + np.einsum("bi,ij,bj->b", u, prob.R, u)
        x = x @ prob.A.T + u @ prob.B.T + rng.standard_normal((runs, prob.n))
    est = total / (steps - burn)
    assert abs(est.mean() - J) < 4 * est.std() / np.sqrt(runs)


def test_cost_is_infinite_for_unstable_gains_and_optimal_has_zero_error():
    prob = L.laplacian_system()
    assert L.lqr_cost(prob.A, prob.B, prob.Q, prob.R, np.zeros((3, 3))) == np.inf
    K, _ = prob.optimal()
    assert L.relative_error(prob, K) == pytest.approx(0.0, abs=1e-12)
    assert L.relative_error(prob, None) == np.inf


def test_fit_dynamics_is_exact_without_noise():
    prob = L.laplacian_system()
    X, U, Xn = L.rollouts(prob.A, prob.B, 2, 5, np.random.default_rng(0), sigma_w=0.0)
    A_hat, B_hat = L.fit_dynamics(X, U, Xn)
    np.testing.assert_allclose(A_hat, prob.A, atol=1e-10)
    np.testing.assert_allclose(B_hat, prob.B, atol=1e-10)


def test_rollouts_batch_shapes():
    prob = L.double_integrator()
    X, U, Xn = L.rollouts(prob.A, prob.B, 3, 4, np.random.default_rng(0), batch=5)
    assert X.shape == (5, 12, 2) and U.shape == (5, 12, 1) and Xn.shape == (5, 12, 2)
    np.testing.assert_array_equal(X[:, 0], 0.0)  # every rollout starts at rest
    np.testing.assert_array_equal(X[:, 1], Xn[:, 0])


def test_gymnasium_environment_passes_check_env():
    from gymnasium.utils.env_checker import check_env

    env = L.LQREnv(L.double_integrator(), horizon=5)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    obs2, reward, term, trunc, _ = env.step(np.array([1.0]))
    assert reward == pytest.approx(-1.0) and not term and not trunc
    with pytest.raises(ValueError, match="horizon"):
        L.LQREnv(horizon=0)


def test_nominal_ce_and_lspi_are_near_optimal_with_enough_data():
    prob = L.laplacian_system()
    K = L.nominal_ce(prob, 20, np.random.default_rng(0), horizon=200)
    assert L.relative_error(prob, K) < 0.01
    K0 = lqr_study.SETTINGS.stabilizing_start[prob.name]
    X, U, Xn = L.rollouts(prob.A, prob.B, 200, 200, np.random.default_rng(1), K=K0)
    assert L.relative_error(prob, L.lspi(prob, X, U, Xn, K0)) < 0.05


def test_model_free_searches_improve_on_the_double_integrator():
    prob = L.double_integrator()
    checks = [2, 1000]
    rs = L.random_search(prob, 1000, step=0.02, explore=0.05, n_dirs=4,
                         horizon=50, checkpoints=checks, n_runs=4, seed=0)
    assert np.array_equal(rs.samples, checks) and rs.gains.shape == (2, 4, 1, 2)
    errs = [[L.relative_error(prob, K[r]) for r in range(4)] for K in rs.gains]
    assert np.median(errs[-1]) < 0.1 and np.all(np.isinf(errs[0]))  # K = 0 is not stabilizing
    pg = L.policy_gradient(prob, 1000, step=0.02, explore=0.5, batch=10,
                           horizon=50, checkpoints=checks, n_runs=16, seed=np.random.default_rng(0))
    errs = [L.relative_error(prob, pg.gains[-1][r]) for r in range(16)]
    assert np.median(errs) < 3.0 and np.mean(np.isfinite(errs)) >= 0.5  # from K = 0, which is not stabilizing


def test_learning_curves_shapes_and_reproducibility():
    prob = L.double_integrator()
    kw = dict(searches={"random search (ARS)": dict(step=0.02, explore=0.05, n_dirs=4),
                        "natural policy gradient": dict(step=0.05, radius=0.05)}, ce_budget=20, lspi_budget=20)
    a = lqr_study.learning_curves(prob, 40, 3, seed=0, **kw)
    b = lqr_study.learning_curves(prob, 40, 3, seed=0, **kw)
    for k in ("nominal CE", "LSPI", "random search (ARS)", "natural policy gradient"):
        assert a[k].shape == (3, a["rollouts"].size)
        np.testing.assert_array_equal(a[k], b[k])
    assert np.nanmax(a["nominal CE"][:, -3:]) < 0.05
    # from the stabilizing gain, the first checkpoint of a search is that gain's error
    c = lqr_study.learning_curves(prob, 40, 3, seed=0, start="stabilizing", ce_budget=1, lspi_budget=1,
                          searches=kw["searches"])
    assert "nominal CE" not in c and "LSPI" not in c
    np.testing.assert_allclose(c["natural policy gradient"][:, 0],
                               L.relative_error(prob, lqr_study.SETTINGS.stabilizing_start[prob.name]))
    with pytest.raises(ValueError, match="start must be"):
        lqr_study.learning_curves(prob, 40, 3, start="warm")
    with pytest.raises(ValueError, match="searches: unknown"):
        lqr_study.learning_curves(prob, 40, 3, searches={"CMA-ES": {}})


def test_bad_input_names_the_argument():
    A, B, Q, R = np.eye(2), np.eye(2), np.eye(2), np.eye(2)
    with pytest.raises(ValueError, match="B must have 2 rows"):
        L.dare(A, np.ones((3, 1)), Q, R)
    with pytest.raises(ValueError, match="A must be square"):
        L.dare(np.ones((2, 3)), B, Q, R)
    with pytest.raises(ValueError, match="Q must be square"):
        L.dare(A, B, np.ones((2, 3)), R)
    with pytest.raises(ValueError, match="R must be symmetric positive definite"):
        L.dare(A, B, Q, -np.eye(2))
    with pytest.raises(ValueError, match="R must be square"):
        L.dare(A, B, Q, np.eye(3))
    with pytest.raises(ValueError, match="stabilizable"):
        L.dare(np.diag([2.0, 0.5]), np.array([[0.0], [1.0]]), Q, np.eye(1))
    with pytest.raises(ValueError, match="X: need at least"):
        L.fit_dynamics(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X, U and X_next"):
        L.fit_dynamics(np.zeros((5, 2)), np.zeros((4, 1)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="rank deficient"):
        L.fit_dynamics(np.zeros((10, 2)), np.ones((10, 1)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match="K must have shape"):
        L.lqr_cost(A, B, Q, R, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="A must contain only finite"):
        L.lqr_gain([[np.nan]], [[1.0]], [[1.0]], [[1.0]])
    with pytest.raises(ValueError, match="n_rollouts"):
        L.rollouts(A, B, 0, 5, 0)


def test_rollout_cost_matches_simulated_rollouts_and_tends_to_the_average_cost():
    prob = L.double_integrator()
    K, J = prob.optimal()
    costs, _, _ = L._rollout_costs(prob, np.repeat(K[None], 20_000, axis=0), np.random.default_rng(0), 20)
    exact = L.rollout_cost(prob, K, 20)
    assert abs(costs.mean() - exact) < 4 * costs.std() / np.sqrt(costs.size)
    assert L.rollout_cost(prob, K, 5000) == pytest.approx(J, rel=2e-3)
    # Short rollouts from rest favour weak gains: on the Laplacian system the best gain for
    # 10-step rollouts does not even stabilize the system.
    lap = L.laplacian_system()
    assert L.relative_error(lap, L.best_rollout_gain(lap, 10)) == np.inf
    assert L.relative_error(lap, L.best_rollout_gain(lap, 200)) < 0.01


def test_searches_refuse_settings_that_would_hang_or_do_nothing():
    prob = L.double_integrator()
    with pytest.raises(ValueError, match="batch"):
        L.policy_gradient(prob, 100, step=0.01, explore=0.5, batch=0)  # once an endless loop
    with pytest.raises(ValueError, match="budget"):
        L.random_search(prob, 3, step=0.01, explore=0.1, n_dirs=4)  # below one iteration: K = 0
    for bad in (-1.0, np.nan, "0.1"):
        with pytest.raises((ValueError, TypeError), match="step"):
            L.random_search(prob, 100, step=bad, explore=0.1)


def test_problems_and_costs_validate_however_they_are_built():
    with pytest.raises(ValueError, match="stabilizable"):
        L.LQRProblem(np.diag([2.0, 0.5]), np.array([[0.0], [1.0]]), np.eye(2), np.eye(1), "bad")
    with pytest.raises(ValueError, match="R must"):
        L.LQRProblem(np.eye(2), np.eye(2), np.eye(2), -np.eye(2), "bad")
    prob = L.double_integrator()
    K, _ = prob.optimal()
    with pytest.raises(ValueError, match="W must be"):
        L.lqr_cost(prob.A, prob.B, prob.Q, prob.R, K, W=-np.eye(2))  # a negative "cost" before
    assert lqr_study.problem("laplacian").name == L.laplacian_system().name
    with pytest.raises(ValueError, match="name"):
        lqr_study.problem("cart-pole")


def test_rollouts_with_one_seed_share_their_noise_whatever_the_gain():
    # common random numbers for CE and LSPI: the same disturbances and input noise, rollout by rollout
    prob = L.double_integrator()
    X0, U0, Xn0 = L.rollouts(prob.A, prob.B, 3, 10, 7)
    K = np.array([[0.3, 1.0]])
    X1, U1, Xn1 = L.rollouts(prob.A, prob.B, 3, 10, 7, K=K)
    w0 = Xn0 - X0 @ prob.A.T - U0 @ prob.B.T
    w1 = Xn1 - X1 @ prob.A.T - U1 @ prob.B.T
    np.testing.assert_allclose(w0, w1, atol=1e-12)
    np.testing.assert_allclose(U0, U1 + X1 @ K.T, atol=1e-12)


def _finite_difference(f, K, h=1e-5):
    g = np.zeros_like(K)
    for idx in np.ndindex(K.shape):
        E = np.zeros_like(K)
        E[idx] = h
        g[idx] = (f(K + E) - f(K - E)) / (2 * h)
    return g


@pytest.mark.parametrize("name", ["laplacian", "double integrator"])
def test_lqr_gradient_matches_finite_differences_and_vanishes_at_the_optimum(name):
    prob = lqr_study.problem(name)
    K_star, _ = prob.optimal()
    K = 1.3 * K_star
    G, Sigma = L.lqr_gradient(prob, K)
    G_fd = _finite_difference(lambda k: L.lqr_cost(prob.A, prob.B, prob.Q, prob.R, k), K)
    np.testing.assert_allclose(G, G_fd, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(Sigma, L.rollout_state_covariance(prob, K, 20_000), rtol=2e-3)
    assert np.abs(L.lqr_gradient(prob, K_star)[0]).max() < 1e-8
    with pytest.raises(ValueError, match="K must stabilize"):
        L.lqr_gradient(prob, np.zeros_like(K))


def test_natural_gradient_estimate_is_unbiased_for_the_rollout_cost():
    # the two-point sphere estimator against the exact gradient of the rollout cost (finite differences of
    # the exact recursion), and the state second moment against its exact value; 20 batches give the noise
    prob, T = L.double_integrator(), 20
    K = 1.2 * prob.optimal()[0]
    rng = np.random.default_rng(0)
    batches = [L._npg_estimate(prob, K[None], rng, 10_000, 0.05, T) for _ in range(20)]
    grads = np.array([g[0] for g, _ in batches])
    exact = _finite_difference(lambda k: L.rollout_cost(prob, k, T), K)
    se = grads.std(axis=0, ddof=1) / np.sqrt(len(grads))
    assert np.all(np.abs(grads.mean(axis=0) - exact) < 4 * se + 0.02 * np.abs(exact))
    assert np.all(se < 0.1 * np.abs(exact).max())  # the check has teeth: a factor-2 error is 15 se away
    Sigma = np.mean([S[0] for _, S in batches], axis=0)
    np.testing.assert_allclose(Sigma, L.rollout_state_covariance(prob, K, T), rtol=0.02)


def test_every_search_starts_from_the_given_gain_and_improves_the_double_integrator():
    prob = L.double_integrator()
    K0 = lqr_study.SETTINGS.stabilizing_start[prob.name]
    kws = {L.random_search: dict(step=1e-12, explore=0.05, n_dirs=4),
           L.policy_gradient: dict(step=1e-12, explore=0.5, batch=8),
           L.natural_policy_gradient: dict(step=1e-12, radius=0.05, n_dirs=4)}
    for fn, kw in kws.items():
        K = fn(prob, 8, K0=K0, horizon=50, n_runs=2, seed=0, **kw).gains[-1]
        np.testing.assert_allclose(K, np.repeat(K0[None], 2, axis=0), atol=1e-9, err_msg=fn.__name__)
    checks = [8, 1000]
    runs = {"V2-t": L.random_search(prob, 1000, step=0.03, explore=0.2, n_dirs=4, normalize=True, K0=K0,
                                    horizon=50, checkpoints=checks, n_runs=4, seed=1),
            "NPG": L.natural_policy_gradient(prob, 1000, step=0.03, radius=0.2, n_dirs=4, K0=K0, horizon=50,
                                             checkpoints=checks, n_runs=4, seed=1)}
    for name, Ks in runs.items():
        errs = [L.relative_error(prob, Ks.gains[-1][r]) for r in range(4)]
        assert np.median(errs) < 0.05, (name, errs)
    with pytest.raises(TypeError, match="normalize"):
        L.random_search(prob, 100, step=0.1, explore=0.1, normalize="yes")
    with pytest.raises(ValueError, match="radius"):
        L.natural_policy_gradient(prob, 100, step=0.1, radius=0.0)
    with pytest.raises(ValueError, match="K0 must have shape"):
        L.policy_gradient(prob, 100, step=0.1, explore=0.1, K0=np.zeros((2, 2)))


def test_the_cost_fit_recovers_q_and_r_and_ce_with_a_fitted_cost_matches_ce_told_the_cost():
    prob = L.laplacian_system()
    X, U, Xn = L.rollouts(prob.A, prob.B, 1, 200, 3)
    Q_hat, R_hat = L.fit_cost(X, U, L.stage_costs(prob, X, U))
    np.testing.assert_allclose(Q_hat, prob.Q, atol=1e-10)
    np.testing.assert_allclose(R_hat, prob.R, atol=1e-10)
    assert L.fit_cost(X[:5], U[:5], L.stage_costs(prob, X[:5], U[:5])) is None  # 12 unknowns, 5 costs
    for seed in range(3):
        np.testing.assert_allclose(L.nominal_ce(prob, 2, seed, horizon=200),
                                   L.nominal_ce(prob, 2, seed, horizon=200, cost="given"), atol=1e-8)
    with pytest.raises(ValueError, match="cost must be"):
        L.nominal_ce(prob, 2, 0, cost="known")
    with pytest.raises(ValueError, match="costs must"):
        L.fit_cost(X, U, np.full(len(X), np.nan))


def test_per_run_settings_run_a_grid_as_one_batch():
    prob = L.double_integrator()
    kw = dict(n_dirs=4, horizon=50, n_runs=3, seed=5)
    one = L.random_search(prob, 80, step=0.02, explore=0.05, **kw)
    same = L.random_search(prob, 80, step=np.full(3, 0.02), explore=[0.05] * 3, **kw)
    np.testing.assert_array_equal(one.gains, same.gains)  # equal settings per run: the same draws, the same gains
    mixed = L.natural_policy_gradient(prob, 80, step=[0.01, 0.03, 0.1], radius=0.2, K0=lqr_study.SETTINGS.stabilizing_start[prob.name],
                                      **kw).gains[-1]
    assert len({tuple(np.round(K.ravel(), 12)) for K in mixed}) == 3
    with pytest.raises(ValueError, match="step must be a positive number or an array of 3"):
        L.random_search(prob, 80, step=[0.01, 0.02], explore=0.05, **kw)
    with pytest.raises(ValueError, match="explore must be a positive number or an array of 3"):
        L.policy_gradient(prob, 80, step=0.01, explore=[0.1, -0.1, 0.1], batch=4, horizon=50, n_runs=3)


def test_grid_edges_flags_only_settings_that_reached_the_target_at_an_end_of_the_grid():
    grids = {"policy gradient": [dict(step=s, explore=e) for s in (0.1, 0.3, 1.0) for e in (0.3, 1.0)]}
    tuned = {("policy gradient", "zero", 0.1): dict(step=1.0, explore=0.3),
             ("policy gradient", "zero", 0.01): dict(step=0.1, explore=0.3),
             ("policy gradient", "stabilizing", 0.1): dict(step=0.3, explore=1.0)}
    hits = {"zero": {0.1: {"policy gradient": np.array([5.0, 7.0, np.inf])},
                     0.01: {"policy gradient": np.array([np.inf, np.inf])}},
            "stabilizing": {0.1: {"policy gradient": np.array([3.0])}}}
    # step 1.0 is an end of a 3-value grid; explore has only two values; the 1% choice's median never reached
    assert lqr_study.grid_edges(tuned, hits, grids) == ["policy gradient, from zero, for 10%: step = 1"]
    assert len(lqr_study.grid_edges(tuned, None, grids)) == 2


def test_the_default_rollout_length_is_the_shortest_whose_best_gain_is_near_optimal():
    lap, di = L.laplacian_system(), L.double_integrator()
    assert L.rollout_horizon(di) == 10 and L.rollout_horizon(lap) == 200  # the LQR chapter's length for lap
    for p in (lap, di):
        T = L.rollout_horizon(p)
        assert L.relative_error(p, L.best_rollout_gain(p, T)) <= 0.01
        shorter = [t for t in L.HORIZON_GRID if t < T]
        assert all(L.relative_error(p, L.best_rollout_gain(p, t)) > 0.01 for t in shorter)
    assert not np.isfinite(L.relative_error(lap, L.best_rollout_gain(lap, 10)))  # the trap: 10 steps is unstable
    # the learners use it when no horizon is given
    a = L.random_search(lap, 80, step=0.01, explore=0.05, checkpoints=[80], seed=0)
    b = L.random_search(lap, 80, step=0.01, explore=0.05, checkpoints=[80], seed=0, horizon=200)
    assert np.array_equal(a.gains, b.gains)
    with pytest.raises(ValueError, match="tolerance"):
        L.rollout_horizon(di, 0.0)


def test_bad_arguments_fail_before_the_default_rollout_length_is_computed(monkeypatch):
    def computed(*args, **kwargs):
        raise AssertionError("rollout_horizon ran before the arguments were checked")

    monkeypatch.setattr(L, "rollout_horizon", computed)
    p = L.double_integrator()
    for call, word in ((lambda: L.random_search(p, 0, step=0.01, explore=0.05), "budget"),
                       (lambda: L.policy_gradient(p, 10, step=0.01, explore=0.05, checkpoints=[20]), "checkpoints"),
                       (lambda: L.natural_policy_gradient(p, 1, step=0.01, radius=0.1), "budget"),
                       (lambda: L.nominal_ce(p, 0, seed=0), "n_rollouts"),
                       (lambda: L.nominal_ce(p, 5, seed="zero"), "seed")):
        with pytest.raises((ValueError, TypeError), match=word):
            call()


def test_row_sums_are_numpys_sums_bit_for_bit():
    """The rollout loop adds each step's cost terms with L._row_sums instead of ``sum(axis=1)`` (the reduction
    machinery costs more than the sum at these sizes); the numbers must be numpy's, last bit included."""
    rng = np.random.default_rng(0)
    for rows in (1, 2, 7, 1000):
        for width in range(1, 11):
            a = rng.normal(size=(rows, width)) * rng.lognormal(0, 8, size=(rows, width))  # wide range: order shows
            assert np.array_equal(L._row_sums(a), a.sum(axis=1)), (rows, width)
            view = np.repeat(a[:, :, None], 2, axis=2)[:, :, 0]  # a strided view, as the loop passes
            assert np.array_equal(L._row_sums(view), view.sum(axis=1)), (rows, width)


def test_quadratic_features_are_the_upper_triangle_of_the_outer_product():
    Z = np.random.default_rng(1).normal(size=(50, 5))
    outer = Z[:, :, None] * Z[:, None, :]
    i, j = np.triu_indices(5)
    assert np.array_equal(L._svec_features(Z), outer[:, i, j] * np.where(i == j, 1.0, 2.0))
