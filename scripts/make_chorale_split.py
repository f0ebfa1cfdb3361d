"""Make lib/stablernn/data/chorale_split.json: which music21 chorales, and their train/valid/test split.

Usage:  python scripts/make_chorale_split.py PATH/TO/JSB_Chorales.mat [--compare MANIFEST.json]

1. Candidates: music21's chorale list in Riemenschneider numbering, as distinct corpus files
   (several Riemenschneider numbers share a file), in Riemenschneider order.
2. Skip a file that is not a four-part chorale (``four_voices`` fails), and a duplicate: a file
   whose piano roll has cell Jaccard >= 0.95 with one kept earlier (distinct chorales score at
   most about 0.83: different harmonisations of one melody).
3. Match each kept chorale to the JSB sequences (all three splits): cell Jaccard |A∩B| / |A∪B| of
   the binary piano rolls, maximised over every time offset and over pitch shifts of up to 12
   semitones (the JSB data centres some chorales on another tonic than music21's key analysis,
   e.g. the relative major or the dominant, and in another octave), using the roll as parsed
   and the roll with repeats expanded by music21 (the JSB data expands repeats). Pairs with
   Jaccard >= 0.8 are assigned one to one, best first; a matched chorale takes its sequence's
   split. With --compare, print how the matches agree with another such table.
4. Unmatched chorales are shuffled with a fixed seed and cut in the JSB proportions 229 : 76 : 77.

The json holds no machine path; its "about" header records the method and the counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

from stablernn.data.chorales import SPLIT_FILE, chorale_roll, corpus_file  # noqa: E402
from stablernn.data.matfile import SPLITS, load_mat_rolls  # noqa: E402

MATCH_JACCARD = 0.8
DUPLICATE_JACCARD = 0.95
SEED = 20190101
MAX_SHIFT = 12  # JSB centres some chorales on another tonic (relative, dominant) and octave
JSB_COUNTS = {"train": 229, "valid": 76, "test": 77}


def best_jaccard(a: np.ndarray, seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Cell Jaccard of roll ``a`` with each of ``seqs``, maximised over time offset and pitch shift.

    Returns the best Jaccard per sequence and the pitch shift (semitones, |shift| <= MAX_SHIFT) reaching it.
    Two rolls whose note counts differ by more than 20 % cannot reach MATCH_JACCARD: skipped (0).
    """
    best, shift = np.zeros(len(seqs)), np.zeros(len(seqs), dtype=int)
    n_a = a.sum()
    for n, b in enumerate(seqs):
        n_b = b.sum()
        if min(n_a, n_b) < MATCH_JACCARD * max(n_a, n_b):
            continue
        # inter[lag, 87 + p]: cells shared by a and b moved by lag frames and p keys
        inter = np.rint(fftconvolve(a.astype(float), b[::-1, ::-1].astype(float), mode="full"))
        inter = inter[:, 87 - MAX_SHIFT: 88 + MAX_SHIFT]
        jac = inter / (n_a + n_b - inter)
        k = np.unravel_index(np.argmax(jac), jac.shape)
        best[n], shift[n] = jac[k], MAX_SHIFT - k[1]  # key in b minus key in a
    return best, shift


def candidates() -> list[str]:
    """Distinct corpus files of music21's Riemenschneider chorale list, in that order."""
    from music21.corpus import chorales

    seen: dict[str, None] = {}
    for name in chorales.Iterator(numberingSystem="riemenschneider", returnType="filename"):
        path = corpus_file(name)  # e.g. "bach/bwv18.5-l" resolves to the file bwv18.5-lz.mxl
        seen.setdefault(f"bach/{path.stem}", None)
    return list(seen)


def parse_candidates(ids: list[str]) -> tuple[dict, dict, dict]:
    """Rolls (as parsed, with repeats expanded) of the four-part chorales, and why others were skipped."""
    from music21 import corpus
    from tqdm import tqdm

    plain, expanded, skipped = {}, {}, {}
    for cid in tqdm(ids, desc="parsing"):
        score = corpus.parse(corpus_file(cid))
        try:
            roll = chorale_roll(score)
        except ValueError as err:
            skipped[cid] = f"not four-part: {err}"
            continue
        kept = list(plain)
        if kept:
            sims, _ = best_jaccard(roll, [plain[k] for k in kept])
            if sims.max() >= DUPLICATE_JACCARD:
                twin = kept[int(sims.argmax())]
                skipped[cid] = f"duplicate of {twin} (Jaccard {sims.max():.3f})"
                continue
        plain[cid] = roll
        expanded[cid] = chorale_roll(score.expandRepeats())
    return plain, expanded, skipped


def match(plain: dict, expanded: dict, jsb: dict) -> dict[str, dict]:
    """One-to-one best-first assignment of chorales to JSB sequences at Jaccard >= MATCH_JACCARD."""
    seqs = [(s, i) for s in SPLITS for i in range(len(jsb[s]))]
    flat = [jsb[s][i] for s, i in seqs]
    pairs = []
    for cid in plain:
        for was_expanded, roll in ((False, plain[cid]), (True, expanded[cid])):
            sims, shifts = best_jaccard(roll, flat)
            for k in np.nonzero(sims >= MATCH_JACCARD)[0]:
                pairs.append((float(sims[k]), cid, seqs[k], was_expanded, int(shifts[k])))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2], p[3]))
    matched, used = {}, set()
    for sim, cid, seq, was_expanded, shift in pairs:
        if cid not in matched and seq not in used:
            matched[cid] = {"split": seq[0], "jsb_index": seq[1], "jaccard": round(sim, 3),
                            "repeats_expanded": was_expanded, "pitch_shift": shift}
            used.add(seq)
    return matched


def random_split(ids: list[str]) -> dict[str, str]:
    """Split ``ids`` at random (seed SEED) in the JSB proportions."""
    total = sum(JSB_COUNTS.values())
    order = [ids[i] for i in np.random.default_rng(SEED).permutation(len(ids))]
    n_valid = round(len(ids) * JSB_COUNTS["valid"] / total)
    n_test = round(len(ids) * JSB_COUNTS["test"] / total)
    names = ["valid"] * n_valid + ["test"] * n_test + ["train"] * (len(ids) - n_valid - n_test)
    return dict(zip(order, names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mat", help="path of the standard JSB_Chorales.mat")
    parser.add_argument("--compare", help="optional json {corpus id: {split: ...}} to compare with")
    parser.add_argument("--out", default=str(SPLIT_FILE), help="where to write the json")
    args = parser.parse_args()

    import music21

    jsb = {s: load_mat_rolls(args.mat, s) for s in SPLITS}
    plain, expanded, skipped = parse_candidates(candidates())
    matched = match(plain, expanded, jsb)
    unmatched = sorted(set(plain) - set(matched))
    split = {cid: m["split"] for cid, m in matched.items()} | random_split(unmatched)
    count = lambda ids: {s: sum(split[c] == s for c in ids) for s in SPLITS}  # noqa: E731
    about = {
        "made_by": "scripts/make_chorale_split.py (run with the standard JSB_Chorales.mat)",
        "music21": music21.__version__,
        "candidates": "music21 chorale list, Riemenschneider numbering, distinct corpus files",
        "skipped": skipped,
        "criterion": (f"cell Jaccard of piano rolls maximised over time offset and pitch shift "
                      f"(|shift| <= {MAX_SHIFT}), as parsed or with repeats expanded; one-to-one "
                      f"best-first assignment at Jaccard >= {MATCH_JACCARD}; duplicates: Jaccard >= "
                      f"{DUPLICATE_JACCARD} with a chorale kept earlier"),
        "unmatched_split": f"numpy default_rng({SEED}) permutation, JSB proportions 229:76:77",
        "counts": {"chorales": len(split), "matched": count(matched), "unmatched": count(unmatched),
                   "total": count(split)},
        "unmatched": unmatched,
        "matched_with_repeats_expanded": sorted(c for c, m in matched.items() if m["repeats_expanded"]),
        "matched_with_pitch_shift": {c: m["pitch_shift"] for c, m in sorted(matched.items())
                                     if m["pitch_shift"]},
    }
    table = {"about": about, "split": dict(sorted(split.items()))}
    Path(args.out).write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(about["counts"]), f"skipped {len(skipped)}")
    if args.compare:
        compare(matched, json.loads(Path(args.compare).read_text(encoding="utf-8")))


def compare(matched: dict, other: dict) -> None:
    """Print how our matches agree with another {corpus id: {split, jsb_index}} table."""
    both = set(matched) & set(other)
    same = [c for c in both if (matched[c]["split"], matched[c]["jsb_index"])
            == (other[c]["split"], other[c].get("jsb_index"))]
    print(f"matched here {len(matched)}, there {len(other)}, both {len(both)}, same sequence {len(same)}")
    for c in sorted(both - set(same)):
        print("  differs:", c, matched[c], other[c])
    print("  only here:", sorted(set(matched) - set(other)))
    print("  only there:", sorted(set(other) - set(matched)))


if __name__ == "__main__":
    main()
