"""Bounded load test of the Voilà dashboards on 127.0.0.1 (it stops by itself).

For N concurrent sessions on one dashboard (default N = 1, 5, 10, 20), with and without preheated
kernels, it reports the time to interactive, the failed sessions (and why each failed, in the
JSON's ``failure_reasons``), the memory of each kernel and of the
server, and, once the sessions end, how long culling takes to bring memory back to the baseline.
Nothing is asserted: it prints what it measured.

Two ways to stand in for N readers (``--clients``):

* ``readers`` (default): N - 1 readers that ask the server for exactly what a browser asks for
  (``voila_reader.py``: the page, every asset, the widget handshake) plus one real Chromium session
  whose time to interactive (first plot drawn) is measured. Readers' browsers run on their own machines;
  this keeps their rendering off the server's 2 cores, except for the one real browser.
* ``browsers``: all N sessions as pages of one Chromium on this machine, so the server and N browsers
  share the 2 cores.

Usage: .venv/bin/python bench/bench_dashboards_load.py [--sessions 1 5 10 20] [--pool 10] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

SESSION_TIMEOUT_S = 120   # a session not interactive by then counts as failed
FAILURES: list[str] = []  # why each failed session failed, recorded with the row it belongs to
CULL_S = 20               # idle kernels are culled after this many seconds in the bench
TOTAL_LIMIT_S = 2400      # the whole script stops by itself after this long
MIN_FREE_BYTES = 2 << 30  # stop adding sessions when less memory than this is available
PLOT_DRAWN = ".js-plotly-plot .main-svg"


def start_server(preheat: bool, dashboard: str, pool: int, log: Path,
                 fill_delay: float | None = None, plot: str = "light") -> tuple[subprocess.Popen, str]:
    """Voilà with the committed configuration; ``pool`` preheated kernels for the measured dashboard;
    ``plot`` is the dashboards' figure (``light``: PlotView, or ``figurewidget``)."""
    port = free_port()
    env = {**os.environ, "JUPYTER_PATH": str(ROOT / "share" / "jupyter"), "STABLERNN_DASHBOARD_PLOT": plot}
    env.pop("STABLERNN_STATIC", None)
    pools = {"default": {"pool_size": 1 if preheat else 0}, dashboard: {"pool_size": pool if preheat else 0}}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
             "--ServerApp.port_retries=0", f"--VoilaConfiguration.preheat_kernel={preheat}",
             f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}",
             f"--MappingKernelManager.cull_idle_timeout={CULL_S}", "--MappingKernelManager.cull_interval=5",
             *([f"--VoilaKernelManager.fill_delay={fill_delay}"] if fill_delay is not None else [])],
            cwd=ROOT / "notebooks" / "dashboards", env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return proc, url


def stop(server: subprocess.Popen) -> None:
    """Stop the server and its kernels (its own process group), forcibly if it does not exit."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)


def kernels(server: subprocess.Popen) -> list[psutil.Process]:
    out = []
    for p in psutil.Process(server.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:  # a kernel that has just exited
            pass
    return out


def rss(procs) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def wait_until_idle(server: subprocess.Popen, limit_s: float = 120) -> float:
    """Wait until the server and its kernels are idle (pools refilled); returns the seconds waited."""
    start = time.time()
    quiet = 0
    while time.time() - start < limit_s and quiet < 3:
        procs = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        for p in procs:
            try:
                p.cpu_percent(None)
            except psutil.Error:
                pass
        time.sleep(1)
        busy = 0.0
        for p in procs:
            try:
                busy += p.cpu_percent(None)
            except psutil.Error:
                pass
        quiet = quiet + 1 if busy < 10 else 0
    return time.time() - start


async def browser_sessions(url: str, n: int, record: list[str] | None = None,
                           main_thread: list[float] | None = None,
                           websocket: list[float] | None = None) -> list[float | None]:
    """N pages of one Chromium opened at once: seconds until each page has drawn its first plot.

    ``main_thread`` collects, per page, the seconds its main thread was busy until then (Chrome's
    ``TaskDuration``): the part of the wait spent in the browser rather than on the server;
    ``websocket`` the seconds until the page opened its kernel's websocket (Voilà's front end has
    started: what remains is the widgets' state and drawing)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        async def one() -> float | None:
            context = await browser.new_context()
            page = await context.new_page()
            if record is not None:  # the assets a browser loads from the server, for the readers to ask for
                server = url.split("/voila/")[0]
                page.on("request", lambda r: record.append(r.url[len(server):])
                        if r.resource_type in ("script", "stylesheet", "font", "image")
                        and r.url.startswith(server + "/") else None)  # not a blob: (anywidget's module)
            cdp = await context.new_cdp_session(page) if main_thread is not None else None
            if cdp:
                await cdp.send("Performance.enable")
            start = time.perf_counter()
            opened: list[float] = []
            page.on("websocket", lambda _ws: opened.append(time.perf_counter() - start))
            try:
                await page.goto(url, timeout=SESSION_TIMEOUT_S * 1000)  # the limit every session has
                await page.wait_for_selector(PLOT_DRAWN, timeout=SESSION_TIMEOUT_S * 1000)
                elapsed = time.perf_counter() - start
                if cdp:
                    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
                    main_thread.append(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))
                if websocket is not None and opened:
                    websocket.append(opened[0])
                return elapsed
            except Exception as err:  # counted as a failed session; say why
                reason = f"Chromium: {type(err).__name__}: {str(err).splitlines()[0]}"
                FAILURES.append(reason)
                print(f"session failed: {reason}", file=sys.stderr)
                return None
            finally:
                await context.close()

        results = await asyncio.gather(*(one() for _ in range(n)))
        await browser.close()
    return list(results)


def readers_and_probe(url: str, dashboard: str, readers: int, probe: bool, assets: Path):
    """Protocol readers (a worker process) and, if ``probe``, one Chromium page, started together.

    Returns the readers' ready times, the page's time to interactive and its main thread's busy time."""
    start_at = time.time() + 2  # both sides start at the same moment, after the worker has imported
    worker = subprocess.Popen([sys.executable, str(ROOT / "bench" / "voila_reader.py"), url, dashboard,
                               str(readers), str(start_at), str(assets)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) \
        if readers else None
    time.sleep(max(0.0, start_at - time.time()))
    busy: list[float] = []
    opened: list[float] = []
    probes = asyncio.run(browser_sessions(f"{url}/voila/render/{dashboard}", 1, main_thread=busy,
                                          websocket=opened)) if probe else []
    ready = []
    if worker:
        out, err = worker.communicate(timeout=SESSION_TIMEOUT_S + 60)
        ready = json.loads(out)
        FAILURES.extend("reader: " + line.removeprefix("session failed: ")
                        for line in err.splitlines() if line.startswith("session failed: "))
        sys.stderr.write(err)
    return ready, probes, busy, opened


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def summary(values: list[float | None]) -> dict:
    ok = [v for v in values if v is not None]
    return {"n": len(values), "ok": len(ok), "p50_s": statistics.median(ok) if ok else None,
            "p95_s": p95(ok) if ok else None, "all_s": [None if v is None else round(v, 3) for v in values]}


def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--dashboard", default="recurrent_models.ipynb")
    parser.add_argument("--pool", type=int, default=10, help="preheated kernels for the measured dashboard")
    parser.add_argument("--preheat", choices=["both", "yes", "no"], default="both")
    parser.add_argument("--clients", choices=["readers", "browsers"], default="readers")
    parser.add_argument("--plot", choices=["light", "figurewidget", "both"], default="light",
                        help="the dashboards' figure: PlotView (light), plotly's FigureWidget, or each in turn")
    parser.add_argument("--repeats", type=int, default=3, help="trials per row (the probe's TTI is their median)")
    parser.add_argument("--out", type=Path, default=None, help="also write the measurements to this JSON file")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"needs Debian's chromium at {CHROMIUM}")
    record = {"command": "python bench/" + Path(__file__).name + " " + " ".join(sys.argv[1:]),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
              "dashboard": args.dashboard, "pool": args.pool, "clients": args.clients,
              "repeats": args.repeats, "rows": [], "culling": []}
    plots = ["light", "figurewidget"] if args.plot == "both" else [args.plot]
    deadline = time.time() + TOTAL_LIMIT_S
    print(f"machine: {record['machine']}; dashboard {args.dashboard}; clients: {args.clients}; "
          f"pool {args.pool} when preheated; {args.repeats} trials per row")
    print("| plot | preheat | N | ok | browser TTI p50 (s) | browser TTI p95 (s) | readers ready p50 (s) | "
          "readers ready p95 (s) | MB per kernel | server + kernels (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    modes = {"both": (True, False), "yes": (True,), "no": (False,)}[args.preheat]
    tmp = Path(tempfile.mkdtemp(prefix="stablernn-load-"))
    for plot, preheat in ((plot, preheat) for plot in plots for preheat in modes):
        server, url = start_server(preheat, args.dashboard, args.pool,
                                   tmp / f"voila-{plot}-{'preheat' if preheat else 'cold'}.log", plot=plot)
        page = f"{url}/voila/render/{args.dashboard}"
        try:
            wait_until_idle(server)  # the pools fill once at start-up
            # warm-up: one session, which also records the assets a browser loads for the readers
            assets: list[str] = []
            asyncio.run(browser_sessions(page, 1, record=assets))
            (tmp / "assets.json").write_text(json.dumps(sorted(set(assets))))
            wait_until_idle(server)
            server_proc = psutil.Process(server.pid)
            baseline = rss([server_proc, *kernels(server)])
            for n in args.sessions:
                if time.time() > deadline or psutil.virtual_memory().available < MIN_FREE_BYTES:
                    print(f"stopped before N = {n}: time or memory limit reached")
                    break
                probes: list[float | None] = []
                readers: list[float | None] = []
                main_thread: list[float] = []
                websocket: list[float] = []
                FAILURES.clear()
                per_kernel = total = 0.0
                kernel_mb: list[float] = []
                for _ in range(args.repeats):
                    if args.clients == "readers":
                        got, probe, busy, opened = readers_and_probe(url, args.dashboard, n - 1, True,
                                                                     tmp / "assets.json")
                        readers += got
                        probes += probe
                        main_thread += busy
                        websocket += opened
                        if n == 1:  # the server's part alone, for comparison with the browser's
                            wait_until_idle(server)
                            readers += readers_and_probe(url, args.dashboard, 1, False, tmp / "assets.json")[0]
                    else:
                        probes += asyncio.run(browser_sessions(page, n))
                    ks = kernels(server)
                    kernel_mb = sorted(rss([k]) / 2**20 for k in ks)  # torch-free dashboards' kernels are lighter
                    per_kernel = max(per_kernel, rss(ks) / max(len(ks), 1) / 2**20)
                    total = max(total, rss([server_proc, *ks]) / 2**20)
                    wait_until_idle(server)
                browser, ready = summary(probes), summary(readers)
                failed = (browser["n"] - browser["ok"]) + (ready["n"] - ready["ok"])
                tried = browser["n"] + ready["n"]
                record["rows"].append({"plot": plot, "preheat": preheat, "sessions": n, "tried": tried, "failed": failed,
                                       "failure_reasons": list(FAILURES), "browser": browser, "readers": ready,
                                       "browser_main_thread_s": statistics.median(main_thread) if main_thread else None,
                                       "browser_websocket_s": statistics.median(websocket) if websocket else None,
                                       "mb_per_kernel": per_kernel, "mb_total": total,
                                       "kernel_mb": [round(mb) for mb in kernel_mb if mb > 0]})
                print(f"| {plot} | {'yes' if preheat else 'no'} | {n} | {tried - failed}/{tried} | "
                      f"{fmt(browser['p50_s'])} | {fmt(browser['p95_s'])} | {fmt(ready['p50_s'])} | "
                      f"{fmt(ready['p95_s'])} | {per_kernel:.0f} | {total:.0f} |", flush=True)
            # the sessions have ended: idle kernels are culled, memory should return to the baseline
            start = time.time()
            while time.time() - start < 3 * CULL_S + 30 and time.time() < deadline:
                if rss([server_proc, *kernels(server)]) <= baseline * 1.15:
                    break
                time.sleep(2)
            now = rss([server_proc, *kernels(server)])
            record["culling"].append({"plot": plot, "preheat": preheat, "mb_after": now / 2**20, "seconds": time.time() - start,
                                      "mb_baseline": baseline / 2**20})
            print(f"culling ({'preheated' if preheat else 'no preheat'}): {now / 2**20:.0f} MB after "
                  f"{time.time() - start:.0f} s, baseline {baseline / 2**20:.0f} MB")
        finally:
            stop(server)
    print(f"server logs: {tmp}")
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
