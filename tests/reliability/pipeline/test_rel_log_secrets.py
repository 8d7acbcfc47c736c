"""Security: no config or secret value reaches the logs beyond the job id and URIs.

A config carries distinctive values (a tag value, a feature name, the model's SHA-256, a
passthrough column). It goes through the real Lambda entry points (ingest, then the state
changes of its job) and through the container (`python -m job score` on local files and
`python -m job run` against moto's DynamoDB); every line they log is captured and searched.
(Failure messages may name a missing column or a mismatched digest: that is their job. These
runs succeed, so nothing justifies any of the values.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from support.events import s3_put_event
from support.job_configs import job_config
from support.names import JOB_DEFINITION, TABLE

from config import env, records
from config.status import JobStatus

TAG_VALUE = "tagvalue-c0ffee-SECRET-4417"
FEATURE = "feature_secret_zq81"
PASSTHROUGH = "passthrough_secret_kk52"
PRIORITY_NOT_ALLOWED = "prio-secret-x7"


def secrets_config(model: Path, data: Path, output: Path, sha256: str) -> dict[str, Any]:
    return {
        "name": "secrets",
        "model": {"uri": str(model), "sha256": sha256},
        "input": {"uri": str(data), "features": ["f0", FEATURE]},
        "output": {"uri": f"{output}/", "passthrough": [PASSTHROUGH]},
        "tags": {"team": TAG_VALUE},
    }


@pytest.fixture
def local_job(tmp_path: Path) -> tuple[dict[str, Any], list[str]]:
    """A scoreable config on local files; the values that must not be logged."""
    rng = np.random.default_rng(5)
    rows = 500
    data = pa.table(
        {
            PASSTHROUGH: np.arange(rows),
            "f0": rng.normal(size=rows),
            FEATURE: rng.normal(size=rows),
        }
    )
    frame = data.select(["f0", FEATURE]).to_pandas()
    estimator = LogisticRegression().fit(frame, (frame["f0"] > 0).astype(int))
    model = tmp_path / "model.skops"
    sio.dump(estimator, model)
    sha256 = hashlib.sha256(model.read_bytes()).hexdigest()
    path = tmp_path / "input.parquet"
    pq.write_table(data, path)
    document = secrets_config(model, path, tmp_path / "out", sha256)
    return document, [TAG_VALUE, FEATURE, PASSTHROUGH, sha256]


def assert_absent(text: str, secrets: list[str]) -> None:
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], f"logged: {leaked}"


def test_the_lambdas_log_no_config_value(
    make_pipeline,
    cold_start: Callable[[str], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pipeline = make_pipeline()
    monkeypatch.setenv(env.TABLE_NAME, TABLE)
    monkeypatch.setenv(env.JOB_DEFINITION, JOB_DEFINITION)
    monkeypatch.setenv(env.QUEUES, "high,normal,low")
    monkeypatch.setenv(env.ALLOWED_BUCKETS, ",".join(pipeline.settings.allowed_buckets))
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    ingest_handler = cold_start("submitter.ingest_handler")
    monkeypatch.setattr(ingest_handler, "batch", pipeline.local_batch)
    state_handler = cold_start("submitter.state_handler")
    sha256 = "9f" * 32
    document = job_config("secrets", tags={"team": TAG_VALUE})
    document["model"]["sha256"] = sha256
    document["input"]["features"] = [FEATURE]
    rejected = job_config("rejected", tags={"team": TAG_VALUE}, priority=PRIORITY_NOT_ALLOWED)

    # WHEN a valid and an invalid config go through ingest, and the job's events through state
    outcomes = []
    for key, body in (("jobs/secrets.json", document), ("jobs/rejected.json", rejected)):
        event = s3_put_event(key, pipeline.upload(key, body))
        outcomes += ingest_handler.handler(event)["outcomes"]
    [job] = pipeline.batch_jobs()
    pipeline.local_batch.wait([job["jobId"]], timeout=60)
    for event in pipeline.batch_events:
        state_handler.handler(event)

    # THEN the job ids are logged (the capture works), the config's values are not
    assert [o["action"] for o in outcomes] == ["submitted", "rejected"]
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    for outcome in outcomes:
        assert outcome["job_id"] in logged
    record = records.get_record(pipeline.ddb, TABLE, outcomes[0]["job_id"])
    assert record["status"] == JobStatus.SUCCEEDED
    assert_absent(logged, [TAG_VALUE, FEATURE, sha256, PRIORITY_NOT_ALLOWED])


def test_job_score_logs_no_config_value(
    local_job: tuple[dict[str, Any], list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from job.commands import main

    document, secrets = local_job
    path = tmp_path / "job.json"
    path.write_text(json.dumps(document))

    code = main(["score", str(path)])

    captured = capsys.readouterr()
    assert code == 0, captured.out
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["rows"] == 500
    assert "secrets" in captured.out  # the job's name stands for its id in `score`
    assert_absent(captured.out + captured.err, secrets)


def test_job_run_logs_no_config_value(
    make_pipeline,
    local_job: tuple[dict[str, Any], list[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from job.commands import main

    pipeline = make_pipeline()
    document, secrets = local_job
    job_id = "secrets-0123456789abcdef"
    records.create_record(
        pipeline.ddb,
        TABLE,
        {
            "job_id": job_id,
            "name": "secrets",
            "status": JobStatus.SUBMITTED.value,
            "config": json.dumps(document | {"job_id": job_id}),
            "shards": 1,
        },
    )

    code = main(
        ["run", "--job-id", job_id],
        environ={env.TABLE_NAME: TABLE, env.BATCH_JOB_ATTEMPT: "1"},
    )

    captured = capsys.readouterr()
    assert code == 0, captured.out
    record = records.get_record(pipeline.ddb, TABLE, job_id)
    assert record["status"] == JobStatus.SUCCEEDED
    assert record["rows"] == 500
    assert job_id in captured.out
    assert_absent(captured.out + captured.err, secrets)
