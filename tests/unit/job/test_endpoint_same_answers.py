"""The endpoint answers what the batch job writes, row for row, for every model shape: the same
rows scored by `python -m job score` (a Parquet or CSV input) and posted to the endpoint (as JSON
records, as the CSV file, as the Parquet file) give equal predictions, passthrough included.
Exact equality: both go through the same plan and predictor, so there is nothing to tolerate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import jobdata
from support.model_shapes import SHAPES, customers

from config.endpoint import EndpointConfig
from config.retry import EXIT_OK
from job.endpoint.events import App
from job.endpoint.server import function_url_event
from job.endpoint.service import Endpoint

ROWS = 200


def write_input(frame: pd.DataFrame, path: Path) -> Path:
    """As a data scientist writes a table (tests/unit/job/test_job_model_shapes.py does too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def endpoint_for(model: Path, method: str, trusted: list[str], digest: str) -> App:
    document: dict[str, Any] = {
        "name": "same",
        "model": {"uri": str(model)},
        "output": {"passthrough": ["id"], "predict": method},
    }
    if trusted:
        document["model"] |= {"trusted_types": trusted, "sha256": digest}
    return App(Endpoint.load(EndpointConfig.model_validate(document)))


def post(app: App, body: bytes, content_type: str) -> dict[str, Any]:
    response = app(function_url_event("POST", "/", {"Content-Type": content_type}, body))
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def batch_rows(
    run_score: Any,
    tmp_path: Path,
    model: Path,
    data: Path,
    method: str,
    trusted: list[str],
    digest: str,
) -> list[dict[str, Any]]:
    document = jobdata.config(
        str(model), str(data), f"{tmp_path}/out/", **{"output.predict": method}
    )
    if trusted:
        document["model"] |= {"trusted_types": trusted, "sha256": digest}
    code, lines = run_score(document)
    assert code == EXIT_OK, lines
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    return jobdata.read_output(manifest).to_pylist()


@pytest.mark.parametrize("extension", [".parquet", ".csv"])
@pytest.mark.parametrize("name", SHAPES)
def test_the_endpoint_answers_what_the_batch_job_writes(run_score, tmp_path, name, extension):
    shape = SHAPES[name]
    estimator = shape.fit()
    model = tmp_path / "model.skops"
    digest = jobdata.save_model(estimator, model)
    frame = shape.prepare(customers(ROWS, seed=5, nulls=shape.nulls))
    data = write_input(frame, tmp_path / "in" / f"customers{extension}")
    expected = batch_rows(run_score, tmp_path, model, data, shape.method, shape.trusted, digest)

    app = endpoint_for(model, shape.method, shape.trusted, digest)
    as_file = post(
        app,
        data.read_bytes(),
        "text/csv" if extension == ".csv" else "application/vnd.apache.parquet",
    )

    assert as_file["rows"] == ROWS
    assert as_file["predictions"] == expected


@pytest.mark.parametrize("name", SHAPES)
def test_json_records_get_the_answers_the_batch_job_writes_for_the_same_rows(
    run_score, tmp_path, name
):
    """Records as a web form sends them: strings, ints, bools, nulls as JSON null."""
    shape = SHAPES[name]
    estimator = shape.fit()
    model = tmp_path / "model.skops"
    digest = jobdata.save_model(estimator, model)
    frame = customers(ROWS, seed=6, nulls=shape.nulls)
    data = write_input(shape.prepare(frame), tmp_path / "in" / "customers.parquet")
    expected = batch_rows(run_score, tmp_path, model, data, shape.method, shape.trusted, digest)
    records = [
        {k: (None if v != v else v) for k, v in row.items()}  # NaN (a null spend) -> null
        for row in json.loads(frame.to_json(orient="records"))
    ]

    answer = post(
        endpoint_for(model, shape.method, shape.trusted, digest),
        json.dumps({"rows": records}).encode(),
        "application/json",
    )

    assert answer["predictions"] == expected


def test_a_matrix_model_gives_the_batch_answers_for_json_rows(run_score, tmp_path):
    """The fast path (no DataFrame): a LogisticRegression on four floats, ids passed through."""
    estimator = jobdata.fit()
    model = tmp_path / "model.skops"
    digest = jobdata.save_model(estimator, model)
    table = jobdata.table(ROWS, seed=3)
    data = jobdata.write_table(table, tmp_path / "in" / "data.parquet")
    expected = batch_rows(run_score, tmp_path, model, data, "predict_proba", [], digest)

    answer = post(
        endpoint_for(model, "predict_proba", [], digest),
        json.dumps(table.to_pylist()).encode(),
        "application/json",
    )

    assert answer["predictions"] == expected
    assert answer["model_sha256"] == digest
