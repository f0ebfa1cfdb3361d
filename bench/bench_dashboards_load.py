"""Bounded load test of the Voilà dashboards on 127.0.0.1 (it stops by itself).

For N concurrent sessions (default 1, 5, 10, 20), with and without preheated kernels, it opens N
browser pages on one dashboard at once and reports the time to interactive (p50, p95), the failed
sessions, the memory of each kernel and of the server, and, after the pages close, how long culling
takes to bring memory back to the baseline. Nothing is asserted: it prints what it measured.

Usage: .venv/bin/python bench/bench_dashboards_load.py [--sessions 1 5 10 20] [--dashboard stability.ipynb]
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
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

SESSION_TIMEOUT_S = 120   # a session not interactive by then counts as failed
CULL_S = 20               # idle kernels are culled after this many seconds in the bench
TOTAL_LIMIT_S = 1500      # the whole script stops by itself after this long
MIN_FREE_BYTES = 2 << 30  # stop adding sessions when less memory than this is available


def start_server(preheat: bool, pool: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "JUPYTER_PATH": str(ROOT / "share" / "jupyter")}
    env.pop("STABLERNN_STATIC", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--ServerApp.port_retries=0", f"--VoilaConfiguration.preheat_kernel={preheat}",
         f"--VoilaConfiguration.default_pool_size={pool}",
         f"--MappingKernelManager.cull_idle_timeout={CULL_S}", "--MappingKernelManager.cull_interval=5"],
        cwd=ROOT / "notebooks" / "dashboards", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return proc, url


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


async def open_sessions(url: str, n: int) -> list[float | None]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        async def one() -> float | None:
            context = await browser.new_context()
            page = await context.new_page()
            start = time.perf_counter()
            try:
                await page.goto(url)
                await page.wait_for_selector(".js-plotly-plot .main-svg", timeout=SESSION_TIMEOUT_S * 1000)
                return time.perf_counter() - start
            except Exception:
                return None
            finally:
                await context.close()

        results = await asyncio.gather(*(one() for _ in range(n)))
        await browser.close()
    return list(results)


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--dashboard", default="stability.ipynb")
    parser.add_argument("--pool", type=int, default=1, help="preheated kernels per dashboard")
    parser.add_argument("--preheat", choices=["both", "yes", "no"], default="both")
    parser.add_argument("--out", type=Path, default=None, help="also write the measurements to this JSON file")
    args = parser.parse_args()
    record = {"command": "python bench/" + Path(__file__).name + " " + " ".join(sys.argv[1:]),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
              "dashboard": args.dashboard, "rows": [], "culling": []}
    if not CHROMIUM.exists():
        sys.exit(f"needs Debian's chromium at {CHROMIUM}")
    deadline = time.time() + TOTAL_LIMIT_S
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; dashboard {args.dashboard}")
    print("| preheat | N | ok | failed | TTI p50 (s) | TTI p95 (s) | MB per kernel | server + kernels (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    modes = {"both": (True, False), "yes": (True,), "no": (False,)}[args.preheat]
    record["pool"] = args.pool
    for preheat in modes:
        server, url = start_server(preheat, args.pool)
        try:
            time.sleep(10 + 6 * args.pool if preheat else 3)  # the pools fill once at start-up
            server_proc = psutil.Process(server.pid)
            baseline = rss([server_proc, *kernels(server)])
            for n in args.sessions:
                if time.time() > deadline or psutil.virtual_memory().available < MIN_FREE_BYTES:
                    print(f"stopped before N = {n}: time or memory limit reached")
                    break
                times = asyncio.run(open_sessions(f"{url}/voila/render/{args.dashboard}", n))
                ok = [t for t in times if t is not None]
                ks = kernels(server)
                per_kernel = rss(ks) / max(len(ks), 1) / 2**20
                total = rss([server_proc, *ks]) / 2**20
                record["rows"].append({"preheat": preheat, "sessions": n, "ok": len(ok), "failed": n - len(ok),
                                       "tti_p50_s": statistics.median(ok) if ok else None,
                                       "tti_p95_s": p95(ok) if ok else None,
                                       "mb_per_kernel": per_kernel, "mb_total": total})
                print(f"| {'yes' if preheat else 'no'} | {n} | {len(ok)} | {n - len(ok)} | "
                      f"{statistics.median(ok) if ok else float('nan'):.2f} | {p95(ok) if ok else float('nan'):.2f} | "
                      f"{per_kernel:.0f} | {total:.0f} |", flush=True)
            # pages are closed: idle kernels are culled, memory should return to the baseline
            start = time.time()
            while time.time() - start < 3 * CULL_S + 30 and time.time() < deadline:
                now = rss([server_proc, *kernels(server)])
                if now <= baseline * 1.15:
                    break
                time.sleep(2)
            now = rss([server_proc, *kernels(server)])
            record["culling"].append({"preheat": preheat, "mb_after": now / 2**20, "seconds": time.time() - start,
                                      "mb_baseline": baseline / 2**20})
            print(f"culling ({'preheated' if preheat else 'no preheat'}): {now / 2**20:.0f} MB after "
                  f"{time.time() - start:.0f} s, baseline {baseline / 2**20:.0f} MB")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
