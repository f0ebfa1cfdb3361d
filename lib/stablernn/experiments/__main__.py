"""Command line: ``python -m stablernn.experiments NAME [--quick] [--data PATH] [--corpus DIR]
[--device cpu|cuda] [--out results/] [--cache DIR] [--threads N] [--no-progress]`` (installed as
``stablernn-experiments`` too); writes ``OUT/NAME.json``.

Every argument is checked before any work: an invalid value, a missing file or folder or a device
torch cannot use ends the command with one line on stderr (what was wrong, what is allowed) and exit
status 2. The parser and the checks of paths and numbers import neither torch nor numpy, so
``--help`` and those refusals answer at once; torch is imported only to check the device.
"""

from __future__ import annotations

import argparse
import codecs
import importlib
import os
import sys
import time
from pathlib import Path

from . import EXPERIMENTS

PROG = "python -m stablernn.experiments"
DEVICES = ("cpu", "cuda")
CORPUS_FILES = ("train.txt", "valid.txt", "test.txt")  # what stablernn.data.load_corpus reads
CORPUS_USERS = ("wordlm", "truncation", "datastability")

_EPILOG = """\
experiments:
  music          tanh RNN and LSTM, unconstrained and stable, on Bach chorales (frame NLL);
                 --data FILE.mat uses a JSB-style .mat file instead of the music21 chorales
  wordlm         the same four models as word-level language models (test perplexity);
                 needs a corpus folder: --data DIR or --corpus DIR
  truncation     every trained model evaluated with a test-time context of k steps;
                 --data FILE.mat as for music, --corpus DIR adds the word LMs
  datastability  contraction factors and gradient size against lag along test trajectories;
                 --data FILE.mat as for music, --corpus DIR adds the word LMs

A corpus folder holds train.txt, valid.txt and test.txt (Penn Treebank or WikiText-2 layout).
Trained models are cached in --cache, else $STABLERNN_MODEL_CACHE, else the models folder of the
library's cache: $STABLERNN_CACHE, else the platform's user cache folder ($XDG_CACHE_HOME/stablernn,
by default ~/.cache/stablernn, on Linux). truncation and datastability reuse the models that music
and wordlm cached under the same configuration (and --quick).

Every argument is checked before any training; a refused one exits with status 2.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a refusal is one line on stderr (no usage block), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _threads(text: str) -> int:
    """``--threads``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _prog() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name.startswith("stablernn-experiments") else PROG


def parser() -> argparse.ArgumentParser:
    """The argument parser of the command line (builds it; imports nothing heavy)."""
    p = _Parser(prog=_prog(), description="Run one of the book's Part III experiments and write OUT/NAME.json.",
                epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", metavar="NAME", choices=EXPERIMENTS, help=f"which experiment: {', '.join(EXPERIMENTS)}")
    p.add_argument("--quick", action="store_true", help="tiny configuration (seconds), for tests and the book")
    p.add_argument("--data", default=None, metavar="PATH",
                   help="music, truncation, datastability: a JSB-style .mat file (default: the music21 "
                        "chorales); wordlm: the corpus folder")
    p.add_argument("--corpus", default=None, metavar="DIR",
                   help="corpus folder (train.txt, valid.txt, test.txt): the word LMs of wordlm, truncation and "
                        "datastability (without it truncation and datastability use the music models only)")
    p.add_argument("--device", default=None, choices=DEVICES,
                   help="cpu or cuda (default: cuda if torch sees one, else cpu)")
    p.add_argument("--out", default="results", metavar="DIR",
                   help="folder for NAME.json, created if missing inside an existing folder (default: results)")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="folder of cached model weights, created if missing inside an existing folder "
                        "(default: see below)")
    p.add_argument("--threads", type=_threads, default=None, metavar="N",
                   help="torch CPU threads, an integer >= 1 (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true",
                   help="hide the progress bars (written as whole lines when stderr is not a terminal)")
    return p


def _text_problem(path: Path) -> str | None:
    """Why ``path`` is not a corpus file ``load_corpus`` can read (UTF-8 with at least one word), or None."""
    decoder, words = codecs.getincrementaldecoder("utf-8")(), False
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                words = bool(decoder.decode(chunk).strip()) or words
            words = bool(decoder.decode(b"", final=True).strip()) or words
    except UnicodeDecodeError as err:
        return f"corpus file {str(path)!r} is not valid UTF-8 text ({err.reason})"
    except OSError as err:
        return f"corpus file {str(path)!r} cannot be read ({err.strerror})"
    return None if words else f"corpus file {str(path)!r} holds no words"


def _corpus_problem(value: str) -> str | None:
    """Why ``value`` is not a corpus folder (the checks of ``stablernn.data.load_corpus``), or None."""
    folder = Path(value).expanduser()
    allowed = "give a folder holding train.txt, valid.txt and test.txt"
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        return f"corpus folder {value!r} {what}; {allowed}"
    missing = [name for name in CORPUS_FILES if not (folder / name).is_file()]
    if missing:
        return f"corpus folder {value!r} lacks {', '.join(missing)}; {allowed}"
    for name in CORPUS_FILES:
        problem = _text_problem(folder / name)
        if problem:
            return problem
    return None


def _mat_problem(value: str) -> str | None:
    """Why ``value`` is not a path to a file (the music data), or None; its contents are checked later."""
    path = Path(value).expanduser()
    allowed = "give a JSB-style .mat file, or no --data for the music21 chorales"
    if path.is_dir():
        return f"{value!r} is a folder, not a file; {allowed}"
    if not path.is_file():
        return f"no file at {value!r}; {allowed}"
    if not os.access(path, os.R_OK):
        return f"file {value!r} cannot be read; {allowed}"
    return None


def _folder_problem(value: str) -> str | None:
    """Why ``value`` cannot be used as an output folder (existing, or new inside an existing one), or None."""
    path = Path(value).expanduser()
    allowed = "give an existing folder or a new one inside an existing folder"
    if path.exists() and not path.is_dir():
        return f"{value!r} is a file, not a folder; {allowed}"
    where = path if path.exists() else path.parent
    if not where.is_dir():
        return f"cannot create folder {value!r}: {str(where)!r} does not exist; {allowed}"
    if not os.access(where, os.W_OK | os.X_OK):
        return f"folder {str(where)!r} is not writable; {allowed}"
    return None


def check_arguments(args: argparse.Namespace, p: argparse.ArgumentParser) -> None:
    """Refuse (``p.error``: one line, exit 2) what the parser cannot see: paths, and options the
    experiment does not take. Imports nothing heavy."""
    if args.name == "wordlm":
        if args.data is None and args.corpus is None:
            p.error("wordlm needs a corpus: pass --data DIR or --corpus DIR, a folder holding "
                    "train.txt, valid.txt and test.txt")
        if args.data is not None and args.corpus is not None:
            p.error("wordlm takes its corpus once: pass --data DIR or --corpus DIR, not both")
        option, value = ("--data", args.data) if args.data is not None else ("--corpus", args.corpus)
        problem = _corpus_problem(value)
        if problem:
            p.error(f"argument {option}: {problem}")
    else:
        if args.data is not None:
            problem = _mat_problem(args.data)
            if problem:
                p.error(f"argument --data: {problem}")
        if args.corpus is not None:
            if args.name not in CORPUS_USERS:
                p.error(f"argument --corpus: {args.name} uses no corpus (allowed with {', '.join(CORPUS_USERS)})")
            problem = _corpus_problem(args.corpus)
            if problem:
                p.error(f"argument --corpus: {problem}")
    for option, value in (("--out", args.out), ("--cache", args.cache)):
        problem = None if value is None else _folder_problem(value)
        if problem:
            p.error(f"argument {option}: {problem}")


def check_environment(args: argparse.Namespace, p: argparse.ArgumentParser) -> str:
    """Refuse a device torch cannot use and a ``.mat`` file that cannot be read; return the device.

    Imports torch (and scipy for ``--data FILE.mat``); runs after :func:`check_arguments`.
    """
    from ._common import resolve_device

    try:
        device = resolve_device(args.device)
    except ValueError as err:
        p.error(f"argument --device: {err}")
    if args.data is not None and args.name != "wordlm":
        from ..data import load_mat_rolls

        for split in ("train", "valid", "test"):
            try:
                load_mat_rolls(args.data, split)
            except (OSError, ValueError) as err:
                p.error(f"argument --data: {err}")
    return device


def _shown_args(argv: list[str]) -> list[str]:
    """The arguments as recorded in the results file: paths of this machine (absolute, or leading out of
    the working directory) shortened to their last part."""
    return [f"PATH/{Path(a).name}" if Path(a).is_absolute() or Path(a).parts[:1] == ("..",) else a
            for a in argv]


def main(argv: list[str] | None = None) -> int:
    """Check the arguments, run one experiment and write its results file; return the exit status.

    A refused argument raises ``SystemExit(2)`` (argparse's convention) before any training;
    ``--help`` raises ``SystemExit(0)``; Ctrl-C ends with status 130 and no traceback.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    p = parser()
    args = p.parse_args(argv)
    check_arguments(args, p)
    device = check_environment(args, p)
    try:
        return _run(args, argv, device)
    except KeyboardInterrupt:
        print(f"{p.prog}: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, argv: list[str], device: str) -> int:
    import torch

    from ._common import provenance, write_results

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    module = importlib.import_module(f"stablernn.experiments.{args.name}")
    start = time.perf_counter()
    results = module.run(quick=args.quick, data=args.data, corpus=args.corpus, device=device,
                         cache=args.cache, progress=not args.no_progress)
    rest = list(argv)
    rest.remove(args.name)
    results["meta"] = provenance(args.name, _shown_args(rest), device, time.perf_counter() - start)
    path = write_results(results, Path(args.out).expanduser())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
