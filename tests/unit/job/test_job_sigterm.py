"""SIGTERM (Batch terminating, timing out or losing the attempt) stops `python -m job` cleanly:
exit 3 (transient), no manifest. Python as a container's PID 1 would otherwise ignore SIGTERM
and wait for the SIGKILL 30 s later; as a plain process it would die with -15 mid-write."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import jobdata
from support.paths import ROOT

from config.retry import EXIT_TRANSIENT


@pytest.mark.slow
def test_sigterm_mid_scoring_exits_3_without_a_manifest(tmp_path: Path) -> None:
    # GIVEN a job big enough to be mid-scoring for a while (small batches, many parts)
    model = tmp_path / "model.skops"
    jobdata.save_model(jobdata.fit(), model)
    data = jobdata.write_table(jobdata.table(300_000), tmp_path / "in" / "data.parquet")
    output = tmp_path / "out"
    config = jobdata.write_config(
        tmp_path / "job.json", jobdata.config(str(model), str(data), f"{output}/")
    )
    options = ["--batch-rows", "500", "--part-rows", "2000"]
    job = subprocess.Popen(
        [sys.executable, "-m", "job", "score", str(config), *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # WHEN SIGTERM arrives once the first parts are written
        deadline = time.monotonic() + 120
        while not any(output.glob("part-*")):
            assert job.poll() is None, job.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "no part written in time"
            time.sleep(0.05)
        job.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        out, _ = job.communicate(timeout=20)
    finally:
        job.kill()

    # THEN it stops at once, as transient, with no manifest and the reason in its log
    assert job.returncode == EXIT_TRANSIENT, out[-3000:]
    assert time.monotonic() - stopped < 10
    assert not (output / "_manifest.json").exists()
    # The last log line (stderr is merged: the interpreter may add a shutdown note after it when
    # the signal met a daemon thread mid-batch; that note is not the job's).
    last = json.loads([line for line in out.strip().splitlines() if line.startswith("{")][-1])
    assert last["error"] == "TerminatedError"
    assert last["kind"] == "transient"
