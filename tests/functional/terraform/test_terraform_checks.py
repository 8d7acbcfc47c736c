"""The four Terraform checks, run through their Makefile targets so that `make test`, CI and a
developer's `make terraform-check` run exactly the same commands."""

from __future__ import annotations

import re

import pytest
from support.terraform_hcl import run_make


def assert_target_passes(target: str) -> str:
    result = run_make(target)
    assert result.returncode == 0, f"make {target} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_fmt():
    assert_target_passes("tf-fmt")


@pytest.mark.slow
def test_init_and_validate_root_and_example():
    out = assert_target_passes("tf-validate")

    assert out.count("Success! The configuration is valid.") == 2


@pytest.mark.slow
def test_terraform_test_with_mock_provider():
    out = assert_target_passes("tf-test")

    assert "0 failed" in out
    assert not re.search(r"\b0 passed", out)


@pytest.mark.slow
def test_checkov_finds_no_unexplained_failure():
    out = assert_target_passes("tf-checkov")

    assert "Failed checks: 0" in out
