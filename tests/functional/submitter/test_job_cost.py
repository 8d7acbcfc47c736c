"""A finished job's cost onto its record (submitter.job_cost, submitter.finished), from Batch's
own shapes: attempts matched to their compute environment by the ECS task's cluster, array
children described 100 at a time, the queue's first environment when a task says nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from support.events import load_event
from support.job_records import open_record
from support.names import TABLE

from config import records
from config.cost import COST_KEYS
from config.pricing import load_prices
from config.status import JobStatus
from submitter import job_metrics
from submitter.finished import after_state_change
from submitter.job_cost import EnvironmentCache, job_cost

PRICES = load_prices(None)
ACCOUNT_REGION = "us-east-1:123456789012"
QUEUE = f"arn:aws:batch:{ACCOUNT_REGION}:job-queue/batchscore-normal"
JOB_ID = "churn-0123456789abcdef"


def environment(name: str, kind: str) -> dict[str, Any]:
    """DescribeComputeEnvironments' shape for a Fargate environment."""
    return {
        "computeEnvironmentName": name,
        "computeEnvironmentArn": f"arn:aws:batch:{ACCOUNT_REGION}:compute-environment/{name}",
        "ecsClusterArn": f"arn:aws:ecs:{ACCOUNT_REGION}:cluster/AWSBatch-{name}-1a2b",
        "type": "MANAGED",
        "state": "ENABLED",
        "status": "VALID",
        "computeResources": {"type": kind, "maxvCpus": 16, "subnets": [], "securityGroupIds": []},
    }


def task(name: str) -> str:
    return f"arn:aws:ecs:{ACCOUNT_REGION}:task/AWSBatch-{name}-1a2b/0f9e8d"


class RecordingBatch:
    """The Batch calls job_cost makes, answered in Batch's shapes, each one recorded."""

    def __init__(self, children: dict[str, dict[str, Any]] | None = None) -> None:
        self.environments = [
            environment("bs-spot", "FARGATE_SPOT"),
            environment("bs-od", "FARGATE"),
        ]
        self.children = children or {}
        self.calls: list[tuple[str, Any]] = []

    def describe_job_queues(self, jobQueues: list[str]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(("DescribeJobQueues", jobQueues))
        order = [
            {"order": i, "computeEnvironment": ce["computeEnvironmentArn"]}
            for i, ce in enumerate(self.environments, start=1)
        ]
        return {"jobQueues": [{"jobQueueArn": QUEUE, "computeEnvironmentOrder": order}]}

    def describe_compute_environments(
        self,
        computeEnvironments: list[str],  # noqa: N803 - boto3's name
    ) -> dict[str, Any]:
        self.calls.append(("DescribeComputeEnvironments", computeEnvironments))
        return {"computeEnvironments": copy.deepcopy(self.environments)}

    def describe_jobs(self, jobs: list[str]) -> dict[str, Any]:
        assert len(jobs) <= 100, "DescribeJobs takes at most 100 ids"
        self.calls.append(("DescribeJobs", jobs))
        return {"jobs": [self.children[j] for j in jobs if j in self.children]}


def attempt(started: int, seconds: int, cluster_of: str | None) -> dict[str, Any]:
    container: dict[str, Any] = {"exitCode": 0}
    if cluster_of:
        container["taskArn"] = task(cluster_of)
    return {"container": container, "startedAt": started, "stoppedAt": started + seconds * 1000}


def detail(*attempts: dict[str, Any], vcpus: str = "1", memory: str = "2048") -> dict[str, Any]:
    return {
        "jobId": "4c7599ae",
        "jobQueue": QUEUE,
        "status": "SUCCEEDED",
        "createdAt": 1_000_000,
        "attempts": list(attempts),
        "parameters": {"job_id": JOB_ID},
        "container": {
            "resourceRequirements": [
                {"type": "VCPU", "value": vcpus},
                {"type": "MEMORY", "value": memory},
            ]
        },
    }


def test_a_spot_reclaim_then_an_on_demand_retry_is_split_exactly() -> None:
    batch = RecordingBatch()
    job = detail(attempt(2_000_000, 600, "bs-spot"), attempt(3_000_000, 1200, "bs-od"))

    cost = job_cost(batch, job, PRICES)

    assert tuple(cost) == COST_KEYS
    assert cost["attempts"] == 2
    assert cost["vcpu_seconds"] == 1800
    assert cost["gib_seconds"] == 3600
    assert cost["spot_usd"] == pytest.approx(600 / 3600 * (0.012144 + 2 * 0.0013335), abs=1e-6)
    assert cost["on_demand_usd"] == pytest.approx(1200 / 3600 * (0.04048 + 2 * 0.004445), abs=1e-6)
    assert "each attempt's ECS task matched" in cost["basis"]
    assert [name for name, _ in batch.calls] == ["DescribeJobQueues", "DescribeComputeEnvironments"]


def test_an_attempt_whose_task_names_no_cluster_is_priced_as_the_queues_first_environment() -> None:
    job = detail(attempt(2_000_000, 3600, None), attempt(9_000_000, 3600, "bs-od"))
    cost = job_cost(RecordingBatch(), job, PRICES)
    assert cost["spot_usd"] == pytest.approx(0.012144 + 2 * 0.0013335, abs=1e-6)  # bs-spot first
    assert "1 of 2 attempt(s) estimated from the queue's first compute environment" in cost["basis"]
    assert "bs-spot, FARGATE_SPOT" in cost["basis"]


def test_an_array_costs_every_child_and_every_attempt_in_100_id_calls() -> None:
    size = 250
    children = {}
    for index in range(size):
        tries = [attempt(1_000_000, 60, "bs-spot")]
        if index % 50 == 0:  # every 50th child was retried once
            tries.append(attempt(2_000_000, 120, "bs-od"))
        child = detail(*tries, vcpus="0.5", memory="1024")
        child["jobId"] = f"4c7599ae:{index}"
        child["arrayProperties"] = {"index": index}
        children[child["jobId"]] = child
    parent = detail()
    parent["arrayProperties"] = {"size": size, "statusSummary": {}}
    batch = RecordingBatch(children)

    cost = job_cost(batch, parent, PRICES)

    assert cost["attempts"] == size + 5
    assert cost["vcpu_seconds"] == pytest.approx(0.5 * (size * 60 + 5 * 120))
    described = [ids for name, ids in batch.calls if name == "DescribeJobs"]
    assert [len(ids) for ids in described] == [100, 100, 50]
    assert sorted(i for ids in described for i in ids) == sorted(children)
    assert cost["on_demand_usd"] > 0
    assert cost["spot_usd"] > 0


def test_the_environments_are_asked_once_per_warm_lambda() -> None:
    batch, cache = RecordingBatch(), EnvironmentCache()
    for _ in range(3):
        job_cost(batch, detail(attempt(1, 60, "bs-od")), PRICES, cache=cache)
    assert len(batch.calls) == 2


def test_the_final_event_puts_the_cost_on_the_record_once_and_publishes_metrics(
    ddb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("batch-succeeded.json")
    event["detail"]["attempts"][0]["container"]["taskArn"] = task("bs-od")
    open_record(
        ddb, JOB_ID, JobStatus.SUCCEEDED, batch_job_id=event["detail"]["jobId"],
        queue=QUEUE, rows=1000, seconds=60,
    )  # fmt: skip
    batch = RecordingBatch()

    def costed() -> dict[str, Any] | None:
        return after_state_change(
            event, ddb=ddb, table=TABLE, batch=batch, prices=PRICES, publish=job_metrics.publish
        )

    record = costed()

    assert record is not None
    stored = records.get_record(ddb, TABLE, JOB_ID)
    assert stored["cost"] == record["cost"]
    assert stored["cost"]["attempts"] == 1
    assert stored["cost"]["on_demand_usd"] > 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for line in lines for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == set(job_metrics.METRIC_NAMES)
    assert all(
        line["status"] == "SUCCEEDED" and line["queue"] == "batchscore-normal" for line in lines
    )
    # A repeated event neither costs again nor counts the job twice.
    assert costed() is None
    assert '"_aws"' not in capsys.readouterr().out


def test_a_child_or_another_jobs_event_costs_nothing(ddb: Any) -> None:
    event = load_event("batch-succeeded.json")
    open_record(ddb, JOB_ID, JobStatus.SUCCEEDED, batch_job_id="another-batch-job")
    assert (
        after_state_change(event, ddb=ddb, table=TABLE, batch=RecordingBatch(), prices=PRICES)
        is None
    )
    child = load_event("batch-array-child-succeeded.json")
    assert (
        after_state_change(child, ddb=ddb, table=TABLE, batch=RecordingBatch(), prices=PRICES)
        is None
    )
    assert "cost" not in records.get_record(ddb, TABLE, JOB_ID)


def test_an_open_record_is_not_costed(ddb: Any) -> None:
    event = load_event("batch-succeeded.json")
    open_record(ddb, JOB_ID, JobStatus.RUNNING, batch_job_id=event["detail"]["jobId"])
    assert (
        after_state_change(event, ddb=ddb, table=TABLE, batch=RecordingBatch(), prices=PRICES)
        is None
    )
