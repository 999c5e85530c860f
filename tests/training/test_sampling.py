from __future__ import annotations

from rfloc_core.training.sampling import EpochBatches


def test_ranks_get_disjoint_equal_shards() -> None:
    shards = [list(EpochBatches(103, 8, seed=1, rank=r, world_size=3)) for r in range(3)]
    assert {len(shard) for shard in shards} == {4}
    assert len(EpochBatches(103, 8, seed=1, rank=0, world_size=3)) == 4
    indices = [i for shard in shards for batch in shard for i in batch]
    assert len(indices) == len(set(indices)) == 96
    assert all(len(batch) == 8 for shard in shards for batch in shard)


def test_epochs_shuffle_differently_and_reproducibly() -> None:
    sampler = EpochBatches(64, 16, seed=5)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert first != second
    assert sorted(i for b in first for i in b) == list(range(64))
    again = EpochBatches(64, 16, seed=5)
    again.set_epoch(1)
    assert list(again) == second


def test_skip_resumes_on_the_next_batch_and_resets_next_epoch() -> None:
    sampler = EpochBatches(64, 16, seed=5)
    full = list(sampler)
    sampler.skip_batches = 3
    assert list(sampler) == full[3:]
    assert len(sampler) == 4  # the epoch length the trainer expects is unchanged
    sampler.set_epoch(0)
    assert list(sampler) == full[3:]
    sampler.set_epoch(1)
    assert len(list(sampler)) == 4


def test_validation_order_keeps_the_last_partial_batch() -> None:
    batches = list(EpochBatches(10, 4, seed=0, shuffle=False, drop_last=False))
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
