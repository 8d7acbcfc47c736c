"""An array job's input plan: listed and planned once, kept as an immutable snapshot beside the
output, read by each child one slice at a time.

Layout under `output.uri` (see `job.output` for the rest):

    _plan/<job id>/plan.json                    the header, created once (If-None-Match: *)
    _plan/<job id>/<token>/shard-SSSSS.json     one slice per shard: its files (path, size,
                                                ETag) and its units (row groups or whole files)

Who plans: the first child to start (whichever index the queue runs first): finding no header,
it takes the planning lease (`planning.json`, a conditional create) and plans; the others find
the lease and wait for the header (one small GET every few seconds), planning themselves only
when the lease is older than `PLAN_WAIT_SECONDS` (the planner died). Slices are written under
a token of the planner's own before the header names them, and the header is a conditional
create, so of two planners exactly one plan is used, whole.

Why not at submission: the ingest Lambda is a 60 s zip without pyarrow, and reading 100,000
Parquet footers takes minutes. Why not a plan job the array `dependsOn`: a second SubmitJob per
job at ingest (against the 50 TPS account limit) and a container start (~1 min) on the critical
path of every array job, large or small. The cost of this choice: children started while the
planner works wait for it, holding their vCPUs (docs/scale-requests.md).

The snapshot is what makes the input fixed for the job's whole life: a file added under the
prefix later is not in the plan and is never read; a file replaced or deleted since the plan is
found by its ETag (S3 `HeadObject` with `If-Match`; locally size and mtime) before the child reads
its slice and again before it reports its shard, and is a permanent error naming the file.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow.fs as pafs

from config.records import timestamp, utc_now
from config.uris import Location, parse_uri
from job.exceptions import InputError, PermanentError
from job.inputs import plan_units
from job.output import read_json
from job.storage import (
    InputFile,
    Unit,
    create_exclusive,
    delete,
    filesystem,
    input_files,
    is_input_name,
    s3_client,
    s3_errors,
    storage_errors,
    uri_of,
    write_bytes,
)

log = logging.getLogger(__name__)

PLAN_DIR = "_plan/"
PLAN_VERSION = 1
# How long a child other than 0 waits for the plan before planning itself.
PLAN_WAIT_SECONDS = 900.0
PLAN_POLL_SECONDS = 5.0
# Footers read and slices written at once: S3 latency, not CPU, bounds both.
IO_THREADS = 16


@dataclass(frozen=True)
class PlannedFile:
    """An input file as the plan saw it: `tag` is its S3 ETag (locally size and mtime)."""

    path: str  # inside the filesystem
    size: int
    tag: str

    def document(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "tag": self.tag}


@dataclass(frozen=True)
class Slice:
    """One shard's part of the plan: what the child reads, and what it checks is unchanged."""

    location: Location  # the input's (for URIs and the filesystem)
    files: list[PlannedFile]
    units: list[Unit]
    schema_file: PlannedFile  # the input's first file: every child reads the columns from it

    def check_unchanged(self) -> None:
        check_unchanged(self.location, [self.schema_file, *self.files])


def header_location(output: Location, job_id: str) -> Location:
    return output.join(f"{PLAN_DIR}{job_id}/plan.json")


def lease_location(output: Location, job_id: str) -> Location:
    return output.join(f"{PLAN_DIR}{job_id}/planning.json")


def _lease_since(output: Location, job_id: str) -> float:
    """When the planning child took the lease (0 when there is none: do not wait)."""
    lease = read_json(lease_location(output, job_id))
    return float(lease.get("since", 0)) if lease else 0.0


def slice_location(output: Location, job_id: str, token: str, shard: int) -> Location:
    return output.join(f"{PLAN_DIR}{job_id}/{token}/shard-{shard:05d}.json")


# --- listing with tags ---------------------------------------------------------------------------


def list_input(uri: str, input_format: str) -> tuple[pafs.FileSystem, list[PlannedFile]]:
    """The input's files with their tags, sorted by path (as `storage.input_files` finds them)."""
    location = parse_uri(uri)
    fs, base = filesystem(location)
    if location.scheme != "s3":
        _, local = input_files(uri, input_format)
        return fs, [PlannedFile(f.path, f.size, _local_tag(f.path)) for f in local]
    if not location.is_prefix:
        found = _head(location.bucket, location.key, None)
        if found is None:
            raise InputError(f"input.uri: {uri} does not exist")
        return fs, [PlannedFile(base, found[0], found[1])]
    files: list[PlannedFile] = []
    pages = s3_client().get_paginator("list_objects_v2")
    with s3_errors(f"listing {uri}"):
        for page in pages.paginate(Bucket=location.bucket, Prefix=location.key):
            for item in page.get("Contents", []):
                path = f"{location.bucket}/{item['Key']}"
                if is_input_name(path[len(base) :], input_format):
                    files.append(PlannedFile(path, int(item["Size"]), str(item["ETag"])))
    if not files:
        input_files(uri, input_format)  # raises the usual "no parquet files below" error
    return fs, sorted(files, key=lambda f: f.path)


def _local_tag(path: str) -> str:
    stat = os.stat(path)
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def _head(bucket: str, key: str, tag: str | None) -> tuple[int, str] | None:
    """(size, ETag) of an object, or None when it is gone or (given `tag`) no longer that one."""
    from botocore.exceptions import ClientError

    arguments = {"Bucket": bucket, "Key": key} | ({"IfMatch": tag} if tag else {})
    with s3_errors(f"reading s3://{bucket}/{key}"):
        try:
            response = s3_client().head_object(**arguments)
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error in ("404", "NoSuchKey", "412", "PreconditionFailed") or status in (404, 412):
                return None
            raise
    return int(response["ContentLength"]), str(response["ETag"])


def check_unchanged(location: Location, files: Iterable[PlannedFile]) -> None:
    """Raise InputError naming the first file that is gone or changed since the plan."""
    seen: set[str] = set()
    for file in files:
        if file.path in seen:
            continue
        seen.add(file.path)
        if location.scheme == "s3":
            bucket, key = file.path.split("/", 1)
            same = _head(bucket, key, file.tag) is not None
        else:
            try:
                same = _local_tag(file.path) == file.tag
            except FileNotFoundError:
                same = False
        if not same:
            raise InputError(
                f"input.uri: {uri_of(location, file.path)} changed or disappeared after the job "
                f"planned its input (planned: {file.size:,} bytes, tag {file.tag}); the job "
                "scores the input as it was planned and never rescores silently. Restore the "
                "file, or rerun the job to plan the input again"
            )


def refreshed(slice_: Slice) -> Slice:
    """The slice with its files' sizes and tags as they are now (a rerun of failed shards after
    the data was fixed): the same files and row groups, checked against the new tags."""

    def now(file: PlannedFile) -> PlannedFile:
        if slice_.location.scheme == "s3":
            bucket, key = file.path.split("/", 1)
            found = _head(bucket, key, None)
            if found is not None:
                return PlannedFile(file.path, found[0], found[1])
        elif os.path.exists(file.path):
            return PlannedFile(file.path, os.path.getsize(file.path), _local_tag(file.path))
        raise InputError(
            f"input.uri: {uri_of(slice_.location, file.path)} is gone; the rerun scores the "
            "files the job planned"
        )

    with storage_errors("reading the input's tags"):
        return Slice(
            slice_.location,
            [now(f) for f in slice_.files],
            slice_.units,
            now(slice_.schema_file),
        )


# --- planning ------------------------------------------------------------------------------------


def plan_files(fs: pafs.FileSystem, files: Sequence[PlannedFile], input_format: str) -> list[Unit]:
    """`inputs.plan_units` over every file, footers read `IO_THREADS` at a time, in file order."""

    def units_of(file: PlannedFile) -> list[Unit]:
        return plan_units(fs, [InputFile(file.path, file.size)], input_format)

    if input_format == "csv":  # weighed by size: no file is opened
        return [unit for file in files for unit in units_of(file)]
    with ThreadPoolExecutor(IO_THREADS) as pool:
        return [unit for units in pool.map(units_of, files) for unit in units]


def deal(units: Sequence[Unit], count: int) -> list[list[Unit]]:
    """Every shard's units in one pass: the same contiguous runs `storage.shard_units` gives
    child by child (which would be count x units steps for the whole array)."""
    total = sum(u.weight for u in units)
    slices: list[list[Unit]] = [[] for _ in range(count)]
    start = 0
    for position, unit in enumerate(units):
        owner = min(start * count // total, count - 1) if total else position % count
        slices[owner].append(unit)
        start += unit.weight
    return slices


def write_plan(
    output: Location, job_id: str, input_uri: str, input_format: str, shards: int
) -> dict[str, Any]:
    """List and plan the input, write every slice, then create the header; return the header in
    force (another planner's, if it won the create)."""
    began = time.perf_counter()
    fs, files = list_input(input_uri, input_format)
    units = plan_files(fs, files, input_format)
    by_path = {f.path: f for f in files}
    token = uuid.uuid4().hex[:12]
    slices = deal(units, shards)

    def write_slice(shard: int) -> None:
        mine = slices[shard]
        paths = list(dict.fromkeys(u.path for u in mine))
        document = {
            "version": PLAN_VERSION,
            "job_id": job_id,
            "shard": shard,
            "shards": shards,
            "files": [by_path[p].document() for p in paths],
            "units": [
                {"path": u.path, "weight": u.weight, "row_groups": u.row_groups} for u in mine
            ],
        }
        write_bytes(slice_location(output, job_id, token, shard), _encode(document))

    with ThreadPoolExecutor(IO_THREADS) as pool:
        list(pool.map(write_slice, range(shards)))
    header = {
        "version": PLAN_VERSION,
        "job_id": job_id,
        "input_uri": input_uri,
        "format": input_format,
        "shards": shards,
        "token": token,
        "files": len(files),
        "units": len(units),
        "weight": sum(u.weight for u in units),
        "schema_file": files[0].document(),
        "planned_at": timestamp(utc_now()),
        "seconds": round(time.perf_counter() - began, 3),
    }
    if create_exclusive(header_location(output, job_id), _encode(header)):
        log.info("planned the input", extra={k: header[k] for k in ("files", "units", "seconds")})
        return header
    # Another child planned at the same time and won: its plan is the job's; drop our slices.
    delete(output, [filesystem(slice_location(output, job_id, token, s))[1] for s in range(shards)])
    existing = read_json(header_location(output, job_id))
    if existing is None:
        raise PermanentError(f"cannot read the plan {header_location(output, job_id).uri()}")
    return existing


def shard_slice(
    output: Location,
    job_id: str,
    input_uri: str,
    input_format: str,
    shard: int,
    shards: int,
    *,
    wait_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Slice:
    """This child's slice of the job's plan; the first child to find no plan makes it."""
    location = header_location(output, job_id)
    header = read_json(location)
    if header is None and not create_exclusive(
        lease_location(output, job_id), _encode({"shard": shard, "since": clock()})
    ):
        # Another child is planning: wait for its header while its lease is fresh.
        limit = PLAN_WAIT_SECONDS if wait_seconds is None else wait_seconds
        while header is None and clock() - _lease_since(output, job_id) < limit:
            sleep(PLAN_POLL_SECONDS)
            header = read_json(location)
    if header is None:
        header = write_plan(output, job_id, input_uri, input_format, shards)
    _check_header(header, location, job_id=job_id, input_uri=input_uri, shards=shards)
    where = slice_location(output, job_id, header["token"], shard)
    document = read_json(where)
    if document is None:
        raise PermanentError(f"the job's plan has no slice for shard {shard}: {where.uri()}")
    return Slice(
        parse_uri(input_uri),
        [PlannedFile(f["path"], f["size"], f["tag"]) for f in document["files"]],
        [
            Unit(u["path"], u["weight"], tuple(u["row_groups"]) if u["row_groups"] else None)
            for u in document["units"]
        ],
        PlannedFile(**header["schema_file"]),
    )


def _check_header(
    header: dict[str, Any], location: Location, *, job_id: str, input_uri: str, shards: int
) -> None:
    expected = {"job_id": job_id, "input_uri": input_uri, "shards": shards}
    for key, value in expected.items():
        if header.get(key) != value:
            raise PermanentError(
                f"the job's plan {location.uri()} has {key} {header.get(key)!r}, not {value!r}; "
                "delete it to plan again"
            )


def _encode(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n").encode()


def read_units(slice_: Slice) -> list[Unit]:
    """The slice's units, after checking its files are the planned ones."""
    with storage_errors("checking the planned input"):
        slice_.check_unchanged()
    return slice_.units
