"""The experiments of Chapters 2 and 3 on small seeded instances: what the chapters claim from them."""

import pytest
import torch

from stablernn.lessons import part1_bptt, part1_feedforward

torch.set_num_threads(1)


def test_truncated_bptt_learns_a_lag_only_when_the_window_is_longer():
    """Chapter 2: with k > L the lag is learned (loss < 10% of chance), with k = L it is not."""
    learned = part1_bptt.recall_loss(4, 3, seed=0)
    not_learned = part1_bptt.recall_loss(3, 3, seed=0)
    assert learned < part1_bptt.LEARNED_FRACTION * part1_bptt.RECALL_CHANCE
    assert not_learned > 0.5 * part1_bptt.RECALL_CHANCE


def test_tcn_rnn_and_lstm_all_solve_delayed_recall():
    """Chapter 3: on lag-4 recall every model ends far below the chance level 1."""
    cmp = part1_feedforward.compare_models(lag=4, long_T=16, progress=False)
    for name in part1_feedforward.MODEL_NAMES:
        assert cmp.test_loss[name] < 0.1 * cmp.chance
        assert cmp.step_ms[name] > 0 and cmp.long_step_ms[name] > 0
    assert cmp.threads == 1


def test_step_seconds_and_make_model_validate():
    with pytest.raises(ValueError, match="name"):
        part1_feedforward.make_model("GRU", 8)
    model = part1_feedforward.make_model("RNN", 4)
    x = torch.randn(2, 5, 1)
    with pytest.raises(ValueError, match="repeats"):
        part1_feedforward.step_seconds(model, x, x, repeats=0)
