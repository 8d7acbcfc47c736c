"""What a deployment tells the contract: its queues, their priorities and compute environments.

The defaults here are the one source for the Terraform defaults and the local executor.
"""

from __future__ import annotations

import json
import re

from config import env
from config.exceptions import DeploymentSettingError, Problem
from config.models import DEFAULT_QUEUES, NAME_PATTERN, JobConfig
from config.uris import parse_uri

# The default deployment's queues and their Batch scheduling priorities (higher runs first), as
# terraform/variables.tf declares them (tests/functional/terraform proves they agree).
DEFAULT_QUEUE_PRIORITIES: dict[str, int] = {"high": 100, "normal": 50, "low": 10}

# Each queue's compute environments, in Batch's `computeEnvironmentOrder` (first tried first):
# urgent work tries on-demand first, the rest prefers the cheaper spot environment.
COMPUTE_ENVIRONMENTS: tuple[str, ...] = ("on-demand", "spot")
DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "high": ("on-demand", "spot"),
    "normal": ("spot", "on-demand"),
    "low": ("spot",),
}


def queue_names(setting: str | None) -> tuple[str, ...]:
    """The priorities a config may name: the keys of the BATCHSCORE_QUEUES setting (see
    `parse_queues`). Unset or empty: the default deployment's queues."""
    if not setting or not setting.strip():
        return DEFAULT_QUEUES
    return tuple(parse_queues(setting))


def parse_queues(setting: str) -> dict[str, str]:
    """`{"high": "arn:...:job-queue/bs-high", ...}`, or comma-separated names that are both the
    priority and the queue (`high,normal,low`). Raise DeploymentSettingError naming the variable."""
    text = setting.strip()
    if text.startswith("{"):
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeploymentSettingError(f"{env.QUEUES} is not valid JSON: {exc}") from None
        if not isinstance(mapping, dict) or not mapping:
            raise DeploymentSettingError(f"{env.QUEUES} must be a non-empty JSON object")
        if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()):
            raise DeploymentSettingError(f"{env.QUEUES} maps priority names to queue names or ARNs")
        queues = dict(mapping)
    else:
        queues = {name.strip(): name.strip() for name in text.split(",") if name.strip()}
    if not queues:
        raise DeploymentSettingError(f"{env.QUEUES} names no queue")
    for priority in queues:
        if not re.fullmatch(NAME_PATTERN, priority):
            raise DeploymentSettingError(f"{env.QUEUES}: {priority!r} is not a valid priority name")
    return queues


# Why Batch says a RUNNABLE job at the head of a queue is blocked: the `statusReason` prefixes
# a queue's jobStateTimeLimitActions can match (AWS Batch User Guide, "Jobs stuck in a RUNNABLE
# status"). Terraform gives every queue one CANCEL action per reason (a test holds them equal).
RUNNABLE_BLOCKED_REASONS: tuple[str, ...] = (
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",  # no instance of the allowed types to be had
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",  # more vCPUs than any max_vcpus
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",  # no allowed instance type is big enough
)


def runnable_cancelled_reason(reason: str) -> str:
    """The statusReason Batch writes on a job its queue's time-limit action cancelled: what the
    state-change handler records as the FAILED job's reason."""
    return f"Canceled by JobStateTimeLimit action due to reason: {reason}"


# -- where a deployed job may read and write --------------------------------------------------


def parse_buckets(setting: str) -> frozenset[str]:
    """BATCHSCORE_ALLOWED_BUCKETS / BATCHSCORE_WRITE_BUCKETS: comma-separated bucket names."""
    return frozenset(name.strip() for name in setting.split(",") if name.strip())


def location_problems(
    config: JobConfig,
    *,
    allowed_buckets: frozenset[str] = frozenset(),
    write_buckets: frozenset[str] = frozenset(),
) -> list[Problem]:
    """The deployment's rules on a config's URIs, the same in the ingest Lambda and in the
    container (which must not trust the record it reads): S3 only, buckets in the allow-list
    (empty: any), the output in a bucket the job role may write (empty: any allowed one)."""
    problems: list[Problem] = []
    for path, uri in (
        ("model.uri", config.model.uri),
        ("input.uri", config.input.uri),
        ("output.uri", config.output.uri),
    ):
        location = parse_uri(uri)
        if location.scheme != "s3":
            problems.append(Problem(path, "the deployed service accepts s3:// URIs only"))
        elif allowed_buckets and location.bucket not in allowed_buckets:
            allowed = ", ".join(sorted(allowed_buckets))
            problems.append(
                Problem(path, f"bucket {location.bucket!r} is not allowed (allowed: {allowed})")
            )
        elif path == "output.uri" and write_buckets and location.bucket not in write_buckets:
            writable = ", ".join(sorted(write_buckets))
            problems.append(
                Problem(
                    path,
                    f"bucket {location.bucket!r} is read-only for the job "
                    f"(outputs may go to: {writable})",
                )
            )
    return problems
