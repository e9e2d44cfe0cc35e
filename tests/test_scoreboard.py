import copy
import json
import subprocess
import sys

import pytest

from ce_lib import scoreboard


GOOD = {
    "chapter": "dfo", "task": "toy", "metric": "samples to 1%", "target": 0.01, "n_seeds": 20, "budget": 1000.0,
    "information": "more", "ce_given": "each sample's target",
    "methods": [
        {"name": "model known (CE)", "family": "ce", "samples_to_target": {"median": 2, "lo": 1, "hi": 3},
         "success_rate": 1.0, "tuning": "none needed"},
        {"name": "random search (ARS)", "family": "rl",
         "samples_to_target": {"median": 300, "lo": 210, "hi": 420}, "success_rate": 0.95,
         "tuning": "grid of 16 on seeds 1000-1009, chosen by median samples-to-target (misses at the budget)"},
    ],
    "ratio": {"median": 150, "lo": 80, "hi": 300, "bound": "exact", "rl": "random search (ARS)",
              "ce": "model known (CE)"},
}


def _same(rec):
    out = copy.deepcopy(rec)
    out.update(information="same", ce_given="", task="toy, same data")
    return out


def test_a_good_record_validates():
    assert scoreboard.validate_record(copy.deepcopy(GOOD)) == GOOD


@pytest.mark.parametrize("mutate, match", [
    (lambda r: r.pop("ratio"), "ratio"),
    (lambda r: r.update(n_seeds="20"), "n_seeds"),
    (lambda r: r["methods"][0].update(family="model-based"), "family"),
    (lambda r: r["methods"][1].update(success_rate=1.5), "success_rate"),
    (lambda r: r["methods"].pop(1), "'rl'"),
    (lambda r: r["ratio"].update(lo=400), "lo <= median <= hi"),
    (lambda r: r["methods"][0]["samples_to_target"].update(median=float("nan")), "finite"),
    (lambda r: r["methods"][0].update(extra=1), "exactly"),
    (lambda r: r.update(information="partial"), "information"),
    (lambda r: r.update(ce_given=""), "ce_given"),
    (lambda r: r["ratio"].update(bound="approximately"), "bound"),
    (lambda r: r["ratio"].update(ce="random search (ARS)"), "'ce'"),
    (lambda r: r["methods"][1].pop("tuning"), "exactly"),
    (lambda r: r["methods"][1].update(tuning=" "), "tuning"),
    (lambda r: r.update(surprise=1), "unknown keys"),
    (lambda r: r.update(budget=-1.0), "budget"),
])
def test_bad_records_are_rejected(mutate, match):
    rec = copy.deepcopy(GOOD)
    mutate(rec)
    with pytest.raises(ValueError, match=match):
        scoreboard.validate_record(rec)


def test_tables_group_by_information_mark_censoring_and_fit_100_columns():
    lower = copy.deepcopy(_same(GOOD))
    lower["ratio"]["bound"] = "lower"
    lower["task"] = "a censored toy " * 12  # long: must wrap
    table = scoreboard.format_table([GOOD, lower])
    assert max(len(line) for line in table.splitlines()) <= 100
    assert table.index("Same information") < table.index("More information")  # same-information rows first
    assert "model known (CE): 2 [1, 3], 100% reached" in table
    assert "random search (ARS): 300 [210, 420], 95% reached" in table
    assert "CE is given: each sample's target" in table
    assert ">= 150 [80, 300]" in table and "RL / CE  150 [80, 300]" in table
    md = scoreboard.format_markdown([GOOD, lower])
    assert md.index("Same information") < md.index("More information")
    assert "CE is given" in md and "&gt;=" not in md and ">= 150" in md
    assert all(line.count(" | ") == 3 for line in md.splitlines() if line.startswith("| ") and "---" not in line)
    assert "](01_dfo.md)" not in md and "[Derivative-free optimization](01_dfo.md)" in scoreboard.format_markdown(
        [GOOD], links=True)
    with pytest.raises(TypeError, match="links"):
        scoreboard.format_markdown([GOOD], links="yes")
    numbered = scoreboard.format_markdown([GOOD, _same(GOOD)], numbered=True)
    assert "**1. Derivative-free optimization**" in numbered and "**2. Derivative-free optimization**" in numbered
    with pytest.raises(TypeError, match="numbered"):
        scoreboard.format_markdown([GOOD], numbered=1)
    tuning = scoreboard.format_tuning_markdown([GOOD])
    assert "grid of 16 on seeds 1000-1009" in tuning and "Derivative-free optimization" in tuning


def test_every_chapter_has_a_title_and_a_file():  # (the registry: tests/test_studies.py)
    from pathlib import Path

    chapters = Path(__file__).resolve().parents[1] / "chapters"
    assert set(scoreboard.CHAPTER_TITLES) == set(scoreboard.CHAPTERS) == set(scoreboard.CHAPTER_FILES)
    for name, stem in scoreboard.CHAPTER_FILES.items():
        assert (chapters / f"{stem}.md").is_file(), name


def test_records_rejects_unknown_chapters_and_bad_seed_counts():
    with pytest.raises(ValueError, match="known"):
        scoreboard.records(["nope"])
    with pytest.raises(ValueError, match="n_seeds"):
        scoreboard.records(["dfo"], n_seeds=1)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "ce_lib", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, match", [
    (["scoreboard", "--chapter", "bandits-of-mars"], "known chapters: dfo, bandits, contextual, mdp, lqr, robust, ppo, deep_rl, dt"),
    (["scoreboard", "--seeds", "0"], "--seeds must be at least 2"),
    (["scoreboard", "--seeds", "many"], "--seeds must be an integer"),
    (["scoreboard", "--colour"], "unrecognized arguments"),
    (["launch-rockets"], "invalid choice"),
    ([], "usage"),
])
def test_cli_user_mistakes_exit_2_without_a_traceback(args, match):
    out = _cli(*args)
    assert out.returncode == 2
    assert match in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_cli_json_uses_registered_chapters(monkeypatch, capsys):
    monkeypatch.setitem(scoreboard.CHAPTERS, "toy", "tests.test_scoreboard:_toy_headline")
    assert scoreboard.main(["scoreboard", "--chapter", "toy", "--json", "--seeds", "5"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert recs[0]["n_seeds"] == 5
    assert scoreboard.main(["scoreboard", "--chapter", "toy", "--seeds", "5"]) == 0
    assert "RL / CE" in capsys.readouterr().out


def test_records_default_to_each_chapters_own_seed_count(monkeypatch):
    monkeypatch.setitem(scoreboard.CHAPTERS, "toy", "tests.test_scoreboard:_toy_headline")
    assert scoreboard.records(["toy"])[0]["n_seeds"] == 7


def _toy_headline(n_seeds=7):
    rec = copy.deepcopy(GOOD)
    rec["n_seeds"] = n_seeds
    return [rec]


def test_prose_helpers_follow_the_ratio_and_its_bound():
    rec = copy.deepcopy(GOOD)
    assert scoreboard.ratio_phrase(rec) == "150 (95% CI 80 to 300)"
    assert scoreboard.verdict(rec).startswith("certainty equivalence needed fewer")
    assert scoreboard.best_method(rec, "rl")["name"] == "random search (ARS)"
    rec["ratio"].update(median=0.5, lo=0.2, hi=0.8, bound="upper")
    assert scoreboard.ratio_phrase(rec).startswith("at most 0.5")
    assert scoreboard.verdict(rec).startswith("reinforcement learning needed fewer")
    rec["ratio"].update(hi=2.0, bound="lower")
    assert scoreboard.ratio_phrase(rec).startswith("at least") and "includes 1" in scoreboard.verdict(rec)
    rec["ratio"]["bound"] = "none"
    assert "not measurable" in scoreboard.ratio_phrase(rec)
    with pytest.raises(ValueError, match="family"):
        scoreboard.best_method(rec, "both")


def _censored(rec, bound):
    out = copy.deepcopy(rec)
    out["ratio"]["bound"] = bound
    return out


def test_summary_counts_each_label_and_names_where_rl_wins_or_ties():
    rl_wins = _same(GOOD)
    rl_wins["task"] = "toy where RL wins"
    rl_wins["ratio"].update(median=0.3, lo=0.2, hi=0.5)
    tie = _same(GOOD)
    tie["task"] = "toy tie"
    tie["ratio"].update(median=1.2, lo=0.8, hi=2.0)
    text = scoreboard.summary_text([copy.deepcopy(GOOD), rl_wins, tie])
    assert text.startswith("The scoreboard holds 2 same-information records: ratios from 0.3 to 1.2")
    assert "needed fewer samples in 1 (Derivative-free optimization, toy where RL wins)" in text
    assert "the interval includes 1 in 1 (Derivative-free optimization, toy tie)" in text
    assert "1 more-information record: ratios from 150 to 150 (median 150)" in text
    with pytest.raises(ValueError, match="recs"):
        scoreboard.summary_text([])
    numbers = scoreboard.summary_numbers([copy.deepcopy(GOOD), rl_wins, tie])
    assert (numbers["n_same"], numbers["lo_same"], numbers["hi_same"], numbers["n_more"]) == ("2", "0.3", "1.2", "1")
    assert numbers["median_more"] == "150" and numbers["median_same"] == "0.75"
    assert (numbers["rl_wins_same"], numbers["ties_same"], numbers["ce_fails_same"]) == ("one", "one", "none")
    assert (numbers["rl_wins_more"], numbers["ties_more"], numbers["ce_fails_more"]) == ("none", "none", "none")
    with pytest.raises(ValueError, match="recs"):
        scoreboard.summary_numbers([])


def test_an_upper_bound_above_one_says_ce_failed_not_that_ce_won():
    failed = _censored(_same(GOOD), "upper")
    failed["task"] = "toy where CE failed"
    failed["ratio"].update(median=40.0, lo=20.0, hi=60.0)
    assert scoreboard.verdict(failed).startswith("certainty equivalence did not reach the target")
    text = scoreboard.summary_text([failed])
    assert "did not reach the target on most seeds in 1 (Derivative-free optimization, toy where CE failed)" in text
    assert "needed fewer" not in text and "includes 1" not in text
    lower = _censored(_same(GOOD), "lower")
    lower["ratio"].update(median=0.3, lo=0.2, hi=0.5)  # at least 0.3: not a win for RL
    assert scoreboard.verdict(lower).startswith("reinforcement learning did not reach")
    assert "needed fewer" not in scoreboard.summary_text([lower])


def test_forest_plot_draws_one_row_per_record_and_arrows_for_bounds():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [copy.deepcopy(GOOD), _censored(_same(GOOD), "lower"), _censored(GOOD, "exact")]
    recs[2]["task"] = "toy 2"
    ax = scoreboard.plot_forest(recs)
    assert len(ax.get_yticks()) == 3
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    assert labels[0].startswith("1. Derivative-free optimization\ntoy, same data\n")
    assert labels[2].startswith("3. ") and len(labels) == 3
    assert scoreboard._middle("a" * 30 + " the end", 20) == "a" * 8 + "..." + "a" * 1 + " the end"
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 1  # only the censored ratio gets an arrow
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)
