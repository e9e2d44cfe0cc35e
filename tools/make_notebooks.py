"""Write the .ipynb twin of every chapter (for Colab's launch button), with stable cell ids.

Usage: python tools/make_notebooks.py   (or `make notebooks`)
"""

from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    for md in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md")):
        nb = jupytext.read(md)
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{i}"  # stable ids: regenerating changes nothing
        jupytext.write(nb, md.with_suffix(".ipynb"))
        print(f"wrote {md.with_suffix('.ipynb').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
