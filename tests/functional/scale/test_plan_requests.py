"""Simulation: the real planning code (`job.plan`) for one job of 10,000 shards over 100,000 files,
against fakes of S3 that count every request; the counts must be the ones docs/scale-requests.md
predicts, before (by formula, from the old code) and after.

Metadata only: the files hold no bytes; a Parquet footer read is counted, not made (each footer
gives one row group of `ROWS` rows). The children are run one after another, each doing what a
child does before and after it scores: `shard_slice` (read the header and its slice) and
`check_unchanged` twice (HEAD with If-Match for each file of its slice and the schema file).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config.uris import Location, parse_uri
from job import plan
from job.exceptions import InputError
from job.storage import Unit

SHARDS = 10_000
FILES = 100_000
ROWS = 1_000  # per file: 10^8 rows in all
PAGE = 1_000  # ListObjectsV2 returns at most 1,000 keys a page
INPUT = "s3://data/input/"
OUTPUT = "s3://data/output/"


@dataclass
class FakeS3:
    """The input objects (for LIST and HEAD) and the small objects the plan writes (GET/PUT),
    with a count of each request."""

    objects: dict[str, tuple[int, str]]  # key -> (size, ETag)
    store: dict[str, bytes] = field(default_factory=dict)  # URI -> bytes
    requests: Counter[str] = field(default_factory=Counter)

    # --- boto3's S3 client, as much of it as the plan calls
    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket: str, Prefix: str) -> Any:  # noqa: N803 (boto3's names)
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        for start in range(0, max(len(keys), 1), PAGE):
            self.requests["LIST"] += 1
            page = keys[start : start + PAGE]
            yield {
                "Contents": [
                    {"Key": k, "Size": self.objects[k][0], "ETag": self.objects[k][1]} for k in page
                ]
            }

    def head_object(self, Bucket: str, Key: str, IfMatch: str | None = None) -> dict[str, Any]:  # noqa: N803
        self.requests["HEAD"] += 1
        found = self.objects.get(Key)
        if found is None or (IfMatch is not None and found[1] != IfMatch):
            code = "404" if found is None else "412"
            raise ClientError({"Error": {"Code": code}, "ResponseMetadata": {}}, "HeadObject")
        return {"ContentLength": found[0], "ETag": found[1]}

    # --- job.storage's small-object functions, as the plan module imports them
    def read_json(self, location: Location) -> dict[str, Any] | None:
        self.requests["GET"] += 1
        raw = self.store.get(location.uri())
        return None if raw is None else json.loads(raw)

    def write_bytes(self, location: Location, data: bytes) -> None:
        self.requests["PUT"] += 1
        self.store[location.uri()] = data

    def create_exclusive(self, location: Location, data: bytes) -> bool:
        self.requests["PUT"] += 1  # a conditional PUT is a PUT, answered 412 or not
        if location.uri() in self.store:
            return False
        self.store[location.uri()] = data
        return True

    def delete(self, location: Location, paths: list[str]) -> None:
        for path in paths:
            self.requests["DELETE"] += 1
            self.store.pop(f"s3://{path}", None)

    def plan_units(self, fs: Any, files: list[Any], input_format: str) -> list[Unit]:
        self.requests["footer"] += len(files)
        return [Unit(f.path, ROWS, (0,)) for f in files]


def install(monkeypatch: pytest.MonkeyPatch, files: int) -> FakeS3:
    objects = {f"input/part-{i:06d}.parquet": (4096, f'"etag-{i}"') for i in range(files)}
    fake = FakeS3(objects)
    monkeypatch.setattr(plan, "s3_client", lambda: fake)
    for name in ("read_json", "write_bytes", "create_exclusive", "delete", "plan_units"):
        monkeypatch.setattr(plan, name, getattr(fake, name))
    return fake


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeS3:
    return install(monkeypatch, FILES)


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> FakeS3:
    return install(monkeypatch, 1_000)


def run_array(fake: FakeS3, shards: int) -> Counter[str]:
    """Every child, as `job.runner` calls the plan; the requests made by all of them."""
    output = parse_uri(OUTPUT)
    for shard in range(shards):
        mine = plan.shard_slice(output, "job-sim", INPUT, "parquet", shard, shards)
        mine.check_unchanged()  # before reading
        mine.check_unchanged()  # after scoring, before the shard is reported
    return fake.requests


def old_requests(shards: int, files: int) -> dict[str, int]:
    """The old code, by formula: every child listed the prefix (`storage.input_files`) and read
    every file's footer (`inputs.plan_units`) before taking its slice (`shard_units`)."""
    return {"LIST": shards * math.ceil(files / PAGE), "footer": shards * files}


def new_requests(shards: int, files: int) -> dict[str, int]:
    """docs/scale-requests.md: one listing and one footer per file for the whole job; a PUT per
    slice plus the lease and the header; per child two GETs (header, slice) and, twice, a HEAD
    per file of its slice and for the schema file (shard 0 holds that file already)."""
    per_slice = math.ceil(files / shards)
    return {
        "LIST": math.ceil(files / PAGE),
        "footer": files,
        "PUT": shards + 2,
        "GET": 2 * shards,
        "HEAD": 2 * (shards * (per_slice + 1) - 1),
    }


@pytest.mark.slow
def test_10000_shards_over_100000_files_plan_once(fake: FakeS3) -> None:
    counts = run_array(fake, SHARDS)
    assert dict(counts) == new_requests(SHARDS, FILES)
    # the figures the doc quotes
    assert new_requests(SHARDS, FILES) == {
        "LIST": 100,
        "footer": 100_000,
        "PUT": 10_002,
        "GET": 20_000,
        "HEAD": 219_998,
    }
    assert old_requests(SHARDS, FILES) == {"LIST": 1_000_000, "footer": 1_000_000_000}
    # no child holds more than its slice: the largest slice object is a few KiB
    largest = max(len(v) for k, v in fake.store.items() if "/shard-" in k)
    assert largest < 4096, largest


def test_a_replaced_file_fails_its_child_naming_it(fake: FakeS3) -> None:
    output = parse_uri(OUTPUT)
    plan.shard_slice(output, "job-sim", INPUT, "parquet", 0, 100)
    fake.objects["input/part-054321.parquet"] = (4096, '"etag-replaced"')
    owner = 54321 * 100 // FILES
    with pytest.raises(InputError, match=r"s3://data/input/part-054321\.parquet changed"):
        plan.shard_slice(output, "job-sim", INPUT, "parquet", owner, 100).check_unchanged()
    # the neighbours are not affected
    plan.shard_slice(output, "job-sim", INPUT, "parquet", owner + 1, 100).check_unchanged()


def test_a_file_added_after_the_plan_is_in_no_slice(fake: FakeS3) -> None:
    output = parse_uri(OUTPUT)
    plan.shard_slice(output, "job-sim", INPUT, "parquet", 0, 50)
    fake.objects["input/part-000000a.parquet"] = (4096, '"etag-new"')
    paths = [
        f.path
        for shard in range(50)
        for f in plan.shard_slice(output, "job-sim", INPUT, "parquet", shard, 50).files
    ]
    assert len(paths) == len(set(paths)) == FILES  # each planned file once, the newcomer never
    assert "data/input/part-000000a.parquet" not in paths


def test_a_child_that_finds_a_fresh_lease_waits_for_the_plan(small: FakeS3) -> None:
    output = parse_uri(OUTPUT)
    small.store[plan.lease_location(output, "job-w").uri()] = b'{"since": 1000.0}'
    naps: list[float] = []

    def nap(seconds: float) -> None:  # the planner finishes while this child sleeps
        naps.append(seconds)
        plan.write_plan(output, "job-w", INPUT, "parquet", 10)

    mine = plan.shard_slice(
        output, "job-w", INPUT, "parquet", 3, 10, sleep=nap, clock=lambda: 1010.0
    )
    assert naps == [plan.PLAN_POLL_SECONDS]
    assert len(mine.files) == 100
    assert small.requests["footer"] == 1_000  # planned once, by the planner


def test_a_dead_planners_lease_is_taken_over(small: FakeS3) -> None:
    output = parse_uri(OUTPUT)
    small.store[plan.lease_location(output, "job-d").uri()] = b'{"since": 0.0}'

    def never(seconds: float) -> None:
        pytest.fail(f"waited {seconds} s for a planner whose lease expired")

    mine = plan.shard_slice(
        output, "job-d", INPUT, "parquet", 3, 10, sleep=never, clock=lambda: 10_000.0
    )
    assert len(mine.files) == 100


def test_of_two_planners_one_plan_wins_whole(small: FakeS3) -> None:
    output = parse_uri(OUTPUT)
    first = plan.write_plan(output, "job-r", INPUT, "parquet", 10)
    second = plan.write_plan(output, "job-r", INPUT, "parquet", 10)
    assert second == first
    slices = [k for k in small.store if "/shard-" in k]
    assert len(slices) == 10
    assert all(first["token"] in k for k in slices)
    assert small.requests["DELETE"] == 10  # the loser's slices
