"""`job.plan.deal` gives every shard, in one pass, the slice `storage.shard_units` gives it."""

from __future__ import annotations

import pytest

from job.plan import deal
from job.storage import Unit, shard_units


@pytest.mark.parametrize(
    ("weights", "count"),
    [([5, 1, 7, 0, 3, 3, 9], 3), ([1] * 10, 10), ([0, 0, 0], 2), ([100], 4), ([2, 3], 7)],
)
def test_deal_matches_shard_units(weights: list[int], count: int) -> None:
    units = [Unit(f"f{i}", w) for i, w in enumerate(weights)]
    dealt = deal(units, count)
    assert dealt == [shard_units(units, i, count) for i in range(count)]
    flat = [unit for units_of_shard in dealt for unit in units_of_shard]
    assert sorted(flat, key=units.index) == units  # every unit exactly once
