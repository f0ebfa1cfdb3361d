"""Command line: ``python -m stablernn.diagnose MODEL DATA [options]`` writes OUT/diagnosis.json and
OUT/diagnosis.html.

Every argument is checked before any work: a bad one ends the command with one line on stderr and
exit status 2. torch is imported only after the arguments are parsed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ARCHS = ("rnn-tanh", "rnn-relu", "lstm", "gru")
LOSSES = ("mse", "bce", "ce")
DATA_KINDS = ".pt/.pth (a tensor, or a tuple or dict of X, Y, mask), .npy (an array), .mat (piano rolls), " \
             "or a corpus folder (train.txt, valid.txt, test.txt)"

EPILOG = """\
MODEL is a file written by torch.save: either a state dict (safe: no code runs) of a model laid out
as the library's (embedding.weight if tokens, rnn.*, readout.*), given with --arch; or a whole
pickled module. Loading a pickled module RUNS CODE FROM THE FILE: it is refused unless you pass
--allow-pickle, and then the classes it needs must be importable.

DATA is %s. Sequences are batch first (N, T, ...); X alone means next-step prediction.

examples:
  python -m stablernn.diagnose lm.pt ptb/ --arch lstm --out report/
  python -m stablernn.diagnose model.pt rolls.npy --allow-pickle --loss bce
""" % DATA_KINDS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the whole usage block
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    """The argument parser (no torch needed to build it or to print --help)."""
    p = _Parser(prog="python -m stablernn.diagnose", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Is my model stable? The book's diagnosis of a trained recurrent model: "
                                            "certificate, contraction on the data, gradient against lag, "
                                            "truncation curve, cost.")
    p.add_argument("model", help="the trained model: a state dict (with --arch) or a pickled module (--allow-pickle)")
    p.add_argument("data", help="the data: " + DATA_KINDS)
    p.add_argument("--arch", choices=ARCHS, help="the architecture of a state dict (sizes are read from its tensors)")
    p.add_argument("--allow-pickle", action="store_true", help="accept a pickled whole module (runs its code)")
    p.add_argument("--core", help="dotted name of the recurrent submodule (default: the model's only one)")
    p.add_argument("--time-first", action="store_true", help="the model takes (T, N, ...) inputs")
    p.add_argument("--loss", choices=LOSSES, help="default: ce for token ids, bce for 0/1 targets, else mse")
    p.add_argument("--input-bound", type=float, help="stated bound on the core's inputs for the LSTM certificate")
    p.add_argument("--k", type=int, nargs="+", help="context lengths of the truncation curve (default 1, 2, 4, ...)")
    p.add_argument("--tolerance", type=float, default=0.01, help="'within' for the smallest k (default 0.01)")
    p.add_argument("--lags", type=int, default=64, help="lags of the gradient curve (default 64)")
    p.add_argument("--samples", type=int, default=400, help="steps at which Jacobians are measured (default 400)")
    p.add_argument("--max-sequences", type=int, default=256, help="use at most this many sequences (default 256)")
    p.add_argument("--split", choices=("train", "valid", "test"), default="test", help=".mat or corpus split")
    p.add_argument("--seq-len", type=int, default=65, help="corpus: tokens per sequence (default 65)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled steps and the bootstrap (default 0)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--out", default=".", help="folder for diagnosis.json and diagnosis.html (default: .)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return p


def check_args(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Refuse, before any work, every argument that cannot work (exit 2 with one line)."""
    model, data = Path(a.model).expanduser(), Path(a.data).expanduser()
    if not model.is_file():
        p.error(f"MODEL {a.model!r} is not a file")
    if not data.exists():
        p.error(f"DATA {a.data!r} does not exist")
    if data.is_dir():
        missing = [s for s in ("train", "valid", "test") if not (data / f"{s}.txt").is_file()]
        if missing:
            p.error(f"DATA folder {a.data!r} is not a corpus: it lacks {', '.join(m + '.txt' for m in missing)}")
    elif data.suffix not in (".pt", ".pth", ".npy", ".mat"):
        p.error(f"DATA {a.data!r} has an unknown kind; allowed: {DATA_KINDS}")
    for name, low in (("lags", 1), ("samples", 1), ("max_sequences", 1), ("seq_len", 2), ("seed", 0), ("threads", 1)):
        value = getattr(a, name)
        if value is not None and value < low:
            p.error(f"--{name.replace('_', '-')} must be an integer >= {low}, got {value}")
    if not 0 < a.tolerance <= 1:
        p.error(f"--tolerance must be in (0, 1], got {a.tolerance}")
    if a.input_bound is not None and not a.input_bound >= 0:
        p.error(f"--input-bound must be a number >= 0, got {a.input_bound}")
    if a.k is not None and (min(a.k) < 1 or any(x >= y for x, y in zip(a.k, a.k[1:]))):
        p.error(f"--k must be increasing integers >= 1, got {a.k}")
    out = Path(a.out).expanduser()
    if out.exists() and not out.is_dir():
        p.error(f"--out {a.out!r} is a file, not a folder")


def load_model(p: argparse.ArgumentParser, a: argparse.Namespace):
    """The model from MODEL: a state dict built into the library's layout, or (with --allow-pickle) a module."""
    import pickle

    import torch

    try:
        blob = torch.load(a.model, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError) as err:
        if "weights_only" not in str(err) and not isinstance(err, pickle.UnpicklingError):
            p.error(f"MODEL {a.model!r} cannot be read by torch.load: {str(err).splitlines()[0]}")
        if not a.allow_pickle:
            p.error(f"MODEL {a.model!r} is a pickled module: loading it runs code from the file; "
                    "pass --allow-pickle if you trust it, or save a state dict and pass --arch")
        try:
            blob = torch.load(a.model, map_location="cpu", weights_only=False)
        except Exception as err2:  # unpickling can fail in many ways: report it in one line
            p.error(f"MODEL {a.model!r} could not be unpickled ({type(err2).__name__}: {str(err2).splitlines()[0]})")
        if not isinstance(blob, torch.nn.Module):
            p.error(f"MODEL {a.model!r} holds a {type(blob).__name__}, not a torch.nn.Module")
        return blob
    if isinstance(blob, torch.nn.Module):
        return blob
    if isinstance(blob, dict) and isinstance(blob.get("state_dict"), dict):  # the library's checkpoints
        blob = blob["state_dict"]
    if not isinstance(blob, dict) or not all(isinstance(v, torch.Tensor) for v in blob.values()):
        p.error(f"MODEL {a.model!r} is neither a state dict nor a module")
    if a.arch is None:
        p.error(f"MODEL {a.model!r} is a state dict: pass --arch ({', '.join(ARCHS)})")
    from .layout import from_state_dict

    try:
        return from_state_dict(blob, a.arch)
    except (KeyError, ValueError) as err:
        p.error(f"MODEL {a.model!r}: {err}")


def load_data(p: argparse.ArgumentParser, a: argparse.Namespace) -> Any:
    """X, (X, Y) or (X, Y, mask) from DATA, at most --max-sequences sequences."""
    import numpy as np
    import torch

    path = Path(a.data).expanduser()
    n = a.max_sequences
    try:
        if path.is_dir():
            from ..data import load_corpus

            ids = getattr(load_corpus(path), a.split)
            rows = len(ids) // a.seq_len
            if rows < 1:
                p.error(f"DATA {a.data!r}: the {a.split} split has fewer than --seq-len={a.seq_len} tokens")
            return ids[: rows * a.seq_len].reshape(rows, a.seq_len)[:n]
        if path.suffix == ".mat":
            from ..data import load_mat_rolls, pad_rolls

            rolls = [r for r in load_mat_rolls(path, a.split) if len(r) >= 2][:n]
            if not rolls:
                p.error(f"DATA {a.data!r}: the {a.split} split has no roll of two frames or more")
            return pad_rolls(rolls)
        if path.suffix == ".npy":
            return torch.from_numpy(np.load(path, allow_pickle=False))[:n]
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        p.error(f"DATA {a.data!r} cannot be read: {str(err).splitlines()[0]}")
    if isinstance(blob, dict):
        keys = [k for k in ("X", "Y", "mask") if k in blob]
        if "X" not in blob:
            p.error(f"DATA {a.data!r} is a dict without 'X' (keys: {sorted(blob)})")
        blob = tuple(blob[k] for k in keys)
    if isinstance(blob, (tuple, list)):
        return tuple(v[:n] for v in blob)
    if not isinstance(blob, torch.Tensor):
        p.error(f"DATA {a.data!r} holds a {type(blob).__name__}; allowed: {DATA_KINDS}")
    return blob[:n]


def main(argv: list[str] | None = None) -> Path:
    """Run the diagnosis and write its JSON and HTML; return the JSON's path."""
    p = parser()
    a = p.parse_args(sys.argv[1:] if argv is None else list(argv))
    check_args(p, a)
    import torch

    from .diagnosis import diagnose

    if a.threads is not None:
        torch.set_num_threads(a.threads)
    model, data = load_model(p, a), load_data(p, a)
    shown = [f"PATH/{Path(v).name}" if Path(v).is_absolute() else v for v in (argv or sys.argv[1:])]
    try:
        result = diagnose(model, data, core=a.core, batch_first=False if a.time_first else None, loss=a.loss,
                          input_bound=a.input_bound, ks=a.k, tolerance=a.tolerance, lags=a.lags,
                          samples=a.samples, seed=a.seed, progress=not a.no_progress,
                          source={"command": "python -m stablernn.diagnose " + " ".join(shown)})
    except (TypeError, ValueError) as err:
        p.error(str(err))
    out = Path(a.out).expanduser()
    json_path = result.to_json(out / "diagnosis.json")
    html_path = result.to_html(out / "diagnosis.html")
    print(result.summary())
    print(f"wrote {json_path} and {html_path}")
    return json_path


if __name__ == "__main__":
    main()
