"""`make demo`'s scenario, run as a user runs it: `batchscore demo` in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

pytestmark = pytest.mark.slow


def test_demo_shows_every_expected_outcome(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BATCHSCORE_")}
    environment |= {"COLUMNS": "160", "BATCHSCORE_LOCAL_STATE": str(tmp_path / "state.json")}
    result = subprocess.run(
        [sys.executable, "-m", "submitter.cli", "demo", "--rows", "2000", "--timeout", "240"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, output[-3000:] + result.stderr[-3000:]
    for line in (
        "is SUCCEEDED",
        "ran on the high queue",
        "ran on the normal queue",
        "ran on the low queue",
        "is REJECTED",
        "reason names model.sha256",
        "the rejected config is kept",
        "churn-flaky took 2 attempt(s)",
        "the endpoint's answers equal the batch job's for the same customers",
        "notified once",  # each job's notification, as the SNS subscriber got it
        "on shifted data reports drift against",
        "batchscore: churn-high SUCCEEDED (predictions drifted)",
        "batchscore: churn-unpinned REJECTED",
        "demo passed",
    ):
        assert line in output, line
    assert "NOT " not in output
    assert "proba_1" in output  # a few predictions were shown
    # ... and it ends with each job's cost, recorded by the state-change handler for every job
    # that reached Batch (the REJECTED one never did)
    costs = output[output.index("cost of each job (estimated)") :]
    assert "not recorded" not in costs
    assert "never ran" in costs
    assert "total" in costs
