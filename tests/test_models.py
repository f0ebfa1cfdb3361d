"""Tests of stablernn.models: the k-truncated model, receptive fields and dilation schedules, gradients,
parameter counts, the model labels and constructors of Chapter 3 and Part III, and bad arguments."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import functional_call

from reference import WAVENET_RECEPTIVE_FIELD
from stablernn import models
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


def _sequential_truncated(model, x, k):
    """Reference: rerun the model from a zero state over the last k inputs, one output at a time."""
    outs = [model(x[:, max(0, t - k + 1) : t + 1])[0][:, -1] for t in range(x.shape[1])]
    return torch.stack(outs, dim=1)


@pytest.mark.parametrize("cls", [TanhRNN, LSTMModel])
@pytest.mark.parametrize("k", [1, 2, 5, 11])
def test_truncated_forward_equals_sequential_evaluation(cls, k):
    torch.manual_seed(k)
    model = cls(3, 8, 2, num_layers=2 if k == 5 else 1)
    x = torch.randn(2, 17, 3)
    with torch.no_grad():
        parallel = truncated_forward(model, x, k)
        reference = _sequential_truncated(model, x, k)
    assert parallel.shape == (2, 17, 2)
    torch.testing.assert_close(parallel, reference, atol=1e-5, rtol=0)


def test_truncated_forward_with_token_inputs_equals_sequential_evaluation():
    torch.manual_seed(0)
    model = LSTMModel(4, 6, 9, vocab_size=9)
    ids = torch.randint(0, 9, (3, 15))
    with torch.no_grad():
        torch.testing.assert_close(truncated_forward(model, ids, 4), _sequential_truncated(model, ids, 4), atol=1e-5, rtol=0)


@pytest.mark.parametrize("cls", [TanhRNN, LSTMModel])
@pytest.mark.parametrize("k", [12, 13, 50])
def test_truncated_forward_is_the_full_model_when_k_covers_the_sequence(cls, k):
    torch.manual_seed(1)
    model = cls(2, 5, 3)
    x = torch.randn(4, 12, 2)
    with torch.no_grad():
        torch.testing.assert_close(truncated_forward(model, x, k), model(x)[0], atol=1e-6, rtol=0)


def test_truncated_forward_differs_from_full_model_for_short_k():
    # the test above must be able to fail: with an unstable recurrence truncation changes late outputs
    torch.manual_seed(2)
    model = TanhRNN(2, 6, 1)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(3 * torch.eye(6))
    x = torch.randn(1, 20, 2)
    with torch.no_grad():
        gap = (truncated_forward(model, x, 3) - model(x)[0]).abs()
    assert gap[:, :2].max() < 1e-6 and gap[:, 3:].max() > 1e-3


def _span(output_t, x):
    """Earliest and latest time step of x (B, C, T) on which output_t has a nonzero gradient."""
    (grad,) = torch.autograd.grad(output_t, x)
    support = torch.nonzero(grad.abs().sum(dim=(0, 1))).flatten().tolist()
    return support[0], support[-1]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    layers=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 5)), min_size=1, max_size=4),
    channels=st.integers(1, 3),
)
def test_receptive_field_equals_support_of_the_impulse_response(layers, channels):
    """R = 1 + sum (K_l - 1) d_l: output t depends on inputs from t-R+1 to t and no others.

    With dilations the dependence can skip steps inside that span, so the span is what is checked.
    """
    kernel_sizes, dilations = [k for k, _ in layers], [d for _, d in layers]
    r = receptive_field(kernel_sizes, dilations)
    torch.manual_seed(0)
    stack = DilatedConvStack(channels, kernel_sizes, dilations).double()
    steps, t = r + 10, r + 5
    x = torch.randn(1, channels, steps, dtype=torch.float64, requires_grad=True)
    assert _span(stack(x)[:, :, t].sum(), x) == (t - r + 1, t)
    # perturbing an input changes outputs from s to s+R-1 and no others
    s = 3
    bumped = x.detach().clone()
    bumped[:, :, s] += 1.0
    changed = torch.nonzero((stack(bumped) - stack(x)).abs().sum(dim=(0, 1)) > 0).flatten().tolist()
    assert (changed[0], changed[-1]) == (s, s + r - 1)


@pytest.mark.parametrize(("kernel_size", "levels"), [(2, 1), (2, 3), (3, 2), (4, 3)])
def test_tcn_receptive_field_equals_support_of_its_gradient(kernel_size, levels):
    r = tcn_receptive_field(kernel_size, levels)
    assert r == 1 + 2 * (kernel_size - 1) * (2**levels - 1)
    assert r == receptive_field([kernel_size] * 2 * levels, [2**i for i in range(levels) for _ in range(2)])
    torch.manual_seed(0)
    model = TCN(3, 2, channels=6, levels=levels, kernel_size=kernel_size).double().eval()
    assert model.receptive_field == r
    steps, t = r + 8, r + 4
    x = torch.randn(2, steps, 3, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(model(x)[:, t].sum(), x)
    support = torch.nonzero(grad.abs().sum(dim=(0, 2))).flatten().tolist()
    assert support == list(range(t - r + 1, t + 1))


def test_wavenet_block_receptive_field():
    assert receptive_field([2] * 10, [2**i for i in range(10)]) == WAVENET_RECEPTIVE_FIELD


def test_dilation_schedules():
    assert models.dilation_schedule("none", 3) == (1, 1, 1)
    assert models.dilation_schedule("doubling", 4) == (1, 2, 4, 8)
    assert models.dilation_schedule("1,2,1,2", 5) == (1, 2, 1, 2, 1)
    assert set(models.DILATION_SCHEDULES) == {"none", "doubling", "1,2,1,2"}


@pytest.mark.parametrize("schedule", models.DILATION_SCHEDULES)
def test_impulse_response_is_zero_exactly_outside_the_cone(schedule):
    """The dependency cone's inputs are the receptive field, and the impulse response is nonzero on it alone."""
    dilations = models.dilation_schedule(schedule, 3)
    r = receptive_field([2] * 3, list(dilations))
    cone, edges = models.dependency_cone(2, dilations)
    assert cone[0] == list(range(-(r - 1), 1)) and cone[-1] == [0]
    assert all(0 < layer <= 3 and a <= b for layer, a, b in edges)
    response = models.impulse_response(2, dilations, r + 4, seed=1)
    assert np.flatnonzero(response > 0).tolist() == list(range(4, r + 4))


@pytest.mark.parametrize("cls", [TanhRNN, LSTMModel])
def test_gradients_agree_with_finite_differences(cls):
    """Autograd (BPTT) gradients of a tiny sequence loss match central finite differences."""
    torch.manual_seed(0)
    model = cls(2, 3, 1).double()
    x = torch.randn(2, 6, 2, dtype=torch.float64)
    target = torch.randn(2, 6, 1, dtype=torch.float64)
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in model.parameters())

    def loss(*values):
        y, _ = functional_call(model, dict(zip(names, values)), (x,))
        return ((y - target) ** 2).mean()

    assert torch.autograd.gradcheck(loss, params, eps=1e-6, atol=1e-6)


def test_forward_carries_state_across_calls():
    torch.manual_seed(0)
    model = LSTMModel(2, 4, 1)
    x = torch.randn(3, 10, 2)
    with torch.no_grad():
        full, _ = model(x)
        first, state = model(x[:, :4])
        second, _ = model(x[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), full)



def test_power_projection_warm_starts_each_layer_and_keeps_the_bound(monkeypatch):
    """TanhRNN(projection="power") passes each layer its own vector from the previous call as the
    power iteration's start, and after every optimiser step and projection ||W||_2 <= max_norm
    (1 + 1e-6) in every layer."""
    from stablernn import linalg

    starts = []
    real = linalg.rescale_factor

    def recording(W, max_norm, n_iter=20, seed=0, start=None):
        out = real(W, max_norm, n_iter=n_iter, seed=seed, start=start)
        starts.append((start, out.start))
        return out

    monkeypatch.setattr(linalg, "rescale_factor", recording)
    torch.manual_seed(0)
    model = TanhRNN(2, 24, 1, stable=True, max_norm=0.9, projection="power", num_layers=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = torch.randn(4, 12, 2), torch.randn(4, 12, 1)
    for _ in range(5):
        opt.zero_grad()
        ((model(x)[0] - y) ** 2).mean().backward()
        opt.step()
        model.project_()
        for weight in model.recurrent_weights():
            assert linalg.spectral_norm(weight.detach().double().numpy()) <= 0.9 * (1 + 1e-6)
    assert len(starts) == 12 and starts[0][0] is None and starts[1][0] is None  # cold at construction
    assert all(out is not None for _, out in starts)
    for i in range(2, 12):  # layer i % 2 starts from its own last vector
        assert starts[i][0] is starts[i - 2][1]

def test_count_parameters_of_a_tanh_rnn():
    model = TanhRNN(3, 5, 2)
    # W (5x5), U (5x3), two biases (PyTorch keeps b_ih and b_hh), readout V (2x5) and c (2)
    assert count_parameters(model) == 5 * 5 + 5 * 3 + 2 * 5 + 2 * 5 + 2


def test_causal_stack_ignores_the_future():
    torch.manual_seed(0)
    stack = DilatedConvStack(2, [3, 2], [1, 4])
    x = torch.randn(1, 2, 20)
    y = torch.randn(1, 2, 20)
    y[:, :, :10] = x[:, :, :10]
    with torch.no_grad():
        torch.testing.assert_close(stack(x)[:, :, :10], stack(y)[:, :, :10])


# ------------------------------------------------------------- models of Chapter 3 and Part III


@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_make_model_is_seeded_and_maps_one_input_to_one_output(name):
    a, b = models.make_model(name, 6, seed=3), models.make_model(name, 6, seed=3)
    x = torch.randn(2, 9, 1)
    with torch.no_grad():
        ya, yb = (m(x) for m in (a, b))
    ya, yb = (y[0] if isinstance(y, tuple) else y for y in (ya, yb))
    assert ya.shape == (2, 9, 1)
    torch.testing.assert_close(ya, yb, atol=0, rtol=0)
    if name == "TCN":
        assert a.receptive_field == tcn_receptive_field(models.TCN_KERNEL, models.TCN_LEVELS)


def test_every_label_has_a_name_and_a_style_for_the_figures():
    from stablernn.figures.theme import LABEL_NAMES, MODEL_STYLE

    assert set(LABEL_NAMES) == set(MODEL_STYLE) == set(models.LABELS)


@pytest.mark.parametrize("label", models.LABELS)
def test_labels_round_trip_and_build_the_model_they_name(label):
    kind, stable = models.parse_label(label)
    assert models.label(kind, stable) == label
    model = models.build_model(label, 3, 5, 2, seed=0)
    assert isinstance(model, TanhRNN if kind == "tanh" else LSTMModel)
    W = model.recurrent_weights()[0].detach().double().numpy()
    if kind == "tanh" and stable:
        assert np.linalg.norm(W, 2) <= 0.999 + 1e-6  # a stable model starts projected onto the stable set
    state = torch.random.get_rng_state()
    again = models.build_model(label, 3, 5, 2, seed=0)
    assert torch.equal(state, torch.random.get_rng_state())  # seeded without touching the global generator
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters()))


# ----------------------------------------------------------------------------- bad arguments


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
        (lambda: models.make_model("GRU", 8), ValueError, "name"),
        (lambda: models.make_model("RNN", 0), ValueError, "hidden"),
        (lambda: models.dilation_schedule("tripling", 3), ValueError, "schedule"),
        (lambda: models.dilation_schedule("none", 0), ValueError, "layers"),
        (lambda: models.parse_label("gru-stable"), ValueError, "label"),
        (lambda: models.build_model("lstm", 3, 5, 2, seed=-1), ValueError, "seed"),
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


def test_receptive_field_grows_exponentially_with_doubling_and_linearly_without():
    for layers in range(1, 7):
        assert receptive_field([2] * layers, list(models.dilation_schedule("doubling", layers))) == 2**layers
        assert receptive_field([2] * layers, list(models.dilation_schedule("none", layers))) == layers + 1
