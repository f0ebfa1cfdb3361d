"""Shared fixtures and helpers: paths, one torch thread, the built site served on 127.0.0.1, Debian's
chromium, a Voilà server, and what a chapter's notebook glues."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("STABLERNN_SITE") or ROOT / "_build" / "html")  # the built site under test
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
READY = "Dashboards ready"  # stablernn.presentation.voila_server.READY (conftest does not import the server)
READY_TIMEOUT_S = 300  # eight warm-ups one after the other on a loaded 2-core machine
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def site() -> Path:
    """The built book; the README's test command builds it first."""
    if not (SITE / "index.html").exists():
        pytest.skip(f"the built book is missing ({SITE.relative_to(ROOT)}/index.html): run `make book` first")
    return SITE


@pytest.fixture(scope="session")
def site_url(site: Path):
    """The built site served over HTTP on 127.0.0.1 (a thread of this process)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by playwright (``playwright install`` is never needed)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is missing (/usr/bin/chromium): install it with `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """A fresh page that records console errors and failed requests (``page.problems``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} ({r.failure})"))
    pg.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pg.problems = problems
    yield pg
    context.close()


def screenshot(pg, name: str) -> Path:
    """Save a screenshot as a test artifact (git-ignored folder test-artifacts/)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=False)
    return path


@pytest.fixture(scope="session")
def voila_url():
    """The dashboards served by Voilà on 127.0.0.1 with the committed configuration."""
    port = free_port()
    env = {**os.environ, "JUPYTER_PATH": str(ROOT / "share" / "jupyter")}
    env.pop("STABLERNN_STATIC", None)
    log = (ROOT / "test-artifacts")
    log.mkdir(exist_ok=True)
    with open(log / "voila.log", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
             "--ServerApp.port_retries=0"],
            cwd=ROOT / "notebooks" / "dashboards", env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"Voilà did not start; see {log / 'voila.log'}")
                time.sleep(0.5)
        # the server's own word that every pool holds a kernel that has run its notebook, as a reader finds it
        notebooks = sorted(p.name for p in (ROOT / "notebooks" / "dashboards").glob("*.ipynb"))
        deadline = time.time() + READY_TIMEOUT_S
        while READY not in (text := (log / "voila.log").read_text()):
            if proc.poll() is not None or time.time() > deadline:
                waiting = [nb for nb in notebooks if f"Warmed a kernel for {nb}" not in text]
                pytest.fail(f"Voilà did not log {READY!r} within {READY_TIMEOUT_S} s; pools still warming: "
                            f"{', '.join(waiting) or 'none'} (see {log / 'voila.log'})", pytrace=False)
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group: its kernels go too
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """torch on one thread: the machine's cores are shared, and every model in these tests is small."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- what a chapter's notebook glues, and the sections of its module that give it ------------------

GLUE = re.compile(r"\{glue(?::\w*)?\}`([^`]+)`")
SHOW_SECTION = re.compile(r"show_section\(\s*chapter\.(\w+)\(")


def chapter_notebook(slug: str) -> dict:
    """The chapter notebook ``notebooks/NN_<slug>.ipynb`` as JSON."""
    (path,) = (ROOT / "notebooks").glob(f"[0-9][0-9]_{slug}.ipynb")
    return json.loads(path.read_text())


def glued_names(slug: str) -> set[str]:
    """Every name the chapter's prose quotes with ``{glue:text}`` / ``{glue:md}`` / ``{glue:}``."""
    cells = chapter_notebook(slug)["cells"]
    return {name for c in cells if c["cell_type"] == "markdown" for name in GLUE.findall("".join(c["source"]))}


def section_calls(slug: str) -> set[str]:
    """Names of the chapter-module functions that the notebook shows with ``show_section(chapter.NAME(...))``."""
    cells = chapter_notebook(slug)["cells"]
    return {name for c in cells if c["cell_type"] == "code" for name in SHOW_SECTION.findall("".join(c["source"]))}


def check_sections(slug: str, sections: dict) -> dict:
    """Run every section the chapter shows (``sections``: function name -> call as the notebook makes it) and
    check that together they give each value the notebook glues, as a finite number or a non-empty text."""
    import numpy as np

    from stablernn.chapters import Section

    assert set(sections) == section_calls(slug), "the test calls other sections than the notebook shows"
    values: dict = {}
    for name, make in sections.items():
        section = make()
        assert isinstance(section, Section), f"{name} returned {type(section).__name__}, not a Section"
        values.update(section.values)
        values.update(section.markdown)
    glued = glued_names(slug)
    assert glued, f"{slug}: the notebook glues nothing (is the glue pattern still right?)"
    assert not glued - set(values), f"{slug}: glued but given by no section: {sorted(glued - set(values))}"
    for name in glued:
        value = values[name]
        if isinstance(value, str):
            assert value.strip() and not re.search(r"\b(nan|inf|None)\b", value, re.I), f"{name} = {value!r}"
        else:
            assert isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value), f"{name} = {value!r}"
    return values


def control_corners(control) -> list:
    """An explorer control's extreme values: the ends of its static grid and of its live range."""
    lo, hi = control.live if control.live is not None else (min(control.values), max(control.values))
    return sorted({min(control.values), max(control.values), lo, hi})


def assert_finite_fields(data) -> None:
    """Every numeric field of an explorer's data is finite (optional scalars may be None, arrays empty)."""
    import numpy as np

    for name, value in vars(data).items():
        if value is None or isinstance(value, (bool, str)):
            continue
        arr = np.asarray(value, dtype=float)
        assert np.all(np.isfinite(arr)), f"{name} has non-finite values"
