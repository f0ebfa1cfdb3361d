"""Bad inputs to linalg, dynamics and stability raise TypeError/ValueError naming the argument."""

import numpy as np
import pytest
import torch

from stablernn import dynamics, linalg, stability

I2 = np.eye(2)
NAN = np.array([[1.0, np.nan], [0.0, 1.0]])
X = np.zeros((1, 3, 2))
P = dynamics.random_lstm_params(2, 2, seed=0)

CASES = [
    # linalg
    ("radius < 0", lambda: linalg.matrix_with_spectrum(3, -0.5), ValueError, "radius"),
    ("NaN radius", lambda: linalg.matrix_with_spectrum(3, float("nan")), ValueError, "radius"),
    ("negative nonnormality", lambda: linalg.matrix_with_spectrum(3, 0.5, -1.0), ValueError, "nonnormality"),
    ("unknown kind", lambda: linalg.matrix_with_spectrum(3, 0.5, kind="schur"), ValueError, "kind"),
    ("rotation n = 1", lambda: linalg.matrix_with_spectrum(1, 0.5, kind="rotation"), ValueError, "n must"),
    ("n as string", lambda: linalg.matrix_with_spectrum("3", 0.5), TypeError, "n must"),
    ("negative seed", lambda: linalg.matrix_with_spectrum(3, 0.5, seed=-1), ValueError, "seed"),
    ("norm < radius", lambda: linalg.matrix_with_norm(3, 0.9, 0.5), ValueError, "norm"),
    ("NaN matrix", lambda: linalg.spectral_norm(NAN), ValueError, "W must contain only finite"),
    ("non-square radius", lambda: linalg.spectral_radius(np.ones((2, 3))), ValueError, "W must be a square"),
    ("1-D matrix", lambda: linalg.spectral_norm(np.ones(3)), ValueError, "W must have 2 dimensions"),
    ("string matrix", lambda: linalg.inf_norm("abc"), TypeError, "W must be an array"),
    ("n_iter = 0", lambda: linalg.power_iteration_norm(I2, n_iter=0), ValueError, "n_iter"),
    ("negative tol", lambda: linalg.power_iteration_norm(I2, tol=-1.0), ValueError, "tol"),
    ("k_max < 0", lambda: linalg.power_norms(I2, -1), ValueError, "k_max"),
    ("both targets", lambda: linalg.random_matrix(3, spectral_norm=1.0, spectral_radius=1.0), ValueError,
     "spectral_norm and spectral_radius"),
    ("no target", lambda: linalg.random_matrix(3), ValueError, "spectral_norm and spectral_radius"),
    ("rectangular radius", lambda: linalg.random_matrix(3, spectral_radius=1.0, m=4), ValueError, "spectral_radius"),
    ("negative max_norm", lambda: linalg.project_spectral_norm(I2, -1.0), ValueError, "max_norm"),
    ("string max_norm", lambda: linalg.rescale_spectral_norm(I2, "1"), TypeError, "max_norm"),
    ("negative l1 radius", lambda: linalg.project_rows_l1(I2, -0.1), ValueError, "radius"),
    ("wrong number of radii", lambda: linalg.project_rows_l1(I2, [1.0, 1.0, 1.0]), ValueError, "radius"),
    ("one negative radius", lambda: linalg.project_rows_l1(I2, [1.0, -1.0]), ValueError, "radius"),
    ("string l1 radius", lambda: linalg.project_rows_l1(I2, "1"), TypeError, "radius"),
    # dynamics
    ("k = 0 truncation", lambda: dynamics.truncated_rnn_states(I2, I2, X, 0), ValueError, "k must"),
    ("k float", lambda: dynamics.truncation_error(I2, I2, X, 2.5), TypeError, "k must"),
    ("k = 0 bound", lambda: dynamics.truncation_bound(0.5, 0, 1.0), ValueError, "k must"),
    ("k array with 0", lambda: dynamics.truncation_bound(0.5, np.array([0, 1]), 1.0), ValueError, "k must"),
    ("k float array", lambda: dynamics.truncation_bound(0.5, np.array([1.5]), 1.0), TypeError, "k must"),
    ("lam = 1 bound", lambda: dynamics.truncation_bound(1.0, 3, 1.0), ValueError, "lam"),
    ("lam > 1 context", lambda: dynamics.min_context(1.2, 1.0, 0.1), ValueError, "lam"),
    ("lam = 0", lambda: dynamics.state_bound(0.0, 1.0), ValueError, "lam"),
    ("eps = 0", lambda: dynamics.min_context(0.9, 1.0, 0.0), ValueError, "eps"),
    ("eps < 0", lambda: dynamics.min_context(0.9, 1.0, -1e-3), ValueError, "eps"),
    ("negative lx_bx", lambda: dynamics.truncation_bound(0.5, 2, -1.0), ValueError, "lx_bx"),
    ("x wrong ndim", lambda: dynamics.rnn_trajectory(I2, I2, np.zeros(3)), ValueError, "x must have 2 or 3"),
    ("x wrong width", lambda: dynamics.rnn_trajectory(I2, I2, np.zeros((3, 5))), ValueError, "x must have 2"),
    ("U wrong rows", lambda: dynamics.rnn_trajectory(I2, np.ones((3, 2)), X), ValueError, "U must"),
    ("h0 wrong size", lambda: dynamics.rnn_trajectory(I2, I2, X, h0=np.zeros(3)), ValueError, "h0"),
    ("NaN inputs", lambda: dynamics.linear_trajectory(I2, np.full((3, 2), np.nan)), ValueError, "x must"),
    ("bad jacobian kind", lambda: dynamics.jacobian_norms_vs_lag(I2, np.zeros((3, 2)), kind="lstm"), ValueError,
     "kind"),
    ("states too short", lambda: dynamics.contraction_factors(I2, np.zeros((1, 2))), ValueError, "states"),
    ("distance shapes", lambda: dynamics.trajectory_distance(np.zeros((3, 2)), np.zeros((4, 2))), ValueError,
     "states_b"),
    ("params not dict", lambda: dynamics.lstm_trajectory([1, 2], X), TypeError, "params"),
    ("params missing key", lambda: dynamics.lstm_trajectory({"W_i": I2}, X), ValueError, "params"),
    ("scale < 0", lambda: dynamics.random_lstm_params(2, 2, scale=-1.0), ValueError, "scale"),
    # stability
    ("lipschitz = 0", lambda: stability.rnn_condition(I2, lipschitz=0.0), ValueError, "lipschitz"),
    ("non-square A", lambda: stability.linear_condition(np.ones((2, 3))), ValueError, "A must be a square"),
    ("forget_bound > 1", lambda: stability.lstm_condition(P, forget_bound=1.5), ValueError, "forget_bound"),
    ("forget_bound = 1 radii", lambda: stability.lstm_block_radii(1.0), ValueError, "forget_bound"),
    ("margin = 0", lambda: stability.lstm_block_radii(0.5, margin=0.0), ValueError, "margin"),
    ("negative input_bound", lambda: stability.forget_gate_bound(P, -1.0), ValueError, "input_bound"),
    ("numpy weight", lambda: stability.project_rnn_(np.eye(2)), TypeError, "weight must be a torch.Tensor"),
    ("bad method", lambda: stability.project_rnn_(torch.eye(2), method="qr"), ValueError, "method"),
    ("max_norm = 0", lambda: stability.project_rnn_(torch.eye(2), max_norm=0.0), ValueError, "max_norm"),
    ("weight_hh not 4n x n", lambda: stability.project_lstm_(torch.eye(4), 0.5), ValueError, "weight_hh"),
    ("not an LSTM", lambda: stability.lstm_params_from_torch(torch.nn.GRU(2, 2)), TypeError, "lstm_module"),
    ("two layers", lambda: stability.lstm_params_from_torch(torch.nn.LSTM(2, 2, num_layers=2)), ValueError,
     "lstm_module"),
]


@pytest.mark.parametrize("name, call, error, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_with_a_message_naming_the_argument(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_there_are_at_least_twenty_cases():
    assert len(CASES) >= 20
