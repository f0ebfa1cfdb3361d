"""Chapter 2 (``02_bptt``): backpropagation through time and its truncation.

The gradient-size explorer (``gradient_sizes``: ``||dh_T/dh_{T-l}||_2`` against the lag l beside the
rates ``||W||_2^l`` and ``rho(W)^l``), the delayed-recall runs of truncated BPTT over window length k
and lag (``recall_grid``, and ``recall_window`` for the explorer), the memory autograd keeps for one
truncated window, and which inputs each output's gradient reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import dynamics, linalg
from .. import train as training
from .._validate import check_choice, check_float, check_int, check_ints, check_seed
from ..data.tasks import RECALL_CHANCE, recall_task
from ..figures.bptt import memory_figure, reach_figure
from ..models import TanhRNN
from ..progress import progress_bar
from . import Section

LEARNED_FRACTION = 0.1  # "learned": final loss below this fraction of the chance level
RECALL_EPOCHS = 12      # training epochs of a delayed-recall run unless told otherwise


def recall_loss(
    k: int | None,
    lag: int,
    *,
    hidden: int = 16,
    T: int = 16,
    n: int = 256,
    epochs: int = RECALL_EPOCHS,
    lr: float = 2e-2,
    seed: int = 0,
) -> float:
    """Train a tanh RNN on delayed recall with truncated BPTT (window ``k``) and return its test loss.

    The test loss is the mean squared error of the full recurrent model (the forward pass always
    sees the whole sequence) on fresh sequences; ``RECALL_CHANCE`` is what forgetting scores.

    Parameters
    ----------
    k : window length of truncated BPTT, >= 1; None for full BPTT.
    lag : lag of the task, in [1, T - 1].
    hidden : hidden size, >= 1.  T : sequence length, >= 2.  n : training sequences, >= 1.
    epochs : >= 1.  lr : Adam step size, > 0.  seed : seeds the data, the weights and the shuffling.

    Returns
    -------
    float: test mean squared error (chance level 1).
    """
    seed = check_seed("seed", seed)
    hidden = check_int("hidden", hidden, low=1)
    data = recall_task(n, T, lag, seed)
    test = recall_task(256, T, lag, seed + 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = TanhRNN(1, hidden, 1)
    mode = "full" if k is None else "tbptt"
    training.train(model, data, mode=mode, k=k, epochs=epochs, lr=lr, batch_size=64, seed=seed, progress=False)
    return training.evaluate(model, test, "mse")


@dataclass(frozen=True)
class RecallGrid:
    """Test losses of delayed recall over window lengths ``ks`` (rows) and lags ``lags`` (columns)."""

    ks: tuple[int, ...]
    lags: tuple[int, ...]
    loss: np.ndarray  # (len(ks), len(lags)) test mean squared error
    chance: float = RECALL_CHANCE
    threshold: float = LEARNED_FRACTION * RECALL_CHANCE
    seed: int = 0     # the one seed every run of the grid used
    epochs: int = RECALL_EPOCHS  # training epochs of every run

    @property
    def learned(self) -> np.ndarray:
        """(len(ks), len(lags)) bool: the loss fell below ``threshold``."""
        return self.loss < self.threshold


def recall_grid(ks, lags, *, seed: int = 0, progress: bool = True, **kwargs) -> RecallGrid:
    """Run ``recall_loss`` for every window length in ``ks`` and lag in ``lags``.

    Parameters
    ----------
    ks : window lengths, integers >= 1.
    lags : lags, integers >= 1.
    seed : seed of every run, >= 0.
    progress : show a tqdm bar over the runs.
    **kwargs : passed to ``recall_loss`` (hidden, T, n, epochs, lr).

    Returns
    -------
    RecallGrid.
    """
    ks, lags = check_ints("ks", ks, low=1), check_ints("lags", lags, low=1)
    progress = check_choice("progress", progress, (True, False))
    epochs = check_int("epochs", kwargs.get("epochs", RECALL_EPOCHS), low=1)
    loss = np.empty((len(ks), len(lags)))
    with progress_bar(show=progress, total=loss.size, desc="truncated BPTT runs", leave=False) as bar:
        for i, k in enumerate(ks):
            for j, lag in enumerate(lags):
                loss[i, j] = recall_loss(k, lag, seed=seed, **kwargs)
                bar.update(1)
    return RecallGrid(ks, lags, loss, seed=check_seed("seed", seed), epochs=epochs)


def saved_tensor_bytes(model: TanhRNN, x: torch.Tensor, k: int) -> int:
    """Peak bytes that autograd saves for the backward pass of one truncated-BPTT window.

    Each window's graph is freed by its backward pass before the next window runs, so the peak
    is the largest window's total. Tensors saved several times (the weights, at every step) are
    counted once. Deterministic: it counts bytes, it does not time anything.

    Parameters
    ----------
    model : a TanhRNN.
    x : float tensor (B, T, input_size).
    k : window length, >= 1 (k >= T is full BPTT).

    Returns
    -------
    int: bytes.
    """
    if not isinstance(model, TanhRNN):
        raise TypeError(f"model must be a TanhRNN, got {type(model).__name__}")
    k = check_int("k", k, low=1)
    peak = 0
    for _, _, y in _windows_with_memory(model, x, k):
        peak = max(peak, y)
    return peak


def _windows_with_memory(model: TanhRNN, x: torch.Tensor, k: int):
    """Run truncated BPTT over x; yield (start, stop, bytes saved by that window's forward pass)."""
    state = None
    for start in range(0, x.shape[1], k):
        seen: dict[tuple[int, int], int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            key = (t.untyped_storage().data_ptr(), t.storage_offset())
            seen[key] = max(seen.get(key, 0), t.numel() * t.element_size())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y, state = model(x[:, start : start + k], state)
        y.pow(2).mean().backward()
        state = state.detach()
        yield start, min(start + k, x.shape[1]), sum(seen.values())


def tbptt_memory(ks, *, T: int = 64, hidden: int = 64, batch: int = 32, seed: int = 0) -> np.ndarray:
    """Peak saved-tensor bytes of truncated BPTT for each window length in ``ks``.

    Parameters
    ----------
    ks : window lengths, integers >= 1.
    T : sequence length, >= 1.  hidden : hidden size, >= 1.  batch : sequences, >= 1.
    seed : seed of the weights and inputs, >= 0.

    Returns
    -------
    array (len(ks),) of bytes.
    """
    ks = check_ints("ks", ks, low=1)
    T = check_int("T", T, low=1)
    hidden = check_int("hidden", hidden, low=1)
    batch = check_int("batch", batch, low=1)
    gen = torch.Generator().manual_seed(check_seed("seed", seed))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = TanhRNN(1, hidden, 1)
    x = torch.randn(batch, T, 1, generator=gen)
    return np.array([saved_tensor_bytes(model, x, k) for k in ks], dtype=float)


def gradient_reach(T: int, k: int | None, seed: int = 0) -> np.ndarray:
    """Which inputs each output depends on, and which of them its gradient reaches, under truncated BPTT.

    Runs a small tanh RNN with ``train.tbptt_chunks`` (the training loop's own windows) and asks
    autograd for ``d y_t / d x_s``. The forward dependence is that of the full model (the carried
    state brings all of the history).

    Parameters
    ----------
    T : sequence length, in [1, 200].
    k : window length, >= 1; None for full BPTT.
    seed : seed of the weights and the inputs, >= 0.

    Returns
    -------
    int array (T, T): entry [t, s] is 0 if y_t does not depend on x_s (s > t), 1 if it depends on
    x_s but the gradient does not reach it (cut by truncation), 2 if the gradient reaches it.
    """
    T = check_int("T", T, low=1, high=200)
    k = T if k is None else check_int("k", k, low=1)
    with torch.random.fork_rng():
        torch.manual_seed(check_seed("seed", seed))
        model = TanhRNN(1, 4, 1)
        x = torch.randn(1, T, 1, requires_grad=True)
    y = torch.cat([out for _, _, out in training.tbptt_chunks(model, x, k)], dim=1)
    out = np.zeros((T, T), dtype=int)
    out[np.tril_indices(T)] = 1  # the forward pass sees the whole history
    for t in range(T):
        (grad,) = torch.autograd.grad(y[0, t, 0], x, retain_graph=True)
        out[t, grad[0, :, 0].abs().numpy() > 0] = 2
    return out


# -- the gradient-size explorer ----------------------------------------------------------------

HIDDEN = 8  # small enough for instant updates
BATCH = 4  # input sequences averaged over
INPUT_SCALE = 1.0  # standard deviation of the inputs of the tanh RNN


@dataclass(frozen=True)
class GradientData:
    """Numbers shown by the gradient-connectivity explorer."""

    radius: float           # spectral radius rho(W) (exact by construction)
    nonnormality: float     # departure from normality of W
    spectral_norm: float    # ||W||_2, the rate lambda of the bound lambda^l
    lags: np.ndarray        # (T,) lags l = 0..T-1
    rnn: np.ndarray         # (T,) mean ||dh_T/dh_{T-l}||_2, tanh RNN on random inputs
    linear: np.ndarray      # (T,) ||W^l||_2, linear system (the Jacobian does not depend on the state)
    norm_rate: np.ndarray   # (T,) ||W||_2^l
    radius_rate: np.ndarray  # (T,) rho(W)^l


def gradient_sizes(radius: float = 0.9, nonnormality: float = 0.0, length: int = 60, seed: int = 0) -> GradientData:
    """Jacobian norms against lag for one setting of the explorer.

    Parameters
    ----------
    radius : spectral radius of ``W``, in [0, 1.5].
    nonnormality : departure from normality of ``W``, in [0, 3] (0 = normal matrix).
    length : sequence length T, in [5, 300]; lags run from 0 to T - 1.
    seed : seed of ``W``'s basis and of the inputs, >= 0.

    Returns
    -------
    GradientData.
    """
    radius = check_float("radius", radius, low=0.0, high=1.5)
    nonnormality = check_float("nonnormality", nonnormality, low=0.0, high=3.0)
    length = check_int("length", length, low=5, high=300)
    seed = check_seed("seed", seed)
    W = linalg.matrix_with_spectrum(HIDDEN, radius, nonnormality, kind="rotation", seed=seed)
    x = INPUT_SCALE * np.random.default_rng(seed).normal(size=(BATCH, length, HIDDEN))
    states = dynamics.rnn_trajectory(W, np.eye(HIDDEN), x)
    lags = np.arange(length)
    norm = linalg.spectral_norm(W)
    return GradientData(
        radius=radius,
        nonnormality=nonnormality,
        spectral_norm=norm,
        lags=lags,
        rnn=dynamics.jacobian_norms_vs_lag(W, states, kind="rnn"),
        linear=dynamics.jacobian_norms_vs_lag(W, states[:1], kind="linear"),
        norm_rate=norm ** lags.astype(float),
        radius_rate=radius ** lags.astype(float),
    )


# -- the recall-window explorer ----------------------------------------------------------------

@dataclass(frozen=True)
class ContextData:
    """Results for one window length k."""

    k: int
    lags: np.ndarray     # (n_lags,) lags L of the task
    loss: np.ndarray     # (n_lags,) test mean squared error after training with window k
    learned: np.ndarray  # (n_lags,) bool, loss below the threshold
    chance: float        # loss of a model that forgets (predicts 0)
    threshold: float     # "learned" below this loss


def recall_window(k: int, grid: RecallGrid) -> ContextData:
    """The row of ``grid`` for window length ``k``.

    Parameters
    ----------
    k : one of ``grid.ks``.
    grid : a ``RecallGrid`` from ``recall_grid``.

    Returns
    -------
    ContextData.
    """
    if not all(hasattr(grid, a) for a in ("ks", "lags", "loss", "chance", "threshold")):
        raise TypeError(f"grid must be a RecallGrid, got {type(grid).__name__}")
    k = check_choice("k", k, grid.ks)
    i = grid.ks.index(k)
    loss = np.asarray(grid.loss[i], dtype=float)
    return ContextData(k=k, lags=np.asarray(grid.lags), loss=loss, learned=loss < grid.threshold,
                       chance=float(grid.chance), threshold=float(grid.threshold))


# -- the chapter's worked numbers ---------------------------------------------------------------

def vanishing_and_exploding(horizon: int = 40) -> Section:
    """``||W^T||_2`` after ``horizon`` steps for normal ``W`` with spectral radius 0.9 and 1.1, and the
    transient of a non-normal ``W`` with radius 0.9 (values ``grad_*``)."""
    values = {"grad_horizon": horizon}
    for name, radius in (("vanish", 0.9), ("explode", 1.1)):
        W = linalg.matrix_with_spectrum(8, radius, 0.0, kind="rotation", seed=0)
        values[f"grad_{name}"] = f"{linalg.power_norms(W, horizon)[-1]:.3g}"
        values[f"grad_{name}_radius"] = f"{radius}"
    W_nn = linalg.matrix_with_spectrum(8, 0.9, 2.0, kind="rotation", seed=0)
    powers = linalg.power_norms(W_nn, 200)
    values.update(grad_nn_norm=f"{linalg.spectral_norm(W_nn):.2f}", grad_nn_peak=f"{powers.max():.2f}",
                  grad_nn_peak_at=int(np.argmax(powers)))
    return Section(values=values)


def truncation_windows(T: int = 12, k: int = 4) -> Section:
    """The diagram of which inputs each output's gradient reaches under truncated BPTT (values ``reach_*``)."""
    reach = gradient_reach(T, k)
    longest = int(max(t - s for t, s in zip(*np.nonzero(reach == 2))))
    return Section(values={"reach_T": T, "reach_k": k, "reach_maxlag": longest}, figure=reach_figure(reach, k))


def window_memory(ks: tuple[int, ...] = (2, 4, 8, 16, 32, 64)) -> Section:
    """Peak saved-tensor memory of truncated BPTT against the window length (values ``mem_*``)."""
    ks = list(check_ints("ks", ks, low=1))
    saved = tbptt_memory(ks, T=64, hidden=64, batch=32)
    slope = np.polyfit(ks, saved, 1)[0]
    at8 = saved[ks.index(8)]
    return Section(values={"mem_full_kib": f"{saved[-1] / 1024:.0f}", "mem_k8_kib": f"{at8 / 1024:.0f}",
                           "mem_per_step_kib": f"{slope / 1024:.1f}", "mem_ratio": f"{saved[-1] / at8:.1f}"},
                   figure=memory_figure(ks, saved))


def recall_summary(grid: RecallGrid) -> Section:
    """Counts of the recall grid: how many runs with k > L and with k <= L learned their lag, and which
    grid was measured (values ``grid_*``)."""
    K, L = np.meshgrid(grid.ks, grid.lags, indexing="ij")
    longer, shorter = K > L, K <= L
    return Section(values={
        "grid_runs": grid.loss.size, "grid_ks": ", ".join(map(str, grid.ks)),
        "grid_lags": ", ".join(map(str, grid.lags)), "grid_seed": grid.seed, "grid_epochs": grid.epochs,
        "grid_long_learned": int(grid.learned[longer].sum()), "grid_long_total": int(longer.sum()),
        "grid_short_learned": int(grid.learned[shorter].sum()), "grid_short_total": int(shorter.sum()),
        "grid_threshold": f"{grid.threshold:g}",
        "grid_worst_long": f"{grid.loss[longer].max():.3f}", "grid_best_short": f"{grid.loss[shorter].min():.2f}",
    })
