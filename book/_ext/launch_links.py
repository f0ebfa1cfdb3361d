"""Sphinx extension of the book: Binder links derived from the one repository setting.

``repository.url`` in ``_config.yml`` (``html_theme_options["repository_url"]``) is the only place
that names the repository. This extension turns it into MyST substitutions for the intro:
``{{ binder_chapters }}`` (each chapter in JupyterLab) and ``{{ binder_dashboards }}`` (each dashboard
in Voilà, served by binder/start's own Voilà server through jupyter-server-proxy).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

BINDER = "https://mybinder.org/v2/gh"
#: Where binder/start serves the dashboards: their own Voilà server (port 8866), behind jupyter-server-proxy.
DASHBOARDS = "proxy/absolute/8866/voila/render/"


def _links(app, config) -> None:
    options = config.html_theme_options or {}
    url = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch", "main")
    if not url.startswith("https://github.com/"):
        return
    base = f"{BINDER}/{url.removeprefix('https://github.com/')}/{branch}"
    root = Path(app.srcdir)
    chapters = sorted((root / "notebooks").glob("[0-9]*.ipynb"))
    dashboards = sorted((root / "notebooks" / "dashboards").glob("*.ipynb"))

    def lab(path: Path) -> str:
        return f"{base}?urlpath={quote('lab/tree/' + path.relative_to(root).as_posix(), safe='')}"

    def voila(path: Path) -> str:
        return f"{base}?urlpath={quote(DASHBOARDS + path.name, safe='')}"

    subs = dict(config.myst_substitutions or {})
    subs["binder_chapters"] = " · ".join(f"[{p.stem[:2].lstrip('0')}]({lab(p)})" for p in chapters)
    subs["binder_dashboards"] = " · ".join(
        f"[{p.stem.replace('_', ' ')}]({voila(p)})" for p in dashboards)
    config.myst_substitutions = subs


def setup(app):
    app.connect("config-inited", _links, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
