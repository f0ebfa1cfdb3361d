"""One module per chapter: what each chapter computes while the book is built, named by its slug.

``notebooks/NN_<slug>.ipynb`` calls ``stablernn.chapters.<slug>``, the figures and the presentation
layer, nothing else of the library (``tests/test_architecture.py`` checks it): each module's functions return a :class:`Section` (the named numbers the prose quotes,
and the figure or table shown beside them) or the data of one explorer (``compute``-style, pure and
validated). The chapter modules use the library below them (linalg → … → experiments, figures) and
know nothing of ipywidgets: ``stablernn.presentation`` shows what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHAPTERS = ("recurrent_models", "bptt", "feedforward", "stability", "truncation", "training",
            "instability", "in_practice", "memory", "your_model")


@dataclass(frozen=True)
class Section:
    """What one chapter cell shows.

    values : glue name -> number or string quoted by the prose.
    markdown : glue name -> Markdown text (rendered, e.g. the source line of a results file).
    table : text printed below the cell.  shown : an object displayed as it is (a matrix).
    figure : a plotly figure shown last.
    """

    values: dict[str, Any] = field(default_factory=dict)
    markdown: dict[str, str] = field(default_factory=dict)
    table: str | None = None
    shown: Any = None
    figure: Any = None

    @classmethod
    def from_report(cls, values: dict[str, str]) -> "Section":
        """Named values of ``experiments.report``, the ``*_source`` lines (command, date, commit) as Markdown."""
        return cls(values={k: v for k, v in values.items() if not k.endswith("_source")},
                   markdown={k: v for k, v in values.items() if k.endswith("_source")})
