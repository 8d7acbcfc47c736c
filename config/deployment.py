"""What a deployment tells the contract: its queues, their priorities and compute environments.

The defaults here are the one source for the Terraform defaults and the local executor.
"""

from __future__ import annotations

import json
import re

from config import env
from config.exceptions import DeploymentSettingError
from config.models import DEFAULT_QUEUES, NAME_PATTERN

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
