"""What a reader reads on every page of the built site: rendered math and references, no build noise.

The check works on the HTML the build wrote (no browser): the visible text of each page's article, with
code, scripts and rendered math taken out, must hold no markup that failed to render; every labelled
equation must be display math; no page shows a stderr block or a widget that no chapter means to show.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from conftest import SITE

RAW = re.compile(r"\$|\(eq-|\{glue|\{cite|\{eq\}|\{prf:|:::|```")
HIDDEN = re.compile(r"<(script|style|pre|code|textarea)\b.*?</\1>"
                    r"|<span class=\"math[^\"]*\">.*?</span>|<div class=\"math[^\"]*\"[^>]*>.*?</div>", re.S | re.I)
# Pages that mean to show a live widget on the static site (none: every explorer has a plotly face).
WIDGET_PAGES: set[str] = set()


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not {"_static", "_sources", "_modules"} & set(p.parts))


def visible_text(page_html: str) -> str:
    """The article's text as a reader sees it, without code, scripts and rendered math."""
    found = re.search(r"<article[^>]*>(.*)</article>", page_html, re.S)
    body = HIDDEN.sub(" ", found.group(1) if found else page_html)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def problems(page_html: str) -> list[str]:
    """Everything on one page that a reader should not see."""
    out = []
    text = visible_text(page_html)
    for m in RAW.finditer(text):
        out.append(f"raw markup {m.group(0)!r}: …{' '.join(text[max(0, m.start() - 50):m.end() + 30].split())}…")
    # a labelled equation renders as display math carrying the label as its id
    for label in re.findall(r'id="(equation-[^"]+)"', page_html):
        tag = re.search(rf'<(\w+)[^>]*id="{re.escape(label)}"[^>]*>', page_html)
        if not (tag and tag.group(1) == "div" and 'class="math' in tag.group(0)):
            out.append(f"{label} is not rendered as display math")
    for ref in re.findall(r'href="#(equation-[^"]+)"', page_html):
        if f'id="{ref}"' not in page_html and ".html#" not in ref:
            out.append(f"reference to {ref}, which is not on the page")
    if re.search(r'class="[^"]*\boutput stderr\b', page_html):
        out.append("a stderr output block (build noise)")
    return out


def test_the_check_finds_what_broke_chapter_1():
    """A display equation written right after a line of text used to render inline, with its label."""
    broken = ('<article><p>an affine map of the previous state and the input: $ h_t = \\rho(Wh_{t-1}) $ '
              '(eq-rnn)</p><div class="output stderr"><pre>Matplotlib is building the font cache</pre></div>'
              '</article>')
    found = problems(broken)
    assert any("'$'" in p for p in found) and any("(eq-" in p for p in found)
    assert any("stderr" in p for p in found)
    assert problems('<article><div class="math notranslate nohighlight" id="equation-eq-rnn">\\[h\\]</div>'
                    '<p><a href="#equation-eq-rnn">(1.1)</a></p></article>') == []


@pytest.mark.parametrize("page", pages(SITE) if SITE.exists() else [], ids=lambda p: str(p.relative_to(SITE)))
def test_every_page_reads_as_rendered_text(site, page):
    found = problems(page.read_text(errors="replace"))
    assert not found, f"{page.relative_to(site)}:\n" + "\n".join(found[:10])


@pytest.mark.parametrize("page", pages(SITE) if SITE.exists() else [], ids=lambda p: str(p.relative_to(SITE)))
def test_no_page_shows_a_widget_it_does_not_mean_to(site, page):
    """Progress bars in a kernel are widgets; on a static page they are noise and pull in the widget manager."""
    rel = str(page.relative_to(site))
    views = page.read_text(errors="replace").count("application/vnd.jupyter.widget-view+json")
    assert views == 0 or rel in WIDGET_PAGES, f"{rel} shows {views} widget view(s)"


CHAPTERS = sorted(p.name for p in (SITE / "notebooks").glob("[0-9][0-9]_*.html")) if SITE.exists() else []


@pytest.mark.browser
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_mathjax_typesets_every_formula(page, site_url, chapter):
    """MathJax is loaded by its own loader with only the parts the book needs (no menu): every formula
    of the page is typeset, none reports an error, and each carries MathML for screen readers."""
    page.goto(f"{site_url}/notebooks/{chapter}")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")
    counts = page.evaluate("""() => ({
        source: document.querySelectorAll('span.math, div.math').length,
        typeset: document.querySelectorAll('mjx-container').length,
        errors: document.querySelectorAll('mjx-merror').length,
        assistive: document.querySelectorAll('mjx-assistive-mml').length})""")
    assert counts["source"] > 0 and counts["typeset"] >= counts["source"], counts
    assert counts["errors"] == 0, counts
    assert counts["assistive"] >= counts["source"], counts
    assert not page.problems, page.problems
