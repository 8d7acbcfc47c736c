"""AWS Batch's API on moto (in-process or a moto server): what SubmitJob needs, a compute
environment, the queues `batchscore-<priority>` and the job definition. moto runs no job here
unless Docker is configured; it answers the API. Used where the real Batch API matters more than
running jobs: the submitter's functional tests and benchmarks/bench_submit.py."""

from __future__ import annotations

import json
from typing import Any

import boto3

from submitter.local import jobs

REGION = "us-east-1"
QUEUES = ("high", "normal", "low")
JOB_DEFINITION = "batchscore-job"


def create_batch(batch: Any) -> dict[str, str]:
    """An unmanaged compute environment is enough for the Batch API (no VPC, no instances)."""
    iam = boto3.client("iam", region_name=batch.meta.region_name)
    role = iam.create_role(
        RoleName="batchscore-batch-service",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "batch.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    environment = batch.create_compute_environment(
        computeEnvironmentName="batchscore-ondemand",
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=role,
    )["computeEnvironmentArn"]
    arns = {}
    for order, priority in enumerate(QUEUES):
        arns[priority] = batch.create_job_queue(
            jobQueueName=f"batchscore-{priority}",
            state="ENABLED",
            priority=100 - order * 10,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )["jobQueueArn"]
    batch.register_job_definition(
        jobDefinitionName=JOB_DEFINITION,
        type="container",
        parameters={"job_id": "unset", "config_sha256": "unset"},
        containerProperties={
            "image": "batchscore-job:latest",
            "command": list(jobs.JOB_COMMAND),
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
        },
    )
    return arns
