"""Every interactive figure of the book: its controls, and the chapter data and figure it joins.

Each builder returns an :class:`~stablernn.presentation.explorer.Explorer` whose ``compute`` lives in
the chapter's module (``stablernn.chapters.<slug>``) and whose ``figure`` lives in the chapter's
figure module (``stablernn.figures.<slug>``): nothing here computes. Chapters show them with
``show(...)``; dashboards call ``.widget()`` on the same objects.

Each builder imports its own chapter's modules, so that a dashboard's kernel loads only what its
explorer uses: the recurrent_models, truncation and instability dashboards never import torch (about
230 MB and a second of start-up per kernel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .explorer import Action, Control, Explorer

if TYPE_CHECKING:
    from ..chapters.bptt import RecallGrid
    from ..chapters.training import EquivalenceGrid


# -- Chapter 1 ----------------------------------------------------------------------------------

def spectral() -> Explorer:
    """Chapter 1 (and its dashboard): spectral radius, spectral norm and the hidden state."""
    from ..chapters import recurrent_models
    from ..figures import recurrent_models as recurrent_models_figures

    controls = (
        Control("radius", "spectral radius ρ(W)", (0.0, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5), 0.9, step=0.01, fmt=".2f"),
        Control("nonnormality", "non-normality", (0.0, 0.5, 1.0, 2.0), 0.0, step=0.05, fmt=".2f"),
        Control("horizon", "horizon T", (60,), 60, step=5, fmt="d", live=(10, 300)),
    )
    return Explorer(title="Spectral radius, spectral norm and the hidden state", compute=recurrent_models.spectral,
                    figure=recurrent_models_figures.spectral_figure, controls=controls,
                    frame=recurrent_models_figures.spectral_frame)


# -- Chapter 2 ----------------------------------------------------------------------------------

def gradients() -> Explorer:
    """Chapter 2 (and its dashboard): gradient size against lag."""
    from ..chapters import bptt
    from ..figures import bptt as bptt_figures

    controls = (
        Control("radius", "spectral radius ρ(W)", (0.5, 0.8, 0.9, 1.0, 1.1), 0.9, step=0.01, fmt=".2f", live=(0.0, 1.5)),
        Control("nonnormality", "non-normality", (0.0, 1.0, 2.0), 0.0, step=0.05, fmt=".2f", live=(0.0, 3.0)),
        Control("length", "sequence length T", (30, 80), 80, step=5, fmt="d", live=(5, 300)),
    )
    return Explorer(title="Gradient size against lag", compute=bptt.gradient_sizes,
                    figure=bptt_figures.gradient_figure, controls=controls,
                    frame=bptt_figures.gradient_frame)


def recall_window(grid: RecallGrid) -> Explorer:
    """Chapter 2: which lags truncated BPTT with window k learns, over a precomputed ``RecallGrid``."""
    from ..chapters import bptt
    from ..figures import bptt as bptt_figures

    middle = grid.ks[len(grid.ks) // 2]
    controls = (Control("k", "truncation window k", tuple(grid.ks), middle, fmt="d"),)
    return Explorer(title="Truncated BPTT: which lags are learned", compute=bptt.recall_window,
                    figure=bptt_figures.context_figure, controls=controls, fixed={"grid": grid})


# -- Chapter 3 ----------------------------------------------------------------------------------

def receptive_field() -> Explorer:
    """Chapter 3 (and its dashboard): the receptive field of dilated causal convolutions."""
    from ..chapters import feedforward
    from ..figures import feedforward as feedforward_figures
    from ..models import DILATION_SCHEDULES

    controls = (
        Control("layers", "layers", (1, 2, 3, 4, 5), 3, step=1, fmt="d", live=(1, 6)),
        Control("kernel_size", "kernel size K", (2, 3), 2, step=1, fmt="d", live=(1, 4)),
        Control("schedule", "dilation schedule", DILATION_SCHEDULES, "doubling"),
    )
    return Explorer(title="Receptive field of dilated causal convolutions", compute=feedforward.receptive,
                    figure=feedforward_figures.receptive_field_figure, controls=controls,
                    frame=feedforward_figures.receptive_field_frame)


# -- Chapter 4 ----------------------------------------------------------------------------------

def transient() -> Explorer:
    """Chapter 4: a non-normal 2 x 2 matrix with spectral radius below one."""
    from ..chapters import stability
    from ..figures import stability as stability_figures

    controls = (
        Control("radius", "spectral radius r", (0.5, 0.7, 0.8, 0.9, 0.95, 1.0), 0.9, step=0.01, fmt=".2f",
                live=(0.0, 1.2)),
        Control("coupling", "coupling c", (0.0, 0.25, 0.5, 1.0, 2.0), 1.0, step=0.05, fmt=".2f", live=(0.0, 4.0)),
        Control("horizon", "horizon", (60,), 60, step=5, fmt="d", live=(10, 300)),
    )
    return Explorer(title="Transient amplification: A = [[r, c], [0, r]]", compute=stability.transient,
                    figure=stability_figures.transient_figure, controls=controls,
                    frame=stability_figures.transient_frame)


# -- Chapter 5 ----------------------------------------------------------------------------------

def truncation_error() -> Explorer:
    """Chapter 5 (and its dashboard): truncating a recurrent model to its last k inputs."""
    from ..chapters import truncation
    from ..figures import truncation as truncation_figures

    controls = (
        Control("k", "context length k", (1, 5, 10, 20, 40, 80), 20, step=1, fmt="d", live=(1, truncation.K_MAX)),
        Control("lam", "λ = ‖W‖₂", (0.5, 0.8, 0.9, 0.95, 1.0, 1.2), 0.9, step=0.01, fmt=".2f", live=(0.05, 1.5)),
        Control("log10_eps", "log₁₀ ε", (-2.0,), -2.0, step=0.5, fmt=".1f", live=(-7.0, -0.5)),
    )
    return Explorer(title="Truncating a recurrent model to its last k inputs", compute=truncation.truncation,
                    figure=truncation_figures.truncation_figure, controls=controls,
                    frame=truncation_figures.truncation_frame)


# -- Chapter 6 ----------------------------------------------------------------------------------

def equivalence(grid: EquivalenceGrid) -> Explorer:
    """Chapter 6 (and its dashboard): recurrent against truncated gradient descent over a precomputed
    grid (the k slider), with a Run button that retrains both students live for any k and N."""
    from ..chapters import training
    from ..figures import training as training_figures

    grid = training.check_grid(grid)
    ks = tuple(int(v) for v in grid.k_values)
    default = 8 if 8 in ks else ks[len(ks) // 2]
    low, high = training.LIVE_STEPS

    def rerun(report, k: int, steps: int) -> training.EquivalenceData:
        report(status="training both students…")
        return training.rerun(k, steps, grid)

    run = Action("Run (a few seconds)", rerun, heading="Train live", controls=(
        Control("k", "re-run with k", (1, default, grid.setup.steps_per_sequence), default, step=1, fmt="d"),
        Control("steps", "steps N", (low, 100, high), 100, step=10, fmt="d"),
    ))
    return Explorer(title="Recurrent vs truncated gradient descent", compute=training.equivalence_at,
                    figure=training_figures.equivalence_figure, frame=training_figures.equivalence_frame,
                    controls=(Control("k", "truncation length k", ks, default, step=None, fmt="d"),),
                    fixed={"grid": grid}, actions=(run,))


# -- Chapter 7 ----------------------------------------------------------------------------------

def descent() -> Explorer:
    """Chapter 7 (and its dashboard): gradient descent on the scalar recurrence, with and without remedies."""
    from ..chapters import instability
    from ..figures import instability as instability_figures

    controls = (
        Control("a0", "initial weight a₀", (0.5, 0.9, 1.0, 1.05, 1.1, 1.2), 1.1, step=0.01, fmt=".2f", live=(-1.0, 1.3)),
        Control("remedy", "remedy", instability.REMEDIES, "none"),
    )
    return Explorer(title="Gradient descent on hₜ = a hₜ₋₁ + xₜ", compute=instability.descent,
                    figure=instability_figures.descent_figure, controls=controls,
                    frame=instability_figures.descent_frame)


def contraction() -> Explorer:
    """Chapter 7 (and its dashboard): contraction of a tanh RNN measured along its trajectories."""
    from ..chapters import instability
    from ..figures import instability as instability_figures

    controls = (
        Control("norm", "spectral norm ‖W‖₂", (0.5, 0.9, 1.5, 2.0, 3.0, 4.0), 2.0, step=0.05, fmt=".2f", live=(0.1, 5.0)),
        Control("input_scale", "input scale σ", (0.0, 1.0, 2.0, 4.0, 8.0, 16.0), 8.0, step=0.1, fmt=".1f",
                live=(0.0, 20.0)),
    )
    return Explorer(title="Contraction measured along trajectories", compute=instability.contraction,
                    figure=instability_figures.contraction_figure, controls=controls,
                    frame=instability_figures.contraction_frame)


# -- Chapter 8 ----------------------------------------------------------------------------------

def training_pairs(music: dict, wordlm: dict) -> Explorer:
    """Chapter 8: one model's unconstrained and stable runs side by side, from the committed results."""
    from ..chapters import in_practice
    from ..figures import in_practice as in_practice_figures

    controls = (Control("experiment", "experiment", tuple(in_practice.EXPERIMENTS), "music"),
                Control("model", "model", tuple(in_practice.MODELS), "tanh RNN"))
    return Explorer(title="Unconstrained and stable training runs", compute=in_practice.pair,
                    figure=in_practice_figures.pair_figure, controls=controls,
                    fixed={"music": music, "wordlm": wordlm})


# -- Chapter 9 ----------------------------------------------------------------------------------

def context_length(results: dict) -> Explorer:
    """Chapter 9: the test metric of every trained model with context k, over a validated
    ``truncation`` results dictionary."""
    from ..chapters import memory
    from ..experiments.schema import validate
    from ..figures import memory as memory_figures

    results = validate(results)  # once here, not at every slider move: a bad file is refused, not drawn
    ks = memory.grid(results)
    default = 8 if 8 in ks else ks[len(ks) // 2]
    control = Control("k", "context k (most recent inputs)", values=ks, default=default, step=None, fmt="d")
    return Explorer("How much context trained models use", memory.context_length,
                    memory_figures.context_length_figure, (control,), fixed={"results": results})


# -- Chapter 10 ---------------------------------------------------------------------------------

def your_model_runs() -> Explorer:
    """Chapter 10: the diagnosis of each LSTM the chapter trained (training and seed by slider)."""
    from ..chapters import your_model
    from ..figures import your_model as your_model_figures

    controls = (Control("training", "training", tuple(your_model.RUNS), "full BPTT"),
                Control("seed", "seed", tuple(your_model.CONFIG["seeds"]), your_model.CONFIG["seeds"][0], fmt="d"))
    return Explorer(title="Each run, diagnosed", compute=your_model.run_view, figure=your_model_figures.run_figure,
                    controls=controls)
