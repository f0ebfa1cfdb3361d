"""The book's chapters as executed for the site, for the extensions ``downloads`` and ``time_estimates``.

myst-nb writes ``<build>/jupyter_execute/<page>.ipynb`` with outputs only when it executes a notebook;
when it takes the outputs from its cache it writes the source notebook there instead. So the executed
notebook is rebuilt here from the cache (``jupyter_cache``), which holds the outputs either way.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def cache_path(app) -> Path:
    configured = getattr(app.config, "nb_execution_cache_path", "") or ""
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def executed(app, docname: str):
    """The notebook of ``docname`` with the outputs of its cached execution (None if it has none)."""
    from jupyter_cache import get_cache

    source = Path(app.srcdir) / f"{docname}.ipynb"
    if not source.is_file() or not cache_path(app).is_dir():
        return None
    nb = nbformat.read(source, as_version=4)
    try:
        _, merged = get_cache(cache_path(app)).merge_match_into_notebook(nb)
    except KeyError:  # not executed (or changed since)
        return None
    return merged
