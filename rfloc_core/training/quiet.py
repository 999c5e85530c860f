"""Lightning's start-up lines and warnings held back where rfloc prints its own."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")
"""Lightning's loggers with levels of their own (``lightning.fabric`` does not propagate)."""


@contextmanager
def quiet_training() -> Iterator[None]:
    """Lightning's start-up lines and warnings held back, so the live display stays readable;
    errors still raise."""
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


CHATTER = (
    "GPU available",
    "TPU available",
    "HPU available",
    "💡 Tip",
    "`Trainer.fit` stopped",
    "`Trainer(val_check_interval",
)
"""The starts of Lightning's informational lines that ``rfloc train`` holds back: the
accelerators it did not use, an advertisement, and what rfloc's own summary says again."""


class _DropChatter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(CHATTER)


@contextmanager
def lightning_chatter_held_back(frozen_module_count: int = 0) -> Iterator[None]:
    """What ``rfloc train`` shows of a fit: Lightning's warnings and its other lines (a DDP
    run's ranks, for one), but not ``CHATTER`` nor the deprecation notices its own code
    raises, which a user cannot act on. rfloc's and the plugins' warnings still show.

    ``frozen_module_count`` is how many modules rfloc keeps in eval mode by design (a frozen part);
    Lightning's warning that exactly that many are in eval mode is held back, and any other
    count still shows."""
    chatter = _DropChatter()
    # Lightning's records come from child loggers to these loggers' handlers, so the filter
    # goes on the handlers.
    handlers = [h for name in LIGHTNING_LOGGERS for h in logging.getLogger(name).handlers]
    for handler in handlers:
        handler.addFilter(chatter)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"lightning\.")
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"lightning\.")
            if frozen_module_count:
                warnings.filterwarnings(
                    "ignore",
                    message=rf"Found {frozen_module_count} module\(s\) in eval mode at the start",
                    module=r"lightning\.",
                )
            yield
    finally:
        for handler in handlers:
            handler.removeFilter(chatter)
