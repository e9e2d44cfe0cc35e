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

__all__ = ["BOUNDS", "CHAPTERS", "CHAPTER_FILES", "CHAPTER_TITLES", "GROUP_TITLES", "best_method", "format_markdown", "format_table",
           "format_tuning_markdown", "main", "plot_forest", "ratio_phrase", "ratio_text", "records", "summary_numbers",
           "summary_text",
           "validate_record", "verdict"]

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
    r = rec["ratio"]
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
    out = []
    indent = " " * 4

    def wrap(text, first=indent, rest=indent + "  "):
        return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest)

    for key, group in _grouped(recs):
        out += [GROUP_TITLES[key], "=" * min(width, len(GROUP_TITLES[key]))]
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


def format_markdown(recs: list[dict], *, links: bool = False, numbered: bool = False) -> str:
    """Markdown tables of records (the book's scoreboard page): one table per information label,
    same-information first, four columns narrow enough for a book's text column.

    The first column stacks the chapter, the task, the metric and (more information) what CE is
    given; the next two give each family's best method with its median [95% CI] and success rate,
    the last the ratio. With ``links=True`` the chapter names link to the chapters' files
    (:data:`CHAPTER_FILES`, relative to the book's ``chapters/`` folder); with ``numbered=True``
    the records are numbered in the order :func:`plot_forest` draws them.
    """
    for name, flag in (("links", links), ("numbered", numbered)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    blocks, n = [], 0
    for key, group in _grouped(recs):
        lines = [f"**{GROUP_TITLES[key]}**", "", "| record | best CE | best RL | RL / CE |", "|---|---|---|---|"]
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
            cells = ["<br>".join(about), _md(_method_text(_method(r, "ce"))), _md(_method_text(_method(r, "rl"))),
                     _md(ratio_text(r))]
            lines.append("| " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_tuning_markdown(recs: list[dict]) -> str:
    """One Markdown table per chapter: every method of its records and how its settings were chosen."""
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
    return f"ratios from {_fmt(meds[0])} to {_fmt(meds[-1])} (median {_fmt(statistics.median(meds))})"


def _classify(group: list[dict]) -> dict:
    """Split records by what their ratio's 95% interval says (shared by the summaries)."""
    return {
        "rl_wins": [r for r in group if r["ratio"]["bound"] in ("exact", "upper") and r["ratio"]["hi"] < 1],
        "ties": [r for r in group if r["ratio"]["bound"] != "none" and r["ratio"]["lo"] <= 1 <= r["ratio"]["hi"]],
        "ce_fails": [r for r in group if r["ratio"]["bound"] == "upper" and r["ratio"]["lo"] > 1],
    }


def _count(n: int) -> str:
    words = ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if n < len(words) else f"{n:,}"


def summary_numbers(recs: list[dict]) -> dict[str, str]:
    """Short phrases that state the book's answer, computed from the records (the introduction
    quotes them): for each information label ``same`` and ``more``, ``n_<label>`` (how many
    records), ``lo_<label>``, ``hi_<label>`` and ``median_<label>`` (the range and median of the
    median ratios RL / CE), and, as words ("none", "one", ...), how many records RL won
    (``rl_wins_<label>``: the interval lies below 1), tied (``ties_<label>``: it contains 1), or
    where CE did not reach the target on most seeds (``ce_fails_<label>``).
    """
    recs = [validate_record(r) for r in recs]
    if not recs:
        raise ValueError("recs must not be empty")
    out = {}
    for key in ("same", "more"):
        group = [r for r in recs if r["information"] == key]
        meds = sorted(r["ratio"]["median"] for r in group if r["ratio"]["bound"] != "none")
        out[f"n_{key}"] = str(len(group))
        out[f"lo_{key}"] = _fmt(meds[0]) if meds else "n/a"
        out[f"hi_{key}"] = _fmt(meds[-1]) if meds else "n/a"
        out[f"median_{key}"] = _fmt(statistics.median(meds)) if meds else "n/a"
        for what, group_of in _classify(group).items():
            out[f"{what}_{key}"] = _count(len(group_of))
    return out


def summary_text(recs: list[dict]) -> str:
    """One paragraph, computed from the records: how many of each information label, the range of
    their ratios, and where reinforcement learning needed fewer samples or the two cannot be told
    apart (the ratio's 95% interval below 1, or containing 1)."""
    recs = [validate_record(r) for r in recs]
    if not recs:
        raise ValueError("recs must not be empty")
    parts = []
    for key, group in _grouped(recs):
        label = "same-information" if key == "same" else "more-information"
        c = _classify(group)
        rl_wins, ties, ce_fails = c["rl_wins"], c["ties"], c["ce_fails"]
        text = f"{len(group)} {label} record{'s' if len(group) != 1 else ''}: {_range_text(group)}"
        where = lambda rs: "; ".join(f"{CHAPTER_TITLES.get(r['chapter'], r['chapter'])}, {r['task']}" for r in rs)  # noqa: E731
        if rl_wins:
            text += f"; reinforcement learning needed fewer samples in {len(rl_wins)} ({where(rl_wins)})"
        if ce_fails:
            text += (f"; certainty equivalence did not reach the target on most seeds in {len(ce_fails)} "
                     f"({where(ce_fails)})")
        if ties:
            text += f"; the interval includes 1 in {len(ties)} ({where(ties)})"
        parts.append(text)
    return "The scoreboard holds " + ". ".join(parts) + "."


def _middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters by dropping its middle."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    head = (width - 3) // 2
    return text[:head].rstrip() + "..." + text[-(width - 3 - head):].lstrip()


def plot_forest(recs: list[dict], ax=None):
    """Every record's ratio (RL / CE) on a log axis with its 95% interval, one row per record,
    same-information records first; a ratio that is only a lower (upper) bound is drawn as an
    arrow pointing right (left) from its value, and the line at 1 is marked.

    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    from .plotting import CE_PALETTE, REFERENCE_COLOR, RL_PALETTE

    recs = [validate_record(r) for r in recs]
    if not recs:
        raise ValueError("recs must not be empty")
    rows = [(key, r) for key, group in _grouped(recs) for r in group]
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.56 * len(rows) + 1.3))
    colors = {"same": CE_PALETTE[0], "more": RL_PALETTE[1]}
    labels = []
    for i, (key, r) in enumerate(rows):
        y = len(rows) - 1 - i
        q = r["ratio"]
        c = colors[key]
        # three lines per record, numbered as in format_markdown's tables: the chapter, the task and
        # the metric, the last two shortened in the middle (records of one task often differ only
        # at the end of their task or metric)
        labels.append(f"{i + 1}. {CHAPTER_TITLES.get(r['chapter'], r['chapter'])}\n{_middle(r['task'], 56)}\n"
                      f"{_middle(r['metric'], 56)}")
        if q["bound"] == "none":
            ax.text(1.0, y, " n/a: neither reached", va="center", fontsize=8, color=REFERENCE_COLOR)
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
    bounds = {q["ratio"]["bound"] for _, q in rows}
    if "lower" in bounds:
        handles.append(Line2D([], [], color=REFERENCE_COLOR, marker=">", ls="none", label="at least (RL censored)"))
    if "upper" in bounds:
        handles.append(Line2D([], [], color=REFERENCE_COLOR, marker="<", ls="none", label="at most (CE censored)"))
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
