"""`make demo` / `batchscore demo`: the whole pipeline on the embedded stack, in under a minute.

It trains a small model (a scikit-learn Pipeline that one-hot encodes a string column and scales
the numbers, fit on a DataFrame, saved with skops), uploads it and the input data, then uploads
five job configs the way a user would: a high, a normal and a low priority job, an invalid config,
and a job whose first attempt fails transiently (the local Batch makes it exit 3) and whose retry
succeeds. The real ingest and state-change handlers and the real container (`python -m job run`)
do the rest. It shows a live table while the jobs run, then a summary and a few predictions, and
returns True only when every expected outcome happened.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from config.records import get_record
from config.retry import EXIT_TRANSIENT
from config.status import JobStatus
from submitter.batch import job_name
from submitter.cli.demo_cost import show_costs
from submitter.cli.demo_drift import drift_checks, rerun_shifted, show_notifications
from submitter.cli.submit import upload_config
from submitter.cli.views import jobs_table, plain, status_text
from submitter.local.pipeline import connect_handlers
from submitter.local.stack import LocalStack

# What a churn model is usually fit on: a string plan, numbers (one of them an int), a bool.
FEATURES = ["plan", "tenure_months", "monthly_spend", "support_calls", "autopay"]
PLANS = ["basic", "pro", "team"]


@dataclass
class DemoJob:
    label: str
    config: dict[str, Any]
    expect_status: JobStatus
    expect_attempts: int | None = None
    expect_reason: str | None = None
    flaky: bool = False
    job_id: str | None = None


def demo_jobs(bucket: str) -> list[DemoJob]:
    data = f"s3://{bucket}"
    model = {"uri": f"{data}/models/churn.skops"}

    def config(name: str, *, output: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        """A config on the demo's model and customers; `output` adds to the default output."""
        base = {
            "name": name,
            "model": model,
            "input": {"uri": f"{data}/input/customers.parquet", "features": FEATURES},
            "output": {"uri": f"{data}/output/{name}/", "passthrough": ["customer_id"]}
            | (output or {}),
        }
        return base | extra

    return [
        DemoJob(
            "high priority, Parquet -> Parquet, predict_proba",
            config("churn-high", priority="high", output={"predict": "predict_proba"}),
            JobStatus.SUCCEEDED,
            expect_attempts=1,
        ),
        DemoJob(
            "normal priority, Parquet -> CSV",
            config("churn-normal", priority="normal", output={"format": "csv"}),
            JobStatus.SUCCEEDED,
            expect_attempts=1,
        ),
        DemoJob(
            "low priority, CSV -> Parquet, 2 shards",
            config(
                "churn-low",
                priority="low",
                shards=2,
                input={"uri": f"{data}/input/customers.csv", "features": FEATURES},
            ),
            JobStatus.SUCCEEDED,
        ),
        DemoJob(
            "invalid: a pickle model without its SHA-256 pin",
            config("churn-unpinned", model={"uri": f"{data}/models/churn.pkl"}),
            JobStatus.REJECTED,
            expect_reason="model.sha256",
        ),
        DemoJob(
            "first attempt fails transiently (exit 3), the retry succeeds",
            config("churn-flaky", job_id="churn-flaky", priority="normal"),
            JobStatus.SUCCEEDED,
            expect_attempts=2,
            flaky=True,
        ),
    ]


def write_inputs(s3: Any, bucket: str, rows: int) -> None:
    """A trained model (skops) and the same customers as Parquet and CSV.

    The model is what data scientists save: a Pipeline whose ColumnTransformer one-hot encodes
    the string `plan` and scales the numbers, fit on a pandas DataFrame. The container feeds it
    each batch as a DataFrame of the columns and dtypes it was fit on (job/frames.py)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    import skops.io as sio

    model = churn_pipeline()
    customers = pd.DataFrame(demo_customers(np.random.default_rng(7), rows))
    labels = customers.pop("churned")
    model.fit(customers[FEATURES].head(2000), labels.head(2000))
    # Nothing beyond skops' defaults: this pipeline needs no `model.trusted_types`.
    body = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=body)
    if untrusted:
        raise RuntimeError(f"the demo model needs trusted types: {untrusted}")
    s3.put_object(Bucket=bucket, Key="models/churn.skops", Body=body)

    table = pa.Table.from_pandas(customers, preserve_index=False)
    parquet, csv = io.BytesIO(), io.BytesIO()
    pq.write_table(table, parquet)
    pacsv.write_csv(table, csv)
    s3.put_object(Bucket=bucket, Key="input/customers.parquet", Body=parquet.getvalue())
    s3.put_object(Bucket=bucket, Key="input/customers.csv", Body=csv.getvalue())


def churn_pipeline() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer(
        [
            ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            ("numbers", StandardScaler(), ["tenure_months", "monthly_spend", "support_calls"]),
        ],
        remainder="passthrough",  # autopay, a bool, as 0/1
    )
    return make_pipeline(columns, LogisticRegression())


def demo_customers(rng: Any, rows: int) -> dict[str, Any]:
    """Customers with an id, the features (in another order than the model's) and the label."""
    import numpy as np

    plan = rng.choice(PLANS, rows)
    tenure = rng.integers(0, 72, rows)
    spend = np.round(rng.gamma(2.0, 30.0, rows), 2)
    calls = rng.poisson(1.5, rows)
    autopay = rng.random(rows) < 0.6
    risk = 0.8 * (plan == "basic") - tenure / 30 + spend / 60 + 0.5 * calls - 0.7 * autopay
    return {
        "customer_id": [f"c{i:06d}" for i in range(rows)],
        "monthly_spend": spend,
        "plan": plan,
        "support_calls": calls,
        "tenure_months": tenure,
        "autopay": autopay,
        "churned": (risk + rng.normal(scale=0.5, size=rows) > 0).astype(int),
    }


def run_demo(console: Console | None = None, *, rows: int = 20_000, timeout: float = 50) -> bool:
    console = console or Console()
    started = time.monotonic()
    with console.status("starting the local stack (AWS emulator + local Batch)..."):
        stack = LocalStack(max_vcpus=2).start()
    try:
        s3, ddb = stack.client("s3"), stack.client("dynamodb")
        settings = connect_handlers(stack)
        console.print(f"local stack up at {stack.endpoint_url} (queues: {', '.join(stack.queues)})")
        with console.status("training a model and writing input data..."):
            write_inputs(s3, stack.names.data_bucket, rows)
        console.print(
            f"model s3://{stack.names.data_bucket}/models/churn.skops, {rows:,} customers"
        )

        jobs = demo_jobs(stack.names.data_bucket)
        for job in jobs:
            if job.flaky:
                stack.batch.inject_exit(job_name(job.config["job_id"]), EXIT_TRANSIENT, attempts=1)
            raw = json.dumps(job.config, indent=2).encode()
            key = f"jobs/{job.config['name']}.json"
            job.job_id = upload_config(
                s3, stack.names.jobs_bucket, key, raw, job.config.get("job_id")
            ).job_id
            console.print(f"uploaded s3://{stack.names.jobs_bucket}/{key}: {job.label}")

        records = follow_jobs(console, ddb, settings.table, jobs, timeout)
        # Drift: the first job's name again, on shifted customers (submitter/cli/demo_drift.py).
        rerun_id, records[rerun_id] = rerun_shifted(console, stack, jobs[0].config, rows, timeout)
        console.print(summary_table(jobs, records))
        show_predictions(console, s3, records.get(jobs[0].job_id or ""))
        job_ids = [job.job_id for job in jobs if job.job_id] + [rerun_id]
        seen = show_notifications(console, stack, job_ids)
        ok = check(console, s3, stack.names.jobs_bucket, jobs, records, settings.rejected_prefix)
        for text, passed in drift_checks(jobs[0].job_id, rerun_id, seen, job_ids):
            console.print(f"[{'green' if passed else 'red'}]{'ok ' if passed else 'NOT'}[/] {text}")
            ok = ok and passed
        show_costs(console, ddb, settings.table, job_ids)
        first = records.get(jobs[0].job_id or "")  # predict_proba, like the endpoint below
        ok = realtime(console, s3, stack.env, stack.names.data_bucket, first) and ok
    finally:
        with console.status("stopping the local stack..."):
            stack.stop()
    verdict = "every expected outcome happened" if ok else "some outcomes were not as expected"
    console.print(
        f"demo {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s: {verdict}"
    )
    return ok


def follow_jobs(
    console: Console, ddb: Any, table: str, jobs: list[DemoJob], timeout: float
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    records: dict[str, dict[str, Any]] = {}
    with Live(console=console, auto_refresh=False) as live:
        while True:
            for job in jobs:
                if job.job_id and (found := get_record(ddb, table, job.job_id)) is not None:
                    records[job.job_id] = found
            shown = [records[j.job_id] for j in jobs if j.job_id in records]
            live.update(jobs_table(shown, title="jobs (live)"), refresh=True)
            done = len(shown) == len(jobs) and all(
                JobStatus(r["status"]).is_terminal for r in shown
            )
            if done or time.monotonic() > deadline:
                return records
            time.sleep(0.25)


def summary_table(jobs: list[DemoJob], records: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="summary", header_style="bold")
    for column in ("job", "status", "queue", "attempts", "rows", "output / reason"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        record = records.get(job.job_id or "", {})
        status = record.get("status", "missing")
        detail = record.get("output_uri") or record.get("status_reason", "")
        table.add_row(
            Text.assemble(plain(job.job_id), "\n", Text(job.label, style="dim")),
            status_text(status),
            plain(record.get("queue", "")),
            plain(record.get("attempts", "")),
            plain(f"{record['rows']:,}" if isinstance(record.get("rows"), int) else ""),
            plain(detail),
        )
    return table


def show_predictions(console: Console, s3: Any, record: dict[str, Any] | None) -> None:
    """The first rows of a committed output, found through its manifest."""
    import pyarrow.parquet as pq

    if not record or not record.get("manifest_uri"):
        return
    bucket, key = record["manifest_uri"].removeprefix("s3://").split("/", 1)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    first = manifest["parts"][0]
    part_uri = first["uri"] if isinstance(first, dict) else first
    part_bucket, part_key = part_uri.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=part_bucket, Key=part_key)["Body"].read()
    head = pq.read_table(io.BytesIO(body)).slice(0, 5).to_pylist()
    table = Table(title=f"a few predictions ({part_uri})", header_style="bold")
    for column in head[0]:
        table.add_column(plain(column))
    for row in head:
        table.add_row(*(plain(f"{v:.3f}" if isinstance(v, float) else v) for v in row.values()))
    console.print(table)


def check(
    console: Console,
    s3: Any,
    jobs_bucket: str,
    jobs: list[DemoJob],
    records: dict[str, dict[str, Any]],
    rejected_prefix: str,
) -> bool:
    results: list[tuple[str, bool]] = []
    for job in jobs:
        record = records.get(job.job_id or "", {})
        results.append(
            (f"{job.job_id} is {job.expect_status}", record.get("status") == job.expect_status)
        )
        if job.expect_status == JobStatus.SUCCEEDED:
            priority = job.config.get("priority", "normal")
            results.append(
                (f"{job.job_id} ran on the {priority} queue", record.get("queue") == priority)
            )
        if job.expect_attempts is not None:
            results.append(
                (
                    f"{job.job_id} took {job.expect_attempts} attempt(s)",
                    record.get("attempts") == job.expect_attempts,
                )
            )
        if job.expect_reason is not None:
            reason = record.get("status_reason", "")
            results.append(
                (f"{job.job_id}'s reason names {job.expect_reason}", job.expect_reason in reason)
            )
            kept = s3.list_objects_v2(Bucket=jobs_bucket, Prefix=rejected_prefix).get("KeyCount", 0)
            results.append(("the rejected config is kept", kept > 0))
    for text, passed in results:
        console.print(f"[{'green' if passed else 'red'}]{'ok ' if passed else 'NOT'}[/] {text}")
    return all(passed for _, passed in results)


def realtime(
    console: Console, s3: Any, environment: dict[str, str], bucket: str, record: Any
) -> bool:
    """`batchscore serve` once, on the same model (submitter/cli/demo_endpoint.py)."""
    from submitter.cli import demo_endpoint

    return demo_endpoint.run(console, s3, environment, bucket, FEATURES, record)
