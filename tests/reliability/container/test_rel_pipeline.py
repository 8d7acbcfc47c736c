"""The container under the whole local pipeline (real ingest and state-change handlers, the local
Batch running `python -m job run` processes): a spot reclaim mid-write, an attempt timeout, and bad
data, each judged by the record, the Batch job and the output."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pytest
from support import jobdata

from config import retry
from config.records import get_record
from job.commands import main
from submitter.local.jobs import JobDefinition
from submitter.local.pipeline import connect_handlers
from submitter.local.stack import LocalStack

pytestmark = pytest.mark.slow  # a local stack and one or two job processes per test

ROWS = 20_000
# Parts of 200 rows: the 20,000-row input takes ~80 part uploads, seconds of writing in which
# the test can reclaim the host after the first part and before the manifest.
PART_OPTIONS = ("--batch-rows", "200", "--part-rows", "200")


def definition(timeout_seconds: float = 3600) -> JobDefinition:
    """The deployed job definition with small parts."""
    return JobDefinition(
        name="batchscore-job",
        command=("python", "-m", "job", "run", "--job-id", "Ref::job_id", *PART_OPTIONS),
        retry_strategy=retry.retry_strategy(),
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture
def start_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., LocalStack]]:
    started: list[LocalStack] = []

    def start(job_definition: JobDefinition) -> LocalStack:
        stack = LocalStack(
            job_definitions=[job_definition],
            poll_seconds=0.05,
            batch_options={"min_timeout_seconds": 0, "kill_grace_seconds": 1},
        ).start()
        started.append(stack)
        connect_handlers(stack)
        for name, value in stack.env.items():  # for the in-process clean runs
            monkeypatch.setenv(name, value)
        return stack

    yield start
    for stack in started:
        stack.stop()


class Pipeline:
    def __init__(self, stack: LocalStack, tmp_path: Any) -> None:
        self.stack = stack
        self.s3 = stack.client("s3")
        self.ddb = stack.client("dynamodb")
        self.bucket = stack.names.data_bucket
        self.tmp = tmp_path
        estimator = jobdata.fit()
        jobdata.save_model(estimator, tmp_path / "model.skops")
        self.s3.upload_file(str(tmp_path / "model.skops"), self.bucket, "models/model.skops")

    def put_table(self, key: str, data: pa.Table) -> str:
        path = jobdata.write_table(data, self.tmp / key)
        self.s3.upload_file(str(path), self.bucket, key)
        return f"s3://{self.bucket}/{key}"

    def config(self, name: str, input_uri: str, **changes: Any) -> dict[str, Any]:
        model = f"s3://{self.bucket}/models/model.skops"
        output = f"s3://{self.bucket}/output/{name}/"
        return jobdata.config(model, input_uri, output, name=name, job_id=name, **changes)

    def submit(self, document: dict[str, Any]) -> str:
        """Upload the config as a user does; return the Batch job id once ingest submitted it."""
        key = f"{self.stack.names.jobs_prefix}{document['name']}.json"
        self.s3.put_object(Bucket=self.stack.names.jobs_bucket, Key=key, Body=json.dumps(document))
        return self.wait_for(lambda: self.record(document["job_id"]).get("batch_job_id"))

    def record(self, job_id: str) -> dict[str, Any]:
        return get_record(self.ddb, self.stack.names.table, job_id) or {}

    def wait_status(self, job_id: str, status: str) -> dict[str, Any]:
        """The record once the state-change handler moved it to `status`."""
        return self.wait_for(lambda: (r := self.record(job_id)).get("status") == status and r)

    def keys(self, prefix: str) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def parts(self, prefix: str) -> dict[str, bytes]:
        """Part bytes by file name (not key: the clean run writes under another prefix)."""
        return {
            key.rsplit("/", 1)[1]: self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            for key in self.keys(prefix)
            if "/part-" in key
        }

    def manifest(self, prefix: str) -> dict[str, Any]:
        body = self.s3.get_object(Bucket=self.bucket, Key=f"{prefix}_manifest.json")["Body"]
        return json.loads(body.read())

    @staticmethod
    def wait_for(probe: Callable[[], Any], timeout: float = 90) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            time.sleep(0.02)
        return found


def clean_run(pipeline: Pipeline, document: dict[str, Any], tmp_path: Any) -> str:
    """Score the same config to output/clean/ with `python -m job score` (no Batch, no faults)."""
    clean = {k: v for k, v in document.items() if k != "job_id"}
    clean["output"] = {**document["output"], "uri": f"s3://{pipeline.bucket}/output/clean/"}
    path = jobdata.write_config(tmp_path / "clean.json", clean)
    assert main(["score", str(path), *PART_OPTIONS]) == 0
    return "output/clean/"


def test_a_spot_reclaim_mid_write_is_retried_into_the_clean_output(
    start_stack, tmp_path, capsys
) -> None:
    pipeline = Pipeline(start_stack(definition()), tmp_path)
    document = pipeline.config("spot", pipeline.put_table("input/big.parquet", jobdata.table(ROWS)))
    batch_job_id = pipeline.submit(document)

    # WHEN the host is reclaimed after the first part was written, before the manifest
    pipeline.wait_for(lambda: any("/part-" in key for key in pipeline.keys("output/spot/")))
    assert "output/spot/_manifest.json" not in pipeline.keys("output/spot/")
    pipeline.stack.batch.simulate_spot_reclaim(batch_job_id)
    detail = pipeline.stack.batch.wait([batch_job_id], timeout=120)[0]

    # THEN Batch retried it (the reclaim is attempt 1) and attempt 2 committed
    assert detail["attempts"][0]["statusReason"].startswith("Host EC2")
    assert detail["status"] == "SUCCEEDED", detail["attempts"]
    record = pipeline.wait_status("spot", "SUCCEEDED")
    assert (record["attempts"], record["rows"]) == (2, ROWS)
    assert [h.get("attempt") for h in record["history"] if h["status"] == "RUNNING"] == [1, 2]
    manifest = pipeline.manifest("output/spot/")
    assert manifest["attempt"] == 2  # no manifest of the killed attempt

    # AND the output is byte for byte what a clean run writes
    capsys.readouterr()
    clean = clean_run(pipeline, document, tmp_path)
    assert pipeline.parts("output/spot/") == pipeline.parts(clean)
    assert manifest["rows"] == pipeline.manifest(clean)["rows"] == ROWS
    assert [p["rows"] for p in manifest["parts"]] == [
        p["rows"] for p in pipeline.manifest(clean)["parts"]
    ]


def test_an_attempt_timeout_fails_the_job_with_the_reason_and_no_manifest(
    start_stack, tmp_path
) -> None:
    pipeline = Pipeline(start_stack(definition(timeout_seconds=2)), tmp_path)
    document = pipeline.config("slow", pipeline.put_table("input/big.parquet", jobdata.table(ROWS)))
    batch_job_id = pipeline.submit(document)

    detail = pipeline.stack.batch.wait([batch_job_id], timeout=60)[0]

    assert detail["status"] == "FAILED"
    assert len(detail["attempts"]) == 1  # a timeout is never retried
    record = pipeline.wait_status("slow", "FAILED")
    assert "timeout" in record["status_reason"].lower(), record["status_reason"]
    assert record["attempts"] == 1
    assert "output/slow/_manifest.json" not in pipeline.keys("output/slow/")


def test_bad_data_fails_once_as_permanent_naming_the_column(start_stack, tmp_path) -> None:
    pipeline = Pipeline(start_stack(definition()), tmp_path)
    data = jobdata.table(1000).to_pydict()
    data["f1"][700] = None
    document = pipeline.config("holes", pipeline.put_table("input/holes.parquet", pa.table(data)))
    batch_job_id = pipeline.submit(document)

    detail = pipeline.stack.batch.wait([batch_job_id], timeout=60)[0]

    assert (detail["status"], len(detail["attempts"])) == ("FAILED", 1)
    assert detail["attempts"][0]["container"]["exitCode"] == retry.EXIT_PERMANENT
    record = pipeline.wait_status("holes", "FAILED")
    assert record["attempts"] == 1
    assert record["exit_code"] == retry.EXIT_PERMANENT
    assert "NaN in feature(s) f1" in record["status_reason"]
    assert "output/holes/_manifest.json" not in pipeline.keys("output/holes/")
