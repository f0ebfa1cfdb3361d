"""Generated sequence tasks: the adding problem, copy memory and pixel-by-pixel digits.

All generators take an explicit seed and return torch tensors ready for a model: inputs
(n, T, features) as float32, or (n, T) as int64 for token tasks.
"""

from __future__ import annotations

import numpy as np
import torch

from .._validate import check_choice, check_int, check_seed

COPY_DIGITS = 10  # how many digits copy memory asks to recall
COPY_SYMBOLS = 8  # digits are drawn from 1..8; 0 is blank, 9 the "recall now" marker
DIGIT_SPLIT = {"train": 0.7, "valid": 0.15, "test": 0.15}


def adding_problem(n: int, T: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem: add the two numbers that carry a marker.

    Channel 0 of each input step is uniform on [0, 1]; channel 1 is 1 at exactly two steps,
    one drawn uniformly from the first half of the sequence and one from the second, and 0 elsewhere.
    The target is the sum of the two marked numbers, to be predicted at the last step only.
    Predicting the constant 1 has mean squared error Var(u1 + u2) = 2/12 ≈ 0.167.

    Parameters
    ----------
    n : number of sequences, >= 1.
    T : sequence length, >= 2.
    seed : seed of the generator, >= 0.

    Returns
    -------
    X : float32 tensor (n, T, 2); Y : float32 tensor (n, 1), the target at step T.
    """
    n = check_int("n", n, low=1)
    T = check_int("T", T, low=2)
    rng = np.random.default_rng(check_seed("seed", seed))
    values = rng.random((n, T))
    half = T // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    marks = np.zeros((n, T))
    marks[np.arange(n), first] = 1.0
    marks[np.arange(n), second] = 1.0
    X = np.stack([values, marks], axis=-1)
    Y = (values * marks).sum(axis=1, keepdims=True)
    return torch.from_numpy(X).float(), torch.from_numpy(Y).float()


def copy_memory(n: int, T: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Copy memory (Bai et al. 2018): recall 10 digits after a blank stretch of length T.

    Input (length T + 20): 10 digits uniform on 1..8, then T - 1 blanks (0), the marker 9, and
    10 blanks. Target: T + 10 blanks, then the 10 digits. A model without memory of the first
    steps, knowing only the position, can do no better than cross-entropy 10 ln 8 / (T + 20)
    per step (certain blanks, then a uniform guess among 8 digits).

    Parameters
    ----------
    n : number of sequences, >= 1.
    T : length of the blank stretch, >= 1.
    seed : seed of the generator, >= 0.

    Returns
    -------
    X, Y : int64 tensors (n, T + 20) with values in 0..9 (10 classes).
    """
    n = check_int("n", n, low=1)
    T = check_int("T", T, low=1)
    rng = np.random.default_rng(check_seed("seed", seed))
    digits = rng.integers(1, COPY_SYMBOLS + 1, size=(n, COPY_DIGITS))
    X = np.zeros((n, T + 2 * COPY_DIGITS), dtype=np.int64)
    X[:, :COPY_DIGITS] = digits
    X[:, T + COPY_DIGITS - 1] = COPY_SYMBOLS + 1
    Y = np.zeros_like(X)
    Y[:, -COPY_DIGITS:] = digits
    return torch.from_numpy(X), torch.from_numpy(Y)


def copy_memory_baseline(T: int) -> float:
    """Cross-entropy per step (nats) of the best memoryless predictor on copy memory: 10 ln 8 / (T + 20).
    """
    T = check_int("T", T, low=1)
    return COPY_DIGITS * float(np.log(COPY_SYMBOLS)) / (T + 2 * COPY_DIGITS)


def digits_sequences(split: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8 × 8 digits, read pixel by pixel as sequences of length 64.

    The 1797 images are shuffled with ``seed`` and cut 70 / 15 / 15 % into train / valid / test;
    the same seed always gives the same split, and the three splits are disjoint.

    Parameters
    ----------
    split : ``"train"``, ``"valid"`` or ``"test"``.
    seed : seed of the shuffle, >= 0 (default 0, the book's fixed split).

    Returns
    -------
    X : float32 tensor (n, 64, 1), pixel intensities scaled from 0..16 to [0, 1], row by row;
    y : int64 tensor (n,), the digit 0..9.
    """
    from sklearn.datasets import load_digits  # deferred: importing scikit-learn is slow

    check_choice("split", split, tuple(DIGIT_SPLIT))
    seed = check_int("seed", seed, low=0)
    images, labels = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_train = int(round(DIGIT_SPLIT["train"] * len(labels)))
    n_valid = int(round(DIGIT_SPLIT["valid"] * len(labels)))
    bounds = {"train": (0, n_train), "valid": (n_train, n_train + n_valid),
              "test": (n_train + n_valid, len(labels))}
    pick = order[slice(*bounds[split])]
    X = torch.from_numpy(images[pick] / 16.0).float().reshape(len(pick), 64, 1)
    return X, torch.from_numpy(labels[pick]).long()


# -- small tasks of the book's chapters --------------------------------------------------------

RECALL_CHANCE = 1.0  # inputs are +-1 with equal probability: predicting 0 has mean squared error 1


def recall_task(n: int, T: int, lag: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Delayed recall: at every step t >= lag, output the input from ``lag`` steps back.

    Inputs are independent +-1 signs, so a model that does not remember ``x_{t-lag}`` can do no
    better than predicting 0, with mean squared error ``RECALL_CHANCE`` = 1. Steps t < lag have no
    target and are masked out.

    Parameters
    ----------
    n : number of sequences, >= 1.
    T : sequence length, >= 2.
    lag : how far back the answer lies, in [1, T - 1].
    seed : seed of the signs, >= 0.

    Returns
    -------
    X : float32 (n, T, 1); Y : float32 (n, T, 1) with ``Y[:, t] = X[:, t - lag]``; mask : (n, T) of 0/1.
    """
    n = check_int("n", n, low=1)
    T = check_int("T", T, low=2)
    lag = check_int("lag", lag, low=1, high=T - 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    x = rng.choice([-1.0, 1.0], size=(n, T, 1))
    y = np.zeros_like(x)
    y[:, lag:] = x[:, :-lag]
    mask = np.zeros((n, T))
    mask[:, lag:] = 1.0
    return tuple(torch.from_numpy(a).float() for a in (x, y, mask))


def delayed_recall(n: int, steps: int, delay: int, seed: int):
    """Toy task: repeat the input seen ``delay`` steps ago, ``y_t = x_{t-delay}`` (0 before the start).

    Parameters
    ----------
    n : int
        >= 1, number of sequences.
    steps : int
        > delay, sequence length.
    delay : int
        >= 0.
    seed : int
        >= 0.

    Returns
    -------
    (X, Y): float32 torch tensors (n, steps, 1).
    """
    import torch

    n = check_int("n", n, low=1)
    delay = check_int("delay", delay, low=0)
    steps = check_int("steps", steps, low=delay + 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    x = rng.standard_normal((n, steps, 1))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, : steps - delay]
    return torch.from_numpy(x).float(), torch.from_numpy(y).float()
