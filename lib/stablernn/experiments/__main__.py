"""Command line: ``python -m stablernn.experiments NAME [--quick] [--data PATH] [--corpus DIR]
[--device cpu|cuda] [--out results/] [--cache DIR] [--threads N]``; writes ``OUT/NAME.json``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from . import EXPERIMENTS
from ._common import provenance, resolve_device, write_results


def parser() -> argparse.ArgumentParser:
    """The argument parser of the command line."""
    p = argparse.ArgumentParser(prog="python -m stablernn.experiments", description=__doc__.split(";")[0])
    p.add_argument("name", choices=EXPERIMENTS, help="which experiment to run")
    p.add_argument("--quick", action="store_true", help="tiny configuration (seconds), for tests and the book")
    p.add_argument("--data", default=None, help="music: a JSB-style .mat file (default: the music21 chorales); "
                   "wordlm: the corpus folder (train/valid/test.txt)")
    p.add_argument("--corpus", default=None, help="corpus folder for the word LMs of truncation and datastability "
                   "(without it they use the music models only)")
    p.add_argument("--device", default=None, choices=("cpu", "cuda"), help="default: cuda if available, else cpu")
    p.add_argument("--out", default="results", help="folder for NAME.json (default: results)")
    p.add_argument("--cache", default=None, help="folder of cached model weights "
                   "(default: $STABLERNN_MODEL_CACHE or ~/.cache/stablernn/models)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return p


def _shown_args(argv: list[str]) -> list[str]:
    """The arguments as recorded in the results file: absolute paths shortened to their last part."""
    return [f"PATH/{Path(a).name}" if Path(a).is_absolute() else a for a in argv]


def main(argv: list[str] | None = None) -> Path:
    """Run one experiment and write its results file; return the file's path."""
    import torch

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(max(1, args.threads))
    device = resolve_device(args.device)
    module = importlib.import_module(f"stablernn.experiments.{args.name}")
    start = time.perf_counter()
    results = module.run(quick=args.quick, data=args.data, corpus=args.corpus, device=device,
                         cache=args.cache, progress=not args.no_progress)
    rest = list(argv)
    rest.remove(args.name)
    results["meta"] = provenance(args.name, _shown_args(rest), device, time.perf_counter() - start)
    path = write_results(results, args.out)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
