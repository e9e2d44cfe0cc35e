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
