"""Cold-start benchmark of the dashboards: how long a lecturer waits after the serve command.

    python bench/bench_cold_start.py [--first truncation] [--out results/bench_cold_start.json]

With Chromium already open (a lecturer's browser is), it runs ``scripts/serve_dashboards.sh`` (the
committed configuration, one preheated kernel per dashboard) and, as soon as the server answers,
opens the landing page and then the
``--first`` dashboard, as a lecturer does, then every other dashboard one after the other. For each
it reports the seconds from the command to the first plot drawn and from the page's request to it;
also when the server listened and when it printed that the dashboards are ready. Nothing is asserted.

It does so twice in one run: first *before*, with Voilà's own order (every pool's kernel started at
once, readers not served first: ``preheat_concurrency`` unbounded and ``readers_first`` off, set
through a configuration directory), then with the served configuration.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

PLOT_DRAWN = ".js-plotly-plot .main-svg"
LANDING = "index"
READY_LINE = "Dashboards ready"  # what serve_dashboards.sh prints once every pool holds its kernel
TIMEOUT_S = 120


def dashboards() -> list[str]:
    return sorted(p.stem for p in (ROOT / "notebooks" / "dashboards").glob("*.ipynb") if p.stem != LANDING)


def serve(port: int, start: float, config_dir: Path | None = None) -> tuple[subprocess.Popen, dict]:
    """The serve command, with the time of each line it prints (seconds after ``start``); ``config_dir``
    is a Jupyter configuration directory read before the dashboards' own ``voila.json``."""
    env = {k: v for k, v in os.environ.items() if k != "STABLERNN_STATIC"}
    if config_dir is not None:
        env["JUPYTER_CONFIG_PATH"] = str(config_dir)
    proc = subprocess.Popen(["bash", "scripts/serve_dashboards.sh", str(port)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    seen: dict = {"lines": []}

    def read() -> None:
        for line in proc.stdout:
            now = time.perf_counter() - start
            seen["lines"].append((now, line.rstrip()))
            if READY_LINE in line and "ready_s" not in seen:
                seen["ready_s"] = now

    threading.Thread(target=read, daemon=True).start()
    return proc, seen


def one_start(browser, order: list[str], label: str, config_dir: Path | None = None) -> dict:
    """Run the serve command, open every page of ``order`` one after the other, stop the server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc, seen = serve(port, start, config_dir)
    rows = []
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                break
            except OSError:
                if time.perf_counter() - start > TIMEOUT_S:
                    raise SystemExit("the server did not answer within the timeout") from None
                time.sleep(0.1)
        listen_s = time.perf_counter() - start
        print(f"{label}: server answers {listen_s:.1f} s after the command", flush=True)
        for name in order:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            asked = time.perf_counter()
            row = {"dashboard": name, "asked_s": asked - start}
            try:
                page.goto(f"{url}/voila/render/{name}.ipynb", timeout=TIMEOUT_S * 1000)
                page.wait_for_selector("h1" if name == LANDING else PLOT_DRAWN, timeout=TIMEOUT_S * 1000)
                done = time.perf_counter()
                row.update(after_command_s=done - start, after_request_s=done - asked)
            except Exception as err:  # a dashboard that never drew: say why
                row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
            page.close()
            rows.append(row)
            shown = row.get("error") or (f"{row['after_request_s']:.1f} s after its request, "
                                         f"{row['after_command_s']:.1f} s after the command")
            print(f"{label}: {name:17s} {shown}", flush=True)
        deadline = time.perf_counter() + 60
        while "ready_s" not in seen and time.perf_counter() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    ready = seen.get("ready_s")
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / f"bench_cold_start_{label}.log").write_text(  # each server line, timed
        "".join(f"{t:7.2f} {line}\n" for t, line in seen["lines"]))
    print(f"{label}: serve command said ready " + ("never" if ready is None else f"{ready:.1f} s after it started"))
    return {"listen_s": listen_s, "ready_s": ready, "rows": rows}


def main() -> None:
    names = dashboards()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", default="truncation", choices=names, help="the dashboard opened first")
    parser.add_argument("--out", type=Path, help="write the measurements as JSON here")
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    order = [LANDING, args.first, *[n for n in names if n != args.first]]
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="stablernn-cold-") as stock:
        (Path(stock) / "voila.json").write_text(json.dumps(
            {"HandoutAwareKernelManager": {"preheat_concurrency": 1000, "readers_first": False}}))
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        browser.new_page().close()  # the browser's first page costs a second or two: before any clock starts
        before = one_start(browser, order, "before", Path(stock))
        after = one_start(browser, order, "now")
        browser.close()
    if args.out:
        record = {"command": "python " + " ".join(shlex.quote(a) for a in ["bench/bench_cold_start.py", *sys.argv[1:]]),
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores", "note": args.note,
                  "first": args.first, **after, "before": before}
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
