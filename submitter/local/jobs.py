"""The local Batch's objects (queues, job definitions, jobs, attempts) and their API shapes.

Everything a caller sees is produced here, in the shapes of the Batch API (DescribeJobs' JobDetail,
ListJobs' JobSummary, DescribeJobQueues, DescribeJobDefinitions) and of EventBridge's
"Batch Job State Change" event, whose `detail` is the JobDetail. Times are epoch milliseconds.
"""

from __future__ import annotations

import copy
import re
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from subprocess import Popen
from typing import IO, Any

from config import retry

ACCOUNT = "123456789012"  # moto's default account: ARNs look alike in S3, DynamoDB and Batch
REGION = "us-east-1"
IMAGE = "batchscore-job:local"
INSTANCE_ID = "i-local"

SUBMITTED, PENDING, RUNNABLE = "SUBMITTED", "PENDING", "RUNNABLE"
STARTING, RUNNING, SUCCEEDED, FAILED = "STARTING", "RUNNING", "SUCCEEDED", "FAILED"
STATUSES = (SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED)
# Batch's final job statuses (a record's terminal statuses are config.status.TERMINAL)
ENDED = frozenset({SUCCEEDED, FAILED})
ACTIVE = frozenset({STARTING, RUNNING})

# The reasons Batch writes, which retry rules and the state-change handler match on.
EXITED = "Essential container in task exited"
TIMED_OUT = "Job attempt duration exceeded timeout"
CHILD_FAILED = "Array Child Job failed"


def host_terminated(instance_id: str = INSTANCE_ID) -> str:
    """The status reason of an attempt lost with its host (a spot reclaim)."""
    return f"Host EC2 (instance {instance_id}) terminated."


# The status reason of a Fargate Spot task reclaimed by AWS (ECS's stoppedReason).
SPOT_TASK_INTERRUPTED = "Your Spot Task was interrupted."


def now_ms() -> int:
    return int(time.time() * 1000)


def arn(kind: str, name: str) -> str:
    return f"arn:aws:batch:{REGION}:{ACCOUNT}:{kind}/{name}"


def name_from_arn(reference: str) -> str:
    """`name`, `name:revision` or an ARN ending in either -> what follows the resource type."""
    return reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference


@dataclass(frozen=True)
class JobQueue:
    name: str
    priority: int
    compute_environments: tuple[str, ...] = ("local",)
    state: str = "ENABLED"

    @property
    def arn(self) -> str:
        return arn("job-queue", self.name)

    def describe(self) -> dict[str, Any]:
        return {
            "jobQueueName": self.name,
            "jobQueueArn": self.arn,
            "state": self.state,
            "status": "VALID",
            "statusReason": "JobQueue Healthy",
            "priority": self.priority,
            "computeEnvironmentOrder": [
                {"order": order, "computeEnvironment": arn("compute-environment", name)}
                for order, name in enumerate(self.compute_environments, start=1)
            ],
            "tags": {},
        }


def ecs_cluster(compute_environment: str) -> str:
    """The ECS cluster Batch would create for a compute environment (`AWSBatch-<name>-<id>`)."""
    return f"AWSBatch-{compute_environment}-local"


def task_arn(compute_environment: str) -> str:
    """A new-format ECS task ARN in the environment's cluster, as Batch gives each attempt."""
    return (
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{ecs_cluster(compute_environment)}/{uuid.uuid4().hex}"
    )


@dataclass(frozen=True)
class ComputeEnvironment:
    """A local compute environment: the one host, under the deployment's environment names
    (`on-demand` is EC2, `spot` is SPOT), so DescribeComputeEnvironments answers as on AWS."""

    name: str
    max_vcpus: float
    state: str = "ENABLED"
    status: str = "VALID"

    @property
    def arn(self) -> str:
        return arn("compute-environment", self.name)

    def describe(self) -> dict[str, Any]:
        return {
            "computeEnvironmentName": self.name,
            "computeEnvironmentArn": self.arn,
            "ecsClusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{ecs_cluster(self.name)}",
            "type": "MANAGED",
            "state": self.state,
            "status": self.status,
            "statusReason": "ComputeEnvironment Healthy" if self.status == "VALID" else None,
            "computeResources": {
                "type": "SPOT" if "spot" in self.name else "EC2",
                "minvCpus": 0,
                "maxvCpus": int(self.max_vcpus),
                "instanceTypes": ["optimal"],
            },
            "tags": {},
        }


@dataclass(frozen=True)
class JobDefinition:
    name: str
    command: tuple[str, ...]
    revision: int = 1
    parameters: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    retry_strategy: Mapping[str, Any] | None = None
    timeout_seconds: float | None = None
    vcpus: float = 1
    memory_mib: int = 2048

    @property
    def arn(self) -> str:
        return arn("job-definition", f"{self.name}:{self.revision}")

    def describe(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "jobDefinitionName": self.name,
            "jobDefinitionArn": self.arn,
            "revision": self.revision,
            "status": "ACTIVE",
            "type": "container",
            "parameters": dict(self.parameters),
            "containerProperties": {
                "image": IMAGE,
                "command": list(self.command),
                "environment": _name_values(self.environment),
                "resourceRequirements": _resources(self.vcpus, self.memory_mib),
            },
            "platformCapabilities": ["EC2"],
            "tags": {},
        }
        if self.retry_strategy:
            detail["retryStrategy"] = copy.deepcopy(dict(self.retry_strategy))
        if self.timeout_seconds:
            detail["timeout"] = {"attemptDurationSeconds": self.timeout_seconds}
        return detail


# What terraform/batch.tf's job definition runs (a test holds them equal).
JOB_COMMAND = (
    "python",
    "-m",
    "job",
    "run",
    "--job-id",
    "Ref::job_id",
    "--config-sha256",
    "Ref::config_sha256",
)


def default_job_definition(
    name: str = "batchscore-job",
    *,
    timeout_seconds: float | None = 3600,
    environment: Mapping[str, str] | None = None,
) -> JobDefinition:
    """The job definition batchscore deploys: `python -m job run --job-id Ref::job_id
    --config-sha256 Ref::config_sha256` (the default of config_sha256, not a digest, is refused
    by the container) with the shared retry strategy (config.retry), as terraform declares it."""
    return JobDefinition(
        name=name,
        command=JOB_COMMAND,
        parameters={"config_sha256": "unset"},
        retry_strategy=retry.retry_strategy(),
        timeout_seconds=timeout_seconds,
        environment=dict(environment or {}),
    )


def substitute(command: Sequence[str], parameters: Mapping[str, str]) -> list[str]:
    """Batch's parameter substitution: an argument `Ref::name` becomes the parameter's value;
    an argument naming no parameter is passed on as written."""
    return [
        parameters.get(arg[len("Ref::") :], arg) if arg.startswith("Ref::") else arg
        for arg in command
    ]


def local_argv(command: Sequence[str], python: str = sys.executable) -> list[str]:
    """The container's command for a local process: `python` is this interpreter."""
    if command and command[0] in ("python", "python3"):
        return [python, *command[1:]]
    return list(command)


LOG_STREAM_SAFE = re.compile(r"[^A-Za-z0-9._/-]")


def log_file(log_dir: Path, stream_name: str) -> Path:
    """Where the local executor keeps the output of the attempt logged to `stream_name`."""
    return log_dir / (LOG_STREAM_SAFE.sub("_", stream_name) + ".log")


@dataclass
class Attempt:
    started_at: int
    log_stream: str
    stopped_at: int | None = None
    exit_code: int | None = None
    reason: str | None = None
    status_reason: str | None = None
    task_arn: str | None = None  # the ECS task that ran it: its cluster names its environment

    def describe(self) -> dict[str, Any]:
        container: dict[str, Any] = {"logStreamName": self.log_stream}
        if self.task_arn:
            container["taskArn"] = self.task_arn
        if self.exit_code is not None:
            container["exitCode"] = self.exit_code
        if self.reason:
            container["reason"] = self.reason
        return _without_none(
            {
                "container": container,
                "startedAt": self.started_at,
                "stoppedAt": self.stopped_at,
                "statusReason": self.status_reason,
            }
        )


@dataclass
class Stop:
    """Why the executor is ending a running attempt, and whether Batch may retry after it."""

    status_reason: str
    retryable: bool
    lost_host: bool = False  # the attempt vanished with its host: no exit code to report
    kill_at: float | None = None  # monotonic time of the SIGKILL, once SIGTERM was sent


@dataclass
class Job:
    id: str
    name: str
    queue: JobQueue
    definition: JobDefinition
    parameters: dict[str, str]
    command: list[str]
    environment: dict[str, str]
    retry_strategy: dict[str, Any] | None
    timeout_seconds: float | None
    vcpus: float
    memory_mib: int
    tags: dict[str, str]
    created_at: int = field(default_factory=now_ms)
    status: str = SUBMITTED
    status_reason: str | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    array_size: int | None = None  # parents only
    array_index: int | None = None  # children only
    children: list[Job] = field(default_factory=list)
    parent: Job | None = None
    queued_seq: int = 0  # FIFO order within the queue, renewed on every return to RUNNABLE
    # the attempt under way (Batch lists an attempt in `attempts` only once it has ended)
    attempt: Attempt | None = None
    process: Popen[bytes] | None = None
    log: IO[bytes] | None = None
    deadline: float | None = None  # monotonic time the attempt times out
    stop: Stop | None = None

    @property
    def arn(self) -> str:
        return arn("job", self.id)

    @property
    def is_parent(self) -> bool:
        return self.array_size is not None

    def new_log_stream(self) -> str:
        return f"{self.definition.name}/default/{uuid.uuid4().hex}"

    def status_summary(self) -> dict[str, int]:
        summary = dict.fromkeys(STATUSES, 0)
        for child in self.children:
            summary[child.status] += 1
        return summary

    def describe(self) -> dict[str, Any]:
        """The JobDetail of DescribeJobs (and of state-change events)."""
        container: dict[str, Any] = {
            "image": IMAGE,
            "command": list(self.command),
            "volumes": [],
            "environment": _name_values(self.environment),
            "mountPoints": [],
            "ulimits": [],
            "networkInterfaces": [],
            "resourceRequirements": _resources(self.vcpus, self.memory_mib),
            "secrets": [],
        }
        if self.attempt is not None:
            container["logStreamName"] = self.attempt.log_stream
        elif self.attempts:
            container.update(self.attempts[-1].describe()["container"])
        detail: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.name,
            "jobId": self.id,
            "jobQueue": self.queue.arn,
            "status": self.status,
            "statusReason": self.status_reason,
            "attempts": [attempt.describe() for attempt in self.attempts],
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "retryStrategy": copy.deepcopy(self.retry_strategy),
            "dependsOn": [],
            "jobDefinition": self.definition.arn,
            "parameters": dict(self.parameters),
            "container": container,
            "tags": dict(self.tags),
            "propagateTags": False,
            "platformCapabilities": ["EC2"],
        }
        if self.timeout_seconds:
            detail["timeout"] = {"attemptDurationSeconds": self.timeout_seconds}
        if self.is_parent:
            detail["arrayProperties"] = {
                "statusSummary": self.status_summary(),
                "size": self.array_size,
            }
        elif self.array_index is not None:
            detail["arrayProperties"] = {"index": self.array_index}
        return _without_none(detail)

    def summary(self) -> dict[str, Any]:
        """The JobSummary of ListJobs."""
        summary: dict[str, Any] = {
            "jobArn": self.arn,
            "jobId": self.id,
            "jobName": self.name,
            "createdAt": self.created_at,
            "status": self.status,
            "statusReason": self.status_reason,
            "startedAt": self.started_at,
            "stoppedAt": self.stopped_at,
            "jobDefinition": self.definition.arn,
        }
        if self.attempts:
            last = self.attempts[-1]
            container = {"exitCode": last.exit_code, "reason": last.reason}
            summary["container"] = _without_none(container)
        if self.is_parent:
            summary["arrayProperties"] = {"size": self.array_size}
        elif self.array_index is not None:
            summary["arrayProperties"] = {"index": self.array_index}
        return _without_none(summary)

    def state_change_event(self) -> dict[str, Any]:
        """EventBridge's "Batch Job State Change" event for the job as it is now."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Batch Job State Change",
            "source": "aws.batch",
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [self.arn],
            "detail": self.describe(),
        }


def _name_values(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in mapping.items()]


def _resources(vcpus: float, memory_mib: int) -> list[dict[str, str]]:
    return [
        {"type": "VCPU", "value": f"{vcpus:g}"},
        {"type": "MEMORY", "value": str(memory_mib)},
    ]


def _without_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}
