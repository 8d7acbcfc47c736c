"""A request body as rows: JSON records as an Arrow batch; CSV and Parquet as a file that the
job's own reader reads (`job.inputs`), so their parsing and its errors are the batch job's.

JSON: `{"rows": [{"column": value, ...}, ...]}` or the bare list (pandas'
`to_json(orient="records")`). A key missing from a row is a null there, as an empty CSV cell.
Each column is built on its own, so a column that mixes numbers and text is named.
"""

from __future__ import annotations

import json  # its JSONDecodeError: what codec.loads raises
from typing import Any

import pyarrow as pa

from job.endpoint import codec
from job.endpoint.errors import BadRequestError, TooLargeError, UnsupportedMediaTypeError

JSON = "json"
CSV = "csv"
PARQUET = "parquet"
MEDIA_TYPES = {
    "application/json": JSON,
    "text/csv": CSV,
    "application/vnd.apache.parquet": PARQUET,
    "application/x-parquet": PARQUET,
    "application/octet-stream": PARQUET,
}


def body_format(content_type: str | None) -> str:
    """JSON, CSV or PARQUET from a Content-Type header (JSON when absent)."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    found = MEDIA_TYPES.get(media)
    if found is None:
        raise UnsupportedMediaTypeError(
            f"Content-Type {media!r} is not scored; send one of {', '.join(MEDIA_TYPES)}"
        )
    return found


def check_size(body: bytes, max_bytes: int) -> None:
    if len(body) > max_bytes:
        raise TooLargeError(
            f"the request body is {len(body):,} bytes, above the limit of {max_bytes:,} "
            "(limits.max_request_bytes): send fewer rows per request, or a batch job"
        )


def check_rows(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise TooLargeError(
            f"the request holds {rows:,} rows, above the limit of {max_rows:,} (limits.max_rows):"
            " send fewer rows per request, or a batch job"
        )
    if rows == 0:
        raise BadRequestError("the request holds no rows; nothing to score")


def json_rows(body: bytes, max_rows: int) -> pa.RecordBatch:
    """The records of a JSON body as one batch, columns in the order they first appear."""
    try:
        document = codec.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(f"the body is not JSON: {exc}") from None
    rows = document.get("rows") if isinstance(document, dict) else document
    if isinstance(document, dict) and set(document) - {"rows"}:
        extra = ", ".join(sorted(set(document) - {"rows"}))
        raise BadRequestError(f"unknown key(s) in the body: {extra} (expected only 'rows')")
    if not isinstance(rows, list):
        raise BadRequestError(
            'rows: expected a list of records, {"rows": [{"column": value}, ...]}'
        )
    check_rows(len(rows), max_rows)
    names: dict[str, None] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BadRequestError(f"rows[{index}]: expected an object of column: value")
        names.update(dict.fromkeys(row))
    return pa.RecordBatch.from_arrays(
        [_column(name, [row.get(name) for row in rows]) for name in names], names=list(names)
    )


def _column(name: str, values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise BadRequestError(f"column {name!r}: values of mixed types ({exc})") from None
