"""The reader-support pages of the built site: Troubleshooting covers every way in, the execution
page lists each chapter's status and times from the build, and each chapter's header shows its
reading and running time, section by section (``book/_ext/time_estimates.py``)."""

from __future__ import annotations

import html
import json
import math
import re

import pytest

from conftest import ROOT

pytestmark = pytest.mark.book
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _text(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities such as ``&#39;`` read as characters."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _words_and_sections(stem: str) -> tuple[int, list[str]]:
    """Counted independently of the extension: Markdown tokens and ``##`` section numbers."""
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())
    words, sections = 0, []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            words += len(text.split())
            sections += re.findall(r"^## (\d+\.\d+)", text, re.M)
    return words, sections


def test_troubleshooting_covers_every_way_in(site):
    text = _text((site / "book" / "troubleshooting.html").read_text())
    for heading in ("Reading the site", "Colab", "Binder", "Running the book locally", "The dashboards",
                    "The command lines"):
        assert heading in text, f"Troubleshooting has no section {heading!r}"
    # the messages it explains are the library's own
    from stablernn.experiments import schema

    with pytest.raises(schema.ResultsError, match="is missing"):
        schema.load("music", ROOT / "nowhere")
    assert "results file ../results/music.json is missing" in text


def test_execution_page_lists_every_chapter_with_status_and_times(site):
    html = (site / "book" / "execution.html").read_text()
    table = html[html.index('class="chapter-times'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr.*?</tr>", table, re.S)[1:]
    assert len(rows) == len(CHAPTERS)
    for stem, row in zip(CHAPTERS, rows):
        cells = [_text(c) for c in re.findall(r"<td.*?</td>", row, re.S)]
        assert f"{stem}.html" in row
        assert re.fullmatch(r"\d+ min", cells[1]) and re.fullmatch(r"\d+ s", cells[2]), cells
        assert cells[3].startswith("ran"), f"{stem}: {cells[3]}"
    assert "nb-exec-table" in html or "Run Time" in html  # myst-nb's own record of the build


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_header_shows_reading_and_running_time_by_section(site, stem):
    html = (site / "notebooks" / f"{stem}.html").read_text()
    found = re.search(r'<div class="time-estimate[^"]*">(.*?)</div>', html, re.S)
    assert found, "the chapter has no time estimate"
    h1 = html.index("<h1", html.index("<article"))  # the article's title, not the print-only copy above it
    assert h1 < html.index("time-estimate") < html.index("<h2", h1), "the estimate is not in the chapter's header"
    text = _text(found.group(1))
    minutes = int(re.search(r"About (\d+) min to read", text).group(1))
    assert re.search(r"its code ran in \d+ s when this page was built", text)
    words, sections = _words_and_sections(stem)
    figures = html.count('class="plotly-graph-div"')
    assert minutes == max(1, math.ceil(words / 150 + 0.5 * figures)), text
    times = ROOT / "book" / "chapter_times.json"  # per-section code times, from bench/bench_chapters.py
    measured = json.loads(times.read_text())["chapters"].get(stem) if times.is_file() else None
    for number in sections:
        assert f"§{number} " in text, f"section {number} has no estimate"
        title = next((t for t in (measured or {}).get("sections", {}) if t.startswith(number + " ")), None)
        if title and measured["sections"][title] >= 0.5:
            assert re.search(rf"§{re.escape(number)} \d+ min \+ \d+ s of code", text), f"§{number}: no code time"


def test_troubleshooting_states_the_dashboards_configuration_as_committed():
    """The idle time after which a dashboard's kernel is shut down, as the page says it."""
    config = json.loads((ROOT / "notebooks" / "dashboards" / "voila.json").read_text())
    minutes = config["MappingKernelManager"]["cull_idle_timeout"] / 60
    text = (ROOT / "book" / "troubleshooting.md").read_text()
    assert f"idle for {minutes:g} minutes are shut down" in " ".join(text.split())
    assert 'DASHBOARDS_LOG:-/tmp/dashboards.log' in (ROOT / "binder" / "start").read_text()
    assert "/tmp/dashboards.log" in text


def test_performance_page_shows_the_live_face_before_and_after_frames(site):
    """Every explorer of bench/bench_live.py's last run, with its three medians, as the file holds them."""
    live = json.loads((ROOT / "results" / "bench_live.json").read_text())
    text = _text((site / "book" / "performance.html").read_text())
    assert "A slider move on the live face" in text
    for name, row in live["rows"].items():
        cells = " | ".join(f"{row[part]['median']:.1f} {row[part]['p95']:.1f}"
                           for part in ("compute", "whole_figure", "frame"))
        assert f"{name} {cells.replace(' | ', ' ')}" in text, f"Performance page lacks {name}'s row"
    assert live["command"] in text


def test_performance_page_shows_the_browser_redraw_in_both_faces(site):
    """Every dashboard of bench/bench_redraw.py's last run, Voilà and JupyterLab, as the file holds them."""
    redraw = json.loads((ROOT / "results" / "bench_redraw.json").read_text())
    text = _text((site / "book" / "performance.html").read_text())
    assert "From the key press to the redrawn plot" in text
    assert set(redraw["rows"]) == {"voila", "jupyterlab"}
    rows = [r for face in redraw["rows"].values() for r in face.values()]
    one_step = all(r.get("first_change_ms") == r.get("redrawn_ms") for r in rows)  # then one column per face
    parts = ("redrawn_ms",) if one_step else ("first_change_ms", "redrawn_ms")
    assert ("Every redraw was one step" in text) == one_step
    for name, row in redraw["rows"]["voila"].items():
        lab = redraw["rows"]["jupyterlab"][name]
        cells = [f"{r[part]['median']:.0f} ({r[part]['p95']:.0f})" if part in r else "no change"
                 for r in (row, lab) for part in parts]
        assert f"{name} " + " ".join(cells) in text, f"Performance page lacks {name}'s redraw row"
    assert redraw["command"] in text


def test_performance_page_shows_the_cold_start_page_by_page(site):
    """Every page of bench/bench_cold_start.py's last run, in the order opened, with both times, now and
    before (Voilà's own order, measured in the same run)."""
    cold = json.loads((ROOT / "results" / "bench_cold_start.json").read_text())
    text = _text((site / "book" / "performance.html").read_text())
    assert "Ready when the lecture starts" in text
    assert cold["rows"] and cold["rows"][0]["dashboard"] == "index"
    before = {r["dashboard"]: r for r in cold["before"]["rows"]}
    times = lambda r: f"{r['after_request_s']:.1f} {r['after_command_s']:.1f}" if "error" not in r else "failed:"  # noqa: E731
    for r in cold["rows"]:
        row = f"{r['dashboard']} {times(r)}" + (f" {times(before[r['dashboard']])}" if "error" not in r else "")
        assert row in text, f"Performance page lacks the cold-start row of {r['dashboard']}"
    assert cold["command"] in text


def test_the_memory_a_preheated_kernel_takes_is_stated_as_the_load_bench_measured():
    """README, Troubleshooting and the serve command say how much memory each extra kernel takes, for
    a dashboard without torch and one with it; each figure is what the load bench measured (the median
    kernel of its kind, within a quarter), so it changes when the kernels do."""
    load = json.loads((ROOT / "results" / "bench_dashboards_load.json").read_text())
    measured = [mb for r in load["rows"] if r["preheat"] for mb in r["kernel_mb"]]
    torch_mb = 230  # torch alone: a kernel above this has imported it
    kinds = {"without torch": [mb for mb in measured if mb < torch_mb], "with torch": [mb for mb in measured if mb >= torch_mb]}
    assert all(kinds.values()), f"the bench measured no kernel of each kind: {measured}"
    typical = {kind: sorted(mbs)[len(mbs) // 2] for kind, mbs in kinds.items()}
    for path in ("README.md", "book/troubleshooting.md", "scripts/serve_dashboards.sh"):
        stated = sorted(int(mb) for mb in re.findall(r"about\s+(\d+)\s+MB", (ROOT / path).read_text()))
        assert len(stated) == 2, f"{path} should state a kernel's memory without torch and with it: {stated}"
        for mb, (kind, want) in zip(stated, typical.items()):
            assert abs(mb - want) <= 0.25 * want, f"{path} says about {mb} MB {kind}; the bench measured {want:.0f} MB"


def test_performance_page_shows_the_front_end_with_each_figure(site):
    """Both rows of bench_dashboards_load.py --plot both (PlotView and FigureWidget), as the file holds them,
    and a finding that follows from them."""
    front = json.loads((ROOT / "results" / "bench_front_end.json").read_text())
    text = _text((site / "book" / "performance.html").read_text())
    assert "A lighter front end" in text
    rows = {r["plot"]: r for r in front["rows"]}
    assert set(rows) == {"light", "figurewidget"} and all(r["preheat"] and r["sessions"] == 1 for r in rows.values())
    for plot, name in (("light", "PlotView"), ("figurewidget", "FigureWidget")):  # (the site curls the apostrophes)
        r = rows[plot]
        times = [t for t in r["browser"]["all_s"] if t is not None]
        assert f"{name} {r['browser']['p50_s']:.2f} ({min(times):.2f}–{max(times):.2f})" in text, f"no row for {plot}"
    light, heavy = rows["light"]["browser"], rows["figurewidget"]["browser"]
    faster = heavy["p50_s"] - light["p50_s"]
    assert f"comes {abs(faster):.1f} s {'sooner' if faster >= 0 else 'later'}" in text
    assert (max(light["all_s"]) < min(heavy["all_s"])) == ("every load with PlotView was faster" in text)
    assert front["command"] in text
