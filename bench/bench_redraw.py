"""Slider to redrawn plot, in a real browser: what a reader waits for after pressing an arrow key.

    python bench/bench_redraw.py [--moves 12] [--out results/bench_redraw.json] [--note TEXT]

It serves the dashboards with ``scripts/serve_dashboards.sh`` (Voilà, preheated kernels) and, for
the same notebooks, starts JupyterLab on the repository, opens each dashboard notebook and runs its
one cell (in a temporary copy, which JupyterLab may save). In each, Chromium focuses the dashboard's first slider and presses an arrow key ``--moves``
times (right, then back left), waiting each time until the plot's DOM has changed and then for
quiet. A page script times every move from the ``keydown`` event to the first change under a
``.js-plotly-plot`` element (the reader sees the plot move) and to the last change before 250 ms of
quiet (the redraw is complete). Medians and 95th percentiles over the moves; nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from bench_cold_start import serve  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

PLOT_DRAWN = ".js-plotly-plot .main-svg"
SLIDER = ".widget-slider .noUi-handle"
QUIET_MS = 250
TIMEOUT_S = 120
# every dashboard whose sliders redraw a plot: in_practice's set a training run and draw nothing until Run
DASHBOARDS = ("recurrent_models", "bptt", "feedforward", "truncation", "training", "instability")

# Times every key press to the plots' first DOM change and to their last change before QUIET_MS of quiet.
WATCH = """(quiet) => {
  window.__moves = [];
  let move = null;
  document.addEventListener('keydown', () => {
    move = {t0: performance.now(), first: null, last: null};
    window.__moves.push(move);
  }, true);
  const seen = () => {
    if (!move) return;
    const now = performance.now();
    if (move.first === null) move.first = now - move.t0;
    move.last = now - move.t0;
  };
  const observer = new MutationObserver(seen);
  for (const plot of document.querySelectorAll('.js-plotly-plot'))
    observer.observe(plot, {subtree: true, childList: true, attributes: true, characterData: true});
  window.__settled = () => move && move.first !== null && performance.now() - move.t0 - move.last > quiet;
}"""


def _wait_http(url: str, proc: subprocess.Popen) -> None:
    deadline = time.time() + TIMEOUT_S
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"no server at {url}")
            time.sleep(0.5)


def _shut_down_kernels(base: str) -> None:
    for kernel in json.loads(urllib.request.urlopen(base + "/api/kernels", timeout=10).read()):
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/kernels/{kernel['id']}", method="DELETE"),
                               timeout=30)


def _moves(page, n: int) -> list[dict]:
    """Press an arrow key ``n`` times on the first slider (right, then back), each after the last settled."""
    page.evaluate(WATCH, QUIET_MS)
    handle = page.locator(SLIDER).first
    handle.focus()
    keys = ["ArrowRight"] * (n - n // 2) + ["ArrowLeft"] * (n // 2)
    moves = []
    for key in keys:
        page.keyboard.press(key)
        try:
            page.wait_for_function("() => window.__settled()", timeout=10_000, polling=50)
        except Exception:  # playwright's TimeoutError: this press changed nothing
            pass
        moves.append(page.evaluate("() => window.__moves[window.__moves.length - 1]"))
    return moves


def _summary(moves: list[dict]) -> dict:
    first = [m["first"] for m in moves if m and m["first"] is not None]
    last = [m["last"] for m in moves if m and m["last"] is not None]
    if not first:
        return {"moves": len(moves), "redrawn": 0}
    return {"moves": len(moves), "redrawn": len(first),
            "first_change_ms": {"median": float(np.median(first)), "p95": float(np.percentile(first, 95))},
            "redrawn_ms": {"median": float(np.median(last)), "p95": float(np.percentile(last, 95))}}


def in_voila(browser, n: int) -> dict:
    port = free_port()
    proc, seen = serve(port, time.perf_counter())
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/", proc)
        deadline = time.time() + 300
        while "ready_s" not in seen and time.time() < deadline:
            time.sleep(0.5)
        rows = {}
        for name in DASHBOARDS:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(f"{base}/voila/render/{name}.ipynb", timeout=TIMEOUT_S * 1000)
            page.wait_for_selector(PLOT_DRAWN, timeout=TIMEOUT_S * 1000)
            page.wait_for_timeout(1000)
            rows[name] = _summary(_moves(page, n))
            page.close()
            print(f"Voilà      {name}: {rows[name]}", flush=True)
        return rows
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def in_jupyterlab(browser, n: int) -> dict:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "STABLERNN_STATIC"}
    notebooks = Path(tempfile.mkdtemp(prefix="stablernn-redraw-"))  # copies: JupyterLab saves what it opens
    for name in DASHBOARDS:
        shutil.copy(ROOT / "notebooks" / "dashboards" / f"{name}.ipynb", notebooks)
    log = open(ROOT / "test-artifacts" / "bench_redraw_lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
                             "--ServerApp.ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=",
                             "--ServerApp.disable_check_xsrf=True",  # the bench shuts kernels down by REST
                             f"--ServerApp.root_dir={notebooks}", "--ServerApp.port_retries=0", "--allow-root"],
                            cwd=notebooks, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/lab", proc)
        rows = {}
        for name in DASHBOARDS:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            # ?reset: a fresh workspace, or JupyterLab reopens the last page's notebook beside this one
            page.goto(f"{base}/lab/tree/{name}.ipynb?reset", timeout=TIMEOUT_S * 1000)
            page.wait_for_url(lambda url: "reset" not in url, timeout=TIMEOUT_S * 1000)  # JupyterLab drops it
            editor = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content").first
            for attempt in range(4):  # a key press lost while JupyterLab still lays out the page: press again
                editor.wait_for(timeout=TIMEOUT_S * 1000)
                editor.click()  # into the cell's editor: JupyterLab queues the run until its kernel is up
                page.keyboard.press("Shift+Enter")
                try:
                    page.wait_for_selector(PLOT_DRAWN, timeout=30_000 if attempt < 3 else TIMEOUT_S * 1000)
                    break
                except Exception:  # playwright's TimeoutError
                    if attempt == 3:
                        raise
            page.wait_for_timeout(1000)
            rows[name] = _summary(_moves(page, n))
            # leave without the "save changes?" dialog and free the kernel
            page.evaluate("() => window.onbeforeunload = null")
            page.close()
            _shut_down_kernels(base)  # closing JupyterLab's page leaves its kernel running
            print(f"JupyterLab {name}: {rows[name]}", flush=True)
        return rows
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except ProcessLookupError:  # the server had already exited; its log says why
            pass
        log.close()
        shutil.rmtree(notebooks, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=12, help="arrow-key presses per dashboard (>= 2)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--note", default="", help="what else ran on the machine, recorded with the results")
    args = parser.parse_args()
    if args.moves < 2:
        parser.error("--moves must be at least 2")
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        record = {"voila": in_voila(browser, args.moves), "jupyterlab": in_jupyterlab(browser, args.moves)}
        browser.close()
    print("\n| dashboard | Voilà: first change (p95) | Voilà: redrawn | JupyterLab: first change (p95) | JupyterLab: redrawn |")
    print("|---|---|---|---|---|")
    for name in DASHBOARDS:
        cells = []
        for face in ("voila", "jupyterlab"):
            row = record[face][name]
            if "first_change_ms" not in row:
                cells += ["no change", "no change"]
                continue
            cells += [f"{row['first_change_ms']['median']:.0f} ({row['first_change_ms']['p95']:.0f}) ms",
                      f"{row['redrawn_ms']['median']:.0f} ({row['redrawn_ms']['p95']:.0f}) ms"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.out:
        record = {"command": "python bench/" + Path(__file__).name + " " + " ".join(sys.argv[1:]),
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores", "moves": args.moves,
                  "quiet_ms": QUIET_MS, "note": args.note, "rows": record}
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
