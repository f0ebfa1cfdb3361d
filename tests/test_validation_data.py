"""Bad input to the data loaders: a clear error naming the problem, and nothing half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

import stablernn.data._cache as cache_module
from stablernn.data import (
    adding_problem, batchify, copy_memory, digits_sequences, frame_nll, load_chorales,
    load_corpus, load_mat_rolls, pad_rolls,
)
from stablernn.data._cache import read_rolls, write_rolls


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("STABLERNN_CACHE", str(folder))
    return folder


def _mat(path: Path, **arrays: object) -> Path:
    scipy.io.savemat(path, arrays)
    return path


def _cells(*rolls: np.ndarray) -> np.ndarray:
    cells = np.empty((1, len(rolls)), dtype=object)
    for i, roll in enumerate(rolls):
        cells[0, i] = roll
    return cells


# --- .mat files ---------------------------------------------------------------------------------

def test_mat_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.mat"):
        load_mat_rolls(tmp_path / "nowhere.mat", "train")


def test_mat_without_expected_keys_names_found_and_expected(tmp_path: Path) -> None:
    path = _mat(tmp_path / "x.mat", train=_cells(np.zeros((3, 88))))
    with pytest.raises(ValueError, match=r"traindata.*found \['train'\]"):
        load_mat_rolls(path, "train")


def test_mat_round_trip_and_bad_contents(tmp_path: Path) -> None:
    good = np.eye(4, 88, dtype=np.uint8)
    ok = _mat(tmp_path / "ok.mat", traindata=_cells(good, good[:2]), validdata=_cells(good),
              testdata=_cells(good))
    rolls = load_mat_rolls(ok, "train")
    assert len(rolls) == 2 and np.array_equal(rolls[1], good[:2]) and rolls[0].dtype == np.uint8
    wide = _mat(tmp_path / "w.mat", traindata=_cells(np.zeros((3, 87))), validdata=_cells(good),
                testdata=_cells(good))
    with pytest.raises(ValueError, match="88"):
        load_mat_rolls(wide, "train")
    nonbinary = _mat(tmp_path / "b.mat", traindata=_cells(good), validdata=_cells(good * 2),
                     testdata=_cells(good))
    with pytest.raises(ValueError, match="binary"):
        load_mat_rolls(nonbinary, "valid")
    with pytest.raises(ValueError, match="split"):
        load_mat_rolls(ok, "training")


def test_mat_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.mat"
    path.write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(ValueError, match="junk.mat"):
        load_mat_rolls(path, "test")


# --- corpora ------------------------------------------------------------------------------------

def _corpus(folder: Path, **texts: bytes) -> Path:
    folder.mkdir()
    for name in ("train", "valid", "test"):
        (folder / f"{name}.txt").write_bytes(texts.get(name, b"a b\n"))
    return folder


def test_corpus_missing_directory_or_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent"):
        load_corpus(tmp_path / "absent")
    folder = _corpus(tmp_path / "c")
    (folder / "valid.txt").unlink()
    with pytest.raises(FileNotFoundError, match="valid.txt"):
        load_corpus(folder)


def test_corpus_empty_or_undecodable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="train.txt.*no words"):
        load_corpus(_corpus(tmp_path / "empty", train=b"\n  \n"))
    with pytest.raises(ValueError, match="test.txt.*UTF-8"):
        load_corpus(_corpus(tmp_path / "latin1", test=b"caf\xe9 noir\n"))


def test_batchify_arguments() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        batchify(torch.arange(5), 6)
    with pytest.raises(ValueError, match="batch_size"):
        batchify(torch.arange(5), 0)
    with pytest.raises(TypeError, match="ids"):
        batchify(torch.zeros(2, 3, dtype=torch.long), 1)
    with pytest.raises(TypeError, match="batch_size"):
        batchify(torch.arange(5), 2.0)


# --- generated tasks ----------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: adding_problem(0, 10, seed=0), "n"),
    (lambda: adding_problem(5, 1, seed=0), "T"),
    (lambda: adding_problem(5, 10, seed=-1), "seed"),
    (lambda: copy_memory(5, 0, seed=0), "T"),
    (lambda: digits_sequences("dev"), "split"),
])
def test_task_arguments(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# --- polyphonic tensors -------------------------------------------------------------------------

def test_pad_rolls_and_frame_nll_arguments() -> None:
    with pytest.raises(ValueError, match="T >= 2"):
        pad_rolls([np.zeros((1, 88))])
    with pytest.raises(ValueError, match="88"):
        pad_rolls([np.zeros((4, 12))])
    with pytest.raises(ValueError, match="0 and 1"):
        pad_rolls([np.full((4, 88), 0.5)])
    with pytest.raises(ValueError, match="non-empty"):
        pad_rolls([])
    x = torch.zeros(1, 3, 88)
    with pytest.raises(ValueError, match="mask"):
        frame_nll(x, x, torch.ones(1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="at least one"):
        frame_nll(x, x, torch.zeros(1, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="kind"):
        frame_nll(x, x, torch.ones(1, 3, dtype=torch.bool), kind="softmax")


# --- chorales and their cache -------------------------------------------------------------------

def test_chorale_arguments(cache: Path) -> None:
    with pytest.raises(ValueError, match="split"):
        load_chorales("dev")
    with pytest.raises(ValueError, match="bwv9999"):
        load_chorales(ids=["bach/bwv9999"])
    with pytest.raises(ValueError, match="limit"):
        load_chorales(limit=0)
    with pytest.raises(TypeError, match="ids"):
        load_chorales(ids="bach/bwv10.7")
    assert not cache.exists()  # nothing written for a refused call


def test_corrupt_cache_is_discarded_and_rebuilt(cache: Path) -> None:
    first = load_chorales("test", limit=2, progress=False)
    (path,) = cache.glob("*.npz")
    path.write_bytes(b"garbage, not an npz file")
    again = load_chorales("test", limit=2, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert read_rolls(path) is not None  # rebuilt and valid
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left


def test_tampered_cache_fails_its_checksum(cache: Path) -> None:
    first = load_chorales("test", limit=2, progress=False)
    (path,) = cache.glob("*.npz")
    with np.load(path) as data:
        fields = {k: data[k] for k in data.files}
    fields["frames"] = fields["frames"].copy()
    fields["frames"][0] ^= 1  # flip one frame, keep the old checksum
    np.savez(path, **fields)
    assert read_rolls(path) is None
    again = load_chorales("test", limit=2, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert read_rolls(path) is not None


def test_failed_cache_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_savez(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(cache_module.np, "savez", broken_savez)
    target = tmp_path / "c" / "rolls.npz"
    with pytest.raises(OSError, match="disk full"):
        write_rolls(target, ["a"], [np.zeros((2, 88), dtype=np.uint8)])
    assert list(target.parent.iterdir()) == []
