"""Progress bars for long computations, kept off the book's static pages.

While the book is built (``STABLERNN_STATIC=1``, set by the build command) no bar is drawn: on a
static page a bar is build noise (a frozen line of rates and timings, or an ipywidgets bar that makes
the page load the widget manager for nothing). In a kernel, a terminal or a log, a bar shows when the
caller asks for one (``tqdm.auto``: a widget in JupyterLab, text elsewhere).
"""

from __future__ import annotations

import os
from typing import Any, Iterable

STATIC_ENV = "STABLERNN_STATIC"


def building_book() -> bool:
    """True while the book is being built (the build command sets ``STABLERNN_STATIC=1``)."""
    return os.environ.get(STATIC_ENV, "") == "1"


def progress_bar(iterable: Iterable | None = None, *, show: bool = True, **kwargs: Any):
    """A ``tqdm.auto`` bar over ``iterable`` (or a manual one with ``total=``), disabled unless ``show``
    and never drawn while the book is built. Keyword arguments go to tqdm (``desc``, ``total``, ...)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not show or building_book(), **kwargs)
