"""The cost `batchscore check` predicts, before anything runs: the plan's seconds per shard on
the priority's first compute environment (config.deployment's defaults: spot or on-demand, EC2
or Fargate by BATCHSCORE_PLATFORM), at the job's resources or Terraform's default ones (1 vCPU,
2048 MiB), one attempt per shard; prices from config.pricing (BATCHSCORE_PRICES overrides)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from config import env
from config.cost import Capacity, estimate
from config.deployment import DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS
from config.pricing import load_prices

if TYPE_CHECKING:
    from config.models import JobConfig
    from job.check import CheckReport

DEFAULT_VCPUS, DEFAULT_MEMORY_MIB = 1.0, 2048  # terraform/variables.tf: job_vcpus, job_memory_mib


def first_capacity(priority: str, platform: str) -> Capacity:
    first = DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS.get(priority, ("on-demand",))[0]
    fargate = platform.strip().upper() == "FARGATE"
    if first == "spot":
        return Capacity.FARGATE_SPOT if fargate else Capacity.SPOT
    return Capacity.FARGATE if fargate else Capacity.EC2


def estimated_cost(config: JobConfig, report: CheckReport) -> dict[str, Any] | None:
    """The cost map of one clean run; None when the plan has no time to go by."""
    if not report.ok or report.plan.seconds_per_shard is None:
        return None
    resources = config.resources
    return estimate(
        vcpus=float((resources.vcpus if resources else None) or DEFAULT_VCPUS),
        memory_mib=int((resources.memory_mib if resources else None) or DEFAULT_MEMORY_MIB),
        seconds_per_shard=report.plan.seconds_per_shard,
        shards=report.plan.shards,
        capacity=first_capacity(config.priority, os.environ.get(env.PLATFORM, "EC2")),
        prices=load_prices(os.environ.get(env.PRICES)),
    )


def cost_line(cost: dict[str, Any]) -> str:
    return f"  estimated cost: ${cost['usd']:.4f} ({cost['basis']})"
