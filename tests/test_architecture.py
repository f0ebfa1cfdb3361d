"""The layout of the code: layers import only downwards, no import cycles, one name per chapter,
short chapter cells that call their own chapter module (ARCHITECTURE.md describes what this checks)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from conftest import ROOT

LIB = ROOT / "lib" / "stablernn"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# Layers from the bottom up: a module may import its own layer and the layers below, never above.
LAYERS = [
    {"_validate", "timing", "progress"},
    {"linalg"},
    {"dynamics"},
    {"stability"},
    {"models"},
    {"train", "data"},
    {"experiments"},
    {"figures"},
    {"diagnose"},
    {"chapters"},
    {"presentation"},
]


def _layer(module: str) -> int:
    """Layer index of a ``stablernn`` module path such as ``stablernn.chapters.bptt``."""
    top = module.split(".")[1] if module.count(".") else "__init__"
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: not in any layer of ARCHITECTURE.md (add it to LAYERS and the map)")


def _module_name(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Every ``stablernn`` module that ``path`` imports, at the top or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("stablernn")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("stablernn"):
                out.append(target)
                out += [f"{target}.{a.name}" for a in node.names
                        if (LIB.parent / f"{target}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                        or (LIB.parent / f"{target}.{a.name}".replace(".", "/") / "__init__.py").exists()]
    return out


MODULES = {_module_name(p): p for p in sorted(LIB.rglob("*.py"))}


@pytest.mark.parametrize("name", [n for n in MODULES if n != "stablernn"])
def test_no_module_imports_a_higher_layer(name):
    """linalg knows no model, models no plotly figure, figures no chapter, nothing below presentation
    knows the presentation layer."""
    mine = _layer(name)
    higher = sorted({t for t in _imports(MODULES[name]) if t != "stablernn" and _layer(t) > mine})
    assert not higher, f"{name} (layer {mine}) imports higher layers: {higher}"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> imported modules) as a path, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, path + [nxt])):
                return found
        state[node] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n, [n])):
            return found
    return None


def test_the_package_has_no_import_cycle():
    """Imports inside functions count too: a cycle hidden that way is still a cycle."""
    graph = {n: {t for t in _imports(p) if t in MODULES and t != n} for n, p in MODULES.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def _slug(notebook: Path) -> str:
    return notebook.stem.split("_", 1)[1]


def _code_cells(notebook: Path) -> list[str]:
    nb = json.loads(notebook.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_name_per_chapter(notebook):
    """The slug names the chapter module, its figure module and its test file; the module names the
    notebook; a dashboard, where the chapter has one, has the slug too."""
    slug = _slug(notebook)
    module = LIB / "chapters" / f"{slug}.py"
    assert module.is_file(), f"{notebook.name}: no chapter module stablernn/chapters/{slug}.py"
    assert f"``{notebook.stem}``" in ast.get_docstring(ast.parse(module.read_text())), \
        f"chapters/{slug}.py: its docstring does not name {notebook.stem}"
    assert (LIB / "figures" / f"{slug}.py").is_file(), f"no figure module figures/{slug}.py"
    assert (ROOT / "tests" / f"test_chapter_{slug}.py").is_file(), f"no test file test_chapter_{slug}.py"
    from stablernn.chapters import CHAPTERS

    assert slug in CHAPTERS


def test_every_dashboard_is_named_by_a_chapter():
    slugs = {_slug(n) for n in NOTEBOOKS}
    for path in (ROOT / "notebooks" / "dashboards").glob("*.ipynb"):
        assert path.stem in slugs | {"index"}, f"dashboard {path.name} is not named by a chapter slug"
    from stablernn.presentation.dashboards import DASHBOARDS

    assert set(DASHBOARDS) <= slugs


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_cells_are_short_calls_into_their_module(notebook):
    """No code cell is longer than 12 lines; the chapter imports its own module and no library
    internals beyond it, the figures and the presentation layer; every glued number comes from
    ``show_section`` (no cell calls ``glue`` itself)."""
    slug = _slug(notebook)
    cells = _code_cells(notebook)
    for source in cells:
        assert len(source.splitlines()) <= 12, f"{notebook.name}: a code cell of {len(source.splitlines())} lines"
        assert "glue(" not in source, f"{notebook.name}: a cell glues a number itself: {source!r}"
    imports = "\n".join(cells)
    assert f"from stablernn.chapters import {slug} as chapter" in imports
    allowed = ("stablernn.chapters", "stablernn.presentation", "stablernn.figures")
    for line in imports.splitlines():
        found = re.match(r"\s*(?:from|import)\s+(stablernn[\w.]*)", line)
        if found:
            assert found.group(1).startswith(allowed), f"{notebook.name}: imports {found.group(1)}"


def test_layers_listed_here_cover_the_package():
    tops = {p.relative_to(LIB).parts[0].removesuffix(".py") for p in LIB.iterdir()
            if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and (p / "__init__.py").exists())}
    assert tops == set().union(*LAYERS)
