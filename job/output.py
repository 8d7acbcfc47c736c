"""Output parts, shard markers and the manifest that commits them.

Layout under `output.uri`:

    part-SSSSS-NNNNN.parquet   parts of shard S, numbered N (deterministic: a retry overwrites
                               the same names, and stale parts of this shard are removed first)
    _shards/shard-SSSSS.json   an array child's marker: its parts and figures (array jobs only)
    _claim.json                which job writes here: created atomically before anything else
    _manifest.json             written LAST: a reader who finds it finds complete output

A failed attempt never writes the manifest, so it leaves none; when overwriting, the stale manifest
is deleted before the first part is touched.

Two jobs never write one prefix at once: each first claims it with a conditional create of
`_claim.json` (S3 `If-None-Match: *`, locally an exclusive link), which only the claim's owner
(the same job id: its retries and array children) passes; another job's claim is taken over,
with a compare-and-swap, only once that job is over. The manifest is committed the same way
(create only if absent), so a commit never replaces another job's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from config.records import timestamp, utc_now
from config.uris import Location
from job.exceptions import InputError, JobError, OutputExistsError, PermanentError
from job.storage import (
    create_exclusive,
    delete,
    delete_if,
    filesystem,
    list_files,
    read_optional,
    read_tagged,
    replace_if,
    storage_errors,
    uri_of,
    write_bytes,
)

MANIFEST = "_manifest.json"
CLAIM = "_claim.json"
# Owners of claims made by `python -m job score` (a job id never holds ':'): no record to ask.
SCORE_OWNER = "score:"
SHARDS_DIR = "_shards/"
MARKER_THREADS = 16
MANIFEST_VERSION = 1
DEFAULT_PART_ROWS = 1_000_000
_PART_NAME = re.compile(r"^part-(\d{5})-(\d{5})\.(parquet|csv)$")


def part_name(shard: int, number: int, output_format: str) -> str:
    return f"part-{shard:05d}-{number:05d}.{output_format}"


def manifest_location(output: Location) -> Location:
    return output.join(MANIFEST)


def shard_marker_location(output: Location, shard: int) -> Location:
    return output.join(f"{SHARDS_DIR}shard-{shard:05d}.json")


def read_json(location: Location) -> dict[str, Any] | None:
    raw = read_optional(location)
    if raw is None:
        return None
    try:
        loaded: dict[str, Any] = json.loads(raw)
        return loaded
    except ValueError as exc:
        raise PermanentError(f"{location.uri()} is not valid JSON ({exc})") from exc


def write_json(location: Location, document: dict[str, Any]) -> None:
    write_bytes(location, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())


def claim_location(output: Location) -> Location:
    return output.join(CLAIM)


# Whether the job owning a claim is over: True (ended, or unknown to the table), False (it may
# still write), None (cannot tell: `python -m job score` has no table to ask).
HolderOver = Callable[[str], bool | None]


def claim_output(
    output: Location,
    owner: str,
    *,
    job_id: str,
    overwrite: bool,
    holder_over: HolderOver | None = None,
) -> None:
    """Claim `output` for `owner` before anything is written there, or raise OutputExistsError.

    `owner` is the job id in Batch mode (its retries and array children share the claim) and a
    fresh token per `python -m job score` run. Another owner's claim is taken over only when
    that job is over (`holder_over`); when that cannot be told, only with `overwrite` (the user
    said so). The takeover is a compare-and-swap on the claim read, so of two takers one wins.
    Whether a committed output may then be replaced is `guard_output`'s question.
    """
    location = claim_location(output)
    document = {"owner": owner, "job_id": job_id, "claimed_at": timestamp(utc_now())}
    data = (json.dumps(document, sort_keys=True) + "\n").encode()
    for _ in range(5):
        if create_exclusive(location, data):
            return
        current = read_tagged(location)
        if current is None:
            continue  # released in between: try to create it again
        holder = _claim_owner(current.data)
        if holder == owner:
            return  # ours: a retry, or another child of this array job
        known = holder_over is not None and holder and not holder.startswith(SCORE_OWNER)
        over = holder_over(holder) if known and holder_over is not None and holder else None
        if over is False or (over is None and not overwrite):
            why = "is running" if over is False else "may still be running"
            raise OutputExistsError(
                f"output.uri: {output.uri()} is claimed by job {holder!r}, which {why} "
                f"({location.uri()}); two jobs never write one output at once. Wait for it, "
                "choose another output.uri, or, if that job is dead, delete the claim (or set "
                "output.overwrite to true)"
            )
        if replace_if(location, data, current.tag):
            return
    raise OutputExistsError(f"output.uri: {output.uri()}: could not claim {location.uri()}")


def check_claim(output: Location, owner: str) -> None:
    """Before committing: the claim must still be ours."""
    current = read_tagged(claim_location(output))
    holder = _claim_owner(current.data) if current is not None else None
    if holder != owner:
        raise OutputExistsError(
            f"output.uri: {output.uri()} is no longer claimed by this job (claim: {holder!r}); "
            "not committing"
        )


def release_claim(output: Location, owner: str) -> None:
    """Drop our claim (only ours: a conditional delete); best effort."""
    location = claim_location(output)
    with suppress(JobError):
        current = read_tagged(location)
        if current is not None and _claim_owner(current.data) == owner:
            delete_if(location, current.tag)


def _claim_owner(data: bytes) -> str | None:
    try:
        owner = json.loads(data).get("owner")
    except (ValueError, AttributeError):
        return None
    return owner if isinstance(owner, str) else None


def commit_manifest(output: Location, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the manifest only if there is none; return the manifest committed. One already
    there is accepted only if this job wrote it (a repeated commit); another job's is never
    replaced."""
    location = manifest_location(output)
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    if create_exclusive(location, data):
        return manifest
    existing = read_json(location)
    if existing is not None and existing.get("job_id") == manifest["job_id"]:
        return existing
    other = None if existing is None else existing.get("job_id")
    raise OutputExistsError(
        f"output.uri: {output.uri()} was committed by job {other!r} while this job ran "
        f"({location.uri()}); not replacing it"
    )


def refuse_committed(
    output: Location, *, overwrite: bool, job_id: str | None = None
) -> dict[str, Any] | None:
    """Read-only: raise OutputExistsError when another output is committed and `overwrite` is
    false; return the committed manifest (or None). Checked before claiming, so a refused job
    touches nothing, and again once claimed (`guard_output`)."""
    location = manifest_location(output)
    manifest = read_json(location)
    if manifest is None or (job_id is not None and manifest.get("job_id") == job_id):
        return manifest
    if not overwrite:
        raise OutputExistsError(
            f"output.uri: {output.uri()} holds a committed output ({location.uri()}, job "
            f"{manifest.get('job_id')!r}); set output.overwrite to true to replace it"
        )
    return manifest


def guard_output(
    output: Location, *, overwrite: bool, job_id: str | None = None
) -> dict[str, Any] | None:
    """Make way for a new output. Return the committed manifest when it is this very job's (an
    earlier attempt committed and then died before reporting: nothing left to do); raise
    OutputExistsError when another output is committed and `overwrite` is false; otherwise
    delete the stale manifest, so no reader trusts parts about to be replaced."""
    manifest = refuse_committed(output, overwrite=overwrite, job_id=job_id)
    if manifest is None:
        return None
    if job_id is not None and manifest.get("job_id") == job_id:
        return manifest
    delete(manifest_location(output))
    return None


def clear_stale_parts(output: Location, shard: int, shards: int) -> int:
    """Delete parts a crashed attempt or an earlier run left for this shard. A part of shard `s`
    is this child's to delete when `s % shards == shard`, so parts of a wider earlier run are
    removed too, each by exactly one child."""
    _fs, base = filesystem(output)
    stale = [
        info.path
        for info in list_files(output)
        if (match := _PART_NAME.match(info.path[len(base) :]))
        and int(match.group(1)) % shards == shard
    ]
    delete(output, stale)
    return len(stale)


@dataclass(frozen=True)
class Part:
    uri: str
    rows: int


class PartWriter:
    """Writes batches into parts of at most `part_rows` rows (rolled between batches)."""

    def __init__(
        self,
        output: Location,
        shard: int,
        output_format: str,
        *,
        part_rows: int = DEFAULT_PART_ROWS,
    ) -> None:
        self._fs, self._base = filesystem(output)
        self._output = output
        self._shard = shard
        self._format = output_format
        self._part_rows = part_rows
        self._schema: pa.Schema | None = None
        self._stream: Any = None
        self._writer: Any = None
        self._rows_in_part = 0
        self._path = ""  # of the open part
        self.parts: list[Part] = []
        if output.scheme == "local":
            self._fs.create_dir(self._base, recursive=True)

    def write(self, batch: pa.RecordBatch) -> None:
        if self._schema is None:
            self._schema = batch.schema
        elif batch.schema != self._schema:
            try:
                batch = batch.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InputError(
                    f"input files disagree on column types ({batch.schema} vs {self._schema}): "
                    f"{exc}"
                ) from exc
        if self._writer is None or self._rows_in_part >= self._part_rows:
            self._roll()
        with storage_errors(f"writing {self.parts[-1].uri}"):
            self._writer.write_batch(batch)
        self._rows_in_part += batch.num_rows

    def close(self) -> list[Part]:
        """Finish the last part and return every part (none when the shard had no rows)."""
        self._finish()
        return list(self.parts)

    def abort(self) -> None:
        """After a failure: drop the half-written part (best effort; pyarrow cannot abandon an
        S3 multipart upload, closing completes it). Correctness does not depend on this: without
        a manifest nothing is committed, and a retry clears stale parts first."""
        stream, self._stream, self._writer = self._stream, None, None
        if stream is None:
            return
        with suppress(OSError):
            stream.close()
        with suppress(JobError):
            delete(self._output, [self._path])

    def _roll(self) -> None:
        self._finish()
        name = part_name(self._shard, len(self.parts), self._format)
        path = self._path = f"{self._base}{name}"
        self.parts.append(Part(uri_of(self._output, path), 0))
        with storage_errors(f"writing {self.parts[-1].uri}"):
            self._stream = self._fs.open_output_stream(path)
            if self._format == "parquet":
                self._writer = pq.ParquetWriter(
                    self._stream, self._schema, use_dictionary=_dictionary_columns(self._schema)
                )
            else:
                self._writer = pacsv.CSVWriter(self._stream, self._schema)
        self._rows_in_part = 0

    def _finish(self) -> None:
        if self._writer is None:
            return
        with storage_errors(f"writing {self.parts[-1].uri}"):
            self._writer.close()
            self._stream.close()
        self.parts[-1] = Part(self.parts[-1].uri, self._rows_in_part)
        self._writer = self._stream = None


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Dictionary-encode text columns only: on unique numbers (ids, probabilities) the encoder
    builds a dictionary, gives up and falls back, which made writing 6x slower (measured)."""
    return [
        field.name
        for field in schema
        if pa.types.is_string(field.type)
        or pa.types.is_large_string(field.type)
        or pa.types.is_dictionary(field.type)
    ]


def merge_shard_markers(output: Location, job_id: str, shards: int) -> list[dict[str, Any]]:
    """Every child's marker, in shard order; refuse when one is missing or from another job."""
    markers = []
    locations = [shard_marker_location(output, shard) for shard in range(shards)]
    # Read MARKER_THREADS at a time: S3 latency bounds the commit of 10,000 shards (~200 s one
    # by one at ~20 ms a GET), not CPU.
    with ThreadPoolExecutor(MARKER_THREADS) as pool:
        read = list(pool.map(read_json, locations))
    for location, marker in zip(locations, read, strict=True):
        if marker is None or marker.get("job_id") != job_id:
            found = "missing" if marker is None else f"from job {marker.get('job_id')!r}"
            raise PermanentError(f"cannot commit: shard marker {location.uri()} is {found}")
        markers.append(marker)
    _refuse_mixed(markers)
    return markers


def _refuse_mixed(markers: list[dict[str, Any]]) -> None:
    """Every shard must have scored with the same model bytes and the same config: a model
    replaced while an array job ran gave shards of two models under one manifest."""
    for digest in ("model_sha256", "config_sha256"):
        seen: dict[str, list[int]] = {}
        for marker in markers:
            seen.setdefault(str(marker.get(digest)), []).append(int(marker["shard"]))
        if len(seen) > 1:
            groups = "; ".join(
                f"shards {', '.join(map(str, shards))}: {value}" for value, shards in seen.items()
            )
            field = "model.uri" if digest == "model_sha256" else "config"
            raise PermanentError(
                f"cannot commit: the shards disagree on the {digest} ({groups}); the {field} "
                "changed while the job ran, so its output would mix two. Rerun the job (pin "
                "model.sha256 to make a replaced model fail at once)"
            )
