"""Helpers for the Terraform checks: the checks themselves live in the Makefile (one place for
CI, pre-commit and pytest); the tests run them, and read the HCL for contract comparisons."""

from __future__ import annotations

import io
import json
import re
import subprocess
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from support.paths import ROOT, TERRAFORM_DIR


def run_make(target: str) -> subprocess.CompletedProcess[str]:
    """`make <target>` at the repository root; the output is attached to a failure."""
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        check=False,
    )


def parse_hcl(text: str) -> dict[str, Any]:
    """HCL as python-hcl2 reads it, strings without their quotes."""
    options = SerializationOptions(strip_string_quotes=True)
    return hcl2.load(io.StringIO(text), serialization_options=options)


def load_hcl(name: str) -> dict[str, Any]:
    """One file of the root module (`iam.tf`), parsed."""
    return parse_hcl((TERRAFORM_DIR / name).read_text())


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
