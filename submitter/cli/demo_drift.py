"""The demo's drift scenario: the same customers with a shifted population (shorter tenures, more
support calls), so a job scored on them, under the name of an earlier one, reports drift."""

from __future__ import annotations

import io
from typing import Any

SHIFTED_INPUT = "input/customers-shifted.parquet"


def write_shifted_input(s3: Any, bucket: str, rows: int) -> str:
    """Upload the shifted customers; return their S3 URI."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from submitter.cli.demo import demo_customers

    customers = demo_customers(np.random.default_rng(11), rows)
    customers.pop("churned")
    customers["tenure_months"] = customers["tenure_months"] // 4
    customers["support_calls"] = customers["support_calls"] + 3
    body = io.BytesIO()
    pq.write_table(pa.table(customers), body)
    s3.put_object(Bucket=bucket, Key=SHIFTED_INPUT, Body=body.getvalue())
    return f"s3://{bucket}/{SHIFTED_INPUT}"


def rerun_shifted(
    console: Any, stack: Any, first_config: dict[str, Any], rows: int, timeout: float
) -> tuple[str, dict[str, Any]]:
    """Score the first demo job's name again on shifted customers; return its job id and record
    once it is terminal (the record may be empty if it did not finish in `timeout`)."""
    import json
    import time

    from config.records import get_record
    from config.status import JobStatus
    from submitter.cli.submit import upload_config

    s3, ddb = stack.client("s3"), stack.client("dynamodb")
    uri = write_shifted_input(s3, stack.names.data_bucket, rows)
    name = first_config["name"]
    config = json.loads(json.dumps(first_config))
    config["input"]["uri"] = uri
    config["output"]["uri"] = config["output"]["uri"].rstrip("/") + "-shifted/"
    key = f"jobs/{name}-shifted.json"
    raw = json.dumps(config, indent=2).encode()
    job_id = upload_config(s3, stack.names.jobs_bucket, key, raw, None).job_id
    if job_id is None:
        raise RuntimeError(f"no job id for the upload {key}")
    console.print(f"uploaded s3://{stack.names.jobs_bucket}/{key}: {name} again, on shifted data")
    deadline = time.monotonic() + timeout
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        record = get_record(ddb, stack.names.table, job_id) or {}
        if record and JobStatus(record["status"]).is_terminal:
            break
        time.sleep(0.25)
    return job_id, record


def show_notifications(
    console: Any, stack: Any, job_ids: list[str], timeout: float = 30
) -> dict[str, list[dict[str, Any]]]:
    """Print each job's notification as its SNS subscriber got it; return them by job id."""
    import time

    from rich.panel import Panel

    from submitter.local.notifications import TOPIC_INBOX, receive

    sqs = stack.client("sqs")
    seen: dict[str, list[dict[str, Any]]] = {job_id: [] for job_id in job_ids}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(seen.values()):
        for message in receive(sqs, TOPIC_INBOX, wait_seconds=1):
            seen.setdefault(message["detail"]["job_id"], []).append(message)
    time.sleep(1)  # a second copy, were one sent, would be here by now
    for message in receive(sqs, TOPIC_INBOX):
        seen.setdefault(message["detail"]["job_id"], []).append(message)
    for job_id in job_ids:
        for message in seen[job_id]:
            console.print(Panel(message["message"], title=message["subject"], expand=False))
    return seen


def drift_checks(
    first_job_id: str | None,
    rerun_id: str,
    seen: dict[str, list[dict[str, Any]]],
    job_ids: list[str],
) -> list[tuple[str, bool]]:
    """The demo's pass/fail lines for notifications and drift."""
    results = [(f"{job_id} notified once", len(seen.get(job_id, [])) == 1) for job_id in job_ids]
    [message, *_] = seen.get(rerun_id) or [{}]
    drift = (message.get("detail") or {}).get("drift") or {}
    psi = drift.get("psi")
    text = f"PSI {psi:.3f}" if isinstance(psi, float | int) else "no PSI"
    results.append(
        (
            f"{rerun_id} on shifted data reports drift against {first_job_id} ({text})",
            bool(drift.get("drifted")) and drift.get("previous_job_id") == first_job_id,
        )
    )
    return results
