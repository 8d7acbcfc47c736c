"""The container reliability tests' emulated AWS: a `Cloud` (the fault-injecting moto server's
S3 and DynamoDB, the job's record) and `python -m job run`, as a process or in this one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from faulty_moto import Faults

from config import env, records

TABLE = "batchscore-jobs"
BUCKET = "batchscore-data"
ROOT = Path(__file__).parents[3]
# Small batches and parts: the 3000-row input becomes several parts, so faults and kills land
# between parts.
RUN_OPTIONS = ("--batch-rows", "250", "--part-rows", "500")


@dataclass
class Done:
    code: int
    lines: list[str]
    stderr: str

    def errors(self) -> str:
        found = []
        for line in self.lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("level") == "ERROR":
                found.append(entry.get("message", ""))
        return " | ".join(found)


@dataclass
class Cloud:
    """The emulated AWS of one test, its faults, and the job subprocess that uses it."""

    endpoint: str
    faults: Faults
    s3: Any
    ddb: Any
    local: Path
    capsys: pytest.CaptureFixture[str]
    env: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, path: Path) -> str:
        self.s3.upload_file(str(path), BUCKET, key)
        return f"s3://{BUCKET}/{key}"

    def keys(self, prefix: str) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(item["Key"] for item in listing)

    def objects(self, prefix: str) -> dict[str, bytes]:
        return {
            key: self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            for key in self.keys(prefix)
        }

    def delete_prefix(self, prefix: str) -> None:
        for key in self.keys(prefix):
            self.s3.delete_object(Bucket=BUCKET, Key=key)

    def create_job(self, job_id: str, document: dict[str, Any]) -> None:
        records.create_record(
            self.ddb,
            TABLE,
            {
                "job_id": job_id,
                "name": document["name"],
                "status": "SUBMITTED",
                "priority": "normal",
                "queue": "normal",
                "config": json.dumps(document),
                "shards": document.get("shards", 1),
            },
        )

    def record(self, job_id: str) -> dict[str, Any]:
        return records.get_record(self.ddb, TABLE, job_id)

    def start_job(self, job_id: str, attempt: int = 1, *options: str) -> subprocess.Popen[str]:
        """`python -m job run` as Batch runs it: a process of its own."""
        return subprocess.Popen(
            [sys.executable, "-m", "job", "run", "--job-id", job_id, *(options or RUN_OPTIONS)],
            cwd=ROOT,
            env={**self.env, env.BATCH_JOB_ATTEMPT: str(attempt)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_job(self, job_id: str, attempt: int = 1, *options: str) -> Done:
        process = self.start_job(job_id, attempt, *options)
        try:
            stdout, stderr = process.communicate(timeout=120)
        finally:
            process.kill()
        return Done(process.returncode, stdout.splitlines(), stderr)

    def run_here(self, job_id: str, attempt: int = 1, *options: str, shard: int = 0) -> Done:
        """The same command in this process (no interpreter start-up: seconds cheaper), for the
        runs that are not under test (clean references, retries after the faults stopped)."""
        from job.commands import main

        environment = {
            **self.env,
            env.BATCH_JOB_ATTEMPT: str(attempt),
            env.BATCH_ARRAY_INDEX: str(shard),
        }
        code = main(["run", "--job-id", job_id, *(options or RUN_OPTIONS)], environ=environment)
        return Done(code, self.capsys.readouterr().out.splitlines(), "")


def process_env(endpoint: str) -> dict[str, str]:
    """The job process's environment: this machine's, pointed at the emulator."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BATCHSCORE_"))}
    return {
        **keep,
        env.AWS_ENDPOINT_URL: endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        env.TABLE_NAME: TABLE,
    }
