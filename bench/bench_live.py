"""Live-face benchmark: how long one slider move takes in Python, before and after frames.

    python bench/bench_live.py [--threads N] [--out results/bench_live.json]

For every explorer built without data (the ones with continuous sliders), each control is moved
over its live range (15 evenly spaced values, then the static grid's values), the others at their
defaults, and each move is timed from setting the slider's value to the end of its callback. Two
ways of drawing are timed side by side in one run, on the same moves:

- *whole figure*: ``compute``, then the explorer's ``figure`` (a plotly figure built and validated),
  diffed into the ``FigureWidget`` (the live face before frames);
- *frame*: ``compute``, then the explorer's ``frame`` (plain arrays and the few layout values that
  vary), sent as one ``plotly_update`` of what changed (the live face now).

``compute`` alone is timed on the same values. Times are medians and 95th percentiles in
milliseconds; nothing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import inspect
import json
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np

STEPS = 15  # evenly spaced values over each live slider's range


def moves(explorer) -> list[dict]:
    """The slider positions of one pass: each control over its range, the others at their defaults."""
    out = []
    for c in explorer.controls:
        if c.numeric and c.step is not None:
            lo, hi = c.live if c.live is not None else (min(c.values), max(c.values))
            values = [*np.linspace(lo, hi, STEPS), *c.values]
            values = [int(round(v)) if c.integer else round(float(v) / c.step) * c.step for v in values]
        else:
            values = list(c.values)
        out += [{**explorer.defaults(), c.name: v} for v in values]
    return out


def time_moves(explorer, positions: list[dict]) -> list[float]:
    """Milliseconds from setting each slider value to the end of the live face's callback."""
    box = explorer.widget()
    inputs = box.explorer_inputs
    times = []
    for params in positions:
        for name, value in params.items():
            widget = inputs[name]
            if widget.value == value:
                continue
            start = time.perf_counter()
            widget.value = value
            times.append((time.perf_counter() - start) * 1e3)
    return times


def time_compute(explorer, positions: list[dict]) -> list[float]:
    times = []
    for params in positions:
        start = time.perf_counter()
        explorer.compute(**{**explorer.fixed, **params})
        times.append((time.perf_counter() - start) * 1e3)
    return times


def summary(times: list[float]) -> dict:
    times = sorted(times)
    return {"median": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "moves": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as in a dashboard)")
    parser.add_argument("--out", type=Path, help="write the table as JSON here (the Performance page reads it)")
    parser.add_argument("--note", default="", help="what else ran on the machine, printed under the table")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from stablernn.presentation import explorers

    rows = {}
    for name, builder in inspect.getmembers(explorers, inspect.isfunction):
        if builder.__module__ != explorers.__name__ or inspect.signature(builder).parameters:
            continue  # explorers built from data (a grid, results files) have no continuous slider
        explorer = builder()
        if not any(c.numeric and c.step is not None for c in explorer.controls):
            continue  # choices only (Chapter 10's runs): nothing continuous to move
        positions = moves(explorer)
        whole = dataclasses.replace(explorer, frame=None)
        for ex in (explorer, whole):  # warm-up: first calls allocate and import
            time_moves(ex, positions[:3])
        compute, framed, rebuilt = [], [], []
        for _ in range(2):  # interleaved passes, so that a change in the machine's load hits both alike
            compute += time_compute(explorer, positions)
            rebuilt += time_moves(whole, positions)
            framed += time_moves(explorer, positions) if explorer.frame is not None else []
        rows[name] = {"compute": summary(compute), "whole_figure": summary(rebuilt),
                      "frame": summary(framed) if framed else None}
        f = rows[name]["frame"]
        print(f"{name:18s} compute {rows[name]['compute']['median']:6.1f} ms | whole figure "
              f"{rows[name]['whole_figure']['median']:6.1f} (p95 {rows[name]['whole_figure']['p95']:6.1f}) | frame "
              + ("–" if f is None else f"{f['median']:6.1f} (p95 {f['p95']:6.1f})") + " ms", flush=True)
    if args.out:
        record = {"command": "python " + " ".join(shlex.quote(a) for a in ["bench/bench_live.py", *sys.argv[1:]]),
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPU cores",
                  "threads": args.threads, "note": args.note, "rows": rows}
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
