"""`batchscore submit` of a config naming local files: they go to the data bucket by content (the
same file once), a local output becomes a results prefix, the user's file is left alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import env
from submitter.cli.staging import stage
from submitter.cli.target import Target

BUCKET = "bs-data"


@pytest.fixture
def target() -> Iterator[Target]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        variables = {
            env.DATA_BUCKET: BUCKET,
            env.RESULTS_BUCKET: BUCKET,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        yield Target("aws", variables)


def local_config(tmp_path: Path) -> bytes:
    (tmp_path / "model.skops").write_bytes(b"model bytes")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.parquet").write_bytes(b"a")
    (tmp_path / "in" / "b.parquet").write_bytes(b"b")
    document: dict[str, Any] = {
        "name": "churn",
        "model": {"uri": str(tmp_path / "model.skops")},
        "input": {"uri": f"{tmp_path / 'in'}/", "format": "parquet"},
        "output": {"uri": f"{tmp_path / 'out'}/"},
    }
    return json.dumps(document).encode()


def test_local_files_are_staged_by_content_once(tmp_path: Path, target: Target) -> None:
    raw = local_config(tmp_path)
    first = stage(raw, target, "churn")
    assert first.document["model"]["uri"].startswith(f"s3://{BUCKET}/staged/models/")
    assert first.document["model"]["uri"].endswith("/model.skops")  # the format's extension
    assert first.document["input"]["uri"].startswith(f"s3://{BUCKET}/staged/inputs/")
    assert first.document["input"]["uri"].endswith("/")
    assert len(first.uploaded) == 3
    assert first.document["output"]["uri"].startswith(f"s3://{BUCKET}/results/churn/")
    assert json.loads(raw)["model"]["uri"] == str(tmp_path / "model.skops")  # left alone

    again = stage(raw, target, "churn")
    assert again.uploaded == []
    assert len(again.reused) == 3
    assert again.document["input"]["uri"] == first.document["input"]["uri"]

    (tmp_path / "in" / "b.parquet").write_bytes(b"changed")
    changed = stage(raw, target, "churn")
    assert changed.document["input"]["uri"] != first.document["input"]["uri"]


def test_the_fetch_command_names_the_output_and_the_endpoint(tmp_path: Path, target: Target):
    staging = stage(local_config(tmp_path), target, "churn")
    local = Target("local", {**target.variables, env.AWS_ENDPOINT_URL: "http://127.0.0.1:5999"})
    command = staging.fetch_command(local)
    assert command is not None
    assert command.startswith("aws s3 cp --recursive --endpoint-url http://127.0.0.1:5999 s3://")
    assert command.endswith(f"{tmp_path / 'out'}/")


def test_s3_configs_are_left_as_they_are(target: Target) -> None:
    document = {
        "name": "churn",
        "model": {"uri": "s3://models-1/model.skops"},
        "input": {"uri": "s3://models-1/in.parquet"},
        "output": {"uri": "s3://models-1/out/"},
    }
    staging = stage(json.dumps(document).encode(), target, "churn")
    assert not staging.changed
    assert staging.document == document
