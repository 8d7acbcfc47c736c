"""Array children score disjoint parts that together cover the input exactly once."""

from __future__ import annotations

import random

import pytest

from job.storage import Unit, merge_row_groups, shard_units


def units_of(weights: list[int]) -> list[Unit]:
    return [Unit(f"file-{i // 3}", w, (i % 3,)) for i, w in enumerate(weights)]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16, 50])
@pytest.mark.parametrize("seed", range(5))
def test_children_cover_every_unit_exactly_once(count: int, seed: int) -> None:
    rng = random.Random(seed)
    units = units_of([rng.choice([0, 1, 10, 1000]) for _ in range(rng.randint(1, 40))])

    shards = [shard_units(units, index, count) for index in range(count)]

    dealt = [unit for shard in shards for unit in shard]
    assert sorted(dealt, key=units.index) == units  # each once, none lost
    assert dealt == units  # contiguous runs, in order


def test_shards_balance_rows() -> None:
    units = units_of([100] * 12)
    sizes = [sum(u.weight for u in shard_units(units, i, 4)) for i in range(4)]
    assert sizes == [300, 300, 300, 300]


def test_only_empty_files_are_still_dealt_out() -> None:
    units = units_of([0, 0, 0])
    assert [len(shard_units(units, i, 3)) for i in range(3)] == [1, 1, 1]


def test_more_children_than_units_leaves_some_idle() -> None:
    units = units_of([5, 5])
    dealt = [shard_units(units, i, 5) for i in range(5)]
    assert sum(map(len, dealt)) == 2


def test_a_child_outside_the_array_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        shard_units(units_of([1]), 3, 3)


def test_row_groups_of_one_file_merge_into_one_read() -> None:
    units = [Unit("a", 1, (0,)), Unit("a", 1, (1,)), Unit("b", 1, (0,)), Unit("c", 9)]
    assert merge_row_groups(units) == [Unit("a", 2, (0, 1)), Unit("b", 1, (0,)), Unit("c", 9)]
