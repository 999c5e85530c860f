"""Which of Lightning's warnings ``rfloc train`` holds back."""

from __future__ import annotations

import warnings

from rfloc_core.training.quiet import lightning_chatter_held_back


def _lightning_warns(message: str) -> list[str]:
    with warnings.catch_warnings(record=True) as shown:
        warnings.filterwarnings("always", append=True)  # below the filters under test
        warnings.warn_explicit(
            message, UserWarning, "fit_loop.py", 538, module="lightning.pytorch.loops.fit_loop"
        )
    return [str(w.message) for w in shown]


def test_only_the_eval_mode_warning_for_the_frozen_count_is_held_back() -> None:
    frozen = "Found 94 module(s) in eval mode at the start of training. This may lead to …"
    other = "Found 95 module(s) in eval mode at the start of training. This may lead to …"
    with lightning_chatter_held_back(94):
        assert _lightning_warns(frozen) == []
        assert _lightning_warns(other) == [other]
    with lightning_chatter_held_back():
        assert _lightning_warns(frozen) == [frozen]
