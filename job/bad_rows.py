"""Bad rows: set aside the rows the model cannot score instead of failing the job.

Only with a budget (`output.max_bad_rows` / `output.max_bad_fraction` above 0); without one the
job runs exactly the code it always ran and the first bad batch fails it.

Nothing is checked row by row while batches succeed: a batch is converted and predicted whole,
as without a budget, and only a batch that fails is taken apart (`isolate`, a bisection: a batch
of n rows with one bad row costs about 1.5 log2(n) + 1 calls instead of n). Two places fail:

- conversion (the reader's thread): a feature the model needs as a number that holds text
  (`"12 months"`). With a budget, CSV numeric features are read as text and converted here, so
  the rows whose value does not convert are known (pyarrow's CSV reader would fail the whole
  block); Parquet text columns the model needs as numbers likewise. A column whose *type* cannot
  become what the model was fit on (floats where it needs strings) names no row: still permanent.
- predict (the workers): the model refuses rows (NaN for a logistic regression, an unknown
  category for `OneHotEncoder(handle_unknown="error")`): the `ValueError`/`TypeError` that
  `Predictor.refused` turns into a permanent error without a budget.

Set-aside rows go to `_errors/part-SSSSS-NNNNN.<format>` beside the output, in the output's
format: the passthrough columns, every other feature as text (its value as read) and `reason`.
The writer counts them; the limit is judged on the job's total (`Budget.check`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.types as pat

from config.models import OutputSpec
from config.uris import Location
from job.exceptions import InputError
from job.frames import ColumnError
from job.inputs import DEFAULT_BATCH_ROWS, read_batches
from job.output import DEFAULT_PART_ROWS, Part, PartWriter
from job.scoring import Predictor
from job.storage import Unit

ERRORS_DIR = "_errors/"
REASON = "reason"
FIRST_REASONS = 5  # how many reasons a failure message (and a shard marker) keeps
# The texts pyarrow's CSV reader takes as null in a numeric column: read as text, they must
# still be nulls ("NA", "", "nan"...), not conversion failures.
_NULL_TEXTS: list[str] = list(pacsv.ConvertOptions().null_values)
# What a conversion or a model's refusal of some rows raises (not a bug, not I/O).
_CAST_ERRORS = (pa.ArrowInvalid,)
_PREDICT_ERRORS = (ValueError, TypeError)

T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    """How many bad rows a job may set aside: the larger of `max_rows` and `max_fraction` of
    the rows read. Zero for both (the default): none, and no row is ever isolated."""

    max_rows: int = 0
    max_fraction: float = 0.0

    @classmethod
    def of(cls, output: OutputSpec) -> Budget:
        return cls(output.max_bad_rows, output.max_bad_fraction)

    @property
    def enabled(self) -> bool:
        return self.max_rows > 0 or self.max_fraction > 0

    def allowed(self, rows_read: int) -> int:
        return max(self.max_rows, math.floor(self.max_fraction * rows_read))

    def exceeded_early(self, bad: int) -> bool:
        """Known before the end: over `max_rows` with no fraction to wait for (the job's total
        is at least this shard's count, so an array child may stop at once too)."""
        return self.max_fraction == 0 and bad > self.max_rows

    def check(self, bad: int, rows_read: int | None, reasons: Sequence[str]) -> None:
        """Raise (permanent) when `bad` rows are more than allowed; None `rows_read`: the
        count so far, judged on `max_rows` alone."""
        allowed = self.max_rows if rows_read is None else self.allowed(rows_read)
        if bad <= allowed:
            return
        of = "" if rows_read is None else f" of {rows_read:,} rows read"
        limits = f"output.max_bad_rows {self.max_rows}"
        if self.max_fraction:
            limits += f", output.max_bad_fraction {self.max_fraction:g}"
        first = "; ".join(reasons[:FIRST_REASONS])
        raise InputError(
            f"{bad:,} bad row(s){of} could not be scored, more than the {allowed:,} allowed "
            f"({limits}); first reasons: {first}"
        )


def isolate(
    rows: int, attempt: Callable[[int, int], T], errors: tuple[type[Exception], ...]
) -> tuple[list[tuple[int, int, T]], list[tuple[int, Exception]]]:
    """Split rows [0, rows), which failed `attempt` as a whole, into the ranges that succeed
    (start, stop, result), in order, and the single rows that fail (row, error). A bisection:
    when a failed range's left half succeeds, its right half is known to fail and is split
    without a call of its own."""
    done: list[tuple[int, int, T]] = []
    failed: list[tuple[int, Exception]] = []

    def walk(start: int, stop: int, known_bad: bool) -> bool:
        if not known_bad or stop - start == 1:
            try:
                done.append((start, stop, attempt(start, stop)))
                return True
            except errors as exc:
                if stop - start == 1:
                    failed.append((start, exc))
                    return False
        middle = (start + stop) // 2
        left_ok = walk(start, middle, False)
        walk(middle, stop, left_ok)
        return False

    if rows:
        walk(0, rows, True)
    return done, failed


@dataclass(frozen=True)
class Checked:
    """A batch converted for the model, and the rows that could not be (already set aside)."""

    batch: pa.RecordBatch
    bad: pa.RecordBatch | None = None


@dataclass(frozen=True)
class Scored:
    """A batch's answers for its good rows, and its rows set aside (both may be None)."""

    output: pa.RecordBatch | None
    bad: pa.RecordBatch | None = None

    @property
    def num_rows(self) -> int:
        return 0 if self.output is None else self.output.num_rows


@dataclass(frozen=True)
class RowGuard:
    """The predict stage with a budget: `Predictor` on whole batches, bisecting only those the
    model refuses. `numbers`: the features the model needs as numbers whose text is converted
    here (row by row when a batch's conversion fails); `csv_numbers`: those read from CSV as
    text for that (a matrix model's every feature: the reader's type guess is one block's)."""

    predictor: Predictor
    numbers: tuple[str, ...]
    csv_types: dict[str, pa.DataType] = field(default_factory=dict)
    csv_numbers: tuple[str, ...] = ()

    # -- reading: text -> numbers, with the rows that do not convert set aside ------------------

    def read(
        self,
        fs: pafs.FileSystem,
        units: Sequence[Unit],
        input_format: str,
        columns: Sequence[str],
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> Iterator[Checked]:
        """`read_batches` file by file (the errors name the file), numeric CSV features read as
        text, then converted here; the model's own conform after that."""
        text_types = dict(self.csv_types) | dict.fromkeys(self.csv_numbers, pa.string())
        # A Parquet column's type is the file's: text where a matrix model needs numbers stays
        # a broken input (`feature_matrix`), as without a budget.
        numbers = self.csv_numbers if input_format == "csv" else self.numbers
        for path, group in groupby(units, key=lambda unit: unit.path):
            raw = read_batches(
                fs, list(group), input_format, columns, types=text_types, batch_rows=batch_rows
            )
            for batch in raw:
                try:
                    yield self.convert(batch, numbers)
                except ColumnError as exc:
                    raise InputError(f"{path}: {exc}") from exc

    def convert(self, batch: pa.RecordBatch, numbers: Sequence[str]) -> Checked:
        arrays = list(batch.columns)
        reasons: dict[int, str] = {}
        for name in numbers:
            index = batch.schema.get_field_index(name)
            if index < 0 or not _stringlike(arrays[index].type):
                continue
            arrays[index], failed = _to_numbers(arrays[index])
            for row in failed:
                value = batch.column(index)[row].as_py()
                reasons.setdefault(
                    row, f"feature {name!r} holds {value!r}; the model was fit on numbers"
                )
        converted = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
        bad = None
        if reasons:
            rows = sorted(reasons)
            keep = np.ones(batch.num_rows, dtype=bool)
            keep[rows] = False
            bad = self.set_aside(batch.take(_ints(rows)), [reasons[r] for r in rows])
            converted = converted.filter(_bools(keep))
        frame = self.predictor.frame
        if frame is not None:
            converted = frame.conform(converted)
        return Checked(converted, bad)

    # -- predicting: whole batches, bisected only when the model refuses one --------------------

    def __call__(self, item: Checked) -> Scored:
        batch = item.batch
        if batch.num_rows == 0:
            return Scored(None, item.bad)
        predictor = self.predictor
        inputs = predictor.model_input(batch)  # a column the model cannot take: permanent
        try:
            answers = np.asarray(getattr(predictor.estimator, predictor.method)(inputs))
        except _PREDICT_ERRORS:
            return self._bisect(batch, item.bad)
        return Scored(predictor.output(batch, answers), item.bad)

    def _bisect(self, batch: pa.RecordBatch, bad: pa.RecordBatch | None) -> Scored:
        predictor = self.predictor
        method = getattr(predictor.estimator, predictor.method)

        def attempt(start: int, stop: int) -> np.ndarray:
            return np.asarray(method(predictor.model_input(batch.slice(start, stop - start))))

        done, failed = isolate(batch.num_rows, attempt, _PREDICT_ERRORS)
        output = None
        if done:
            rows = np.concatenate([np.arange(start, stop) for start, stop, _ in done])
            answers = np.concatenate([result for _, _, result in done])
            output = predictor.output(batch.take(_ints(rows)), answers)
        reasons = [
            _first_line(predictor.refused(predictor.model_input(batch.slice(row, 1)), exc))
            for row, exc in failed
        ]
        refused = self.set_aside(batch.take(_ints([row for row, _ in failed])), reasons)
        both = refused if bad is None else pa.concat_batches([bad, refused.cast(bad.schema)])
        return Scored(output, both)

    # -- the rows set aside ----------------------------------------------------------------------

    def set_aside(self, rows: pa.RecordBatch, reasons: list[str]) -> pa.RecordBatch:
        """Passthrough columns as read, the other features as text, then `reason`."""
        passthrough = list(self.predictor.passthrough)
        features = [f for f in self.predictor.features if f not in passthrough]
        names = [*passthrough, *features]
        columns = [rows.column(n) for n in passthrough] + [_text(rows.column(n)) for n in features]
        reason = REASON if REASON not in names else f"_{REASON}"
        return pa.RecordBatch.from_arrays([*columns, _strings(reasons)], names=[*names, reason])


class BadRowSink:
    """The write stage with a budget: answers to the output's parts, set-aside rows to
    `_errors/` parts (opened on the first bad row: a clean run writes none), counted."""

    def __init__(
        self,
        output: Location,
        shard: int,
        output_format: str,
        write: Callable[[pa.RecordBatch], None],
        budget: Budget,
        *,
        passthrough: Sequence[str] = (),
        part_rows: int = DEFAULT_PART_ROWS,
    ) -> None:
        self._location = output.join(ERRORS_DIR)
        self._shard = shard
        self._format = output_format
        self._write = write
        self._budget = budget
        self._part_rows = part_rows
        self._writer: PartWriter | None = None
        self.bad_rows = 0
        self.reasons: list[str] = []
        self._passthrough = list(passthrough)  # named in the reasons kept for the message

    def __call__(self, scored: Scored) -> None:
        if scored.output is not None and scored.output.num_rows:
            self._write(scored.output)
        bad = scored.bad
        if bad is None or not bad.num_rows:
            return
        if self._writer is None:
            self._writer = PartWriter(
                self._location, self._shard, self._format, part_rows=self._part_rows
            )
        self._writer.write(bad)
        self.bad_rows += bad.num_rows
        self._remember(bad)
        if self._budget.exceeded_early(self.bad_rows):
            self._budget.check(self.bad_rows, None, self.reasons)

    def _remember(self, bad: pa.RecordBatch) -> None:
        room = FIRST_REASONS - len(self.reasons)
        if room <= 0:
            return
        reason = bad.schema.names[-1]
        for row in bad.slice(0, room).to_pylist():
            where = ", ".join(f"{k}={row[k]}" for k in self._passthrough)
            self.reasons.append(f"{where}: {row[reason]}" if where else str(row[reason]))

    def close(self) -> list[Part]:
        return [] if self._writer is None else self._writer.close()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


def _to_numbers(array: pa.Array) -> tuple[pa.Array, list[int]]:
    """Text as float64 (null texts as nulls) and the rows whose text is no number (null)."""
    if pat.is_large_string(array.type) or pat.is_string_view(array.type):
        array = array.cast(pa.string())
    nulls = pc.is_in(array, value_set=_strings(_NULL_TEXTS))
    if pc.any(nulls).as_py():
        array = pc.if_else(nulls, pa.scalar(None, pa.string()), array)
    try:
        return pc.cast(array, pa.float64()), []
    except _CAST_ERRORS:
        pass

    def attempt(start: int, stop: int) -> pa.Array:
        return pc.cast(array.slice(start, stop - start), pa.float64())

    _done, failed = isolate(len(array), attempt, _CAST_ERRORS)
    rows = [row for row, _ in failed]
    mask = np.zeros(len(array), dtype=bool)
    mask[rows] = True
    cleared = pc.if_else(_bools(mask), pa.scalar(None, pa.string()), array)
    return pc.cast(cleared, pa.float64()), rows


def _text(array: pa.Array) -> pa.Array:
    """A column's values as text, nulls kept: one schema for every `_errors/` part."""
    if pat.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pat.is_string(array.type):
        return array
    try:
        return pc.cast(array, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = [None if v is None else str(v) for v in array.to_pylist()]
        texts = _strings([v or "" for v in values])
        return pc.if_else(_bools(np.array([v is None for v in values])), None, texts)


def _stringlike(kind: pa.DataType) -> bool:
    return bool(pat.is_string(kind) or pat.is_large_string(kind) or pat.is_string_view(kind))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


# Arrow arrays built from their buffers: `pa.array` imports pandas on its first call, which a
# matrix model's process never loads (`job.frames.hide_pandas`).


def _ints(values: Sequence[int] | np.ndarray) -> pa.Array:
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def _bools(values: np.ndarray) -> pa.Array:
    bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def _strings(values: Sequence[str]) -> pa.Array:
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    data = b"".join(encoded)
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
