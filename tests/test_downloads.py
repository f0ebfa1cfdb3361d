"""What a reader downloads from the built site: each chapter's executed notebook (the download
button's ``_sources/<page>.ipynb``), the archive of all of them with ``results/``, which runs as
unpacked, and the whole-book PDF printed by ``scripts/build_pdf.py``."""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from html import unescape as html_unescape

import pytest
import yaml

from conftest import CHROMIUM, ROOT

pytestmark = pytest.mark.book
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARCHIVE = "downloads/stablernn-book-notebooks.zip"
PDF = "downloads/stablernn-book.pdf"


def _figure_count(nb: dict) -> int:
    return sum(json.dumps(c.get("outputs", [])).count("application/vnd.plotly.v1+json")
               for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_download_button_gives_the_executed_notebook(site, stem):
    html = (site / "notebooks" / f"{stem}.html").read_text()
    assert f"_sources/notebooks/{stem}.ipynb" in html, "the page has no .ipynb download"
    nb = json.loads((site / "_sources" / "notebooks" / f"{stem}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "google.colab" in "".join(code[0]["source"]), "the Colab cell is not first"
    assert sum(bool(c.get("outputs")) for c in code) >= 1, "the download has no outputs (the source notebook)"
    # its figures carry plotly's own mimetype, which JupyterLab draws without a re-run
    assert _figure_count(nb) >= 1


def test_the_archive_holds_every_executed_chapter_and_the_results(site):
    with zipfile.ZipFile(site / ARCHIVE) as zf:
        names = set(zf.namelist())
        readme = zf.read("stablernn-book/README.txt").decode()
    for stem in CHAPTERS:
        assert f"stablernn-book/notebooks/{stem}.ipynb" in names
    for needed in ("music.json", "wordlm.json", "truncation.json", "datastability.json"):
        assert f"stablernn-book/results/{needed}" in names
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    assert f'git+{repo["url"]}@{repo["branch"]}' in readme


def test_intro_links_the_pdf_and_the_archive(site):
    html = (site / "book" / "intro.html").read_text()
    assert f'href="../{PDF}"' in html and f'href="../{ARCHIVE}"' in html


@pytest.mark.slow
def test_a_chapter_from_the_archive_runs_where_it_is_unpacked(site, tmp_path):
    """Chapter 9 reads ../results: unpacked anywhere, it runs top to bottom with the library installed."""
    import nbformat
    from nbclient import NotebookClient

    with zipfile.ZipFile(site / ARCHIVE) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / "stablernn-book" / "notebooks"
    nb = nbformat.read(folder / "09_memory.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert _figure_count(nb) >= 1


# -- the whole-book PDF --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf(site):
    if not (site / PDF).exists():
        reason = "Debian's chromium is missing" if not CHROMIUM.exists() else "scripts/build_pdf.py did not write it"
        pytest.skip(f"no PDF of the book ({reason}; `make pdf` prints it)")
    from pypdf import PdfReader

    manifest = json.loads((ROOT / "_build" / "pdf" / "manifest.json").read_text())
    return PdfReader(site / PDF), manifest


def _text(reader, first: int, count: int) -> str:
    return " ".join(" ".join(reader.pages[i].extract_text().split()) for i in range(first, first + count))


def test_the_pdf_has_every_page_of_the_book_each_starting_a_sheet(pdf):
    reader, manifest = pdf
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert [m["page"] for m in manifest] == [d + ".html" for d in docs]
    assert len(reader.pages) == sum(m["sheets"] for m in manifest) > len(docs)
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert outline == [(m["title"], m["first_sheet"]) for m in manifest], "one bookmark per page, at its sheet"
    for m in manifest:
        first_words = " ".join(m["title"].split()[:4])
        assert first_words in _text(reader, m["first_sheet"], 1), f"{m['page']} does not start its sheet"


def test_every_figure_of_the_pdf_is_drawn_and_every_equation_typeset(pdf, site):
    reader, manifest = pdf
    for m in manifest:
        html = (site / m["page"]).read_text()
        labels = re.findall(r'class="plotly-graph-div" role="figure" aria-label="([^"]*)"', html)
        assert len(m["figures"]) == len(labels), f"{m['page']}: figures missing from the print"
        text = _text(reader, m["first_sheet"], m["sheets"])
        # NFKC undoes the font's ligatures (ﬁ); sub- and superscripts come out of a PDF as separate words
        letters = re.sub(r"[^A-Za-z]", "", unicodedata.normalize("NFKC", text))
        # plotly draws each title as text in its SVG: a figure box left blank has none
        missing = [label for label in labels
                   if label != "Figure" and re.sub(r"[^A-Za-z]", "", html_unescape(label))[:15] not in letters]
        assert not missing, f"{m['page']}: figures without their drawn title: {missing}"
        for raw in ("\\frac", "\\begin{", "$$", "\\mathrm"):
            assert raw not in text, f"{m['page']}: an equation printed as TeX ({raw})"
