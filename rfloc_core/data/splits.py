"""Seeds of the train, validation and test sets derived from one run seed.

The three sets are disjoint streams of the simulator: sample ``i`` of the validation set is
unrelated to sample ``i`` of the training set, and the test set used by ``rfloc evaluate``
is held out from both.
"""

from __future__ import annotations

from typing import Literal

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.rng import sample_seed

Split = Literal["train", "validation", "test"]
_SPLIT_STREAM: dict[str, int] = {"train": 100, "validation": 101, "test": 102}


def split_seed(seed: int, split: Split) -> int:
    """The dataset seed of ``split`` for run seed ``seed``."""
    return sample_seed(seed, 0, _SPLIT_STREAM[split])


def dataset_seed(seed: int, split: str | None) -> int:
    """``seed`` itself without a split, else the dataset seed of ``split`` for run seed ``seed``;
    an unknown split fails naming the three."""
    if split is None:
        return seed
    if split not in _SPLIT_STREAM:
        raise ConfigError(f"split must be one of {', '.join(_SPLIT_STREAM)}, got {split!r}")
    return split_seed(seed, split)  # type: ignore[arg-type]
