"""What a deployment tells the contract: its queues, their priorities and compute environments.

The defaults here are the one source for the Terraform defaults and the local executor.
"""

from __future__ import annotations

import json

from config.models import DEFAULT_QUEUES

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
    """Queue names from the BATCHSCORE_QUEUES setting: a JSON object keyed by priority name, or
    comma-separated names. Unset or empty: the default deployment's queues."""
    if not setting or not setting.strip():
        return DEFAULT_QUEUES
    text = setting.strip()
    if text.startswith("{"):
        mapping = json.loads(text)
        if not isinstance(mapping, dict) or not mapping:
            raise ValueError("BATCHSCORE_QUEUES must be a non-empty JSON object or a list of names")
        return tuple(mapping)
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise ValueError("BATCHSCORE_QUEUES names no queue")
    return names
