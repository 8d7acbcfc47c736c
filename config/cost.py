"""A job's cost from what its attempts used: pure arithmetic over `config.pricing`'s table.

Shared by the state Lambda (the actual cost of a finished job, `submitter.job_cost`) and by
`batchscore check` (an estimate before the job runs). The record's `cost` attribute is the map
`as_record` returns; its keys are a contract (notifications and `batchscore cost` read them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from config.pricing import ec2_family

COST_KEYS = ("usd", "on_demand_usd", "spot_usd", "vcpu_seconds", "gib_seconds", "attempts", "basis")


class Capacity(StrEnum):
    """A compute environment's `computeResources.type`: what kind of capacity ran an attempt."""

    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"
    EC2 = "EC2"
    SPOT = "SPOT"

    @property
    def is_spot(self) -> bool:
        return self in (Capacity.FARGATE_SPOT, Capacity.SPOT)

    @property
    def is_fargate(self) -> bool:
        return self in (Capacity.FARGATE, Capacity.FARGATE_SPOT)


@dataclass(frozen=True)
class AttemptUsage:
    """One attempt of one job (or array child): its resources, how long it ran, where."""

    vcpus: float
    memory_mib: int
    seconds: float
    capacity: Capacity
    instance_type: str = "optimal"  # EC2 only: the compute environment's first instance type

    @property
    def vcpu_seconds(self) -> float:
        return self.vcpus * self.seconds

    @property
    def gib_seconds(self) -> float:
        return self.memory_mib / 1024 * self.seconds


def attempt_usd(usage: AttemptUsage, prices: Mapping[str, Any]) -> float:
    """USD of one attempt. Fargate: vCPU-hours and GB-hours at its rates, at least its minimum
    billed seconds. EC2: the job's vCPU share of an instance of its family (memory included),
    at the Spot ratio on Spot."""
    if usage.capacity.is_fargate:
        rates = prices["fargate_spot" if usage.capacity.is_spot else "fargate"]
        seconds = max(usage.seconds, float(prices["fargate_minimum_seconds"]))
        hours = seconds / 3600
        return float(
            usage.vcpus * hours * rates["vcpu_hour"]
            + usage.memory_mib / 1024 * hours * rates["gb_hour"]
        )
    families = prices["ec2_vcpu_hour"]
    family = ec2_family(usage.instance_type)
    rate = families.get(family, families[prices["ec2_default_family"]])
    usd = float(usage.vcpus * usage.seconds / 3600 * rate)
    return usd * float(prices["ec2_spot_ratio"]) if usage.capacity.is_spot else usd


def summarize(
    usages: Iterable[AttemptUsage], prices: Mapping[str, Any], *, basis: str
) -> dict[str, Any]:
    """The record's `cost` map (`COST_KEYS`) for every attempt of a job, children included."""
    on_demand = spot = vcpu_seconds = gib_seconds = 0.0
    attempts = 0
    for usage in usages:
        usd = attempt_usd(usage, prices)
        if usage.capacity.is_spot:
            spot += usd
        else:
            on_demand += usd
        vcpu_seconds += usage.vcpu_seconds
        gib_seconds += usage.gib_seconds
        attempts += 1
    return {
        "usd": round(on_demand + spot, 6),
        "on_demand_usd": round(on_demand, 6),
        "spot_usd": round(spot, 6),
        "vcpu_seconds": round(vcpu_seconds, 3),
        "gib_seconds": round(gib_seconds, 3),
        "attempts": attempts,
        "basis": basis,
    }


def estimate(
    *,
    vcpus: float,
    memory_mib: int,
    seconds_per_shard: float,
    shards: int,
    capacity: Capacity,
    prices: Mapping[str, Any],
    instance_type: str = "optimal",
) -> dict[str, Any]:
    """What a job would cost if every shard ran once for `seconds_per_shard` (no retries)."""
    usage = AttemptUsage(vcpus, memory_mib, seconds_per_shard, capacity, instance_type)
    return summarize(
        [usage] * shards,
        prices,
        basis=(
            f"estimated before running: {shards} shard(s) x {seconds_per_shard:,.1f} s on "
            f"{capacity.value} at {vcpus:g} vCPU / {memory_mib} MiB, one attempt each"
        ),
    )
