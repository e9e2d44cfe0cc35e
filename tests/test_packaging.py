"""The two install routes agree, and CI runs the README's test command."""

import re
import tomllib

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
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for f in files:
        path = root / f"{f}.md"
        assert path.is_file(), f
    for path in (root / "chapters").glob("[0-9][0-9]_*.md"):
        head = path.read_text().split("\n", 12)
        assert "kernelspec:" in "\n".join(head), f"{path.name} lacks a jupytext header"
        assert path.stem in {f.split("/")[-1] for f in files}, f"{path.name} is not in _toc.yml"


def test_colab_notebooks_match_their_chapters(root):
    """Colab's launch button opens chapters/NN_*.ipynb; they must be the current chapters."""
    import jupytext

    for md in sorted((root / "chapters").glob("[0-9][0-9]_*.md")):
        ipynb = md.with_suffix(".ipynb")
        assert ipynb.is_file(), f"{ipynb.name} is missing: run `make notebooks`"
        fresh = jupytext.read(md)
        stored = jupytext.read(ipynb)
        assert [(c.cell_type, c.source, c.metadata) for c in stored.cells] == \
            [(c.cell_type, c.source, c.metadata) for c in fresh.cells], \
            f"{ipynb.name} is out of date: run `make notebooks`"


def test_every_library_name_a_chapter_uses_is_public_and_documented(root):
    """The API page documents each module's __all__: every ce_lib name a chapter uses must be in it."""
    import importlib

    missing = []
    for md in sorted((root / "chapters").glob("[0-9][0-9]_*.md")):
        text = md.read_text()
        aliases = {}
        for names in re.findall(r"^from ce_lib import (.+)$", text, flags=re.M):
            for item in names.split(","):
                parts = item.split(" as ")
                aliases[parts[-1].strip()] = f"ce_lib.{parts[0].strip()}"
        for mod, names in re.findall(r"^from (ce_lib\.\w+) import (.+)$", text, flags=re.M):
            public = importlib.import_module(mod).__all__
            missing += [f"{md.name}: {mod}.{n.strip()}" for n in names.split(",") if n.strip() not in public]
        for alias, mod in aliases.items():
            public = importlib.import_module(mod).__all__
            for attr in set(re.findall(rf"\b{alias}\.([A-Za-z_]\w*)", text)):
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
