"""Bach chorales from the music21 corpus as JSB-style piano rolls, cached on disk.

Conversion (``chorale_roll``), following the JSB Chorales data of Boulanger-Lewandowski et al.:

- keep the four voices: the parts of a four-part score, or in a score with instrumental parts the
  one part whose name starts with each of Soprano, Alto, Tenor and Bass;
- one frame per quarter note: frame t holds the notes sounding at beat t (onset <= t < onset +
  duration); notes that start and end between two beats fall between frames;
- transpose by the nearest shift (-6..+5 semitones) that moves the tonic of the key music21
  finds (its default Aarden–Essen key profiles, on the four voices) to C, so major keys go to
  C major and minor keys to C minor; then one octave up; column k is MIDI note 21 + k (88 keys).

Which chorales (``scripts/make_chorale_split.py`` decides, ``chorale_split.json`` records):
music21's chorale list in Riemenschneider numbering (the standard collection of 371 four-part
chorales) names 350 distinct corpus files. Of these we skip a file that is not a four-part chorale
(bwv27.6, a five-voice SSATB setting) and a duplicate: a file whose roll has cell Jaccard >= 0.95
with one kept earlier in Riemenschneider order (e.g. bwv274 = bwv62.6 note for note; distinct
harmonisations of one melody score at most about 0.83). The json's header lists every skipped file
and why; what is left are the unique four-part chorales.

The split: each chorale is matched against the standard JSB ``.mat`` sequences by cell Jaccard
``|A ∩ B| / |A ∪ B|`` of the two piano rolls, maximised over a time offset (and with or without
music21's repeat expansion, since the JSB data expands repeats); pairs are assigned one to one,
best first, and a chorale whose best match reaches Jaccard 0.8 takes that sequence's split. The
maximum also runs over pitch shifts of up to an octave, because the JSB data centres some chorales
on another tonic (relative major, dominant) than music21's key analysis. The rest are split at
random with a fixed seed in the JSB proportions 229 : 76 : 77. See the json's header.

Parsing every chorale takes about a minute, so the rolls are cached in ``$STABLERNN_CACHE`` (or
the platform's user cache folder, ``$XDG_CACHE_HOME/stablernn`` or ``~/.cache/stablernn`` on
Linux): one ``.npz`` per set of chorales, named by a hash of the converter version, music21's
version and the chorale ids, written atomically and verified by checksum when read; a file that
fails any check is deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._validate import check_choice, check_int
from ._cache import cache_dir as _cache_dir
from ._cache import read_rolls, write_rolls

SPLIT_FILE = Path(__file__).with_name("chorale_split.json")
SPLITS = ("train", "valid", "test")
VOICES = ("soprano", "alto", "tenor", "bass")
CONVERTER_VERSION = 1  # bump when chorale_roll changes: it invalidates every cache file
N_KEYS, LOWEST_MIDI, OCTAVE_UP = 88, 21, 12


def chorale_ids(split: str | None = None) -> list[str]:
    """Corpus ids (``"bach/bwvNNN.N"``) of the chorales in ``split`` (all of them for ``None``), sorted.
    """
    if split is not None:
        check_choice("split", split, SPLITS)
    table = _split_table()["split"]
    return sorted(cid for cid, s in table.items() if split is None or s == split)


def four_voices(score: Any) -> list[Any]:
    """The soprano, alto, tenor and bass parts of a music21 score, in that order.

    Raises ValueError if the score has neither exactly four parts nor exactly one part named
    after each voice (e.g. a five-voice setting with two sopranos).
    """
    parts = list(score.parts)
    if len(parts) == 4:
        return parts
    chosen = []
    for voice in VOICES:
        named = [p for p in parts if (p.partName or "").strip().lower().startswith(voice)]
        if len(named) != 1:
            names = [p.partName for p in parts]
            raise ValueError(f"score is not a four-part chorale: parts {names} do not name one {voice}")
        chosen.append(named[0])
    return chosen


def chorale_roll(score: Any) -> np.ndarray:
    """Convert a music21 chorale score to a binary (T, 88) uint8 piano roll (see the module notes).

    Parameters
    ----------
    score : a ``music21.stream.Score`` with four voices (extra instrumental parts are dropped).

    Returns
    -------
    uint8 array (T, 88), T = number of quarter-note beats; column k is MIDI note 21 + k.
    """
    from music21 import stream  # deferred: importing music21 takes about a second

    voices = four_voices(score)
    tonic = stream.Score(voices).analyze("key").tonic.pitchClass
    shift = (6 - tonic) % 12 - 6 + OCTAVE_UP  # nearest move of the tonic to C, then an octave up
    notes = [(float(n.offset), float(n.quarterLength), p.midi)
             for part in voices for n in part.flatten().notes for p in n.pitches]
    length = int(np.ceil(max(o + q for o, q, _ in notes) - 1e-9))
    roll = np.zeros((length, N_KEYS), dtype=np.uint8)
    for onset, duration, midi in notes:
        key = midi + shift - LOWEST_MIDI
        if not 0 <= key < N_KEYS:
            raise ValueError(f"MIDI note {midi} shifted by {shift} falls outside the 88 keys")
        first, stop = int(np.ceil(onset - 1e-9)), int(np.ceil(onset + duration - 1e-9))
        roll[first:stop, key] = 1
    return roll


def parse_chorale(corpus_id: str) -> np.ndarray:
    """Parse one chorale from music21's corpus (e.g. ``"bach/bwv10.7"``) into a (T, 88) roll.
    """
    from music21 import corpus

    return chorale_roll(corpus.parse(corpus_file(corpus_id)))


def corpus_file(corpus_id: str) -> Path:
    """The music21 corpus file of ``corpus_id``: MusicXML where the corpus also has a Humdrum copy.
    """
    from music21 import corpus
    from music21.exceptions21 import CorpusException

    try:
        found = corpus.getWork(corpus_id)  # a prefix search: "bach/bwv69.6" also finds bwv69.6-a
    except CorpusException as err:
        raise ValueError(f"corpus_id {corpus_id!r} names no file of music21's corpus") from err
    paths = [Path(p) for p in (found if isinstance(found, list) else [found]) if p]
    exact = [p for p in paths if p.stem == corpus_id.rsplit("/", 1)[-1]] or paths
    exact.sort(key=lambda p: p.suffix not in (".mxl", ".xml", ".musicxml"))
    if not exact or not exact[0].is_file():
        raise ValueError(f"corpus_id {corpus_id!r} names no file of music21's corpus")
    return exact[0]


def load_chorales(split: str | None = None, *, ids: Sequence[str] | None = None,
                  limit: int | None = None, cache_dir: str | os.PathLike | None = None,
                  progress: bool = True) -> list[np.ndarray]:
    """Load Bach chorales from music21 as binary piano rolls, parsing once and caching.

    Parameters
    ----------
    split : ``"train"``, ``"valid"``, ``"test"`` or ``None`` (all chorales of the split list).
    ids : optional corpus ids to load instead, each one listed in ``chorale_split.json``
        (and in ``split`` if that is given).
    limit : optional n >= 1: only the first n chosen ids (in sorted order).
    cache_dir : cache folder; default ``$STABLERNN_CACHE``, else the platform's user cache folder
        (``_cache.cache_dir``: ``$XDG_CACHE_HOME/stablernn`` or ``~/.cache/stablernn`` on Linux).
    progress : show a tqdm progress bar while parsing.

    Returns
    -------
    list of uint8 arrays (T_i, 88) with values in {0, 1}, in the order of ``chorale_ids(split)``
    (or of ``ids``). Without ``ids`` and ``limit`` the first call parses every chorale (about a
    minute) and caches them together, so the other splits then load at once.
    """
    wanted = _select(split, ids, limit)
    whole = ids is None and limit is None  # a whole split: parse and cache all chorales once
    rolls = _cached_rolls(chorale_ids() if whole else wanted, cache_dir, progress)
    return [rolls[cid] for cid in wanted]


def _select(split: str | None, ids: Sequence[str] | None, limit: int | None) -> list[str]:
    """The chorale ids a call to :func:`load_chorales` asks for."""
    allowed = chorale_ids(split)
    if ids is None:
        wanted = allowed
    else:
        if isinstance(ids, str):
            raise TypeError(f"ids must be a sequence of corpus ids, got the string {ids!r}")
        unknown = sorted(set(ids) - set(allowed))
        if unknown:
            raise ValueError(f"ids must be chorales of split {split!r} listed in {SPLIT_FILE.name}; "
                             f"unknown: {unknown[:5]}")
        wanted = list(dict.fromkeys(ids))
    if limit is not None:
        wanted = wanted[: check_int("limit", limit, low=1)]
    return wanted


def _cached_rolls(ids: list[str], cache_dir: str | os.PathLike | None,
                  progress: bool) -> dict[str, np.ndarray]:
    """Rolls of ``ids`` from a valid cache file (of all chorales, or of exactly these), else parsed."""
    folder = _cache_dir(cache_dir)
    for want in dict.fromkeys([tuple(chorale_ids()), tuple(ids)]):
        path = folder / _cache_name(list(want))
        stored = read_rolls(path)
        if stored is not None and list(stored) == list(want):
            return stored
        path.unlink(missing_ok=True)  # corrupt or mismatched: never trusted
    rolls = _parse_all(ids, progress)
    write_rolls(folder / _cache_name(ids), ids, [rolls[cid] for cid in ids])
    return rolls


def _parse_all(ids: list[str], progress: bool) -> dict[str, np.ndarray]:
    """Parse ``ids`` with a progress bar."""
    from ..progress import progress_bar

    bar = progress_bar(ids, show=progress, desc="Parsing Bach chorales (music21, cached afterwards)", unit="chorale")
    return {cid: parse_chorale(cid) for cid in bar}


def _cache_name(ids: list[str]) -> str:
    """File name of the cache for ``ids``: a hash of converter version, music21 version and ids."""
    import music21

    key = json.dumps([CONVERTER_VERSION, music21.__version__, ids])
    return f"chorales-v{CONVERTER_VERSION}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _split_table() -> dict[str, Any]:
    """The committed split list (``chorale_split.json``), read once."""
    with SPLIT_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)
