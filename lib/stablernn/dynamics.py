"""Trajectories of recurrent models, Jacobian products, contraction factors and truncation.

numpy, batched. States have shape (batch, n) or (n,), inputs (batch, T, m) or (T, m);
trajectories come back as (batch, T + 1, n) with the initial state at index 0, or without the
batch axis when neither the inputs nor the initial state has one. The initial state defaults to 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._validate import check_array, check_choice, check_float, check_int, check_ints, check_seed

__all__ = [
    "linear_trajectory",
    "rnn_trajectory",
    "lstm_step",
    "lstm_trajectory",
    "random_lstm_params",
    "LSTM_KEYS",
    "trajectory_distance",
    "contraction_factors",
    "jacobian_norms_vs_lag",
    "truncated_rnn_states",
    "truncation_error",
    "truncation_bound",
    "min_context",
    "state_bound",
]

LSTM_KEYS = ("W_i", "W_f", "W_z", "W_o", "U_i", "U_f", "U_z", "U_o", "b_i", "b_f", "b_z", "b_o")


# ------------------------------------------------------------------------------ shape helpers


def _inputs(x: Any, m: int | None = None) -> tuple[np.ndarray, bool]:
    """Inputs as (batch, T, m) and whether they came with a batch axis."""
    x = check_array("x", x, ndim=(2, 3))
    batched = x.ndim == 3
    x = x if batched else x[None]
    if m is not None and x.shape[2] != m:
        raise ValueError(f"x must have {m} features in its last axis, got shape {x.shape}")
    return x, batched


def _initial(name: str, h0: Any, batch: int, n: int) -> tuple[np.ndarray, bool]:
    """Initial state as (batch, n) (zeros if None) and whether it came with a batch axis."""
    if h0 is None:
        return np.zeros((batch, n)), False
    h0 = check_array(name, h0, ndim=(1, 2))
    if h0.shape[-1] != n or (h0.ndim == 2 and h0.shape[0] not in (1, batch)):
        raise ValueError(f"{name} must have shape ({n},) or ({batch}, {n}), got {h0.shape}")
    return np.broadcast_to(h0 if h0.ndim == 2 else h0[None], (batch, n)).copy(), h0.ndim == 2


def _vector(name: str, b: Any, n: int) -> np.ndarray:
    return np.zeros(n) if b is None else check_array(name, b, shape=(n,))


def _states(name: str, states: Any, n: int) -> np.ndarray:
    """A trajectory as (batch, T + 1, n)."""
    states = check_array(name, states, ndim=(2, 3))
    states = states if states.ndim == 3 else states[None]
    if states.shape[2] != n or states.shape[1] < 2:
        raise ValueError(f"{name} must have shape (batch, T + 1, {n}) with T >= 1, got {states.shape}")
    return states


def _out(states: np.ndarray, batched: bool) -> np.ndarray:
    return states if batched else states[0]


# ------------------------------------------------------------------------------- trajectories


def linear_trajectory(A: Any, x: Any, B: Any = None, h0: Any = None) -> np.ndarray:
    """States of the linear system ``h_t = A h_{t-1} + B x_t``, t = 1..T.

    Parameters
    ----------
    A : ndarray
        Shape (n, n).
    x : ndarray
        Shape (batch, T, m) or (T, m).
    B : ndarray or None
        Shape (n, m), or None for the identity (then m must equal n).
    h0 : ndarray or None
        Shape (batch, n) or (n,), or None for zeros.

    Returns
    -------
    array (batch, T + 1, n) (or (T + 1, n)), with ``h0`` at index 0.
    """
    A = check_array("A", A, square=True)
    n = A.shape[0]
    if B is None:
        x, batched = _inputs(x, n)
        drive = x
    else:
        B = check_array("B", B, shape=(n, None))
        x, batched = _inputs(x, B.shape[1])
        drive = x @ B.T
    h, h_batched = _initial("h0", h0, x.shape[0], n)
    out = np.empty((x.shape[0], x.shape[1] + 1, n))
    out[:, 0] = h
    for t in range(x.shape[1]):
        h = h @ A.T + drive[:, t]
        out[:, t + 1] = h
    return _out(out, batched or h_batched)


def rnn_trajectory(W: Any, U: Any, x: Any, h0: Any = None, b: Any = None) -> np.ndarray:
    """States of the tanh RNN ``h_t = tanh(W h_{t-1} + U x_t + b)``, t = 1..T.

    Parameters
    ----------
    W : ndarray
        Shape (n, n), recurrent weights.
    U : ndarray
        Shape (n, m), input weights.
    x : ndarray
        Shape (batch, T, m) or (T, m).
    h0 : ndarray or None
        Shape (batch, n) or (n,), or None for zeros.
    b : ndarray or None
        Shape (n,) or None for zeros.

    Returns
    -------
    array (batch, T + 1, n) (or (T + 1, n)), with ``h0`` at index 0.
    """
    W = check_array("W", W, square=True)
    n = W.shape[0]
    U = check_array("U", U, shape=(n, None))
    x, batched = _inputs(x, U.shape[1])
    drive = x @ U.T + _vector("b", b, n)
    h, h_batched = _initial("h0", h0, x.shape[0], n)
    out = np.empty((x.shape[0], x.shape[1] + 1, n))
    out[:, 0] = h
    for t in range(x.shape[1]):
        h = np.tanh(h @ W.T + drive[:, t])
        out[:, t + 1] = h
    return _out(out, batched or h_batched)


def _lstm_params(params: Any) -> dict[str, np.ndarray]:
    """Validated LSTM parameters: W_* (n, n), U_* (n, m), b_* (n,)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {', '.join(LSTM_KEYS)}, got {type(params).__name__}")
    missing = [k for k in LSTM_KEYS if k not in params]
    if missing:
        raise ValueError(f"params is missing the key(s) {', '.join(missing)}")
    W_i = check_array("params['W_i']", params["W_i"], square=True)
    n = W_i.shape[0]
    U_i = check_array("params['U_i']", params["U_i"], shape=(n, None))
    shapes = {"W": (n, n), "U": (n, U_i.shape[1]), "b": (n,)}
    return {k: check_array(f"params['{k}']", params[k], shape=shapes[k[0]]) for k in LSTM_KEYS}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free form of 1 / (1 + exp(-z))


def lstm_step(p: dict[str, np.ndarray], c: np.ndarray, h: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """One LSTM step on validated parameters; returns ``(c, h, i, f, z, o)``, each (batch, n).

    ``i, f, o = sigmoid(W_* h + U_* x + b_*)``, ``z = tanh(W_z h + U_z x + b_z)``,
    ``c' = i * z + f * c``, ``h' = o * tanh(c')`` (PyTorch's gate order i, f, g = z, o).
    """
    def pre(g: str) -> np.ndarray:
        return h @ p[f"W_{g}"].T + x @ p[f"U_{g}"].T + p[f"b_{g}"]

    i, f, o = _sigmoid(pre("i")), _sigmoid(pre("f")), _sigmoid(pre("o"))
    z = np.tanh(pre("z"))
    c = i * z + f * c
    return c, o * np.tanh(c), i, f, z, o


def lstm_trajectory(params: Any, x: Any, h0: Any = None, c0: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Hidden and cell states of an LSTM (equations in ``lstm_step``).

    Parameters
    ----------
    params : dict
        With W_i, W_f, W_z, W_o (n, n); U_i, U_f, U_z, U_o (n, m); b_i, b_f, b_z, b_o (n,).
    x : ndarray
        Shape (batch, T, m) or (T, m).
    h0, c0 : ndarray or None
        Shapes (batch, n) or (n,), or None for zeros.

    Returns
    -------
    (h, c), each (batch, T + 1, n) (or (T + 1, n)), initial states at index 0.
    """
    p = _lstm_params(params)
    n = p["W_i"].shape[0]
    x, batched = _inputs(x, p["U_i"].shape[1])
    h, hb = _initial("h0", h0, x.shape[0], n)
    c, cb = _initial("c0", c0, x.shape[0], n)
    hs = np.empty((x.shape[0], x.shape[1] + 1, n))
    cs = np.empty_like(hs)
    hs[:, 0], cs[:, 0] = h, c
    for t in range(x.shape[1]):
        c, h = lstm_step(p, c, h, x[:, t])[:2]
        hs[:, t + 1], cs[:, t + 1] = h, c
    keep = batched or hb or cb
    return _out(hs, keep), _out(cs, keep)


def random_lstm_params(n: int, m: int, scale: float | None = None, seed: int | None = 0) -> dict[str, np.ndarray]:
    """Random LSTM parameters, every entry uniform on ``[-scale, scale]`` (PyTorch's default init).

    Parameters
    ----------
    n : int
        >= 1, hidden size.
    m : int
        >= 1, input size.
    scale : float or None
        >= 0, or None for PyTorch's ``1 / sqrt(n)``.
    seed : int or None
        >= 0 or None.

    Returns
    -------
    dict with the keys of ``LSTM_KEYS``.
    """
    n = check_int("n", n, low=1)
    m = check_int("m", m, low=1)
    scale = 1.0 / np.sqrt(n) if scale is None else check_float("scale", scale, low=0.0)
    rng = np.random.default_rng(check_seed("seed", seed))
    shapes = {"W": (n, n), "U": (n, m), "b": (n,)}
    return {k: rng.uniform(-scale, scale, shapes[k[0]]) for k in LSTM_KEYS}


# --------------------------------------------------------------------- distances and Jacobians


def trajectory_distance(states_a: Any, states_b: Any) -> np.ndarray:
    """Euclidean distance between two trajectories at every time step.

    Parameters
    ----------
    states_a, states_b : ndarray
        Shapes (batch, T + 1, n) or (T + 1, n) of the same shape.

    Returns
    -------
    array (batch, T + 1) (or (T + 1,)).
    """
    a = check_array("states_a", states_a, ndim=(2, 3))
    b = check_array("states_b", states_b, ndim=(2, 3))
    if a.shape != b.shape:
        raise ValueError(f"states_b must have the shape of states_a {a.shape}, got {b.shape}")
    return np.linalg.norm(a - b, axis=-1)


def contraction_factors(W: Any, states: Any) -> np.ndarray:
    """Measured one-step contraction factors ``||diag(1 - h_t^2) W||_2`` along a tanh-RNN trajectory.

    ``J_t = diag(1 - h_t^2) W`` is the Jacobian ``dh_t / dh_{t-1}``; its spectral norm is the
    factor ``lambda_hat_t`` by which the step shrinks (or stretches) small perturbations.

    Parameters
    ----------
    W : ndarray
        Shape (n, n).
    states : ndarray
        Shape (batch, T + 1, n) or (T + 1, n), from ``rnn_trajectory``.

    Returns
    -------
    array (batch, T) (or (T,)) for t = 1..T.
    """
    W = check_array("W", W, square=True)
    raw_ndim = np.ndim(states)
    s = _states("states", states, W.shape[0])
    J = (1.0 - s[:, 1:] ** 2)[..., None] * W  # (batch, T, n, n): row scaling of W
    out = np.linalg.norm(J, ord=2, axis=(-2, -1))
    return out if raw_ndim == 3 else out[0]


def jacobian_norms_vs_lag(W: Any, states: Any, kind: str = "rnn", average: bool = True) -> np.ndarray:
    """Spectral norms ``||dh_T / dh_{T-l}||_2`` for lags l = 0..T-1 (batch mean by default).

    ``dh_T / dh_{T-l} = J_T J_{T-1} ... J_{T-l+1}`` with ``J_s = diag(1 - h_s^2) W`` (tanh RNN)
    or ``J_s = W`` (linear system); the product is accumulated from T backwards, ``O(T n^3)``.

    Parameters
    ----------
    W : ndarray
        Shape (n, n).
    states : ndarray
        Shape (batch, T + 1, n) or (T + 1, n); only T and batch matter for ``"linear"``.
    kind : str
        "rnn" or "linear".
    average : bool
        Bool, average over the batch (else return one row per sequence).

    Returns
    -------
    array (T,), or (batch, T) if not averaged; entry 0 is 1 (the identity).
    """
    W = check_array("W", W, square=True)
    kind = check_choice("kind", kind, ("rnn", "linear"))
    average = check_choice("average", average, (True, False))
    s = _states("states", states, W.shape[0])
    batch, T, n = s.shape[0], s.shape[1] - 1, s.shape[2]
    P = np.broadcast_to(np.eye(n), (batch, n, n)).copy()
    out = np.empty((batch, T))
    for lag in range(T):
        out[:, lag] = np.linalg.norm(P, ord=2, axis=(1, 2))
        if kind == "rnn":  # P <- P J_{T-lag} = (P diag(1 - h^2)) W
            P = (P * (1.0 - s[:, T - lag] ** 2)[:, None, :]) @ W
        else:
            P = P @ W
    return out.mean(axis=0) if average else out


# --------------------------------------------------------------------------------- truncation


def truncated_rnn_states(W: Any, U: Any, x: Any, k: int, b: Any = None) -> np.ndarray:
    """States ``h^k_t`` of the k-truncated tanh RNN, t = 1..T.

    ``h^k_t`` runs the recursion from a zero state over the last k inputs ``x_{t-k+1}..x_t``
    only; for t <= k it equals the full state ``h_t`` (started from 0). All T windows run as
    one batch: k steps of ``O(T n^2)`` work each, as a depth-k feed-forward network would.

    Parameters
    ----------
    W : ndarray
        Shape (n, n); U : array (n, m).
    x : ndarray
        Shape (batch, T, m) or (T, m).
    k : int
        >= 1, the context length.
    b : ndarray or None
        Shape (n,) or None.

    Returns
    -------
    array (batch, T, n) (or (T, n)).
    """
    W = check_array("W", W, square=True)
    n = W.shape[0]
    U = check_array("U", U, shape=(n, None))
    x, batched = _inputs(x, U.shape[1])
    k = check_int("k", k, low=1)
    batch, T = x.shape[:2]
    k_eff = min(k, T)
    drive = np.concatenate([np.zeros((batch, k_eff - 1, n)), x @ U.T + _vector("b", b, n)], axis=1)
    H = np.zeros((batch, T, n))
    t = np.arange(T)
    for j in range(k_eff):
        # the window ending at index t reads input index t - (k_eff - 1) + j at step j;
        # before the sequence starts there is no input and the state stays 0
        active = (t - (k_eff - 1) + j >= 0)[None, :, None]
        H = np.where(active, np.tanh(H @ W.T + drive[:, j : j + T]), H)
    return _out(H, batched)


def truncation_error(W: Any, U: Any, x: Any, k: int, b: Any = None) -> np.ndarray:
    """Euclidean distance ``||h_t - h^k_t||`` between full and k-truncated tanh-RNN states.

    Parameters
    ----------
    W : ndarray
        Shape (n, n); U : array (n, m).
    x : ndarray
        Shape (batch, T, m) or (T, m).
    k : int
        >= 1.
    b : ndarray or None
        Shape (n,) or None.

    Returns
    -------
    array (batch, T) (or (T,)) for t = 1..T.
    """
    full = rnn_trajectory(W, U, x, b=b)[..., 1:, :]
    return np.linalg.norm(full - truncated_rnn_states(W, U, x, k, b=b), axis=-1)


def truncation_errors_all_k(W: np.ndarray, U: np.ndarray, x: np.ndarray, v: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Max over t and sequences of ``||h_t - h^k_t||`` and ``|v . (h_t - h^k_t)|`` for k = 1..k_max.

    All k at once, in one pass over time: ``G[:, j]`` holds ``h^{j+1}_t``, the state at t of the run
    started from zero at input ``t - j``. One step later that run has length ``j + 2``, so
    ``G <- tanh([0, G[:, :-1]] W^T + U x_{t+1})``. Runs that start before the sequence see zero
    state and no input, which is exactly the full model: ``h^k_t = h_t`` for ``k >= t``.
    ``O(T k_max n^2)`` work instead of one truncated model per k.

    Parameters
    ----------
    W : ndarray
        Shape (n, n).
    U : ndarray
        Shape (n, m).
    x : ndarray
        Shape (batch, T, m).
    v : ndarray
        Shape (n,), the readout.
    k_max : int
        >= 1.

    Returns
    -------
    (state_error (k_max,), output_error (k_max,)).
    """
    W = check_array("W", W, square=True)
    n = W.shape[0]
    U = check_array("U", U, shape=(n, None))
    x = check_array("x", x, shape=(None, None, U.shape[1]))
    v = check_array("v", v, shape=(n,))
    k_max = check_int("k_max", k_max, low=1)
    batch, steps = x.shape[0], x.shape[1]
    full = rnn_trajectory(W, U, x)[:, 1:]
    drive = x @ U.T
    G = np.zeros((batch, k_max, n))
    state_err, output_err = np.zeros(k_max), np.zeros(k_max)
    for t in range(steps):
        G[:, 1:] = G[:, :-1]
        G[:, 0] = 0.0
        G = np.tanh(G @ W.T + drive[:, t, None, :])
        diff = full[:, t, None, :] - G  # (batch, k_max, n)
        state_err = np.maximum(state_err, np.linalg.norm(diff, axis=-1).max(axis=0))
        output_err = np.maximum(output_err, np.abs(diff @ v).max(axis=0))
    return state_err, output_err


def _lam(lam: Any) -> float:
    return check_float("lam", lam, low=0.0, high=1.0, low_open=True, high_open=True)


def truncation_bound(lam: float, k: Any, lx_bx: float) -> float | np.ndarray:
    """The inference bound ``lam^k L_x B_x / (1 - lam)`` on ``||h_t - h^k_t||``.

    It holds for a lam-contractive model with ``||phi(0, x)|| <= L_x ||x||`` and
    ``||x_t|| <= B_x`` (tanh RNN: ``lam = ||W||_2``, ``L_x = ||U||_2``; with a bias b use
    ``L_x B_x = ||U||_2 B_x + ||b||_2``): both runs start at time t - k, one from
    ``h_{t-k}`` with ``||h_{t-k}|| <= L_x B_x / (1 - lam)``, the other from 0.

    Parameters
    ----------
    lam : float
        In (0, 1), the contraction factor.
    k : int
        >= 1, or an integer array of values >= 1.
    lx_bx : float
        >= 0, the product ``L_x B_x``.

    Returns
    -------
    float, or an array shaped like k.
    """
    lam, lx_bx = _lam(lam), check_float("lx_bx", lx_bx, low=0.0)
    if np.ndim(k) == 0:
        k = check_int("k", k, low=1)
    else:
        arr = np.asarray(k)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"k must be an integer or an integer array, got dtype {arr.dtype}")
        if np.any(arr < 1):
            raise ValueError(f"k must be >= 1 everywhere, got minimum {arr.min()}")
        k = arr
    return lam**k * lx_bx / (1.0 - lam)


def min_context(lam: float, lx_bx: float, eps: float) -> int:
    """Smallest k >= 1 with ``truncation_bound(lam, k, lx_bx) <= eps``.

    ``k = ceil(log(L_x B_x / ((1 - lam) eps)) / log(1 / lam))``, at least 1, checked against
    the bound itself to guard against rounding.

    Parameters
    ----------
    lam : float
        In (0, 1).
    lx_bx : float
        >= 0.
    eps : float
        > 0, the tolerated error.

    Returns
    -------
    int >= 1.
    """
    lam, lx_bx = _lam(lam), check_float("lx_bx", lx_bx, low=0.0)
    eps = check_float("eps", eps, low=0.0, low_open=True)
    if lx_bx == 0.0:
        return 1
    k = max(1, int(np.ceil(np.log(lx_bx / ((1.0 - lam) * eps)) / np.log(1.0 / lam))))
    while k > 1 and lam ** (k - 1) * lx_bx / (1.0 - lam) <= eps:
        k -= 1
    while lam**k * lx_bx / (1.0 - lam) > eps:
        k += 1
    return k


def smallest_k_within(ks: Sequence[int], values: Sequence[float], full: float, tolerance: float = 0.01) -> int | None:
    """Smallest k of the grid whose metric is within ``tolerance`` of the full-context metric.

    The metric is a loss (NLL per frame, perplexity): lower is better, so "within" means
    ``value_k <= (1 + tolerance) * full``; a truncated model that does *better* than full context
    counts as within. Returns None if no k of the grid qualifies.

    Parameters
    ----------
    ks : increasing ints >= 1;  values : metric at each k (same length);  full : metric with full context (> 0)
    tolerance : relative tolerance in (0, 1] (default 0.01)
    """
    k = check_array("ks", ks, ndim=1)
    v = check_array("values", values, shape=(len(k),))
    full = check_float("full", full, low=0.0, low_open=True)
    tolerance = check_float("tolerance", tolerance, low=0.0, high=1.0, low_open=True)
    if any(a >= b for a, b in zip(k, k[1:])) or k[0] < 1 or not all(float(x).is_integer() for x in k):
        raise ValueError(f"ks must be increasing integers >= 1, got {list(ks)}")
    for kk, vv in zip(k, v):
        if vv <= (1 + tolerance) * full:
            return int(kk)
    return None


def state_bound(lam: float, lx_bx: float) -> float:
    """Bound ``L_x B_x / (1 - lam)`` on ``||h_t||`` for a lam-contractive model started at 0.

    Parameters
    ----------
    lam : float
        In (0, 1).
    lx_bx : float
        >= 0.

    Returns
    -------
    float.
    """
    lam, lx_bx = _lam(lam), check_float("lx_bx", lx_bx, low=0.0)
    return lx_bx / (1.0 - lam)


# -- the scalar recurrence h_t = a h_{t-1} + x_t (Chapters 5 and 7) ------------------------------

SCALAR_OVERFLOW = 1e150  # a state beyond this counts as diverged (its square would still be finite)


def _scalar_inputs(x) -> np.ndarray:
    return check_array("x", x, ndim=1)


def scalar_states(a: float, x) -> np.ndarray:
    """States ``h_0 = 0, h_t = a h_{t-1} + x_t`` for t = 1..T.

    Parameters
    ----------
    a : float, the recurrent weight (any real; ``|a| > 1`` is unstable)
    x : array (T,), the inputs

    Returns
    -------
    array (T + 1,) with ``h_0 = 0`` first (``inf`` once the state overflows).
    """
    a = check_float("a", a)
    x = _scalar_inputs(x)
    h = np.zeros(len(x) + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for t, xt in enumerate(x, start=1):
            h[t] = a * h[t - 1] + xt
    return h


def scalar_task(a_star: float = 0.8, steps: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``x`` (T,) standard normal and targets ``y_t = h_t`` of the teacher with weight ``a_star``.

    Parameters
    ----------
    a_star : float in [-2, 2];  steps : int in [2, 1000], T;  seed : int >= 0
    """
    a_star = check_float("a_star", a_star, low=-2.0, high=2.0)
    steps = check_int("steps", steps, low=2, high=1000)
    x = np.random.default_rng(check_seed("seed", seed)).standard_normal(steps)
    return x, scalar_states(a_star, x)[1:]


def scalar_derivative(a: float, x) -> np.ndarray:
    """Derivatives ``s_t = dh_t/da``, from ``s_t = h_{t-1} + a s_{t-1}``, ``s_0 = 0``.

    For constant inputs ``x_t = 1`` and ``a > 1``, ``s_T / (T a^T) -> 1 / (a (a - 1))``:
    the gradient grows like ``T a^T``.

    Returns
    -------
    array (T + 1,)
    """
    a = check_float("a", a)
    h = scalar_states(a, x)
    s = np.zeros_like(h)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, len(h)):
            s[t] = h[t - 1] + a * s[t - 1]
    return s


def scalar_loss_and_grad(a: float, x, y) -> tuple[float, float]:
    """Loss ``L(a) = mean_t (h_t - y_t)^2`` and its derivative ``2 mean_t (h_t - y_t) dh_t/da``.

    Non-finite (``inf`` or ``nan``) once the states overflow.
    """
    x = _scalar_inputs(x)
    y = check_array("y", y, shape=(len(x),))
    h, s = scalar_states(a, x)[1:], scalar_derivative(a, x)[1:]
    with np.errstate(over="ignore", invalid="ignore"):
        r = h - y
        return float(np.mean(r * r)), float(2.0 * np.mean(r * s))


def scalar_loss_curve(a_values, x, y) -> np.ndarray:
    """``L(a)`` on a grid of weights (vectorised over ``a``; ``inf`` where it overflows).
    """
    a = check_array("a_values", a_values, ndim=1)
    x = _scalar_inputs(x)
    y = check_array("y", y, shape=(len(x),))
    h, total = np.zeros_like(a), np.zeros_like(a)
    with np.errstate(over="ignore", invalid="ignore"):
        for xt, yt in zip(x, y):
            h = a * h + xt
            total += (h - yt) ** 2
        out = total / len(x)
    return np.where(np.isfinite(out), out, np.inf)


def scalar_truncation_error(a: float, x, k: int) -> float:
    """``max_t |h_t - h^k_t|`` between the scalar model and its k-truncated version (``= |a|^k |h_{t-k}|``).

    Parameters
    ----------
    a : float;  x : array (T,);  k : int >= 1
    """
    a = check_float("a", a)
    x = _scalar_inputs(x)
    k = check_int("k", k, low=1)
    h = scalar_states(a, x)
    if k >= len(x):
        return 0.0
    # h_t - h^k_t = a^k h_{t-k}: the part of the state that the window of k inputs does not see
    return float(np.max(np.abs(a) ** k * np.abs(h[1 : len(x) - k + 1])))



def running_sum_errors(steps: int, ks, lam: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Error ``|h_t - h^k_t|`` of the k-truncated scalar system ``h_t = lam h_{t-1} + x_t``, x_t uniform on [0, 1].

    ``h_t - h^k_t = lam^k h_{t-k}`` exactly: the truncated model misses the state built before its
    window. For the running sum (lam = 1) that is the whole sum ``x_1 + ... + x_{t-k}``.

    Parameters
    ----------
    steps : int
        >= 1, sequence length T.
    ks : sequence of int
        Each >= 1, context lengths.
    lam : float
        In [0, 1].
    seed : int
        >= 0.

    Returns
    -------
    (t (T,), errors (len(ks), T)).
    """
    steps = check_int("steps", steps, low=1)
    ks = list(check_ints("ks", ks, low=1))
    lam = check_float("lam", lam, low=0.0, high=1.0)
    x = np.random.default_rng(check_int("seed", seed, low=0)).uniform(0.0, 1.0, steps)
    h = linear_trajectory([[lam]], x[:, None])[:, 0]  # h_0 = 0, ..., h_T
    t = np.arange(1, steps + 1)
    errors = np.array([np.where(t > k, lam**k * h[np.maximum(t - k, 0)], 0.0) for k in ks])
    return t, errors
