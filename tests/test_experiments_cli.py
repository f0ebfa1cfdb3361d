"""Tests of the experiments' command line as a new user meets it: ``--help`` answers without
importing torch, every bad argument is refused before any training with one line on stderr (exit
status 2, no traceback), the caches follow the platform's conventions, progress stays readable in a
log, and the console script points at ``main``.

Nothing here trains a model: every refusal happens while the arguments are checked.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

HEAVY = ("torch", "numpy", "scipy")


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stablernn.experiments", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=ROOT)


def _assert_refused(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, nothing on stdout, one line on stderr that holds every fragment, no traceback."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and not proc.stdout
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("python -m stablernn.experiments: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def _corpus(folder: Path, **texts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        (folder / f"{split}.txt").write_text(texts.get(split, "a b c\n"), encoding="utf-8")
    return folder


def test_help_and_path_refusals_import_neither_torch_nor_numpy():
    code = (
        "import sys\n"
        "from stablernn.experiments.__main__ import main\n"
        "for argv, status in ((['--help'], 0), (['music', '--help'], 0), (['music', '--threads', '-3'], 2),\n"
        "                     (['truncation', '--corpus', '/nonexistent'], 2)):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == status, (argv, exit.code)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_help_lists_the_experiments_and_what_they_need():
    proc = _cli("--help")
    assert proc.returncode == 0 and not proc.stderr
    for text in ("music", "wordlm", "truncation", "datastability", "train.txt", "STABLERNN_CACHE", "XDG_CACHE_HOME"):
        assert text in proc.stdout


# (arguments, fragments the message must hold); "{tmp}" is a folder with a corpus, a file and an empty folder
REFUSALS = {
    "no experiment": ([], ["NAME"]),
    "negative threads": (["music", "--threads", "-3"], ["--threads", ">= 1", "-3"]),
    "zero threads": (["music", "--threads", "0"], ["--threads", ">= 1"]),
    "threads not a number": (["music", "--threads", "many"], ["--threads", ">= 1", "'many'"]),
    "missing .mat file": (["music", "--data", "{tmp}/missing.mat"], ["--data", "no file", ".mat file"]),
    "folder as .mat file": (["truncation", "--data", "{tmp}/empty"], ["--data", "is a folder", ".mat file"]),
    "music takes no corpus": (["music", "--corpus", "{tmp}/corpus"], ["--corpus", "music uses no corpus", "wordlm"]),
    "wordlm without corpus": (["wordlm"], ["wordlm needs a corpus", "--data DIR", "--corpus DIR", "train.txt"]),
    "wordlm with two corpora": (["wordlm", "--data", "{tmp}/corpus", "--corpus", "{tmp}/corpus"], ["not both"]),
    "missing corpus folder": (["truncation", "--corpus", "/nonexistent"], ["--corpus", "does not exist", "train.txt"]),
    "corpus is a file": (["datastability", "--corpus", "{tmp}/file"], ["--corpus", "is a file", "train.txt"]),
    "corpus lacks files": (["wordlm", "--data", "{tmp}/empty"], ["--data", "lacks train.txt, valid.txt, test.txt"]),
    "corpus not UTF-8": (["wordlm", "--corpus", "{tmp}/latin1"], ["--corpus", "valid.txt", "not valid UTF-8"]),
    "corpus without words": (["truncation", "--corpus", "{tmp}/blank"], ["--corpus", "test.txt", "holds no words"]),
    "out inside a missing folder": (["music", "--out", "/nonexistent/results"],
                                    ["--out", "'/nonexistent' does not exist"]),
    "out is a file": (["music", "--out", "{tmp}/file"], ["--out", "is a file, not a folder"]),
    "cache inside a missing folder": (["music", "--cache", "{tmp}/no/models"], ["--cache", "does not exist"]),
    "unknown option": (["music", "--epochs", "3"], ["unrecognized arguments: --epochs 3"]),
}


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("cli")
    _corpus(base / "corpus")
    _corpus(base / "latin1")
    (base / "latin1" / "valid.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    _corpus(base / "blank", test=" \n\n\t\n")
    (base / "empty").mkdir()
    (base / "file").write_text("not a folder\n", encoding="utf-8")
    return base


@pytest.mark.parametrize("case", REFUSALS)
def test_refusal_is_one_line_and_exit_status_2(case, tmp):
    args, fragments = REFUSALS[case]
    _assert_refused(_cli(*(a.replace("{tmp}", str(tmp)) for a in args)), *fragments)


def test_cuda_without_a_cuda_device_is_refused():
    proc = _cli("music", "--quick", "--device", "cuda", env={"CUDA_VISIBLE_DEVICES": ""})
    _assert_refused(proc, "--device", "no CUDA device", "allowed here: cpu")


def test_unreadable_mat_file_is_refused_before_training(tmp):
    bad = tmp / "damaged.mat"
    bad.write_bytes(b"not a mat file at all")
    _assert_refused(_cli("music", "--quick", "--data", str(bad), "--device", "cpu"), "--data", "as a .mat file")


def test_cache_follows_xdg_cache_home(monkeypatch, tmp_path):
    from stablernn.data._cache import cache_dir
    from stablernn.experiments._common import model_cache_dir

    if sys.platform != "linux":
        pytest.skip("XDG_CACHE_HOME is the Linux convention")
    for name in ("STABLERNN_CACHE", "STABLERNN_MODEL_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "stablernn"
    assert model_cache_dir() == tmp_path / "xdg" / "stablernn" / "models"


def test_stablernn_cache_overrides_the_platform_and_the_argument_overrides_both(monkeypatch, tmp_path):
    from stablernn.data._cache import cache_dir
    from stablernn.experiments._common import model_cache_dir

    monkeypatch.delenv("STABLERNN_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("STABLERNN_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    assert model_cache_dir() == tmp_path / "mine" / "models"
    assert cache_dir(tmp_path / "given") == tmp_path / "given"
    monkeypatch.setenv("STABLERNN_MODEL_CACHE", str(tmp_path / "models"))
    assert model_cache_dir() == tmp_path / "models"
    assert model_cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_progress_in_a_log_is_whole_lines_without_carriage_returns(monkeypatch):
    from stablernn.progress import progress_bar

    monkeypatch.delenv("STABLERNN_STATIC", raising=False)
    log = io.StringIO()  # not a terminal
    bar = progress_bar(total=1000, desc="train", leave=False, file=log)
    for _ in range(1000):
        bar.update(1)
    bar.close()
    for _ in progress_bar(range(50), desc="models", file=log):
        pass
    text = log.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and "\x1b" not in text and text.endswith("\n")
    assert all(line.strip() for line in lines)  # no blank lines from clearing a bar
    assert any("1000/1000" in line for line in lines)  # the last state of a bar that does not stay
    assert any("50/50" in line for line in lines)
    assert len(lines) <= 6  # a start and an end per bar, not one line per update


def test_progress_draws_nothing_while_the_book_builds(monkeypatch):
    from stablernn.progress import progress_bar

    monkeypatch.setenv("STABLERNN_STATIC", "1")
    log = io.StringIO()
    for _ in progress_bar(range(10), desc="models", file=log):
        pass
    assert log.getvalue() == ""


def test_console_script_runs_main_and_py_typed_is_packaged():
    from stablernn.experiments.__main__ import main

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = config["project"]["scripts"]["stablernn-experiments"]
    assert target == "stablernn.experiments.__main__:main"
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["stablernn"]
    assert (ROOT / "lib" / "stablernn" / "py.typed").is_file()
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
