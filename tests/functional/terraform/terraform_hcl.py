"""Helpers for the Terraform checks: the checks themselves live in the Makefile (one place for
CI, pre-commit and pytest); these tests run them and read the HCL for contract comparisons.
(A module of its own, not conftest.py: `from conftest import` is ambiguous across test folders.)"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[3]
TERRAFORM_DIR = ROOT / "terraform"


def run_make(target: str) -> subprocess.CompletedProcess[str]:
    """`make <target>` at the repository root; the output is attached to a failure."""
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        check=False,
    )


def load_hcl(name: str) -> dict[str, Any]:
    with (TERRAFORM_DIR / name).open() as file:
        return hcl2.load(file, serialization_options=SerializationOptions(strip_string_quotes=True))


def merged(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """hcl2 gives every `locals`/`resource` block as its own dict: merge them."""
    result: dict[str, Any] = {}
    for block in blocks:
        result.update({k: v for k, v in block.items() if not k.startswith("__")})
    return result


def resource(file: str, kind: str, name: str) -> dict[str, Any]:
    resources = merged(load_hcl(file)["resource"])
    return resources[kind][name]


def root_locals() -> dict[str, Any]:
    """Every `locals` of the root module."""
    values: dict[str, Any] = {}
    for path in TERRAFORM_DIR.glob("*.tf"):
        values.update(merged(load_hcl(path.name).get("locals", [])))
    return values


def job_definition_container() -> str:
    """The job definition's `container_properties` as written (a `jsonencode(merge(...))`
    expression, which python-hcl2 keeps as text)."""
    return resource("batch.tf", "aws_batch_job_definition", "this")["container_properties"]


def job_definition_command() -> list[str]:
    """The job definition's `command`: the list literal inside `container_properties`."""
    match = re.search(r"\bcommand\s*=\s*(\[[^\]]*\])", job_definition_container())
    assert match, "no `command = [...]` in the job definition's container_properties"
    return json.loads(match.group(1))
