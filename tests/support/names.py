"""The AWS names the tests share: what the Terraform config and the local stack call things."""

from __future__ import annotations

from submitter.local.moto_batch import JOB_DEFINITION, QUEUES, REGION

JOBS_BUCKET = "batchscore-jobs"  # where users drop configs (versioned)
DATA_BUCKET = "batchscore-data"  # models, inputs, outputs
TABLE = "batchscore-jobs"  # the job table

__all__ = ["DATA_BUCKET", "DEMO_ROWS", "JOBS_BUCKET", "JOB_DEFINITION", "QUEUES", "REGION", "TABLE"]
DEMO_ROWS = 500  # customers the CLI tests' local stack holds (tests/functional/cli/conftest.py)
