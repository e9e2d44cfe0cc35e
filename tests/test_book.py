"""The book as an integration test: every chapter executes in a strict build, the rendered pages
carry their figures, glued numbers and typeset math, and the scoreboard reads what they cached."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def _toc_pages(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _notebooks(root: Path) -> list[str]:
    return [p for p in _toc_pages(root) if "kernelspec:" in (root / f"{p}.md").read_text()[:400]]


@pytest.fixture(scope="session")
def built_book(root, python):
    """Build the whole book strictly: warnings are errors, references are checked (-n)."""
    jb = Path(python).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(root), "--all", "-W", "-n", "--keep-going"]
    env = dict(os.environ)
    env.setdefault("CE_LIB_CACHE", str(root / "_build" / "ce_cache"))
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=3600)
    log = proc.stdout + proc.stderr
    (root / "_build").mkdir(exist_ok=True)
    (root / "_build" / "strict-build.log").write_text(log)
    return proc.returncode, log, root / "_build" / "html"


def test_strict_build_succeeds(built_book):
    code, log, _ = built_book
    tail = "\n".join(log.splitlines()[-60:])
    assert code == 0, f"jupyter-book build failed (see _build/strict-build.log):\n{tail}"


def test_every_chapter_rendered_without_errors(built_book, root):
    _, _, html = built_book
    for page in _toc_pages(root):
        path = html / f"{page}.html"
        assert path.is_file(), f"{page} was not rendered"
        text = path.read_text()
        assert "Traceback (most recent call last)" not in text, f"{page} shows a traceback"


def test_glued_numbers_were_filled_in(built_book, root):
    _, _, html = built_book
    text = (html / "chapters" / "01_dfo.html").read_text()
    assert "glue:text" not in text and "{glue" not in text
    # the overview states the measured ratio: a number followed by the CI
    assert re.search(r"a ratio of\s*(<[^>]+>\s*)*[\d,]+", text), "the overview's ratio is missing"


def test_dfo_chapter_has_its_figures(built_book):
    _, _, html = built_book
    text = (html / "chapters" / "01_dfo.html").read_text()
    assert len(re.findall(r"<img[^>]+\.png", text)) >= 3


def test_ppo_chapter_has_its_figures_and_numbers(built_book):
    _, _, html = built_book
    text = (html / "chapters" / "07_ppo.html").read_text()
    assert len(re.findall(r"<img[^>]+\.png", text)) >= 4  # clipping, ablations, CartPole, Pendulum
    assert "glue:text" not in text and "{glue" not in text
    assert re.search(r"PPO needs\s*(<[^>]+>\s*)*[\d,]+", text), "the overview's PPO count is missing"


def test_scoreboard_cli_reads_the_cache_and_the_ratio_excludes_one(built_book, root, python):
    env = dict(os.environ)
    env.setdefault("CE_LIB_CACHE", str(root / "_build" / "ce_cache"))
    out = subprocess.run([python, "-m", "ce_lib", "scoreboard", "--json", "--chapter", "dfo"],
                         capture_output=True, text=True, env=env, cwd=root, timeout=600)
    assert out.returncode == 0, out.stderr
    from ce_lib.scoreboard import validate_record
    recs = json.loads(out.stdout)
    assert recs and all(validate_record(r) for r in recs)
    dfo = recs[0]
    assert dfo["n_seeds"] >= 20
    assert dfo["ratio"]["lo"] > 1, "the DFO ratio's interval should exclude 1"


# ---- the reader's check: open a rendered page in headless Chromium ---------------------------

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--virtual-time-budget=15000"]


def test_reader_sees_typeset_math_and_figures(built_book, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    _, _, html = built_book
    page = (html / "chapters" / "01_dfo.html").resolve()
    profile = tmp_path / "profile"
    dom = subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180).stdout
    assert "<mjx-container" in dom, "MathJax did not typeset the math"
    assert "<mjx-merror" not in dom, "MathJax reported an error in a formula"
    assert len(re.findall(r"<img[^>]+\.png", dom)) >= 3
    shot = html.parent / "screenshots" / "01_dfo.png"
    shot.parent.mkdir(exist_ok=True)
    subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2400",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=180)
    assert shot.is_file() and shot.stat().st_size > 20_000


def test_math_is_served_by_the_book_itself(built_book, root):
    _, _, html = built_book
    text = (html / "chapters" / "01_dfo.html").read_text()
    if not (root / "_static" / "mathjax" / "tex-chtml-full.js").is_file():
        pytest.skip("MathJax was not unpacked (npm missing): the book falls back to a CDN")
    assert "_static/mathjax/tex-chtml-full.js" in text
    assert "cdn.jsdelivr" not in text
