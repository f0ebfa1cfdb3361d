"""Tests of stablernn.models: the k-truncated model, receptive fields, gradients, parameter counts."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import functional_call

from stablernn.models import (
    TCN,
    DilatedConvStack,
    LSTMModel,
    TanhRNN,
    count_parameters,
    receptive_field,
    tcn_receptive_field,
    truncated_forward,
)

torch.set_num_threads(1)


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


def test_wavenet_block_receptive_field_is_1024():
    assert receptive_field([2] * 10, [2**i for i in range(10)]) == 1024


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
