"""The pinned environment, Binder's reader image, and the library's declared lower bounds agree."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT


def pins(path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: {line} is not pinned with =="
        out[canonicalize_name(req.name)] = spec.version
    return out


def test_requirements_pin_the_tools_the_book_is_checked_with():
    p = pins(ROOT / "requirements.txt")
    assert p["jupyter-book"] == "1.0.4.post1"
    assert p["ipywidgets"] == "8.1.9"
    assert p["voila"] == "0.5.13"
    assert p["torch"] == "2.13.0"
    for name in ("plotly", "numpy", "scipy", "tqdm", "pytest", "hypothesis", "playwright", "music21"):
        assert name in p, f"{name} is not pinned"


def test_binder_reader_image_pins_what_readers_need_at_the_versions_of_requirements():
    main, binder = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    assert binder.pop("torch") == main["torch"] + "+cpu", "Binder takes torch's CPU build"
    for name, version in binder.items():
        assert main.get(name) == version, f"binder/requirements.txt pins {name}=={version}, requirements.txt {main.get(name)}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {canonicalize_name(Requirement(d).name) for d in project["dependencies"]} - {"torch"}
    assert needed | {"voila", "jupyter-server-proxy"} <= set(binder), "the reader image misses a reader's package"
    tools = {"jupyter-book", "sphinx", "playwright", "pytest", "hypothesis", "myst-nb", "jupyterlab", "notebook"}
    assert not tools & set(binder), f"the reader image pins build/test tools or repo2docker's own: {tools & set(binder)}"
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert re.search(r"^--extra-index-url \S+/whl/cpu$", text, re.M), "Binder needs PyTorch's CPU index"


def test_library_declares_lower_bounds_that_the_pins_satisfy():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    p = pins(ROOT / "requirements.txt")
    for dep in project["dependencies"]:
        req = Requirement(dep)
        assert all(s.operator == ">=" for s in req.specifier), f"{dep}: the library gives lower bounds only"
        pinned = Version(p[canonicalize_name(req.name)].split("+")[0])
        assert req.specifier.contains(pinned), f"{dep} does not admit the pinned {pinned}"


def test_readme_binder_links_follow_the_repository_setting():
    import yaml

    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    slug = repo["url"].removeprefix("https://github.com/").rstrip("/")
    links = re.findall(r"https://mybinder\.org/v2/gh/([^?\s>]+)\?urlpath=(\S+?)>", (ROOT / "README.md").read_text())
    assert links, "the README has no Binder links"
    for path, urlpath in links:
        assert path == f"{slug}/{repo['branch']}"
        if urlpath.startswith("proxy/absolute/"):  # binder/start's dashboards server: notebooks/dashboards/X
            port, rest = urlpath.removeprefix("proxy/absolute/").split("/", 1)
            assert port == "8866" and rest.startswith("voila/render/"), urlpath
            assert 'DASHBOARDS_PORT:-8866' in (ROOT / "binder" / "start").read_text()
            target = "notebooks/dashboards/" + rest.removeprefix("voila/render/")
        else:
            target = urlpath.split("/", 2)[-1]  # lab/tree/X
        assert (ROOT / target).exists(), f"the README links {target}, which does not exist"
