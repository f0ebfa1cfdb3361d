"""Binder, as Binder starts it: ``binder/start`` in front of the Jupyter server, at the repository root.

The dashboards are served by their own Voilà server with the committed configuration (the book's
template, sources stripped, the file allow-list, preheated kernels), behind jupyter-server-proxy at
``proxy/absolute/PORT/``, the address of the book's Binder dashboard links; and the reader image of
``binder/`` resolves together with repo2docker's base environment (``pip check``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, free_port, screenshot
from reference import REPO2DOCKER_BASE

pytestmark = pytest.mark.slow
ARTIFACTS = ROOT / "test-artifacts"


def _get(url: str, timeout: float = 60) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:  # not listening yet, or timed out
        return 0, str(e)


@pytest.fixture(scope="module")
def binder_server():
    """``binder/start jupyter lab`` at the repository root; yields the dashboards' base address."""
    lab, dashboards = free_port(), free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    env = {**os.environ, "DASHBOARDS_PORT": str(dashboards), "DASHBOARDS_LOG": str(ARTIFACTS / "binder-dashboards.log"),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for name in ("STABLERNN_STATIC", "JUPYTERHUB_SERVICE_PREFIX", "JUPYTER_PATH"):
        env.pop(name, None)
    with open(ARTIFACTS / "binder-lab.log", "w") as log:
        proc = subprocess.Popen(
            ["binder/start", "jupyter", "lab", "--no-browser", f"--port={lab}", "--ServerApp.ip=127.0.0.1",
             "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.port_retries=0", "--allow-root"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{lab}/proxy/absolute/{dashboards}"
    try:
        deadline = time.time() + 120
        while _get(f"{base}/voila/render/index.ipynb", timeout=30)[0] != 200:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"no dashboard behind {base}; see {ARTIFACTS}/binder-*.log")
            time.sleep(1)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server, the dashboards' Voilà and its kernels
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_binder_serves_each_dashboard_with_the_committed_configuration(binder_server):
    import json

    for nb in sorted((ROOT / "notebooks" / "dashboards").glob("*.ipynb")):
        status, html = _get(f"{binder_server}/voila/render/{nb.name}", timeout=120)
        assert status == 200, f"{nb.name}: {status}"
        assert "fortawesome" not in html, f"{nb.name}: the stock template (its CDN links), not the book's"
        source = "".join(json.loads(nb.read_text())["cells"][0]["source"])
        for line in filter(None, source.splitlines()):
            assert line not in html, f"{nb.name}: sources are not stripped ({line!r})"
    log = (ARTIFACTS / "binder-dashboards.log").read_text()
    assert "is filled with" in log, "no kernel was preheated"  # Voilà's pool log line


def test_binder_serves_static_files_and_refuses_others(binder_server):
    status, html = _get(f"{binder_server}/voila/render/index.ipynb")
    statics = re.findall(r'(?:src|href)="(/proxy/absolute/\d+/voila/[^"?]+\.(?:js|css))', html)
    assert statics, "the page links no static file under the proxied base"
    origin = binder_server.split("/proxy/", 1)[0]
    for path in statics[:5]:
        assert _get(origin + path)[0] == 200, path
    for refused in ("voila/files/voila.json", "voila/files/index.ipynb", "voila/files/..%2F..%2Fpyproject.toml"):
        status, _ = _get(f"{binder_server}/{refused}")
        assert 400 <= status < 500, f"{refused}: {status}"


@pytest.mark.browser
def test_a_binder_dashboard_is_live_through_the_proxy(page, binder_server):
    page.goto(f"{binder_server}/voila/render/recurrent_models.ipynb", timeout=90_000)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    before = page.evaluate("() => JSON.stringify(document.querySelector('.js-plotly-plot').data.map(t => t.y))")
    page.locator(".widget-slider .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(b) => JSON.stringify(document.querySelector('.js-plotly-plot').data.map(t => t.y)) !== b",
                           arg=before, timeout=20_000)  # the kernel answered over the proxied websocket
    screenshot(page, "binder_dashboard")
    assert not page.problems, page.problems


def _reader_requirements(tmp: Path) -> Path:
    """binder/requirements.txt without PyTorch's index (the package registries only, as in CI)."""
    text = (ROOT / "binder" / "requirements.txt").read_text()
    out = tmp / "requirements.txt"
    out.write_text("\n".join(l for l in text.splitlines() if not l.startswith("--extra-index-url")) + "\n")
    return out


def test_reader_image_resolves_with_repo2docker_base_environment(tmp_path):
    """Built the way repo2docker builds it: its base packages, then binder/requirements.txt, then
    binder/postBuild; ``pip check`` must be clean and the reader's imports must work."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # a clean venv of the base Python
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *REPO2DOCKER_BASE], check=True, timeout=900)
    subprocess.run([*pip, "-r", str(_reader_requirements(tmp_path))], check=True, timeout=900)
    subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, check=True, timeout=300,
                   env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)})
    check = subprocess.run([py, "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tools = subprocess.run([py, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout.lower()
    for tool in ("jupyter-book", "sphinx", "playwright", "pytest", "hypothesis"):
        assert f"\n{tool}==" not in "\n" + tools, f"the reader image holds the build/test tool {tool}"
    run = subprocess.run([py, "-c", "import stablernn.presentation.explorers, voila, jupyter_server_proxy, notebook; "
                          "print('ok')"], capture_output=True, text=True, cwd=tmp_path)
    assert run.stdout.strip() == "ok", run.stderr
