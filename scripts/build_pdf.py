"""Print the built site to one PDF: every page of the table of contents, in order, each starting on a
new sheet, with every figure drawn and every equation typeset (headless Debian chromium).

    .venv/bin/python scripts/build_pdf.py        # after the HTML build; `make pdf` runs it

Writes ``_build/html/downloads/stablernn-book.pdf`` (linked from the intro) with one bookmark per
page, and ``_build/pdf/manifest.json``: for each page, its first sheet, its title and the titles of
the figures drawn on it (tests/test_pdf.py checks the PDF against it and the HTML). Refuses to write
a PDF in which a figure was not drawn or an equation was not typeset.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import sys
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
OUT = SITE / "downloads" / "stablernn-book.pdf"
MANIFEST = ROOT / "_build" / "pdf" / "manifest.json"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WIDTH_PX = 700  # the printable width of an A4 sheet with 12 mm margins: 186 mm at 96 px per inch (703 px)

# Ready when MathJax has typeset the page and every plotly div holds a drawn plot with its traces.
READY = """() => {
  const mj = window.MathJax && MathJax.startup && MathJax.startup.promise;
  const divs = Array.from(document.querySelectorAll('.plotly-graph-div'));
  const drawn = divs.every(d => d.querySelector('.main-svg') && d._fullLayout && (d._fullData || []).length);
  return drawn && (!document.querySelector('.math') || (window.MathJax && MathJax.startup &&
         MathJax.startup.document && document.querySelector('mjx-container')));
}"""
CHECK = """() => ({
  title: (document.querySelector('main h1') || {}).textContent || document.title,
  figures: Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    label: d.getAttribute('aria-label') || '',
    traces: (d.data || []).length,
    width: d.getBoundingClientRect().width, height: d.getBoundingClientRect().height})),
  rawMath: Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container')).length,
})"""
PRINT_CSS = """
@page { size: A4; margin: 12mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-content, .header-article,
.prev-next-area, .bd-header-announcement, .skip-link { display: none !important; }
html, body { width: auto !important; min-width: 0 !important; }
.bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width {
  max-width: 100% !important; width: auto !important; margin: 0 !important; padding-left: 0 !important;
  padding-right: 0 !important; flex: 1 1 auto !important; }
.plotly-graph-div, .cell_output, figure { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
"""


def pages() -> list[str]:
    """The HTML pages of the table of contents, in reading order (``root`` first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [d + ".html" for d in docs]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def build(only: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    if not (SITE / "index.html").exists():
        print("the site is not built: run `make book` first", file=sys.stderr)
        return 1
    if not CHROMIUM.exists():
        print(f"Debian's chromium is missing ({CHROMIUM}): install it (apt-get install chromium) to build the PDF",
              file=sys.stderr)
        return 1
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    writer, manifest, problems = PdfWriter(), [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": WIDTH_PX, "height": 1100})
            for path in only or pages():
                page.goto(base + path, wait_until="load")
                page.add_style_tag(content=PRINT_CSS)
                page.emulate_media(media="print")
                page.evaluate("() => window.dispatchEvent(new Event('resize'))")  # figures refit the width
                try:
                    page.wait_for_function(READY, timeout=60_000)
                except Exception:
                    problems.append(f"{path}: figures or equations did not finish drawing in 60 s")
                page.wait_for_timeout(300)
                info = page.evaluate(CHECK)
                blank = [f["label"] for f in info["figures"] if not f["traces"] or f["width"] < 50 or f["height"] < 50]
                if blank:
                    problems.append(f"{path}: figures not drawn: {blank}")
                if info["rawMath"]:
                    problems.append(f"{path}: {info['rawMath']} equations not typeset")
                pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True,
                                                     margin={s: "12mm" for s in ("top", "bottom", "left", "right")})))
                first = len(writer.pages)
                for sheet in pdf.pages:
                    writer.add_page(sheet)
                title = " ".join(info["title"].replace("#", "").split())
                writer.add_outline_item(title=title, page_number=first)
                manifest.append({"page": path, "title": title, "first_sheet": first, "sheets": len(pdf.pages),
                                 "figures": [f["label"] for f in info["figures"]]})
            browser.close()
    finally:
        server.shutdown()
    if problems:
        print("the PDF was not written:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    writer.add_metadata({"/Title": manifest[0]["title"]})
    with open(OUT, "wb") as f:
        writer.write(f)
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(json.dumps(manifest, indent=1))
    print(f"PDF of {len(manifest)} pages of the book, {len(writer.pages)} sheets: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(build(sys.argv[1:] or None))  # page paths: print only those (to check the print of a page)
