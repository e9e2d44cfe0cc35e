"""Write the .ipynb twin of every chapter, for Colab and Binder, as plain Jupyter notebooks.

A chapter is a MyST Markdown notebook; its prose uses MyST roles and directives (glued numbers,
citations, algorithms, exercises) that only the book's engine renders. The twin keeps every code
cell as it is and rewrites the prose as plain Markdown that Jupyter, Colab and Binder render:

- ``{glue:text}`key``` becomes the value the book's build glued (read from the build's
  ``_build/jupyter_execute/chapters/*.glue.json``; the build is reproducible, so the reader's own
  run prints the same numbers);
- ``{cite}`key``` becomes "(Author, year)", and a References cell lists the works cited;
- ``{ref}`` becomes the title it points to, ``{py:func}`` and friends become code;
- algorithm, theorem, exercise and solution directives become bold headings, with dropdown
  solutions as ``<details>`` blocks; target labels are dropped;
- ``{literalinclude}`` (library source shown as written) becomes a Python code block with the same
  lines, read by Sphinx's own reader, under the file's name and line numbers.

Usage: ``python tools/make_notebooks.py`` (or ``make notebooks``) after ``make book``.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import unicodedata
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
GLUE_DIR = ROOT / "_build" / "jupyter_execute" / "chapters"

ROLE = re.compile(r"\{([a-z]+(?::[a-z]+)?)\}`([^`]*)`")
FENCE = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)$")
LABEL_LINE = re.compile(r"^\([\w-]+\)=\s*$")
#: Glue keys whose values are measured on the machine that builds: wall-clock times (``rob_time``,
#: ``rs_pre_sec``) and whether a stored run came back bit for bit there (``dt_rerun_verdict``: a processor
#: that rounds differently says so). They differ from one build to the next, so a twin carries the last
#: build's and the tests let them differ.
MEASURED = re.compile(r"(^|_)(sec|time|rerun)(_|$)")
#: What the plain-Markdown twin must not contain: a MyST role, a directive fence, a target label.
MYST_LEFTOVER = re.compile(r"\{[a-z]+(?::[a-z]+)?\}`|^(`{3,}|:{3,})\{|^\([\w-]+\)=\s*$", flags=re.M)

_ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "c": "\u0327", "v": "\u030c"}


def _latex_to_text(text: str) -> str:
    """Plain text of a BibTeX field: accents composed, braces and ``--`` resolved."""
    def accent(m):
        return unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)])
    text = re.sub(r"\{?\\([`'\"^~cv])\{?\\?([A-Za-z])\}?\}?", accent, text)
    text = text.replace("--", "\u2013").replace("~", " ")
    return re.sub(r"\s+", " ", text.replace("{", "").replace("}", "")).strip()


def read_bib(path: Path) -> dict[str, dict[str, str]]:
    """Entries of a BibTeX file as ``{key: {field: plain text}}`` (enough for author-year text)."""
    entries = {}
    text = path.read_text()
    for m in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        start, depth, i = m.end(), 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body, fields = text[start:i - 1], {"type": m.group(1).lower()}
        for f in re.finditer(r"(\w+)\s*=\s*", body):
            j = f.end()
            if body[j] == "{":
                depth, k = 1, j + 1
                while depth:
                    depth += {"{": 1, "}": -1}.get(body[k], 0)
                    k += 1
                value = body[j + 1:k - 1]
            else:
                value = re.match(r"[^,\n]*", body[j:]).group(0).strip().strip('"')
            fields.setdefault(f.group(1).lower(), _latex_to_text(value))
        entries[m.group(2)] = fields
    return entries


def _surnames(authors: str) -> list[str]:
    names = [a.strip() for a in authors.split(" and ") if a.strip()]
    return [n.split(",")[0].strip() if "," in n else n.split()[-1] for n in names]


def author_year(entry: dict[str, str]) -> str:
    """"Sutton and Barto, 2018", "Mania et al., 2018" (the book's author-year citations)."""
    names = _surnames(entry.get("author", entry.get("editor", "Anonymous")))
    who = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al."
    return f"{who}, {entry.get('year', 'n.d.')}"


def reference_line(key: str, entry: dict[str, str]) -> str:
    where = entry.get("journal") or entry.get("booktitle") or entry.get("publisher") or entry.get("howpublished", "")
    authors = "; ".join(a.strip() for a in entry.get("author", "Anonymous").split(" and "))
    parts = [f"{authors} ({entry.get('year', 'n.d.')}).", f"*{entry.get('title', key)}*."]
    if where:
        parts.append(f"{where}.")
    return "- " + " ".join(parts)


def chapter_titles(chapters: Path) -> dict[str, str]:
    """Target label -> the title of the heading it marks, over every chapter."""
    titles = {}
    for md in chapters.glob("*.md"):
        lines = md.read_text().splitlines()
        for i, line in enumerate(lines):
            if LABEL_LINE.match(line):
                heading = next((ln for ln in lines[i + 1:] if ln.strip()), "")
                titles[line.strip()[1:-2]] = heading.lstrip("#").strip()
    return titles


class Converter:
    """Rewrites one chapter's Markdown cells as plain Markdown (see the module docstring)."""

    def __init__(self, stem: str, glue_value, bib: dict, titles: dict):
        self.stem, self.glue_value, self.bib, self.titles = stem, glue_value, bib, titles
        self.cited: list[str] = []
        self.exercises: dict[str, int] = {}

    def role(self, m: re.Match) -> str:
        name, content = m.group(1), m.group(2)
        if name == "glue:text":
            return self.glue_value(content)
        if name == "cite":
            keys = [k.strip() for k in content.split(",")]
            for k in keys:
                if k not in self.bib:
                    raise KeyError(f"{self.stem}: citation {k!r} is not in references.bib")
                if k not in self.cited:
                    self.cited.append(k)
            return "(" + "; ".join(author_year(self.bib[k]) for k in keys) + ")"
        if name == "ref":
            text = re.match(r"^(.*?)\s*<([^>]+)>$", content)
            if text:
                return text.group(1)
            if content in self.exercises:
                return f"exercise {self.exercises[content]}"
            return self.titles.get(content, "the API reference" if content == "api-reference" else content)
        if name.startswith("py:"):
            return f"`{content.lstrip('~')}`"
        raise ValueError(f"{self.stem}: no plain-Markdown form for the role {{{name}}}")

    def inline(self, text: str) -> str:
        return ROLE.sub(self.role, text)

    def directive(self, name: str, arg: str, options: dict, body: str) -> str:
        body = self.markdown(body).strip()
        if name in ("prf:algorithm", "prf:theorem", "prf:definition", "prf:lemma"):
            kind = name.split(":")[1].capitalize()
            head = f"**{kind}: {self.inline(arg)}.**" if arg else f"**{kind}.**"
            return f"{head}\n\n{body}"
        if name == "exercise":
            n = len(self.exercises) + 1
            self.exercises[options.get("label", f"exercise-{n}")] = n
            head = f"**Exercise {n}.**" + (f" *{self.inline(arg)}*" if arg else "")
            return f"{head}\n\n{body}"
        if name in ("solution", "solution-start"):
            n = self.exercises.get(arg.strip())
            title = f"Solution to exercise {n}" if n else "Solution"
            if name == "solution-start":
                return f"**{title}** (it runs to the end of the solution below)."
            if options.get("class") == "dropdown":
                return f"<details>\n<summary>{title}</summary>\n\n{body}\n\n</details>"
            return f"**{title}.**\n\n{body}"
        if name == "solution-end":
            return "*End of the solution.*"
        if name == "literalinclude":
            return self.include(arg, options)
        if name in ("note", "tip", "important", "warning", "admonition"):
            return "\n".join(f"> {ln}" if ln else ">" for ln in (f"**{arg or name.capitalize()}.**\n\n" + body).split("\n"))
        raise ValueError(f"{self.stem}: no plain-Markdown form for the directive {{{name}}}")

    def include(self, arg: str, options: dict) -> str:
        """The lines a ``{literalinclude}`` shows, as the book shows them (Sphinx's reader)."""
        from sphinx.config import Config
        from sphinx.directives.code import LiteralInclude, LiteralIncludeReader

        path = (ROOT / "chapters" / arg).resolve()
        if not path.is_file():
            raise ValueError(f"{self.stem}: literalinclude of a missing file {arg!r}")
        flags = {k: LiteralInclude.option_spec[k](v or None) for k, v in options.items()}  # as the directive reads them
        reader = LiteralIncludeReader(str(path), flags, Config({}, {}))
        text, count = reader.read()
        first = reader.lineno_start
        where = f"`{path.relative_to(ROOT).as_posix()}`, lines {first}-{first + count - 1}"
        return f"{where}:\n\n```python\n{text.rstrip()}\n```"

    def markdown(self, text: str) -> str:
        lines, out, i = text.split("\n"), [], 0
        while i < len(lines):
            line = lines[i]
            m = FENCE.match(line)
            if LABEL_LINE.match(line):
                i += 1
                continue
            if not m:
                out.append(self.inline(line))
                i += 1
                continue
            fence, name, arg = m.group(1), m.group(2), m.group(3).strip()
            j, options = i + 1, {}
            while j < len(lines) and re.match(r"^:[\w-]+:", lines[j]):
                key, _, value = lines[j][1:].partition(":")
                options[key.strip()] = value.strip()
                j += 1
            k = j
            while k < len(lines) and lines[k].strip() != fence:
                k += 1
            if k == len(lines):
                raise ValueError(f"{self.stem}: the directive {{{name}}} opened by {fence} is never closed")
            out.append(self.directive(name, arg, options, "\n".join(lines[j:k])))
            i = k + 1
        return "\n".join(out)

    def references(self) -> str:
        lines = ["## References", ""] + [reference_line(k, self.bib[k]) for k in self.cited]
        return "\n".join(lines)


def load_glue(stem: str, folder: Path | None = None) -> dict:
    path = (folder or GLUE_DIR) / f"{stem}.glue.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: build the book first (make book)")
    return json.loads(path.read_text())


def built_glue(stem: str, folder: Path | None = None):
    """``key -> text`` of the values the book's build glued for chapter ``stem`` (``doc::key``
    reads another chapter's)."""
    cache: dict[str, dict] = {}

    def value(key: str) -> str:
        doc, _, name = key.rpartition("::")  # [doc::]name[:format], as myst-nb reads it
        name, _, fmt = name.partition(":")
        doc = Path(doc).stem if doc else stem
        values = cache.setdefault(doc, load_glue(doc, folder))
        if name not in values:
            raise KeyError(f"{stem}: glued value {key!r} not found: build the book first (make book)")
        text = values[name]["data"].get("text/plain", "")
        try:
            text = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            pass
        return format(text, fmt) if fmt not in ("", "s") else str(text)

    return value


def twin(md: Path, glue_value=None):
    """The plain-Jupyter notebook of one chapter: code cells untouched, prose converted, glued
    values from ``glue_value(key)`` (by default, what the book's build glued)."""
    nb = jupytext.read(md)
    conv = Converter(md.stem, glue_value or built_glue(md.stem), read_bib(ROOT / "references.bib"),
                     chapter_titles(md.parent))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = conv.markdown(cell.source).strip("\n")
    if conv.cited:
        nb.cells.append(nbformat.v4.new_markdown_cell(conv.references()))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # stable ids: regenerating changes nothing
    return nb


def main(argv: list[str]) -> int:
    chapters = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))
    try:
        twins = [(md, twin(md)) for md in chapters]
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"make_notebooks: {exc}", file=sys.stderr)
        return 1
    for md, nb in twins:
        jupytext.write(nb, md.with_suffix(".ipynb"))
        print(f"wrote {md.with_suffix('.ipynb').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
