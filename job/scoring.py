"""The scoring core: record batches in, predictions out, in bounded memory.

`score(batches, predict, write)` knows nothing about files, formats or AWS. A reader thread pulls
input batches, `workers` threads predict, and the calling thread writes in input order. pyarrow's
readers and writers and most scikit-learn predict paths release the GIL, so the three overlap and
neither I/O nor the model waits for the other. A semaphore caps the batches in flight, which caps
memory: peak use depends on the batch size, never on the input's size.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from job.exceptions import InputError
from job.frames import FramePlan

_DONE = object()
_POLL_SECONDS = 0.1


class _Rows(Protocol):
    @property
    def num_rows(self) -> int: ...


In = TypeVar("In")  # what the reader yields: a RecordBatch, or a batch with rows set aside
Out = TypeVar("Out", bound=_Rows)  # what predict gives the writer: rows counted as scored


@dataclass
class ScoreStats:
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    # Time spent inside each stage (summed over its threads); with overlap they add up to more
    # than `seconds`, and the largest says what bounds the job.
    stages: dict[str, float] = field(
        default_factory=lambda: {"read": 0.0, "predict": 0.0, "write": 0.0}
    )


@dataclass(frozen=True)
class Predictor:
    """One input batch to one output batch: passthrough columns, then the model's answers.

    The model gets a float64 matrix, or, when `frame` is set (a model fit on a DataFrame that
    needs one: `job.frames.frame_plan`), a DataFrame with the columns and dtypes it was fit on.
    """

    estimator: Any
    features: Sequence[str]
    passthrough: Sequence[str]
    method: str  # "predict" or "predict_proba"
    names: Sequence[str]  # output column names for the answers
    frame: FramePlan | None = None

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        inputs = self.model_input(batch)
        try:
            answers = np.asarray(getattr(self.estimator, self.method)(inputs))
        except (ValueError, TypeError) as exc:
            raise self.refused(inputs, exc) from exc
        return self.output(batch, answers)

    def model_input(self, batch: pa.RecordBatch) -> Any:
        """What the model's predict method is given for `batch`."""
        if self.frame is not None:
            return self.frame.frame(batch)
        return feature_matrix(batch, self.features)

    def refused(self, inputs: Any, exc: Exception) -> InputError:
        """The model's verdict on a whole batch as a permanent error. sklearn does not say which
        column: name the features holding missing values, the usual cause. (The one place a
        batch fails: setting bad rows aside would start here.)"""
        if isinstance(inputs, np.ndarray):
            nan = [n for i, n in enumerate(self.features) if np.isnan(inputs[:, i]).any()]
        else:
            nan = [str(n) for n, missing in inputs.isna().any().items() if missing]
        where = f"NaN in feature(s) {', '.join(nan)}; " if nan else ""
        return InputError(f"{where}the model refused the input: {exc}")

    def output(self, batch: pa.RecordBatch, answers: np.ndarray) -> pa.RecordBatch:
        if answers.ndim == 1:
            answers = answers.reshape(-1, 1)
        columns = [batch.column(name) for name in self.passthrough]
        columns += [_arrow(answers[:, i]) for i in range(answers.shape[1])]
        return pa.RecordBatch.from_arrays(columns, names=[*self.passthrough, *self.names])


def feature_matrix(batch: pa.RecordBatch, features: Sequence[str]) -> np.ndarray:
    """The features as one float64 matrix, columns in model order (nulls become NaN).

    Fortran order: each column is one contiguous copy (2.5x faster to fill than C order, and the
    predict paths measured, linear and tree models, were no slower on it)."""
    matrix = np.empty((batch.num_rows, len(features)), dtype=np.float64, order="F")
    for position, name in enumerate(features):
        column = batch.column(name)
        if not _numeric(column.type):
            # numpy would parse numeric-looking strings silently: a typed column of the wrong
            # type is a broken input, whatever its values.
            raise InputError(f"feature {name!r} is not numeric ({column.type})")
        try:
            matrix[:, position] = _float64(column)
        except (ValueError, TypeError, pa.ArrowInvalid) as exc:
            raise InputError(f"feature {name!r} is not numeric ({column.type}): {exc}") from exc
    return matrix


def _float64(column: pa.Array) -> np.ndarray:
    """The column as float64 values, nulls as NaN, through Arrow's own kernels: pyarrow's
    `to_numpy` imports pandas on its first call, which a matrix model does not need."""
    if pat.is_dictionary(column.type):
        column = column.dictionary_decode()
    if column.type != pa.float64():
        column = pc.cast(column, pa.float64(), safe=False)  # large ints round, as numpy does
    if column.null_count:
        column = pc.fill_null(column, math.nan)
    values: np.ndarray = np.frombuffer(
        column.buffers()[1], dtype=np.float64, count=len(column), offset=column.offset * 8
    )
    return values


def _arrow(values: np.ndarray) -> pa.Array:
    """One column of answers as Arrow. Numbers are wrapped as they are (`pa.array` would import
    pandas on its first call); labels of other kinds (strings) go through `pa.array`."""
    if values.dtype.kind not in "fiu":
        return pa.array(values)
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(data.dtype), len(data), [None, pa.py_buffer(data)]
    )


def _numeric(kind: pa.DataType) -> bool:
    return (
        pat.is_integer(kind)
        or pat.is_floating(kind)
        or pat.is_boolean(kind)
        or pat.is_decimal(kind)
        or pat.is_null(kind)
        or (pat.is_dictionary(kind) and _numeric(kind.value_type))
    )


# C901 counts the nested stages (acquire, take, read, work: each a few lines) into score itself,
# whose own flow is straight: start the stages, write in order, stop them, re-raise.
def score(  # noqa: C901
    batches: Iterable[In],
    predict: Callable[[In], Out],
    write: Callable[[Out], None],
    *,
    workers: int = 1,
    depth: int = 2,
    on_progress: Callable[[ScoreStats], None] | None = None,
) -> ScoreStats:
    """Stream `batches` through `predict` into `write` (in input order); re-raise the first error
    of any stage after stopping the others."""
    stats = ScoreStats()
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()
    in_flight = threading.Semaphore(depth + workers)
    inbox: queue.Queue[Any] = queue.Queue()
    outbox: queue.Queue[Any] = queue.Queue()

    def timed(stage: str, started: float) -> None:
        with lock:
            stats.stages[stage] += time.perf_counter() - started

    def fail(exc: BaseException) -> None:
        with lock:
            errors.append(exc)
        stop.set()

    def acquire() -> bool:
        while not stop.is_set():
            if in_flight.acquire(timeout=_POLL_SECONDS):
                return True
        return False

    def take(source: queue.Queue[Any]) -> Any:
        while not stop.is_set():
            try:
                return source.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
        return _DONE

    def read() -> None:
        try:
            sequence = 0
            iterator = iter(batches)
            while acquire():
                started = time.perf_counter()
                batch = next(iterator, None)
                timed("read", started)
                if batch is None:
                    break
                inbox.put((sequence, batch))
                sequence += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            fail(exc)
        finally:
            for _ in range(workers):
                inbox.put(_DONE)

    def work() -> None:
        try:
            while (item := take(inbox)) is not _DONE:
                sequence, batch = item
                started = time.perf_counter()
                answer = predict(batch)
                timed("predict", started)
                outbox.put((sequence, answer))
        except BaseException as exc:  # noqa: BLE001
            fail(exc)
        finally:
            outbox.put(_DONE)

    # Threads inherit the process's warning filters.
    with quiet_feature_names():
        threads = [threading.Thread(target=read, name="read", daemon=True)]
        threads += [
            threading.Thread(target=work, name=f"predict-{i}", daemon=True) for i in range(workers)
        ]
        begun = time.perf_counter()
        for thread in threads:
            thread.start()
        try:
            _write_in_order(outbox, write, workers, stats, in_flight, timed, on_progress)
        except BaseException as exc:  # noqa: BLE001
            fail(exc)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        stats.seconds = time.perf_counter() - begun
    if errors:
        raise errors[0]
    return stats


def _write_in_order(
    outbox: queue.Queue[Any],
    write: Callable[[Out], None],
    workers: int,
    stats: ScoreStats,
    in_flight: threading.Semaphore,
    timed: Callable[[str, float], None],
    on_progress: Callable[[ScoreStats], None] | None,
) -> None:
    pending: dict[int, Out] = {}
    finished = 0
    while finished < workers:
        item = outbox.get()
        if item is _DONE:
            finished += 1
            continue
        sequence, answer = item
        pending[sequence] = answer
        while stats.batches in pending:
            batch = pending.pop(stats.batches)
            started = time.perf_counter()
            write(batch)
            timed("write", started)
            in_flight.release()
            stats.batches += 1
            stats.rows += batch.num_rows
            if on_progress is not None:
                on_progress(stats)
    if pending:
        raise RuntimeError(f"scoring lost batches before {min(pending)}")


@contextlib.contextmanager
def quiet_feature_names() -> Iterator[None]:
    """sklearn warns on every batch when a model fitted on a DataFrame gets an array, though the
    matrix path passes the columns in the fitted order, by name."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield
