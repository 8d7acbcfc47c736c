"""The real output docs/operations.md shows: on the local stack, a finished job's cost in
`batchscore status`, a job too big for its compute environments explained by `batchscore status`,
and `batchscore cost`. Run: `.venv/bin/python scripts/operations_example.py`."""

from __future__ import annotations

import json
import os
import time

from config.records import get_record
from config.status import JobStatus
from submitter.cli.demo import demo_jobs, write_inputs
from submitter.cli.entrypoint import main
from submitter.cli.submit import upload_config
from submitter.local.pipeline import connect_handlers
from submitter.local.stack import LocalStack


def run() -> None:
    stack = LocalStack(max_vcpus=2).start()
    try:
        settings = connect_handlers(stack)
        os.environ.update(stack.env)
        s3, ddb = stack.client("s3"), stack.client("dynamodb")
        write_inputs(s3, stack.names.data_bucket, 2000)
        jobs = {job.config["name"]: job.config for job in demo_jobs(stack.names.data_bucket)}
        small = jobs["churn-flaky"] | {"job_id": "churn-nightly", "name": "churn-nightly"}
        big = small | {"job_id": "churn-big", "name": "churn-big", "resources": {"vcpus": 4}}
        shards = jobs["churn-low"] | {"job_id": "churn-sharded"}
        for config in (small, shards, big):
            raw = json.dumps(config).encode()
            upload_config(s3, stack.names.jobs_bucket, f"jobs/{config['name']}.json", raw, None)
        for job_id in ("churn-nightly", "churn-sharded"):
            for _ in range(600):
                record = get_record(ddb, settings.table, job_id) or {}
                if JobStatus(record.get("status", "SUBMITTED")).is_terminal and "cost" in record:
                    break
                time.sleep(0.2)
        for argv in (
            ["status", "churn-big"],
            ["status", "churn-sharded"],
            ["cost", "--by", "name"],
            ["cost", "--by", "priority", "--json"],
        ):
            print(f"$ batchscore {' '.join(argv)}")
            main(argv)
            print()
        main(["cancel", "churn-big"])
    finally:
        stack.stop()


if __name__ == "__main__":
    run()
