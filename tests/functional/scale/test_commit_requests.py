"""Simulation: the real commit code (`job.runner.commit_shards`: the markers read 16 at a time,
the bad-rows budget over the whole array, the claim checked, the manifest created once) for
10,000 shards, against a fake S3 that counts requests. Figures in docs/scale-requests.md."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest
from support import jobdata

from config.parsing import validate_document
from config.uris import Location
from job import output
from job.exceptions import PermanentError
from job.runner import commit_shards
from job.storage import Tagged

OUT = "s3://data-bucket/out/"
SHARDS = 10_000
ROWS = 100_000  # per shard: 10^9 rows in all


class CountingS3:
    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()

    def count(self, kind: str) -> None:
        with self.lock:  # the markers are read from 16 threads
            self.requests[kind] += 1

    def read_json(self, location: Location) -> dict[str, Any] | None:
        self.count("GET")
        raw = self.store.get(location.uri())
        return None if raw is None else json.loads(raw)

    def read_tagged(self, location: Location) -> Tagged | None:
        self.count("GET")
        raw = self.store.get(location.uri())
        return None if raw is None else Tagged(raw, '"tag"')

    def create_exclusive(self, location: Location, data: bytes) -> bool:
        self.count("PUT")
        if location.uri() in self.store:
            return False
        self.store[location.uri()] = data
        return True


def marker(shard: int, bad_rows: int = 0) -> dict[str, Any]:
    return {
        "version": 1, "job_id": "job-sim", "name": "sim", "shard": shard, "shards": SHARDS,
        "attempt": 1, "rows": ROWS - bad_rows, "bad_rows": bad_rows,
        "parts": [{"uri": f"{OUT}part-{shard:05d}-00000.parquet", "rows": ROWS - bad_rows}],
        "error_parts": [], "bad_reasons": [f"id={shard}: NaN"] * min(bad_rows, 1),
        "format": "parquet", "columns": ["id", "score"], "model_sha256": "m", "config_sha256": "c",
        "started_at": "2026-11-30T07:00:00.000Z", "finished_at": "2026-11-30T07:01:00.000Z",
        "seconds": 60.0, "timings": {},
    }  # fmt: skip


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> CountingS3:
    fake = CountingS3()
    for name in ("read_json", "read_tagged", "create_exclusive"):
        monkeypatch.setattr(output, name, getattr(fake, name))
    fake.store[f"{OUT}_claim.json"] = json.dumps({"owner": "job-sim"}).encode()
    return fake


def config(**changes: Any) -> Any:
    document = jobdata.config(
        "s3://model-bucket/model.skops",
        "s3://data-bucket/in/",
        OUT,
        shards=SHARDS,
        **{"input.format": "parquet", **changes},
    )
    return validate_document(document, queues=("normal",))


@pytest.mark.slow
def test_the_commit_of_10000_shards_reads_each_marker_once(s3: CountingS3) -> None:
    for shard in range(SHARDS):
        s3.store[f"{OUT}_shards/shard-{shard:05d}.json"] = json.dumps(marker(shard)).encode()

    result = commit_shards(config(), "job-sim", SHARDS)

    manifest = json.loads(s3.store[f"{OUT}_manifest.json"])
    size = len(s3.store[f"{OUT}_manifest.json"])
    print(f"\ncommit of {SHARDS:,} shards: {dict(s3.requests)}, manifest {size:,} bytes")
    assert dict(s3.requests) == {"GET": SHARDS + 1, "PUT": 1}  # markers + claim; the manifest
    assert result.rows == manifest["rows"] == SHARDS * ROWS
    assert len(manifest["parts"]) == len(manifest["shard_figures"]) == SHARDS


def test_the_bad_rows_budget_is_the_whole_arrays(s3: CountingS3) -> None:
    # two shards of 10,000 with 2 bad rows each, within a budget of 2 alone; 4 in all: no commit
    for shard in range(SHARDS):
        bad = 2 if shard in (10, 20) else 0
        s3.store[f"{OUT}_shards/shard-{shard:05d}.json"] = json.dumps(marker(shard, bad)).encode()
    with pytest.raises(PermanentError, match="4 bad row"):
        commit_shards(config(**{"output.max_bad_rows": 2}), "job-sim", SHARDS)
    assert f"{OUT}_manifest.json" not in s3.store
