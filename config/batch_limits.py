"""AWS Batch's own rules for the fields it interprets, from the AWS Batch API Reference, so a
config Batch would refuse is REJECTED at upload with its field path, not FAILED at SubmitJob.

- `ResourceRequirement` (VCPU, MEMORY): on EC2 resources at least one vCPU, a whole number; on
  Fargate only the listed vCPU values, each with its listed memory values (MiB).
- `JobTimeout.attemptDurationSeconds`: an Integer (32-bit), at least 60.
- `tags`: keys 1-128 characters, values up to 256, both of Unicode letters, numbers and spaces
  and `_ . : / = + - @` (the tagging pattern `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`); at most 50 per
  resource, the job definition's propagated tags included.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from config.exceptions import Problem

MAX_INTEGER = 2**31 - 1  # the API's Integer
MAX_TAGS = 50
TAG_SYMBOLS = frozenset("_.:/=+-@")


class Platform(StrEnum):
    """The deployment's compute: Terraform's `compute_type`."""

    EC2 = "EC2"
    FARGATE = "FARGATE"


def _steps(first: int, last: int, step: int) -> frozenset[int]:
    return frozenset(range(first, last + 1, step))


# vCPU -> the memory values (MiB) Fargate accepts with it.
FARGATE_MEMORY: dict[float, frozenset[int]] = {
    0.25: frozenset({512, 1024, 2048}),
    0.5: _steps(1024, 4096, 1024),
    1: _steps(2048, 8192, 1024),
    2: _steps(4096, 16384, 1024),
    4: _steps(8192, 30720, 1024),
    8: _steps(16384, 61440, 4096),
    16: _steps(32768, 122880, 8192),
}


def resource_problems(
    vcpus: float | None, memory_mib: int | None, platform: Platform
) -> list[Problem]:
    """What Batch would refuse of these resources on `platform` (nothing given: nothing to say)."""
    if platform == Platform.EC2:
        if vcpus is not None and (vcpus < 1 or not float(vcpus).is_integer()):
            return [
                Problem("resources.vcpus", f"must be a whole number of vCPUs on EC2, got {vcpus}")
            ]
        return []
    problems = []
    if vcpus is not None and vcpus not in FARGATE_MEMORY:
        allowed = ", ".join(f"{v:g}" for v in FARGATE_MEMORY)
        problems.append(
            Problem("resources.vcpus", f"must be one of {allowed} on Fargate, got {vcpus:g}")
        )
    elif memory_mib is not None:
        choices = (
            FARGATE_MEMORY[vcpus]
            if vcpus is not None
            else frozenset().union(*FARGATE_MEMORY.values())
        )
        if memory_mib not in choices:
            with_vcpus = f" with {vcpus:g} vCPU" if vcpus is not None else ""
            problems.append(
                Problem(
                    "resources.memory_mib",
                    f"Fargate does not offer {memory_mib} MiB{with_vcpus} "
                    f"(it offers {min(choices)}-{max(choices)} MiB in its listed steps)",
                )
            )
    return problems


def tag_text_problem(text: str) -> str | None:
    """Why Batch's tag pattern refuses `text`, or None."""
    for character in text:
        category = unicodedata.category(character)[0]
        if category not in "LZN" and character not in TAG_SYMBOLS:
            return (
                f"holds {character!r}; AWS tags allow letters, numbers, spaces and _ . : / = + - @"
            )
    return None
