"""The contract and the deployment refuse what AWS Batch would refuse at SubmitJob (values from the
AWS Batch API Reference: ResourceRequirement, JobTimeout, tags)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config.batch_limits import FARGATE_MEMORY, MAX_INTEGER, Platform, resource_problems
from config.exceptions import ConfigError
from config.parsing import parse_config

MINIMAL = json.loads((Path(__file__).parents[3] / "config/examples/minimal.json").read_text())


def problems_of(**changes: Any) -> list[str]:
    try:
        parse_config(json.dumps(MINIMAL | changes).encode())
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"resources": {"vcpus": 1e308}}, "resources.vcpus"),
        ({"resources": {"memory_mib": 99_999_999_999}}, "resources.memory_mib"),
        ({"timeout_seconds": 99_999_999_999}, "timeout_seconds"),
        ({"tags": {"team": "a\u0000b"}}, "tags"),
        ({"tags": {"team<script>": "x"}}, "tags"),
    ],
)
def test_values_batch_refuses_are_contract_errors(changes: dict[str, Any], path: str) -> None:
    [problem] = problems_of(**changes)
    assert problem.startswith(f"{path}: ")


def test_the_largest_values_batch_takes_are_accepted() -> None:
    assert problems_of(timeout_seconds=MAX_INTEGER, resources={"memory_mib": MAX_INTEGER}) == []
    assert problems_of(tags={"Cost Center": "ML/Scoring @ acme:eu-1 =+_.-", "é": "ü"}) == []


@pytest.mark.parametrize("vcpus", [0.5, 0.25, 1.5])
def test_ec2_takes_whole_vcpus_only(vcpus: float) -> None:
    [problem] = resource_problems(vcpus, None, Platform.EC2)
    assert problem.path == "resources.vcpus"
    assert resource_problems(2, 1000, Platform.EC2) == []


def test_fargate_takes_its_listed_pairs_only() -> None:
    assert resource_problems(0.25, 2048, Platform.FARGATE) == []
    assert resource_problems(16, 122880, Platform.FARGATE) == []
    assert resource_problems(4, 30720, Platform.FARGATE) == []
    assert [p.path for p in resource_problems(4, 31744, Platform.FARGATE)] == [
        "resources.memory_mib"
    ]
    assert [p.path for p in resource_problems(8, 17408, Platform.FARGATE)] == [
        "resources.memory_mib"  # 8 vCPU goes in 4 GiB steps
    ]
    assert [p.path for p in resource_problems(3, None, Platform.FARGATE)] == ["resources.vcpus"]
    assert resource_problems(None, 512, Platform.FARGATE) == []
    assert [p.path for p in resource_problems(None, 600, Platform.FARGATE)] == [
        "resources.memory_mib"
    ]


def test_the_fargate_table_is_the_documented_one() -> None:
    counts = {vcpus: len(memory) for vcpus, memory in FARGATE_MEMORY.items()}
    assert counts == {0.25: 3, 0.5: 4, 1: 7, 2: 13, 4: 23, 8: 12, 16: 12}
