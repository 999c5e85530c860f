"""Evaluation: a model beside the classical baselines and the Cramér–Rao bound, with plots.

``import rfloc_core.evaluation`` is light; the names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfloc_core.lazy import lazy_getattr

if TYPE_CHECKING:
    from rfloc_core.evaluation.evaluate import evaluate, evaluate_samples
    from rfloc_core.evaluation.summary import EstimatorRow, Evaluation

_LAZY = {
    "evaluate": "rfloc_core.evaluation.evaluate",
    "evaluate_samples": "rfloc_core.evaluation.evaluate",
    "Evaluation": "rfloc_core.evaluation.summary",
    "EstimatorRow": "rfloc_core.evaluation.summary",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = ["EstimatorRow", "Evaluation", "evaluate", "evaluate_samples"]
