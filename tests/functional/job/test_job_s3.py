"""`python -m job score` against S3 (moto server): formats, prefixes, errors."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from support import jobdata

from config.retry import EXIT_OK, EXIT_PERMANENT, EXIT_TRANSIENT
from job import storage


def read_parts(server_aws, manifest: dict) -> pa.Table:
    tables = []
    for part in manifest["parts"]:
        body = server_aws.s3.get_object(Bucket="batchscore-data", Key=part["uri"].split("/", 3)[3])
        raw = pa.BufferReader(body["Body"].read())
        tables.append(pacsv.read_csv(raw) if manifest["format"] == "csv" else pq.read_table(raw))
    return pa.concat_tables(tables)


def upload_config(server_aws, document: dict) -> str:
    path = jobdata.write_config(server_aws.local / "job.json", document)
    return server_aws.put("jobs/job.json", path)


@pytest.mark.parametrize("output_format", ["parquet", "csv"])
def test_scores_a_parquet_prefix_from_s3_to_s3(
    server_aws, job_files, run_job, output_format
) -> None:
    document = jobdata.config(
        job_files["model"],
        job_files["input"],
        job_files["output"],
        **{"input.format": "parquet", "output.format": output_format},
    )
    code, lines = run_job("score", upload_config(server_aws, document), "--batch-rows", "400")

    assert code == EXIT_OK, lines
    assert json.loads(lines[-1])["output"] == job_files["output"]
    manifest = server_aws.get_json("output/_manifest.json")
    assert manifest["rows"] == 3000
    assert read_parts(server_aws, manifest)["id"].to_pylist() == list(range(3000))
    assert server_aws.keys("output/")[-1] == "output/part-00000-00000." + output_format


def test_scores_a_csv_file_with_a_pinned_joblib_model(server_aws, job_files, run_job) -> None:
    digest = jobdata.save_model(job_files["estimator"], server_aws.local / "model.joblib")
    model = server_aws.put("models/model.joblib", server_aws.local / "model.joblib")
    csv = server_aws.put(
        "csv/data.csv", jobdata.write_table(job_files["data"], server_aws.local / "d.csv")
    )
    document = jobdata.config(
        model,
        csv,
        job_files["output"],
        **{"model.sha256": digest, "output.format": "csv", "output.predict": "predict_proba"},
    )
    code, lines = run_job("score", upload_config(server_aws, document))
    assert code == EXIT_OK, lines
    result = read_parts(server_aws, server_aws.get_json("output/_manifest.json"))
    assert result.column_names == ["id", "proba_0", "proba_1"]
    assert result.num_rows == 3000


def test_a_missing_bucket_is_permanent(server_aws, job_files, run_job) -> None:
    document = jobdata.config(
        job_files["model"],
        "s3://no-such-bucket/data/",
        job_files["output"],
        **{"input.format": "csv"},
    )
    code, lines = run_job("score", upload_config(server_aws, document))
    assert code == EXIT_PERMANENT
    assert "input.uri: no csv files" in lines[-1]


def test_an_existing_output_is_protected_on_s3(server_aws, job_files, run_job) -> None:
    document = jobdata.config(
        job_files["model"], job_files["input"], job_files["output"], **{"input.format": "parquet"}
    )
    config_uri = upload_config(server_aws, document)
    assert run_job("score", config_uri)[0] == EXIT_OK
    code, lines = run_job("score", config_uri)
    assert code == EXIT_PERMANENT
    assert "output.overwrite" in lines[-1]


def test_an_unreachable_s3_is_transient(server_aws, job_files, run_job, monkeypatch) -> None:
    document = jobdata.config(
        job_files["model"], job_files["input"], job_files["output"], **{"input.format": "parquet"}
    )
    path = jobdata.write_config(server_aws.local / "job.json", document)
    monkeypatch.setattr(storage, "S3_MAX_ATTEMPTS", 1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on discard
    code, lines = run_job("score", str(path))
    assert code == EXIT_TRANSIENT
    assert "NETWORK_CONNECTION" in lines[-1]
