"""The book's scoreboard: every chapter's headline comparison in one table.

Each chapter registers a function in :data:`CHAPTERS` that runs (or reads from the cache of
:func:`ce_lib.experiments.cached`) its headline experiment and returns records in the format of
the book's conventions::

    {"chapter": "dfo", "task": "...", "metric": "...", "target": 0.01, "n_seeds": 20,
     "methods": [{"name": "...", "family": "ce" | "rl",
                  "samples_to_target": {"median": .., "lo": .., "hi": ..}, "success_rate": ..}, ...],
     "ratio": {"median": .., "lo": .., "hi": ..}}

``ratio`` is (best RL samples to target) / (best CE samples to target) with a bootstrap interval
over seeds. Command line: ``python -m ce_lib scoreboard [--chapter NAME] [--json] [--seeds N]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from typing import Iterable

__all__ = ["CHAPTERS", "format_markdown", "format_table", "main", "records", "validate_record"]

#: Chapter name -> "module:function" returning that chapter's records; imported only when asked.
CHAPTERS = {
    "dfo": "ce_lib.dfo:headline",
    "bandits": "ce_lib.bandits:headline",
    "contextual": "ce_lib.contextual:headline",
    "mdp": "ce_lib.mdp:headline",
    "lqr": "ce_lib.lqr:headline",
    "ppo": "ce_lib.ppo:headline",
    "dt": "ce_lib.dt:headline",
}


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
        book uses (20, or 10 for the decision-transformer sweep), so the results come from the
        cache the chapters filled; another number recomputes.

    Returns
    -------
    list of dict
        Validated records (see :func:`validate_record`).
    """
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
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
        raise ValueError(f"{where} must hold finite numbers, got {obj!r}")
    if positive and min(vals) <= 0:
        raise ValueError(f"{where} must be positive, got {obj!r}")
    if not obj["lo"] <= obj["median"] <= obj["hi"]:
        raise ValueError(f"{where} must satisfy lo <= median <= hi, got {obj!r}")


def validate_record(rec: dict) -> dict:
    """Check one scoreboard record against the format; return it or raise ``ValueError``."""
    if not isinstance(rec, dict):
        raise ValueError(f"record must be a dict, got {type(rec).__name__}")
    required = {"chapter": str, "task": str, "metric": str, "target": (int, float), "n_seeds": int,
                "methods": list, "ratio": dict}
    for key, kind in required.items():
        if key not in rec:
            raise ValueError(f"record is missing {key!r}")
        if not isinstance(rec[key], kind) or isinstance(rec[key], bool):
            raise ValueError(f"record[{key!r}] has the wrong type: {type(rec[key]).__name__}")
    if rec["n_seeds"] < 1:
        raise ValueError("record['n_seeds'] must be at least 1")
    families = set()
    for i, m in enumerate(rec["methods"]):
        where = f"record['methods'][{i}]"
        if not isinstance(m, dict) or set(m) != {"name", "family", "samples_to_target", "success_rate"}:
            raise ValueError(f"{where} must have exactly name, family, samples_to_target, success_rate")
        if m["family"] not in ("ce", "rl"):
            raise ValueError(f"{where}['family'] must be 'ce' or 'rl', got {m['family']!r}")
        families.add(m["family"])
        _check_interval(m["samples_to_target"], f"{where}['samples_to_target']")
        if not (isinstance(m["success_rate"], (int, float)) and 0.0 <= m["success_rate"] <= 1.0):
            raise ValueError(f"{where}['success_rate'] must be in [0, 1], got {m['success_rate']!r}")
    if families != {"ce", "rl"}:
        raise ValueError("record['methods'] must include at least one 'ce' and one 'rl' method")
    _check_interval(rec["ratio"], "record['ratio']")
    return rec


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _interval(iv: dict) -> str:
    return f"{_fmt(iv['median'])} [{_fmt(iv['lo'])}, {_fmt(iv['hi'])}]"


def _best(rec: dict, family: str) -> dict:
    ms = [m for m in rec["methods"] if m["family"] == family]
    return min(ms, key=lambda m: (m["samples_to_target"]["median"], -m["success_rate"]))


def _rows(recs: list[dict]) -> list[list[str]]:
    rows = []
    for r in recs:
        ce, rl = _best(r, "ce"), _best(r, "rl")
        rows.append([r["chapter"], r["task"], r["metric"],
                     f"{ce['name']}: {_interval(ce['samples_to_target'])}",
                     f"{rl['name']}: {_interval(rl['samples_to_target'])}"
                     + ("" if rl["success_rate"] == 1 else f" ({rl['success_rate']:.0%} reached)"),
                     _interval(r["ratio"]), str(r["n_seeds"])])
    return rows


HEADER = ["chapter", "task", "metric", "best CE (median [95% CI])", "best RL (median [95% CI])",
          "RL / CE", "seeds"]


def format_table(recs: list[dict]) -> str:
    """Plain-text table of records, one line per record."""
    rows = [HEADER] + _rows(recs)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_markdown(recs: list[dict]) -> str:
    """Markdown table of records (used by the book's scoreboard page)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(recs)]
    return "\n".join(lines)


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
        print(format_table(recs))
    return 0
