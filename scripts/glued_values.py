"""Print (or compare) the numbers glued into every executed chapter of the built book.

    python scripts/glued_values.py > before.json          # after `make book`
    python scripts/glued_values.py --compare before.json  # after a change: lists every value that moved

Reads the ``*.glue.json`` files that the build leaves in ``_build/jupyter_execute``. A restructuring of
the library must leave every value the same, except timings measured on the machine (``--ignore``
takes name patterns; the defaults are the chapters' timing values).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from pathlib import Path

EXECUTED = Path("_build/jupyter_execute")
TIMINGS = ("*ms_*", "cost_*_ms", "cost_ratio", "speed_*", "threads")  # measured on the machine


def glued(root: Path = EXECUTED) -> dict[str, dict[str, str]]:
    """``{chapter: {glue name: text/plain value}}`` from the ``*.glue.json`` files of the build."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(root.rglob("*.glue.json")):
        values = {}
        for name, output in json.loads(path.read_text()).items():
            data = {k.rsplit("/", 2)[-2] + "/" + k.rsplit("/", 1)[-1]: v for k, v in output.get("data", {}).items()}
            values[name] = "".join(data.get("text/plain") or data.get("text/markdown") or "")
        out[path.name.removesuffix(".glue.json")] = values
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compare", type=Path, help="a file written by this script before the change")
    p.add_argument("--ignore", nargs="*", default=list(TIMINGS), help="glue-name patterns not compared")
    args = p.parse_args(argv)
    now = glued()
    if args.compare is None:
        json.dump(now, sys.stdout, indent=1, sort_keys=True)
        return 0
    before = json.loads(args.compare.read_text())
    moved = 0
    for nb in sorted(set(before) | set(now)):
        old, new = before.get(nb, {}), now.get(nb, {})
        for name in sorted(set(old) | set(new)):
            if any(fnmatch.fnmatch(name, pat) for pat in args.ignore):
                continue
            if old.get(name) != new.get(name):
                moved += 1
                print(f"{nb}: {name}: {old.get(name)!r} -> {new.get(name)!r}")
    compared = sum(len(v) for v in before.values())
    print(f"{moved} of {compared} glued values differ (ignoring {', '.join(args.ignore)})")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
