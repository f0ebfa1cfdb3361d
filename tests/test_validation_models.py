"""Bad arguments to models and train raise TypeError/ValueError whose message starts with the argument."""

import math

import numpy as np
import pytest
import torch

from stablernn.models import (
    TCN,
    CausalConv1d,
    DilatedConvStack,
    LSTMModel,
    TanhRNN,
    count_parameters,
    receptive_field,
    tcn_receptive_field,
    truncated_forward,
)
from stablernn.train import evaluate, tbptt_chunks, train

torch.set_num_threads(1)


def _data(n=4, steps=6, inputs=2, outputs=1):
    return torch.randn(n, steps, inputs), torch.randn(n, steps, outputs)


@pytest.mark.parametrize(
    ("build", "error", "name"),
    [
        (lambda: TanhRNN(2, -3, 1), ValueError, "hidden_size"),
        (lambda: TanhRNN(0, 3, 1), ValueError, "input_size"),
        (lambda: TanhRNN(2, 3, 1.5), TypeError, "output_size"),
        (lambda: TanhRNN(2, 3, 1, max_norm=1.5), ValueError, "max_norm"),
        (lambda: TanhRNN(2, 3, 1, projection="qr"), ValueError, "projection"),
        (lambda: TanhRNN(2, 3, 1, dropout=1.0), ValueError, "dropout"),
        (lambda: LSTMModel(2, 3, 1, forget_bound=1.0), ValueError, "forget_bound"),
        (lambda: LSTMModel(2, 3, 1, vocab_size=0), ValueError, "vocab_size"),
        (lambda: LSTMModel(2, 3, 1, stable="yes"), ValueError, "stable"),
        (lambda: CausalConv1d(2, 2, kernel_size=0), ValueError, "kernel_size"),
        (lambda: CausalConv1d(2, 2, 2, dilation=-1), ValueError, "dilation"),
        (lambda: DilatedConvStack(2, [2, 2], [1]), ValueError, "kernel_sizes and dilations"),
        (lambda: TCN(2, 1, channels=0), ValueError, "channels"),
        (lambda: TCN(2, 1, levels=0), ValueError, "levels"),
        (lambda: receptive_field([2, 0], [1, 2]), ValueError, r"kernel_sizes\[1\]"),
        (lambda: receptive_field("22", [1, 2]), TypeError, "kernel_sizes"),
        (lambda: tcn_receptive_field(2, -1), ValueError, "levels"),
        (lambda: count_parameters("model"), TypeError, "model"),
    ],
)
def test_bad_model_arguments(build, error, name):
    with pytest.raises(error, match="^" + name):
        build()


@pytest.mark.parametrize(
    ("x", "k", "error", "name"),
    [
        (torch.randn(2, 5, 3), 0, ValueError, "k must"),
        (torch.randn(2, 5, 3), 2.0, TypeError, "k must"),
        (torch.randn(2, 5), 2, ValueError, "x must"),  # missing feature axis
        (torch.randn(2, 5, 4), 2, ValueError, "x must"),  # wrong number of features
        (np.zeros((2, 5, 3)), 2, TypeError, "x must"),
        (torch.randn(2, 0, 3), 2, ValueError, "x must"),
    ],
)
def test_bad_truncated_forward_arguments(x, k, error, name):
    with pytest.raises(error, match="^" + name):
        truncated_forward(TanhRNN(3, 4, 1), x, k)


def test_truncated_forward_needs_a_recurrent_model():
    with pytest.raises(TypeError, match="^model"):
        truncated_forward(TCN(3, 1), torch.randn(1, 5, 3), 2)


def test_token_model_rejects_float_inputs():
    with pytest.raises(ValueError, match="^x must"):
        LSTMModel(3, 4, 5, vocab_size=5)(torch.randn(2, 5, 3))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"mode": "bptt"}, ValueError, "mode"),
        ({"loss": "l1"}, ValueError, "loss"),
        ({"mode": "tbptt"}, ValueError, "k must"),  # k missing
        ({"mode": "truncated", "k": 0}, ValueError, "k must"),
        ({"mode": "full", "k": 3}, ValueError, "k must"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"lr": -1e-3}, ValueError, "lr"),
        ({"lr": math.nan}, ValueError, "lr"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"clip": 0.0}, ValueError, "clip"),
        ({"seed": -1}, ValueError, "seed"),
        ({"patience": 2}, ValueError, "patience"),  # without valid_data
        ({"callback": 3}, TypeError, "callback"),
        ({"device": "abacus"}, ValueError, "device"),
        ({"mode": "tbptt", "k": 2, "chunk": 3}, ValueError, "chunk"),
        ({"project": "always"}, ValueError, "project"),
    ],
)
def test_bad_train_arguments(kwargs, error, name):
    with pytest.raises(error, match="^" + name):
        train(TanhRNN(2, 3, 1), _data(), progress=False, **kwargs)


def _with_nan():
    x, y = _data()
    x[1, 2, 0] = math.nan
    return x, y


@pytest.mark.parametrize(
    ("data", "loss", "error", "name"),
    [
        (_with_nan(), "mse", ValueError, "train_data X"),
        ((torch.randn(4, 6, 2), torch.randn(4, 5, 1)), "mse", ValueError, "train_data Y"),  # T mismatch
        ((torch.randn(4, 6, 2), torch.randn(3, 6, 1)), "mse", ValueError, "train_data Y"),  # N mismatch
        ((torch.randn(4, 6, 2), torch.randn(4, 6, 2)), "mse", ValueError, "train_data Y"),  # outputs
        ((torch.randn(4, 6, 3), torch.randn(4, 6, 1)), "mse", ValueError, "train_data X"),  # inputs
        ((torch.randn(4, 6), torch.randn(4, 6, 1)), "mse", ValueError, "train_data X"),
        ((torch.randn(4, 6, 2), 2 * torch.ones(4, 6, 1)), "bce", ValueError, "train_data Y"),
        ((torch.randn(4, 6, 2), torch.zeros(4, 6, dtype=torch.long) + 1), "ce", ValueError, "train_data Y"),
        ((*_data(), torch.zeros(4, 6)), "mse", ValueError, "train_data mask"),  # nothing counted
        ((*_data(), torch.ones(4, 5)), "mse", ValueError, "train_data mask"),
        ((torch.randn(4, 6, 2),), "mse", TypeError, "train_data"),
        ([[0.0]], "mse", TypeError, "train_data"),
    ],
)
def test_bad_training_data(data, loss, error, name):
    with pytest.raises(error, match="^" + name):
        train(TanhRNN(2, 3, 1), data, loss=loss, progress=False)


def test_bad_token_data():
    model = LSTMModel(3, 4, 5, vocab_size=5)
    ids = torch.randint(0, 5, (2, 7))
    with pytest.raises(ValueError, match="^train_data X"):
        train(model, (ids + 5, ids), loss="ce", progress=False)  # ids outside the vocabulary
    with pytest.raises(ValueError, match="^train_data X"):
        train(model, (ids.float(), ids), loss="ce", progress=False)


def test_bad_validation_data_and_evaluate_arguments():
    model = TanhRNN(2, 3, 1)
    with pytest.raises(ValueError, match="^valid_data Y"):
        train(model, _data(), (torch.randn(2, 6, 2), torch.randn(2, 6, 4)), progress=False)
    with pytest.raises(ValueError, match="^k must"):
        evaluate(model, _data(), "mse", k=0)
    with pytest.raises(ValueError, match="^chunk"):
        evaluate(model, _data(), "mse", chunk=0)
    with pytest.raises(ValueError, match="^loss"):
        evaluate(model, _data(), "nll")
    with pytest.raises(ValueError, match="^k must"):
        next(tbptt_chunks(model, torch.randn(1, 5, 2), 0))


def test_projection_needs_a_recurrent_model():
    x, y = _data()
    with pytest.raises(ValueError, match="^project"):
        train(TCN(2, 1, channels=4, levels=1), (x, y), project=True, progress=False)
    with pytest.raises(ValueError, match="^mode"):
        train(TCN(2, 1, channels=4, levels=1), (x, y), mode="tbptt", k=2, progress=False)
