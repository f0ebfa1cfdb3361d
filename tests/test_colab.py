"""The Colab way in: every chapter opens with the set-up cell of ``scripts/colab_cell.py``, which on
Colab (a stand-in ``google.colab`` module here) clones the repository named in ``_config.yml`` and
installs the library without touching Colab's packages, and elsewhere does nothing; on Colab the
explorers show their static face under a note and show_section works without myst-nb."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import plotly.graph_objects as go
import pytest
import yaml

from conftest import ROOT

spec = importlib.util.spec_from_file_location("colab_cell", ROOT / "scripts" / "colab_cell.py")
colab_cell = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_cell)

CHAPTERS = colab_cell.chapters()

# Runs the cell as a Colab kernel would see it: google.colab imported, stablernn not importable, and
# every command it issues intercepted (recorded; the "clone" makes the folder, the "install" puts
# the library back on sys.path). Prints the commands, the final working directory and the module.
HARNESS = textwrap.dedent("""
    import json, os, subprocess, sys, types
    colab, lib, source = sys.argv[1] == "colab", sys.argv[2], open(sys.argv[3]).read()
    sys.path[:] = [p for p in sys.path if os.path.realpath(p) != os.path.realpath(lib)]
    for name in [m for m in sys.modules if m.startswith("stablernn")]:
        del sys.modules[name]
    if colab:
        sys.modules["google"] = types.ModuleType("google")
        sys.modules["google.colab"] = types.ModuleType("google.colab")
    commands = []
    def run(cmd, check=False, **kw):
        commands.append([os.path.basename(c) if c == sys.executable else c for c in cmd])
        if cmd[:2] == ["git", "clone"]:
            os.makedirs(os.path.join(cmd[-1], "notebooks"))
        if "--no-deps" in cmd:
            sys.path.insert(0, lib)
        return subprocess.CompletedProcess(cmd, 0)
    subprocess.run = run
    exec(compile(source, "colab-cell", "exec"), {"__name__": "__main__"})
    print(json.dumps({"commands": commands, "cwd": os.getcwd(),
                      "stablernn": getattr(sys.modules.get("stablernn"), "__file__", None)}))
""")


def _run_cell(tmp_path, colab: bool, cwd=None) -> dict:
    cell = tmp_path / "cell.py"
    cell.write_text("".join(colab_cell.current_cell()["source"]))
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS)
    out = subprocess.run([sys.executable, str(harness), "colab" if colab else "local", str(ROOT / "lib"), str(cell)],
                         cwd=cwd or tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_opens_with_the_current_hidden_colab_cell(path):
    nb = json.loads(path.read_text())
    first = colab_cell.first_code_cell(nb)
    assert first == colab_cell.current_cell(), f"{path.name}: run python scripts/colab_cell.py"
    assert "remove-cell" in first["metadata"]["tags"]


def test_the_cell_names_the_repository_and_branch_of_the_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    source = "".join(colab_cell.current_cell()["source"])
    assert f'"{config["url"]}", "{config["branch"]}"' in source


def test_on_colab_the_cell_clones_installs_without_deps_and_imports(tmp_path):
    result = _run_cell(tmp_path, colab=True)
    url, branch = colab_cell.repository()
    home = str(tmp_path / url.rsplit("/", 1)[-1])
    clone, install, deps = result["commands"]
    assert clone == ["git", "clone", "--quiet", "--depth", "1", "--branch", branch, url, home]
    assert install[-3:] == ["--quiet", "--no-deps", home] and install[1:3] == ["-m", "pip"]
    # what Colab lacks is installed; what it ships (ipywidgets, torch, ...) is never named
    assert deps[3:] == ["install", "--quiet", *colab_cell.colab_requirements()]
    assert not any(name in " ".join(deps) for name in colab_cell.COLAB_PROVIDES)
    assert any(d.startswith("music21") for d in deps)
    assert result["cwd"] == home + "/notebooks"  # where ../results is the clone's
    assert result["stablernn"].startswith(str(ROOT / "lib"))


def test_on_colab_with_the_book_already_there_the_cell_does_nothing(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "music.json").write_text("{}")
    (tmp_path / "notebooks").mkdir()
    result = _run_cell(tmp_path, colab=True, cwd=tmp_path / "notebooks")
    assert result["commands"] == [] and result["cwd"] == str(tmp_path / "notebooks")


def test_outside_colab_the_cell_does_nothing(tmp_path):
    result = _run_cell(tmp_path, colab=False)
    assert result == {"commands": [], "cwd": str(tmp_path), "stablernn": None}


def test_on_colab_an_explorer_shows_its_static_face_under_a_note(monkeypatch, capsys):
    import types

    import stablernn.presentation.show  # noqa: F401  (the module, not the function of that name)
    from stablernn.presentation import explorers

    show_module = sys.modules["stablernn.presentation.show"]

    monkeypatch.delenv("STABLERNN_STATIC", raising=False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    shown = []
    monkeypatch.setattr(go.Figure, "show", lambda self, renderer=None, **kw: shown.append((self, renderer)))
    explorer = explorers.spectral()
    show_module.show(explorer)
    assert capsys.readouterr().out.strip() == show_module.COLAB_NOTE
    (fig, renderer), = shown
    assert renderer is None  # plotly's own choice, its Colab renderer, which loads plotly.js itself
    assert len(fig.frames) > 1 and fig.layout.sliders


def test_show_section_works_without_myst_nb(monkeypatch, capsys):
    from stablernn.chapters import Section
    from stablernn.presentation.show import show_section

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now raises ImportError
    show_section(Section(values={"n": 3}, table="a | b"))
    assert capsys.readouterr().out == "a | b\n"


def test_the_check_mode_finds_a_stale_cell(tmp_path, monkeypatch):
    nb = json.loads(CHAPTERS[0].read_text())
    colab_cell.first_code_cell(nb)["source"] = ["# an old cell\n"]
    stale = tmp_path / CHAPTERS[0].name
    stale.write_text(json.dumps(nb))
    monkeypatch.setattr(colab_cell, "chapters", lambda: [stale])
    assert colab_cell.main(["--check"]) == 1
    assert colab_cell.write(stale) and colab_cell.main(["--check"]) == 0
