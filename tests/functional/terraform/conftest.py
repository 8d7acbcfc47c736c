"""Fixtures of the Terraform checks (helpers in terraform_hcl.py)."""

from __future__ import annotations

from typing import Any

import pytest
from support.terraform_hcl import root_locals


@pytest.fixture(scope="session")
def hcl_locals() -> dict[str, Any]:
    return root_locals()
