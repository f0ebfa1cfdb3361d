"""Progress bars for long computations, kept off the book's static pages and readable in a log.

While the book is built (``STABLERNN_STATIC=1``, set by the build command) no bar is drawn: on a
static page a bar is build noise (a frozen line of rates and timings, or an ipywidgets bar that makes
the page load the widget manager for nothing). In a kernel or a terminal, a bar shows when the
caller asks for one (``tqdm.auto``: a widget in JupyterLab, a redrawn line in a terminal). When the
output is not a terminal (a log file, a pipe), a bar is written as whole lines instead of a line
redrawn with carriage returns: at most one every :data:`LOG_INTERVAL` seconds, plus its last state
when it closes, so that a long run's log stays readable.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Iterable

STATIC_ENV = "STABLERNN_STATIC"
LOG_INTERVAL = 30.0  # seconds between two lines of a bar written to a log


def building_book() -> bool:
    """True while the book is being built (the build command sets ``STABLERNN_STATIC=1``)."""
    return os.environ.get(STATIC_ENV, "") == "1"


def progress_bar(iterable: Iterable | None = None, *, show: bool = True, **kwargs: Any):
    """A ``tqdm.auto`` bar over ``iterable`` (or a manual one with ``total=``), disabled unless ``show``
    and never drawn while the book is built. Keyword arguments go to tqdm (``desc``, ``total``, ...).

    Written to a file that is not a terminal (outside a notebook), the bar prints whole lines, at
    most one per :data:`LOG_INTERVAL` seconds (or ``mininterval``, if larger) and one when it closes.
    """
    from tqdm.auto import tqdm

    disable = not show or building_book()
    stream = kwargs.get("file") or sys.stderr
    if disable or _is_notebook_bar(tqdm) or _is_terminal(stream):
        return tqdm(iterable, disable=disable, **kwargs)
    interval = max(float(kwargs.pop("mininterval", 0.0) or 0.0), LOG_INTERVAL)
    kwargs.update(file=_LineWriter(stream), mininterval=interval,
                  maxinterval=max(float(kwargs.get("maxinterval", 0.0) or 0.0), interval))
    return _log_bar_class()(iterable, **kwargs)


def _is_notebook_bar(cls: type) -> bool:
    """True if ``tqdm.auto`` chose the notebook widget (inside a Jupyter kernel)."""
    return any(c.__module__ == "tqdm.notebook" for c in cls.__mro__)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _LineWriter:
    """A file for one tqdm bar that turns each redraw (``\\r`` + text) into one line, drops the rest.

    tqdm moves between nested bars with newlines and cursor-up codes and clears a finished bar with
    blanks; in a log those are noise, so only a redraw with text in it is written, and only if it
    differs from the bar's previous line.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> None:
        line = text.replace("\x1b[A", "").replace("\r", "").replace("\n", "").strip()
        if line and line != self.last:
            self.stream.write(line + "\n")
            self.last = line

    def flush(self) -> None:
        self.stream.flush()


@functools.cache
def _log_bar_class() -> type:
    """tqdm's text bar that also writes its final state when it closes (even with ``leave=False``)."""
    from tqdm.std import tqdm as text_bar

    class LogBar(text_bar):
        def refresh(self, *args: Any, **kwargs: Any) -> Any:
            self.shown_n = self.n  # tqdm draws through refresh: the last count written
            return super().refresh(*args, **kwargs)

        def close(self) -> None:
            if not self.disable and not self.leave and getattr(self, "shown_n", None) != self.n:
                self.refresh()
            super().close()

    return LogBar
