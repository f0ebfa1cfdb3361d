"""Word-level text corpora laid out as ``train.txt``, ``valid.txt``, ``test.txt``.

This is the layout of Penn Treebank (Mikolov's preprocessing) and WikiText-2. As in PyTorch's
word-language-model example, text is split on whitespace and every line ends with ``<eos>``; the
vocabulary is built from the training split in order of first appearance. Words of the validation
and test splits that the training split never shows map to ``<unk>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .._validate import check_int

EOS = "<eos>"
UNK = "<unk>"
SPLITS = ("train", "valid", "test")


@dataclass
class Vocabulary:
    """Word ↔ id maps. ``word_to_id[w]`` and ``id_to_word[i]`` are inverse to each other."""

    word_to_id: dict[str, int] = field(default_factory=dict)
    id_to_word: list[str] = field(default_factory=list)

    def add(self, word: str) -> int:
        """Return the id of ``word``, giving it the next free id if it is new."""
        if word not in self.word_to_id:
            self.word_to_id[word] = len(self.id_to_word)
            self.id_to_word.append(word)
        return self.word_to_id[word]

    def encode(self, words: list[str]) -> torch.Tensor:
        """Ids of ``words`` as a 1-D LongTensor; unknown words map to ``<unk>``."""
        unk = self.word_to_id[UNK]
        return torch.tensor([self.word_to_id.get(w, unk) for w in words], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.id_to_word)


@dataclass
class Corpus:
    """A tokenised corpus: the vocabulary and a 1-D LongTensor of token ids per split."""

    vocab: Vocabulary
    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor


def load_corpus(directory: str | os.PathLike) -> Corpus:
    """Tokenise ``directory/{train,valid,test}.txt`` into a :class:`Corpus`.

    Parameters
    ----------
    directory : folder holding ``train.txt``, ``valid.txt`` and ``test.txt`` (UTF-8 text).

    Returns
    -------
    Corpus with ``vocab`` (built from train, plus ``<eos>`` and ``<unk>``) and token ids per split.

    Raises
    ------
    FileNotFoundError naming the missing folder or file; ValueError if a file is not valid UTF-8
    (naming it) or holds no words.
    """
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"corpus directory {str(directory)!r} does not exist")
    paths = {split: directory / f"{split}.txt" for split in SPLITS}
    for path in paths.values():
        if not path.is_file():
            raise FileNotFoundError(f"corpus file {str(path)!r} is missing")
    words = {split: _read_words(path) for split, path in paths.items()}
    vocab = Vocabulary()
    for word in words["train"]:
        vocab.add(word)
    vocab.add(UNK)  # present in PTB's train split; added at the end for corpora without it
    return Corpus(vocab, *(vocab.encode(words[split]) for split in SPLITS))


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut a token stream into ``batch_size`` contiguous rows, dropping the remainder.

    Parameters
    ----------
    ids : 1-D LongTensor of length N.
    batch_size : number of rows B, in [1, N].

    Returns
    -------
    LongTensor of shape (B, N // B); row b is ``ids[b*L:(b+1)*L]``, so each row reads on in
    time and a model steps along dimension 1 (the transpose of PyTorch's example layout).
    """
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1:
        raise TypeError(f"ids must be a 1-D torch tensor, got {type(ids).__name__}"
                        f"{' of shape ' + str(tuple(ids.shape)) if isinstance(ids, torch.Tensor) else ''}")
    batch_size = check_int("batch_size", batch_size, low=1, high=max(1, len(ids)))
    length = len(ids) // batch_size
    if length == 0:
        raise ValueError("ids must hold at least one token")
    return ids[: batch_size * length].reshape(batch_size, length).long()


def _read_words(path: Path) -> list[str]:
    """Whitespace-split words of a UTF-8 file with ``<eos>`` closing every line."""
    try:
        with path.open(encoding="utf-8") as handle:  # splits lines at \n, \r\n, \r only
            words = [w for line in handle for w in (*line.split(), EOS)]
    except UnicodeDecodeError as err:
        raise ValueError(f"corpus file {str(path)!r} is not valid UTF-8 text "
                         f"(byte {err.start}: {err.reason})") from err
    if not any(w != EOS for w in words):
        raise ValueError(f"corpus file {str(path)!r} holds no words")
    return words
