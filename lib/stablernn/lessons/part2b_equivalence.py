"""Chapter 6 helpers: gradient descent on a recurrent model and on its k-truncated version.

Both students start from the same weights and see the same data (outputs of a stable teacher RNN);
one is trained through the full recurrence, the other through ``models.truncated_forward``. Plain
full-batch gradient descent with an explicit step-size schedule, followed by the projection onto
``||W||_2 <= lam``, makes the comparison exact: the two runs differ only through their gradients.
The module also evaluates the recursion bound on the weight gap and the truncation length it asks for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from stablernn import models
from stablernn._validate import check_choice, check_float, check_int, check_seed

__all__ = [
    "SCHEDULES",
    "EquivalenceSetup",
    "EquivalenceGrid",
    "teacher_task",
    "student",
    "step_size",
    "equivalence_grid",
    "gradient_gap",
    "bound_product",
    "weight_gap_bound",
    "required_k",
]

SCHEDULES = ("decaying", "constant")  # alpha_i = alpha / i, or alpha_i = alpha


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


def teacher_task(setup: EquivalenceSetup) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training and test data ``(X, Y, X_test, Y_test)`` from a stable teacher TanhRNN (float64).

    ``X`` is standard normal ``(train_sequences, T, input_size)``; ``Y = teacher(X)``, one output
    per step. The teacher's recurrent matrix is rescaled to spectral norm ``setup.teacher_norm``.

    Used in: Chapter 6 (training equivalence).
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

    Used in: Chapter 6 (both students start from these weights).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setup.seed + 2)
        return models.TanhRNN(setup.input_size, setup.hidden, 1, stable=True, max_norm=setup.lam).double()


def step_size(schedule: str, alpha: float, i: int) -> float:
    """Step size of gradient step ``i`` (1-based): ``alpha / i`` or ``alpha``.

    Used in: Chapter 6 (the two schedules of the recursion bound).
    """
    schedule = check_choice("schedule", schedule, SCHEDULES)
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    i = check_int("i", i, low=1)
    return alpha / i if schedule == "decaying" else alpha


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
) -> EquivalenceGrid:
    """Train the recurrent student once per schedule and the k-truncated student for every k.

    Parameters
    ----------
    setup : EquivalenceSetup or None (defaults)
    k_values : increasing ints in [1, T], the truncation lengths
    steps : int in [1, 2000], gradient steps N per run
    progress : bool, show a tqdm bar over the runs

    Returns
    -------
    EquivalenceGrid with the gaps recorded at about 40 log-spaced steps.

    Used in: Chapter 6 (the experiment behind the k slider).
    """
    setup = EquivalenceSetup() if setup is None else setup
    ks = _check_k_values(k_values, setup.steps_per_sequence)
    steps = check_int("steps", steps, low=1, high=2000)
    progress = check_choice("progress", progress, (True, False))
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


def _check_k_values(k_values, T: int) -> tuple[int, ...]:
    if not isinstance(k_values, (tuple, list)) or not k_values:
        raise TypeError(f"k_values must be a non-empty tuple of integers, got {k_values!r}")
    ks = tuple(check_int("k_values", k, low=1, high=T) for k in k_values)
    if any(b <= a for a, b in zip(ks, ks[1:])):
        raise ValueError(f"k_values must be strictly increasing, got {ks}")
    return ks


def _bar(progress: bool, total: int):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="run", leave=False)


def _tick(bar) -> None:
    if bar is not None:
        bar.update(1)


def gradient_gap(setup: EquivalenceSetup | None = None, k_values: tuple[int, ...] = (1, 2, 4, 8, 16, 32)) -> np.ndarray:
    """``||grad L(w_0) - grad L_k(w_0)||_2`` at the students' initialisation, one value per k.

    ``L`` is the recurrent model's training loss, ``L_k`` the k-truncated model's, both at the same
    weights: the quantity the gradient-gap lemma bounds by ``gamma k lam^k``.

    Used in: Chapter 6 (the gradient-gap lemma).
    """
    setup = EquivalenceSetup() if setup is None else setup
    ks = _check_k_values(k_values, setup.steps_per_sequence)
    x, y, _, _ = teacher_task(setup)
    model = student(setup)

    def grad(k: int | None) -> torch.Tensor:
        model.zero_grad(set_to_none=True)
        (_outputs(model, x, k) - y).pow(2).mean().backward()
        return torch.cat([p.grad.reshape(-1) for p in model.parameters()])

    full = grad(None)
    return np.array([float((full - grad(k)).norm()) for k in ks])


# ----------------------------------------------------------------------- the recursion bound


def bound_product(schedule: str, alpha: float, beta: float, steps: int) -> float:
    """``log prod_{i=1}^N (1 + alpha_i beta)`` for the schedule (a log, to survive large N).

    Parameters
    ----------
    schedule : "decaying" (alpha_i = alpha / i) or "constant" (alpha_i = alpha)
    alpha, beta : float > 0 (step-size constant, smoothness of the loss)
    steps : int >= 1, N

    Used in: Chapter 6 (the weight-gap recursion).
    """
    schedule = check_choice("schedule", schedule, SCHEDULES)
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    beta = check_float("beta", beta, low=0.0, low_open=True)
    steps = check_int("steps", steps, low=1)
    if schedule == "constant":
        return steps * math.log1p(alpha * beta)
    return float(np.sum(np.log1p(alpha * beta / np.arange(1, steps + 1))))


def weight_gap_bound(k, lam: float, schedule: str, alpha: float, beta: float, gamma: float, steps: int):
    """Solution of the recursion with equality: ``(gamma k lam^k / beta) (prod (1 + alpha_i beta) - 1)``.

    It bounds the weight gap ``e_{N+1}`` after ``N = steps`` gradient steps from ``e_1 = 0``.

    Parameters
    ----------
    k : int or array of ints >= 1;  lam : float in (0, 1)
    schedule, alpha, beta, steps : as in ``bound_product``;  gamma : float > 0, gradient-gap constant

    Used in: Chapter 6 (the weight-gap recursion).
    """
    with np.errstate(over="ignore"):  # an astronomically large bound is inf, which is still correct
        return np.exp(_log_weight_gap_bound(k, lam, schedule, alpha, beta, gamma, steps))


def _log_weight_gap_bound(k, lam, schedule, alpha, beta, gamma, steps):
    lam = check_float("lam", lam, low=0.0, high=1.0, low_open=True, high_open=True)
    gamma = check_float("gamma", gamma, low=0.0, low_open=True)
    log_p = bound_product(schedule, alpha, beta, steps)
    k = np.asarray(k, dtype=float)
    if np.any(k < 1) or not np.all(np.isfinite(k)):
        raise ValueError(f"k must be >= 1, got {k}")
    log_front = np.log(gamma / beta) + np.log(k) + k * math.log(lam)
    # prod - 1 = expm1(log prod), kept in logs so that 10^5 constant steps do not overflow
    return log_front + log_p + np.log(-np.expm1(-log_p))


def required_k(eps: float, lam: float, schedule: str, alpha: float, beta: float, gamma: float, steps: int) -> int:
    """Smallest k >= 1 for which ``weight_gap_bound`` is at most ``eps``.

    ``k lam^k`` decreases for ``k >= 1 / ln(1/lam)``, so a doubling and bisection search finds it.

    Parameters
    ----------
    eps : float > 0, the tolerance on the weight gap;  other arguments as in ``weight_gap_bound``

    Used in: Chapter 6 (how k must grow with N under each schedule).
    """
    eps = check_float("eps", eps, low=0.0, low_open=True)

    def ok(k: int) -> bool:
        return float(_log_weight_gap_bound(k, lam, schedule, alpha, beta, gamma, steps)) <= math.log(eps)

    turn = max(1, math.ceil(1.0 / math.log(1.0 / lam)))  # k lam^k decreases from here on
    for k in range(1, turn + 1):
        if ok(k):
            return k
    low, high = turn, 2 * turn
    while not ok(high):
        low, high = high, 2 * high
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high
