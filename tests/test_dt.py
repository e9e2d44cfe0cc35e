import numpy as np
import pytest
import torch

from ce_lib import dt as D


@pytest.fixture(scope="module")
def graph():
    return D.random_graph(20, 0.1, seed=0)


def test_environment_transitions_and_rewards(graph):
    from gymnasium.utils.env_checker import check_env

    env = D.GraphWalkEnv(graph, max_steps=5)
    check_env(env, skip_render_check=True)
    adj = graph.adjacency
    start = int(np.flatnonzero(adj.any(axis=1) & (np.arange(20) != graph.goal))[0])
    obs, _ = env.reset(seed=0, options={"start": start})
    assert obs == start
    nbr = int(np.flatnonzero(adj[start])[0])
    obs, r, term, trunc, _ = env.step(nbr)
    assert obs == nbr and r == (0.0 if nbr == graph.goal else -1.0)
    non_edge = int(np.flatnonzero(~adj[nbr] & (np.arange(20) != nbr))[0])
    if not term:
        obs2, r2, *_ = env.step(non_edge)
        assert obs2 == nbr and r2 == -1.0  # not an edge: the walker stays put


def test_slip_sends_moves_to_random_neighbours(graph):
    env = D.GraphWalkEnv(graph, slip=1.0)
    node = int(np.argmax(graph.adjacency.sum(axis=1)))
    seen = set()
    for s in range(200):
        env.reset(seed=s, options={"start": node})
        seen.add(env.step(node)[0])  # "stay" is never an edge, but slipping always moves
    assert seen == set(np.flatnonzero(graph.adjacency[node]).tolist())


def test_random_walks_shapes_and_returns_to_go(graph):
    w = D.random_walks(graph, 50, np.random.default_rng(0), max_steps=20)
    assert w.states.shape == w.actions.shape == w.rewards.shape == (50, 20)
    for i in range(50):
        L = w.lengths[i]
        assert np.all(graph.adjacency[w.states[i, :L], w.actions[i, :L]] | ~graph.adjacency[w.states[i, :L]].any(axis=1))
        np.testing.assert_array_equal(w.states[i, 1:L], w.next_states[i, : L - 1])
        expected = np.array([w.rewards[i, t:L].sum() for t in range(L)])
        np.testing.assert_allclose(w.returns_to_go[i, :L], expected)
        reached = w.next_states[i, L - 1] == graph.goal
        assert w.returns_to_go[i, 0] == -(L - 1 if reached else L)
        assert reached or L == 20


def test_planner_paths_equal_bfs_shortest_paths_when_every_edge_is_seen(graph):
    w = D.random_walks(graph, 5000, np.random.default_rng(1))
    mask = np.arange(20)[None, :] < w.lengths[:, None]
    seen = np.zeros((20, 20), bool)
    seen[w.states[mask], w.actions[mask]] = True
    rows = np.arange(20) != graph.goal  # walks stop at the goal, so its out-edges are never used
    assert np.all(seen[rows] >= graph.adjacency[rows])
    res = D.evaluate("planner", graph, w)
    np.testing.assert_array_equal(res["success"], 1.0)
    np.testing.assert_array_equal(res["steps"], res["shortest"])
    oracle = D.evaluate("oracle", graph, w)
    np.testing.assert_array_equal(oracle["steps"], res["shortest"])
    np.testing.assert_allclose(D.optimal_steps(graph)[res["starts"]], res["shortest"])


def test_causal_mask_future_tokens_do_not_change_earlier_predictions():
    torch.manual_seed(0)
    model = D.DecisionTransformer(10, 6).eval()
    rtg = torch.randn(1, 6)
    s = torch.randint(0, 10, (1, 6))
    a = torch.randint(0, 10, (1, 6))
    t = torch.arange(6)[None]
    hide = torch.zeros(1, dtype=torch.bool)
    logits, ret = model(rtg, s, a, t, hide)
    s2, a2, rtg2 = s.clone(), a.clone(), rtg.clone()
    s2[0, 4:], a2[0, 3:], rtg2[0, 4:] = (s2[0, 4:] + 1) % 10, (a2[0, 3:] + 1) % 10, rtg2[0, 4:] + 5
    logits2, ret2 = model(rtg2, s2, a2, t, hide)
    torch.testing.assert_close(logits[0, :4], logits2[0, :4])  # state tokens up to step 3 see a_0..a_2 only
    torch.testing.assert_close(ret[0, :3], ret2[0, :3])
    assert not torch.allclose(logits[0, 4], logits2[0, 4])


def test_training_lowers_the_loss_and_is_reproducible(graph):
    w = D.random_walks(graph, 100, np.random.default_rng(2))
    m1, l1 = D.train(w, 20, seed=3, steps=150)
    m2, l2 = D.train(w, 20, seed=3, steps=150)
    with pytest.raises(ValueError, match="steps"):
        D.train(w, 20, steps=0)
    assert np.mean(l1[-20:]) < 0.5 * np.mean(l1[:5])
    np.testing.assert_array_equal(l1, l2)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(p1, p2)


def test_bad_input_names_the_argument(graph):
    with pytest.raises(ValueError, match="goal"):
        D.random_graph(10, 0.2, goal=10)
    assert np.isfinite(D.shortest_paths(graph.adjacency, graph.goal)).sum() > 1  # the default goal is reachable
    with pytest.raises(ValueError, match="goal"):
        D.shortest_paths(graph.adjacency, -1)
    with pytest.raises(ValueError, match="n_walks"):
        D.random_walks(graph, -3, 0)
    with pytest.raises(ValueError, match="n_walks"):
        D.random_walks(graph, 0, 0)
    empty = D.random_walks(graph, 1, 0)._replace(states=np.zeros((0, 20), int), lengths=np.zeros(0, int))
    with pytest.raises(ValueError, match="walks"):
        D.plan_from_data(empty, 20, 0)
    with pytest.raises(ValueError, match="walks"):
        D.train(empty, 20)
    with pytest.raises(ValueError, match="slip"):
        D.GraphWalkEnv(graph, slip=1.5)
    with pytest.raises(ValueError, match="policy"):
        D.evaluate("greedy", graph, D.random_walks(graph, 5, 0))
    with pytest.raises(ValueError, match="p must"):
        D.random_graph(10, 0.0)


def test_the_planner_counts_with_the_mdp_modules_empirical_model(graph):
    # one way of counting transitions in the library: plan_from_data's model is mdp.EmpiricalModel's
    from ce_lib.mdp import EmpiricalModel

    w = D.random_walks(graph, 200, 4)
    mask = np.arange(w.states.shape[1])[None, :] < w.lengths[:, None]
    model = EmpiricalModel(1, graph.n, graph.n)
    s = w.states[mask]
    model.add(np.zeros_like(s), s, w.actions[mask], w.next_states[mask], w.rewards[mask])
    P, _ = model.estimate()
    seen = model.visits()[0] > 0
    policy, values = D.plan_from_data(w, graph.n, graph.goal)
    moves = policy >= 0
    assert np.all(seen[np.flatnonzero(moves), policy[moves]])  # it only plans moves the data show
    assert np.allclose(P[0][seen].sum(axis=-1), 1.0)


def test_optimal_success_is_one_without_slip_and_lower_with_it(graph):
    reach = np.isfinite(D.shortest_paths(graph.adjacency, graph.goal))
    np.testing.assert_allclose(D.optimal_success(graph, 0.0, 20)[reach], 1.0)
    np.testing.assert_allclose(D.optimal_success(graph, 0.0, 20)[~reach], 0.0)
    slippery = D.optimal_success(graph, 0.3, 20)
    assert np.all(slippery <= 1.0 + 1e-12) and slippery[reach].min() < 1.0


def test_fitted_q_iteration_is_value_iteration_on_the_counted_model():
    """With a table, FQI is the planner: the same greedy actions wherever the walks contain a path to the
    goal, and values one higher (the planner charges the step into the goal, the data's reward does not)."""
    for slip, seed in ((0.0, 3), (0.3, 4)):
        graph = D.random_graph(12, 0.25, seed=seed)
        walks = D.random_walks(graph, 300, seed=seed, slip=slip, max_steps=20)
        policy, Q = D.fitted_q_iteration(walks, graph.n, graph.goal, 20)
        _, V_plan = D.plan_from_data(walks, graph.n, graph.goal, 20)
        V = np.where(np.isfinite(Q).any(axis=1), Q.max(axis=1), -np.inf)
        ok = np.isfinite(V_plan) & (np.arange(graph.n) != graph.goal)
        plan, _ = D.plan_from_data(walks, graph.n, graph.goal, 20)
        np.testing.assert_array_equal(policy[ok], plan[ok])
        np.testing.assert_allclose(V[ok], V_plan[ok] + 1.0, atol=1e-6 if slip == 0 else 0.05)
        if slip == 0:  # deterministic: minus the shortest path on the edges seen
            seen = np.zeros((graph.n, graph.n), bool)
            mask = np.arange(walks.states.shape[1])[None, :] < walks.lengths[:, None]
            seen[walks.states[mask], walks.next_states[mask]] = True
            np.fill_diagonal(seen, False)
            dist = D.shortest_paths(seen, graph.goal)
            np.testing.assert_allclose(V[ok], 1.0 - dist[ok])
        assert policy[graph.goal] == -1


def test_fitted_q_iteration_rejects_bad_input():
    graph = D.random_graph(8, 0.3, seed=0)
    walks = D.random_walks(graph, 5, seed=0)
    with pytest.raises(ValueError, match="goal"):
        D.fitted_q_iteration(walks, graph.n, 99)
    with pytest.raises(ValueError, match="iterations"):
        D.fitted_q_iteration(walks, graph.n, graph.goal, iterations=0)
    with pytest.raises(TypeError, match="walks"):
        D.fitted_q_iteration([1, 2], graph.n, graph.goal)


# The chapter's stored sweep (ce_lib/data/dt_runs.json): complete, refused after a settings change,
# and what the code makes.

def test_every_job_of_the_sweep_is_stored_and_assembles():
    from ce_lib.studies import decision_transformers as study

    data = study.load_data()
    assert data["command"] == study.GENERATE_COMMAND
    assert len(data["runs"]) == len(study.jobs()) == study.SETTINGS.n_seeds * (len(study.SETTINGS.walk_counts) + 1)
    res = study.sweep()
    assert res["dt/success"].shape == (study.SETTINGS.n_seeds, len(study.SETTINGS.walk_counts))
    assert np.all((res["planner/success"] >= 0) & (res["planner/success"] <= 1))


def test_the_stored_sweep_is_refused_after_a_settings_change_naming_it(monkeypatch):
    from dataclasses import replace

    from ce_lib.studies import decision_transformers as study

    monkeypatch.setattr(study, "SETTINGS", replace(study.SETTINGS, slip=0.25))
    with pytest.raises(ValueError, match=r"settings\.slip changed.*decision_transformers generate"):
        study.load_data()


@pytest.mark.slow
@pytest.mark.parametrize("job", [(1, 10, 0.0), (2, 1000, 0.3)])
def test_a_stored_job_is_made_again_bit_for_bit(job):
    from ce_lib.studies import decision_transformers as study

    out = study.rerun_stored(*job)
    if not out["exact_expected"]:
        pytest.skip(out["why"])
    assert out["identical"], (out["rerun"], out["stored"])
    # and the comparison sees a change in the last bit
    nudged = dict(out["stored"], optimal_success=np.nextafter(out["stored"]["optimal_success"], 2.0))
    assert not study._same(out["rerun"], nudged)
