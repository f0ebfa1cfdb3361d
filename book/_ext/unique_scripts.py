"""Sphinx extension of the book: include each page script once.

sphinx-thebe registers its inline configuration script on every ``env-before-read-docs`` event, and
a Jupyter Book build can fire that event twice, which declares ``const THEBE_JS_URL`` twice and logs
a page error in the browser. Dropping exact duplicates from a page's scripts fixes it.
"""

from __future__ import annotations


def _unique(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # An inline script is registered once with filename None and once with "": same script.
        name = getattr(js, "filename", js) or ""
        key = (str(name), tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app):
    # Early: the event stops at the first handler that returns a template name.
    app.connect("html-page-context", _unique, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
