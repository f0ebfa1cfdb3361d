"""Named, reproducible experiments that write ``results/NAME.json`` (Part III of the book).

Run one from a shell::

    python -m stablernn.experiments NAME [--quick] [--data PATH] [--corpus DIR]
                                         [--device cpu|cuda] [--out results/] [--cache DIR]

``NAME`` is one of :data:`EXPERIMENTS`:

- ``music``: tanh RNN and LSTM, unconstrained and stable, on Bach chorales (frame NLL);
- ``wordlm``: the same four models as word-level language models (test perplexity);
- ``truncation``: every trained model evaluated with a test-time context of k steps;
- ``datastability``: contraction factors and gradient size against lag along test trajectories.

Each results file holds the configuration, the metrics, the library version, the git commit, the
date, the machine and the run time, and is checked by :func:`stablernn.experiments.schema.validate`.
Modules are imported on demand: importing this package does no work.
"""

EXPERIMENTS = ("music", "wordlm", "truncation", "datastability")

__all__ = ["EXPERIMENTS"]
