"""The dashboards' Voilà server (stablernn.presentation.voila_server): a preheated kernel survives being
handed to a reader, the committed configuration names the manager, templates compile once.

A Voilà server on one dashboard with a culler that runs every second and culls after 3 s idle: the
preheated kernel waits in the pool longer than that, then a reader asks for the page. The kernel
must still exist after the culler has run, before the reader's browser has connected to it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, free_port

DASHBOARDS = ROOT / "notebooks" / "dashboards"
STOCK = "jupyter_server.services.kernels.kernelmanager.AsyncMappingKernelManager"


def _status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as err:
        return err.code


def _handed_out_kernel_survives(tmp_path, manager: str | None) -> bool:
    port = free_port()
    env = {**os.environ, "JUPYTER_PATH": str(ROOT / "share" / "jupyter")}
    env.pop("STABLERNN_STATIC", None)
    extra = [f"--VoilaConfiguration.multi_kernel_manager_class={manager}"] if manager else []
    log = tmp_path / "voila.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voila", "index.ipynb", "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--ServerApp.port_retries=0", "--MappingKernelManager.cull_idle_timeout=3",
             "--MappingKernelManager.cull_interval=1", *extra],
            cwd=DASHBOARDS, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while "is filled with" not in log.read_text():
            assert proc.poll() is None and time.time() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        time.sleep(5)  # the pooled kernel is now idle for longer than cull_idle_timeout
        page = urllib.request.urlopen(url + "/", timeout=30).read().decode()
        kernel = re.search(r'"kernelId": *"([0-9a-f-]+)"', page).group(1)
        assert "Using pre-heated kernel" in log.read_text()
        time.sleep(2)  # at least one culling pass, and no browser has connected
        return _status(f"{url}/api/kernels/{kernel}") == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_committed_config_uses_the_handout_aware_manager():
    import json

    config = json.loads((DASHBOARDS / "voila.json").read_text())
    assert config["VoilaConfiguration"]["multi_kernel_manager_class"] == \
        "stablernn.presentation.voila_server.HandoutAwareKernelManager"
    assert config["VoilaConfiguration"]["preheat_kernel"] is True


@pytest.mark.slow  # starts a Voilà server
def test_preheated_kernel_is_not_culled_when_handed_out(tmp_path):
    assert _handed_out_kernel_survives(tmp_path, None)


@pytest.mark.slow
def test_stock_manager_culls_the_handed_out_kernel(tmp_path):
    """The failure this manager prevents happens with Voilà's stock manager (so the test above can fail)."""
    assert not _handed_out_kernel_survives(tmp_path, STOCK)


@pytest.mark.parametrize("spec", ["nope=3", "recurrent_models=x", "recurrent_models", "recurrent_models=-1",
                                  "stability=3"])
def test_serve_command_refuses_a_bad_pool(spec):
    """`make dashboards POOLS=...` names a dashboard and a whole number, or the server does not start."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "serve_dashboards.sh"), str(free_port()), spec],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "expected NAME=KERNELS" in out.stderr and "recurrent_models" in out.stderr and repr(spec) in out.stderr


def test_templates_are_compiled_once_per_server_process(monkeypatch):
    """Each page gets a new exporter and Jinja environment; the compiled template is shared."""
    import uuid

    import jinja2
    from nbconvert.exporters import TemplateExporter

    import stablernn.presentation.voila_server  # noqa: F401  (gives every exporter's environment the shared cache)

    compiled = []
    original = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, source, *a, **k: compiled.append(source) or original(self, source, *a, **k))
    marker = uuid.uuid4().hex  # a template no other test has compiled in this process

    def render(source: str) -> str:
        exporter = TemplateExporter(extra_loaders=[jinja2.DictLoader({"page.j2": source})])
        return exporter.environment.get_template("page.j2").render(n=2)

    page = f"{marker} {{{{ n * 21 }}}}"
    assert render(page) == f"{marker} 42"
    assert render(page) == f"{marker} 42"
    assert compiled.count(page) == 1
    changed = page + "!"  # a template whose source changed is compiled again
    assert render(changed) == f"{marker} 42!"
    assert compiled.count(changed) == 1


@pytest.mark.slow  # starts the served configuration: every dashboard's pool
def test_a_dashboard_asked_for_before_its_turn_is_warmed_first_and_served_from_its_pool(tmp_path):
    """The last dashboard in the book's order, asked for as soon as the server answers: its pooled kernel
    starts at once and serves the page, and no second kernel is started for it."""
    port = free_port()
    env = {**os.environ, "JUPYTER_PATH": str(ROOT / "share" / "jupyter")}
    env.pop("STABLERNN_STATIC", None)
    log = tmp_path / "voila.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
                                 "--Voila.ip=127.0.0.1", "--ServerApp.port_retries=0"],
                                cwd=DASHBOARDS, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while _status_or_none(url + "/") is None:
            assert proc.poll() is None and time.time() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        page = urllib.request.urlopen(url + "/voila/render/in_practice.ipynb", timeout=120).read().decode()
        kernel = re.search(r'"kernelId": *"([0-9a-f-]+)"', page).group(1)
        text = log.read_text()
        assert "Warming the kernel of in_practice.ipynb first" in text, text[-3000:]
        assert f"Using pre-heated kernel: {kernel} for in_practice.ipynb" in text, text[-3000:]
        # ahead of the pools before it in the book's order
        assert text.index("Warmed a kernel for in_practice.ipynb") < text.find("Warmed a kernel for instability.ipynb") \
            or "Warmed a kernel for instability.ipynb" not in text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _status_or_none(url: str) -> int | None:
    try:
        return _status(url)
    except OSError:
        return None
