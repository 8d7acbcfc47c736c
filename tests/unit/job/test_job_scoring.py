"""The scoring core: order kept, memory bounded, the first error of any stage wins."""

from __future__ import annotations

import threading
import time

import numpy as np
import pyarrow as pa
import pytest

from job.exceptions import InputError
from job.scoring import Predictor, feature_matrix, score


def batches(count: int, rows: int = 10):
    for index in range(count):
        yield pa.record_batch({"x": pa.array(np.full(rows, index, dtype=np.float64))})


def slow_identity(batch: pa.RecordBatch) -> pa.RecordBatch:
    # Uneven delays so two workers finish out of order.
    time.sleep(0.002 * (int(batch.column(0)[0].as_py()) % 3))
    return batch


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_batches_are_written_in_input_order(workers: int) -> None:
    written: list[int] = []
    stats = score(
        batches(30),
        slow_identity,
        lambda b: written.append(int(b.column(0)[0].as_py())),
        workers=workers,
    )
    assert written == list(range(30))
    assert (stats.rows, stats.batches) == (300, 30)


def test_batches_in_flight_are_bounded() -> None:
    # GIVEN a writer far slower than the reader
    alive: set[int] = set()
    peak = 0
    lock = threading.Lock()

    def source():
        nonlocal peak
        for index, batch in enumerate(batches(40)):
            with lock:
                alive.add(index)
                peak = max(peak, len(alive))
            yield batch

    def write(batch: pa.RecordBatch) -> None:
        time.sleep(0.002)
        with lock:
            alive.discard(int(batch.column(0)[0].as_py()))

    # WHEN the stream runs; THEN never more than depth + workers batches exist at once
    score(source(), lambda b: b, write, workers=2, depth=2)
    assert peak <= 2 + 2


@pytest.mark.parametrize("stage", ["read", "predict", "write"])
def test_an_error_in_any_stage_stops_the_stream_and_is_raised(stage: str) -> None:
    def source():
        for index, batch in enumerate(batches(1000)):
            if stage == "read" and index == 5:
                raise InputError("bad read")
            yield batch

    def predict(batch: pa.RecordBatch) -> pa.RecordBatch:
        if stage == "predict" and batch.column(0)[0].as_py() == 5:
            raise InputError("bad predict")
        return batch

    def write(batch: pa.RecordBatch) -> None:
        if stage == "write" and batch.column(0)[0].as_py() == 5:
            raise InputError("bad write")

    with pytest.raises(InputError, match=f"bad {stage}"):
        score(source(), predict, write, workers=2)
    assert not [t for t in threading.enumerate() if t.name in {"read", "predict-0", "predict-1"}]


def test_empty_input_scores_nothing() -> None:
    assert score(iter([]), lambda b: b, lambda b: None).rows == 0


class Half:
    classes_ = np.array(["no", "yes"])

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        return np.column_stack([matrix[:, 0], 1 - matrix[:, 0]])

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        if np.isnan(matrix).any():
            raise ValueError("Input X contains NaN.")
        return matrix[:, 1] * 2


def test_predictor_builds_passthrough_then_answers() -> None:
    batch = pa.record_batch({"b": [0.25, 0.5], "id": ["x", "y"], "a": [1, 2]})
    out = Predictor(Half(), ["b", "a"], ["id"], "predict_proba", ["proba_no", "proba_yes"])(batch)
    assert out.to_pydict() == {"id": ["x", "y"], "proba_no": [0.25, 0.5], "proba_yes": [0.75, 0.5]}
    out = Predictor(Half(), ["b", "a"], [], "predict", ["prediction"])(batch)
    assert out.to_pydict() == {"prediction": [2.0, 4.0]}


def test_data_the_model_refuses_is_an_input_error() -> None:
    batch = pa.record_batch({"a": [1.0, None], "b": [1.0, 2.0]})
    with pytest.raises(InputError, match="the model refused the input: Input X contains NaN"):
        Predictor(Half(), ["a", "b"], [], "predict", ["prediction"])(batch)


def test_non_numeric_features_are_named() -> None:
    with pytest.raises(InputError, match="feature 'a' is not numeric"):
        feature_matrix(pa.record_batch({"a": ["x", "y"]}), ["a"])
