"""Is my model stable? The book's theory applied to any trained recurrent model (Chapter 10).

``stablernn.diagnose(model, data)`` (the module is callable; ``stablernn.diagnose.diagnose`` is the
same function) reports on a trained ``torch.nn.RNN`` / ``LSTM`` / ``GRU``, one of the library's
models, or any model holding one of these as its recurrent core:

(a) the stability **certificate** from the weights (Chapter 4's conditions);
(b) **contraction** along the data: one-step Jacobian norms, and the share below 1 (Chapter 9);
(c) **gradient norm against lag**, with a bootstrap band over sequences (Chapter 9);
(d) the **truncation curve**: the loss with k steps of context, and the smallest k within a
    tolerance of full context (Chapters 5 and 8);
(e) the **cost** of evaluating with that k against full context (Chapter 3).

The result is a :class:`~stablernn.diagnose.report.Diagnosis` (``.to_json``, ``.to_html``,
``.summary``); the command line is ``python -m stablernn.diagnose MODEL DATA``. Importing this
package loads nothing heavy (the command line answers ``--help`` before torch is imported); the
names below are loaded on first use.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["diagnose", "Diagnosis", "load", "prepare_data"]
_LAZY = {"diagnose": "diagnosis", "prepare_data": "diagnosis", "Diagnosis": "report", "load": "report"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``stablernn.diagnose(...)`` calls :func:`diagnose`; the module stays importable as a package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .diagnosis import diagnose

        return diagnose(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
