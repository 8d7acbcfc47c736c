"""Input files as a stream of Arrow record batches of bounded size.

Parquet is read by row group with only the needed columns (`iter_batches`); CSV with pyarrow's
streaming reader, block by block. Neither ever holds a whole file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pyarrow.types as pat

from job.exceptions import InputError
from job.frames import ColumnError
from job.storage import InputFile, Unit, merge_row_groups, storage_errors

# Parquet batches are also capped by the file's row groups. Larger batches mean fewer predict
# calls, and so fewer OpenMP fork/joins for tree ensembles; memory stays ~0.5 GiB (measured).
DEFAULT_BATCH_ROWS = 131_072
# CSV blocks are sized in bytes: `batch_rows` x this, 4 MiB by default (~10k rows of a 20-float
# table). pyarrow's streaming reader parses several blocks ahead, so the block size sets the
# reader's memory: 16 MiB blocks peaked at 775 MiB RSS, 4 MiB at 470 MiB and ran fastest (1M rows).
CSV_BYTES_PER_ROW = 32


def plan_units(fs: pafs.FileSystem, files: Sequence[InputFile], input_format: str) -> list[Unit]:
    """The pieces sharding deals out: every Parquet row group (weighed in rows) or every CSV
    file (weighed in bytes), in file order."""
    if input_format == "csv":
        return [Unit(f.path, f.size) for f in files]
    units: list[Unit] = []
    for file in files:
        metadata = _parquet_file(fs, file.path).metadata
        units.extend(
            Unit(file.path, metadata.row_group(g).num_rows, (g,))
            for g in range(metadata.num_row_groups)
        )
    return units


def read_schema(fs: pafs.FileSystem, path: str, input_format: str) -> pa.Schema:
    """The first file's columns (for CSV, as inferred from its first block)."""
    if input_format == "parquet":
        return _parquet_file(fs, path).schema_arrow
    with _open_csv(fs, path, columns=None, types={}, block_size=1 << 20) as reader:
        return reader.schema


def read_batches(
    fs: pafs.FileSystem,
    units: Sequence[Unit],
    input_format: str,
    columns: Sequence[str],
    *,
    numeric: Sequence[str] = (),
    types: Mapping[str, pa.DataType] | None = None,
    conform: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Record batches of `columns` (in that order) from `units`, at most about `batch_rows` rows
    each. CSV columns listed in `numeric` are read as float64 so that a column whose first block
    looked like integers does not fail on a later `2.5`; `types` gives other CSV columns their
    type (and, given at all, makes empty strings nulls, as pandas reads them). `conform` turns
    each batch into what the model needs; its InputErrors are re-raised naming the file."""
    csv_types = dict.fromkeys(numeric, pa.float64()) | dict(types or {})
    for unit in merge_row_groups(list(units)):
        doing = f"reading {unit.path}"
        with storage_errors(doing):
            try:
                if input_format == "parquet":
                    batches = _parquet_batches(fs, unit, columns, batch_rows)
                else:
                    block = max(batch_rows * CSV_BYTES_PER_ROW, 1 << 16)
                    nulls = types is not None
                    batches = _csv_batches(fs, unit.path, columns, csv_types, block, nulls)
                for batch in batches:
                    yield conform(batch) if conform is not None else batch
            except ColumnError as exc:
                raise InputError(f"{unit.path}: {exc}") from exc
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise InputError(f"{doing}: {_name_csv_column(exc, fs, unit.path)}") from exc


def _csv_batches(
    fs: pafs.FileSystem,
    path: str,
    columns: Sequence[str],
    types: dict[str, pa.DataType],
    block: int,
    strings_can_be_null: bool,
) -> Iterator[pa.RecordBatch]:
    with _open_csv(fs, path, columns, types, block, strings_can_be_null) as reader:
        yield from reader


def _name_csv_column(exc: Exception, fs: pafs.FileSystem, path: str) -> str:
    """pyarrow says `In CSV column #3: ... invalid value '12 months'`: put the column's name."""
    found = re.match(r"In CSV column #(\d+): (.*)", str(exc), re.DOTALL)
    if not found:
        return str(exc)
    try:
        name = read_schema(fs, path, "csv").names[int(found.group(1))]
    except (OSError, IndexError, pa.ArrowInvalid):
        return str(exc)
    return f"column {name!r}: {found.group(2)}"


def numeric_columns(schema: pa.Schema, names: Sequence[str]) -> list[str]:
    """Those of `names` that hold numbers (or nothing yet) in `schema`."""
    return [
        name
        for name in names
        if (kind := schema.field(name).type)
        and (pat.is_integer(kind) or pat.is_floating(kind) or pat.is_null(kind))
    ]


def _parquet_file(fs: pafs.FileSystem, path: str) -> pq.ParquetFile:
    with storage_errors(f"reading {path}"):
        try:
            # pre_buffer coalesces a row group's column reads into few large requests: worth it
            # on S3; on local files it is an extra copy (reading 4M rows took 2.5 s, not 1.3 s).
            remote = not isinstance(fs, pafs.LocalFileSystem)
            return pq.ParquetFile(fs.open_input_file(path), pre_buffer=remote)
        except pa.ArrowInvalid as exc:
            raise InputError(f"reading {path}: not a Parquet file ({exc})") from exc


def _parquet_batches(
    fs: pafs.FileSystem, unit: Unit, columns: Sequence[str], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    parquet = _parquet_file(fs, unit.path)
    missing = [c for c in columns if c not in parquet.schema_arrow.names]
    if missing:
        raise InputError(f"{unit.path}: missing column(s) {', '.join(missing)}")
    groups = unit.row_groups if unit.row_groups is not None else range(parquet.num_row_groups)
    # One row group per call: given many, pre-buffering would fetch all of them up front and
    # memory would grow with the input.
    for group in groups:
        yield from parquet.iter_batches(
            batch_size=batch_rows, row_groups=[group], columns=list(columns), use_threads=True
        )


def _open_csv(
    fs: pafs.FileSystem,
    path: str,
    columns: Sequence[str] | None,
    types: dict[str, pa.DataType],
    block_size: int,
    strings_can_be_null: bool = False,
) -> pacsv.CSVStreamingReader:
    stream = fs.open_input_stream(path)
    try:
        return pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=block_size),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(columns) if columns is not None else None,
                column_types=types,
                strings_can_be_null=strings_can_be_null,
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        stream.close()
        # The first block is parsed here already: its conversion errors name the column too.
        raise InputError(f"reading {path}: {_name_csv_column(exc, fs, path)}") from exc
