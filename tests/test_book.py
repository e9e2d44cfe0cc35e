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

    def walk(entries):
        for entry in entries:
            yield entry["file"]
            yield from walk(entry.get("sections", []))

    return [toc["root"]] + [f for part in toc["parts"] for f in walk(part["chapters"])]


def _notebooks(root: Path) -> list[str]:
    return [p for p in _toc_pages(root) if "kernelspec:" in (root / f"{p}.md").read_text()[:400]]


@pytest.fixture(scope="session")
def built_book(root, python):
    """Build the whole book strictly: warnings are errors, references are checked (-n)."""
    jb = Path(python).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(root), "--all", "-W", "-n", "--keep-going"]
    env = dict(os.environ)
    env.setdefault("CE_LIB_CACHE", str(root / "_build" / "ce_cache"))
    (root / "_build").mkdir(exist_ok=True)
    log_path = root / "_build" / "strict-build.log"
    limit = build_time_limit(root)
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True)
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            running = running_chapter(log_path.read_text())
            pytest.fail(f"the strict build ran past {limit / 60:.0f} minutes (1.3 times the README's longest "
                        f"measured build) while executing {running}; see {log_path}")
    return code, log_path.read_text(), root / "_build" / "html"


def build_time_limit(root: Path) -> float:
    """1.3 times the longest `make book` time the README states, in seconds (its figures are measured)."""
    text = " ".join((root / "README.md").read_text().split())
    found = re.search(r"`make book` then (\d+) to (\d+) minutes", text)
    assert found, "the README must state the measured build time as '`make book` then N to M minutes'"
    return 1.3 * 60 * int(found.group(2))


def running_chapter(log: str) -> str:
    """The notebook the build was executing when its log ends (or 'no chapter')."""
    # myst-nb logs "<path>/chapters/01_dfo.md: Executing notebook ..." and "...: Executed notebook in N seconds"
    started = [m.group(1) for line in log.splitlines() if "Executing notebook" in line
               for m in [re.search(r"(chapters/[\w.-]+)", line)] if m]
    finished = sum("Executed notebook in" in line for line in log.splitlines())
    return started[-1] if len(started) > finished else "no chapter (between notebooks)"


def test_the_build_limit_comes_from_the_readme(root):
    assert 20 * 60 <= build_time_limit(root) <= 90 * 60
    log = ("/x/chapters/01_dfo.md: Executing notebook using local CWD [mystnb]\n"
           "/x/chapters/01_dfo.md: Executed notebook in 3.1 seconds [mystnb]\n"
           "/x/chapters/02_bandits.md: Executing notebook using local CWD [mystnb]\n")
    assert running_chapter(log) == "chapters/02_bandits.md"
    assert running_chapter(log + "/x/chapters/02_bandits.md: Executed notebook in 5 seconds [mystnb]\n") \
        .startswith("no chapter")


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
    for page in _toc_pages(root):
        text = (html / f"{page}.html").read_text()
        assert "glue:text" not in text and "{glue" not in text, f"{page} shows a raw glue key"
    text = (html / "chapters" / "01_dfo.html").read_text()
    # the overview states both kinds of ratio: a number followed by the CI
    assert len(re.findall(r"ratio RL / CE of\s*(<[^>]+>\s*)*(at least |at most )?[\d,.]+ \(95% CI", text)) >= 1
    assert re.search(r"a ratio of\s*(<[^>]+>\s*)*(at least )?[\d,.]+ \(95% CI", text), "the overview's ratio is missing"


def test_the_introduction_states_a_computed_verdict(built_book):
    """The answer in a sentence, both ways, computed from the records (ce_lib.scoreboard.verdict_text)."""
    _, _, html = built_book
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (html / "chapters" / "00_intro.html").read_text()))
    found = re.search(r"The verdict\. (With the same data, certainty equivalence needed a median of .*?\.) "
                      r"(Told more .*? certainty equivalence needed a median of .*?\.) ", text)
    assert found, "the introduction has no verdict sentence"
    for sentence in found.groups():
        assert "95% CI" in sentence and ("interval excludes 1" in sentence or "interval includes 1" in sentence)


def test_the_api_page_has_no_type_field_made_from_a_comment(built_book):
    """Napoleon read the first clause of a ``#:`` comment as a type (_ext/attribute_docs.py)."""
    _, _, html = built_book
    pages = sorted((html / "chapters" / "api").glob("*.html"))
    assert len(pages) >= 15, "the API reference has one page per module"
    for path in pages:
        text = path.read_text()
        assert not re.search(r">\s*Type\s*<", text), f"{path.name}: a constant's comment became a 'Type' field"
        assert "&lt;function" not in text, f"{path.name} shows a function's repr as a value or a default"


def test_every_figure_has_a_caption_and_alt_text(built_book, root):
    """A reader (or a screen reader) is told what each figure shows: every image of a chapter sits
    in a figure with a caption, and has alt text (the cells' ``mystnb.figure`` and ``mystnb.image``)."""
    from html.parser import HTMLParser

    class Figures(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.problems, self.images = [], [], 0

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "figure":
                self.stack.append({"caption": False})
            elif tag == "figcaption" and self.stack:
                self.stack[-1]["caption"] = True
            elif tag == "img" and "_images/" in (attrs.get("src") or ""):
                self.images += 1
                if not (attrs.get("alt") or "").strip():
                    self.problems.append(f"an image without alt text: {attrs.get('src')}")
                if not self.stack:
                    self.problems.append(f"an image outside a figure: {attrs.get('src')}")
                else:
                    self.stack[-1].setdefault("images", []).append(attrs.get("src"))

        def handle_endtag(self, tag):
            if tag == "figure" and self.stack:
                fig = self.stack.pop()
                if fig.get("images") and not fig["caption"]:
                    self.problems.append(f"a figure without a caption: {fig['images'][0]}")

    _, _, html = built_book
    problems, total = [], 0
    for page in _toc_pages(root):
        parser = Figures()
        parser.feed((html / f"{page}.html").read_text())
        total += parser.images
        problems += [f"{page}: {p}" for p in parser.problems]
    assert total >= 25, f"only {total} figures found: is the check looking in the right place?"
    assert not problems, "\n".join(problems)


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


def _cached_records(root, python, *chapters):
    env = dict(os.environ)
    env.setdefault("CE_LIB_CACHE", str(root / "_build" / "ce_cache"))
    args = [python, "-m", "ce_lib", "scoreboard", "--json"] + [x for c in chapters for x in ("--chapter", c)]
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=root, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_scoreboard_cli_reads_the_cache_and_labels_every_record(built_book, root, python):
    from ce_lib.scoreboard import validate_record
    from ce_lib.studies import CHAPTERS

    recs = _cached_records(root, python)
    assert recs and all(validate_record(r) for r in recs)
    chapters = {r["chapter"] for r in recs}
    assert chapters == {c.key for c in CHAPTERS}
    # every chapter with a same-data CE method has a same-information record (the PPO chapter's CE
    # controllers are told the model's form: it has none)
    same = {r["chapter"] for r in recs if r["information"] == "same"}
    assert same == {c.key for c in CHAPTERS} - {"ppo"}
    # the introduction and the README list which comparisons give CE more: they must match the records
    more_tasks = {(r["chapter"], r["task"].split(",")[0]) for r in recs if r["information"] == "more"}
    assert more_tasks == {
        ("dfo", "random-target quadratic"), ("dfo", "logistic regression"),
        ("mdp", "FrozenLake 4x4 (slippery)"),
        ("ppo", "CartPole-v1"), ("ppo", "Pendulum-v1"),
        ("deep_rl", "CartPole-v1"), ("deep_rl", "Pendulum-v1"),
        ("reasoning", "two-digit addition with a verifier"),
        *(("checkers", f"checkers against alpha-beta search {d} turn{'s' if d > 1 else ''} deep") for d in (1, 2, 3, 4))}, \
        "update the lists in the introduction and README"


def test_what_the_chapters_say_about_their_results_holds(built_book, root, python, monkeypatch):
    """Statements in the prose that are not glued are checked here, on the cached results."""
    import numpy as np

    from ce_lib.studies import deep_rl as deep_rl_study
    from ce_lib.studies import ppo as ppo_study
    from ce_lib.studies import reasoning as reasoning_study

    if not os.environ.get("CE_LIB_CACHE"):
        monkeypatch.setenv("CE_LIB_CACHE", str(root / "_build" / "ce_cache"))

    recs = {(r["chapter"], r["task"], r["information"]): r for r in _cached_records(root, python, "dfo")}
    same = recs["dfo", "random-target quadratic, d = 64", "same"]
    more = recs["dfo", "random-target quadratic, d = 64", "more"]
    # DFO overview: "what makes CE cheap here is seeing more than the reward, not fitting a model to it"
    assert more["ratio"]["lo"] > 10 * same["ratio"]["hi"]
    # PPO ablation prose: its comparisons are computed in the chapter from the same runs; here only
    # that the runs behind them are complete.
    abl = ppo_study.ablations()
    assert {"tuned", "no clipping", "no critic", "entropy bonus 0.01", "no advantage normalization"} <= set(abl)

    # Deep-RL chapter: the learned-model controllers fail on CartPole on every seed, told the reward or
    # not ("here the picture reverses"), and the best RL agent reaches the target there.


    for reward in ("learned", "known"):
        assert all(np.isinf(r["hit"]) for r in deep_rl_study.ce_runs("CartPole-v1", reward))
    assert np.all(np.isinf(deep_rl_study.rl_hits("DQN", "CartPole-v1")))  # "DQN never qualifies"
    assert np.isfinite(np.median(deep_rl_study.rl_hits("PPO", "CartPole-v1")))

    # Reasoning chapter: every base model learned the careful traces in pretraining (the text says
    # one seed is weaker, not broken); low temperature is worse than temperature 1 and greedy worst;
    # the temperature-1 MCMC proposal ends above the 1/alpha one (pass@k's wording, and whether greedy answers
    # make the target easier, are computed in the chapter).

    out = reasoning_study.run()
    S = out["samplers"]
    assert min(S["careful_accuracy"]) > 0.6
    t = {T: np.median(v) for T, v in S["temperature"].items()}
    assert t[0.0] < t[0.25] < t[1.0]
    assert np.median(S["mcmc"][1.0]["accuracy"][-1]) > np.median(S["mcmc"][0.25]["accuracy"][-1])


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
    if not (root / "_mathjax" / "mathjax" / "tex-chtml-full.js").is_file():
        pytest.skip("MathJax was not unpacked (npm missing): the book falls back to a CDN")
    assert "_static/mathjax/tex-chtml-full.js" in text
    assert "cdn.jsdelivr" not in text


def _executed_notebooks(root: Path) -> dict:
    """The executed notebooks the strict build just used, by chapter file stem (from the
    build's execution cache; the latest record of each chapter)."""
    from jupyter_cache import get_cache

    cache = get_cache(str(root / "_build" / ".jupyter_cache"))
    latest = {}
    for record in cache.list_cache_records():
        stem = Path(record.uri).stem
        if stem not in latest or record.accessed > latest[stem].accessed:
            latest[stem] = record
    return {stem: cache.get_cache_bundle(rec.pk).nb for stem, rec in latest.items()}


def test_every_figure_is_legible_in_the_text_column(built_book, root):
    """Each figure is drawn in the book's style (which leaves a legibility record beside it), is
    shown at no less than MIN_SCALE of its size in the text column, and its smallest text is at
    least MIN_TEXT_PX high on screen."""
    from ce_lib.plotting import FIGURE_MIME, MIN_SCALE, MIN_TEXT_PX

    notebooks = _executed_notebooks(root)
    assert set(Path(p).name for p in _notebooks(root)) <= set(notebooks)
    n_figures = 0
    for stem, nb in sorted(notebooks.items()):
        outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
        images = sum("image/png" in o.get("data", {}) for o in outputs)
        reports = [o["data"][FIGURE_MIME] for o in outputs if FIGURE_MIME in o.get("data", {})]
        assert len(reports) == images, f"{stem}: {images} figures but {len(reports)} drawn in book_style()"
        alone = sum(FIGURE_MIME in o.get("data", {}) and "image/png" not in o["data"] for o in outputs)
        assert not alone, f"{stem}: {alone} legibility records in outputs of their own (each becomes a figure)"
        for k, r in enumerate(reports, 1):
            assert r["scale"] >= MIN_SCALE, f"{stem}, figure {k}: {r['width_px']:.0f} px wide, shown at {r['scale']:.0%}"
            assert r["min_text_px"] >= MIN_TEXT_PX, (
                f"{stem}, figure {k}: smallest text {r['min_font_pt']:g} pt renders {r['min_text_px']:.1f} px high")
        n_figures += images
    assert n_figures >= 30


def test_every_figure_on_a_page_shows_an_image(built_book, root):
    """A cell's outputs each become a figure when the cell has a caption: an output without an image
    would show the caption once more, over nothing, and push the numbering of every later figure."""
    _, _, html = built_book
    for page in _toc_pages(root):
        text = (html / f"{page}.html").read_text()
        figures = re.findall(r"<figure\b.*?</figure>", text, flags=re.S)
        empty = [f for f in figures if "<img" not in f and "<svg" not in f]
        assert not empty, f"{page}: {len(empty)} figures without an image, e.g. {empty[0][:300]}"


def _console(browser: str, page: Path, profile: Path) -> list[str]:
    """Console messages Chromium logs while it loads a page and runs its scripts."""
    proc = subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def test_each_page_loads_one_mathjax_and_logs_no_errors(built_book, root, tmp_path):
    _, _, html = built_book
    for page in _toc_pages(root):
        text = (html / f"{page}.html").read_text()
        scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", text)
        mathjax = [s for s in scripts if "mathjax" in s.lower()]
        has_math = "$" in (root / f"{page}.md").read_text()
        assert len(mathjax) == 1 if has_math else len(mathjax) <= 1, f"{page} loads {len(mathjax)} MathJax scripts"
        assert len(scripts) <= 20, f"{page} loads {len(scripts)} scripts"
        bodies = re.findall(r"<script>(.*?)</script>", text, flags=re.S)
        assert len(bodies) == len(set(bodies)), f"{page} repeats an inline script"
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    for page in ("chapters/05_lqr", "chapters/99_scoreboard"):
        errors = [m for m in _console(browser, html / f"{page}.html", tmp_path / "profile")
                  if re.search(r"error|uncaught|already exists", m, flags=re.I)]
        assert not errors, f"{page}: " + "\n".join(errors[:5])


def test_colab_notebooks_carry_the_numbers_the_build_glued(built_book, root):
    """The .ipynb twins have the build's glued values written into their prose."""
    import jupytext

    from tests.test_packaging import _make_notebooks

    from tests.test_packaging import GLUED

    mk = _make_notebooks(root)
    for md in sorted((root / "chapters").glob("[0-9][0-9]_*.md")):
        built = mk.built_glue(md.stem)

        def value(key):  # wall-clock measurements differ from build to build: any value will do
            return GLUED if mk.MEASURED.search(key.rpartition("::")[2].partition(":")[0]) else built(key)

        fresh = mk.twin(md, glue_value=value)
        stored = jupytext.read(md.with_suffix(".ipynb"))
        assert len(stored.cells) == len(fresh.cells), f"{md.stem}.ipynb is out of date: run `make notebooks`"
        for new, old in zip(fresh.cells, stored.cells):
            pattern = "(.+?)".join(re.escape(part) for part in new.source.split(GLUED))
            assert re.fullmatch(pattern, old.source, flags=re.S), \
                f"{md.stem}.ipynb does not carry this build's numbers: run `make notebooks` after `make book`"


def test_a_colab_notebook_runs_outside_the_repository(built_book, root, python, tmp_path):
    """What a Colab reader does: open the twin alone, run it with plain Jupyter against the
    installed ce_lib. Its prose has no MyST left, and the values its run glues are the numbers
    written into that prose."""
    import json as _json

    from tests.test_packaging import _make_notebooks

    mk = _make_notebooks(root)
    stem = "03_contextual_bandits"
    work = tmp_path / "reader"
    work.mkdir()
    shutil.copy(root / "chapters" / f"{stem}.ipynb", work / f"{stem}.ipynb")
    env = dict(os.environ)
    env.setdefault("CE_LIB_CACHE", str(root / "_build" / "ce_cache"))
    jupyter = Path(python).with_name("jupyter")
    proc = subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--output", "ran.ipynb",
                           f"{stem}.ipynb"], cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ran = _json.loads((work / "ran.ipynb").read_text())
    prose = "\n".join("".join(c["source"]) for c in ran["cells"] if c["cell_type"] == "markdown")
    assert not mk.MYST_LEFTOVER.search(prose)
    glued = {}
    for cell in ran["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                glued[name] = out["data"]["application/papermill.record/text/plain"]
            elif out.get("output_type") == "stream":
                glued.update(dict(re.findall(r"^(\w+): (.*)$", out["text"] if isinstance(out["text"], str)
                                             else "".join(out["text"]), flags=re.M)))
    assert len(glued) >= 10
    value = mk.built_glue(stem)
    for name, text in glued.items():
        import ast

        if mk.MEASURED.search(name):
            continue  # a wall-clock measurement: the reader's machine times itself

        try:
            text = str(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            pass
        assert text == value(name), f"{name}: the reader's run glues {text!r}, the twin says {value(name)!r}"


def _probe(browser: str, page: Path, width: int, profile: Path) -> dict:
    """Lay a rendered page out at ``width`` CSS pixels in Chromium (inside an iframe, since a
    headless window is at least 500 px wide) and return what tests/page_probe.js measured."""
    import html as _html

    probe_js = (Path(__file__).with_name("page_probe.js")).read_text()
    copy = page.with_name(page.stem + ".probe.html")
    frame = page.with_name(page.stem + ".frame.html")
    copy.write_text(page.read_text().replace("</body>", f"<script>{probe_js}</script></body>"))
    frame.write_text(f'<html><body style="margin:0"><iframe src="{copy.name}" style="width:{width}px;height:3000px;'
                     'border:0"></iframe><script>window.addEventListener("message", '
                     'e => document.body.setAttribute("data-probe", e.data));</script></body></html>')
    try:
        dom = subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,3000",
                              "--allow-file-access-from-files", "--dump-dom", frame.resolve().as_uri()],
                             capture_output=True, text=True, timeout=180).stdout
    finally:
        copy.unlink(missing_ok=True)
        frame.unlink(missing_ok=True)
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, f"{page.name}: the layout probe did not report at {width} px"
    return json.loads(_html.unescape(found.group(1)))


def test_pages_fit_the_column_at_desktop_and_phone_width(built_book, root, tmp_path):
    """At 1280 px every chapter's display math, code and tables fit the text column without
    scrolling; at 1280 and 412 px (a phone) no page scrolls sideways and nothing sticks out of the
    column (a formula or table too wide for a phone scrolls inside its own box)."""
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    _, _, html = built_book
    problems = []
    for page in _toc_pages(root):
        for width in (1280, 412):
            got = _probe(browser, (html / f"{page}.html").resolve(), width, tmp_path / f"profile{width}")
            if got["page"] > got["viewport"]:
                problems.append(f"{page} at {width} px: the page is {got['page']} px wide")
            problems += [f"{page} at {width} px: sticks out by {o[0]} px: {o[1]} {o[2]}" for o in got["outside"]]
            if width == 412:  # a ratio column leads its table and is in view without scrolling sideways
                problems += [f"{page} at 412 px: the RL / CE column reaches {r} px" for r in got["first_column"]
                             if r > got["viewport"]]
            if page == "chapters/99_scoreboard" and not got["first_column"]:
                problems.append(f"{page} at {width} px: no table led by the RL / CE column")
            if width == 1280 and not page.startswith("chapters/api"):  # docstring formulas may scroll
                for kind in ("math", "code", "tables"):
                    problems += [f"{page}: {kind} wider than the column by {w} px: {what}" for w, what in got[kind]]
    assert not problems, "\n".join(problems)
