"""A compact, mergeable summary of a job's predictions, computed while they stream past.

Three kinds, chosen from the model and the method (never from the values, so every shard of a job
makes the same kind):

- `probabilities` (`predict_proba`): per class column, counts in `PROBABILITY_BINS` fixed bins of
  [0, 1] (a value of exactly 1 falls in the last bin);
- `labels` (a classifier's `predict`): a count per label (at most `MAX_LABELS`; the rest are
  counted under `other`);
- `values` (a regressor's `predict`): a relative-error log-bucket sketch (`config.sketch`).
  Fixed bins cannot serve regression, whose range is unknown beforehand; a sketch's buckets are
  addressed by the value alone, so two shards' sketches merge by adding counts, and any
  quantile is read back within `RELATIVE_ERROR` of the true one.

Every kind merges by adding counts (`merge`), so an array job's shards combine at commit and
the result is the same as one shard scoring all the rows. The summary is small enough to go into
the job record as well as the manifest (a few hundred numbers), which is what drift reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from config.sketch import LOG_GAMMA, RELATIVE_ERROR, quantiles
from job.scoring import _float64  # the same Arrow-to-float64 view the matrix path uses

PROBABILITIES = "probabilities"
LABELS = "labels"
VALUES = "values"
SUMMARY_VERSION = 1
PROBABILITY_BINS = 20
MAX_LABELS = 50
MAX_DENSE_LABELS = 1 << 16  # integer labels spanning less are counted with np.bincount
OTHER = "other"


def kind_for(estimator: Any, method: str) -> str:
    """Which summary the model's answers get."""
    if method == "predict_proba":
        return PROBABILITIES
    from sklearn.base import is_classifier  # the caller has imported sklearn already

    return LABELS if is_classifier(estimator) else VALUES


class SummaryBuilder:
    """Counts the prediction columns of each output batch (called by the writer thread, in input
    order, so it needs no lock). `columns` are the answer columns (not the passthrough)."""

    def __init__(self, kind: str, columns: Sequence[str]) -> None:
        self.kind = kind
        self.columns = list(columns)
        self.rows = 0
        self.missing = 0  # NaN or null answers, outside every bin
        self._bins = {c: np.zeros(PROBABILITY_BINS, dtype=np.int64) for c in self.columns}
        self._labels: dict[str, int] = {}
        self._buckets: dict[str, int] = {}  # "+i" / "-i" / "0" -> count

    def observe(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        if self.kind == PROBABILITIES:
            for name in self.columns:
                self._probabilities(name, batch.column(name))
        elif self.kind == LABELS:
            self._count_labels(batch.column(self.columns[0]))
        else:
            self._sketch(batch.column(self.columns[0]))

    def _probabilities(self, name: str, column: pa.Array) -> None:
        # One pass, no mask: NaN casts to the most negative int64, which the clip sends to -1,
        # so after the shift bin 0 counts the missing and bins 1..BINS the values (1.0 last).
        with np.errstate(invalid="ignore"):  # the NaN cast, on purpose
            index = (_float64(column) * PROBABILITY_BINS).astype(np.int64)
        np.clip(index, -1, PROBABILITY_BINS - 1, out=index)
        tally = np.bincount(index + 1, minlength=PROBABILITY_BINS + 1)
        self.missing += int(tally[0])
        self._bins[name] += tally[1:]

    def _count_labels(self, column: pa.Array) -> None:
        if pa.types.is_integer(column.type) and not column.null_count and len(column):
            # Class ids (the usual labels): np.bincount is ~50x faster than hashing them.
            values = _int64(column)
            low, high = int(values.min()), int(values.max())
            if high - low < MAX_DENSE_LABELS:
                tally = np.bincount(values - low)
                for k in np.flatnonzero(tally):
                    key = str(int(k) + low)
                    self._labels[key] = self._labels.get(key, 0) + int(tally[k])
                return
        counts = pc.value_counts(column)
        for value, count in zip(
            counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
        ):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                self.missing += count
                continue
            key = _label(value)
            self._labels[key] = self._labels.get(key, 0) + count

    def _sketch(self, column: pa.Array) -> None:
        values = _float64(column)
        finite = values[np.isfinite(values)]
        self.missing += len(values) - len(finite)
        _add(self._buckets, sketch_counts(finite))

    def as_dict(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "version": SUMMARY_VERSION,
            "kind": self.kind,
            "rows": self.rows,
            "missing": self.missing,
        }
        if self.kind == PROBABILITIES:
            summary["bins"] = PROBABILITY_BINS
            summary["histograms"] = {c: self._bins[c].tolist() for c in self.columns}
        elif self.kind == LABELS:
            summary["counts"] = _capped(self._labels)
        else:
            summary["relative_error"] = RELATIVE_ERROR
            summary["sketch"] = dict(sorted(self._buckets.items()))
            summary["quantiles"] = quantiles(summary)
        return summary


def sketch_counts(values: np.ndarray) -> dict[str, int]:
    """Finite values as sketch bucket counts: "+i" for positives, "-i" for negatives, "0".
    `np.bincount` over the bucket indices (offset to start at 0): linear, where `np.unique`
    sorts."""
    counts: dict[str, int] = {}
    for sign, part in (("+", values[values > 0]), ("-", -values[values < 0])):
        if len(part):
            index = np.ceil(np.log(part) / LOG_GAMMA).astype(np.int64)
            low = int(index.min())
            tally = np.bincount(index - low)
            present = np.flatnonzero(tally)
            counts.update({f"{sign}{k + low}": int(tally[k]) for k in present})
    zeros = int(np.count_nonzero(values == 0))
    if zeros:
        counts["0"] = zeros
    return counts


def merge(summaries: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The summaries of a job's shards as one (None when any is missing: a shard scored by an
    older container, or kinds that disagree, which the shards' shared config prevents)."""
    parts = list(summaries)
    if not parts or any(p is None for p in parts):
        return None
    present = [p for p in parts if p is not None]
    kind = present[0]["kind"]
    if any(p["kind"] != kind for p in present):
        return None
    merged: dict[str, Any] = {
        "version": SUMMARY_VERSION,
        "kind": kind,
        "rows": sum(p["rows"] for p in present),
        "missing": sum(p.get("missing", 0) for p in present),
    }
    if kind == PROBABILITIES:
        merged["bins"] = present[0]["bins"]
        histograms: dict[str, list[int]] = {}
        for part in present:
            for name, counts in part["histograms"].items():
                base = histograms.setdefault(name, [0] * len(counts))
                histograms[name] = [a + b for a, b in zip(base, counts, strict=True)]
        merged["histograms"] = histograms
    elif kind == LABELS:
        labels: dict[str, int] = {}
        for part in present:
            _add(labels, part["counts"])
        merged["counts"] = _capped(labels)
    else:
        buckets: dict[str, int] = {}
        for part in present:
            _add(buckets, part["sketch"])
        merged["relative_error"] = present[0]["relative_error"]
        merged["sketch"] = dict(sorted(buckets.items()))
        merged["quantiles"] = quantiles(merged)
    return merged


def _int64(column: pa.Array) -> np.ndarray:
    if column.type != pa.int64():
        column = pc.cast(column, pa.int64())
    values: np.ndarray = np.frombuffer(
        column.buffers()[1], dtype=np.int64, count=len(column), offset=column.offset * 8
    )
    return values


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + int(count)


def _capped(counts: dict[str, int]) -> dict[str, int]:
    """The `MAX_LABELS` most frequent labels, the rest summed under `other` (a model that
    predicts ids would otherwise make the summary as large as the output)."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[:MAX_LABELS])
    rest = sum(n for _, n in ranked[MAX_LABELS:])
    if rest:
        kept[OTHER] = kept.get(OTHER, 0) + rest
    return dict(sorted(kept.items()))
