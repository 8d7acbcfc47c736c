"""job.summary: the prediction summary is exact for bins and labels, within its error for
quantiles, and merging shards' summaries equals summarising all the rows at once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from config.sketch import RELATIVE_ERROR
from job import summary as s


def _batch(**columns):
    return pa.RecordBatch.from_pydict(columns)


def test_probabilities_fixed_bins_per_class_including_one():
    builder = s.SummaryBuilder(s.PROBABILITIES, ["p_0", "p_1"])
    builder.observe(_batch(id=[1, 2, 3], p_0=[0.0, 0.5, 1.0], p_1=[1.0, 0.5, 0.0]))
    out = builder.as_dict()
    assert out["kind"] == "probabilities"
    assert out["rows"] == 3
    assert out["histograms"]["p_0"][0] == 1
    assert out["histograms"]["p_0"][10] == 1
    assert out["histograms"]["p_0"][-1] == 1  # exactly 1.0 lands in the last bin
    assert sum(out["histograms"]["p_1"]) == 3


def test_labels_counted_and_missing_apart():
    builder = s.SummaryBuilder(s.LABELS, ["label"])
    builder.observe(_batch(label=["a", "b", "a", None]))
    builder.observe(_batch(label=["a", "c", "c", "c"]))
    out = builder.as_dict()
    assert out["counts"] == {"a": 3, "b": 1, "c": 3}
    assert out["missing"] == 1


def test_labels_capped_with_other():
    builder = s.SummaryBuilder(s.LABELS, ["label"])
    builder.observe(_batch(label=list(range(s.MAX_LABELS + 10))))
    counts = builder.as_dict()["counts"]
    assert len(counts) == s.MAX_LABELS + 1
    assert counts[s.OTHER] == 10


def test_regression_quantiles_within_relative_error():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.lognormal(3, 1, 50_000), -rng.lognormal(0, 1, 5_000), [0.0]])
    builder = s.SummaryBuilder(s.VALUES, ["prediction"])
    builder.observe(_batch(prediction=values))
    found = builder.as_dict()["quantiles"]
    for name, q in (("p5", 0.05), ("p50", 0.5), ("p99", 0.99)):
        truth = float(np.quantile(values, q, method="lower"))
        assert found[name] == pytest.approx(truth, rel=RELATIVE_ERROR * 1.01)


@pytest.mark.parametrize(
    ("kind", "column"),
    [
        (s.PROBABILITIES, "p"),
        (s.LABELS, "p"),
        (s.VALUES, "p"),
    ],
)
def test_merged_shards_equal_one_pass(kind, column):
    rng = np.random.default_rng(7)
    data = rng.random(10_000)
    if kind == s.LABELS:
        data = np.round(data * 5)
    whole = s.SummaryBuilder(kind, [column])
    whole.observe(_batch(p=data))
    shards = []
    for part in np.array_split(data, 3):
        builder = s.SummaryBuilder(kind, [column])
        builder.observe(_batch(p=part))
        shards.append(builder.as_dict())
    assert s.merge(shards) == whole.as_dict()


def test_merge_refuses_a_missing_shard_summary():
    builder = s.SummaryBuilder(s.LABELS, ["label"])
    builder.observe(_batch(label=[1]))
    assert s.merge([builder.as_dict(), None]) is None


def test_kind_from_model_and_method():
    assert s.kind_for(LogisticRegression(), "predict_proba") == s.PROBABILITIES
    assert s.kind_for(LogisticRegression(), "predict") == s.LABELS
    assert s.kind_for(LinearRegression(), "predict") == s.VALUES


def test_integer_labels_dense_and_sparse_paths_agree():
    values = [3, -2, 3, 70_000_000, 3, -2]
    dense = s.SummaryBuilder(s.LABELS, ["label"])
    dense.observe(_batch(label=pa.array(values[:3] + values[4:], pa.int32())))
    assert dense.as_dict()["counts"] == {"-2": 2, "3": 3}
    sparse = s.SummaryBuilder(s.LABELS, ["label"])
    sparse.observe(_batch(label=values))  # spans more than MAX_DENSE_LABELS: hashed
    assert sparse.as_dict()["counts"] == {"-2": 2, "3": 3, "70000000": 1}
    with_null = s.SummaryBuilder(s.LABELS, ["label"])
    with_null.observe(_batch(label=[1, None, 1]))
    assert (with_null.as_dict()["counts"], with_null.as_dict()["missing"]) == ({"1": 2}, 1)


def test_probabilities_count_nan_and_null_as_missing():
    builder = s.SummaryBuilder(s.PROBABILITIES, ["p"])
    builder.observe(_batch(p=[0.0, float("nan"), 1.0, None, 0.99]))
    out = builder.as_dict()
    assert out["missing"] == 2
    assert out["histograms"]["p"][0] == 1
    assert out["histograms"]["p"][-1] == 2
    assert sum(out["histograms"]["p"]) == 3
