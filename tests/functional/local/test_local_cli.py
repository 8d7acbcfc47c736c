"""`batchscore local up`: a long-running stack other calls find through the state file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.local_state import stack_client
from support.waiting import wait_until

from submitter.local.state import read_state

BATCHSCORE = [sys.executable, "-c", "from submitter.cli.entrypoint import app; app()"]


@pytest.mark.slow
def test_local_up_runs_until_stopped_and_refuses_a_second_one(tmp_path: Path):
    state_file = tmp_path / "local.json"
    environment = {**os.environ, "BATCHSCORE_LOCAL_STATE": str(state_file)}
    up = subprocess.Popen(
        [*BATCHSCORE, "local", "up", "--vcpus", "1"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: read_state(state_file) is not None or up.poll() is not None, 60)
        state = read_state(state_file)
        assert state is not None, up.communicate()
        assert state["pid"] == up.pid
        assert state_file.stat().st_mode & 0o777 == 0o600  # it holds the token
        s3 = stack_client(state, "s3")
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} >= {"batchscore-jobs"}

        second = subprocess.run(
            [*BATCHSCORE, "local", "up"], env=environment, capture_output=True, text=True
        )
        assert second.returncode == 1
        assert second.stderr.strip().startswith("error: a local stack runs already")
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        up.send_signal(signal.SIGTERM)
        out, err = up.communicate(timeout=30)
    assert up.returncode == 0, err
    assert "export AWS_ENDPOINT_URL=" in out
    assert out.strip().endswith("local stack stopped")
    assert not state_file.exists()
