"""Chapter 4, §4.5: a briefly trained tanh RNN, projected once after training and by projected
gradient descent (the chapter's own seeded calls; about ten seconds on one thread)."""

import numpy as np
import pytest
import torch

from stablernn import linalg, stability, train
from stablernn.lessons import part2a


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    model, _, valid = part2a.train_toy_rnn(project=False)
    pgd, _, _ = part2a.train_toy_rnn(project=True)
    return model, pgd, valid


def test_unconstrained_training_leaves_the_stable_set(trained):
    model, _, valid = trained
    W = model.rnn.weight_hh_l0.detach().double().numpy()
    assert linalg.spectral_norm(W) > 1.0 > linalg.spectral_radius(W)  # not contractive, eigenvalues inside
    assert np.sum(np.linalg.svd(W, compute_uv=False) > 0.999) >= 1
    assert train.evaluate(model, valid, "mse") < 0.05  # learned: predicting 0 scores 1


def test_projection_after_training_hurts_and_projected_training_does_not(trained):
    model, pgd, valid = trained
    loss_before = train.evaluate(model, valid, "mse")
    stability.project_rnn_(model.rnn.weight_hh_l0.data, max_norm=0.999)
    assert linalg.spectral_norm(model.rnn.weight_hh_l0.detach().numpy()) <= 0.999 + 1e-6
    loss_after = train.evaluate(model, valid, "mse")
    loss_pgd = train.evaluate(pgd, valid, "mse")
    assert loss_after > 10 * loss_before
    assert loss_pgd < loss_after / 10
    assert linalg.spectral_norm(pgd.rnn.weight_hh_l0.detach().numpy()) <= 0.999 + 1e-6
