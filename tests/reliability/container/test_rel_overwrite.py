"""Overwrite protection on S3 through `python -m job run`: a committed output survives a job with
`overwrite: false` byte for byte; `overwrite: true` replaces it whole (manifest = parts)."""

from __future__ import annotations

import json

from support.container_cloud import Cloud
from support.names import DATA_BUCKET

from config.retry import EXIT_OK, EXIT_PERMANENT


def test_overwrite_false_keeps_the_output_and_true_replaces_it_whole(
    cloud: Cloud, job_input
) -> None:
    # GIVEN a committed output of job A (six parts of 500 rows)
    cloud.create_job("job-a", job_input)
    assert cloud.run_here("job-a").code == EXIT_OK
    before = cloud.objects("output/")
    assert len([key for key in before if "/part-" in key]) == 6

    # WHEN job B writes to the same place without overwrite
    cloud.create_job("job-b", job_input)
    refused = cloud.run_here("job-b")

    # THEN it fails as permanent, says why, and every object of A is untouched
    assert refused.code == EXIT_PERMANENT
    assert "set output.overwrite to true" in refused.errors()
    assert cloud.objects("output/") == before
    record = cloud.record("job-b")
    assert (record["status"], record["exit_code"]) == ("FAILED", EXIT_PERMANENT)
    assert f"s3://{DATA_BUCKET}/output/_manifest.json" in record["status_reason"]

    # WHEN job C overwrites with larger parts
    cloud.create_job("job-c", {**job_input, "output": {**job_input["output"], "overwrite": True}})
    assert cloud.run_here("job-c", 1, "--batch-rows", "1000", "--part-rows", "1000").code == EXIT_OK

    # THEN the manifest is C's and lists exactly the parts present: none of A's is left
    manifest = json.loads(cloud.objects("output/_manifest.json")["output/_manifest.json"])
    assert manifest["job_id"] == "job-c"
    listed = sorted(part["uri"] for part in manifest["parts"])
    present = sorted(
        f"s3://{DATA_BUCKET}/{key}" for key in cloud.keys("output/") if "/part-" in key
    )
    assert listed == present
    assert len(listed) == 3
    assert sum(part["rows"] for part in manifest["parts"]) == manifest["rows"] == 3000
    record = cloud.record("job-c")
    assert (record["status"], record["rows"]) == ("SUCCEEDED", 3000)
    assert record["manifest_uri"] == f"s3://{DATA_BUCKET}/output/_manifest.json"
