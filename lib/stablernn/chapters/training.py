"""Chapter 6 (``06_training``): training a stable model and its truncation give nearly the same weights.

A stable teacher makes the data; two students start from the same initialisation, one trained by
gradient descent on the recurrent loss, the other on the k-truncated loss. ``equivalence_grid`` runs
them for every k and both step-size schedules; ``equivalence_at`` (one k of the grid) and ``rerun``
(a live retraining) are the data of the chapter's explorer. The theorem's recursion bound and the
context it requires are in :mod:`stablernn.stability`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import models, stability
from .._validate import check_choice, check_float, check_int, check_ints, check_seed
from ..data import _cache
from ..progress import progress_bar
from ..figures.training import gradient_gap_figure, required_k_figure
from ..stability import SCHEDULES, step_size
from . import Section


@dataclass(frozen=True)
class EquivalenceSetup:
    """Sizes and constants of the experiment (the chapter's defaults are small on purpose).

    Parameters
    ----------
    input_size, teacher_hidden, hidden : int >= 1
        Inputs per step, teacher's and students' state sizes.
    steps_per_sequence : int >= 2, sequence length T;  train_sequences, test_sequences : int >= 1
    teacher_norm : float in (0, 1), spectral norm of the teacher's recurrent matrix
    lam : float in (0, 1], bound on the students' spectral norm (projection after every step)
    alpha_decaying, alpha_constant : float > 0, the two schedules' alpha
    seed : int >= 0, seeds the teacher, the data and the students' shared initialisation
    """

    input_size: int = 2
    teacher_hidden: int = 8
    hidden: int = 12
    steps_per_sequence: int = 40
    train_sequences: int = 8
    test_sequences: int = 8
    teacher_norm: float = 0.75
    lam: float = 0.8
    alpha_decaying: float = 1.0
    alpha_constant: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("input_size", "teacher_hidden", "hidden", "train_sequences", "test_sequences"):
            check_int(name, getattr(self, name), low=1, high=256)
        check_int("steps_per_sequence", self.steps_per_sequence, low=2, high=1000)
        check_float("teacher_norm", self.teacher_norm, low=0.0, high=1.0, low_open=True, high_open=True)
        check_float("lam", self.lam, low=0.0, high=1.0, low_open=True)
        check_float("alpha_decaying", self.alpha_decaying, low=0.0, high=10.0, low_open=True)
        check_float("alpha_constant", self.alpha_constant, low=0.0, high=10.0, low_open=True)
        check_seed("seed", self.seed)

    def alpha(self, schedule: str) -> float:
        """The alpha of a schedule."""
        schedule = check_choice("schedule", schedule, SCHEDULES)
        return self.alpha_decaying if schedule == "decaying" else self.alpha_constant


@dataclass(frozen=True)
class EquivalenceGrid:
    """Weight and prediction gaps of the two trained students, for every k and both schedules.

    Arrays are indexed ``[schedule, k, logged step]``; ``SCHEDULES`` gives the schedule order.
    """

    setup: EquivalenceSetup
    k_values: np.ndarray     # (K,) truncation lengths
    steps: int               # N, gradient steps per run
    logged: np.ndarray       # (S,) steps at which the gaps were recorded, 1..N
    weight_gap: np.ndarray   # (2, K, S) ||w_rec - w_trunc||_2 over all parameters
    pred_gap: np.ndarray     # (2, K, S) RMS of recurrent minus truncated predictions on test inputs
    final_loss: np.ndarray   # (2,) training loss of the recurrent student after N steps

    def final(self, gap: str, schedule: str, k: int) -> float:
        """The weight or prediction gap (``gap`` "weight" or "pred") after N steps, for a schedule and a k of the grid."""
        values = {"weight": self.weight_gap, "pred": self.pred_gap}[check_choice("gap", gap, ("weight", "pred"))]
        s = SCHEDULES.index(check_choice("schedule", schedule, SCHEDULES))
        j = int(np.flatnonzero(self.k_values == check_choice("k", k, tuple(int(v) for v in self.k_values)))[0])
        return float(values[s, j, -1])


def teacher_task(setup: EquivalenceSetup) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training and test data ``(X, Y, X_test, Y_test)`` from a stable teacher TanhRNN (float64).

    ``X`` is standard normal ``(train_sequences, T, input_size)``; ``Y = teacher(X)``, one output
    per step. The teacher's recurrent matrix is rescaled to spectral norm ``setup.teacher_norm``.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setup.seed)
        teacher = models.TanhRNN(setup.input_size, setup.teacher_hidden, 1).double()
        with torch.no_grad():
            W = teacher.rnn.weight_hh_l0
            W.mul_(setup.teacher_norm / torch.linalg.matrix_norm(W, 2))
        gen = torch.Generator().manual_seed(setup.seed + 1)
        shape = (setup.train_sequences + setup.test_sequences, setup.steps_per_sequence, setup.input_size)
        X = torch.randn(*shape, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            Y = teacher(X)[0]
    n = setup.train_sequences
    return X[:n], Y[:n], X[n:], Y[n:]


def student(setup: EquivalenceSetup) -> models.TanhRNN:
    """A float64 student TanhRNN with the experiment's shared initialisation (``||W||_2 <= lam``).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setup.seed + 2)
        return models.TanhRNN(setup.input_size, setup.hidden, 1, stable=True, max_norm=setup.lam).double()


def _outputs(model: models.TanhRNN, x: torch.Tensor, k: int | None) -> torch.Tensor:
    return model(x)[0] if k is None else models.truncated_forward(model, x, k)


def _sgd_step(model: models.TanhRNN, x, y, k: int | None, lr: float) -> float:
    """One full-batch gradient step on the MSE, then the projection; returns the loss before the step."""
    model.zero_grad(set_to_none=True)
    loss = (_outputs(model, x, k) - y).pow(2).mean()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.sub_(lr * p.grad)
    model.project_()
    return float(loss.detach())


def _flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@torch.no_grad()
def _pred_gap(rec: models.TanhRNN, trunc: models.TanhRNN, x: torch.Tensor, k: int) -> float:
    """RMS difference of the deployed predictions: recurrent model vs k-truncated model."""
    return float((rec(x)[0] - models.truncated_forward(trunc, x, k)).pow(2).mean().sqrt())


def _logged_steps(steps: int, points: int = 40) -> np.ndarray:
    """About ``points`` steps spread evenly on a log axis from 1 to ``steps``."""
    return np.unique(np.round(np.geomspace(1, steps, points)).astype(int))


def _run_recurrent(setup, data, schedule, steps, logged) -> tuple[list, float, models.TanhRNN]:
    """Weights of the recurrent student at the logged steps, its final training loss, the model."""
    x, y = data
    model, alpha, snapshots = student(setup), setup.alpha(schedule), []
    for i in range(1, steps + 1):
        _sgd_step(model, x, y, None, step_size(schedule, alpha, i))
        if i in logged:
            snapshots.append(_flat(model))
    with torch.no_grad():
        loss = float((model(x)[0] - y).pow(2).mean())
    return snapshots, loss, model


def _run_truncated(setup, data, x_test, schedule, steps, logged, k, rec_snapshots, rec_models):
    """Weight and prediction gaps at the logged steps for one k."""
    x, y = data
    model, alpha = student(setup), setup.alpha(schedule)
    wgap, pgap, j = [], [], 0
    for i in range(1, steps + 1):
        _sgd_step(model, x, y, k, step_size(schedule, alpha, i))
        if i in logged:
            wgap.append(float((rec_snapshots[j] - _flat(model)).norm()))
            pgap.append(_pred_gap(rec_models[j], model, x_test, k))
            j += 1
    return wgap, pgap


def _model_at(setup: EquivalenceSetup, flat: torch.Tensor) -> models.TanhRNN:
    """A student carrying the given flattened weights."""
    model = student(setup)
    torch.nn.utils.vector_to_parameters(flat.clone(), model.parameters())
    return model


def equivalence_grid(
    setup: EquivalenceSetup | None = None,
    k_values: tuple[int, ...] = (1, 2, 4, 8, 16, 32),
    steps: int = 200,
    progress: bool = False,
    cache: bool | str | os.PathLike = False,
) -> EquivalenceGrid:
    """Train the recurrent student once per schedule and the k-truncated student for every k.

    Parameters
    ----------
    setup : EquivalenceSetup or None (defaults)
    k_values : increasing ints in [1, T], the truncation lengths
    steps : int in [1, 2000], gradient steps N per run
    progress : bool, show a tqdm bar over the runs
    cache : False (always train), True (keep the grid in the library's cache folder, ``$STABLERNN_CACHE``
        or the platform's) or a folder. The 14 runs of the chapter's grid take about 5 s on two cores;
        Chapter 6 and its dashboard, whose every new kernel needs the grid, load it instead. A cached
        grid is named by the arguments, torch's version and the source of the code that trains it, so
        a change to any of them trains anew.

    Returns
    -------
    EquivalenceGrid with the gaps recorded at about 40 log-spaced steps.
    """
    setup = EquivalenceSetup() if setup is None else setup
    if not isinstance(setup, EquivalenceSetup):
        raise TypeError(f"setup must be an EquivalenceSetup or None, got {type(setup).__name__}")
    ks = check_ints("k_values", k_values, low=1, high=setup.steps_per_sequence, increasing=True)
    steps = check_int("steps", steps, low=1, high=2000)
    progress = check_choice("progress", progress, (True, False))
    if cache is True or isinstance(cache, (str, os.PathLike)):
        path = _grid_path(setup, ks, steps, None if cache is True else cache)
        grid = _read_grid(path, setup, ks, steps)
        if grid is None:
            grid = equivalence_grid(setup, ks, steps, progress)
            try:
                _cache.write_arrays(path, {f: getattr(grid, f) for f in _GRID_ARRAYS})
            except OSError:
                pass  # a read-only cache folder: the grid is still correct, only not kept
        return grid
    if cache is not False:
        raise TypeError(f"cache must be True, False or a folder, got {cache!r}")
    x, y, x_test, _ = teacher_task(setup)
    logged = _logged_steps(steps)
    logged_set = set(logged.tolist())
    wgap = np.empty((len(SCHEDULES), len(ks), len(logged)))
    pgap = np.empty_like(wgap)
    final_loss = np.empty(len(SCHEDULES))
    bar = _bar(progress, len(SCHEDULES) * (len(ks) + 1))
    for s, schedule in enumerate(SCHEDULES):
        snaps, final_loss[s], _ = _run_recurrent(setup, (x, y), schedule, steps, logged_set)
        rec_models = [_model_at(setup, w) for w in snaps]
        _tick(bar)
        for j, k in enumerate(ks):
            wgap[s, j], pgap[s, j] = _run_truncated(setup, (x, y), x_test, schedule, steps, logged_set, k,
                                                    snaps, rec_models)
            _tick(bar)
    if bar is not None:
        bar.close()
    return EquivalenceGrid(setup=setup, k_values=np.array(ks), steps=steps, logged=logged,
                           weight_gap=wgap, pred_gap=pgap, final_loss=final_loss)


_GRID_ARRAYS = ("k_values", "logged", "weight_gap", "pred_gap", "final_loss")


def _grid_path(setup: EquivalenceSetup, ks: tuple[int, ...], steps: int, folder) -> Path:
    """The cache file of a grid: named by its arguments, torch's version and the code that trains it."""
    digest = hashlib.sha256(json.dumps({"setup": dataclasses.asdict(setup), "k": list(ks), "steps": steps,
                                        "torch": torch.__version__}, sort_keys=True).encode())
    for source in (__file__, models.__file__, stability.__file__):
        digest.update(Path(source).read_bytes())
    return _cache.cache_dir(folder) / "training" / f"equivalence-grid-{digest.hexdigest()[:24]}.npz"


def _read_grid(path: Path, setup: EquivalenceSetup, ks: tuple[int, ...], steps: int) -> EquivalenceGrid | None:
    """The cached grid at ``path`` if it is whole and has the shapes these arguments give, else None."""
    arrays = _cache.read_arrays(path, _GRID_ARRAYS)
    if arrays is None:
        return None
    logged = _logged_steps(steps)
    shape = (len(SCHEDULES), len(ks), len(logged))
    if (not np.array_equal(arrays["k_values"], ks) or not np.array_equal(arrays["logged"], logged)
            or arrays["weight_gap"].shape != shape or arrays["pred_gap"].shape != shape
            or arrays["final_loss"].shape != (len(SCHEDULES),)):
        return None
    return EquivalenceGrid(setup=setup, steps=steps, **arrays)


def _bar(progress: bool, total: int):
    return progress_bar(show=progress, total=total, unit="run", leave=False) if progress else None


def _tick(bar) -> None:
    if bar is not None:
        bar.update(1)


def gradient_gap(setup: EquivalenceSetup | None = None, k_values: tuple[int, ...] = (1, 2, 4, 8, 16, 32)) -> np.ndarray:
    """``||grad L(w_0) - grad L_k(w_0)||_2`` at the students' initialisation, one value per k.

    ``L`` is the recurrent model's training loss, ``L_k`` the k-truncated model's, both at the same
    weights: the quantity the gradient-gap lemma bounds by ``gamma k lam^k``.
    """
    setup = EquivalenceSetup() if setup is None else setup
    ks = check_ints("k_values", k_values, low=1, high=setup.steps_per_sequence, increasing=True)
    x, y, _, _ = teacher_task(setup)
    model = student(setup)

    def grad(k: int | None) -> torch.Tensor:
        model.zero_grad(set_to_none=True)
        (_outputs(model, x, k) - y).pow(2).mean().backward()
        return torch.cat([p.grad.reshape(-1) for p in model.parameters()])

    full = grad(None)
    return np.array([float((full - grad(k)).norm()) for k in ks])


# -- the explorer ------------------------------------------------------------------------------

LIVE_STEPS = (10, 200)  # range of the live "steps" slider


@dataclass(frozen=True)
class EquivalenceData:
    """What the explorer shows for one k (arrays indexed by schedule first, as ``SCHEDULES``)."""

    k: int
    steps: int
    lam: float
    schedules: tuple
    logged: np.ndarray        # (S,) steps N
    weight_gap: np.ndarray    # (2, S) for the current k
    pred_gap: np.ndarray      # (2, S)
    k_values: np.ndarray      # (K,)
    final_weight: np.ndarray  # (2, K) after N steps
    final_pred: np.ndarray    # (2, K)
    rate: np.ndarray          # (K,) lam^k scaled to the k = k_values[0] weight gap (decaying)
    current: np.ndarray       # (4,) weight, prediction (decaying), weight, prediction (constant) at k


def check_grid(grid: Any) -> EquivalenceGrid:
    """``grid`` if it is an ``EquivalenceGrid`` (from ``equivalence_grid``), else a TypeError."""
    if not isinstance(grid, EquivalenceGrid):
        raise TypeError(f"grid must be an EquivalenceGrid (from equivalence_grid), got {type(grid).__name__}")
    return grid


def _data(grid: EquivalenceGrid, k: int, wgap: np.ndarray, pgap: np.ndarray,
          logged: np.ndarray, steps: int) -> EquivalenceData:
    lam = grid.setup.lam
    ks = grid.k_values.astype(float)
    final_w, final_p = grid.weight_gap[:, :, -1], grid.pred_gap[:, :, -1]
    return EquivalenceData(
        k=k, steps=steps, lam=lam, schedules=SCHEDULES, logged=logged, weight_gap=wgap, pred_gap=pgap,
        k_values=grid.k_values, final_weight=final_w, final_pred=final_p,
        rate=final_w[0, 0] * lam ** (ks - ks[0]),
        current=np.array([wgap[0, -1], pgap[0, -1], wgap[1, -1], pgap[1, -1]]),
    )


def equivalence_at(k: int = 8, grid: EquivalenceGrid | None = None) -> EquivalenceData:
    """The gaps for one k of a precomputed grid (selection only: instant).

    Parameters
    ----------
    k : int, one of ``grid.k_values``
    grid : EquivalenceGrid from ``equivalence_grid``
    """
    grid = check_grid(grid)
    k = check_choice("k", k, tuple(int(v) for v in grid.k_values))
    j = int(np.flatnonzero(grid.k_values == k)[0])
    return _data(grid, k, grid.weight_gap[:, j], grid.pred_gap[:, j], grid.logged, grid.steps)


def rerun(k: int, steps: int, grid: EquivalenceGrid | None = None) -> EquivalenceData:
    """Retrain both students live for one k and N steps (both schedules); a few seconds.

    The right panel keeps the grid's curves; the markers show the new run's final gaps.

    Parameters
    ----------
    k : int in [1, T], truncation length;  steps : int in ``LIVE_STEPS``, gradient steps N
    grid : EquivalenceGrid whose setup (teacher, sizes, schedules) the run reuses
    """
    grid = check_grid(grid)
    k = check_int("k", k, low=1, high=grid.setup.steps_per_sequence)
    steps = check_int("steps", steps, low=LIVE_STEPS[0], high=LIVE_STEPS[1])
    run = equivalence_grid(grid.setup, (k,), steps)
    return _data(grid, k, run.weight_gap[:, 0], run.pred_gap[:, 0], run.logged, steps)


# -- the chapter's worked numbers ---------------------------------------------------------------

K_VALUES = (1, 2, 4, 8, 16, 32)  # the truncation lengths of the chapter's grid


def gradient_gap_section(setup: EquivalenceSetup | None = None) -> Section:
    """The gradient-gap lemma measured at the students' initialisation (values ``gg_*``, ``lam``)."""
    setup = EquivalenceSetup() if setup is None else setup
    gap = gradient_gap(setup, K_VALUES)
    slope = np.polyfit(K_VALUES, np.log(gap), 1)[0]
    return Section(values={"gg_k1": f"{gap[0]:.2g}", "gg_k32": f"{gap[-1]:.1e}", "gg_rate": f"{np.exp(slope):.2f}",
                           "lam": f"{setup.lam:g}"},
                   figure=gradient_gap_figure(np.array(K_VALUES), gap, setup.lam))


def condition_k(eps: float, lam: float, alpha: float, beta: float, gamma: float, steps: int) -> int:
    """Smallest k >= 1 that satisfies the chapter's displayed sufficient condition for steps alpha/i:

    ``k ln(1/lam) >= alpha beta ln N + ln(1/eps) + ln(k gamma e^{alpha beta} / beta)``.

    It comes from ``P_N <= e^{alpha beta} N^{alpha beta}`` (``1 + u <= e^u`` and ``H_N <= 1 + ln N``) in the
    solution of the recursion, so it is never below ``stability.required_k`` (the exact smallest k of the
    same bound); the two inequalities and dropping the ``- 1`` of ``P_N - 1`` lose at most
    ``alpha beta + (alpha beta)^2 pi^2 / 12 + ln(P_N / (P_N - 1))`` in the log, so it exceeds ``required_k``
    by at most that over ``ln(1/lam)``, plus one.

    Parameters
    ----------
    eps : float > 0;  lam : float in (0, 1);  alpha, beta, gamma : float > 0;  steps : int >= 1, N
    """
    eps = check_float("eps", eps, low=0.0, low_open=True)
    lam = check_float("lam", lam, low=0.0, high=1.0, low_open=True, high_open=True)
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    beta = check_float("beta", beta, low=0.0, low_open=True)
    gamma = check_float("gamma", gamma, low=0.0, low_open=True)
    steps = check_int("steps", steps, low=1)
    ab = alpha * beta
    rhs = ab * np.log(steps) + np.log(1.0 / eps) + ab + np.log(gamma / beta)  # all but ln k

    def holds(k: int) -> bool:
        return k * np.log(1.0 / lam) >= rhs + np.log(k)

    turn = max(1, int(np.ceil(1.0 / np.log(1.0 / lam))))  # k ln(1/lam) - ln k increases from here on
    k = next((k for k in range(1, turn + 1) if holds(k)), turn)
    while not holds(k):
        k += 1
    return k


def required_context(eps: float = 1e-3, alpha_decaying: float = 1.0, alpha_constant: float = 0.01) -> Section:
    """The k that the weight-gap bound requires after N steps, with steps alpha/i and a constant step
    (values ``kd_*``, ``kc_*``; the table of both against N)."""
    constants = dict(lam=0.9, beta=1.0, gamma=1.0)
    N_values = np.array([10**2, 10**3, 10**4, 10**5])
    k_req = {schedule: np.array([stability.required_k(eps, schedule=schedule, alpha=alpha, steps=int(N), **constants)
                                 for N in N_values])
             for schedule, alpha in (("decaying", alpha_decaying), ("constant", alpha_constant))}
    lines = ["steps N   | k, step 1/i | k, constant step 0.01"]
    lines += [f"{N:9d} | {kd:11d} | {kc:9d}" for N, kd, kc in zip(N_values, k_req["decaying"], k_req["constant"])]
    return Section(values={"kd_1e2": int(k_req["decaying"][0]), "kd_1e5": int(k_req["decaying"][-1]),
                           "kc_1e2": int(k_req["constant"][0]), "kc_1e5": int(k_req["constant"][-1]),
                           "kd_per_decade": f"{np.mean(np.diff(k_req['decaying'])):.0f}"},
                   table="\n".join(lines), figure=required_k_figure(N_values, k_req, constants["lam"], eps))


def equivalence_summary(grid: EquivalenceGrid) -> Section:
    """The grid's numbers as the prose quotes them: setup, final gaps, their rate in k, and growth (values)."""
    setup, wg = grid.setup, grid.weight_gap  # [schedule, k, logged step]
    rate = np.exp(np.polyfit(grid.k_values, np.log(wg[0, :, -1]), 1)[0])
    i10 = int(np.flatnonzero(grid.logged >= 10)[0])
    k1, k_last = int(grid.k_values[0]), int(grid.k_values[-1])
    return Section(values={
        "teacher_norm": f"{setup.teacher_norm:g}", "hidden": setup.hidden, "n_train": setup.train_sequences,
        "T": setup.steps_per_sequence, "N": grid.steps,
        "alpha_dec": f"{setup.alpha_decaying:g}", "alpha_const": f"{setup.alpha_constant:g}",
        "wg_dec_k1": f"{grid.final('weight', 'decaying', k1):.2g}",
        "wg_dec_k32": f"{grid.final('weight', 'decaying', k_last):.1e}",
        "wg_const_k1": f"{grid.final('weight', 'constant', k1):.2g}",
        "wg_const_k32": f"{grid.final('weight', 'constant', k_last):.1e}",
        "pg_dec_k8": f"{grid.final('pred', 'decaying', 8):.1e}",
        "wg_dec_k8": f"{grid.final('weight', 'decaying', 8):.1e}",
        # the k the bound (beta = gamma = 1) needs to promise the weight gap that k = 8 achieves
        "kb_exp": stability.required_k(grid.final("weight", "decaying", 8), lam=setup.lam, schedule="decaying",
                                       alpha=setup.alpha_decaying, beta=1.0, gamma=1.0, steps=grid.steps),
        "wg_rate": f"{rate:.2f}",
        "const_growth": f"{wg[1, 0, -1] / wg[1, 0, i10]:.1f}",
        "dec_growth": f"{abs(wg[0, 0, -1] / wg[0, 0, i10] - 1) * 100:.1f}",
        "loss_dec": f"{grid.final_loss[0]:.1e}", "loss_const": f"{grid.final_loss[1]:.1e}",
    })
