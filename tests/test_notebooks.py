"""Notebooks are committed clean, and every chapter is in the table of contents."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import ROOT

NOTEBOOKS = sorted(p.relative_to(ROOT) for p in [*ROOT.glob("notebooks/**/*.ipynb"), *ROOT.glob("book/*.ipynb")]
                   if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_notebook_committed_without_outputs(path):
    nb = json.loads((ROOT / path).read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path}: cells {dirty} have outputs or execution counts (strip them before committing)"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_every_chapter_is_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    chapters = {str(p.with_suffix("")) for p in NOTEBOOKS if p.parent.name == "notebooks"}
    assert chapters <= listed, f"chapters missing from _toc.yml: {sorted(chapters - listed)}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name == "notebooks"], ids=str)
def test_chapter_follows_the_house_form(path):
    """Learning goals, the how-to-use box, exercises with solutions, a summary, citations."""
    nb = json.loads((ROOT / path).read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "**Learning goals.**" in text or "## Learning goals" in text
    assert "How to use this chapter" in text
    assert text.count("{exercise}") >= 3 and text.count("{solution}") >= text.count("{exercise}")
    assert "## Summary" in text
    assert "{cite" in text


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name == "dashboards"], ids=str)
def test_dashboard_is_thin(path):
    """A dashboard notebook only imports an app from the library and shows it."""
    nb = json.loads((ROOT / path).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == 1 and len("".join(code[0]["source"]).splitlines()) <= 4
