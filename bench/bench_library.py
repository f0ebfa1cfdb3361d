"""Library benchmark: prints ratios measured side by side in one run on this machine.

    python bench/bench_library.py [--quick] [--threads N]

1. k-truncated evaluation of a tanh RNN (T = 1000, k = 32, hidden 64, batch 1): all windows as one
   batch (``models.truncated_forward``) against rerunning the model window by window.
2. Imposing ``||W||_2 <= 1 - 1e-3`` after a step: power-iteration rescale against SVD clipping
   (``stability.project_rnn_``), n = 256 and 1024.
3. Training-step throughput (forward + backward + Adam step) at T = 1000 for a TCN, a tanh RNN
   and LSTMs of similar parameter count.

Timings use time.perf_counter, one warm-up call each, and the median of several repetitions,
interleaved between the variants being compared, with torch.set_num_threads(2) unless
--threads says otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch

from stablernn import stability
from stablernn.models import TCN, LSTMModel, TanhRNN, count_parameters, truncated_forward


def compare(fns: dict[str, Callable[[], object]], reps: int, setup: Callable[[], object] | None = None) -> dict[str, float]:
    """Median wall-clock seconds of each function; calls are interleaved so that a change in the
    machine's load hits all of them alike. One warm-up call each; ``setup`` runs untimed before every call."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for rep in range(reps + 1):
        for name, fn in fns.items():
            if setup is not None:
                setup()
            start = time.perf_counter()
            fn()
            if rep > 0:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def bench_truncated(reps: int) -> list[tuple[str, float]]:
    torch.manual_seed(0)
    model = TanhRNN(8, 64, 8).eval()
    x = torch.randn(1, 1000, 8)
    k = 32

    def sequential():
        return [model(x[:, max(0, t - k + 1) : t + 1])[0][:, -1] for t in range(x.shape[1])]

    with torch.no_grad():
        sec = compare(
            {
                "window by window (1000 calls)": sequential,
                "all windows as one batch": lambda: truncated_forward(model, x, k),
                "full recurrent model (reference)": lambda: model(x),
            },
            reps,
        )
    return list(sec.items())


def bench_projection(n: int, reps: int) -> list[tuple[str, float]]:
    gen = torch.Generator().manual_seed(n)
    base = torch.randn(n, n, generator=gen) * (2.0 / n**0.5)  # ||W||_2 about 4: the projection acts
    work = {}

    def fresh():
        work["W"] = base.clone()

    sec = compare(
        {
            f"SVD clip, n={n}": lambda: stability.project_rnn_(work["W"], method="svd"),
            f"power-iteration rescale (20 it.), n={n}": lambda: stability.project_rnn_(work["W"], method="power"),
        },
        reps,
        fresh,
    )
    return list(sec.items())


def bench_training(reps: int) -> list[tuple[str, int, float]]:
    inputs, outputs, steps, batch = 8, 8, 1000, 16
    torch.manual_seed(0)
    models = {
        "tanh RNN, hidden 64": TanhRNN(inputs, 64, outputs),
        "LSTM, hidden 32": LSTMModel(inputs, 32, outputs),
        "LSTM, hidden 64": LSTMModel(inputs, 64, outputs),
        "TCN, 12 ch x 6 levels, K=3 (R=253)": TCN(inputs, outputs, channels=12, levels=6, kernel_size=3),
    }
    x = torch.randn(batch, steps, inputs)
    y = torch.randn(batch, steps, outputs)
    steps_fns = {name: _training_step(model, x, y) for name, model in models.items()}
    sec = compare(steps_fns, reps)
    return [(name, count_parameters(models[name]), sec[name]) for name in models]


def _training_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out  # recurrent models also return their state
        torch.nn.functional.mse_loss(out, y).backward()
        opt.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and sizes (under 20 s)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    reps = 3 if args.quick else 9
    start = time.perf_counter()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {reps} interleaved runs after a warm-up\n")

    print("(1) k-truncated tanh RNN evaluation, T=1000, k=32, hidden 64, batch 1")
    rows = bench_truncated(reps)
    for name, sec in rows:
        print(f"  {name:<40s} {sec * 1e3:9.2f} ms")
    print(f"  ratio window-by-window / one batch: {rows[0][1] / rows[1][1]:.1f}x\n")

    print("(2) spectral-norm constraint ||W||_2 <= 0.999 (stability.project_rnn_)")
    for n in (256,) if args.quick else (256, 1024):
        (svd_name, svd), (pw_name, pw) = bench_projection(n, reps)
        print(f"  {svd_name:<40s} {svd * 1e3:9.2f} ms")
        print(f"  {pw_name:<40s} {pw * 1e3:9.2f} ms")
        print(f"  ratio SVD / power, n={n}: {svd / pw:.1f}x")
    print()

    print("(3) training step (forward + backward + Adam), T=1000, batch 16, 8 inputs, 8 outputs")
    rows = bench_training(reps)
    rnn_rate = 1.0 / rows[0][2]
    for name, params, sec in rows:
        rate = 1.0 / sec
        print(f"  {name:<36s} {params:7d} params {rate:8.2f} steps/s  {rate / rnn_rate:6.2f}x tanh RNN")
    print(f"\ntotal {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
