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
