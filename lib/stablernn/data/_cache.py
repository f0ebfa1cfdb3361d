"""A small on-disk cache of piano rolls and of computed arrays: atomic writes, verified reads.

A piano-roll file is an ``.npz`` holding the rolls concatenated along time (``frames``, uint8), their
``lengths``, their corpus ``ids`` and a SHA-256 ``checksum`` of the three. An array file
(``write_arrays``, e.g. Chapter 6's training grid) holds named arrays and a checksum of them all. A
file that cannot be read, lacks a field, has the wrong shapes or a checksum that does not match is
never trusted: the caller rebuilds it. Files are written to a temporary name in the same directory
and moved into place with ``os.replace``, so a reader (another kernel, too) never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import platformdirs

N_KEYS = 88
_FIELDS = ("frames", "lengths", "ids", "checksum")


def cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the cache directory: the argument, else ``$STABLERNN_CACHE``, else the platform's.

    The platform's user cache folder comes from ``platformdirs.user_cache_dir("stablernn")``:
    ``$XDG_CACHE_HOME/stablernn`` (default ``~/.cache/stablernn``) on Linux,
    ``~/Library/Caches/stablernn`` on macOS, ``%LOCALAPPDATA%\\stablernn\\Cache`` on Windows.
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("STABLERNN_CACHE")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("stablernn", appauthor=False))


def checksum(frames: np.ndarray, lengths: np.ndarray, ids: list[str]) -> str:
    """SHA-256 over the frames, the lengths and the ids (the cache file's integrity check)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(frames, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(lengths, dtype=np.int64).tobytes())
    digest.update("\n".join(ids).encode("utf-8"))
    return digest.hexdigest()


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def arrays_checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (in name order)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{a.dtype.str}:{a.shape};".encode("utf-8"))
        digest.update(a.tobytes())
    return digest.hexdigest()


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the named numeric ``arrays`` to ``path`` atomically, with their checksum."""
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    if "checksum" in arrays or any(a.dtype.kind not in "biuf" for a in arrays.values()):
        raise ValueError("write_arrays stores numeric arrays under any name but 'checksum'")
    _atomic_savez(path, {**arrays, "checksum": np.array(arrays_checksum(arrays))})


def read_arrays(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` of a file from ``write_arrays``, or ``None`` if it is missing, unreadable,
    holds other names or fails its checksum."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if set(data.files) != set(names) | {"checksum"}:
                return None
            arrays, stored = {name: data[name] for name in names}, str(data["checksum"])
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None
    return arrays if stored == arrays_checksum(arrays) else None


def write_rolls(path: Path, ids: list[str], rolls: list[np.ndarray]) -> None:
    """Write ``rolls`` (each (T, 88) binary) under ``ids`` to ``path`` atomically."""
    frames = np.concatenate(rolls).astype(np.uint8) if rolls else np.zeros((0, N_KEYS), np.uint8)
    lengths = np.array([len(r) for r in rolls], dtype=np.int64)
    _atomic_savez(path, dict(frames=frames, lengths=lengths, ids=np.array(ids, dtype=str),
                             checksum=np.array(checksum(frames, lengths, ids))))


def read_rolls(path: Path) -> dict[str, np.ndarray] | None:
    """Return ``{id: roll}`` from a cache file, or ``None`` if it is missing, unreadable or invalid."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if set(data.files) != set(_FIELDS):
                return None
            frames, lengths = data["frames"], data["lengths"]
            ids, stored = [str(i) for i in data["ids"]], str(data["checksum"])
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None
    shapes_ok = (frames.ndim == 2 and frames.shape[1] == N_KEYS and frames.dtype == np.uint8
                 and lengths.ndim == 1 and len(lengths) == len(ids)
                 and np.all(lengths > 0) and int(lengths.sum()) == len(frames))
    if not shapes_ok or stored != checksum(frames, lengths, ids) or frames.max(initial=0) > 1:
        return None
    return dict(zip(ids, np.split(frames, np.cumsum(lengths)[:-1])))
