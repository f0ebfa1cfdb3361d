"""The pinned environment, Binder's copy of it, and the library's declared lower bounds agree."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
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
        out[req.name.lower()] = spec.version
    return out


def test_requirements_pin_the_tools_the_book_is_checked_with():
    p = pins(ROOT / "requirements.txt")
    assert p["jupyter-book"] == "1.0.4.post1"
    assert p["ipywidgets"] == "8.1.9"
    assert p["voila"] == "0.5.13"
    assert p["torch"] == "2.13.0"
    for name in ("plotly", "numpy", "scipy", "tqdm", "pytest", "hypothesis", "playwright", "music21"):
        assert name in p, f"{name} is not pinned"


def test_binder_environment_matches_requirements():
    main, binder = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    assert binder.pop("torch") == main.pop("torch") + "+cpu", "Binder takes torch's CPU build"
    assert binder == main, "binder/requirements.txt and requirements.txt differ"
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert re.search(r"^--extra-index-url \S+/whl/cpu$", text, re.M), "Binder needs PyTorch's CPU index"


def test_library_declares_lower_bounds_that_the_pins_satisfy():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    p = pins(ROOT / "requirements.txt")
    for dep in project["dependencies"]:
        req = Requirement(dep)
        assert all(s.operator == ">=" for s in req.specifier), f"{dep}: the library gives lower bounds only"
        pinned = Version(p[req.name.lower()].split("+")[0])
        assert req.specifier.contains(pinned), f"{dep} does not admit the pinned {pinned}"


def test_readme_binder_links_follow_the_repository_setting():
    import yaml

    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    slug = repo["url"].removeprefix("https://github.com/").rstrip("/")
    links = re.findall(r"https://mybinder\.org/v2/gh/([^?\s>]+)\?urlpath=(\S+?)>", (ROOT / "README.md").read_text())
    assert links, "the README has no Binder links"
    for path, urlpath in links:
        assert path == f"{slug}/{repo['branch']}"
        target = urlpath.split("/", 2)[-1]  # lab/tree/X or voila/render/X
        assert (ROOT / target).exists(), f"the README links {target}, which does not exist"
