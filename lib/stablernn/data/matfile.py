"""Piano rolls from the standard polyphonic-music ``.mat`` files (JSB Chorales, Nottingham, ...).

These files (Boulanger-Lewandowski et al. 2012, as distributed with the TCN code of Bai et al.)
hold three keys, ``traindata``, ``validdata`` and ``testdata``, each a 1 × n object array of
T × 88 binary arrays (column ``k`` is MIDI note ``21 + k``). The book never ships them: the
user names a copy by path.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.io

from .._validate import check_choice

SPLITS = ("train", "valid", "test")
N_KEYS = 88


def load_mat_rolls(path: str | os.PathLike, split: str) -> list[np.ndarray]:
    """Read one split of a JSB-style ``.mat`` file as a list of binary piano rolls.

    Parameters
    ----------
    path : path of the ``.mat`` file (keys ``traindata``, ``validdata``, ``testdata``).
    split : ``"train"``, ``"valid"`` or ``"test"``.

    Returns
    -------
    list of uint8 arrays of shape (T_i, 88) with values in {0, 1}.

    Raises
    ------
    FileNotFoundError if ``path`` is not a file; ValueError if the file is not a readable
    ``.mat``, lacks the expected keys, or holds a sequence that is not T × 88 binary.
    """
    check_choice("split", split, SPLITS)
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no .mat file at {str(path)!r}")
    try:
        contents = scipy.io.loadmat(path)
    except Exception as err:  # scipy raises several types for a damaged file
        raise ValueError(f"cannot read {str(path)!r} as a .mat file: {err}") from err
    expected = [f"{name}data" for name in SPLITS]
    found = sorted(k for k in contents if not k.startswith("__"))
    if any(key not in contents for key in expected):
        raise ValueError(f"{str(path)!r} must hold the keys {expected}; found {found}")
    cells = np.asarray(contents[f"{split}data"], dtype=object).ravel()
    return [_as_roll(cell, f"{split}data[{i}] of {str(path)!r}") for i, cell in enumerate(cells)]


def _as_roll(cell: object, where: str) -> np.ndarray:
    """Check one sequence: 2-D, 88 columns, values 0/1; return it as uint8."""
    arr = np.asarray(cell)
    if arr.ndim != 2 or arr.shape[1] != N_KEYS or arr.shape[0] == 0:
        raise ValueError(f"{where} must be a T x {N_KEYS} array with T >= 1, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise ValueError(f"{where} must hold numbers 0/1, got dtype {arr.dtype}")
    if not np.all((arr == 0) | (arr == 1)):
        bad = np.unique(arr[(arr != 0) & (arr != 1)])[:5]
        raise ValueError(f"{where} must be binary (0/1), found values such as {bad.tolist()}")
    return arr.astype(np.uint8)
