"""Tests of stablernn.data: loaders and generated tasks (shapes, contents, the baselines of
tests/reference.py), the chorale cache, and bad input (a clear error naming the problem, nothing
half-written).

Reference data (JSB ``.mat``, Penn Treebank) is looked for in ``../shared/data`` next to the
repository; tests that need it skip with the missing path when it is absent.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

import stablernn.data._cache as cache_module
from reference import (
    ADDING_CONSTANT_MSE, JSB_BERNOULLI_NLL, JSB_LOGISTIC_NLL, JSB_SPLIT_SIZES, MUSIC21_BERNOULLI_NLL,
    MUSIC21_LOGISTIC_NLL, PTB_TOKENS, PTB_VOCABULARY,
)
from stablernn.data import (
    adding_problem, batchify, bernoulli_baseline, chorale_ids, copy_memory, copy_memory_baseline,
    digits_sequences, frame_nll, load_chorales, load_corpus, load_mat_rolls,
    logistic_previous_frame_baseline, pad_rolls,
)
from stablernn.data._cache import read_rolls, write_rolls
from stablernn.data.chorales import SPLIT_FILE
from stablernn.data.tasks import RECALL_CHANCE, delayed_recall, recall_task

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
JSB = DATA / "jsb" / "JSB_Chorales.mat"
PENN = DATA / "penn"


def need(path: Path) -> Path:
    """Skip the test, naming the path, unless the reference file or folder exists."""
    if not path.exists():
        pytest.skip(f"reference data not found at {path}")
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private chorale cache: tests never touch the user's."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("STABLERNN_CACHE", str(folder))
    return folder


# --- standard .mat piano rolls -------------------------------------------------------------------

def test_jsb_mat_has_the_standard_split_sizes() -> None:
    sizes = {s: load_mat_rolls(need(JSB), s) for s in ("train", "valid", "test")}
    assert {s: len(r) for s, r in sizes.items()} == JSB_SPLIT_SIZES
    for roll in sizes["train"]:
        assert roll.dtype == np.uint8 and roll.shape[1] == 88 and set(np.unique(roll)) <= {0, 1}


def test_jsb_baselines_match_the_reference_values() -> None:
    # The reference values are given to two decimals. The Bernoulli value hardly depends on the
    # smoothing (< 0.01 between add-0.5 and add-1), so 0.05 is generous; the logistic value moves by
    # a few hundredths with the L2 penalty and optimiser, so 0.1.
    train, test = load_mat_rolls(need(JSB), "train"), load_mat_rolls(JSB, "test")
    assert bernoulli_baseline(train, test) == pytest.approx(JSB_BERNOULLI_NLL, abs=0.05)
    assert logistic_previous_frame_baseline(train, test) == pytest.approx(JSB_LOGISTIC_NLL, abs=0.1)


# --- music21 chorales -----------------------------------------------------------------------------

def test_split_file_is_consistent_and_portable() -> None:
    table = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    split, about = table["split"], table["about"]
    assert set(split.values()) == {"train", "valid", "test"}
    assert about["counts"]["chorales"] == len(split) == len(chorale_ids())
    assert sum(about["counts"]["total"].values()) == len(split)
    assert all(cid.startswith("bach/bwv") for cid in split)
    assert sorted(chorale_ids("train") + chorale_ids("valid") + chorale_ids("test")) == chorale_ids()
    fractions = np.array([len(chorale_ids(s)) for s in ("train", "valid", "test")]) / len(split)
    jsb = np.array([JSB_SPLIT_SIZES[s] for s in ("train", "valid", "test")])
    assert np.allclose(fractions, jsb / jsb.sum(), atol=0.05)
    assert "/work" not in SPLIT_FILE.read_text(encoding="utf-8")  # no machine path committed


def test_chorale_rolls_are_four_voices_in_c(cache: Path) -> None:
    rolls = load_chorales("valid", limit=4, progress=False)
    assert len(rolls) == 4
    for roll in rolls:
        assert roll.dtype == np.uint8 and roll.shape[1] == 88 and set(np.unique(roll)) <= {0, 1}
        assert roll.sum(axis=1).max() <= 4  # four voices, one note each at a beat
        assert roll.sum(axis=1).mean() > 3.5  # ... and nearly always all four sound
        # a chorale ends on its tonic: after transposition the final bass note is a C
        bass = np.nonzero(roll[-1])[0].min() + 21
        assert bass % 12 == 0
    assert list(cache.glob("*.npz")), "the parsed rolls must be cached"


def test_matched_chorales_agree_with_the_jsb_sequences(cache: Path) -> None:
    table = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))["about"]
    skip = set(table["unmatched"]) | set(table["matched_with_repeats_expanded"])
    ids = [c for c in chorale_ids("test") if c not in skip][:3]
    jsb = load_mat_rolls(need(JSB), "test")
    for roll in load_chorales("test", ids=ids, progress=False):
        assert max(_jaccard(roll, seq) for seq in jsb) >= 0.8


def test_cache_is_reused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_chorales("train", limit=2, progress=False)
    import stablernn.data.chorales as chorales

    monkeypatch.setattr(chorales, "parse_chorale", _must_not_parse)
    again = load_chorales("train", limit=2, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


@pytest.mark.slow
def test_all_chorales_score_like_real_jsb(cache: Path) -> None:
    # Every chorale parsed cold (about a minute) into a private cache, then read back from it.
    rolls = {s: load_chorales(s, progress=False) for s in ("train", "valid", "test")}
    assert sum(map(len, rolls.values())) == len(chorale_ids())
    lengths = [len(r) for split in rolls.values() for r in split]
    assert 20 <= min(lengths) and max(lengths) <= 200 and 50 <= np.mean(lengths) <= 60
    ours = bernoulli_baseline(rolls["train"], rolls["test"])
    # A different split of ~350 chorales moves these by about 0.1-0.2 nats per frame, so 0.3.
    assert ours == pytest.approx(MUSIC21_BERNOULLI_NLL, abs=0.3)
    assert logistic_previous_frame_baseline(rolls["train"], rolls["test"]) == pytest.approx(MUSIC21_LOGISTIC_NLL, abs=0.3)
    if JSB.exists():
        real = bernoulli_baseline(load_mat_rolls(JSB, "train"), load_mat_rolls(JSB, "test"))
        assert abs(ours - real) <= 0.3


def _must_not_parse(corpus_id: str) -> np.ndarray:
    raise AssertionError(f"{corpus_id} was parsed again although it is cached")


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Cell Jaccard of two rolls, maximised over time offsets (a plain loop, independent of the script)."""
    best = 0.0
    for lag in range(-len(a) + 1, len(b)):
        lo, hi = max(0, -lag), min(len(a), len(b) - lag)
        inter = int(np.logical_and(a[lo:hi], b[lo + lag:hi + lag]).sum())
        best = max(best, inter / (int(a.sum()) + int(b.sum()) - inter))
    return best


# --- word-level corpus ----------------------------------------------------------------------------

def _write_corpus(folder: Path, train: str, valid: str, test: str) -> Path:
    folder.mkdir()
    for name, text in (("train", train), ("valid", valid), ("test", test)):
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def test_corpus_vocabulary_eos_and_unk(tmp_path: Path) -> None:
    corpus = load_corpus(_write_corpus(tmp_path / "c", "a b c\nb c\n", "a d\n", "c\n\n"))
    vocab = corpus.vocab
    assert vocab.id_to_word == ["a", "b", "c", "<eos>", "<unk>"]
    assert all(vocab.word_to_id[w] == i for i, w in enumerate(vocab.id_to_word))
    decode = lambda ids: [vocab.id_to_word[i] for i in ids.tolist()]  # noqa: E731
    assert decode(corpus.train) == ["a", "b", "c", "<eos>", "b", "c", "<eos>"]
    assert decode(corpus.valid) == ["a", "<unk>", "<eos>"]  # d never occurs in train
    assert decode(corpus.test) == ["c", "<eos>", "<eos>"]  # an empty line still ends a sentence
    assert corpus.train.dtype == torch.long


def test_batchify_cuts_contiguous_rows() -> None:
    ids = torch.arange(23)
    rows = batchify(ids, 4)
    assert rows.shape == (4, 5) and rows.dtype == torch.long
    assert torch.equal(rows[1], torch.arange(5, 10))  # each row reads on in time
    assert torch.equal(rows.flatten(), ids[:20])  # the 3 leftover tokens are dropped


def test_penn_treebank_counts() -> None:
    corpus = load_corpus(need(PENN))
    assert len(corpus.vocab) == PTB_VOCABULARY
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == PTB_TOKENS
    assert int((corpus.valid == corpus.vocab.word_to_id["<unk>"]).sum()) > 0


# --- generated tasks ------------------------------------------------------------------------------

def test_adding_problem_layout_and_constant_baseline() -> None:
    X, Y = adding_problem(20000, 50, seed=0)
    assert X.shape == (20000, 50, 2) and Y.shape == (20000, 1)
    marks = X[..., 1]
    assert torch.all(marks.sum(1) == 2)
    assert torch.all(marks[:, :25].sum(1) == 1) and torch.all(marks[:, 25:].sum(1) == 1)
    assert torch.allclose(Y[:, 0], (X[..., 0] * marks).sum(1))
    # Predicting 1 costs Var(u1 + u2) = 1/6; the standard error of the mean here is about 0.0014.
    assert float(((Y - 1) ** 2).mean()) == pytest.approx(ADDING_CONSTANT_MSE, abs=0.005)
    assert torch.equal(adding_problem(3, 10, seed=1)[0], adding_problem(3, 10, seed=1)[0])


def test_copy_memory_layout() -> None:
    T = 30
    X, Y = copy_memory(50, T, seed=0)
    assert X.shape == Y.shape == (50, T + 20)
    assert torch.all((X[:, :10] >= 1) & (X[:, :10] <= 8))
    assert torch.all(X[:, T + 9] == 9) and int((X == 9).sum()) == 50
    assert torch.all(X[:, 10:T + 9] == 0) and torch.all(X[:, T + 10:] == 0)
    assert torch.all(Y[:, : T + 10] == 0) and torch.equal(Y[:, -10:], X[:, :10])


@pytest.mark.parametrize("T", [10, 100])
def test_copy_memory_memoryless_baseline(T: int) -> None:
    # The best predictor that sees only the position t: the class frequencies at t. Fit them on one
    # sample, score their cross-entropy on another, compare with 10 ln 8 / (T + 20).
    _, Y_fit = copy_memory(20000, T, seed=1)
    _, Y = copy_memory(20000, T, seed=2)
    freq = torch.stack([(Y_fit == c).float().mean(0) for c in range(10)], dim=-1)  # (T+20, 10)
    ce = -torch.log(freq.clamp_min(1e-12)).gather(1, Y.T).mean()
    assert float(ce) == pytest.approx(copy_memory_baseline(T), rel=0.01)
    assert copy_memory_baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))


def test_digits_split_is_fixed_and_disjoint() -> None:
    parts = {s: digits_sequences(s) for s in ("train", "valid", "test")}
    assert sum(len(y) for _, y in parts.values()) == 1797
    X, y = parts["train"]
    assert X.shape == (len(y), 64, 1) and X.dtype == torch.float32 and y.dtype == torch.long
    assert float(X.min()) == 0.0 and float(X.max()) == 1.0
    from sklearn.datasets import load_digits

    # disjoint and complete: the three splits together are exactly the 1797 images, each once
    images, labels = load_digits(return_X_y=True)
    ours = sorted(tuple(x.flatten().mul(16).round().tolist()) + (int(t),)
                  for s in parts for x, t in zip(*parts[s]))
    assert ours == sorted(tuple(x.tolist()) + (int(t),) for x, t in zip(images, labels))
    assert torch.equal(digits_sequences("test")[0], parts["test"][0])  # same seed, same split
    assert not torch.equal(digits_sequences("test", seed=1)[0], parts["test"][0])


def test_recall_task_targets_are_the_inputs_lag_steps_back():
    x, y, mask = recall_task(5, 12, 3, seed=0)
    assert x.shape == y.shape == (5, 12, 1) and mask.shape == (5, 12)
    torch.testing.assert_close(y[:, 3:], x[:, :-3])
    assert mask[:, :3].sum() == 0 and mask[:, 3:].min() == 1
    assert set(x.unique().tolist()) == {-1.0, 1.0}  # chance level: E[x^2] = 1
    assert RECALL_CHANCE == float((x**2).mean())


def test_delayed_recall_repeats_the_input_delay_steps_back():
    x, y = delayed_recall(4, 10, 3, seed=1)
    assert x.shape == y.shape == (4, 10, 1) and x.dtype == torch.float32
    torch.testing.assert_close(y[:, 3:], x[:, :-3])
    assert torch.all(y[:, :3] == 0)
    assert torch.equal(delayed_recall(4, 10, 3, seed=1)[0], x)


# --- polyphonic tensors and metric -----------------------------------------------------------------

def test_pad_rolls_aligns_inputs_and_targets() -> None:
    rng = np.random.default_rng(0)
    rolls = [rng.integers(0, 2, size=(n, 88)) for n in (5, 3)]
    X, Y, mask = pad_rolls(rolls)
    assert X.shape == Y.shape == (2, 4, 88) and mask.tolist() == [[True] * 4, [True, True, False, False]]
    assert torch.equal(X[1, :2], torch.tensor(rolls[1][:2]).float())
    assert torch.equal(Y[1, :2], torch.tensor(rolls[1][1:]).float())
    assert torch.all(X[1, 2:] == 0) and torch.all(Y[1, 2:] == 0)


def test_frame_nll_is_bce_summed_over_keys_averaged_over_frames() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 88, generator=gen, requires_grad=True)
    targets = (torch.rand(2, 4, 88, generator=gen) < 0.1).float()
    mask = torch.tensor([[True] * 4, [True, False, False, False]])
    p = torch.sigmoid(logits).detach().numpy()
    t = targets.numpy()
    per_frame = -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum(-1)
    expected = per_frame[mask.numpy()].mean()
    value = frame_nll(logits, targets, mask)
    assert float(value.detach()) == pytest.approx(expected, rel=1e-5)
    probs = torch.sigmoid(logits.detach())
    assert float(frame_nll(probs, targets, mask, kind="probs")) == pytest.approx(expected, rel=1e-4)
    value.backward()
    assert torch.all(logits.grad[1, 1:] == 0)  # padded frames do not count


def test_previous_frame_baseline_beats_bernoulli_on_held_notes() -> None:
    # Chords held for 4 beats: the previous frame predicts the next one well, a Bernoulli cannot.
    rng = np.random.default_rng(0)

    def song() -> np.ndarray:
        chords = np.zeros((8, 88), dtype=np.uint8)
        for chord in chords:
            chord[rng.choice(np.arange(40, 60), size=3, replace=False)] = 1
        return np.repeat(chords, 4, axis=0)

    train, test = [song() for _ in range(30)], [song() for _ in range(10)]
    bern = bernoulli_baseline(train, test)
    logit = logistic_previous_frame_baseline(train, test, steps=20)
    assert logit < bern - 2.0


# === bad input ==================================================================================

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
    (lambda: recall_task(4, 8, 8, seed=0), "lag"),
    (lambda: delayed_recall(4, 3, 5, seed=0), "steps"),
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


def test_array_files_round_trip_and_refuse_what_they_cannot_store(tmp_path):
    from stablernn.data import _cache

    path = tmp_path / "a.npz"
    _cache.write_arrays(path, {"k": np.array([1, 2]), "gap": np.ones((2, 3))})
    back = _cache.read_arrays(path, ("k", "gap"))
    np.testing.assert_array_equal(back["gap"], np.ones((2, 3)))
    assert _cache.read_arrays(path, ("k",)) is None  # other names than the file holds
    with pytest.raises(ValueError, match="numeric arrays"):
        _cache.write_arrays(path, {"ids": np.array(["a"])})
    with pytest.raises(ValueError, match="'checksum'"):
        _cache.write_arrays(path, {"checksum": np.zeros(1)})
