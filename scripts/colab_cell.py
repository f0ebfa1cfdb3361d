"""Write (or check) the Colab set-up cell that opens every chapter.

    python scripts/colab_cell.py           # writes the cell into notebooks/NN_*.ipynb
    python scripts/colab_cell.py --check   # exit 1 if a chapter's first code cell is not the current one

A chapter opened from the rocket button on Colab has neither the library nor the ``results/`` folder
that Part III reads. The cell, on Colab only (``google.colab`` is imported there before any cell
runs), clones the book's repository at the branch of ``_config.yml``, installs the library without
its dependencies plus the few that Colab lacks (so Colab's own numpy, torch, ipywidgets, ... stay as
they are), and runs the chapter from the clone's ``notebooks/`` so that ``../results`` is found. On
the site, Binder and a local clone it does nothing; it is tagged ``remove-cell``, hidden on the site.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "colab-setup"
TAGS = ["remove-cell"]
#: Requirements of pyproject.toml that Colab ships and the cell must not upgrade (ipywidgets above all:
#: Colab's widget front end is built for its own version; the explorers show their static face there).
COLAB_PROVIDES = ("numpy", "scipy", "torch", "ipywidgets", "tqdm", "scikit-learn")


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """The repository URL and branch that the launch buttons use."""
    repo = yaml.safe_load(config.read_text())["repository"]
    return str(repo["url"]).rstrip("/"), str(repo.get("branch", "main"))


def colab_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The library's requirements that Colab does not provide, as pyproject.toml states them."""
    import tomllib

    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return [d for d in deps if re.split(r"[<>=!~ \[]", d, maxsplit=1)[0] not in COLAB_PROVIDES]


def cell_source(url: str, branch: str, requirements: list[str]) -> str:
    """The cell's code: at most 12 lines, importing the library only through importlib."""
    name = url.rsplit("/", 1)[-1]
    deps = ", ".join(json.dumps(r) for r in requirements)
    return "\n".join([
        "# On Colab only: fetch the book (with the results/ Part III reads), install its library, run from its notebooks/.",
        "import importlib, importlib.util, os, subprocess, sys",
        'if "google.colab" in sys.modules and not os.path.isfile("../results/music.json"):',
        f'    repo, branch, home = "{url}", "{branch}", os.path.abspath("{name}")',
        "    if not os.path.isdir(home):",
        '        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", branch, repo, home], check=True)',
        '    if importlib.util.find_spec("stablernn") is None:  # --no-deps: Colab\'s own packages stay as they are',
        '        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", home], check=True)',
        f'        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", {deps}], check=True)',
        "        importlib.invalidate_caches()",
        '    os.chdir(os.path.join(home, "notebooks"))',
        '    importlib.import_module("stablernn")',
    ])


def current_cell() -> dict:
    """The notebook cell, from ``_config.yml`` and ``pyproject.toml`` as they are now."""
    source = cell_source(*repository(), colab_requirements())
    lines = source.splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": None, "id": CELL_ID, "metadata": {"tags": TAGS},
            "outputs": [], "source": lines}


def chapters() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def write(path: Path) -> bool:
    """Put the current cell first among the chapter's code cells; True if the file changed."""
    nb = json.loads(path.read_text())
    cell = current_cell()
    cells = [c for c in nb["cells"] if c.get("id") != CELL_ID]
    first = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    cells.insert(first, cell)
    if cells == nb["cells"]:
        return False
    nb["cells"] = cells
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a chapter's cell is stale")
    if parser.parse_args(argv).check:
        stale = [p.name for p in chapters() if first_code_cell(json.loads(p.read_text())) != current_cell()]
        if stale:
            print(f"stale Colab cell in {', '.join(stale)}: run python scripts/colab_cell.py", file=sys.stderr)
        return 1 if stale else 0
    changed = [p.name for p in chapters() if write(p)]
    print(f"Colab cell written into {len(changed)} chapter(s)" + (f": {', '.join(changed)}" if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
