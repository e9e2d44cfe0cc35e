"""The study of the checkers chapter (:ref:`ch-checkers`): its settings, its stored runs and the numbers its
prose glues.

Two ways to a checkers player that scores at least ``target_score`` against each rung of a ladder of
opponents (random play, then alpha-beta search one, two, ... turns deep):

- **reinforcement learning**: PPO with action masks, moving up the ladder on score
  (:func:`ce_lib.checkers_ppo.train`), its learning rate tuned on tuning seeds;
- **certainty equivalence given the rules**: alpha-beta search with a material evaluation, deepened until
  it scores ``target_score`` against the rung, with no games of experience at all.

**Why the runs are stored.** The PPO runs take about ten CPU-minutes each and the deep searches minutes
per match: more than a chapter may take to execute. ``python -m ce_lib.studies.checkers generate`` makes
them once and stores them with the settings, library versions and numerical mode in
``ce_lib/data/checkers_runs.json`` (:mod:`ce_lib.stored`); the chapter trains the start of one run again
and compares, and so do the tests. CPU-seconds are measured where the runs were made, and stored with
them.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from .. import checkers, stored
from ..checkers_ppo import EVALUATION_COLUMNS, LADDER, CheckersPPOConfig, PolicyPlayer, train
from ..experiments import (
    MethodResult,
    check_positive_int,
    child_seed,
    grid_tuning,
    make_record,
    parallel_map,
    reported_seeds,
    tuning_seeds,
)

__all__ = ["Settings", "SETTINGS", "config", "DATA_FILE", "GENERATE_COMMAND", "load_data", "tuning_table",
           "chosen_learning_rate", "runs", "rung_costs", "search_ladder", "search_costs", "rerun_stored", "live_ladder",
           "break_even_games", "rung_name", "headline", "generate", "main", "LearnedSettings", "LEARNED_SETTINGS",
           "LEARNED_FILE", "LEARNED_COMMAND", "fit_from_ppo", "load_learned", "learned_ladder", "learned_summary",
           "learned_costs", "learned_records", "generate_learned"]


@dataclass(frozen=True)
class Settings:
    """The chapter's settings; ``dataclasses.replace(SETTINGS, ...)`` gives a variant to try."""

    ladder: tuple = LADDER  # the opponents, weakest first (names for ce_lib.checkers.make_player)
    budget: int = 500_000  # environment steps (agent moves) of each reported PPO run
    n_seeds: int = 5  # reported PPO runs (seeds 0 .. n_seeds - 1)
    learning_rates: tuple = (3e-4, 1e-3)  # PPO's tuning grid (Adam's step size)
    n_tuning_seeds: int = 2  # tuning runs per learning rate (the first tuning seeds, experiments.tuning_seeds)
    tuning_budget: int = 200_000  # environment steps of each tuning run
    search_depths: tuple = (1, 2, 3, 4, 5, 6)  # alpha-beta depths tried against each rung, shallowest first
    ladder_games: int = 200  # games of each search match and of each held-out match of a trained policy
    live_games: int = 40  # games per pair of the ladder the chapter plays as it executes
    live_depths: tuple = (1, 2, 3, 4)  # the live ladder: random play and these depths, each against the next


SETTINGS = Settings()
"""The settings the chapter runs with."""


def config(learning_rate: float | None = None) -> CheckersPPOConfig:
    """PPO's configuration in this chapter (the library's defaults, with ``learning_rate`` when given)."""
    base = CheckersPPOConfig()
    return base if learning_rate is None else replace(base, learning_rate=learning_rate)


class _Timed:
    """A player that adds up the CPU-seconds of its own moves."""

    def __init__(self, player):
        self.player, self.seconds, self.moves = player, 0.0, 0

    def __call__(self, state):
        start = time.process_time()
        action = self.player(state)
        self.seconds += time.process_time() - start
        self.moves += 1
        return action


def _match(a, b, seed, n_games):
    """``a`` against ``b`` over ``n_games`` games; W/D/L from ``a``'s side and ``a``'s own CPU-seconds and moves."""
    timed = _Timed(a)
    res = checkers.match(timed, b, n_games, opening_plies=config().opening_plies, seed=seed)
    return {"wins": res.wins, "draws": res.draws, "losses": res.losses, "cpu_s": timed.seconds, "moves": timed.moves}


def _score(m) -> float:
    return (m["wins"] + 0.5 * m["draws"]) / (m["wins"] + m["draws"] + m["losses"])


# ----------------------------------------------------------------------------------------------
# The jobs: PPO runs (tuning and reported) and the search matches
# ----------------------------------------------------------------------------------------------


def _ppo_job(seed, learning_rate, budget, held_out):
    result = train(budget, seed, config(learning_rate), SETTINGS.ladder)
    out = {"evaluations": result.evaluations, "passed_at": result.passed_at, "steps": result.steps}
    if held_out:  # the final policy against every rung, on fresh openings
        player = PolicyPlayer(result.model)
        out["held_out"] = {spec: _match(player, checkers.make_player(spec, child_seed(seed, 100 + k)),
                                        child_seed(seed, 200 + k), SETTINGS.ladder_games)
                           for k, spec in enumerate(SETTINGS.ladder)}
    return out


def _search_job(rung):
    """Alpha-beta at each depth of ``search_depths`` (from one deeper than the rung's own search) against
    rung ``rung``, until one scores ``target_score``."""
    spec = SETTINGS.ladder[rung]
    own = int(spec.split(":")[1]) if spec.startswith("alphabeta:") else 0
    out = {}
    for depth in (d for d in SETTINGS.search_depths if d > own):
        m = _match(checkers.AlphaBetaPlayer(depth, child_seed(1, 10 * rung + depth)),
                   checkers.make_player(spec, child_seed(2, 10 * rung + depth)), child_seed(3, 10 * rung + depth),
                   SETTINGS.ladder_games)
        out[str(depth)] = m
        if _score(m) >= config().target_score:
            break
    return out


def _job(job):
    import torch

    torch.set_num_threads(1)
    kind = job[0]
    start = time.process_time()
    if kind == "tuning":
        out = _ppo_job(job[2], SETTINGS.learning_rates[job[1]], SETTINGS.tuning_budget, held_out=False)
    elif kind == "run":
        out = _ppo_job(job[1], job[2], SETTINGS.budget, held_out=True)
    else:
        out = _search_job(job[1])
    return {**out, "seconds": time.process_time() - start}


def _key(job) -> str:
    return "/".join(str(x) for x in job)


DATA_FILE = "checkers_runs.json"
"""Name of the stored runs inside ``ce_lib/data``."""
GENERATE_COMMAND = "python -m ce_lib.studies.checkers generate"
"""The command that remakes them."""


def _settings() -> dict:
    """What the stored runs depend on besides the code: a change to any of it refuses them."""
    return {**asdict(SETTINGS), "config": asdict(config()), "evaluation_columns": list(EVALUATION_COLUMNS)}


def load_data(path=None) -> dict:
    """The stored runs (``ce_lib/data/checkers_runs.json`` by default): ``tuning/<lr index>/<seed>``,
    ``run/<seed>/<lr>`` and ``search/<rung>``, with the settings, versions, numerical mode and command they
    were made with (:func:`ce_lib.stored.load` refuses them when the settings changed)."""
    return stored.load(DATA_FILE, _settings(), GENERATE_COMMAND, path, what="stored checkers runs")


def _steps_to_pass(run) -> np.ndarray:
    """Environment steps at which each rung was passed (inf where it was not)."""
    ev = np.asarray(run["evaluations"], dtype=float).reshape(-1, len(EVALUATION_COLUMNS))
    at = np.asarray(run["passed_at"])
    return np.array([ev[k, 0] if k >= 0 else np.inf for k in at])


def _tuning_statistic(rows, budget) -> float:
    """Mean over tuning seeds of the steps to pass every rung, a rung not passed counted at the budget: a
    learning rate that stalls on one seed pays for it in full."""
    return float(np.mean([np.sum(np.minimum(r, budget)) for r in rows]))


def tuning_table(data: dict | None = None) -> list[dict]:
    """Per learning rate of the grid: the steps to pass each rung on each tuning seed, and the statistic."""
    data = load_data() if data is None else data
    out = []
    for i, lr in enumerate(SETTINGS.learning_rates):
        rows = [_steps_to_pass(data["runs"][_key(("tuning", i, s))]) for s in tuning_seeds(SETTINGS.n_tuning_seeds)]
        out.append({"learning_rate": lr, "steps_to_pass": np.array(rows),
                    "statistic": _tuning_statistic(rows, SETTINGS.tuning_budget)})
    return out


def chosen_learning_rate(data: dict | None = None) -> float:
    """The learning rate with the smallest tuning statistic (the first on ties)."""
    table = tuning_table(data)
    return table[int(np.argmin([t["statistic"] for t in table]))]["learning_rate"]


def runs(data: dict | None = None) -> list[dict]:
    """The reported PPO runs (seeds ``0 .. n_seeds - 1``, the chosen learning rate), as stored."""
    data = load_data() if data is None else data
    lr = chosen_learning_rate(data)
    return [data["runs"][_key(("run", s, lr))] for s in reported_seeds(SETTINGS.n_seeds)]


def rung_costs(data: dict | None = None) -> dict:
    """Per rung and reported seed: environment steps, training games and training CPU-seconds at which PPO
    passed it (inf where it did not), and each seed's whole budget in CPU-seconds. Arrays (seeds, rungs)."""
    out = {"steps": [], "games": [], "cpu_s": [], "budget_cpu_s": []}
    for run in runs(data):
        ev = np.asarray(run["evaluations"], dtype=float).reshape(-1, len(EVALUATION_COLUMNS))
        at = np.asarray(run["passed_at"])
        for name, col in (("steps", 0), ("games", 1), ("cpu_s", 6)):
            out[name].append([ev[k, col] if k >= 0 else np.inf for k in at])
        out["budget_cpu_s"].append(ev[-1, 6] if len(ev) else 0.0)
    return {k: np.array(v, dtype=float) for k, v in out.items()}


def search_ladder(data: dict | None = None) -> list[dict]:
    """Per rung: the matches of alpha-beta at each depth tried against it, and the shallowest depth that
    scored ``target_score`` (None when no depth of ``search_depths`` did)."""
    data = load_data() if data is None else data
    out = []
    for rung, spec in enumerate(SETTINGS.ladder):
        matches = {int(d): m for d, m in data["runs"][_key(("search", rung))].items() if d != "seconds"}
        ok = [d for d, m in matches.items() if _score(m) >= config().target_score]
        out.append({"rung": spec, "matches": matches, "depth": min(ok) if ok else None})
    return out


def search_costs(data: dict | None = None) -> dict:
    """Per rung: the CPU-seconds alpha-beta spent on its own moves over the qualifying games (at the
    shallowest depth that passed; inf where none did), and per game."""
    lad = search_ladder(data)
    cpu = np.array([row["matches"][row["depth"]]["cpu_s"] if row["depth"] else np.inf for row in lad])
    return {"cpu_s": cpu, "per_game_s": cpu / SETTINGS.ladder_games,
            "deepest_cpu_s": np.array([max((m["cpu_s"] for m in row["matches"].values()), default=np.nan) for row in lad])}


def break_even_games(data: dict | None = None) -> dict:
    """Games after which a trained policy's one-off training has cost less than searching every game, per
    rung PPO passed: the median training CPU-seconds over the reported seeds divided by (search's CPU per game
    at that rung - the policy's CPU per game). inf where the policy is no cheaper per game or the rung was
    not passed by most seeds."""
    costs, search = rung_costs(data), search_costs(data)
    policy = [m for run in runs(data) for m in run["held_out"].values()]
    policy_game = float(np.sum([m["cpu_s"] for m in policy]) / np.sum([m["wins"] + m["draws"] + m["losses"]
                                                                        for m in policy]))
    med = np.median(costs["cpu_s"], axis=0)
    saving = search["per_game_s"] - policy_game
    ok = np.isfinite(med) & np.isfinite(saving) & (saving > 0)
    games = np.full(len(med), np.inf)
    games[ok] = med[ok] / saving[ok]
    return {"games": games, "policy_per_game_s": policy_game, "train_cpu_s": med}


def rerun_stored(seed: int = 0, n_evaluations: int = 1) -> dict:
    """Train the first ``n_evaluations`` evaluation periods of reported run ``seed`` again and compare the
    evaluations (steps, games, rung, wins, draws, losses; not the CPU-seconds) with the stored ones.

    Returns
    -------
    dict
        ``identical``, ``exact_expected`` and ``why`` (:func:`ce_lib.stored.exact_rerun_expected`),
        ``seconds`` (CPU time), ``rerun`` and ``stored`` (the compared rows).
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    n_evaluations = check_positive_int(n_evaluations, "n_evaluations")
    if seed not in reported_seeds(SETTINGS.n_seeds):
        raise ValueError(f"seed must be one of the reported seeds {reported_seeds(SETTINGS.n_seeds)}, got {seed!r}")
    data = load_data()
    lr = chosen_learning_rate(data)
    old = np.asarray(data["runs"][_key(("run", seed, lr))]["evaluations"], dtype=float)[:n_evaluations, :6]
    if len(old) < n_evaluations:
        raise ValueError(f"n_evaluations: run {seed} has only {len(old)} evaluations, got {n_evaluations!r}")
    start = time.process_time()
    new = train(n_evaluations * config().eval_every, seed, config(lr), SETTINGS.ladder).evaluations[:, :6]
    exact, why = stored.exact_rerun_expected(data)  # convolutions have no fingerprint of their own: every kind
    return {"identical": bool(np.array_equal(new, old)), "exact_expected": exact, "why": why,
            "seconds": time.process_time() - start, "rerun": new, "stored": old}


def live_ladder(n_games: int | None = None) -> list[dict]:
    """The ladder as the chapter plays it while it executes: random play against alpha-beta at depth 1, and
    each depth of ``live_depths`` against the next, ``n_games`` games per pair (default
    ``SETTINGS.live_games``); W/D/L from the deeper player's side and its CPU-seconds per move."""
    n_games = SETTINGS.live_games if n_games is None else check_positive_int(n_games, "n_games")
    specs = ["random"] + [f"alphabeta:{d}" for d in SETTINGS.live_depths]
    out = []
    for k in range(1, len(specs)):
        m = _match(checkers.make_player(specs[k], child_seed(5, k)), checkers.make_player(specs[k - 1], child_seed(6, k)),
                   child_seed(7, k), n_games)
        out.append({"player": specs[k], "opponent": specs[k - 1], **m, "score": _score(m)})
    return out


def headline(n_seeds: int | None = None) -> list[dict]:
    """Scoreboard records. Given the rules (``information="more"``), one per rung above random play: the
    CPU-seconds to a player that scores ``target_score`` against the rung in ``ladder_games`` games -- PPO's
    training (the opponent's moves included) against alpha-beta's own thinking over those games. Then the
    same-information records of :func:`learned_records`, one per rung. Read from the stored runs; ``n_seeds``
    other than the stored number is refused."""
    if n_seeds is not None and check_positive_int(n_seeds, "n_seeds") != SETTINGS.n_seeds:
        raise ValueError(f"n_seeds: the checkers runs are stored for {SETTINGS.n_seeds} seeds; regenerate them "
                         f"({GENERATE_COMMAND}) with another Settings.n_seeds, got {n_seeds!r}")
    data = load_data()
    costs, search, lad = rung_costs(data), search_costs(data), search_ladder(data)
    table = tuning_table(data)
    tuning = grid_tuning(len(table), tuning_seeds(SETTINGS.n_tuning_seeds)).replace(
        "median samples-to-target (misses at the budget)",
        "mean steps to pass every rung (a rung not passed counted at the budget)")
    out = []
    for r, spec in enumerate(SETTINGS.ladder):
        if r == 0:
            continue
        n = costs["cpu_s"].shape[0]
        depth = lad[r]["depth"]
        ce_name = f"alpha-beta, depth {depth}" if depth else f"alpha-beta up to depth {max(SETTINGS.search_depths)}"
        ce_budget = float(search["deepest_cpu_s"][r])
        rl_budget = costs["budget_cpu_s"]
        out.append(make_record(
            chapter="checkers", task=f"checkers against {rung_name(spec)}",
            metric=f"CPU-seconds to a player scoring >= {config().target_score:g} over {SETTINGS.ladder_games} games "
                   "(PPO: training, the opponent's moves included; search: its own moves in those games)",
            target=config().target_score, budget=float(max(rl_budget.max(), ce_budget)), information="more",
            ce_given="the rules of the game (search looks ahead with them) and a material evaluation",
            methods=[MethodResult(ce_name, "ce", np.full(n, search["cpu_s"][r]), "none needed (the shallowest "
                                  "depth that reaches the target)" if depth else "none needed (depths tried in turn; "
                                  "none reached the target)", budget=ce_budget),
                     MethodResult("PPO with action masks and a curriculum", "rl", costs["cpu_s"][:, r], tuning,
                                  budget=rl_budget)]))
    return out + learned_records()


# ----------------------------------------------------------------------------------------------
# Same information: a model of the rules learned from PPO's own moves, searched with
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnedSettings:
    """Settings of the same-information comparison (stored apart from the PPO runs, in ``LEARNED_FILE``)."""

    moves: tuple = (6_144, 24_576)  # PPO's first moves (of each reported seed) a model is fitted to
    # Depths of search with the learned model tried against each rung, shallowest first. Not 3 or more: the
    # search is full width (no pruning), and a 200-game match three turns deep costs several CPU-minutes.
    depths: tuple = (1, 2)
    test_moves: int = 3_000  # held-out positions on which the model's legality is scored (random play against depth 2)


LEARNED_SETTINGS = LearnedSettings()
"""The settings the chapter runs with."""
LEARNED_FILE = "checkers_learned.json"
"""Name of the stored same-information matches inside ``ce_lib/data``."""
LEARNED_COMMAND = "python -m ce_lib.studies.checkers generate-learned"
"""The command that remakes them."""


def _learned_settings() -> dict:
    return {**asdict(LEARNED_SETTINGS), "ladder": list(SETTINGS.ladder), "ladder_games": SETTINGS.ladder_games,
            "n_seeds": SETTINGS.n_seeds, "config": asdict(config()), "fit": _FIT}


_FIT = {"epochs": 10, "batch_size": 256, "lr": 3e-3}  # checkers_model.fit's defaults, written down with the runs


def fit_from_ppo(seed: int, n_moves: int, learning_rate: float | None = None):
    """Train PPO (reported seed ``seed``, the chapter's chosen learning rate unless given) for ``n_moves``
    moves, recording what it saw, and fit a rules model to exactly those moves. Returns ``(model, moves,
    fit CPU-seconds)``."""
    from .. import checkers_model

    seed = check_positive_int(seed, "seed", minimum=0)
    n_moves = check_positive_int(n_moves, "n_moves")
    lr = chosen_learning_rate() if learning_rate is None else learning_rate
    moves = train(n_moves, seed, config(lr), SETTINGS.ladder, record_moves=n_moves).moves
    start = time.process_time()
    model = checkers_model.fit(moves, child_seed(seed, 500), **_FIT)
    return model, moves, time.process_time() - start


def _learned_job(job):
    import torch

    from .. import checkers_model

    torch.set_num_threads(1)
    _, seed, n_moves, lr = job
    start = time.process_time()
    model, _, fit_s = fit_from_ppo(seed, n_moves, lr)
    test = checkers_model.collect_moves(LEARNED_SETTINGS.test_moves, "alphabeta:2", child_seed(seed, 501))
    out = {"fit_cpu_s": fit_s, "accuracy": checkers_model.legal_accuracy(model, test),
           "known_actions": int(model.known().sum()), "conditions": model.conditions.tolist(), "rungs": {}}
    for rung, spec in enumerate(SETTINGS.ladder):
        tried = {}
        for depth in LEARNED_SETTINGS.depths:
            k = 10 * rung + depth
            tried[str(depth)] = _match(checkers_model.ModelSearchPlayer(model, depth, child_seed(seed, 600 + k)),
                                       checkers.make_player(spec, child_seed(seed, 700 + k)), child_seed(seed, 800 + k),
                                       SETTINGS.ladder_games)
            if _score(tried[str(depth)]) >= config().target_score:
                break
        out["rungs"][spec] = tried
        if _score(tried[str(depth)]) < config().target_score:
            break  # as PPO's curriculum: no higher rung once one is not passed
    return {**out, "seconds": time.process_time() - start}


def load_learned(path=None) -> dict:
    """The stored same-information matches (``ce_lib/data/checkers_learned.json`` by default):
    ``learned/<seed>/<moves>``, each with the fit's CPU-seconds, the model's legality on held-out positions,
    and per rung the matches at each depth tried."""
    return stored.load(LEARNED_FILE, _learned_settings(), LEARNED_COMMAND, path, what="stored same-information matches")


def learned_ladder(data: dict | None = None) -> list[dict]:
    """One row per (seed, moves): the model's legality on held-out positions and, per rung, the shallowest
    depth of learned-model search that scored ``target_score`` (None if none did; absent above a failed rung)."""
    data = load_learned() if data is None else data
    out = []
    for seed in reported_seeds(SETTINGS.n_seeds):
        for n in LEARNED_SETTINGS.moves:
            run = data["runs"][_key(("learned", seed, n))]
            depth = {spec: next((int(d) for d, m in tried.items() if _score(m) >= config().target_score), None)
                     for spec, tried in run["rungs"].items()}
            out.append({"seed": seed, "moves": n, "accuracy": run["accuracy"], "fit_cpu_s": run["fit_cpu_s"],
                        "rungs": run["rungs"], "depth": depth})
    return out


def learned_summary(data: dict | None = None) -> list[dict]:
    """Per size of ``LearnedSettings.moves``: the models' legality on held-out positions (medians over the
    reported seeds of the exact-set share, the legal actions missed and the illegal ones allowed), the action
    ids they know, the fits' CPU-seconds, and per rung how many seeds passed it, at which depths, and every
    seed's score at each depth tried (NaN where that depth was not tried)."""
    rows = learned_ladder(data)
    out = []
    for n in LEARNED_SETTINGS.moves:
        mine = [row for row in rows if row["moves"] == n]
        rungs = {}
        for spec in SETTINGS.ladder:
            scores = np.full((len(mine), len(LEARNED_SETTINGS.depths)), np.nan)
            for i, row in enumerate(mine):
                for j, d in enumerate(LEARNED_SETTINGS.depths):
                    m = row["rungs"].get(spec, {}).get(str(d))
                    if m is not None:
                        scores[i, j] = _score(m)
            depths = [row["depth"].get(spec) for row in mine]
            rungs[spec] = {"passed": sum(d is not None for d in depths), "tried": sum(spec in row["rungs"] for row in mine),
                           "depths": sorted({d for d in depths if d is not None}), "scores": scores}
        out.append({"moves": n, "n_seeds": len(mine),
                    **{k: float(np.median([row["accuracy"][k] for row in mine])) for k in ("exact", "missed", "allowed")},
                    "fit_cpu_s": float(np.median([row["fit_cpu_s"] for row in mine])), "rungs": rungs})
    return out


def learned_costs(data: dict | None = None) -> dict:
    """Per reported seed and rung: the fewest of PPO's moves a learned model needed to pass the rung (inf where
    none of ``LearnedSettings.moves`` was enough), and PPO's own moves to pass it. Arrays (seeds, rungs)."""
    rows = learned_ladder(data)
    ce = np.full((SETTINGS.n_seeds, len(SETTINGS.ladder)), np.inf)
    for row in rows:
        for r, spec in enumerate(SETTINGS.ladder):
            if row["depth"].get(spec) is not None:
                ce[row["seed"], r] = min(ce[row["seed"], r], row["moves"])
    return {"ce_moves": ce, "ppo_moves": rung_costs()["steps"]}


def learned_records() -> list[dict]:
    """Scoreboard records, same information, one per rung: agent moves to a player scoring
    ``target_score`` -- PPO's training moves, against the first moves of the same PPO run that a model of the
    rules was fitted to before searching with it."""
    costs = learned_costs()
    table = tuning_table()
    tuning = grid_tuning(len(table), tuning_seeds(SETTINGS.n_tuning_seeds)).replace(
        "median samples-to-target (misses at the budget)",
        "mean steps to pass every rung (a rung not passed counted at the budget)")
    ce_budget = float(max(LEARNED_SETTINGS.moves))
    out = []
    for r, spec in enumerate(SETTINGS.ladder):
        out.append(make_record(
            chapter="checkers", task=f"checkers against {rung_name(spec)}",
            metric=f"agent moves to a player scoring >= {config().target_score:g} over {SETTINGS.ladder_games} games "
                   "(CE: the first moves of the same PPO run, fitted to, then searched with)",
            target=config().target_score, budget=float(max(SETTINGS.budget, ce_budget)), information="same",
            ce_given="",
            methods=[MethodResult("search with a rules model learned from PPO's moves", "ce", costs["ce_moves"][:, r],
                                  f"none (the shallowest of depths {', '.join(map(str, LEARNED_SETTINGS.depths))} "
                                  "that reaches the target)", budget=ce_budget),
                     MethodResult("PPO with action masks and a curriculum", "rl", costs["ppo_moves"][:, r], tuning,
                                  budget=float(SETTINGS.budget))]))
    return out


def generate_learned(path=None, n_jobs: int = 2) -> dict:
    """Make the same-information matches on ``n_jobs`` processes (PPO's first moves again for each reported
    seed and size, a model fitted to them, searched with against the ladder) and write them to ``path``
    (default: ``ce_lib/data/checkers_learned.json``), whole or not at all."""
    path, n_jobs = stored.generate_args(path, n_jobs, LEARNED_FILE)
    lr = chosen_learning_rate()
    jobs = [("learned", s, n, lr) for n in sorted(LEARNED_SETTINGS.moves, reverse=True)
            for s in reported_seeds(SETTINGS.n_seeds)]
    done = dict(zip((_key(j[:3]) for j in jobs), parallel_map(_learned_job, jobs, n_jobs=n_jobs)))
    return stored.write(path, settings=_learned_settings(), runs=done, command=LEARNED_COMMAND)


def rung_name(spec: str) -> str:
    """A rung's name in words: ``"alphabeta:2"`` -> ``"alpha-beta search 2 turns deep"``."""
    if spec == "random":
        return "random play"
    kind, _, arg = spec.partition(":")
    return f"alpha-beta search {arg} turn{'s' if arg != '1' else ''} deep" if kind == "alphabeta" else f"MCTS ({arg} simulations)"


# ----------------------------------------------------------------------------------------------
# Generating the stored runs
# ----------------------------------------------------------------------------------------------


def generate(path=None, n_jobs: int = 2) -> dict:
    """Make every stored run on ``n_jobs`` processes -- the tuning runs first, then the reported runs at
    the learning rate they chose, with the search matches -- and write them, with the settings, library
    versions, numerical mode and this command, to ``path`` (default: the library's own
    ``ce_lib/data/checkers_runs.json``), whole or not at all."""
    path, n_jobs = stored.generate_args(path, n_jobs, DATA_FILE)
    tuning = [("tuning", i, s) for i in range(len(SETTINGS.learning_rates)) for s in tuning_seeds(SETTINGS.n_tuning_seeds)]
    done = dict(zip(map(_key, tuning), parallel_map(_job, tuning, n_jobs=n_jobs)))
    lr = chosen_learning_rate({"runs": done})
    rest = [("run", s, lr) for s in reported_seeds(SETTINGS.n_seeds)] + [("search", r) for r in range(len(SETTINGS.ladder))]
    done.update(zip(map(_key, rest), parallel_map(_job, rest, n_jobs=n_jobs)))
    return stored.write(path, settings=_settings(), runs=done, command=GENERATE_COMMAND)


def main(argv=None) -> None:
    """``python -m ce_lib.studies.checkers generate [--out PATH] [--jobs N]``: :func:`generate` from the
    command line."""
    stored.generate_cli(argv, prog="python -m ce_lib.studies.checkers", what="the checkers chapter's runs",
                        name=DATA_FILE, generate=generate,
                        extra={"generate-learned": ("the same-information matches", LEARNED_FILE, generate_learned)})


if __name__ == "__main__":
    main()
