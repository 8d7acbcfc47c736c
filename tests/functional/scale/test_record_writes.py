"""Simulation: the job record's writes for one array job of N shards, by the real code against
moto's DynamoDB, with each write's WCUs computed as DynamoDB bills an UpdateItem (the larger of
the item's size before and after, per started KiB). Figures in docs/scale-requests.md.

Every Batch event of the array (6 statuses per child and per parent) goes through the deployed
rule's pattern (`event_rules.delivered`) and, if it passes, through the real state handler, with
a Batch that accepts the commit job; then the commit job's own write (`job.status.
mark_succeeded`, what `python -m job commit` records) and its events, and the cost's write.
Children write nothing themselves (tests/functional/job/test_job_batch.py shows the record
unchanged by them). Before (the last child commits, every child counting itself on the item):
measured at N = 1,000 on commit 34a545c, 1,000 writes and 2,249 WCU; see the doc."""

from __future__ import annotations

import json
import math
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import bytesize
from support import jobdata

from config import records
from job import status
from submitter import job_cost
from submitter.local.event_rules import delivered
from submitter.state_change import handle_event

TABLE = "jobs"
JOB_ID = "job-sim"
PARENT = "parent-0001"
STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED")
QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/batchscore-normal"
DEFINITION = "arn:aws:batch:us-east-1:123456789012:job-definition/batchscore-job:1"


class CommitBatch:
    """Batch as the state handler uses it here: SubmitJob (the commit job) and DescribeJobs."""

    def __init__(self) -> None:
        self.submitted: list[dict[str, Any]] = []

    def submit_job(self, **request: Any) -> dict[str, Any]:
        self.submitted.append(request)
        return {"jobId": f"commit-{len(self.submitted)}", "jobName": request["jobName"]}

    def describe_jobs(self, jobs: list[str]) -> dict[str, Any]:
        return {"jobs": [{"jobId": job, "status": "RUNNING"} for job in jobs]}


def event(job_id: str, state: str, **detail: Any) -> dict[str, Any]:
    return {
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "detail": {
            "jobId": job_id,
            "jobName": f"batchscore-{JOB_ID}",
            "jobQueue": QUEUE,
            "jobDefinition": DEFINITION,
            "status": state,
            "statusReason": "",
            "attempts": [],
            "parameters": {"job_id": JOB_ID},
            **detail,
        },
    }


def array_events(shards: int) -> list[dict[str, Any]]:
    """Every event of a successful array: the children's, then the parent's (its SUCCEEDED
    last, as Batch sends it after every child's)."""
    children = [
        event(f"{PARENT}:{i}", state, arrayProperties={"index": i})
        for i in range(shards)
        for state in STATUSES
    ]
    parent = [
        event(PARENT, state, arrayProperties={"size": shards, "statusSummary": {}})
        for state in STATUSES
    ]
    return parent[:-1] + children + parent[-1:]


def item_size(ddb: Any) -> int:
    item = ddb.get_item(TableName=TABLE, Key={records.KEY: {"S": JOB_ID}})["Item"]
    return sum(bytesize(name) + DynamoType(value).size() for name, value in item.items())


def simulate(shards: int) -> dict[str, Any]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(**records.table_definition(TABLE))
        document = jobdata.config("s3://m/model.skops", "s3://d/in/", "s3://d/out/", shards=shards)
        records.create_record(
            ddb,
            TABLE,
            {
                "job_id": JOB_ID,
                "name": "sim",
                "status": "SUBMITTED",
                "priority": "normal",
                "queue": "normal",
                "config": json.dumps(document),
                "shards": shards,
                "batch_job_id": PARENT,
            },
        )
        wcu: list[int] = []
        before = {"size": item_size(ddb)}

        def bill(**_: Any) -> None:  # after every write call, whether it applied or not
            after = item_size(ddb)
            wcu.append(math.ceil(max(before["size"], after) / 1024))
            before["size"] = after

        for operation in ("UpdateItem", "PutItem", "DeleteItem"):
            ddb.meta.events.register(f"after-call.dynamodb.{operation}", bill)
        batch = CommitBatch()
        events = [e for e in array_events(shards) if delivered(e)]
        for each in events:
            handle_event(each, ddb=ddb, table=TABLE, batch=batch)
        [commit] = batch.submitted
        # the commit job: its container's one write, then its events (filtered like the rest)
        status.mark_succeeded(ddb, TABLE, JOB_ID, {"rows": shards, "seconds": 60.0})
        for state in STATUSES:
            commit_event = event("commit-1", state, parameters=commit["parameters"])
            if delivered(commit_event):
                events.append(commit_event)
                handle_event(commit_event, ddb=ddb, table=TABLE, batch=batch)
        job_cost.record_cost(ddb, TABLE, JOB_ID, PARENT, {"usd": 0.5})
        record = records.get_record(ddb, TABLE, JOB_ID)
    return {
        "events": 6 * (shards + 1),
        "delivered": len(events),
        "writes": len(wcu),
        "wcu": sum(wcu),
        "largest": max(wcu),
        "size": item_size_of(record),
        "status": record["status"],
    }


def item_size_of(record: dict[str, Any]) -> int:
    item = records.to_item(record)
    return sum(bytesize(name) + DynamoType(value).size() for name, value in item.items())


@pytest.mark.slow
def test_the_records_writes_do_not_grow_with_the_shards() -> None:
    figures = {shards: simulate(shards) for shards in (10, 1_000, 10_000)}
    print()
    for shards, f in figures.items():
        print(
            f"N = {shards:>6,}: {f['events']:>6,} events, {f['delivered']} delivered, "
            f"{f['writes']} writes, {f['wcu']} WCU (largest {f['largest']}), "
            f"item {f['size']} B, {f['status']}"
        )
    small, large = figures[10], figures[10_000]
    assert large["status"] == "SUCCEEDED"
    # the same writes, the same WCUs and the same item, whatever N
    assert (large["delivered"], large["writes"], large["wcu"], large["largest"]) == (
        small["delivered"],
        small["writes"],
        small["wcu"],
        small["largest"],
    )
    assert abs(large["size"] - small["size"]) < 16  # the config's shard count and figures
    # parent RUNNING and SUCCEEDED, the commit job's RUNNING and SUCCEEDED reach the handler;
    # the record is written by: each parent event's attach-if-missing (refused: the record has
    # its Batch job, but a refused conditional write is billed), the parent's RUNNING, the
    # commit job attached, the commit's SUCCEEDED, the cost
    assert (large["delivered"], large["writes"]) == (4, 6)
