"""The two install routes agree, and CI runs the README's test command."""

import re
import tomllib

import pytest
import yaml


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_packages_as_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = {_name(s) for s in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(s) for s in extra}
    env = yaml.safe_load((root / "environment.yml").read_text())
    have = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            have |= {_name(s) for s in dep["pip"] if not s.startswith("-")}
        else:
            have.add(_name(dep))
    have -= {"python", "pip"}
    assert have == wanted, f"only in environment.yml: {have - wanted}; only in pyproject: {wanted - have}"


def test_ci_runs_the_readme_test_command(root):
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    assert re.search(r"^make test$", ci, flags=re.M)


def test_jupyter_book_is_pinned_to_1x(root):
    text = (root / "pyproject.toml").read_text()
    assert '"jupyter-book==1.0.4.post1"' in text


def test_every_toc_chapter_exists_and_is_a_notebook(root):
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    def walk(entries):
        for entry in entries:
            yield entry["file"]
            yield from walk(entry.get("sections", []))

    files = [toc["root"]] + [f for part in toc["parts"] for f in walk(part["chapters"])]
    for path in (root / "chapters" / "api").glob("*.md"):  # the API reference: a page per module
        assert f"chapters/api/{path.stem}" in files, f"{path.name} is not listed under chapters/api in _toc.yml"
        assert f"ce_lib.{path.stem}\n" in path.read_text(), f"{path.name} documents another module"
    for module in (root / "ce_lib").glob("[a-z]*.py"):
        assert (root / "chapters" / "api" / f"{module.stem}.md").is_file(), f"ce_lib.{module.stem} has no API page"
    for f in files:
        path = root / f"{f}.md"
        assert path.is_file(), f
    for path in (root / "chapters").glob("[0-9][0-9]_*.md"):
        head = path.read_text().split("\n", 12)
        assert "kernelspec:" in "\n".join(head), f"{path.name} lacks a jupytext header"
        assert path.stem in {f.split("/")[-1] for f in files}, f"{path.name} is not in _toc.yml"


def _make_notebooks(root):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", root / "tools" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GLUED = "\x00glued\x00"


def test_colab_notebooks_match_their_chapters(root):
    """Colab's launch button opens chapters/NN_*.ipynb: the same code cells as the chapter, and its
    prose converted to plain Markdown with no MyST left (the glued numbers are checked against the
    build in tests/test_book.py)."""
    import jupytext

    mk = _make_notebooks(root)
    for md in sorted((root / "chapters").glob("[0-9][0-9]_*.md")):
        ipynb = md.with_suffix(".ipynb")
        assert ipynb.is_file(), f"{ipynb.name} is missing: run `make notebooks`"
        fresh = mk.twin(md, glue_value=lambda key: GLUED)
        stored = jupytext.read(ipynb)
        assert [(c.cell_type, c.metadata) for c in stored.cells] == [(c.cell_type, c.metadata) for c in fresh.cells], \
            f"{ipynb.name} is out of date: run `make notebooks`"
        for new, old in zip(fresh.cells, stored.cells):
            if new.cell_type == "code":
                assert old.source == new.source, f"{ipynb.name} is out of date: run `make notebooks`"
            else:
                pattern = "(.+?)".join(re.escape(part) for part in new.source.split(GLUED))
                assert re.fullmatch(pattern, old.source, flags=re.S), \
                    f"{ipynb.name} is out of date: run `make notebooks`\n{old.source[:300]}"
                assert not mk.MYST_LEFTOVER.search(old.source), f"{ipynb.name} keeps MyST markup"


def test_plain_markdown_conversion_of_myst(root):
    mk = _make_notebooks(root)
    bib = {"sutton2018": {"author": "Sutton, Richard S. and Barto, Andrew G.", "year": "2018", "title": "RL"},
           "mania2018": {"author": "Mania, Horia and Guy, Aurelia and Recht, Benjamin", "year": "2018", "title": "ARS"}}
    conv = mk.Converter("toy", {"x": "0.42", "sb::y": "7"}.__getitem__, bib, {"ch-toy": "A toy chapter"})
    text = ("(ch-toy)=\n# Toy\n\nWe get {glue:text}`x` and {glue:text}`sb::y` {cite}`sutton2018,mania2018`; see "
            "{ref}`ch-toy`, {ref}`that one <ch-toy>` and {py:func}`~ce_lib.dfo.random_search`.\n\n"
            "```{prf:algorithm} Guess and check\n:label: alg-x\n\nTry {glue:text}`x`.\n```\n\n"
            "```{exercise}\n:label: ex-a\n\nDo it.\n```\n\n"
            "````{solution} ex-a\n:class: dropdown\n\n```python\nprint(1)\n```\n````\n\nSee {ref}`ex-a`.")
    out = conv.markdown(text)
    assert out.startswith("# Toy\n\nWe get 0.42 and 7 (Sutton and Barto, 2018; Mania et al., 2018); see A toy chapter, "
                          "that one and `ce_lib.dfo.random_search`.")
    assert "**Algorithm: Guess and check.**\n\nTry 0.42." in out
    assert "**Exercise 1.**\n\nDo it." in out
    assert "<details>\n<summary>Solution to exercise 1</summary>\n\n```python\nprint(1)\n```\n\n</details>" in out
    assert out.endswith("See exercise 1.") and not mk.MYST_LEFTOVER.search(out)
    assert conv.references().splitlines()[2].startswith("- Sutton, Richard S.; Barto, Andrew G. (2018). *RL*.")
    assert mk._latex_to_text("Szepesv{\\'a}ri and Capp{\\'e}") == "Szepesv\u00e1ri and Capp\u00e9"
    with pytest.raises(ValueError, match="never closed"):
        conv.markdown("```{exercise}\nno end")
    with pytest.raises(ValueError, match="directive"):
        conv.markdown("```{mystery}\nx\n```")
    with pytest.raises(KeyError, match="nowhere2020"):
        conv.markdown("{cite}`nowhere2020`")


def test_a_literalinclude_becomes_the_same_lines_of_source(root):
    """Library source shown in a chapter is included from the file; the twin shows those lines."""
    import inspect

    from ce_lib import ppo

    mk = _make_notebooks(root)
    conv = mk.Converter("toy", {}.__getitem__, {}, {})
    out = conv.markdown("```{literalinclude} ../ce_lib/ppo.py\n:pyobject: gae\n:lineno-match:\n```")
    source, first = inspect.getsourcelines(ppo.gae)
    assert out.startswith(f"`ce_lib/ppo.py`, lines {first}-{first + len(source) - 1}:\n\n```python\ndef gae(")
    assert out.endswith("".join(source).rstrip() + "\n```") and not mk.MYST_LEFTOVER.search(out)
    with pytest.raises(ValueError, match="missing file"):
        conv.markdown("```{literalinclude} ../ce_lib/nope.py\n```")


def test_the_repository_url_is_the_one_in_the_config(root):
    """The launch buttons read _config.yml; the install cells of the chapters and of their Colab
    twins (and the README or the package metadata, should they name it) must name the same one."""
    url = yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    assert url.startswith("https://github.com/")
    places = [*sorted((root / "chapters").glob("*.md")), *sorted((root / "chapters").glob("*.ipynb")),
              root / "README.md", root / "pyproject.toml"]
    found = 0
    for path in places:
        for other in re.findall(r"git\+(https://github\.com/[\w.-]+/[\w-]+)", path.read_text()):
            assert other == url, f"{path.name} installs from {other}, _config.yml names {url}"
            found += 1
    assert found >= 10


def test_every_library_name_a_chapter_uses_is_public_and_documented(root):
    """The API page documents each library module's __all__: every ce_lib name a chapter uses must be
    in it. A chapter's study (ce_lib.studies.<name>, imported as ``study``) is not on the API page,
    but what a chapter uses of it must be public there too."""
    import importlib

    missing = []
    for md in sorted((root / "chapters").glob("[0-9][0-9]_*.md")):
        text = md.read_text()
        aliases = {}
        for names in re.findall(r"^from ce_lib import (.+)$", text, flags=re.M):
            for item in names.split(","):
                parts = item.split(" as ")
                aliases[parts[-1].strip()] = f"ce_lib.{parts[0].strip()}"
        for mod, alias in re.findall(r"^from ce_lib\.studies import (\w+) as (\w+)$", text, flags=re.M):
            aliases[alias] = f"ce_lib.studies.{mod}"
        for mod, names in re.findall(r"^from (ce_lib\.(?!studies )\w+) import (.+)$", text, flags=re.M):
            public = importlib.import_module(mod).__all__
            missing += [f"{md.name}: {mod}.{n.strip()}" for n in names.split(",") if n.strip() not in public]
        for alias, mod in aliases.items():
            public = importlib.import_module(mod).__all__
            for attr in set(re.findall(rf"(?<![\w./]){alias}\.([A-Za-z_]\w*)", text)):
                if attr not in public:
                    missing.append(f"{md.name}: {mod}.{attr}")
    assert not missing, f"not in the module's __all__ (so not on the API page): {sorted(set(missing))}"


def test_every_module_lists_only_names_it_has(root):
    import importlib

    for path in sorted((root / "ce_lib").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"ce_lib.{path.stem}")
        assert hasattr(module, "__all__"), f"{path.stem} has no __all__"
        for name in module.__all__:
            assert hasattr(module, name), f"ce_lib.{path.stem}.__all__ names {name!r}, which it lacks"


#: The learners and tools a student calls first; each shows a runnable example in its docstring.
WITH_EXAMPLES = {
    "bandits": ["Greedy", "EpsilonGreedy", "ExploreThenCommit", "UCB", "KLUCB", "ThompsonSampling", "GradientBandit",
                "EXP3", "TsallisINF", "simulate"],
    "contextual": ["GreedyLS", "LinUCB", "LinearThompson", "SoftmaxPolicyGradient"],
    "mdp": ["value_iteration", "policy_iteration", "generative_experiment", "OptimisticCE", "QLearning",
            "OptimisticQLearning", "PolicyGradient", "online_runs", "online_experiment"],
    "lqr": ["lqr_gain", "nominal_ce", "random_search", "policy_gradient", "natural_policy_gradient", "lspi"],
    "robust": ["sls_synthesis", "robust_static_gain", "bootstrap_errors"],
    "dfo": ["random_search", "reinforce", "cma_es", "local_model", "model_based"],
    "ppo": ["train"],
    "dt": ["train", "plan_from_data", "fitted_q_iteration"],
    "reasoning": ["pretrain", "pass_at_k", "power_resample", "verify"],
    "known_form": ["cartpole_controller", "plan_pendulum"],
}


def test_the_learners_show_runnable_examples_and_the_tests_run_them(root):
    """`make unit` runs the docstrings' examples (doctest): pytest collects ce_lib with --doctest-modules."""
    import doctest
    import importlib

    for module, names in WITH_EXAMPLES.items():
        mod = importlib.import_module(f"ce_lib.{module}")
        for name in names:
            examples = doctest.DocTestParser().get_examples(getattr(mod, name).__doc__ or "")
            assert examples and any(e.want for e in examples), f"ce_lib.{module}.{name} shows no example with output"
    options = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "ce_lib" in options["testpaths"] and "--doctest-modules" in options["addopts"]


def test_the_readmes_coursework_example_runs(root, tmp_path):
    """The example a student copies first must run as printed (and censor its misses)."""
    import re
    import runpy

    text = (root / "README.md").read_text()
    section = text.split("## Using `ce_lib` in your own coursework", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    script = tmp_path / "readme_example.py"
    script.write_text(code)
    runpy.run_path(str(script), run_name="__main__")
