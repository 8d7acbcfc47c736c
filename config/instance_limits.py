"""The largest job one instance of a compute environment can hold, for explaining why a job
waits in RUNNABLE: Batch never places a job on more than one instance, so a job asking for more
vCPUs or memory than the largest allowed instance (or than the environment's maxvCpus) waits
forever, with no status reason until Batch's own RUNNABLE timeout (if any) fails it.

EC2 sizes follow the naming every current family shares: `large` 2 vCPUs, `xlarge` 4, `Nxlarge`
4N; memory per vCPU by the family's letter (c 2 GiB, m 4 GiB, r 8 GiB, x 16 GiB), from the EC2
instance-type pages. A family named without a size may use its largest (24xlarge, 96 vCPUs;
metal and 32xlarge/48xlarge sizes exist in some families, so this errs small, and the
explanation says "about"). `optimal` picks from the C, M and R families: the largest R, as the
most memory a job could get. The ECS agent keeps some of an instance's memory for itself, so a
job asking for all of it does not fit either (the docs' "memory management" page).

Fargate: the largest combination in `config.batch_limits.FARGATE_MEMORY` (16 vCPU, 120 GiB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.batch_limits import FARGATE_MEMORY

GIB_PER_VCPU = {"c": 2, "m": 4, "r": 8, "x": 16, "z": 8, "t": 4}
LARGEST_NAMED_SIZE_VCPUS = 96  # a family given without a size: its 24xlarge
SIZE = re.compile(r"^(?:(\d+)?xlarge|large|medium|small|micro|nano)$")


@dataclass(frozen=True)
class Largest:
    vcpus: float
    memory_mib: int
    approximate: bool = False


def largest_fargate() -> Largest:
    vcpus = max(FARGATE_MEMORY)
    return Largest(vcpus, max(FARGATE_MEMORY[vcpus]))


def largest_instance(instance_types: list[str]) -> Largest:
    """The largest of these instance types (names, families or `optimal`)."""
    sizes = [_instance(name) for name in instance_types or ["optimal"]]
    return Largest(
        max(s.vcpus for s in sizes),
        max(s.memory_mib for s in sizes),
        any(s.approximate for s in sizes),
    )


def _instance(name: str) -> Largest:
    if name == "optimal":
        return Largest(LARGEST_NAMED_SIZE_VCPUS, LARGEST_NAMED_SIZE_VCPUS * 8 * 1024, True)
    family, _, size = name.partition(".")
    per_vcpu = GIB_PER_VCPU.get(family[:1], 4)
    if not size:
        vcpus = LARGEST_NAMED_SIZE_VCPUS
        return Largest(vcpus, vcpus * per_vcpu * 1024, True)
    match = SIZE.match(size)
    if match is None:  # metal, metal-24xl, ...: not a size this table knows
        return Largest(LARGEST_NAMED_SIZE_VCPUS, LARGEST_NAMED_SIZE_VCPUS * per_vcpu * 1024, True)
    if size.endswith("xlarge"):
        vcpus = 4 * int(match.group(1) or 1)
        return Largest(vcpus, vcpus * per_vcpu * 1024)
    # large: 2 vCPUs; the burstable sizes below it (t3.nano to t3.medium) too, with less memory
    return Largest(2, 2 * per_vcpu * 1024, approximate=size != "large")
