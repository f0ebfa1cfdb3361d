"""Sphinx extension of the book: how long each chapter takes, in its header and on one page.

Reading time is estimated from the chapter's own text: its prose and mathematics read at
``WORDS_PER_MINUTE`` (every whitespace-separated token of a Markdown cell counts, so an equation
counts by its symbols), plus ``FIGURE_MINUTES`` for each figure or explorer the reader looks at.
Running time is measured: the seconds the build's execution (myst-nb's cache) took for the whole
notebook, on the machine that built the page, and, section by section, the seconds its cells took in
the last run of ``bench/bench_chapters.py`` (``book/chapter_times.json``; the build runs notebooks
without per-cell timing). Each chapter's header shows both, and the time of each section; the
directive ``{chapter-times}`` renders the table for lecturers on the execution page.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

WORDS_PER_MINUTE = 150  # technical prose with mathematics (general prose is read at about 200-250)
FIGURE_MINUTES = 0.5
CHAPTER = re.compile(r"notebooks/\d\d_[a-z_]+$")
TIMES = "book/chapter_times.json"  # written by bench/bench_chapters.py


@dataclass
class Section:
    title: str
    words: int = 0
    figures: int = 0

    @property
    def minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE + FIGURE_MINUTES * self.figures


@dataclass
class Estimate:
    title: str
    sections: list[Section] = field(default_factory=list)
    run_seconds: float | None = None
    status: str = "not executed"
    section_seconds: dict[str, float] = field(default_factory=dict)  # measured by bench/bench_chapters.py
    measured_on: str = ""

    @property
    def read_minutes(self) -> int:
        return max(1, math.ceil(sum(s.minutes for s in self.sections)))


def _figures(cell: dict) -> int:
    """Figures and explorers a code cell shows on the page (plotly divs in its HTML outputs)."""
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", []))
    return html.count('class="plotly-graph-div"')


def estimate(notebook: dict) -> Estimate:
    """Reading estimate of an executed (or source) notebook, section by section (``##`` headings)."""
    out, current = Estimate(title=""), Section("(opening)")
    out.sections.append(current)
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            for line in source.splitlines():
                if line.startswith("# ") and not out.title:
                    out.title = line[2:].strip()
                elif line.startswith("## "):
                    current = Section(line[3:].strip())
                    out.sections.append(current)
                current.words += len(line.split())
        elif cell["cell_type"] == "code":
            current.figures += _figures(cell)
    return out


def _minutes(m: float) -> str:
    return f"{max(1, round(m))} min"


def _label(title: str) -> str:
    """``§5.2`` for a numbered section, its title for the others (Exercises, Summary)."""
    found = re.match(r"(\d+(?:\.\d+)*)", title)
    return f"§{found.group(1)}" if found else title


def chapter_estimate(app, docname: str) -> Estimate:
    from executed import executed

    notebook = executed(app, docname)  # its outputs show the figures; the source has none
    est = estimate(notebook if notebook is not None else json.loads((Path(app.srcdir) / f"{docname}.ipynb").read_text()))
    times = Path(app.srcdir) / TIMES
    if times.is_file():
        bench = json.loads(times.read_text())
        est.section_seconds = bench["chapters"].get(Path(docname).name, {}).get("sections", {})
        est.measured_on = bench["date"][:10]
    data = (getattr(app.env, "nb_metadata", {}) or {}).get(docname, {}).get("exec_data") or {}
    if data:
        est.run_seconds = data.get("runtime")
        est.status = "ran" if data.get("succeeded") else "failed"
        if data.get("method") == "cache":
            est.status += " (from the build's cache)"
    return est


def _header(est: Estimate) -> nodes.container:
    run = "" if est.run_seconds is None else f"; its code ran in {est.run_seconds:.0f} s when this page was built"
    sections = [s for s in est.sections[1:] if s.words]
    lead = nodes.paragraph()
    lead += nodes.strong(text=f"About {est.read_minutes} min to read{run}.")
    def code(s: Section) -> str:
        secs = est.section_seconds.get(s.title)
        return "" if secs is None or secs < 0.5 else f" + {secs:.0f} s of code"  # under half a second: nothing to wait for

    if sections:
        measured = (f"; code times measured by bench/bench_chapters.py on {est.measured_on}"
                    if est.section_seconds else "")
        lead += nodes.Text(" By section: " + ", ".join(f"{_label(s.title)} {_minutes(s.minutes)}{code(s)}"
                                                      for s in sections)
                           + f" (reading at {WORDS_PER_MINUTE} words a minute and {FIGURE_MINUTES} min a figure"
                           + measured + ").")
    box = nodes.container(classes=["time-estimate"])
    box += lead
    return box


class chapter_times(nodes.General, nodes.Element):
    """Placeholder of ``{chapter-times}``, replaced when every chapter has been read and executed."""


class ChapterTimes(SphinxDirective):
    """``{chapter-times}``: one row per chapter: reading estimate, measured running time, status."""

    def run(self):
        self.env.note_reread()  # its rows come from the other pages' execution: rebuilt every time
        return [chapter_times()]


def _table(app, fromdoc: str) -> nodes.table:
    table = nodes.table(classes=["chapter-times"])
    group = nodes.tgroup(cols=4)
    table += group
    for width in (45, 15, 15, 25):
        group += nodes.colspec(colwidth=width)

    def row(cells):
        r = nodes.row()
        for c in cells:
            entry = nodes.entry()
            entry += c if isinstance(c, nodes.Node) else nodes.paragraph(text=str(c))
            r += entry
        return r

    head = nodes.thead()
    head += row(["Chapter", "Reading", "Running", "Execution"])
    group += head
    body = nodes.tbody()
    for doc in sorted(d for d in app.env.found_docs if CHAPTER.match(d)):
        est = chapter_estimate(app, doc)
        link = nodes.paragraph()
        link += nodes.reference(text=est.title, internal=True, refuri=app.builder.get_relative_uri(fromdoc, doc))
        run = "-" if est.run_seconds is None else f"{est.run_seconds:.0f} s"
        body += row([link, f"{est.read_minutes} min", run, est.status])
    group += body
    return table


def _insert(app, doctree, docname: str) -> None:
    for placeholder in list(doctree.findall(chapter_times)):
        placeholder.replace_self(_table(app, docname))
    if not CHAPTER.match(docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    section.insert(1, _header(chapter_estimate(app, docname)))


def _times_hash(app) -> str:
    path = Path(app.srcdir) / TIMES
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _outdated(app, env, added, changed, removed) -> list[str]:
    """Every chapter, when the measured section times have changed since the last build."""
    now = _times_hash(app)
    if getattr(env, "stablernn_times_hash", None) == now:
        return []
    env.stablernn_times_hash = now
    return [d for d in env.found_docs if CHAPTER.match(d)]


def setup(app):
    app.connect("env-get-outdated", _outdated)
    app.add_node(chapter_times)
    app.connect("doctree-resolved", _insert)
    app.add_directive("chapter-times", ChapterTimes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
