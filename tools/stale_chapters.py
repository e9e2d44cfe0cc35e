"""Before a build: make the book re-execute exactly the chapters whose code changed.

The execution cache of the book (jupyter-cache, under ``_build/.jupyter_cache``) keys a chapter on
its own code cells only; it cannot see ``ce_lib``. This script gives each chapter a fingerprint of
the ``ce_lib`` code it runs -- the modules its cells import and everything those import, as
:func:`ce_lib.experiments.module_dependencies` finds them -- and compares it with the fingerprint
recorded at the previous check (``_build/.chapter_code.json``). A chapter whose code changed loses
its execution-cache entry (so it executes again) and is touched (so Sphinx reads it again); the
others keep theirs. What the chapters compute is cached separately, keyed on the same dependencies
(:func:`ce_lib.experiments.cached`), so a re-executed chapter recomputes only what its change
touched: editing ``ce_lib/plotting.py`` redraws figures without rerunning an experiment.

Usage: ``python tools/stale_chapters.py [--build _build] [--dry-run]``; prints what it invalidated.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ce_lib  # noqa: E402,F401  (first: pins the arithmetic, as in every chapter)
from ce_lib.experiments import _module_file, code_fingerprint, module_dependencies  # noqa: E402

IMPORT = re.compile(r"^\s*(?:from\s+(ce_lib(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n#]+)|import\s+(ce_lib(?:\.\w+)*))",
                    flags=re.M)


def chapter_modules(text: str) -> set[str]:
    """The ce_lib modules a chapter's text imports (in code cells; the prose has no import lines).

    A chapter that calls ``scoreboard.records`` runs every chapter's study (the scoreboard loads
    them by name from the registry): it counts as importing them all."""
    found = set()
    for frm, names, plain in IMPORT.findall(text):
        if plain:
            found.add(plain)
            continue
        names = [item.strip().split(" as ")[0].strip() for item in names.strip("()").replace("\n", " ").split(",")]
        submodules = {f"{frm}.{n}" for n in names if n and _module_file(f"{frm}.{n}") is not None}
        found |= submodules
        if len(submodules) < len([n for n in names if n]):
            found.add(frm)
    if re.search(r"\bscoreboard\.records\(", text):  # it runs every chapter's study, by name
        from ce_lib.studies import CHAPTERS

        found |= {f"ce_lib.studies.{c.study}" for c in CHAPTERS}
    return {m for m in found if _module_file(m) is not None}


def chapter_fingerprints(chapters: list[Path]) -> dict[str, str]:
    """Chapter file name -> fingerprint of the ce_lib code it runs."""
    out = {}
    for md in chapters:
        modules = set()
        for m in chapter_modules(md.read_text()):
            modules |= set(module_dependencies(m))
        out[md.name] = code_fingerprint(modules)
    return out


def invalidate(build: Path, names: list[str], dry_run: bool = False) -> list[str]:
    """Remove the execution-cache entries of the chapters ``names`` and touch their files."""
    folder = build / ".jupyter_cache"
    if not names or not folder.is_dir():
        return []
    removed = []
    if not dry_run:
        from jupyter_cache import get_cache

        cache = get_cache(str(folder))
        for record in cache.list_cache_records():
            if any(record.uri.replace(os.sep, "/").endswith(f"/chapters/{n}") for n in names):
                cache.remove_cache(record.pk)
                removed.append(Path(record.uri).name)
        for n in names:
            (ROOT / "chapters" / n).touch()
    return removed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/stale_chapters.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(ROOT / "_build"), help="the build folder (default: _build)")
    parser.add_argument("--dry-run", action="store_true", help="say what changed, invalidate nothing")
    args = parser.parse_args(argv)
    build = Path(args.build)
    chapters = sorted((ROOT / "chapters").glob("*.md"))
    now = chapter_fingerprints(chapters)
    record = build / ".chapter_code.json"
    before = json.loads(record.read_text()) if record.is_file() else {}
    stale = [n for n in now if before.get(n) != now[n]]
    if not (build / ".jupyter_cache").is_dir():
        print("stale_chapters: no execution cache yet: every chapter executes")
    elif stale:
        invalidate(build, stale, args.dry_run)
        print(f"stale_chapters: ce_lib code changed for {len(stale)} of {len(now)} pages, which execute again: "
              + ", ".join(stale))
    else:
        print("stale_chapters: no chapter's ce_lib code changed")
    if not args.dry_run:
        build.mkdir(parents=True, exist_ok=True)
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps(now, indent=1, sort_keys=True))
        tmp.replace(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
