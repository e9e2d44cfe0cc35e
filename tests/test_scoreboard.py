import copy
import math
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
    assert "CE is given" in md and "&gt;=" not in md and ">=" not in md and "**\u2265 150**<br>[80, 300]" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert all(line.count(" | ") == 3 for line in rows)
    assert rows[0].startswith("| RL / CE |") and rows[1].startswith("| **\u2265 150**")  # the ratio first
    assert "\u2020" not in md and scoreboard.ZERO_WIDTH_NOTE not in md
    flat = copy.deepcopy(lower)
    flat["ratio"].update(median=8.0, lo=8.0, hi=8.0)  # every resample the same: marked, and explained
    md = scoreboard.format_markdown([flat])
    assert "**\u2265 8**<br>[8, 8]\u2020" in md and md.rstrip().endswith(scoreboard.ZERO_WIDTH_NOTE)
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
    assert text.startswith("The scoreboard holds 2 same-information records: ratios from 0.3 to 1.2 "
                           "(median over 1 chapter 0.75, 95% CI 0.75 to 0.75)")
    assert "needed fewer samples in 1 (Derivative-free optimization, toy where RL wins)" in text
    assert "the interval includes 1 in 1 (Derivative-free optimization, toy tie)" in text
    assert "1 more-information record: ratios from 150 to 150" in text
    with pytest.raises(ValueError, match="recs"):
        scoreboard.summary_text([])
    numbers = scoreboard.summary_numbers([copy.deepcopy(GOOD), rl_wins, tie])
    assert (numbers["n_same"], numbers["lo_same"], numbers["hi_same"], numbers["n_more"]) == ("2", "0.3", "1.2", "1")
    assert numbers["median_more"] == "150" and numbers["median_same"] == "0.75"
    assert (numbers["chapters_same"], numbers["median_lo_same"], numbers["median_hi_same"]) == ("one", "0.75", "0.75")
    assert (numbers["rl_wins_same"], numbers["ties_same"], numbers["ce_fails_same"]) == ("one", "one", "none")
    assert (numbers["rl_wins_more"], numbers["ties_more"], numbers["ce_fails_more"]) == ("none", "none", "none")
    assert numbers["undecided_same"] == "none" and numbers["verdict"] == scoreboard.verdict_text(
        [GOOD, rl_wins, tie])
    with pytest.raises(ValueError, match="recs"):
        scoreboard.summary_numbers([])


def test_an_upper_bound_above_one_is_undecided_and_ce_failed():
    failed = _censored(_same(GOOD), "upper")
    failed["task"] = "toy where CE failed"
    failed["ratio"].update(median=40.0, lo=20.0, hi=60.0)
    assert scoreboard.verdict(failed).startswith("certainty equivalence did not reach the target")
    assert scoreboard.side(failed) == "undecided"
    text = scoreboard.summary_text([failed])
    assert "undecided in 1, where the ratio is only a bound on the wrong side of 1 (Derivative-free " \
           "optimization, toy where CE failed)" in text
    assert "did not reach the target on most seeds in 1, whichever family was faster (Derivative-free " \
           "optimization, toy where CE failed)" in text
    assert "needed fewer" not in text and "includes 1" not in text and "median over" not in text
    lower = _censored(_same(GOOD), "lower")
    lower["ratio"].update(median=0.3, lo=0.2, hi=0.5)  # at least 0.3: not a win for RL
    assert scoreboard.verdict(lower).startswith("reinforcement learning did not reach")
    assert scoreboard.side(lower) == "undecided"
    assert "needed fewer" not in scoreboard.summary_text([lower])
    # an upper bound below 1 is an RL win (and still a CE failure); a lower bound above 1 a CE win
    rl_won = _censored(_same(GOOD), "upper")
    rl_won["ratio"].update(median=0.4, lo=0.3, hi=0.5)
    assert scoreboard.side(rl_won) == "rl" and scoreboard.side(_censored(GOOD, "lower")) == "ce"
    numbers = scoreboard.summary_numbers([rl_won, failed])
    assert (numbers["rl_wins_same"], numbers["undecided_same"], numbers["ce_fails_same"]) == ("one", "one", "two")
    assert numbers["median_same"] == "0.4"  # the undecided record is left out, not counted as 40
    assert scoreboard.side(_censored(GOOD, "none")) == "none"
    with pytest.raises(ValueError, match="rec"):
        scoreboard.side({"ratio": {"median": 1.0}})


def _record(chapter, median, information="same", bound="exact", task="toy"):
    rec = copy.deepcopy(GOOD) if information == "more" else _same(GOOD)
    rec.update(chapter=chapter, task=task)
    rec["ratio"].update(median=median, lo=median / 2, hi=median * 2, bound=bound)
    return rec


def test_the_summary_counts_each_chapter_once_with_a_bootstrap_over_chapters():
    recs = ([_record("lqr", m) for m in (100.0, 200.0, 300.0, 400.0, 500.0)]  # many records, one chapter
            + [_record("dfo", 2.0), _record("bandits", 3.0), _record("mdp", 0.5)])
    s = scoreboard.chapter_summary(recs, "same")
    assert s["chapters"] == {"lqr": 300.0, "dfo": 2.0, "bandits": 3.0, "mdp": 0.5}
    assert s["median"] == 2.5 and s["n_records"] == 8  # by records it would be 150
    assert s["lo"] == 0.5 and s["hi"] == 300.0 and (s["undecided"], s["none"]) == (0, 0)
    again = scoreboard.chapter_summary(list(reversed(recs)), "same")
    assert (again["lo"], again["median"], again["hi"]) == (s["lo"], s["median"], s["hi"])  # fixed seed
    assert scoreboard.chapter_summary(recs, "more")["chapters"] == {}
    assert math.isnan(scoreboard.chapter_summary(recs, "more")["median"])
    with pytest.raises(ValueError, match="information"):
        scoreboard.chapter_summary(recs, "all")
    with pytest.raises(ValueError, match="record"):
        scoreboard.chapter_summary([{"information": "same"}], "same")
    table = scoreboard.format_summary_markdown(recs)
    assert "| LQR | 300 (five records) | -- |" in table
    assert table.splitlines()[-1] == "| **median over chapters** [95% CI] | **2.5** [0.5, 300] | -- |"


def test_the_verdict_says_orders_of_magnitude_and_whether_the_interval_excludes_one():
    many = [_record(c, 2000.0 + i, "more") for i, c in enumerate(("lqr", "dfo", "ppo"))]
    few = [_record(c, m) for c, m in (("lqr", 2.0), ("dfo", 3.0), ("bandits", 4.0))]
    text = scoreboard.verdict_text(many + few)
    assert text.startswith("With the same data, certainty equivalence needed a median of 3 times fewer samples "
                           "than reinforcement learning over three chapters (95% CI 2 to 4): less than one order "
                           "of magnitude, and the interval excludes 1.")
    assert "Told more (the model's form, the physics or the cost), certainty equivalence needed a median of 2,001 " \
           "times fewer samples" in text and "three orders of magnitude, and the interval excludes 1." in text
    mixed = [_record(c, m) for c, m in (("lqr", 0.2), ("dfo", 3.0), ("bandits", 40.0))]
    mixed.append(_record("mdp", 50.0, bound="upper", task="CE failed"))
    text = scoreboard.verdict_text(mixed)
    assert "a median of 3 times fewer" in text and "the chapters disagree enough that the interval includes 1" in text
    assert "(one record left out as undecided" in text and "Told more" not in text
    assert "3.33 times more samples than reinforcement learning" in scoreboard.verdict_text(
        [_record("lqr", 0.3), _record("dfo", 0.3)])
    with pytest.raises(ValueError, match="recs"):
        scoreboard.verdict_text([])


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
    assert scoreboard._middle("one two three four five six seven eight", 24) == "one two ... seven eight"
    assert scoreboard._middle("a" * 30 + " the end", 20) == "a" * 30 + " the end"  # never cut inside a word
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 1  # only the censored ratio gets an arrow
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)


def test_forest_labels_are_distinct_and_whole_words_and_undecided_rows_reach_across_one():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    long_task = "reach a goal on random graphs (20 nodes, edge probability 0.1) from logged random walks"
    a, b = _record("dt", 10.0, task=long_task), _record("dt", 1.5, task=long_task)
    b["methods"][1]["name"] = b["ratio"]["rl"] = "fitted Q-iteration"
    more = _record("dt", 10.0, "more", task=long_task)  # same methods as a: told apart by what CE is told
    failed = _record("deep_rl", 40.0, bound="upper", task="CartPole")
    recs = [a, b, failed, more]
    ax = scoreboard.plot_forest(recs)
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    bodies = [label.split(". ", 1)[1] for label in labels]
    assert len(set(bodies)) == len(bodies), bodies
    assert "(same data)" in labels[0] and "(CE told more)" in labels[3]
    source = {w for r in recs for w in " ".join([r["task"], r["metric"], r["ratio"]["rl"], r["ratio"]["ce"],
                                                   scoreboard.CHAPTER_TITLES[r["chapter"]]]).split()}
    words = {w for label in bodies for w in label.split()} - {"...", "vs", "(same", "data)", "(CE", "told", "more)"}
    assert words <= source, words - source  # no word cut in two
    # the undecided row (an upper bound of 40): no filled marker, and its line reaches below 1
    rows = {}
    for line in ax.get_lines():
        ys = set(line.get_ydata())
        if len(ys) == 1:
            rows.setdefault(ys.pop(), []).append(line)
    undecided_y = len(recs) - 1 - 2  # the third row from the top (same-information rows in their order)
    drawn = rows[undecided_y]
    assert min(min(line.get_xdata()) for line in drawn) < 1.0 < 40.0 == max(max(line.get_xdata()) for line in drawn)
    assert all(line.get_markerfacecolor() == "white" for line in drawn if line.get_marker() not in ("None", None, ""))
    assert 20.0 not in {x for line in drawn for x in line.get_xdata()}  # its interval is not drawn as one
    assert ax.get_xlim()[0] <= min(min(line.get_xdata()) for line in drawn)
    plt.close(ax.figure)


def test_moving_the_debatable_methods_recomputes_the_ratio_from_the_reported_medians():
    rec = _same(GOOD)  # model known (CE): median 2; random search (ARS): median 300
    rec["methods"].append({"name": "UCB", "family": "ce", "samples_to_target": {"median": 10, "lo": 8, "hi": 12},
                           "success_rate": 1.0, "tuning": "none needed"})
    assert scoreboard.moved_ratio(rec, names=[]) == 150.0  # nothing moves: the ratio of the best medians
    assert scoreboard.moved_ratio(rec) == 10 / 2  # UCB now the best RL method
    assert scoreboard.moved_ratio(rec, names=["model known (CE)"]) == 2 / 10
    assert scoreboard.moved_ratio(rec, names=["model known (CE)", "UCB"]) is None  # no CE method left
    with pytest.raises(TypeError, match="names"):
        scoreboard.moved_ratio(rec, names="UCB")
    assert [m[:3] for m in scoreboard.debatable_methods([rec])] == [("dfo", "UCB", "ce")]
    table = scoreboard.format_debatable_markdown([rec, _record("lqr", 4.0)])
    assert "| 150 | 5 |" in table and "LQR" not in table  # only the records that change
    assert scoreboard.format_debatable_markdown([_record("lqr", 4.0)]) == "No record's ratio changes."
    moved = scoreboard.moved_summary([rec, _record("lqr", 4.0)])
    assert (moved["before_same"], moved["after_same"], moved["dropped_same"]) == ("77", "4.5", "none")
    assert moved["before_more"] == moved["after_more"] == "n/a"
