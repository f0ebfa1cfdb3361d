"""Measure what a reader waits for: the book build, page weight, explorer updates, dashboard start-up.

Prints figures measured in one run on this machine (nothing here is asserted). Usage:
    .venv/bin/python bench/bench_book.py [--skip-build]
The cold build goes to a temporary folder (fresh execution cache), so `_build/` is left alone.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true", help="skip the cold and warm builds")
    parser.add_argument("--out", type=Path, default=None, help="also write the measurements to this JSON file")
    args = parser.parse_args()
    record: dict = {"command": "python bench/" + Path(__file__).name + " " + " ".join(sys.argv[1:]),
                    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "machine": f"{os.cpu_count()} cores"}
    print(f"machine: {record['machine']}")
    if not args.skip_build:
        with tempfile.TemporaryDirectory() as tmp:
            cold = timed_build(Path(tmp))
            warm = timed_build(Path(tmp))
        record["build_s"] = {"cold": cold, "warm": warm}
        print(f"book build: cold {cold:.1f} s, warm rebuild {warm:.1f} s")
    site = ROOT / "_build/html"
    if site.exists():
        record["page_kb"] = {}
        for page in sorted((site / "notebooks").glob("*.html")):
            record["page_kb"][page.stem] = page.stat().st_size / 1e3
            print(f"page {page.name}: {page.stat().st_size / 1e3:.0f} KB of HTML")
        shared = sum((site / "_static" / f).stat().st_size for f in ("plotly.min.js", "explorer-sliders.js"))
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
