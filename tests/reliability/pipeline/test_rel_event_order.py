"""Out-of-order and duplicated state-change events -> no status ever moves backwards, and the
final record is the one in-order delivery gives.

Property-style: the real event sequences of jobs run by the local Batch (a retried transient
failure, a permanent failure, exhausted retries, a spot reclaim then success, a timeout, an
array job) are fed to the real state-change handler in random orders with random duplicates.
After every event the record's status rank must not have decreased, and a terminal record must
not have changed at all.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from support.names import JOB_DEFINITION
from support.waiting import wait_until

from config import records
from config.status import JobStatus
from submitter.batch import job_name

PERMUTATIONS = 20
FINAL_FIELDS = ("status", "status_reason", "exit_code", "attempts", "batch_job_id")
SLEEPER = "sleeper"


def run_scenario(pipeline: Any, scenario: str) -> list[dict[str, Any]]:
    """Run one job through the local Batch; its state-change events, in order."""
    batch = pipeline.local_batch
    job_id = f"order-{scenario}"
    request: dict[str, Any] = {
        "jobName": job_name(job_id),
        "jobQueue": "normal",
        "jobDefinition": JOB_DEFINITION,
        "parameters": {"job_id": job_id},
    }
    if scenario == "transient-then-ok":
        batch.inject_exit(request["jobName"], 3, attempts=1)
    elif scenario == "permanent":
        batch.inject_exit(request["jobName"], 2, attempts=1)
    elif scenario == "exhausted":
        batch.inject_exit(request["jobName"], 3, attempts=3)
    elif scenario == "array-ok":
        request["arrayProperties"] = {"size": 3}
    elif scenario == "array-child-fails":
        request["arrayProperties"] = {"size": 2}
        shard_1_fails = "import os, sys; sys.exit(os.environ['AWS_BATCH_JOB_ARRAY_INDEX'] == '1')"
        request["containerOverrides"] = {"command": ["python", "-S", "-c", shard_1_fails]}
    elif scenario in ("spot-then-ok", "timeout"):
        request["jobDefinition"] = SLEEPER
        if scenario == "timeout":
            request["timeout"] = {"attemptDurationSeconds": 1}
    batch_job_id = batch.submit_job(**request)["jobId"]
    if scenario == "spot-then-ok":
        wait_until(lambda: _status(batch, batch_job_id) == "RUNNING", 20, "the sleeper runs")
        batch.inject_exit(request["jobName"], 0, attempts=1)
        batch.simulate_spot_reclaim(batch_job_id)
    batch.wait([batch_job_id], timeout=60)
    return [
        e
        for e in pipeline.batch_events
        if e["detail"]["jobId"].split(":")[0] == batch_job_id
        and e["detail"]["status"] in ("RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
    ]


def _status(batch: Any, batch_job_id: str) -> str:
    return batch.describe_jobs(jobs=[batch_job_id])["jobs"][0]["status"]


def renamed(events: list[dict[str, Any]], job_id: str) -> list[dict[str, Any]]:
    """The events as if of the job `job_id` (a fresh record per permutation)."""
    copies = copy.deepcopy(events)
    for event in copies:
        event["detail"]["parameters"]["job_id"] = job_id
    return copies


def fresh_record(pipeline: Any, job_id: str) -> None:
    records.create_record(
        pipeline.ddb,
        pipeline.settings.table,
        {"job_id": job_id, "name": "order", "status": JobStatus.SUBMITTED.value, "shards": 1},
    )


def final(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in FINAL_FIELDS} | {
        "failed_shard": {k: v for k, v in (record.get("failed_shard") or {}).items() if k != "at"}
    }


def deliver_checking(pipeline: Any, events: list[dict[str, Any]], job_id: str) -> dict[str, Any]:
    """Deliver `events` one by one; after each, the record never went backwards."""
    table = pipeline.settings.table
    before = records.get_record(pipeline.ddb, table, job_id)
    for event in events:
        pipeline.state(event)
        after = records.get_record(pipeline.ddb, table, job_id)
        old, new = JobStatus(before["status"]), JobStatus(after["status"])
        assert new.rank >= old.rank, f"{old} -> {new} on {event['detail']['status']}"
        if old.is_terminal:
            assert after == before, f"a terminal record changed on {event['detail']['status']}"
        before = after
    return before


SCENARIOS = [
    "transient-then-ok",
    "permanent",
    "exhausted",
    "spot-then-ok",
    "timeout",
    "array-ok",
    # The parent's FAILED before the child's: the handler asks the (local) Batch for the shard.
    "array-child-fails",
]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_any_order_with_duplicates_never_moves_back_and_ends_as_in_order(
    make_pipeline, scenario: str
) -> None:
    pipeline = make_pipeline(max_vcpus=4)
    pipeline.local_batch.register_job_definition(
        jobDefinitionName=SLEEPER,
        containerProperties={"command": ["python", "-S", "-c", "import time; time.sleep(60)"]},
        retryStrategy=pipeline.local_batch.describe_job_definitions(
            jobDefinitions=[JOB_DEFINITION]
        )["jobDefinitions"][0]["retryStrategy"],
    )
    events = run_scenario(pipeline, scenario)
    assert len(events) >= 4

    fresh_record(pipeline, "in-order")
    expected = final(deliver_checking(pipeline, renamed(events, "in-order"), "in-order"))
    if scenario == "array-ok":
        # An array that succeeded ends with its commit job (not among these events): the
        # parent's SUCCEEDED leaves the record open with one commit job, in any order.
        assert expected["status"] == JobStatus.RUNNING
    else:
        assert JobStatus(expected["status"]).is_terminal

    rng = random.Random(scenario)
    for round_ in range(PERMUTATIONS):
        job_id = f"shuffled-{round_}"
        fresh_record(pipeline, job_id)
        shuffled = renamed(events, job_id)
        shuffled += rng.sample(shuffled, k=rng.randint(1, len(shuffled)))  # duplicates
        rng.shuffle(shuffled)
        got = final(deliver_checking(pipeline, shuffled, job_id))
        assert got == expected, f"order {[e['detail']['status'] for e in shuffled]}"
        if scenario == "array-ok":
            record = records.get_record(pipeline.ddb, pipeline.settings.table, job_id)
            assert record.get("commit_batch_job_id"), "the parent's SUCCEEDED submits the commit"
