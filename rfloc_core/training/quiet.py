"""Lightning's start-up lines and warnings held back where rfloc prints its own."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")
"""Lightning's loggers with levels of their own (``lightning.fabric`` does not propagate)."""


@contextmanager
def _lightning_logs_at(level: int) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, previous in zip(loggers, levels, strict=True):
            logger.setLevel(previous)


@contextmanager
def quiet_training() -> Iterator[None]:
    """Lightning's start-up lines and warnings held back, so the live display stays readable;
    errors still raise."""
    with _lightning_logs_at(logging.ERROR), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def lightning_chatter_held_back() -> Iterator[None]:
    """What ``rfloc train`` shows of a fit: Lightning's own warnings, but not its
    informational lines (the accelerators it found, an advertisement, the stop reason) nor
    the deprecation notices its own code raises, which a user cannot act on. rfloc's and the
    plugins' warnings still show."""
    with _lightning_logs_at(logging.WARNING), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"lightning\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"lightning\.")
        yield
