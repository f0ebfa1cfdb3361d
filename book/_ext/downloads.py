"""Sphinx extension of the book: downloads that run outside the site.

* **Each chapter's ``.ipynb``** (the theme's download button, ``_sources/<page>.ipynb``) is the
  notebook as executed during the build, outputs included, not the committed source without them.
* **One archive of every executed chapter**, ``downloads/stablernn-book-notebooks.zip``: the
  notebooks in ``notebooks/`` beside the ``results/`` files Part III reads (so ``../results`` is
  found) and a README saying how to install the library. The intro links to it.

Both are written when the HTML build finishes, from myst-nb's execution cache (``executed.py``).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

ARCHIVE = "downloads/stablernn-book-notebooks.zip"

README = """\
{title}: every chapter, executed, with the results files Part III reads.

Run them with the book's library installed in the Python you open them with:

    pip install "git+{url}@{branch}"      # or, in a clone of {url}:  pip install -e .
    jupyter lab notebooks/

On Colab, upload a notebook and run it: its first cell installs the library there.
Part III reads ../results, which this archive holds beside notebooks/.
"""


def _write(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    from executed import executed as executed_notebook

    outdir = Path(app.outdir)
    executed = {}
    for docname in sorted(d for d in app.env.all_docs if (Path(app.srcdir) / f"{d}.ipynb").is_file()):
        nb = executed_notebook(app, docname)
        if nb is None:
            continue
        target = outdir / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nb.get("metadata", {}).pop("execution", None)  # the build machine's timings
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        executed[docname] = target
    options = app.config.html_theme_options or {}
    archive = outdir / ARCHIVE
    archive.parent.mkdir(parents=True, exist_ok=True)
    results = Path(app.srcdir) / "results"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("stablernn-book/README.txt", README.format(
            title=app.config.project, url=options.get("repository_url", ""),
            branch=options.get("repository_branch", "main")))
        for docname in executed:
            if docname.startswith("notebooks/"):
                zf.write(outdir / "_sources" / f"{docname}.ipynb", f"stablernn-book/{docname}.ipynb")
        for path in sorted(p for p in results.rglob("*.json") if not p.name.startswith("bench_")):
            zf.write(path, f"stablernn-book/results/{path.relative_to(results).as_posix()}")


def setup(app):
    app.connect("build-finished", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
