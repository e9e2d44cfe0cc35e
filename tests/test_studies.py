"""The one registry of chapters (ce_lib.studies.CHAPTERS) against every place a chapter must be:
its file, the table of contents, its study with a headline function, the scoreboard and the README."""
import ast
import importlib
import re
from pathlib import Path

import pytest

from ce_lib import scoreboard
from ce_lib.studies import CHAPTERS, chapter, headline_function

ROOT = Path(__file__).resolve().parents[1]
NUMBERED = sorted(p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.md"))


def test_the_registry_lists_every_chapter_with_results_in_reading_order():
    files = [c.file for c in CHAPTERS]
    # the introduction (00) and the scoreboard (99) report no results of their own
    assert files == [f for f in NUMBERED if not f.startswith(("00_", "99_"))]
    assert [c.number for c in CHAPTERS] == [int(f[:2]) for f in files]
    assert len({c.key for c in CHAPTERS}) == len(CHAPTERS)


def test_every_chapter_is_in_the_table_of_contents_and_the_readme():
    toc = (ROOT / "_toc.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    for c in CHAPTERS:
        assert f"file: chapters/{c.file}\n" in toc, f"{c.file} is missing from _toc.yml"
        assert re.search(rf"^\| {c.number} \| ", readme, flags=re.M), f"chapter {c.number} is missing from the README's table"


def test_every_study_is_named_after_its_chapter_and_has_a_headline():
    for c in CHAPTERS:
        assert c.file.split("_", 1)[1] == c.study, f"{c.key}: study {c.study!r} is not named after {c.file}"
        module = importlib.import_module(f"ce_lib.studies.{c.study}")
        assert callable(headline_function(c.key)) and headline_function(c.key) is module.headline
        text = (ROOT / "chapters" / f"{c.file}.md").read_text()
        assert f"from ce_lib.studies import {c.study} as study" in text, f"{c.file} does not use its study"


def test_the_scoreboard_reads_the_registry():
    assert list(scoreboard.CHAPTERS) == [c.key for c in CHAPTERS]
    assert scoreboard.CHAPTER_TITLES == {c.key: c.title for c in CHAPTERS}
    assert scoreboard.CHAPTER_FILES == {c.key: c.file for c in CHAPTERS}


def test_chapter_names_the_key_when_unknown():
    assert chapter("lqr").file == "05_lqr"
    with pytest.raises(ValueError, match="key must be one of"):
        chapter("LQR")


def test_the_library_never_imports_a_study():
    """Studies import the library, never the other way round (the registry itself excepted)."""
    for path in (ROOT / "ce_lib").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                names = [a.name for a in node.names]
                bad = target.startswith((".studies.", "ce_lib.studies.")) or (
                    target in (".studies", "ce_lib.studies") and set(names) - {"CHAPTERS"})
                assert not bad, f"{path.name} imports a study: from {target} import {names}"


def test_a_study_imports_another_only_in_reading_order():
    order = {c.study: c.number for c in CHAPTERS}
    for c in CHAPTERS:
        tree = ast.parse((ROOT / "ce_lib" / "studies" / f"{c.study}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                others = [node.module] if node.module else [a.name for a in node.names]
                for other in others:
                    assert order[other] < c.number, f"{c.study} imports the later study {other}"


def test_every_study_keeps_its_settings_in_one_frozen_dataclass():
    import dataclasses

    for c in CHAPTERS:
        module = importlib.import_module(f"ce_lib.studies.{c.study}")
        assert dataclasses.is_dataclass(module.Settings) and module.Settings.__dataclass_params__.frozen, c.study
        assert isinstance(module.SETTINGS, module.Settings) and repr(module.SETTINGS) == repr(module.Settings()), c.study
        with pytest.raises(dataclasses.FrozenInstanceError):
            module.SETTINGS.__setattr__(dataclasses.fields(module.Settings)[0].name, None)
        source = (ROOT / "ce_lib" / "studies" / f"{c.study}.py").read_text()
        block = source[source.index("class Settings"):source.index("SETTINGS = Settings()")]
        for f in dataclasses.fields(module.Settings):  # every field is explained where it is defined
            line = next(ln for ln in block.splitlines() if ln.strip().startswith(f"{f.name}:"))
            before = block.splitlines()[block.splitlines().index(line) - 1].strip()
            assert "#" in line or before.startswith("#"), f"{c.study}.Settings.{f.name} has no comment"


def test_the_protocol_constants_are_defined_once():
    from ce_lib import experiments

    assert experiments.HOLD == 1.25
    assert experiments.reported_seeds(3) == (0, 1, 2) and experiments.tuning_seeds(2) == (1000, 1001)
    for c in CHAPTERS:
        source = (ROOT / "ce_lib" / "studies" / f"{c.study}.py").read_text()
        assert not re.search(r"^HOLD\s*=", source, flags=re.M), f"{c.study} defines its own hold factor"
        assert "1000, 1001" not in source and "tuple(range(10))" not in source, f"{c.study} spells out seeds"
