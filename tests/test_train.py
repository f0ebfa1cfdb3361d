"""Tests of stablernn.train: truncated BPTT, projected training, early stopping, determinism, truncated
evaluation, and the messages of bad arguments."""

import math

import pytest
import torch

from stablernn import linalg, stability
from stablernn.models import TCN, LSTMModel, TanhRNN, build_model
from stablernn.train import evaluate, one_thread, tbptt_chunks, train


def _running_sum_task(n=48, steps=20, seed=0):
    """Targets: a leaky running sum of the first input feature (needs memory of several steps)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, steps, 2, generator=gen)
    y = torch.zeros(n, steps, 1)
    acc = torch.zeros(n)
    for t in range(steps):
        acc = 0.7 * acc + 0.3 * x[:, t, 0]
        y[:, t, 0] = acc
    return x, y


def test_tbptt_gradient_vanishes_exactly_beyond_the_window():
    """Loss at step t of a window reaches inputs t-k+1..t (same window) and nothing earlier."""
    torch.manual_seed(0)
    model = TanhRNN(2, 6, 1)
    k, steps = 5, 23
    x = torch.randn(1, steps, 2, requires_grad=True)
    chunks = list(tbptt_chunks(model, x, k))
    assert [(a, b) for a, b, _ in chunks] == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 23)]
    start, stop, y = chunks[3]
    t = stop - 1  # last step of its window: k inputs are within reach
    (grad,) = torch.autograd.grad(y[0, -1].sum(), x)
    per_step = grad[0].abs().sum(dim=1)
    assert torch.all(per_step[: t - k + 1] == 0)  # more than k-1 steps back: exactly zero
    assert torch.all(per_step[t - k + 1 : t + 1] > 0)  # within the window: nonzero
    assert torch.all(per_step[t + 1 :] == 0)  # causality


def test_tbptt_forward_still_sees_the_whole_history():
    torch.manual_seed(1)
    model = LSTMModel(2, 5, 3)
    x = torch.randn(3, 17, 2)
    with torch.no_grad():
        pieces = torch.cat([y for _, _, y in tbptt_chunks(model, x, 4)], dim=1)
        torch.testing.assert_close(pieces, model(x)[0])


def test_training_reduces_the_loss():
    torch.manual_seed(0)
    x, y = _running_sum_task()
    model = TanhRNN(2, 12, 1)
    before = evaluate(model, (x, y), "mse")
    result = train(model, (x, y), epochs=15, lr=1e-2, batch_size=16, progress=False)
    after = evaluate(model, (x, y), "mse")
    assert after < 0.3 * before
    assert result.steps == 15 * 3 and len(result.train_loss) == 15


@pytest.mark.parametrize(("mode", "k"), [("tbptt", 4), ("truncated", 6)])
def test_training_reduces_the_loss_in_truncated_modes(mode, k):
    torch.manual_seed(0)
    x, y = _running_sum_task()
    model = LSTMModel(2, 8, 1)
    before = evaluate(model, (x, y), "mse")
    train(model, (x, y), mode=mode, k=k, epochs=8, lr=2e-2, batch_size=16, progress=False)
    assert evaluate(model, (x, y), "mse") < 0.5 * before


def test_truncated_mode_with_k_covering_the_sequence_is_full_bptt():
    x, y = _running_sum_task(n=16, steps=10)
    results = []
    for mode, k in [("full", None), ("truncated", 10)]:
        torch.manual_seed(3)
        model = TanhRNN(2, 5, 1)
        results.append(train(model, (x, y), mode=mode, k=k, epochs=3, batch_size=8, progress=False).train_loss)
    assert results[0] == pytest.approx(results[1], rel=1e-6)


def test_projected_training_keeps_the_spectral_norm_below_the_bound():
    torch.manual_seed(0)
    x, y = _running_sum_task()
    model = TanhRNN(2, 10, 1, max_norm=0.9)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(5.0)  # start far outside the stable set
    train(model, (x, y), epochs=3, lr=5e-2, batch_size=16, project=True, progress=False)
    W = model.rnn.weight_hh_l0.detach().double().numpy()
    assert linalg.spectral_norm(W) <= 0.9 + 1e-6
    assert stability.rnn_condition(W).holds


def test_without_projection_the_spectral_norm_is_not_bounded():
    # the projection test above must be able to fail
    torch.manual_seed(0)
    x, y = _running_sum_task()
    model = TanhRNN(2, 10, 1, max_norm=0.9)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(5.0)
    train(model, (x, y), epochs=1, lr=1e-3, batch_size=16, progress=False)
    assert linalg.spectral_norm(model.rnn.weight_hh_l0.detach().double().numpy()) > 1.0


def test_stable_lstm_satisfies_the_stability_condition_after_training():
    torch.manual_seed(0)
    x, y = _running_sum_task()
    bound = float(x.abs().max())  # the certificate covers inputs up to the data's largest
    model = LSTMModel(2, 8, 1, stable=True, forget_bound=0.6, input_bound=bound)
    train(model, (x, y), epochs=3, lr=5e-2, batch_size=16, progress=False)  # model.stable: projects
    report = stability.lstm_condition(stability.lstm_params_from_torch(model.rnn), input_bound=bound)
    assert report.holds and report.contraction < 1.0  # from the weights: no assumed forget-gate bound
    assert model.certificate().contraction == report.contraction


def test_early_stopping_restores_the_best_weights():
    x, y = _running_sum_task(n=8)
    y = y + 0.3 * torch.randn(y.shape, generator=torch.Generator().manual_seed(0))  # noisy, tiny: overfits
    xv, yv = _running_sum_task(n=32, seed=1)
    torch.manual_seed(0)
    model = TanhRNN(2, 16, 1)
    result = train(model, (x, y), (xv, yv), epochs=40, lr=0.05, batch_size=8, patience=3, progress=False)
    best = min(result.valid_loss)
    assert result.stopped == "early_stopping"
    assert result.best_epoch == result.valid_loss.index(best) + 1
    assert len(result.valid_loss) == result.best_epoch + 3  # stopped after `patience` epochs without progress
    assert evaluate(model, (xv, yv), "mse") == pytest.approx(best, rel=1e-6)
    assert result.valid_loss[-1] > best * 1.1  # the last weights were worse: restoring mattered


def test_two_runs_with_the_same_seed_are_identical():
    x, y = _running_sum_task()
    runs = []
    for seed in (5, 5, 6):
        torch.manual_seed(0)
        model = LSTMModel(2, 6, 1, dropout=0.2)
        runs.append(train(model, (x, y), epochs=3, batch_size=16, seed=seed, progress=False).train_loss)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]  # the seed matters (shuffling and dropout)


def test_masked_steps_do_not_count():
    x, y = _running_sum_task(n=8, steps=12)
    mask = torch.ones(8, 12)
    mask[:, 7:] = 0  # padding at the end
    y_other = y.clone()
    y_other[:, 7:] = 100.0
    torch.manual_seed(0)
    model = TanhRNN(2, 4, 1)
    assert evaluate(model, (x, y, mask), "mse") == pytest.approx(evaluate(model, (x, y_other, mask), "mse"))
    assert evaluate(model, (x, y_other), "mse") > 10.0


@pytest.mark.parametrize("k", [None, 3])
def test_evaluating_in_chunks_gives_the_same_loss(k):
    torch.manual_seed(0)
    model = LSTMModel(4, 6, 7, vocab_size=7)
    stream = torch.randint(0, 7, (3, 41))
    data = (stream[:, :-1], stream[:, 1:])
    whole = evaluate(model, data, "ce", k=k)
    assert evaluate(model, data, "ce", k=k, chunk=7) == pytest.approx(whole, rel=1e-5)
    assert 1.0 < math.exp(whole) < 14.0  # perplexity near the vocabulary size for an untrained model


def test_tcn_trains_and_evaluates_in_chunks():
    torch.manual_seed(0)
    x, y = _running_sum_task(n=16, steps=30)
    model = TCN(2, 1, channels=6, levels=2, kernel_size=2)
    result = train(model, (x, y), epochs=2, lr=1e-2, batch_size=8, chunk=10, progress=False)
    assert result.steps == 2 * 2 * 3
    assert evaluate(model, (x, y), "mse", chunk=7) == pytest.approx(evaluate(model, (x, y), "mse"), rel=1e-5)


def test_callback_returning_false_stops_training():
    x, y = _running_sum_task(n=8)
    seen = []

    def stop_after_two(info):
        seen.append(info["epoch"])
        return info["epoch"] < 2

    result = train(TanhRNN(2, 3, 1), (x, y), epochs=10, callback=stop_after_two, progress=False)
    assert seen == [1, 2] and result.stopped == "callback" and len(result.train_loss) == 2


def test_bce_loss_sums_over_keys():
    torch.manual_seed(0)
    model = TanhRNN(3, 4, 5)
    with torch.no_grad():
        model.readout.weight.zero_()
        model.readout.bias.zero_()  # every key predicted with probability 1/2
    x = torch.randn(2, 6, 3)
    y = torch.randint(0, 2, (2, 6, 5)).float()
    assert evaluate(model, (x, y), "bce") == pytest.approx(5 * math.log(2), rel=1e-6)


def test_word_lm_style_tbptt_learns_a_repeating_stream():
    """A token stream batched into contiguous rows, trained with tbptt, learns next-token prediction."""
    torch.manual_seed(0)
    stream = (torch.arange(4 * 61) % 5).reshape(4, 61)  # 0 1 2 3 4 0 1 ... in every row
    data = (stream[:, :-1], stream[:, 1:])
    model = LSTMModel(8, 16, 5, vocab_size=5)
    before = evaluate(model, data, "ce")
    result = train(model, data, data, mode="tbptt", k=10, loss="ce", epochs=6, lr=3e-2, batch_size=4, progress=False)
    assert result.steps == 6 * 6  # one optimiser step per window of k tokens
    assert result.valid_loss[-1] < 0.2 * before


def test_truncated_evaluation_converges_to_full_context_for_a_stable_model():
    """A stable tanh RNN: the loss of the k-truncated model approaches the full one as k grows."""
    model = build_model("tanh-stable", 3, 8, 2, seed=6, max_norm=0.6)
    g = torch.Generator().manual_seed(7)
    data = (torch.randn(6, 30, 3, generator=g), torch.randn(6, 30, 2, generator=g))
    full = evaluate(model, data, "mse")
    gaps = [abs(evaluate(model, data, "mse", k=k) - full) for k in (1, 2, 4, 8, 16)]
    assert gaps[-1] < 1e-4 * full and gaps[-1] < gaps[0]
    assert evaluate(model, data, "mse", k=30) == pytest.approx(full, rel=1e-6)


# ----------------------------------------------------------------------------- bad arguments


def _data(n=4, steps=6, inputs=2, outputs=1):
    return torch.randn(n, steps, inputs), torch.randn(n, steps, outputs)


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


def _forget_gates(model, x):
    """Every forget gate of a one-layer LSTMModel along its trajectories on x (N, T, m)."""
    from stablernn.experiments.datastability import unroll

    n = model.hidden_size
    with torch.no_grad():
        states = torch.stack(unroll(model, x), dim=1)
        prev = torch.cat([states.new_zeros(states.shape[0], 1, 2 * n), states[:, :-1]], dim=1)
        rnn = model.rnn
        pre = x @ rnn.weight_ih_l0.T + prev[..., n:] @ rnn.weight_hh_l0.T + rnn.bias_ih_l0 + rnn.bias_hh_l0
        return torch.sigmoid(pre[..., n:2 * n])


@pytest.fixture(scope="module")
def briefly_trained_lstms():
    """The quick music configuration's LSTMs, unconstrained and certified stable, on real chorales."""
    from stablernn.experiments import music

    torch.set_num_threads(1)
    splits = music.load_splits(quick=True, progress=False)
    data = {s: music.tensors(splits[s]) for s in ("train", "valid", "test")}
    out = {}
    for name in ("lstm", "lstm-stable"):
        model = build_model(name, 88, 16, 88, seed=0)
        train(model, data["train"], data["valid"], loss="bce", epochs=4, lr=2e-2, batch_size=4, clip=1.0,
              progress=False)
        out[name] = model.eval()
    return out, data["test"]


def test_a_trained_stable_lstm_is_certified_and_contracts_along_test_data(briefly_trained_lstms):
    """Its forget gates never exceed the enforced bound on test data, and no measured one-step l_inf
    Jacobian exceeds the lambda certified from the weights."""
    from stablernn import diagnose

    models, (X, Y, mask) = briefly_trained_lstms
    model = models["lstm-stable"]
    cert = model.certificate()
    assert cert.holds and cert.contraction < 1
    gates = _forget_gates(model, X)[mask.bool()]
    assert float(gates.max()) <= model.forget_bound
    d = diagnose(model, (X, Y, mask), progress=False, lags=4, samples=300, ks=[1, 2])
    assert d.certificate["holds"] and d.certificate["lam"] == pytest.approx(cert.contraction, rel=1e-9)
    assert d.contraction["linf"]["max"] <= cert.contraction


def test_the_unconstrained_lstm_is_not_certified(briefly_trained_lstms):
    models, (X, _, mask) = briefly_trained_lstms
    model = models["lstm"]
    assert not model.certificate().holds
    assert float(_forget_gates(model, X)[mask.bool()].max()) > 0.5  # its gates open past the stable one's bound


def test_one_thread_runs_the_block_on_one_thread_and_restores_the_count_even_after_an_error():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError, match="inside"):
            with one_thread():
                assert torch.get_num_threads() == 1
                raise RuntimeError("inside")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
