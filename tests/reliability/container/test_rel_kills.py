"""`python -m job run` killed with SIGKILL mid-write (what the OOM killer or a lost host does: no
handler runs): nothing is committed, and the next attempt commits the clean run's output."""

from __future__ import annotations

import json
import signal
import time

import pytest
from support import jobdata
from support.container_cloud import Cloud

from config.retry import EXIT_OK

pytestmark = pytest.mark.slow  # starts `python -m job` (sklearn's import: 3-10 s)

ROWS = 20_000
SMALL_PARTS = ("--batch-rows", "200", "--part-rows", "200")  # ~80 part uploads: seconds


def test_a_sigkill_mid_write_leaves_no_manifest_and_the_retry_commits_the_clean_output(
    cloud: Cloud,
) -> None:
    jobdata.save_model(jobdata.fit(), cloud.local / "model.skops")
    model = cloud.put("models/model.skops", cloud.local / "model.skops")
    path = jobdata.write_table(jobdata.table(ROWS), cloud.local / "big.parquet")
    data = cloud.put("input/big.parquet", path)
    for job_id in ("clean", "job-1"):
        cloud.create_job(job_id, jobdata.config(model, data, f"s3://batchscore-data/{job_id}/"))

    # GIVEN an attempt that has written its first part
    process = cloud.start_job("job-1", 1, *SMALL_PARTS)
    try:
        deadline = time.monotonic() + 90
        while not any("/part-" in key for key in cloud.keys("job-1/")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no part written in time"
            time.sleep(0.02)
        # WHEN it is killed outright
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL

    # THEN it committed nothing, and its record shows the attempt still running (the state-change
    # handler, not the dead container, records what happened)
    assert "job-1/_manifest.json" not in cloud.keys("job-1/")
    record = cloud.record("job-1")
    assert (record["status"], record["attempts"]) == ("RUNNING", 1)

    # WHEN Batch runs attempt 2
    assert cloud.run_here("job-1", 2, *SMALL_PARTS).code == EXIT_OK

    # THEN it commits exactly what a clean run commits, and no part of the killed attempt is left
    assert cloud.run_here("clean", 1, *SMALL_PARTS).code == EXIT_OK
    killed = {k.split("/", 1)[1]: v for k, v in cloud.objects("job-1/").items() if "part-" in k}
    clean = {k.split("/", 1)[1]: v for k, v in cloud.objects("clean/").items() if "part-" in k}
    assert killed == clean
    manifest = json.loads(cloud.objects("job-1/_manifest.json")["job-1/_manifest.json"])
    assert len(clean) == len(manifest["parts"]) > 50
    assert manifest["attempt"] == 2
    record = cloud.record("job-1")
    assert (record["status"], record["attempts"], record["rows"]) == ("SUCCEEDED", 2, ROWS)
