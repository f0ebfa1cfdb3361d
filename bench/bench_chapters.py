"""Measure how long each chapter's code runs, section by section, for the time estimates in the
chapters' headers (``book/_ext/time_estimates.py`` reads what this writes).

    .venv/bin/python bench/bench_chapters.py --out results/bench_chapters.json

Executes every chapter as the build does (``STABLERNN_STATIC=1``, from ``notebooks/``) with
nbclient's per-cell timing, and sums the cells' seconds under each ``##`` heading. Prints the
table; nothing is asserted. The figures are those of this machine on the day of the run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from datetime import datetime as _dt
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda t: _dt.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return max(0.0, (parse(end) - parse(start)).total_seconds())


def measure(path: Path) -> dict:
    """Execute one chapter; its total seconds and the seconds of each section (``##`` heading)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    sections, current = {"(opening)": 0.0}, "(opening)"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):
                    current = line[3:].strip()
                    sections.setdefault(current, 0.0)
        elif cell.cell_type == "code":
            sections[current] += _seconds(cell)
    return {"total_s": round(sum(sections.values()), 2), "sections": {k: round(v, 2) for k, v in sections.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the measurements here (JSON)")
    parser.add_argument("chapters", nargs="*", help="notebook stems (default: every chapter)")
    args = parser.parse_args()
    os.environ["STABLERNN_STATIC"] = "1"
    os.environ["TQDM_DISABLE"] = "1"
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.chapters:
        paths = [p for p in paths if p.stem in args.chapters]
    chapters = {}
    for path in paths:
        chapters[path.stem] = measure(path)
        sections = ", ".join(f"{k[:20]} {v:.1f} s" for k, v in chapters[path.stem]["sections"].items())
        print(f"{path.stem:22} {chapters[path.stem]['total_s']:7.1f} s   {sections}", flush=True)
    if args.out:
        out = {"machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "command": "python bench/bench_chapters.py", "chapters": chapters}
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
