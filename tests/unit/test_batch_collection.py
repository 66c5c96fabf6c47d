"""The collector's pace during a batch comes back afterwards, also when batches overlap."""

from __future__ import annotations

import gc

from conntest.batch.collection import YOUNG_THRESHOLD, batch_collection


def test_the_pace_is_the_batchs_inside_and_the_previous_one_after() -> None:
    before = gc.get_threshold()
    with batch_collection():
        inside = gc.get_threshold()
        assert inside[0] >= YOUNG_THRESHOLD and inside[1:] == before[1:]
        assert gc.get_freeze_count() > 0  # what lived before the batch is out of the walks
        with batch_collection():  # an overlapping batch (conntest serve)
            assert gc.get_threshold() == inside
        assert gc.get_threshold() == inside  # the first batch still runs
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_batch_that_fails_restores_the_pace() -> None:
    before = gc.get_threshold()
    try:
        with batch_collection():
            raise RuntimeError("a batch that broke")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
