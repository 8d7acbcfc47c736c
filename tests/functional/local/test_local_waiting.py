"""Why a job is not running (submitter.waiting), asked of the local Batch over Batch's own API
(DescribeJobs, DescribeJobQueues, DescribeComputeEnvironments, ListJobs), as `batchscore status`
asks it; and the local attempts' task ARNs matched to their environment for the cost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from support.local_jobs import GATED, script

from config.pricing import load_prices
from submitter.job_cost import job_cost
from submitter.local.api import BatchApi
from submitter.waiting import explain

TOKEN = "BSLOCALTESTTOKEN"


@pytest.fixture
def served(make_batch, gate: Path) -> Iterator[tuple[Any, Any]]:
    batch = make_batch(script("ok", "print('ok')"), script("gated", GATED, args=[str(gate)]))
    with BatchApi(batch, token=TOKEN) as api:
        client = boto3.client(
            "batch",
            endpoint_url=api.url,
            region_name="us-east-1",
            aws_access_key_id=TOKEN,
            aws_secret_access_key="testing",
        )
        yield batch, client
    gate.touch()


def wait_for(client: Any, job_id: str, status: str) -> dict[str, Any]:
    for _ in range(1000):
        (detail,) = client.describe_jobs(jobs=[job_id])["jobs"]
        if detail["status"] == status:
            return detail
        time.sleep(0.01)
    raise AssertionError(f"{job_id} never reached {status}: {detail['status']}")


def resources(vcpus: str) -> dict[str, Any]:
    return {"resourceRequirements": [{"type": "VCPU", "value": vcpus}]}


def test_a_job_too_big_for_its_compute_environments_is_explained(served) -> None:
    _, client = served
    job = client.submit_job(
        jobName="big", jobQueue="normal", jobDefinition="ok", containerOverrides=resources("4")
    )["jobId"]
    wait_for(client, job, "RUNNABLE")

    explanation = explain(client, job)

    assert explanation is not None
    assert explanation.headline.startswith("too big for its compute environments")
    assert "asks for 4 vCPU" in explanation.headline
    assert "2 vCPU" in explanation.headline  # the local environments' maxvCpus
    assert "status reason: -" in explanation.details[0]
    assert any(
        "compute environment spot: SPOT, ENABLED/VALID, maxvCpus 2" in line
        for line in explanation.details
    )


def test_jobs_ahead_in_the_queue_are_counted(served, gate: Path) -> None:
    _, client = served
    client.submit_job(
        jobName="hog", jobQueue="normal", jobDefinition="gated", containerOverrides=resources("2")
    )
    first = client.submit_job(jobName="first", jobQueue="normal", jobDefinition="ok")["jobId"]
    second = client.submit_job(jobName="second", jobQueue="normal", jobDefinition="ok")["jobId"]
    wait_for(client, second, "RUNNABLE")
    wait_for(client, first, "RUNNABLE")

    explanation = explain(client, second)

    assert explanation is not None
    assert explanation.jobs_ahead == 1
    assert explanation.headline == "1 job(s) are ahead of it in its queue normal"
    gate.touch()
    wait_for(client, second, "SUCCEEDED")
    assert explain(client, second) is None  # no longer waiting


def test_a_disabled_compute_environment_is_named(served) -> None:
    batch, client = served
    batch.set_compute_environment_state("spot", state="DISABLED")
    client.submit_job(
        jobName="hog", jobQueue="low", jobDefinition="gated", containerOverrides=resources("2")
    )
    job = client.submit_job(jobName="low", jobQueue="low", jobDefinition="ok")["jobId"]
    wait_for(client, job, "RUNNABLE")

    explanation = explain(client, job)

    assert explanation is not None
    assert explanation.headline == (
        "no compute environment of its queue can run jobs: spot is DISABLED/VALID"
    )


def test_local_attempts_name_the_environment_that_ran_them(served) -> None:
    _, client = served
    job = client.submit_job(jobName="ok", jobQueue="high", jobDefinition="ok")["jobId"]
    detail = wait_for(client, job, "SUCCEEDED")

    cost = job_cost(client, detail, load_prices(None))

    assert cost["attempts"] == 1
    assert cost["vcpu_seconds"] > 0
    assert cost["basis"].startswith("each attempt's ECS task matched to its compute environment")
    assert cost["spot_usd"] == 0  # `high` runs on-demand first
