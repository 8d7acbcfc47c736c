"""The demo's last step: `batchscore serve` on the demo's model (read from the emulator's S3, as
the Lambda reads it from S3), a few customers posted to it, and their answers checked against
what the batch job wrote for the same customers: one model, one scoring core, both ways."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from submitter.cli.views import plain

ROWS = 3


def endpoint_config(bucket: str, features: list[str]) -> dict[str, Any]:
    return {
        "name": "churn-realtime",
        "model": {"uri": f"s3://{bucket}/models/churn.skops"},
        "input": {"features": features},
        "output": {"passthrough": ["customer_id"], "predict": "predict_proba"},
        "limits": {"max_rows": 1000},
    }


def run(
    console: Console,
    s3: Any,
    environment: dict[str, str],
    bucket: str,
    features: list[str],
    record: dict[str, Any] | None,
) -> bool:
    """Serve, post the first customers, compare with the batch job's output (`record`: the
    predict_proba job's record). False when the answers differ or the server fails."""
    import pyarrow.parquet as pq

    customers = pq.read_table(
        io.BytesIO(s3.get_object(Bucket=bucket, Key="input/customers.parquet")["Body"].read())
    ).slice(0, ROWS)
    rows = [{k: v for k, v in row.items() if k != "churned"} for row in customers.to_pylist()]
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "endpoint.json"
        config.write_text(json.dumps(endpoint_config(bucket, features)))
        with _serve(config, environment) as (host, port):
            connection = http.client.HTTPConnection(host, port, timeout=30)
            body = json.dumps({"rows": rows})
            connection.request("POST", "/", body, {"Content-Type": "application/json"})
            answer = json.loads(connection.getresponse().read())
            connection.close()
    url = f"http://{host}:{port}"
    console.print(f"real-time: `batchscore serve` at {url} answered {answer['rows']} rows")
    table = Table(title="the same customers through the endpoint", header_style="bold")
    predictions = answer["predictions"]
    for column in predictions[0]:
        table.add_column(plain(column))
    for row in predictions:
        table.add_row(*(plain(f"{v:.3f}" if isinstance(v, float) else v) for v in row.values()))
    console.print(table)
    batch = _batch_answers(s3, record, [r["customer_id"] for r in rows])
    same = bool(batch) and all(
        math.isclose(p[k], batch[p["customer_id"]][k], rel_tol=0, abs_tol=0)
        for p in predictions
        for k in p
        if k.startswith("proba_")
    )
    mark = "[green]ok [/]" if same else "[red]NOT[/]"
    console.print(f"{mark} the endpoint's answers equal the batch job's for the same customers")
    return same


@contextlib.contextmanager
def _serve(config: Path, environment: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`batchscore serve CONFIG --port 0` as a child process; yields its host and port."""
    command = [sys.executable, "-m", "submitter.cli", "serve", str(config), "--port", "0"]
    process = subprocess.Popen(
        command,
        env={**os.environ, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the model loads first: the URL line comes after
        if " on http://" not in line:
            raise RuntimeError(f"`batchscore serve` did not start (exit {process.poll()})")
        host, port = line.split(" on http://", 1)[1].split()[0].split(":")
        yield host, int(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _batch_answers(
    s3: Any, record: dict[str, Any] | None, ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The batch job's output rows for `ids`, by customer id ({} when the job has no output)."""
    import pyarrow.parquet as pq

    if not record or not record.get("manifest_uri"):
        return {}
    bucket, key = record["manifest_uri"].removeprefix("s3://").split("/", 1)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    found: dict[str, dict[str, Any]] = {}
    for part in manifest["parts"]:
        part_bucket, part_key = part["uri"].removeprefix("s3://").split("/", 1)
        body = s3.get_object(Bucket=part_bucket, Key=part_key)["Body"].read()
        for row in pq.read_table(io.BytesIO(body)).to_pylist():
            if row["customer_id"] in ids:
                found[row["customer_id"]] = row
    return found
