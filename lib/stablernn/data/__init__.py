"""Data for the book's experiments: numpy arrays and torch tensors in, no plotting.

- ``chorales``: Bach chorales from music21 as JSB-style piano rolls, with a fixed split, cached.
- ``matfile``: the standard JSB / Nottingham ``.mat`` piano rolls from a path the user gives.
- ``corpus``: word-level corpora laid out as train/valid/test.txt (Penn Treebank, WikiText-2).
- ``tasks``: generated tasks (adding problem, copy memory, pixel-by-pixel digits).
- ``polyphonic``: padding for next-frame prediction, the frame NLL metric and two baselines.

Submodules import music21, scikit-learn and scipy only when a function needs them.
"""

from .chorales import chorale_ids, chorale_roll, load_chorales, parse_chorale
from .corpus import Corpus, Vocabulary, batchify, load_corpus
from .matfile import load_mat_rolls
from .polyphonic import bernoulli_baseline, frame_nll, logistic_previous_frame_baseline, pad_rolls
from .tasks import adding_problem, copy_memory, copy_memory_baseline, digits_sequences

__all__ = [
    "Corpus", "Vocabulary", "adding_problem", "batchify", "bernoulli_baseline", "chorale_ids",
    "chorale_roll", "copy_memory", "copy_memory_baseline", "digits_sequences", "frame_nll",
    "load_chorales", "load_corpus", "load_mat_rolls", "logistic_previous_frame_baseline",
    "pad_rolls", "parse_chorale",
]
