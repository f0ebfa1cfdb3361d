"""Sufficient conditions for stability (one-step contraction) and projections that impose them.

A recurrent model ``s_t = phi(s_{t-1}, x_t)`` is *stable* if ``phi`` is lambda-contractive in the
state for some lambda < 1. The conditions are checked in numpy; the in-place projections used
after each optimiser step act on torch tensors (torch is imported inside those functions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import solve_discrete_lyapunov

from . import linalg
from ._validate import check_array, check_choice, check_float, check_int, check_seed
from .dynamics import _lstm_params, _sigmoid, random_lstm_params

__all__ = [
    "StabilityReport",
    "linear_condition",
    "rnn_condition",
    "forget_gate_bound",
    "lstm_block_norms",
    "lstm_contraction_factor",
    "lstm_condition",
    "lstm_block_radii",
    "project_rnn_",
    "project_lstm_",
    "project_forget_gate_",
    "lstm_params_from_torch",
]


@dataclass(frozen=True)
class StabilityReport:
    """Result of checking a sufficient stability condition.

    Attributes
    ----------
    holds : bool
        Whether the condition holds (then the model is ``contraction``-contractive).
    contraction : float
        The contraction factor lambda that the condition certifies (1 or more: no certificate).
    norm_name : str
        The norm in which the contraction holds, e.g. "l2" or "l_inf on (c, h)".
    detail : str
        The numbers behind the verdict, for display.
    """

    holds: bool
    contraction: float
    norm_name: str
    detail: str


def linear_condition(A: Any) -> StabilityReport:
    """Stability of ``h_t = A h_{t-1} + B x_t`` in l2: holds iff ``||A||_2 < 1``, lambda = ``||A||_2``.

    The spectral radius is reported too; ``rho(A) < 1`` alone does not give contraction.

    Parameters
    ----------
    A : ndarray
        Shape (n, n).

    Returns
    -------
    StabilityReport.
    """
    A = check_array("A", A, square=True)
    norm, radius = linalg.spectral_norm(A), linalg.spectral_radius(A)
    detail = f"spectral norm ||A||_2 = {norm:.4g} (spectral radius {radius:.4g})"
    return StabilityReport(norm < 1.0, norm, "l2", detail)


def rnn_condition(W: Any, lipschitz: float = 1.0) -> StabilityReport:
    """Stability of ``h_t = rho(W h_{t-1} + U x_t)`` in l2: ``L_rho ||W||_2 < 1``.

    ``||rho(W h + U x) - rho(W h' + U x)|| <= L_rho ||W (h - h')|| <= L_rho ||W||_2 ||h - h'||``.

    Parameters
    ----------
    W : ndarray
        Shape (n, n).
    lipschitz : float
        > 0, Lipschitz constant ``L_rho`` of the activation (1 for tanh and ReLU).

    Returns
    -------
    StabilityReport with contraction ``L_rho ||W||_2``.
    """
    W = check_array("W", W, square=True)
    lipschitz = check_float("lipschitz", lipschitz, low=0.0, low_open=True)
    norm = linalg.spectral_norm(W)
    lam = lipschitz * norm
    detail = f"L * ||W||_2 = {lipschitz:.4g} * {norm:.4g} = {lam:.4g} (spectral radius {linalg.spectral_radius(W):.4g})"
    return StabilityReport(lam < 1.0, lam, "l2", detail)


def forget_gate_bound(params: Any, input_bound: float = 1.0) -> float:
    """Upper bound on ``sup_t ||f_t||_inf`` from the weights, for ``||h||_inf <= 1``, ``||x_t||_inf <= input_bound``.

    ``f_j = sigmoid((W_f h + U_f x + b_f)_j) <= sigmoid(||W_f[j]||_1 + ||U_f[j]||_1 B_x + b_{f,j})``
    (sigmoid is increasing); ``|h| <= 1`` always holds since ``h = o * tanh(c)`` (and h_0 = 0).

    Parameters
    ----------
    params : dict
        LSTM parameters (see ``dynamics.lstm_trajectory``).
    input_bound : float
        >= 0, bound ``B_x`` on ``||x_t||_inf``.

    Returns
    -------
    float in (0, 1].
    """
    p = _lstm_params(params)
    input_bound = check_float("input_bound", input_bound, low=0.0)
    rows = np.abs(p["W_f"]).sum(1) + np.abs(p["U_f"]).sum(1) * input_bound + p["b_f"]
    return float(np.max(_sigmoid(rows)))


def lstm_block_norms(params: Any) -> dict[str, float]:
    """The induced l_inf norms (largest absolute row sums) of the recurrent blocks ``W_i, W_f, W_z, W_o``."""
    p = _lstm_params(params)
    return {g: linalg.inf_norm(p[f"W_{g}"]) for g in "ifzo"}


def lstm_contraction_factor(norms: dict[str, float], forget_bound: float) -> float:
    """The formula of ``lambda`` (Chapter 4) for block norms ``norms`` (keys "i", "f", "z", "o") and a
    forget-gate bound; inf if the bound is 1. A model's certificate is ``lstm_condition``, which
    computes the bound from the weights."""
    f = check_float("forget_bound", forget_bound, low=0.0, high=1.0)
    if f >= 1.0:
        return float("inf")
    return f + norms["z"] + (norms["i"] + norms["o"]) / 4.0 + norms["f"] / (4.0 * (1.0 - f))


def lstm_condition(params: Any, input_bound: float = 1.0) -> StabilityReport:
    """The LSTM's certificate: one-step contraction of the state ``(c, h)`` in l_inf, from the weights
    and a bound on the inputs alone.

    Norm: ``||(c, h)|| = max(||c||_inf, ||h||_inf)``; ``||W||_inf`` is the largest absolute row
    sum. ``f_bar = forget_gate_bound(params, input_bound)`` bounds every forget gate for inputs with
    ``||x_t||_inf <= input_bound`` (no assumed bound is accepted). Since ``|i z| < 1``, ``c_0 = 0``
    gives ``||c_t||_inf <= B_c = 1 / (1 - f_bar)``,
    and ``h = o tanh(c)`` gives ``||h_t||_inf <= 1``: the set
    ``S = {||h||_inf <= 1, ||c||_inf <= B_c}`` is invariant, and contraction is claimed on S.

    Derivation. Take two states ``(c, h)``, ``(c2, h2)`` in S, the same input, and write
    ``D`` for a difference (``Dh = h - h2``), ``+`` for the next step, gates of the second state
    with a 2. As ``sigmoid' <= 1/4`` and ``tanh' <= 1``: ``||Di||_inf <= ||W_i||_inf ||Dh||_inf / 4``,
    likewise for f and o, and ``||Dz||_inf <= ||W_z||_inf ||Dh||_inf``. Elementwise,

    * ``Dc+ = i Dz + Di z2 + f Dc + Df c2``, and ``|i|, |z2| <= 1``, ``f <= f_bar``,
      ``|c2| <= B_c``, so ``||Dc+|| <= f_bar ||Dc|| + (||W_z|| + ||W_i|| / 4 + ||W_f|| B_c / 4) ||Dh||``;
    * ``Dh+ = o (tanh c+ - tanh c2+) + Do tanh c2+``, so ``||Dh+|| <= ||Dc+|| + ||W_o|| ||Dh|| / 4``.

    Both are at most ``lambda ||(Dc, Dh)||``: one step is lambda-contractive on S with

        ``lambda = f_bar + ||W_z|| + (||W_i|| + ||W_o||) / 4 + ||W_f|| / (4 (1 - f_bar))``

    (all norms induced l_inf), and the condition is ``lambda < 1``. Block conditions follow as a
    corollary: ``||W_i||, ||W_o|| <= 1 - f_bar``, ``||W_z|| <= (1 - f_bar)/4``,
    ``||W_f|| <= (1 - f_bar)^2`` give each of the four weight terms at most (1 - f_bar)/4, so
    lambda <= 1, with no margin (lambda = 1 on their boundary). ``lstm_block_radii`` uses the same
    split with a margin.

    Parameters
    ----------
    params : dict
        LSTM parameters (see ``dynamics.lstm_trajectory``).
    input_bound : float
        >= 0, bound on ``||x_t||_inf`` (0/1 piano rolls: 1; an embedding: its largest entry).

    Returns
    -------
    StabilityReport with contraction lambda (inf when f_bar = 1), norm "l_inf on (c, h)".
    """
    p = _lstm_params(params)
    f = forget_gate_bound(p, input_bound)
    norms = lstm_block_norms(p)
    lam = lstm_contraction_factor(norms, f)
    norm = ", ".join(f"||W_{g}||_inf = {norms[g]:.4g}" for g in "ifzo")
    detail = f"forget-gate bound {f:.4g} (from the weights, ||x||_inf <= {input_bound:g}); {norm}; lambda = {lam:.4g}"
    return StabilityReport(bool(lam < 1.0), lam, "l_inf on (c, h)", detail)


def lstm_block_radii(forget_bound: float, margin: float = 1e-3) -> dict[str, float]:
    """Row-l1 radii for ``W_i, W_f, W_z, W_o`` that make ``lstm_condition`` hold with lambda = 1 - margin (1 - f).

    Each of the four terms of lambda gets ``(1 - margin)(1 - f)/4``: ``r_i = r_o = (1 - margin)(1 - f)``,
    ``r_z = (1 - margin)(1 - f)/4``, ``r_f = (1 - margin)(1 - f)^2``.

    Parameters
    ----------
    forget_bound : float
        In [0, 1), bound on the forget gate.
    margin : float
        In (0, 1].

    Returns
    -------
    dict with keys "W_i", "W_f", "W_z", "W_o".
    """
    f = check_float("forget_bound", forget_bound, low=0.0, high=1.0, high_open=True)
    margin = check_float("margin", margin, low=0.0, high=1.0, low_open=True)
    s = (1.0 - margin) * (1.0 - f)
    return {"W_i": s, "W_f": s * (1.0 - f), "W_z": s / 4.0, "W_o": s}


# ---------------------------------------------------------------------- in-place projections


def _check_tensor(name: str, value: Any, ndim: int = 2) -> Any:
    import torch

    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    check_array(name, value, ndim=ndim)
    return value


def project_rnn_(
    weight: Any,
    max_norm: float = 1.0 - 1e-3,
    method: str = "svd",
    n_iter: int = 20,
    seed: int | None = 0,
    start: Any = None,
) -> np.ndarray | None:
    """In place: make ``||weight||_2 <= max_norm`` after an optimiser step.

    ``"svd"`` clips singular values at ``max_norm``: the exact Frobenius projection onto the
    spectral-norm ball, ``O(n^3)``. ``"power"`` rescales the whole matrix by
    ``linalg.rescale_factor`` (computed in float64): a power-iteration estimate of
    ``||weight||_2`` from ``start``, then a Cholesky check that certifies an upper bound (the
    estimate, or the estimate padded by at most 1 %) and falls back to the exact norm from an SVD
    when none certifies. Not a projection; it needs no SVD when the estimate is good, which a warm
    start makes likely: pass the returned vector as ``start`` next time.

    Guarantee of ``"power"``, for every finite ``weight`` and every ``start`` and ``n_iter``:
    afterwards ``||weight||_2 <= max_norm * (1 + linalg.RESCALE_RTOL)`` (``RESCALE_RTOL = 1e-6``),
    and the weight was shrunk by at most 1 % more than needed. The factor is lowered by
    ``(2 + sqrt(min(n, m))) * u`` (``u`` the unit roundoff of the weight's dtype, ``2^-24`` for
    float32) so that storing the product in that dtype cannot break the bound. Matrices certified
    inside are left untouched.

    Parameters
    ----------
    weight : torch.Tensor
        Shape (n, m), modified in place (no autograd).
    max_norm : float
        > 0.
    method : str
        "svd" or "power".
    n_iter : int
        >= 1, power iterations (method "power").
    seed : int or None
        >= 0 or None, seed of the power iteration's start when ``start`` is None.
    start : ndarray or None
        Shape (m,), nonzero: the start of the power iteration, normally the vector this function
        returned for the same weight at the previous step (method "power").

    Returns
    -------
    ndarray (m,) or None: for "power", the estimate of the top right singular vector, to pass as
    ``start`` at the next call on the same weight (None if no power iteration was needed and no
    ``start`` was given); None for "svd".
    """
    import torch

    _check_tensor("weight", weight)
    max_norm = check_float("max_norm", max_norm, low=0.0, low_open=True)
    method = check_choice("method", method, ("svd", "power"))
    n_iter = check_int("n_iter", n_iter, low=1)
    seed = check_seed("seed", seed)
    with torch.no_grad():
        if method == "svd":
            U, S, Vh = torch.linalg.svd(weight, full_matrices=False)
            if S[0] > max_norm:
                weight.copy_((U * S.clamp(max=max_norm)) @ Vh)
            return None
        rescale = linalg.rescale_factor(weight.detach().cpu().double().numpy(), max_norm, n_iter=n_iter,
                                        seed=seed, start=start)
        if rescale.factor < 1.0:
            weight.mul_(rescale.factor * (1.0 - _storage_rounding(weight)))
        return rescale.start


def _storage_rounding(weight: Any) -> float:
    """Relative change of ``||weight||_2`` that multiplying by a float scalar in its dtype can cause.

    Each entry is rounded once (relative ``u``) after the scalar itself is rounded (``u``), so the
    change is at most ``u ||W||_F + u ||W||_2 <= (1 + sqrt(min(n, m))) u ||W||_2``; one more ``u``
    covers second-order terms.
    """
    import torch

    u = torch.finfo(weight.dtype).eps / 2
    return (2.0 + math.sqrt(min(weight.shape))) * u


def _project_rows_l1_torch_(M: Any, radius: float) -> None:
    """In place: each row of ``M`` onto the l1 ball of ``radius`` (Duchi et al. sort algorithm)."""
    import torch

    A = M.abs()
    outside = A.sum(dim=1) > radius
    if not bool(outside.any()):
        return
    A_out = A[outside]
    u = torch.sort(A_out, dim=1, descending=True).values
    css = torch.cumsum(u, dim=1) - radius
    j = torch.arange(1, A_out.shape[1] + 1, dtype=M.dtype, device=M.device)
    count = (u - css / j > 0).sum(dim=1, keepdim=True).clamp(min=1)  # 0 only for radius 0
    theta = css.gather(1, count - 1) / count.to(M.dtype)
    M[outside] = torch.sign(M[outside]) * (A_out - theta).clamp(min=0.0)


def project_lstm_(weight_hh: Any, forget_bound: float, margin: float = 1e-3) -> None:
    """In place: project the rows of PyTorch's stacked ``weight_hh_l0`` so ``lstm_condition`` holds.

    ``weight_hh`` is (4n, n) with blocks in PyTorch's gate order i, f, g (= z), o, each stored
    out x in, so ``||W||_inf`` is a sum along each **row**. Every row of block ``W_g`` is
    projected onto the l1 ball of radius ``lstm_block_radii(forget_bound, margin)["W_g"]``
    (exact Euclidean projection; rows inside are unchanged). Then
    ``lstm_contraction_factor(lstm_block_norms(p), forget_bound) <= 1 - margin (1 - forget_bound)``.
    That the forget gate stays below ``forget_bound`` is the job of ``project_forget_gate_``, which
    must follow; only the two together certify the LSTM (``lstm_condition``).

    Parameters
    ----------
    weight_hh : torch.Tensor
        Shape (4n, n), modified in place (no autograd).
    forget_bound : float
        In [0, 1).
    margin : float
        In (0, 1].
    """
    import torch

    _check_tensor("weight_hh", weight_hh)
    if weight_hh.shape[0] != 4 * weight_hh.shape[1]:
        raise ValueError(f"weight_hh must have shape (4n, n), got {tuple(weight_hh.shape)}")
    radii = lstm_block_radii(forget_bound, margin)
    n = weight_hh.shape[1]
    with torch.no_grad():
        for block, key in enumerate(("W_i", "W_f", "W_z", "W_o")):
            _project_rows_l1_torch_(weight_hh[block * n : (block + 1) * n], radii[key])


FORGET_SLACK = 1e-4  # logit-space room below the bound, so float32 storage cannot cross it


def project_forget_gate_(weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any, forget_bound: float,
                         input_bound: float) -> None:
    """In place: lower forget-gate biases so that ``f_t <= forget_bound`` for every state and every
    input with ``||x_t||_inf <= input_bound`` (Chapter 4's certified LSTM).

    Row j of the forget gate reads ``W_f[j] h + U_f[j] x + b_j`` with ``|h| <= 1``, so
    ``f_j <= sigmoid(||W_f[j]||_1 + input_bound ||U_f[j]||_1 + b_j)`` (sigmoid is increasing). Where
    that argument exceeds ``logit(forget_bound)``, ``bias_ih``'s entry is lowered by the excess (plus
    ``FORGET_SLACK``); the weights are unchanged. Afterwards ``forget_gate_bound`` of the layer is at
    most ``forget_bound``. Tensors are PyTorch's, blocks in gate order i, f, g, o; ``bias_hh`` may be None.
    """
    import torch

    for name, t in (("weight_ih", weight_ih), ("weight_hh", weight_hh)):
        _check_tensor(name, t)
    _check_tensor("bias_ih", bias_ih, ndim=1)
    n = weight_hh.shape[1]
    if weight_hh.shape[0] != 4 * n or weight_ih.shape[0] != 4 * n or bias_ih.shape[0] != 4 * n:
        raise ValueError(f"weight_ih, weight_hh and bias_ih must have 4n = {4 * n} rows (gates i, f, g, o), got "
                         f"{tuple(weight_ih.shape)}, {tuple(weight_hh.shape)}, {tuple(bias_ih.shape)}")
    f = check_float("forget_bound", forget_bound, low=0.0, high=1.0, low_open=True, high_open=True)
    bound = check_float("input_bound", input_bound, low=0.0)
    rows = slice(n, 2 * n)  # the forget block
    with torch.no_grad():
        b = bias_ih[rows].double() + (0.0 if bias_hh is None else bias_hh[rows].double())
        reach = (weight_hh[rows].double().abs().sum(1) + bound * weight_ih[rows].double().abs().sum(1) + b)
        excess = (reach - (_logit(f) - FORGET_SLACK)).clamp(min=0.0)
        bias_ih[rows] -= excess.to(bias_ih.dtype)


def lstm_params_from_torch(lstm_module: Any, layer: int = 0) -> dict[str, np.ndarray]:
    """Parameters of one layer of a unidirectional ``torch.nn.LSTM`` in the ``dynamics`` format.

    Splits ``weight_hh_l{layer}`` / ``weight_ih_l{layer}`` into the blocks i, f, g (= z), o and adds
    the two biases ``b_ih + b_hh`` (zeros if the module has no bias).

    Parameters
    ----------
    lstm_module : torch.nn.LSTM
        With bidirectional = False, proj_size = 0.
    layer : int in [0, num_layers)

    Returns
    -------
    dict with the keys of ``dynamics.LSTM_KEYS`` (float64 arrays).
    """
    import torch

    if not isinstance(lstm_module, torch.nn.LSTM):
        raise TypeError(f"lstm_module must be a torch.nn.LSTM, got {type(lstm_module).__name__}")
    if lstm_module.bidirectional or lstm_module.proj_size != 0:
        raise ValueError(
            "lstm_module must have bidirectional=False, proj_size=0, got "
            f"bidirectional={lstm_module.bidirectional}, proj_size={lstm_module.proj_size}"
        )
    layer = check_int("layer", layer, low=0, high=lstm_module.num_layers - 1)
    n = lstm_module.hidden_size
    W = getattr(lstm_module, f"weight_hh_l{layer}").detach().cpu().double().numpy()
    U = getattr(lstm_module, f"weight_ih_l{layer}").detach().cpu().double().numpy()
    if lstm_module.bias:
        b = (getattr(lstm_module, f"bias_ih_l{layer}") + getattr(lstm_module, f"bias_hh_l{layer}"))
        b = b.detach().cpu().double().numpy()
    else:
        b = np.zeros(4 * n)
    params = {}
    for block, g in enumerate("ifzo"):
        rows = slice(block * n, (block + 1) * n)
        params[f"W_{g}"], params[f"U_{g}"], params[f"b_{g}"] = W[rows].copy(), U[rows].copy(), b[rows].copy()
    return params


def lyapunov_certificate(A: np.ndarray, target: float | None = None) -> tuple[float, float] | None:
    """Contraction factor of ``A`` in a Lyapunov norm, and the price of changing norms.

    For spectral radius ``rho < target <= 1``, ``B = A / target`` has spectral radius < 1, and ``P``
    solving ``B^T P B - P = -I`` is symmetric with ``P >= I``. In ``||v||_P = sqrt(v^T P v)``,
    ``||B v||_P^2 = ||v||_P^2 - ||v||^2 <= (1 - 1/p_max) ||v||_P^2``, so ``A`` is
    ``lam_P = target sqrt(1 - 1/p_max)``-contractive in that norm (``lam_P < target``), and back in
    l2 ``||A^k||_2 <= sqrt(cond(P)) lam_P^k``. A target closer to ``rho`` costs a larger condition number.

    Parameters
    ----------
    A : ndarray
        Shape (n, n).
    target : float or None
        In (0, 1]; None for ``(1 + rho) / 2``. Must exceed the spectral radius.

    Returns
    -------
    (lam_P, sqrt(cond(P))), or None when the spectral radius is >= 1.
    """
    A = check_array("A", A, square=True)
    rho = linalg.spectral_radius(A)
    if rho >= 1.0:
        return None
    target = 0.5 * (1.0 + rho) if target is None else check_float("target", target, low=0.0, high=1.0, low_open=True)
    if target <= rho:
        raise ValueError(f"target must exceed the spectral radius {rho:.6g}, got {target}")
    B = A / target
    P = solve_discrete_lyapunov(B.T, np.eye(A.shape[0]))
    p = np.linalg.eigvalsh(0.5 * (P + P.T))
    # 1 - 1/p_max = q / (1 + q) with q = p_max - 1, the largest eigenvalue of P - I = B^T P B: taken from
    # B^T P B itself, q survives when it is below the rounding of 1 (a tiny coupling would give lam_P = 0)
    Q = B.T @ P @ B
    q = max(float(np.linalg.eigvalsh(0.5 * (Q + Q.T))[-1]), 0.0)
    return float(target * np.sqrt(q / (1.0 + q))), float(np.sqrt(p[-1] / p[0]))


# -- random LSTMs with a prescribed certificate (Chapter 4) -------------------------------------------

def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def sample_stable_lstm(n: int, m: int, lam: float, input_bound: float = 1.0, seed: int | None = 0) -> dict:
    """Random LSTM parameters for which ``stability.lstm_condition`` certifies exactly ``lam``.

    The certified factor is ``f + ||W_z|| + (||W_i|| + ||W_o||)/4 + ||W_f||/(4(1 - f))`` with ``f``
    the forget-gate bound (norms induced l_inf). We draw ``f`` in ``(0.05 lam, 0.9 lam)``, split the
    rest ``lam - f`` at random over the four weight terms, give each block a random direction with
    that l_inf norm, and choose the forget-gate biases so that ``forget_gate_bound`` equals ``f``.

    Parameters
    ----------
    n : int
        >= 1, hidden size.
    m : int
        >= 1, input size.
    lam : float
        In (0, 1), the factor to certify.
    input_bound : float
        > 0, the bound on ``||x_t||_inf`` that the forget-gate bound assumes.
    seed : int or None
        >= 0 or None.

    Returns
    -------
    dict with the keys of ``dynamics.LSTM_KEYS``.
    """
    n, m = check_int("n", n, low=1), check_int("m", m, low=1)
    lam = check_float("lam", lam, low=0.0, high=1.0, low_open=True, high_open=True)
    input_bound = check_float("input_bound", input_bound, low=0.0, low_open=True)
    rng = np.random.default_rng(check_seed("seed", seed))
    p = random_lstm_params(n, m, scale=1.0, seed=int(rng.integers(2**31)))
    f = rng.uniform(0.05, 0.9) * lam
    share = rng.dirichlet(np.ones(4)) * (lam - f)  # terms of z, i, o, f
    radius = {"W_z": share[0], "W_i": 4.0 * share[1], "W_o": 4.0 * share[2], "W_f": 4.0 * (1.0 - f) * share[3]}
    for key, r in radius.items():
        p[key] = p[key] * (r / max(linalg.inf_norm(p[key]), 1e-300))
    # sigmoid(|W_f| row sum + |U_f| row sum * B_x + b_f) <= f on every row, with equality on one
    slack = rng.uniform(0.0, 2.0, n)
    slack[rng.integers(n)] = 0.0
    p["b_f"] = _logit(f) - np.abs(p["W_f"]).sum(1) - np.abs(p["U_f"]).sum(1) * input_bound - slack
    return p


# -- the training-equivalence theorem's recursion (Chapter 6) -----------------------------------------

SCHEDULES = ("decaying", "constant")  # alpha_i = alpha / i, or alpha_i = alpha

def step_size(schedule: str, alpha: float, i: int) -> float:
    """Step size of gradient step ``i`` (1-based): ``alpha / i`` or ``alpha``.
    """
    schedule = check_choice("schedule", schedule, SCHEDULES)
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    i = check_int("i", i, low=1)
    return alpha / i if schedule == "decaying" else alpha


def bound_product(schedule: str, alpha: float, beta: float, steps: int) -> float:
    """``log prod_{i=1}^N (1 + alpha_i beta)`` for the schedule (a log, to survive large N).

    Parameters
    ----------
    schedule : "decaying" (alpha_i = alpha / i) or "constant" (alpha_i = alpha)
    alpha, beta : float > 0 (step-size constant, smoothness of the loss)
    steps : int >= 1, N
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
