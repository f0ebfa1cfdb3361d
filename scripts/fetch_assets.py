"""Fetch the site's third-party JavaScript into the git-ignored folder ``_assets/``.

The built book must work with no network, so MathJax, require.js, the ipywidgets HTML manager and
plotly.js are fetched from the npm registry (``npm pack``). plotly.js is the partial bundle
``plotly.js-cartesian-dist-min`` (the figures use cartesian traces only; about a third of the full
bundle), at the version the installed plotly package bundles, so figures made by plotly in Python
draw the same on the site. Nothing fetched here is committed. Safe to run again: a folder whose
stamp matches the pinned versions is left alone.

The Voilà dashboards draw with the same plotly.js bundle (``presentation/plot_view.js``) and fit their
figures to narrow screens with the site's ``book/static/figure-fit.js``, so both are also copied into
their template's static folder (``DASHBOARD_STATIC``, git-ignored), where the Voilà server serves them
(it refuses a link that leads out of that folder).

Usage: python scripts/fetch_assets.py [--dest _assets]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

NPM_PACKAGES = {
    "mathjax": "3.2.2",
    "requirejs": "2.3.7",
    "@jupyter-widgets/html-manager": "1.0.15",
    "axe-core": "4.14.1",  # accessibility checks of the built site (tests), loaded by no page
}
# plotly.js on the site: the cartesian partial bundle, at the version of the installed plotly package.
PLOTLY_BUNDLE = "plotly.js-cartesian-dist-min"
# What the pages use from each package (paths inside the npm tarball, under "package/").
KEEP = {
    # TeX in, HTML out, assistive MathML for screen readers, and no right-click menu (ui/menu.js, 0.43
    # MB): startup.js loads the components that _config.yml's mathjax3_config names
    "mathjax": ["es5/startup.js", "es5/core.js", "es5/input/tex.js", "es5/output/chtml.js",
                "es5/output/chtml/fonts/tex.js", "es5/output/chtml/fonts/woff-v2", "es5/input/tex/extensions",
                "es5/ui", "es5/a11y", "es5/sre"],
    "requirejs": ["require.js"],
    "@jupyter-widgets/html-manager": ["dist"],
    PLOTLY_BUNDLE: ["plotly-cartesian.min.js", "package.json"],
    "axe-core": ["axe.min.js"],
}
TARGET = {"mathjax": "mathjax", "requirejs": "requirejs", "@jupyter-widgets/html-manager": "html-manager",
          PLOTLY_BUNDLE: "plotly", "axe-core": "axe-core"}
ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_STATIC = ROOT / "share/jupyter/voila/templates/stablernn/static"
FIGURE_FIT = ROOT / "book/static/figure-fit.js"  # the site's figure fitting, for the dashboards too


def npm_packages() -> dict[str, str]:
    """The npm packages to fetch and their versions, plotly.js read from the installed plotly."""
    import plotly.offline

    return {**NPM_PACKAGES, PLOTLY_BUNDLE: plotly.offline.get_plotlyjs_version()}


def stamp() -> dict:
    import plotly

    return {"npm": npm_packages(), "plotly": plotly.__version__, "keep": KEEP}


def fetch_npm(name: str, version: str, dest: Path) -> None:
    """Download one npm tarball with the ordinary npm client and unpack the parts the site uses."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["npm", "pack", f"{name}@{version}", "--silent", "--pack-destination", tmp],
                             capture_output=True, text=True, cwd=tmp)
        if out.returncode != 0:
            sys.exit(f"npm pack {name}@{version} failed:\n{out.stderr.strip()}")
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        root = Path(tmp) / "package"
        target = dest / TARGET[name]
        for rel in KEEP[name]:
            src = root / rel
            if not src.exists():
                sys.exit(f"{name}@{version} has no {rel}")
            out_path = target / Path(rel).relative_to(Path(rel).parts[0]) if rel.startswith("es5/") else target / rel
            if src.is_dir():
                shutil.copytree(src, out_path, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("*.map", "*.ts", "embed.js"))
            else:
                out_path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, out_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default="_assets", type=Path)
    args = parser.parse_args()
    dest: Path = args.dest
    stamp_file = dest / "VERSIONS.json"
    if stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp():
        print(f"assets up to date in {dest}/")
        copy_dashboard_assets(dest)
        return
    if shutil.which("npm") is None:
        sys.exit("npm is needed to fetch the site's JavaScript (Debian: apt-get install npm)")
    tmp_dest = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp_dest, ignore_errors=True)
    tmp_dest.mkdir(parents=True)
    for name, version in npm_packages().items():
        print(f"fetching {name}@{version}")
        fetch_npm(name, version, tmp_dest)
    header = (tmp_dest / TARGET[PLOTLY_BUNDLE] / "plotly-cartesian.min.js").read_text()[:300]
    if f" v{npm_packages()[PLOTLY_BUNDLE]}\n" not in header:
        sys.exit(f"{PLOTLY_BUNDLE}: the bundle's header names another version:\n{header}")
    (tmp_dest / "VERSIONS.json").write_text(json.dumps(stamp(), indent=1))
    shutil.rmtree(dest, ignore_errors=True)
    tmp_dest.rename(dest)  # all or nothing: a failed fetch never leaves a half-filled folder
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"assets in {dest}/ ({size / 1e6:.1f} MB)")
    copy_dashboard_assets(dest)


def copy_dashboard_assets(dest: Path) -> None:
    """Put the fetched plotly.js bundle and the site's figure fitting where the dashboards' Voilà
    template serves them."""
    for src in (dest / TARGET[PLOTLY_BUNDLE] / "plotly-cartesian.min.js", FIGURE_FIT):
        copy = DASHBOARD_STATIC / src.name
        if copy.exists() and copy.read_bytes() == src.read_bytes():
            continue
        DASHBOARD_STATIC.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, copy)
        print(f"{src.name} for the dashboards in {copy.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
