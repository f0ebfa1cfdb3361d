"""Measure what a reader waits for: the book build, page weight, explorer updates, dashboard start-up.

Prints figures measured in one run on this machine (nothing here is asserted). Usage:
    .venv/bin/python bench/bench_book.py [--skip-build]
    .venv/bin/python bench/bench_book.py --pages-only --site DIR --label before --out results/bench_book.json
The cold build goes to a temporary folder (fresh execution cache), so `_build/` is left alone.
Every page of a built site is also opened in Chromium: bytes a first visit transfers and the time to
the first drawn plot, recorded under a label (``page_load``); measurements under other labels already
in ``--out`` are kept, so a site built before a change can be compared with the one after it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def timed_build(out: Path) -> float:
    env = {**os.environ, "STABLERNN_STATIC": "1"}
    start = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/jupyter-book"), "build", str(ROOT), "--path-output", str(out),
                    "--builder", "html", "-W", "-n", "--keep-going"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def explorer_update_times() -> dict[str, tuple[float, float, int]]:
    """Median and p95 of compute() over each explorer's static grid, in milliseconds."""
    import inspect

    from stablernn.presentation import explorers

    out = {}
    for name, builder in inspect.getmembers(explorers, inspect.isfunction):
        if builder.__module__ != explorers.__name__ or inspect.signature(builder).parameters:
            continue  # explorers built from data (a grid, results files) are not timed here
        ex = builder()
        times = []
        for params in ex.grid():
            start = time.perf_counter()
            ex.compute(**{**ex.fixed, **params})
            times.append((time.perf_counter() - start) * 1e3)
        times.sort()
        out[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))], len(times))
    return out


def dashboard_time_to_interactive(repeats: int = 3) -> list[tuple[str, float]]:
    from conftest import CHROMIUM, CHROMIUM_ARGS, free_port
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "JUPYTER_PATH": str(ROOT / "share" / "jupyter")}
    env.pop("STABLERNN_STATIC", None)
    proc = subprocess.Popen([sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1", "--ServerApp.port_retries=0"],
                            cwd=ROOT / "notebooks/dashboards", env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    results = []
    try:
        time.sleep(25)  # let the server start and preheat a kernel for each dashboard
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for name in sorted(x.name for x in (ROOT / "notebooks/dashboards").glob("*.ipynb")):
                for _ in range(repeats if name == "recurrent_models.ipynb" else 1):
                    page = browser.new_page()
                    start = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/voila/render/{name}")
                    page.wait_for_selector(".js-plotly-plot .main-svg, .widget-html", timeout=120_000)
                    results.append((name, time.perf_counter() - start))
                    page.close()
                    time.sleep(3)  # the pool preheats the next kernel
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
    return results


FIRST_PLOT_JS = """
(() => {  // record when the first plot's SVG appears, measured from navigation start
  const seen = () => document.querySelector(".js-plotly-plot .main-svg");
  const observer = new MutationObserver(() => {
    if (seen()) { window.__firstPlotMs = performance.now(); observer.disconnect(); }
  });
  observer.observe(document, { childList: true, subtree: true });
})();
"""


def site_pages(site: Path) -> list[str]:
    """Every page of a built site, relative to it (not the root index.html, which only redirects)."""
    pages = (p.relative_to(site) for p in site.rglob("*.html"))
    return sorted(p.as_posix() for p in pages if p.parts[0] != "_static" and p != Path("index.html"))


def page_loads(site: Path, repeats: int = 5) -> dict[str, dict]:
    """For every page: bytes a first visit transfers (response bodies, uncompressed), requests, and
    milliseconds from navigation to the first drawn plot; medians of ``repeats`` loads, each in a fresh
    browser context (empty cache)."""
    import functools
    import http.server
    import threading

    from conftest import CHROMIUM, CHROMIUM_ARGS, _QuietHandler, free_port
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()),
                                             functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    out = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for name in site_pages(site):
                has_plot = "Plotly.newPlot(" in (site / name).read_text()
                loads = []
                for _ in range(repeats):
                    context = browser.new_context(viewport={"width": 1300, "height": 1000})
                    context.add_init_script(FIRST_PLOT_JS)
                    pg = context.new_page()
                    responses = []
                    pg.on("response", lambda r: responses.append(r))
                    pg.goto(f"{url}/{name}", wait_until="load")
                    if has_plot:
                        pg.wait_for_function("() => window.__firstPlotMs !== undefined", timeout=60_000)
                    pg.wait_for_load_state("networkidle")
                    size = 0
                    for r in responses:
                        try:
                            size += len(r.body())
                        except Exception:  # a redirect has no body
                            pass
                    loads.append((size, len(responses), pg.evaluate("() => window.__firstPlotMs ?? null")))
                    context.close()
                first_plot = [t for _, _, t in loads if t is not None]
                out[name] = {"bytes": statistics.median(b for b, _, _ in loads),
                             "requests": statistics.median(n for _, n, _ in loads),
                             "first_plot_ms": statistics.median(first_plot) if first_plot else None}
                plot = f", first plot after {out[name]['first_plot_ms']:.0f} ms" if first_plot else ""
                print(f"page {name}: {out[name]['bytes'] / 1e6:.2f} MB in {out[name]['requests']:.0f} requests{plot}")
            browser.close()
    finally:
        server.shutdown()
    return out


def _command(site: Path) -> str:
    """This run's command line, with a site outside the repository named SITE (no machine path is kept)
    and the note, recorded beside it, named NOTE."""
    inside = site.resolve().is_relative_to(ROOT)
    named = {"--site": site.resolve().relative_to(ROOT).as_posix() if inside else "SITE", "--note": "NOTE"}
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        option = arg.split("=")[0]
        if "=" in arg and option in named:
            args[i] = f"{option}={named[option]}"
        elif i and args[i - 1] in named:
            args[i] = named[args[i - 1]]
    return shlex.join(["python", "bench/" + Path(__file__).name, *args])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true", help="skip the cold and warm builds")
    parser.add_argument("--out", type=Path, default=None, help="also write the measurements to this JSON file")
    parser.add_argument("--site", type=Path, default=ROOT / "_build/html", help="the built site to measure")
    parser.add_argument("--pages-only", action="store_true",
                        help="only open the site's pages; keep everything else already in --out")
    parser.add_argument("--label", default="after",
                        help="name of this site's page loads in the JSON (page_load); default: after")
    parser.add_argument("--note", default="", help="what this site is (recorded with its page loads)")
    parser.add_argument("--repeats", type=int, default=5, help="loads of each page (the median is kept)")
    args = parser.parse_args()
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    record: dict = {"command": "python bench/" + Path(__file__).name + " " + " ".join(sys.argv[1:]),
                    "date": now, "machine": f"{os.cpu_count()} cores"}
    previous = json.loads(args.out.read_text()) if args.out and args.out.exists() else {}
    if args.pages_only:
        record = previous
    record["page_load"] = {k: v for k, v in previous.get("page_load", {}).items() if k != args.label}
    print(f"machine: {os.cpu_count()} cores")
    record["page_load"][args.label] = {
        "command": _command(args.site), "date": now, "machine": f"{os.cpu_count()} cores", "note": args.note,
        "repeats": args.repeats, "pages": page_loads(args.site, args.repeats)}
    if args.pages_only:
        if args.out:
            args.out.write_text(json.dumps(record, indent=1) + "\n")
            print(f"wrote {args.out}")
        return
    if not args.skip_build:
        with tempfile.TemporaryDirectory() as tmp:
            cold = timed_build(Path(tmp))
            warm = timed_build(Path(tmp))
        record["build_s"] = {"cold": cold, "warm": warm}
        print(f"book build: cold {cold:.1f} s, warm rebuild {warm:.1f} s")
    site = args.site
    if site.exists():
        record["page_kb"] = {}
        for page in sorted((site / "notebooks").glob("*.html")):
            record["page_kb"][page.stem] = page.stat().st_size / 1e3
            print(f"page {page.name}: {page.stat().st_size / 1e3:.0f} KB of HTML")
        plotly_js = [p for p in ("plotly/plotly-cartesian.min.js", "plotly.min.js") if (site / "_static" / p).exists()]
        shared = sum((site / "_static" / f).stat().st_size for f in (*plotly_js[:1], "explorer-sliders.js"))
        record["shared_js_mb"] = shared / 1e6
        print(f"shared plotly.js + the book's slider script: {shared / 1e6:.2f} MB (loaded once, cached)")
    record["explorer_ms"] = {}
    for name, (median, p95, n) in explorer_update_times().items():
        record["explorer_ms"][name] = {"median": median, "p95": p95, "points": n}
        print(f"explorer {name}: compute per update median {median:.1f} ms, p95 {p95:.1f} ms over {n} grid points")
    record["dashboard_tti_s"] = {}
    for name, seconds in dashboard_time_to_interactive():
        record["dashboard_tti_s"].setdefault(name, []).append(seconds)
        print(f"dashboard {name}: time to interactive {seconds:.2f} s")
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
