"""Output parts, shard markers and the manifest that commits them.

Layout under `output.uri`:

    part-SSSSS-NNNNN.parquet   parts of shard S, numbered N (deterministic: a retry overwrites
                               the same names, and stale parts of this shard are removed first)
    _shards/shard-SSSSS.json   an array child's marker: its parts and figures (array jobs only)
    _manifest.json             written LAST: a reader who finds it finds complete output

A failed attempt never writes the manifest, so it leaves none; when overwriting, the stale manifest
is deleted before the first part is touched.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from config.uris import Location
from job.exceptions import InputError, JobError, OutputExistsError, PermanentError
from job.storage import (
    delete,
    filesystem,
    list_files,
    read_optional,
    storage_errors,
    uri_of,
    write_bytes,
)

MANIFEST = "_manifest.json"
SHARDS_DIR = "_shards/"
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


def guard_output(
    output: Location, *, overwrite: bool, job_id: str | None = None
) -> dict[str, Any] | None:
    """Make way for a new output. Return the committed manifest when it is this very job's (an
    earlier attempt committed and then died before reporting: nothing left to do); raise
    OutputExistsError when another output is committed and `overwrite` is false; otherwise
    delete the stale manifest, so no reader trusts parts about to be replaced."""
    location = manifest_location(output)
    manifest = read_json(location)
    if manifest is None:
        return None
    if job_id is not None and manifest.get("job_id") == job_id:
        return manifest
    if not overwrite:
        raise OutputExistsError(
            f"output.uri: {output.uri()} holds a committed output ({location.uri()}, job "
            f"{manifest.get('job_id')!r}); set output.overwrite to true to replace it"
        )
    delete(location)
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
    for shard in range(shards):
        location = shard_marker_location(output, shard)
        marker = read_json(location)
        if marker is None or marker.get("job_id") != job_id:
            found = "missing" if marker is None else f"from job {marker.get('job_id')!r}"
            raise PermanentError(f"cannot commit: shard marker {location.uri()} is {found}")
        markers.append(marker)
    return markers
