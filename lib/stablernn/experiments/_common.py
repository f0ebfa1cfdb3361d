"""What every experiment shares: provenance, the model cache, devices and writing results.

Trained models are cached outside the repository, in ``$STABLERNN_MODEL_CACHE`` or else the
``models`` folder of the library's cache (``stablernn.data._cache.cache_dir``: ``$STABLERNN_CACHE``,
else the platform's user cache folder, ``$XDG_CACHE_HOME/stablernn`` or ``~/.cache/stablernn`` on
Linux), one folder per experiment and configuration (named by a hash of the configuration), so
that ``truncation`` and ``datastability`` can reuse the models that ``music`` and ``wordlm`` trained.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from .._validate import check_choice
from ..data._cache import cache_dir
from .schema import validate


def model_cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The folder of cached model weights: ``cache``, else ``$STABLERNN_MODEL_CACHE``, else
    ``models`` in the library's cache folder (``$STABLERNN_CACHE``, else the platform's user cache).
    """
    if cache is not None:
        return Path(cache).expanduser()
    env = os.environ.get("STABLERNN_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    return cache_dir() / "models"


def config_key(config: dict) -> str:
    """A short hash of a JSON-serialisable configuration (names its cache folder)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def model_path(cache: Path, experiment: str, config: dict, label: str) -> Path:
    """Where the weights of model ``label`` trained by ``experiment`` under ``config`` live."""
    return cache / f"{experiment}-{config_key(config)}" / f"{label}.pt"


def resolve_device(device: str | None) -> str:
    """``"cuda"`` if asked for (and available), ``"cpu"`` otherwise; ``None`` picks cuda when present."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    device = check_choice("device", device, ("cpu", "cuda"))
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA device; allowed here: cpu")
    return device


def git_commit(root: Path | None = None) -> str:
    """The current git commit of the repository holding this package (``"unknown"`` outside git)."""
    root = root or Path(__file__).resolve().parents[3]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return "unknown"
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def machine(device: str) -> dict:
    """A description of the machine: platform, processor, CPU count, threads, Python, torch, device."""
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": device if device == "cpu" else f"cuda: {torch.cuda.get_device_name(0)}",
    }


def provenance(name: str, argv: list[str], device: str, seconds: float) -> dict:
    """The ``meta`` block of a results file: command, version, commit, date, machine, run time."""
    from .. import __version__

    return {
        "command": "python -m stablernn.experiments " + " ".join([name, *argv]),
        "stablernn_version": __version__,
        "git_commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(device),
        "seconds": round(float(seconds), 2),
    }


def clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars and arrays to Python, floats rounded to 6 significant digits.

    Non-finite floats become ``None`` (JSON has no NaN); the schema then rejects them where a
    number is required.
    """
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "tolist"):
        return clean(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    return str(value)


def write_results(results: dict, out: str | os.PathLike) -> Path:
    """Validate ``results`` against the schema and write ``out/NAME.json`` atomically."""
    results = clean(results)
    validate(results)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{results['name']}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation (0 for one value) and count."""
    v = [float(x) for x in values]
    mean = sum(v) / len(v)
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return {"mean": mean, "sd": sd, "n": len(v)}


def seed_summary(rows: list[dict], metric: str, labels: tuple[str, ...]) -> dict:
    """Per label the spread of ``metric`` over seeds, and per kind the spread of the per-seed ratio
    stable / unstable (twins share their seed)."""
    by = {(r["model"], r["seed"]): r[metric] for r in rows}
    seeds = sorted({r["seed"] for r in rows})
    summary = {label: spread([by[label, s] for s in seeds]) for label in labels}
    ratios = {kind: spread([by[f"{kind}-stable", s] / by[kind, s] for s in seeds]) for kind in ("tanh", "lstm")}
    return {"by_model": summary, "ratio": ratios, "seeds": seeds}


def ratio_is_a_finding(ratio: dict) -> bool:
    """The rule for a stable / unstable comparison over seeds: a finding only when the mean of the
    per-seed ratios differs from 1 by more than twice their standard deviation (and there are at
    least two seeds). Anything less is "within the spread over seeds"."""
    return ratio["n"] >= 2 and abs(ratio["mean"] - 1.0) > 2.0 * ratio["sd"]
