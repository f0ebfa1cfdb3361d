"""A diagnosis as data: the ``Diagnosis`` dataclass, its JSON schema, its HTML report and its summary.

The JSON file holds every number of the report with its provenance (``meta``: command, library
and torch versions, date, run time) and is checked against ``SCHEMA`` when written and read.
The HTML report draws the book's figures (``figures.your_model``) with plotly.js inlined once, so it
opens offline. Used by ``stablernn.diagnose`` and Chapter 10.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ..experiments._common import clean  # numpy to JSON, 6 significant digits, non-finite to None

__all__ = ["Diagnosis", "SCHEMA", "summarize", "validate", "load"]

FORMAT = "stablernn-diagnosis/1"

_NUM = {"type": "number"}
_NUMS = {"type": "array", "items": _NUM}
_NUM_OR_NULL = {"type": ["number", "null"]}


def _obj(required: dict, **optional: Any) -> dict:
    return {"type": "object", "required": list(required), "properties": {**required, **optional}}


_SUMMARY = _obj({"count": {"type": "integer", "minimum": 1}, "mean": _NUM, "median": _NUM, "q05": _NUM,
                 "q95": _NUM, "max": _NUM, "fraction_below_1": {"type": "number", "minimum": 0, "maximum": 1},
                 "histogram": _obj({"edges": _NUMS, "counts": {"type": "array", "items": {"type": "integer"}}})})
SCHEMA = _obj({
    "format": {"const": FORMAT},
    "model": _obj({"kind": {"enum": ["rnn-tanh", "rnn-relu", "lstm", "gru"]}, "layers": {"type": "integer", "minimum": 1},
                   "hidden": {"type": "integer", "minimum": 1}, "state_size": {"type": "integer", "minimum": 1}}),
    "data": _obj({"sequences": {"type": "integer", "minimum": 1}, "counted_steps": {"type": "integer", "minimum": 1},
                  "loss": {"type": "string"}}),
    "certificate": _obj({"holds": {"type": "boolean"}, "lam": _NUM_OR_NULL, "norm": {"type": "string"},
                         "input_bound": _NUM, "layers": {"type": "array", "minItems": 1}, "note": {"type": "string"}}),
    "contraction": _obj({"l2": _SUMMARY, "linf": _SUMMARY, "theorem_norm": {"enum": ["l2", "linf"]}}),
    "gradient": _obj({"lags": {"type": "array", "items": {"type": "integer"}, "minItems": 1}, "mean": _NUMS,
                      "low": _NUMS, "high": _NUMS, "sequences": {"type": "integer", "minimum": 1}}),
    "truncation": _obj({"k": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
                        "values": _NUMS, "full": _NUM, "tolerance": _NUM,
                        "k_within": {"type": ["integer", "null"]}, "metric": {"type": "string"}}),
    "cost": _obj({"k": {"type": "integer", "minimum": 1}, "seconds_full": _NUM, "seconds_truncated": _NUM}),
    "meta": _obj({"command": {"type": "string"}, "stablernn_version": {"type": "string"},
                  "date": {"type": "string"}, "seconds": _NUM}),
})


def summarize(values: np.ndarray) -> dict:
    """Count, mean, median, 5 % and 95 % quantiles, maximum, share below 1 and a 20-bin histogram."""
    v = np.asarray(values, dtype=float)
    counts, edges = np.histogram(v, bins=20)
    return {"count": int(v.size), "mean": float(v.mean()), "median": float(np.median(v)),
            "q05": float(np.quantile(v, 0.05)), "q95": float(np.quantile(v, 0.95)), "max": float(v.max()),
            "fraction_below_1": float(np.mean(v < 1)), "histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}


def validate(doc: dict) -> dict:
    """Check a diagnosis dictionary against ``SCHEMA`` (and that k_within is on the k grid)."""
    import jsonschema

    try:
        jsonschema.validate(doc, SCHEMA)
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise ValueError(f"not a valid diagnosis at {where}: {err.message}") from None
    t = doc["truncation"]
    if len(t["values"]) != len(t["k"]) or (t["k_within"] is not None and t["k_within"] not in t["k"]):
        raise ValueError("not a valid diagnosis: truncation values and k_within must match the k grid")
    return doc


@dataclass
class Diagnosis:
    """Everything ``stablernn.diagnose`` measured; each field is a dictionary of plain numbers."""

    model: dict
    data: dict
    certificate: dict
    contraction: dict
    gradient: dict
    truncation: dict
    cost: dict
    meta: dict

    def to_dict(self) -> dict:
        """The JSON document (checked against the schema)."""
        return validate(clean({"format": FORMAT, **asdict(self)}))

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the JSON document atomically; return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    def verdict(self) -> str:
        """One sentence: what the certificate, the data and the truncation curve say together."""
        c, t = self.certificate, self.truncation
        below = self.contraction[self.contraction["theorem_norm"]]["fraction_below_1"]
        if c["lam"] is None and self.model["kind"] == "gru":
            first = "No certificate exists for this kind of model in the book's theory"
        elif c["lam"] is None:
            first = "Not certified: the forget-gate bound computed from the weights reaches 1"
        elif c["holds"]:
            first = f"Certified stable: every layer is λ-contractive with λ ≤ {c['lam']:.3g}"
        else:
            first = f"Not certified: the book's condition gives λ = {c['lam']:.3g} ≥ 1"
        k = t["k_within"]
        last = (f"with a context of k = {k} the loss is within {t['tolerance']:.0%} of full context"
                if k is not None else f"no k up to {t['k'][-1]} comes within {t['tolerance']:.0%} of full context")
        return f"{first}; {below:.0%} of measured one-step Jacobians contract on these data; {last}."

    def summary(self) -> str:
        """A few lines of plain text for a terminal."""
        m, c, t, g, e = self.model, self.certificate, self.truncation, self.gradient, self.cost
        lines = [
            f"model: {m['kind']}, {m['layers']} layer(s), hidden {m['hidden']}, core {m['core']}",
            f"certificate ({c['norm']}): {'holds' if c['holds'] else 'does not hold'}"
            + ("" if c["lam"] is None else f", lambda = {c['lam']:.4g}") + f"  [{c['note']}]",
        ]
        for name in ("l2", "linf"):
            s = self.contraction[name]
            lines.append(f"one-step Jacobian {name}: median {s['median']:.3g}, 95% {s['q95']:.3g}, max {s['max']:.3g}, "
                         f"below 1: {s['fraction_below_1']:.0%} of {s['count']} steps")
        lines.append(f"gradient vs lag: lag 0 {g['mean'][0]:.3g}, lag {g['lags'][-1]} {g['mean'][-1]:.3g} "
                     f"({g['sequences']} sequences)")
        lines.append(f"truncation: full {t['full']:.4g} ({t['metric']}); smallest k within {t['tolerance']:.0%}: "
                     f"{t['k_within']}")
        lines.append(f"cost at k = {e['k']}: {e['seconds_truncated']:.3g} s truncated vs {e['seconds_full']:.3g} s full; "
                     f"sequential depth {e['depth_truncated']} vs {e['depth_full']}")
        lines.append(self.verdict())
        return "\n".join(lines)

    def figures(self) -> dict:
        """The report's plotly figures, by name (``figures.your_model``)."""
        from ..figures import your_model

        return {"contraction": your_model.contraction_figure(self.contraction),
                "gradient": your_model.gradient_figure(self.gradient),
                "truncation": your_model.truncation_figure(self.truncation)}

    def to_html(self, path: str | os.PathLike) -> Path:
        """A self-contained HTML report: the verdict, the certificate table, the three figures."""
        path = Path(path)
        figs = self.figures()
        parts = []
        for i, (name, fig) in enumerate(figs.items()):
            parts.append(fig.to_html(full_html=False, include_plotlyjs=i == 0, div_id=f"diagnosis-{name}",
                                     config={"responsive": True, "displaylogo": False}))
        c = self.certificate
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in (
                r["layer"], _fmt(r.get("lam")), "yes" if r["holds"] else "no", _fmt(r["spectral_norm"]),
                _fmt(r.get("spectral_radius")), _fmt(r.get("forget_bound")))) + "</tr>" for r in c["layers"])
        e = self.cost
        cost = "".join(f"<tr><td>{escape(name)}</td><td>{escape(full)}</td><td>{escape(short)}</td></tr>" for name, full, short in (
            ("seconds to evaluate the data (best of 3)", f"{e['seconds_full']:.3g}", f"{e['seconds_truncated']:.3g}"),
            ("sequential depth (steps one after another)", str(e["depth_full"]), str(e["depth_truncated"])),
            ("numbers held per stream while predicting", str(e["stream_floats_full"]), str(e["stream_floats_truncated"])),
            ("states computed for the whole data", str(e["states_full"]), str(e["states_truncated"]))))
        html = _PAGE.format(
            title=escape(f"Diagnosis: {self.model['class']} ({self.model['kind']})"), verdict=escape(self.verdict()),
            note=escape(c["note"]), rows=rows, figures="\n".join(parts), k=e["k"], cost=cost,
            summary=escape(self.summary()), meta=escape(json.dumps(clean(self.meta), indent=1)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        return path


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.4g}"


def load(path: str | os.PathLike) -> Diagnosis:
    """Read a diagnosis written by :meth:`Diagnosis.to_json` (checked against the schema)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no diagnosis file at {path}")
    doc = validate(json.loads(path.read_text(encoding="utf-8")))
    doc.pop("format")
    return Diagnosis(**doc)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 1rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1rem; }} td, th {{ border: 1px solid #ccc; padding: 0.2rem 0.6rem; }}
pre {{ background: #f5f5f5; padding: 0.5rem; overflow-x: auto; }} .verdict {{ font-size: 1.1rem; }}
</style></head><body>
<h1>{title}</h1>
<p class="verdict">{verdict}</p>
<h2>(a) Certificate from the weights</h2>
<p>{note}</p>
<table><tr><th>layer</th><th>λ</th><th>holds</th><th>spectral norm ‖W‖₂</th><th>spectral radius ρ(W)</th><th>forget-gate bound</th></tr>
{rows}</table>
<h2>(b)–(d) Contraction on the data, gradient against lag, truncation</h2>
{figures}
<h2>(e) What a context of k = {k} costs</h2>
<table><tr><th></th><th>full context</th><th>k most recent inputs</th></tr>
{cost}</table>
<h2>Summary</h2>
<pre>{summary}</pre>
<h2>Provenance</h2>
<pre>{meta}</pre>
</body></html>
"""
