"""Transient S3 and DynamoDB errors injected at the network edge of the real `python -m job run`
process: within the clients' own retries the job succeeds in one attempt; beyond them it exits 3
and the next attempt succeeds. Either way the committed output is the clean run's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.container_cloud import Cloud
from support.faulty_moto import INTERNAL_ERROR, SLOW_DOWN, THROUGHPUT_EXCEEDED, Request
from support.names import DATA_BUCKET

from config.retry import EXIT_OK, EXIT_TRANSIENT

pytestmark = pytest.mark.slow  # each case starts `python -m job` (sklearn's import: 3-10 s)

MANIFEST = "output/_manifest.json"
# What may differ between two runs of the same config: identity, clocks, who ran it.
RUN_SPECIFIC = {"job_id", "started_at", "finished_at", "seconds", "timings", "attempt"}


def input_read(request: Request) -> bool:
    return request.service == "s3" and request.method == "GET" and "/input/" in request.path


def part_write(request: Request) -> bool:
    writes = request.method in ("PUT", "POST")
    return request.service == "s3" and writes and "/part-" in request.path


def ddb(operation: str, containing: bytes = b"") -> Any:
    def matches(request: Request) -> bool:
        return request.operation == operation and containing in request.body

    return matches


def committed(cloud: Cloud) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The output's parts (bytes by key) and its manifest without the run-specific fields."""
    parts = {k: v for k, v in cloud.objects("output/").items() if "/part-" in f"/{k}"}
    manifest = json.loads(cloud.objects(MANIFEST)[MANIFEST])
    return parts, {k: v for k, v in manifest.items() if k not in RUN_SPECIFIC}


@pytest.fixture
def clean_run(cloud: Cloud, job_input: dict[str, Any]) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The output of a run without faults; the output prefix is emptied afterwards."""
    cloud.create_job("clean", job_input)
    done = cloud.run_here("clean")
    assert done.code == EXIT_OK, done.lines
    output = committed(cloud)
    assert len(output[0]) == 6  # 3000 rows in parts of 500
    cloud.delete_prefix("output/")
    return output


def test_faults_within_the_clients_retries_cost_no_attempt(cloud, job_input, clean_run) -> None:
    # GIVEN S3 throttling and 5xx on reads and writes, and DynamoDB throttling on every call kind
    faults = [
        cloud.faults.add(input_read, SLOW_DOWN, times=2),
        cloud.faults.add(part_write, INTERNAL_ERROR, times=2),
        cloud.faults.add(ddb("GetItem"), THROUGHPUT_EXCEEDED, times=1),
        cloud.faults.add(ddb("UpdateItem"), THROUGHPUT_EXCEEDED, times=2),
    ]
    cloud.create_job("job-1", job_input)

    # WHEN the job runs once
    done = cloud.run_job("job-1")

    # THEN every fault was met and retried away: one attempt, the clean run's output
    assert [f.injected for f in faults] == [2, 2, 1, 2]
    assert done.code == EXIT_OK, (done.errors(), done.stderr[-2000:])
    assert committed(cloud) == clean_run
    record = cloud.record("job-1")
    assert (record["status"], record["attempts"], record["rows"]) == ("SUCCEEDED", 1, 3000)


@pytest.mark.parametrize(
    ("where", "matches", "reply"),
    [
        ("input reads", input_read, SLOW_DOWN),
        ("part writes", part_write, INTERNAL_ERROR),
    ],
)
def test_s3_faults_beyond_the_retries_exit_3_and_the_next_attempt_commits(
    cloud, job_input, clean_run, where, matches, reply
) -> None:
    # GIVEN S3 failing every try of a request (pyarrow makes 5)
    fault = cloud.faults.add(matches, reply, times=1000)
    cloud.create_job("job-1", job_input)

    # WHEN the first attempt runs
    first = cloud.run_job("job-1", attempt=1)

    # THEN it exits 3 (Batch retries it), commits nothing and leaves the record to the handler
    assert fault.injected >= 5, where
    assert first.code == EXIT_TRANSIENT, (first.errors(), first.stderr[-2000:])
    assert "output/_manifest.json" not in cloud.keys("output/")
    record = cloud.record("job-1")
    assert (record["status"], record["attempts"]) == ("RUNNING", 1)

    # WHEN the faults stop and Batch runs attempt 2
    cloud.faults.clear()
    second = cloud.run_here("job-1", attempt=2)

    # THEN the second attempt commits exactly the clean run's output, and both attempts show
    assert second.code == EXIT_OK, second.errors()
    assert committed(cloud) == clean_run
    record = cloud.record("job-1")
    assert (record["status"], record["attempts"], record["rows"]) == ("SUCCEEDED", 2, 3000)
    running = [h.get("attempt") for h in record["history"] if h["status"] == "RUNNING"]
    assert running == [1, 2]


def test_a_commit_whose_report_failed_is_recognised_by_the_next_attempt(
    cloud, job_input, clean_run
) -> None:
    # GIVEN DynamoDB refusing the SUCCEEDED update on every try (botocore's `max_attempts: 5`
    # counts retries: 6 tries)
    fault = cloud.faults.add(ddb("UpdateItem", b"SUCCEEDED"), THROUGHPUT_EXCEEDED, times=1000)
    cloud.create_job("job-1", job_input)

    # WHEN the first attempt commits its output but cannot report it
    first = cloud.run_job("job-1", attempt=1)
    assert fault.injected == 6
    assert first.code == EXIT_TRANSIENT, first.errors()
    assert "ProvisionedThroughputExceededException" in first.errors()
    output = committed(cloud)

    # THEN attempt 2 reports the commit without rescoring: output untouched, record SUCCEEDED
    cloud.faults.clear()
    second = cloud.run_here("job-1", attempt=2)
    assert second.code == EXIT_OK, second.errors()
    assert committed(cloud) == output == clean_run
    assert json.loads(cloud.objects(MANIFEST)[MANIFEST])["attempt"] == 1
    record = cloud.record("job-1")
    assert (record["status"], record["attempts"], record["rows"]) == ("SUCCEEDED", 2, 3000)
    assert record["manifest_uri"] == f"s3://{DATA_BUCKET}/{MANIFEST}"
