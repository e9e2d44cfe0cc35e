import numpy as np
import pytest

from ce_lib import lqr as L
from ce_lib.studies import robust_control as robust_control_study
from ce_lib import robust as RB


@pytest.fixture(scope="module")
def fitted():
    p = L.laplacian_system()
    X, U, Xn = L.rollouts(p.A, p.B, 100, 6, np.random.default_rng(0))
    A_hat, B_hat = L.fit_dynamics(X, U, Xn)
    return p, A_hat, B_hat


def test_sls_solution_satisfies_its_affine_constraints_and_its_cost_is_the_objective(fitted):
    p, A_hat, B_hat = fitted
    res = RB.sls_synthesis(A_hat, B_hat, p.Q, p.R, 0.05, 0.1, fir=10, gammas=(0.5,))
    assert res.ok and res.phi_x.shape == (10, 3, 3) and res.phi_u.shape == (10, 3, 3)
    np.testing.assert_allclose(res.phi_x[0], np.eye(3), atol=1e-6)
    for k in range(9):
        np.testing.assert_allclose(res.phi_x[k + 1], A_hat @ res.phi_x[k] + B_hat @ res.phi_u[k], atol=1e-5)
    np.testing.assert_allclose(A_hat @ res.phi_x[-1] + B_hat @ res.phi_u[-1], 0, atol=1e-5)
    # On the model it was designed for, the controller's exact cost is the H2 objective.
    objective = sum(np.sum((np.sqrt(1e-3) * px) ** 2) + np.sum(pu ** 2) for px, pu in zip(res.phi_x, res.phi_u))
    assert RB.sls_cost(A_hat, B_hat, p.Q, p.R, res) == pytest.approx(objective, rel=1e-4)
    assert res.bound == pytest.approx(objective / (1 - 0.5) ** 2, rel=1e-4)


def test_robust_controllers_stabilize_every_sampled_system_in_their_set(fitted):
    p, A_hat, B_hat = fitted
    eps_A, eps_B = 0.06, 0.12
    sls = RB.sls_synthesis(A_hat, B_hat, p.Q, p.R, eps_A, eps_B, fir=10)
    static = RB.robust_static_gain(A_hat, B_hat, p.Q, p.R, eps_A, eps_B)
    assert sls.ok and static.ok
    for A, B in RB.sample_uncertainty(A_hat, B_hat, eps_A, eps_B, 200, np.random.default_rng(1)):
        for res in (sls, static):
            cost = RB.sls_cost(A, B, p.Q, p.R, res)
            assert np.isfinite(cost)
            assert cost <= res.bound * (1 + 1e-4)  # the guaranteed cost holds on the set


def test_infeasible_synthesis_returns_a_status(fitted):
    p, A_hat, B_hat = fitted
    sls = RB.sls_synthesis(A_hat, B_hat, p.Q, p.R, 2.0, 2.0, fir=5, gammas=(0.5,))
    static = RB.robust_static_gain(A_hat, B_hat, p.Q, p.R, 2.0, 2.0)
    for res in (sls, static):
        assert res.status == "infeasible" and not res.ok and res.bound == np.inf
        assert RB.sls_cost(p.A, p.B, p.Q, p.R, res) == np.inf


def test_exact_model_sls_approaches_lqr_as_the_fir_grows():
    floors = [robust_control_study.fir_floor("laplacian", f) for f in (10, 20)]
    assert floors[0] > floors[1] > 0
    assert robust_control_study.fir_floor("double integrator", 10) < 1e-3  # a fast closed loop fits in a short FIR


def test_bootstrap_errors_shrink_with_data():
    p = L.laplacian_system()
    rng = np.random.default_rng(3)
    eps = []
    for N in (10, 100):
        X, U, Xn = L.rollouts(p.A, p.B, N, 6, rng)
        A_hat, B_hat = L.fit_dynamics(X, U, Xn)
        eA, eB = RB.bootstrap_errors(A_hat, B_hat, N, 6, 1.0, rng)
        eps.append(eA)
    assert eps[1] < eps[0]
    with pytest.raises(ValueError, match="delta"):
        RB.bootstrap_errors(p.A, p.B, 5, 6, 1.0, rng, delta=1.5)


def test_bad_input_names_the_argument(fitted):
    p, A_hat, B_hat = fitted
    with pytest.raises(ValueError, match="eps_A"):
        RB.sls_synthesis(A_hat, B_hat, p.Q, p.R, -1.0, 0.1)
    with pytest.raises(ValueError, match="eps_B"):
        RB.robust_static_gain(A_hat, B_hat, p.Q, p.R, 0.1, float("nan"))
    with pytest.raises(ValueError, match="gammas"):
        RB.sls_synthesis(A_hat, B_hat, p.Q, p.R, 0.1, 0.1, gammas=(1.5,))
    with pytest.raises(ValueError, match="fir"):
        RB.sls_synthesis(A_hat, B_hat, p.Q, p.R, 0.1, 0.1, fir=1)
    with pytest.raises(ValueError, match="R must be square"):
        RB.sls_synthesis(A_hat, B_hat, p.Q, np.eye(2), 0.1, 0.1)
    with pytest.raises(ValueError, match="name"):
        robust_control_study.data_sweep("pendulum")
