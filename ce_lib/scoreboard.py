"""The book's scoreboard: every chapter's headline comparisons, labelled by what CE was told.

Each chapter registers a function in :data:`CHAPTERS` that runs (or reads from the cache of
:func:`ce_lib.experiments.cached`) its headline experiment and returns records built by
:func:`ce_lib.experiments.make_record`::

    {"chapter": "lqr", "task": "...", "metric": "...", "target": 0.1, "n_seeds": 20, "budget": 5000.0,
     "information": "same" | "more", "ce_given": "" | "one sentence: what CE is told",
     "methods": [{"name": "...", "family": "ce" | "rl",
                  "samples_to_target": {"median": .., "lo": .., "hi": ..}, "success_rate": ..,
                  "tuning": "published: ..." | "grid of N on seeds A-B, chosen by ..." | "none needed"}, ...],
     "ratio": {"median": .., "lo": .., "hi": .., "bound": "exact" | "lower" | "upper" | "none",
               "rl": "<best RL method>", "ce": "<best CE method>"}}

``ratio`` is (best RL samples to target) / (best CE samples to target) with a paired bootstrap
interval over the reported seeds; each family's best method was chosen on separate tuning seeds.
``information`` says whether CE learned from exactly what the RL method observed (``"same"``: a
claim about method) or was told more (``"more"``: a claim about information; ``ce_given`` says
what). ``bound`` marks a ratio whose RL median (``"lower"``: the ratio is at least this) or CE
median (``"upper"``) sits at the budget because most seeds never reached the target; ``"none"``
(both censored) is an extension of the three values of the conventions, for a record that says
nothing beyond "neither got there".

Command line: ``python -m ce_lib scoreboard [--chapter NAME] [--json] [--seeds N]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import statistics
import sys
import textwrap
from typing import Iterable

__all__ = ["BOUNDS", "CHAPTERS", "CHAPTER_FILES", "CHAPTER_TITLES", "GROUP_TITLES", "SUMMARY_RESAMPLES", "SUMMARY_SEED",
           "DEBATABLE", "ZERO_WIDTH_NOTE", "best_method", "chapter_summary", "debatable_methods",
           "format_debatable_markdown", "moved_ratio", "moved_summary", "forest_label", "format_markdown",
           "format_summary_markdown", "format_table", "format_tuning_markdown", "main", "plot_forest", "ratio_phrase",
           "ratio_text", "records", "side", "summary_numbers", "summary_text", "validate_record", "verdict",
           "verdict_text"]

from .studies import CHAPTERS as _REGISTRY

#: Chapter name -> "module:function" returning that chapter's records; imported only when asked.
#: Read from the one registry of chapters, :data:`ce_lib.studies.CHAPTERS`.
#:
#: :meta hide-value:
CHAPTERS = {c.key: f"ce_lib.studies.{c.study}:headline" for c in _REGISTRY}

#: What a reader sees for each chapter name (the chapters' own titles, shortened).
#:
#: :meta hide-value:
CHAPTER_TITLES = {c.key: c.title for c in _REGISTRY}

#: Chapter name -> the chapter's file in the book's ``chapters/`` folder (without ``.md``).
#:
#: :meta hide-value:
CHAPTER_FILES = {c.key: c.file for c in _REGISTRY}


def _headline(chapter: str):
    module, func = CHAPTERS[chapter].split(":")
    return getattr(importlib.import_module(module), func)


def records(chapters: Iterable[str] | None = None, n_seeds: int | None = None) -> list[dict]:
    """Run (or load from cache) the headline experiments and return their records.

    Parameters
    ----------
    chapters : iterable of str, optional
        Names from :data:`CHAPTERS` (default: all, in book order).
    n_seeds : int, optional
        Seeds per experiment. ``None`` (the default) uses each chapter's own number, the one the
        book uses, so the results come from the cache the chapters filled; another number
        recomputes.

    Returns
    -------
    list of dict
        Validated records (see :func:`validate_record`).
    """
    if isinstance(chapters, str):
        raise TypeError("chapters must be an iterable of chapter names, not one string")
    names = list(CHAPTERS) if chapters is None else list(chapters)
    unknown = [c for c in names if c not in CHAPTERS]
    if unknown:
        raise ValueError(f"chapters: unknown name(s) {unknown}; known: {sorted(CHAPTERS)}")
    if n_seeds is not None and (isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 2):
        raise ValueError(f"n_seeds must be an integer >= 2, got {n_seeds!r}")
    out = []
    for name in names:
        fn = _headline(name)
        for rec in (fn() if n_seeds is None else fn(n_seeds=n_seeds)):
            validate_record(rec)
            out.append(rec)
    return out


def _check_interval(obj, where: str, positive: bool = True) -> None:
    if not isinstance(obj, dict) or set(obj) != {"median", "lo", "hi"}:
        raise ValueError(f"{where} must be a dict with exactly median, lo, hi; got {obj!r}")
    vals = [obj["median"], obj["lo"], obj["hi"]]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in vals):
        raise ValueError(f"{where} must hold finite numbers, got {obj!r}")
    if positive and min(vals) <= 0:
        raise ValueError(f"{where} must be positive, got {obj!r}")
    if not obj["lo"] <= obj["median"] <= obj["hi"]:
        raise ValueError(f"{where} must satisfy lo <= median <= hi, got {obj!r}")


_RECORD_KEYS = {"chapter": str, "task": str, "metric": str, "target": (int, float), "n_seeds": int,
                "budget": (int, float), "information": str, "ce_given": str, "methods": list, "ratio": dict}
_METHOD_KEYS = {"name", "family", "samples_to_target", "success_rate", "tuning"}
BOUNDS = ("exact", "lower", "upper", "none")


def validate_record(rec: dict) -> dict:
    """Check one scoreboard record against the format; return it or raise ``ValueError``."""
    if not isinstance(rec, dict):
        raise ValueError(f"record must be a dict, got {type(rec).__name__}")
    for key, kind in _RECORD_KEYS.items():
        if key not in rec:
            raise ValueError(f"record is missing {key!r}")
        if not isinstance(rec[key], kind) or isinstance(rec[key], bool):
            raise ValueError(f"record[{key!r}] has the wrong type: {type(rec[key]).__name__}")
    extra = set(rec) - set(_RECORD_KEYS)
    if extra:
        raise ValueError(f"record has unknown keys {sorted(extra)}")
    for key in ("chapter", "task", "metric"):
        if not rec[key].strip():
            raise ValueError(f"record[{key!r}] must not be empty")
    if not math.isfinite(rec["target"]):
        raise ValueError(f"record['target'] must be a finite number, got {rec['target']!r}")
    if rec["n_seeds"] < 1:
        raise ValueError("record['n_seeds'] must be at least 1")
    if not (math.isfinite(rec["budget"]) and rec["budget"] > 0):
        raise ValueError(f"record['budget'] must be a positive number, got {rec['budget']!r}")
    if rec["information"] not in ("same", "more"):
        raise ValueError(f"record['information'] must be 'same' or 'more', got {rec['information']!r}")
    if (rec["information"] == "more") != bool(rec["ce_given"].strip()):
        raise ValueError("record['ce_given'] must say what CE is told when information is 'more', and be "
                         "empty when it is 'same'")
    families, names = {}, set()
    for i, m in enumerate(rec["methods"]):
        where = f"record['methods'][{i}]"
        if not isinstance(m, dict) or set(m) != _METHOD_KEYS:
            raise ValueError(f"{where} must have exactly {', '.join(sorted(_METHOD_KEYS))}")
        if m["family"] not in ("ce", "rl"):
            raise ValueError(f"{where}['family'] must be 'ce' or 'rl', got {m['family']!r}")
        if m["name"] in names:
            raise ValueError(f"{where}['name'] {m['name']!r} appears twice")
        names.add(m["name"])
        families[m["name"]] = m["family"]
        _check_interval(m["samples_to_target"], f"{where}['samples_to_target']")
        rate = m["success_rate"]
        if not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0.0 <= rate <= 1.0):
            raise ValueError(f"{where}['success_rate'] must be in [0, 1], got {rate!r}")
        if not isinstance(m["tuning"], str) or not m["tuning"].strip():
            raise ValueError(f"{where}['tuning'] must say how the method's settings were chosen")
    if set(families.values()) != {"ce", "rl"}:
        raise ValueError("record['methods'] must include at least one 'ce' and one 'rl' method")
    ratio = rec["ratio"]
    if set(ratio) != {"median", "lo", "hi", "bound", "rl", "ce"}:
        raise ValueError("record['ratio'] must have exactly median, lo, hi, bound, rl, ce")
    _check_interval({k: ratio[k] for k in ("median", "lo", "hi")}, "record['ratio']")
    if ratio["bound"] not in BOUNDS:
        raise ValueError(f"record['ratio']['bound'] must be one of {BOUNDS}, got {ratio['bound']!r}")
    for fam in ("rl", "ce"):
        if families.get(ratio[fam]) != fam:
            raise ValueError(f"record['ratio'][{fam!r}] must name one of the record's {fam!r} methods, "
                             f"got {ratio[fam]!r}")
    return rec


# ----------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _interval(iv: dict) -> str:
    return f"{_fmt(iv['median'])} [{_fmt(iv['lo'])}, {_fmt(iv['hi'])}]"


_MARK = {"exact": "", "lower": ">= ", "upper": "<= ", "none": "n/a: both censored, "}


def ratio_text(rec: dict) -> str:
    """The ratio as the tables print it: ``>= 12 [8, 12]`` for a lower bound, and so on."""
    r = validate_record(rec)["ratio"]
    return _MARK[r["bound"]] + _interval(r)


def ratio_phrase(rec: dict) -> str:
    """The ratio in words, for prose: ``"704 (95% CI 678 to 881)"``, ``"at least 25 (...)"`` for a
    lower bound, ``"at most 0.5 (...)"`` for an upper bound, or why there is no number."""
    r = validate_record(rec)["ratio"]
    if r["bound"] == "none":
        return "not measurable (neither family's best method reached the target on most seeds)"
    prefix = {"exact": "", "lower": "at least ", "upper": "at most "}[r["bound"]]
    return f"{prefix}{_fmt(r['median'])} (95% CI {_fmt(r['lo'])} to {_fmt(r['hi'])})"


def verdict(rec: dict) -> str:
    """Which family needed fewer samples, in words, decided by the ratio's 95% interval."""
    r = validate_record(rec)["ratio"]
    if r["bound"] == "none":
        return "neither family reached the target on most seeds"
    if r["lo"] > 1 and r["bound"] != "upper":
        return "certainty equivalence needed fewer samples (the interval excludes 1)"
    if r["hi"] < 1 and r["bound"] != "lower":
        return "reinforcement learning needed fewer samples (the interval excludes 1)"
    if r["lo"] <= 1 <= r["hi"]:
        return "the interval includes 1: neither is clearly faster"
    if r["bound"] == "upper":
        return "certainty equivalence did not reach the target on most seeds (the ratio is only an upper bound)"
    return "reinforcement learning did not reach the target on most seeds (the ratio is only a lower bound)"


def best_method(rec: dict, family: str) -> dict:
    """The method of ``family`` ("ce" or "rl") that the record's ratio uses (chosen on the tuning seeds)."""
    if family not in ("ce", "rl"):
        raise ValueError(f"family must be 'ce' or 'rl', got {family!r}")
    return _method(validate_record(rec), family)


def _method(rec: dict, family: str) -> dict:
    name = rec["ratio"][family]
    return next(m for m in rec["methods"] if m["name"] == name)


def _method_text(m: dict) -> str:
    return f"{m['name']}: {_interval(m['samples_to_target'])}, {m['success_rate']:.0%} reached"


def _records(recs, name: str = "recs") -> list[dict]:
    """``recs`` validated: a list or tuple of records (:func:`validate_record`)."""
    if not isinstance(recs, (list, tuple)):
        raise TypeError(f"{name} must be a list of records, got {type(recs).__name__}")
    return [validate_record(r) for r in recs]


def _grouped(recs: list[dict]) -> list[tuple[str, list[dict]]]:
    same = [r for r in recs if r["information"] == "same"]
    more = [r for r in recs if r["information"] == "more"]
    return [(k, g) for k, g in (("same", same), ("more", more)) if g]


GROUP_TITLES = {
    "same": "Same information: CE learns only from what the RL method observed",
    "more": "More information: CE is told something the RL method is not",
}


def format_table(recs: list[dict], width: int = 100) -> str:
    """Plain-text scoreboard, at most ``width`` characters wide: same-information records first,
    each record as a block (task and metric, what CE is told, best CE, best RL, ratio)."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 60:
        raise ValueError(f"width must be an integer >= 60, got {width!r}")
    recs = _records(recs)
    out = []
    indent = " " * 4

    def wrap(text, first=indent, rest=indent + "  "):
        return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest)

    for key, group in _grouped(recs):
        title = textwrap.wrap(GROUP_TITLES[key], width=width)
        out += title + ["=" * max(len(line) for line in title)]
        for r in group:
            out += wrap(f"[{r['chapter']}] {r['task']}: {r['metric']}", first="", rest="  ")
            if r["information"] == "more":
                out += wrap(f"CE is given: {r['ce_given']}")
            out += wrap("best CE  " + _method_text(_method(r, "ce")))
            out += wrap("best RL  " + _method_text(_method(r, "rl")))
            out += wrap(f"RL / CE  {ratio_text(r)}   ({r['n_seeds']} seeds, median [95% CI])")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


_SYMBOL = {"exact": "", "lower": "\u2265 ", "upper": "\u2264 ", "none": "n/a: both censored, "}

#: The note under a table with a zero-width interval (marked with a dagger).
ZERO_WIDTH_NOTE = ("\u2020 A zero-width interval is not certainty: most seeds' counts were equal (at the "
                   "budget, or at the first point checked), so resampling the seeds cannot show their spread.")


def _zero_width(iv: dict) -> bool:
    return iv["lo"] == iv["hi"]


def _ratio_cell(rec: dict) -> str:
    """The ratio for a Markdown table: the median (with its bound's symbol) over its interval, so the
    column stays narrow; a zero-width interval is marked."""
    r = rec["ratio"]
    mark = "\u2020" if _zero_width(r) else ""
    return f"**{_SYMBOL[r['bound']]}{_fmt(r['median'])}**<br>[{_fmt(r['lo'])}, {_fmt(r['hi'])}]{mark}"


def format_markdown(recs: list[dict], *, links: bool = False, numbered: bool = False) -> str:
    """Markdown tables of records (the book's scoreboard page): one table per information label,
    same-information first, four columns narrow enough for a book's text column.

    The ratio comes first, so that it stays in view on a phone when the table scrolls sideways, as
    its median (marked \u2265 for a lower bound, \u2264 for an upper bound) over its 95% interval. The
    second column stacks the chapter, the task, the metric and (more information) what CE is
    given; the last two give each family's best method with its median [95% CI] and success rate.
    With ``links=True`` the chapter names link to the chapters' files (:data:`CHAPTER_FILES`,
    relative to the book's ``chapters/`` folder); with ``numbered=True`` the records are numbered in
    the order :func:`plot_forest` draws them. A zero-width interval is marked with a dagger and
    explained under the table (:data:`ZERO_WIDTH_NOTE`).
    """
    for name, flag in (("links", links), ("numbered", numbered)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    recs = _records(recs)
    blocks, n = [], 0
    for key, group in _grouped(recs):
        lines = [f"**{GROUP_TITLES[key]}**", "", "| RL / CE | record | best CE | best RL |", "|---|---|---|---|"]
        for r in group:
            n += 1
            title = _md(CHAPTER_TITLES.get(r["chapter"], r["chapter"]))
            if links and r["chapter"] in CHAPTER_FILES:
                title = f"[{title}]({CHAPTER_FILES[r['chapter']]}.md)"
            if numbered:
                title = f"{n}. {title}"
            about = [f"**{title}**", _md(r["task"]), f"*{_md(r['metric'])}*"]
            if key == "more":
                about.append(f"CE is given: {_md(r['ce_given'])}")
            cells = [_ratio_cell(r), "<br>".join(about), _md(_method_text(_method(r, "ce"))),
                     _md(_method_text(_method(r, "rl")))]
            lines.append("| " + " | ".join(cells) + " |")
        if any(_zero_width(r["ratio"]) for r in group):
            lines += ["", ZERO_WIDTH_NOTE]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_tuning_markdown(recs: list[dict]) -> str:
    """One Markdown table per chapter: every method of its records and how its settings were chosen."""
    recs = _records(recs)
    by_chapter: dict[str, dict[str, tuple[str, str]]] = {}
    for r in recs:
        seen = by_chapter.setdefault(r["chapter"], {})
        for m in r["methods"]:
            seen.setdefault(m["name"], (m["family"].upper(), m["tuning"]))
    blocks = []
    for chapter, methods in by_chapter.items():
        lines = [f"**{CHAPTER_TITLES.get(chapter, chapter)}**", "", "| method | family | how its settings were chosen |",
                 "|---|---|---|"]
        lines += [f"| {_md(name)} | {fam} | {_md(tuning)} |" for name, (fam, tuning) in methods.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# ----------------------------------------------------------------------------------------------
# The book's summary: a sentence and a picture
# ----------------------------------------------------------------------------------------------


def _range_text(group: list[dict]) -> str:
    meds = sorted(r["ratio"]["median"] for r in group if r["ratio"]["bound"] != "none")
    if not meds:
        return "no measurable ratio"
    return f"ratios from {_fmt(meds[0])} to {_fmt(meds[-1])}"


def side(rec: dict) -> str:
    """Which family a record's ratio favours, read from its 95% interval and its bound.

    ``"ce"`` when the interval lies above 1, ``"rl"`` when it lies below 1, ``"tie"`` when it
    contains 1; ``"undecided"`` when the ratio is a bound on the wrong side of 1 to decide anything
    -- an upper bound above 1 (CE's median run never reached the target: the ratio is at most this,
    which may be below 1) or a lower bound below 1 -- and ``"none"`` when neither family's median
    run reached the target. A bound on the right side of 1 decides: at least 12 is a CE win.

    >>> rec = {"ratio": {"median": 40.0, "lo": 20.0, "hi": 60.0, "bound": "upper"}}
    >>> side(rec)
    'undecided'
    >>> rec["ratio"]["bound"] = "exact"
    >>> side(rec)
    'ce'
    """
    r = rec.get("ratio") if isinstance(rec, dict) else None
    if not isinstance(r, dict) or r.get("bound") not in BOUNDS or not all(k in r for k in ("median", "lo", "hi")):
        raise ValueError(f"rec must be a record whose 'ratio' has median, lo, hi and a bound in {BOUNDS}, got {rec!r}")
    if r["bound"] == "none":
        return "none"
    if (r["bound"] == "upper" and r["median"] > 1) or (r["bound"] == "lower" and r["median"] < 1):
        return "undecided"
    if r["lo"] > 1:
        return "ce"
    if r["hi"] < 1:
        return "rl"
    return "tie"


def _classify(group: list[dict]) -> dict:
    """Split records by what their ratio says (shared by the summaries). ``ce_fails`` and
    ``rl_fails`` list every record whose CE (RL) median run was censored, whoever won it."""
    return {
        "rl_wins": [r for r in group if side(r) == "rl"],
        "ties": [r for r in group if side(r) == "tie"],
        "undecided": [r for r in group if side(r) == "undecided"],
        "ce_fails": [r for r in group if r["ratio"]["bound"] in ("upper", "none")],
    }


def _count(n: int) -> str:
    words = ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if n < len(words) else f"{n:,}"


#: Seed of the bootstrap over chapters in :func:`chapter_summary` (a fixed constant: the same
#: records always give the same interval).
SUMMARY_SEED = 20261206

#: Resamples of the bootstrap over chapters in :func:`chapter_summary`.
SUMMARY_RESAMPLES = 10_000


def chapter_summary(recs: list[dict], information: str) -> dict:
    """The book's summary ratio for one information label: a median over chapters with a
    bootstrap interval, so that no chapter counts more for contributing more records.

    Each chapter's number is the median ratio of its *decided* records of that label (those whose
    :func:`side` is ``"ce"``, ``"rl"`` or ``"tie"``; a bound on the right side of 1 counts at its
    value, which understates the side it favours). Records that are undecided (a bound on the wrong
    side of 1) or not measurable are left out and counted. The overall number is the median of the
    chapters' numbers, with a 95% percentile interval from resampling the chapters with replacement
    (:data:`SUMMARY_RESAMPLES` resamples from :data:`SUMMARY_SEED`); the interval reflects how
    much the chapters disagree, not the seeds within each record (each record has its own).

    Parameters
    ----------
    recs : list of dict
        Scoreboard records (:func:`validate_record`).
    information : {"same", "more"}
        Which records to summarize.

    Returns
    -------
    dict
        ``median``, ``lo``, ``hi`` (``nan`` when no chapter has a decided record),
        ``chapters`` (chapter name -> its median ratio, in book order), ``n_records`` (the records
        used), ``undecided`` and ``none`` (the records left out).
    """
    import numpy as np

    if information not in ("same", "more"):
        raise ValueError(f"information must be 'same' or 'more', got {information!r}")
    group = [r for r in _records(recs) if r["information"] == information]
    decided = [r for r in group if side(r) in ("ce", "rl", "tie")]
    chapters: dict[str, float] = {}
    for name in dict.fromkeys(r["chapter"] for r in decided):
        chapters[name] = float(statistics.median(r["ratio"]["median"] for r in decided if r["chapter"] == name))
    out = {"chapters": chapters, "n_records": len(decided),
           "undecided": sum(side(r) == "undecided" for r in group), "none": sum(side(r) == "none" for r in group)}
    if not chapters:
        return {"median": math.nan, "lo": math.nan, "hi": math.nan, **out}
    values = np.array(list(chapters.values()))
    rng = np.random.default_rng(SUMMARY_SEED)
    boot = np.median(values[rng.integers(0, len(values), size=(SUMMARY_RESAMPLES, len(values)))], axis=1)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return {"median": float(np.median(values)), "lo": float(lo), "hi": float(hi), **out}


def _orders(x: float) -> str:
    """A factor above 1 in orders of magnitude, in words."""
    n = math.floor(math.log10(x)) if x >= 1 else 0
    return ("less than one order of magnitude" if n < 1 else "one order of magnitude" if n == 1
            else f"{_count(n)} orders of magnitude")


def verdict_text(recs: list[dict]) -> str:
    """The book's answer in one computed sentence per information label: the median ratio over
    chapters (:func:`chapter_summary`) with its 95% interval, said in orders of magnitude, whether
    the interval excludes 1, and how many records it leaves out as undecided."""
    recs = _records(recs)
    if not recs:
        raise ValueError("recs must not be empty")
    parts = []
    for key, group in _grouped(recs):
        s = chapter_summary(group, key)
        who = "With the same data" if key == "same" else "Told more (the model's form, the physics or the cost)"
        if not s["chapters"]:
            parts.append(f"{who}, no record decides either way.")
            continue
        m, n = s["median"], len(s["chapters"])
        how = (f"{_fmt(m)} times fewer samples than reinforcement learning" if m >= 1
               else f"{_fmt(1 / m)} times more samples than reinforcement learning")
        text = (f"{who}, certainty equivalence needed a median of {how} over {_count(n)} "
                f"chapter{'s' if n != 1 else ''} (95% CI {_fmt(s['lo'])} to {_fmt(s['hi'])})")
        if s["lo"] > 1:
            text += f": {_orders(m)}, and the interval excludes 1"
        elif s["hi"] < 1:
            text += ": reinforcement learning was the cheaper family, and the interval excludes 1"
        else:
            text += (f": {_orders(m) if m >= 1 else 'a fraction'}, and the chapters disagree enough that the "
                     "interval includes 1")
        left = s["undecided"] + s["none"]
        if left:
            text += (f" ({_count(left)} record{'s' if left != 1 else ''} left out as undecided: the target was "
                     "not reached on most seeds and the ratio cannot say which family is faster)")
        parts.append(text + ".")
    return " ".join(parts)


def summary_numbers(recs: list[dict]) -> dict[str, str]:
    """Short phrases that state the book's answer, computed from the records (the introduction
    quotes them): for each information label ``same`` and ``more``, ``n_<label>`` (how many
    records), ``lo_<label>`` and ``hi_<label>`` (the range of their median ratios RL / CE),
    ``median_<label>``, ``median_lo_<label>`` and ``median_hi_<label>`` (the median over chapters
    and its 95% interval, :func:`chapter_summary`), ``chapters_<label>`` (how many chapters it is
    over), and, as words ("none", "one", ...), how many records RL won (``rl_wins_<label>``: the
    interval lies below 1), tied (``ties_<label>``: it contains 1), left undecided
    (``undecided_<label>``: a bound on the wrong side of 1), or where CE did not reach the target on
    most seeds (``ce_fails_<label>``, whoever won). ``verdict`` is :func:`verdict_text`.
    """
    recs = _records(recs)
    if not recs:
        raise ValueError("recs must not be empty")
    out = {}
    for key in ("same", "more"):
        group = [r for r in recs if r["information"] == key]
        meds = sorted(r["ratio"]["median"] for r in group if r["ratio"]["bound"] != "none")
        s = chapter_summary(group, key)
        out[f"n_{key}"] = str(len(group))
        out[f"lo_{key}"] = _fmt(meds[0]) if meds else "n/a"
        out[f"hi_{key}"] = _fmt(meds[-1]) if meds else "n/a"
        out[f"median_{key}"] = _fmt(s["median"]) if s["chapters"] else "n/a"
        out[f"median_lo_{key}"] = _fmt(s["lo"]) if s["chapters"] else "n/a"
        out[f"median_hi_{key}"] = _fmt(s["hi"]) if s["chapters"] else "n/a"
        out[f"chapters_{key}"] = _count(len(s["chapters"]))
        for what, group_of in _classify(group).items():
            out[f"{what}_{key}"] = _count(len(group_of))
    out["verdict"] = verdict_text(recs)
    return out


def format_summary_markdown(recs: list[dict]) -> str:
    """A Markdown table of :func:`chapter_summary`: each chapter's median ratio for each
    information label, then the median over chapters with its 95% interval."""
    recs = _records(recs)
    if not recs:
        raise ValueError("recs must not be empty")
    s = {key: chapter_summary(recs, key) for key in ("same", "more")}
    lines = ["| chapter | same information | more information |", "|---|---|---|"]
    for name in dict.fromkeys(r["chapter"] for r in recs):
        cells = []
        for key in ("same", "more"):
            group = [r for r in recs if r["chapter"] == name and r["information"] == key]
            if name in s[key]["chapters"]:
                n = sum(side(r) in ("ce", "rl", "tie") for r in group)
                cells.append(f"{_fmt(s[key]['chapters'][name])} ({_count(n)} record{'s' if n != 1 else ''})")
            else:
                cells.append("undecided" if group else "--")
        lines.append(f"| {_md(CHAPTER_TITLES.get(name, name))} | " + " | ".join(cells) + " |")
    total = []
    for key in ("same", "more"):
        t = s[key]
        total.append(f"**{_fmt(t['median'])}** [{_fmt(t['lo'])}, {_fmt(t['hi'])}]" if t["chapters"] else "--")
    lines.append("| **median over chapters** [95% CI] | " + " | ".join(total) + " |")
    return "\n".join(lines)


#: Methods whose side of the line between the families a reader may dispute: name (as the records
#: give it, up to a parenthesis or comma) -> why. The book counts a method as certainty
#: equivalence when it fits a model of the environment from data and acts on the fitted model as if
#: it were true; optimism and posterior sampling act on a fitted model too, so they count as CE.
DEBATABLE = {
    "UCB": "an optimistic index on fitted means; the bandit literature treats it as a learning algorithm "
           "of its own, not as acting on a model",
    "KL-UCB": "as UCB",
    "Thompson sampling": "it acts on a sample from a posterior, a model; it is usually filed under bandit "
                         "learning, beside the policy-based learners",
    "LinUCB": "as UCB, with a linear model of the rewards",
    "linear Thompson sampling": "as Thompson sampling, with a linear model of the rewards",
    "rejection-sampling fine-tuning": "it trains the policy on its own answers that the verifier accepted: "
                                      "expert iteration, which the reasoning literature counts as reinforcement "
                                      "learning with a binary reward",
    "best-of-n with the verifier": "it fits nothing: it searches with the verifier, the task's rules",
    "decision transformer": "it fits a sequence model of the logged walks -- a model of the data, conditioned on "
                            "the return -- and is filed under offline reinforcement learning",
}


def _base_name(name: str) -> str:
    return name.split(" (")[0].split(",")[0].strip()


def debatable_methods(recs: list[dict]) -> list[tuple[str, str, str, str]]:
    """The methods of ``recs`` listed in :data:`DEBATABLE`, once each, in the order they appear:
    ``(chapter, name, family, why)``."""
    out, seen = [], set()
    for r in _records(recs):
        for m in r["methods"]:
            base = _base_name(m["name"])
            if base in DEBATABLE and (r["chapter"], m["name"]) not in seen:
                seen.add((r["chapter"], m["name"]))
                out.append((r["chapter"], m["name"], m["family"], DEBATABLE[base]))
    return out


def moved_ratio(rec: dict, names=None) -> float | None:
    """The ratio RL / CE of a record after the methods named in ``names`` (default: the keys of
    :data:`DEBATABLE`, matched on the name up to a parenthesis or comma) change sides.

    Each family's best method is the one with the fewest samples to the target on the *reported*
    seeds (the records keep only those): a sensitivity check, not the scoreboard's protocol, which
    chooses on the tuning seeds and gives an interval. ``None`` when a family is left with no method.
    """
    rec = validate_record(rec)
    if isinstance(names, str):
        raise TypeError("names must be a collection of method names, not one string")
    moving = {_base_name(n) for n in (DEBATABLE if names is None else names)}
    best = {}
    for m in rec["methods"]:
        family = m["family"]
        if _base_name(m["name"]) in moving:
            family = "rl" if family == "ce" else "ce"
        key = (m["samples_to_target"]["median"], -m["success_rate"])
        if family not in best or key < best[family]:
            best[family] = key
    if set(best) != {"ce", "rl"}:
        return None
    return best["rl"][0] / best["ce"][0]


def _after_move(rec: dict):
    """A record's ratio after the debatable methods change sides: its own ratio when the best
    methods stay the same, else :func:`moved_ratio` (``None`` when a side is left empty)."""
    after = moved_ratio(rec)
    return rec["ratio"]["median"] if after is not None and after == moved_ratio(rec, names=()) else after


def format_debatable_markdown(recs: list[dict]) -> str:
    """A Markdown table of the records whose ratio changes when the debatable methods change sides
    (:func:`moved_ratio`): the ratio of the scoreboard and the ratio after the move."""
    recs = _records(recs)
    lines = ["| record | RL / CE now | after the move |", "|---|---|---|"]
    for r in recs:
        after = _after_move(r)
        now = r["ratio"]
        if after == now["median"]:
            continue
        title = f"**{_md(CHAPTER_TITLES.get(r['chapter'], r['chapter']))}**<br>{_md(r['task'])}"
        lines.append(f"| {title} | {_SYMBOL[now['bound']]}{_fmt(now['median'])} | "
                     f"{'no method left on one side' if after is None else _fmt(after)} |")
    return "\n".join(lines) if len(lines) > 2 else "No record's ratio changes."


def moved_summary(recs: list[dict]) -> dict[str, str]:
    """The medians over chapters before and after the debatable methods change sides, for each
    information label: ``before_<label>`` (the scoreboard's, :func:`chapter_summary`) and
    ``after_<label>`` (the same median over chapters, each decided record now counted at its
    :func:`moved_ratio`, a record left with no method on one side dropped; no interval),
    as formatted numbers or ``"n/a"``, and ``dropped_<label>``, how many records were dropped."""
    recs = _records(recs)
    out = {}
    for key in ("same", "more"):
        group = [r for r in recs if r["information"] == key and side(r) in ("ce", "rl", "tie")]
        before = chapter_summary(group, key)
        out[f"before_{key}"] = _fmt(before["median"]) if before["chapters"] else "n/a"
        per_chapter, dropped = {}, 0
        for r in group:
            after = _after_move(r)
            if after is None:
                dropped += 1
            else:
                per_chapter.setdefault(r["chapter"], []).append(after)
        values = [statistics.median(v) for v in per_chapter.values()]
        out[f"after_{key}"] = _fmt(statistics.median(values)) if values else "n/a"
        out[f"dropped_{key}"] = _count(dropped)
    return out


def summary_text(recs: list[dict]) -> str:
    """One paragraph, computed from the records: how many of each information label, the range of
    their ratios, the median over chapters with its interval, and where reinforcement learning
    needed fewer samples, where the two cannot be told apart (the ratio's 95% interval below 1, or
    containing 1), where the ratio is undecided, and where CE did not reach the target."""
    recs = _records(recs)
    if not recs:
        raise ValueError("recs must not be empty")
    parts = []
    for key, group in _grouped(recs):
        label = "same-information" if key == "same" else "more-information"
        c = _classify(group)
        s = chapter_summary(group, key)
        text = f"{len(group)} {label} record{'s' if len(group) != 1 else ''}: {_range_text(group)}"
        if s["chapters"]:
            n = len(s["chapters"])
            text += (f" (median over {n} chapter{'s' if n != 1 else ''} {_fmt(s['median'])}, 95% CI "
                     f"{_fmt(s['lo'])} to {_fmt(s['hi'])})")
        where = lambda rs: "; ".join(f"{CHAPTER_TITLES.get(r['chapter'], r['chapter'])}, {r['task']}" for r in rs)  # noqa: E731
        if c["rl_wins"]:
            text += f"; reinforcement learning needed fewer samples in {len(c['rl_wins'])} ({where(c['rl_wins'])})"
        if c["ties"]:
            text += f"; the interval includes 1 in {len(c['ties'])} ({where(c['ties'])})"
        if c["undecided"]:
            text += (f"; undecided in {len(c['undecided'])}, where the ratio is only a bound on the wrong side "
                     f"of 1 ({where(c['undecided'])})")
        if c["ce_fails"]:
            text += (f"; certainty equivalence did not reach the target on most seeds in {len(c['ce_fails'])}, "
                     f"whichever family was faster ({where(c['ce_fails'])})")
        parts.append(text)
    return "The scoreboard holds " + ". ".join(parts) + "."


def _middle(text: str, width: int) -> str:
    """``text`` cut to about ``width`` characters by dropping whole words from its middle (a first
    or last word longer than that is kept whole)."""
    words = text.split()
    text = " ".join(words)
    if len(text) <= width:
        return text
    budget = width - 5  # " ... "
    head, tail = [], []
    while words and len(" ".join(head + words[:1])) <= budget // 2 + budget % 2:
        head.append(words.pop(0))
    while words and len(" ".join(words[-1:] + tail)) <= budget - len(" ".join(head)):
        tail.insert(0, words.pop())
    if not head:
        head = [words.pop(0)] if words else []
    return " ".join(head) + " ... " + " ".join(tail) if words else " ".join(head + tail)


def forest_label(rec: dict, number: int, width: int = 56, *, methods: bool = False,
                 information: bool = False) -> str:
    """The label of one record in :func:`plot_forest`: its number (as in :func:`format_markdown`'s
    tables) and chapter, the task and the metric, the last two shortened by dropping whole words
    from the middle (records of one task often differ only at the end of their task or metric).
    ``methods=True`` adds a line naming the two methods the ratio compares, and
    ``information=True`` says on it whether CE was told more."""
    rec = validate_record(rec)
    for name, value, low in (("number", number, 0), ("width", width, 20)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    text = (f"{number}. {CHAPTER_TITLES.get(rec['chapter'], rec['chapter'])}\n{_middle(rec['task'], width)}\n"
            f"{_middle(rec['metric'], width)}")
    if methods or information:
        tag = (" (CE told more)" if rec["information"] == "more" else " (same data)") if information else ""
        text += f"\n{_middle(rec['ratio']['rl'] + ' vs ' + rec['ratio']['ce'], width - len(tag))}{tag}"
    return text


def _forest_labels(recs: list[dict]) -> list[str]:
    """Labels for :func:`plot_forest`, each distinct without its number: a record whose chapter,
    task and metric read like another's also names its two methods, and if that still reads the
    same, whether CE was told more."""
    def clashing(labels):
        return [labels.count(label) > 1 for label in labels]

    methods = clashing([forest_label(r, 0) for r in recs])
    information = clashing([forest_label(r, 0, methods=m) for r, m in zip(recs, methods)])
    return [forest_label(r, i + 1, methods=m, information=inf)
            for i, (r, m, inf) in enumerate(zip(recs, methods, information))]


def plot_forest(recs: list[dict], ax=None):
    """Every record's ratio (RL / CE) on a log axis with its 95% interval, one row per record,
    same-information records first, and the line at 1 marked.

    A ratio that is only a bound on the side of 1 it favours is drawn as an arrow from its value
    (pointing right for a lower bound, left for an upper bound). A bound on the other side of 1 --
    an upper bound above 1 (CE's median run never reached the target) or a lower bound below 1 --
    says nothing about which family is faster (:func:`side`): it is drawn as *undecided*, a hollow
    grey marker at the bound with a dotted line across every value the ratio could take, to the edge
    of the axis. Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    from .plotting import CE_PALETTE, REFERENCE_COLOR, RL_PALETTE

    recs = _records(recs)
    if not recs:
        raise ValueError("recs must not be empty")
    rows = [(key, r) for key, group in _grouped(recs) for r in group]
    labels = _forest_labels([r for _, r in rows])
    if ax is None:  # room for the tallest label on every row
        lines = max(label.count("\n") + 1 for label in labels)
        _, ax = plt.subplots(figsize=(7.0, (0.17 * lines + 0.12) * len(rows) + 1.3))
    colors = {"same": CE_PALETTE[0], "more": RL_PALETTE[1]}
    undecided = []
    for i, (key, r) in enumerate(rows):
        y = len(rows) - 1 - i
        q = r["ratio"]
        c = colors[key]
        if q["bound"] == "none":
            ax.text(1.0, y, " n/a: neither reached", va="center", fontsize=8, color=REFERENCE_COLOR)
            continue
        if side(r) == "undecided":
            undecided.append((y, q))
            continue
        ax.plot([q["lo"], q["hi"]], [y, y], color=c, lw=1.6)
        marker = {"exact": "o", "lower": ">", "upper": "<"}[q["bound"]]
        ax.plot(q["median"], y, marker=marker, color=c, ms=7, ls="none")
        if q["bound"] != "exact":
            direction = 1.0 if q["bound"] == "lower" else -1.0
            ax.annotate("", xy=(q["median"] * 3.0 ** direction, y), xytext=(q["median"], y),
                        arrowprops=dict(arrowstyle="->", color=c, lw=1.4))
    ax.axvline(1.0, color=REFERENCE_COLOR, lw=1.0, ls="--")
    ax.set_xscale("log")
    if undecided:  # across the whole range the ratio may take, up to the axis' edge
        values = [v for _, q in undecided for v in (q["median"], 1.0)]
        left, right = ax.get_xlim() if len(undecided) < len(rows) else (min(values) / 10, max(values) * 10)
        left, right = min(left, min(values) / 3), max(right, max(values) * 3)
        for y, q in undecided:
            edge = left if q["bound"] == "upper" else right
            ax.plot([edge, q["median"]], [y, y], color=REFERENCE_COLOR, lw=1.4, ls=":")
            ax.plot(q["median"], y, marker="<" if q["bound"] == "upper" else ">", ms=7, ls="none",
                    markerfacecolor="white", markeredgecolor=REFERENCE_COLOR)
        ax.set_xlim(left, right)
    ax.set_yticks(range(len(rows)), labels[::-1])
    ax.tick_params(axis="y", labelsize=8)
    n_same = sum(1 for k, _ in rows if k == "same")
    if 0 < n_same < len(rows):
        ax.axhline(len(rows) - n_same - 0.5, color=REFERENCE_COLOR, lw=0.6)
    ax.set_xlabel("RL / CE samples to target (median, 95% CI)")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[k], marker="o", label=("same information" if k == "same" else
                                                                   "more information")) for k in ("same", "more")
               if any(kk == k for kk, _ in rows)]
    decided_bounds = {q["ratio"]["bound"] for _, q in rows if side(q) != "undecided"}
    if "lower" in decided_bounds:
        handles.append(Line2D([], [], color=REFERENCE_COLOR, marker=">", ls="none", label="at least (RL censored)"))
    if "upper" in decided_bounds:
        handles.append(Line2D([], [], color=REFERENCE_COLOR, marker="<", ls="none", label="at most (CE censored)"))
    if undecided:
        handles.append(Line2D([], [], color=REFERENCE_COLOR, ls=":", marker="<", markerfacecolor="white",
                              label="undecided (bound on the wrong side of 1)"))
    ax.legend(handles=handles, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return ax


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that reports user mistakes in one line and exits with code 2."""

    def error(self, message):  # pragma: no cover - exercised through main()
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _seeds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds must be an integer, got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"--seeds must be at least 2, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m ce_lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sb = sub.add_parser("scoreboard", help="print the scoreboard (runs or loads each chapter's headline experiment)")
    sb.add_argument("--chapter", action="append", metavar="NAME",
                    help=f"only this chapter (repeatable); known: {', '.join(CHAPTERS)}")
    sb.add_argument("--json", action="store_true", help="print the records as a JSON list")
    sb.add_argument("--seeds", type=_seeds, default=None, metavar="N",
                    help="seeds per experiment (default: each chapter's own, as in the book)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m ce_lib``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "scoreboard":
        parser.print_help(sys.stderr)
        return 2
    unknown = [c for c in (args.chapter or []) if c not in CHAPTERS]
    if unknown:
        print(f"python -m ce_lib scoreboard: error: unknown chapter {', '.join(map(repr, unknown))}; "
              f"known chapters: {', '.join(CHAPTERS)}", file=sys.stderr)
        return 2
    try:
        recs = records(args.chapter, n_seeds=args.seeds)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(recs, indent=2))
    else:
        print(format_table(recs), end="")
    return 0


if __name__ == "__main__":  # python -m ce_lib.scoreboard [--json ...] is python -m ce_lib scoreboard [...]
    sys.exit(main(["scoreboard", *sys.argv[1:]]))
