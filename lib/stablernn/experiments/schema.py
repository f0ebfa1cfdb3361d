"""The schema of ``results/NAME.json`` and the functions that check and read results files.

A results file is a JSON object with ``name``, ``quick``, ``config``, ``metrics``, ``published``
(the published numbers it is compared with, or null) and ``meta`` (command, library version, git
commit, date, machine, run time in seconds). ``metrics`` has one shape per experiment. The checks
use ``jsonschema`` (Draft 2020-12) plus a few that a schema cannot state (e.g. that the smallest
k within 1 % of full context really is in the k grid).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._validate import check_choice
from ..dynamics import smallest_k_within
from ..models import LABELS
from . import EXPERIMENTS

__all__ = ["SCHEMAS", "validate", "load", "ResultsError"]

_NUM = {"type": "number"}
_POS = {"type": "number", "exclusiveMinimum": 0}
_NUMS = {"type": "array", "items": _NUM}
_LABEL = {"enum": list(LABELS)}
_KINDS = {"type": "object", "required": ["tanh", "lstm"], "properties": {"tanh": _POS, "lstm": _POS}}


def _obj(required: dict, **optional: Any) -> dict:
    return {"type": "object", "required": list(required), "properties": {**required, **optional}}


_META = _obj({
    "command": {"type": "string", "pattern": "^python -m stablernn.experiments "},
    "stablernn_version": {"type": "string"},
    "git_commit": {"type": "string", "minLength": 1},
    "date": {"type": "string", "format": "date-time", "pattern": r"^\d{4}-\d\d-\d\dT"},
    "machine": _obj({"platform": {"type": "string"}, "device": {"type": "string"},
                     "cpu_count": {"type": "integer"}, "torch": {"type": "string"}}),
    "seconds": {"type": "number", "minimum": 0},
})

_MUSIC_ROW = _obj({
    "model": _LABEL, "test_nll": _POS, "valid_nll": _POS, "parameters": {"type": "integer", "minimum": 1},
    "history": _obj({"train_loss": {**_NUMS, "minItems": 1}, "valid_loss": {**_NUMS, "minItems": 1},
                     "epochs_run": {"type": "integer", "minimum": 1}}),
    "weights": {"type": "object", "additionalProperties": _NUM},
})
_WORDLM_ROW = _obj({
    "model": _LABEL, "test_ppl": {"type": "number", "minimum": 1}, "valid_ppl": {"type": "number", "minimum": 1},
    "parameters": {"type": "integer", "minimum": 1},
    "history": _obj({"tokens": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                     "train_loss": {**_NUMS, "minItems": 1}, "valid_ppl": {**_NUMS, "minItems": 1}}),
    "weights": {"type": "object", "additionalProperties": _NUM},
})
_TRUNC_ROW = _obj({
    "experiment": {"enum": ["music", "wordlm"]}, "model": _LABEL, "seed": {"type": "integer", "minimum": 0},
    "metric": {"enum": ["nll", "perplexity"]},
    "k": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2},
    "values": {**_NUMS, "minItems": 2}, "full": _POS,
    "k_within": {"type": ["integer", "null"], "minimum": 1},
    "source": {"enum": ["cache", "trained"]},
})
_LAG = _obj({"lags": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2},
             "norms": {**_NUMS, "minItems": 2}})
_DS_ROW = _obj({
    "experiment": {"enum": ["music", "wordlm"]}, "model": _LABEL,
    "contraction": _obj({"method": {"type": "string"}, "count": {"type": "integer", "minimum": 1},
                         "mean": _POS, "median": _POS, "q05": _POS, "q95": _POS, "max": _POS,
                         "fraction_below_1": {"type": "number", "minimum": 0, "maximum": 1},
                         "histogram": _obj({"edges": _NUMS, "counts": {"type": "array", "items": {"type": "integer"}}})}),
    "gradient_vs_lag": _LAG,
    "weights": {"type": "object", "additionalProperties": _NUM},
})

_SEED = {"type": "integer", "minimum": 0}
_SPREAD = _obj({"mean": _NUM, "sd": {"type": "number", "minimum": 0}, "n": {"type": "integer", "minimum": 1}})
#: the spread over seeds of a per-model metric and of the per-seed ratio stable / unstable
_SEED_SUMMARY = _obj({"by_model": _obj({label: _SPREAD for label in LABELS}),
                      "ratio": _obj({"tanh": _SPREAD, "lstm": _SPREAD}),
                      "seeds": {"type": "array", "items": _SEED, "minItems": 1}})


def _seed_rows(metric: str) -> dict:
    return {"type": "array", "minItems": 4,
            "items": _obj({"model": _LABEL, "seed": _SEED, metric: _POS, "source": {"enum": ["cache", "trained"]}})}


_METRICS = {
    "music": _obj({"unit": {"const": "nats per frame"},
                   "models": {"type": "array", "items": _MUSIC_ROW, "minItems": 4, "maxItems": 4},
                   "seeds": _seed_rows("test_nll"), "spread": _SEED_SUMMARY,
                   "baselines": _obj({"bernoulli": _POS, "logistic_previous_frame": _POS}),
                   "relative_change": _KINDS}),
    "wordlm": _obj({"unit": {"const": "perplexity"},
                    "models": {"type": "array", "items": _WORDLM_ROW, "minItems": 4, "maxItems": 4},
                    "seeds": _seed_rows("test_ppl"), "spread": _SEED_SUMMARY,
                    "vocab_size": {"type": "integer", "minimum": 2}, "relative_change": _KINDS}),
    "truncation": _obj({"tolerance": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                        "models": {"type": "array", "items": _TRUNC_ROW, "minItems": 1},
                        "seeds": {"type": "array", "items": _TRUNC_ROW, "minItems": 1}}),
    "datastability": _obj({"models": {"type": "array", "items": _DS_ROW, "minItems": 1}}),
}

SCHEMAS = {
    name: {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["name", "quick", "config", "metrics", "published", "meta"],
        "properties": {"name": {"const": name}, "quick": {"type": "boolean"}, "config": {"type": "object"},
                       "metrics": _METRICS[name], "published": {"type": ["object", "null"]}, "meta": _META},
    }
    for name in EXPERIMENTS
}


class ResultsError(ValueError):
    """A results file that is missing, unreadable or does not match its schema."""


def validate(results: Any) -> dict:
    """Check a results dictionary against its experiment's schema; return it or raise ResultsError.
    """
    import jsonschema

    if not isinstance(results, dict) or results.get("name") not in SCHEMAS:
        got = results.get("name") if isinstance(results, dict) else type(results).__name__
        raise ResultsError(f"results must be an object whose name is one of {list(SCHEMAS)}, got {got!r}")
    validator = jsonschema.Draft202012Validator(SCHEMAS[results["name"]])
    errors = sorted(validator.iter_errors(results), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(map(str, errors[0].absolute_path)) or "(top level)"
        raise ResultsError(f"results {results['name']!r} do not match the schema at {where}: {errors[0].message}")
    _check_consistency(results)
    return results


def _check_consistency(results: dict) -> None:
    """What the schema cannot say: equal lengths, k grid increasing, k_within consistent with values."""
    if results["name"] != "truncation":
        return
    tol = results["metrics"]["tolerance"]
    for row in results["metrics"]["models"] + results["metrics"]["seeds"]:
        ks, values = row["k"], row["values"]
        if len(ks) != len(values) or any(a >= b for a, b in zip(ks, ks[1:])):
            raise ResultsError(f"truncation {row['model']}: k must increase and match values in length")
        expected = smallest_k_within(ks, values, row["full"], tol)
        if row["k_within"] != expected:
            raise ResultsError(f"truncation {row['model']}: k_within is {row['k_within']}, the values give {expected}")


def load(name: str, directory: str | os.PathLike = "results") -> dict:
    """Read and validate ``directory/NAME.json``; raise ResultsError with the command to make it if missing.
    """
    check_choice("name", name, EXPERIMENTS)
    path = Path(directory) / f"{name}.json"
    if not path.is_file():
        raise ResultsError(f"results file {path} is missing: run `python -m stablernn.experiments {name}` "
                           f"from the repository root (it writes results/{name}.json)")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultsError(f"results file {path} cannot be read as JSON: {err}") from err
    return validate(results)
