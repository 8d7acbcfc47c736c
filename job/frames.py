"""Models that take a DataFrame: which ones they are, and each batch as the DataFrame they were
fit on.

Most tabular models that data scientists save are a `Pipeline` whose `ColumnTransformer` picks
columns by name and one-hot encodes strings, or a `HistGradientBoosting*` that found its
categorical features from pandas `category` dtypes. Such a model cannot take one float64 matrix.
`frame_plan(estimator)` reads the fitted estimator (never the user's config) and returns None
when a plain matrix serves it (the fast path in `job.scoring`), or a `FramePlan` saying, per
feature, what the model was fit on:

- `number`: a numeric column (ints without nulls stay int64, nulls become NaN, bools stay bool);
- `string`: strings, given as an object column with NaN for nulls (pandas' `read_csv` and
  `read_parquet` give NaN too), or None when the fitted encoder or imputer treats None as missing;
- `category`: a pandas `category` column with the fitted categories (HGB `from_dtype`); a value
  outside them becomes missing, which is what the fitted model does with an unknown category;
- `as-read`: a column no step of the model types (dropped, passed through, a FunctionTransformer):
  it is handed over as pandas would read it.

What a column was fit on is read from the fitted steps: a `ColumnTransformer`'s transformers and
the input columns each one took, an encoder's `categories_` dtype, a `SimpleImputer`'s fit
dtype, HGB's `is_categorical_` and its categories. The Arrow-level part (`conform`: a column that
cannot become what the model was fit on is an error naming it) needs only pyarrow and runs in
the reader, which knows the file; pandas is imported by `frame` alone (and `python -m job` keeps
scikit-learn from importing it), so a matrix model's process never imports it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from job.exceptions import InputError

if TYPE_CHECKING:
    import pandas as pd

NUMBER = "number"
STRING = "string"
CATEGORY = "category"
AS_READ = "as-read"


class ColumnError(InputError):
    """A feature column that cannot become what the model was fit on (the reader adds the file)."""


@dataclass(frozen=True)
class FrameColumn:
    name: str
    kind: str  # NUMBER, STRING, CATEGORY or AS_READ
    categories: tuple[Any, ...] = ()  # CATEGORY: the fitted categories, missing marker excluded
    missing: Any = math.nan  # what a null becomes in a STRING column


@dataclass(frozen=True)
class FramePlan:
    """How each input batch becomes the DataFrame the model was fit on."""

    columns: tuple[FrameColumn, ...]
    reasons: tuple[str, ...]  # why the model needs a DataFrame (logged)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def csv_types(self, schema: pa.Schema) -> dict[str, pa.DataType]:
        """The Arrow type to parse each feature's CSV text as (the first block's guess is not
        enough: a code column `"01"` must stay a string, a later `2.5` must not fail an int)."""
        types: dict[str, pa.DataType] = {}
        for column in self.columns:
            target = _target_kind(column)
            if target == STRING:
                types[column.name] = pa.string()
            elif target == NUMBER:
                guessed = schema.field(column.name).type if column.name in schema.names else None
                # CSV `true`/`false` is a boolean, which a numeric step takes as 0/1.
                boolean = guessed is not None and pat.is_boolean(guessed)
                types[column.name] = pa.bool_() if boolean else pa.float64()
        return types

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """`batch` with every feature in the Arrow type its kind needs; ColumnError naming the
        column when one cannot be converted (text where the model needs numbers...)."""
        arrays = list(batch.columns)
        changed = False
        for column in self.columns:
            index = batch.schema.get_field_index(column.name)
            converted = _conform(column, arrays[index])
            if converted is not arrays[index]:
                arrays[index] = converted
                changed = True
        if not changed:
            return batch
        return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    def frame(self, batch: pa.RecordBatch) -> pd.DataFrame:
        """The features of a conformed batch as a DataFrame, in the fitted order and dtypes."""
        import pandas as pd  # only models that need a DataFrame pay for importing pandas

        data = {c.name: _to_pandas(c, batch.column(c.name), pd) for c in self.columns}
        return pd.DataFrame(data, copy=False)


# --- pandas, only for the models that need it ----------------------------------------------------


def hide_pandas() -> None:
    """Make `import pandas` fail (None in `sys.modules` does that) until `allow_pandas`. Only
    around imports: scikit-learn reads `sys.modules["pandas"]` when it checks for a DataFrame,
    and would fail on the None. A no-op once pandas is loaded."""
    sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]


def allow_pandas() -> None:
    """Undo `hide_pandas`."""
    if "pandas" in sys.modules and sys.modules.get("pandas") is None:
        del sys.modules["pandas"]


# --- which models need a DataFrame, and what each column was fit on -----------------------------


def frame_plan(estimator: Any) -> FramePlan | None:
    """None when a float matrix serves `estimator`; else how to build its DataFrame."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:  # never fit on a DataFrame: it takes a matrix by construction
        return None
    names = [str(name) for name in names]
    found = _Found()
    _walk(estimator, names, found)
    columns = tuple(found.column(name) for name in names)
    reasons = list(found.reasons)
    odd = [c.name for c in columns if c.kind != NUMBER]
    if odd:
        reasons.append(f"non-numeric feature(s): {', '.join(odd)}")
    if not reasons:
        return None
    # pandas now, while planning, not in the first batch's `frame`: there its import (0.3 s with
    # bytecode, 1.4 s without) was billed to the predict stage and stalled the first batch.
    import pandas  # noqa: F401

    return FramePlan(columns, tuple(dict.fromkeys(reasons)))


@dataclass
class _Found:
    kinds: dict[str, list[FrameColumn]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def add(self, column: FrameColumn) -> None:
        self.kinds.setdefault(column.name, []).append(column)

    def column(self, name: str) -> FrameColumn:
        """What every step that reads `name` agrees it was fit on (as-read when they disagree)."""
        seen = [c for c in self.kinds.get(name, []) if c.kind != AS_READ]
        if not seen and name in self.kinds:
            return FrameColumn(name, AS_READ)
        if not seen:
            return FrameColumn(name, NUMBER)
        kinds = {c.kind for c in seen}
        return seen[0] if len(kinds) == 1 else FrameColumn(name, AS_READ)


def _walk(step: Any, names: Sequence[str], found: _Found) -> None:
    """Record what `step`, fed the input columns `names`, says each of them was fit on."""
    kind = type(step).__name__
    if isinstance(step, str) or step is None:  # "drop", "passthrough": no type required
        for name in names:
            found.add(FrameColumn(name, AS_READ))
    elif hasattr(step, "steps"):  # a Pipeline: its first step sees the input
        _walk_pipeline([s for _, s in step.steps], names, found)
    elif hasattr(step, "transformers_"):  # a fitted ColumnTransformer
        found.reasons.append("a ColumnTransformer selects columns by name")
        for name, transformer, _ in step.transformers_:
            indices = _input_indices(step, name)
            _walk(transformer, [names[i] for i in indices], found)
    elif getattr(step, "_preprocessor", None) is not None and hasattr(step, "is_categorical_"):
        found.reasons.append(f"{kind} has categorical features from pandas dtypes")
        _walk_hgb(step, names, found)
    elif kind == "FunctionTransformer":
        found.reasons.append("a FunctionTransformer may use column names")
        for name in names:
            found.add(FrameColumn(name, AS_READ))
    else:
        for column in _leaf_columns(step, names):
            found.add(column)


def _walk_pipeline(steps: Sequence[Any], names: Sequence[str], found: _Found) -> None:
    steps = [s for s in steps if s not in (None, "passthrough")]
    if not steps:
        return
    first = steps[0]
    # A SimpleImputer keeps its columns, and one fit on objects does not say whether they held
    # strings: the step after it (an encoder, usually) does.
    if type(first).__name__ == "SimpleImputer" and not getattr(first, "add_indicator", False):
        told = _leaf_columns(first, names)
        if all(c.kind == NUMBER for c in told) or len(steps) == 1:
            for column in told:
                found.add(column)
            return
        after = _Found()
        _walk_pipeline(steps[1:], names, after)
        for name, column in zip(names, told, strict=True):
            chosen = after.column(name)
            if column.missing is None and chosen.kind == STRING:
                chosen = FrameColumn(name, STRING, missing=None)
            found.add(chosen)
        found.reasons.extend(after.reasons)
        return
    _walk(first, names, found)


def _leaf_columns(step: Any, names: Sequence[str]) -> list[FrameColumn]:
    """An encoder's categories or an imputer's fit dtype say; any other step takes numbers."""
    categories = getattr(step, "categories_", None)
    if isinstance(categories, list) and len(categories) == len(names):
        pairs = zip(names, categories, strict=True)
        return [_from_categories(name, np.asarray(values)) for name, values in pairs]
    fit_dtype = getattr(step, "_fit_dtype", None)
    imputer = type(step).__name__ == "SimpleImputer" and fit_dtype is not None
    if imputer and np.dtype(fit_dtype).kind == "O":
        missing = None if step.missing_values is None else math.nan
        return [FrameColumn(name, STRING, missing=missing) for name in names]
    return [FrameColumn(name, NUMBER) for name in names]


def _from_categories(name: str, categories: np.ndarray) -> FrameColumn:
    if categories.dtype.kind != "O":
        return FrameColumn(name, NUMBER)
    present = [v for v in categories.tolist() if not _is_missing(v)]
    if not all(isinstance(v, str) for v in present):
        return FrameColumn(name, AS_READ)
    missing = None if any(v is None for v in categories.tolist()) else math.nan
    return FrameColumn(name, STRING, missing=missing)


def _walk_hgb(model: Any, names: Sequence[str], found: _Found) -> None:
    encoder = model._preprocessor.named_transformers_["encoder"]
    fitted = iter(encoder.categories_)
    for name, categorical in zip(names, model.is_categorical_, strict=True):
        if not categorical:
            found.add(FrameColumn(name, NUMBER))
            continue
        values = [v for v in np.asarray(next(fitted)).tolist() if not _is_missing(v)]
        found.add(FrameColumn(name, CATEGORY, categories=tuple(values)))


def _input_indices(transformer: Any, name: str) -> list[int]:
    """The input columns a fitted ColumnTransformer gave its transformer `name`."""
    indices = getattr(transformer, "_transformer_to_input_indices", None)
    if isinstance(indices, dict) and name in indices:
        return [int(i) for i in indices[name]]
    # Older scikit-learn: the fitted column spec (callables are already resolved to labels).
    spec = next(cols for n, _, cols in transformer.transformers_ if n == name)
    fitted = [str(n) for n in transformer.feature_names_in_]
    positions = np.arange(len(fitted))
    if isinstance(spec, str):
        return [fitted.index(spec)]
    if isinstance(spec, slice):
        return positions[spec].tolist()  # type: ignore[no-any-return]
    spec = np.asarray(spec)
    if spec.dtype == bool:
        return positions[spec].tolist()  # type: ignore[no-any-return]
    return [fitted.index(str(v)) if isinstance(v, str) else int(v) for v in spec.tolist()]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# --- Arrow: conform a column to its kind ---------------------------------------------------------


def _target_kind(column: FrameColumn) -> str:
    """What Arrow type family a column must arrive as: NUMBER, STRING or AS_READ."""
    if column.kind == CATEGORY:
        present = [v for v in column.categories if not _is_missing(v)]
        return STRING if any(isinstance(v, str) for v in present) else NUMBER
    return column.kind


def _stringlike(kind: pa.DataType) -> bool:
    return bool(pat.is_string(kind) or pat.is_large_string(kind) or pat.is_string_view(kind))


def _numeric(kind: pa.DataType) -> bool:
    return bool(
        pat.is_integer(kind) or pat.is_floating(kind) or pat.is_boolean(kind) or pat.is_null(kind)
    )


def _conform(column: FrameColumn, array: pa.Array) -> pa.Array:
    target = _target_kind(column)
    if target == AS_READ:
        return array
    kind = array.type
    if pat.is_dictionary(kind):
        if target == STRING and _stringlike(kind.value_type):
            return array  # kept encoded: `frame` builds its objects from the dictionary
        array, kind = array.cast(kind.value_type), kind.value_type
    if target == NUMBER:
        return _as_number(column, array)
    if _stringlike(kind) or pat.is_null(kind):
        return array
    if pat.is_integer(kind):  # codes stored as numbers: "42" is what the model saw
        return array.cast(pa.string())
    raise ColumnError(f"feature {column.name!r} is {kind}; the model was fit on strings")


def _as_number(column: FrameColumn, array: pa.Array) -> pa.Array:
    kind = array.type
    if pat.is_decimal(kind) or pat.is_null(kind) or pat.is_float16(kind):
        return array.cast(pa.float64())
    if pat.is_boolean(kind) and array.null_count:  # numpy has no nullable bool: 0/1 and NaN
        return array.cast(pa.float64())
    if _numeric(kind):
        return array
    if _stringlike(kind):
        try:
            return pc.cast(array, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            bad = _first_non_number(array)
            raise ColumnError(
                f"feature {column.name!r} holds {bad!r}; the model was fit on numbers"
            ) from None
    raise ColumnError(f"feature {column.name!r} is {kind}; the model was fit on numbers")


def _first_non_number(array: pa.Array) -> Any:
    for value in array.to_pylist():
        if value is None:
            continue
        try:
            float(value)
        except ValueError:
            return value
    return None


# --- pandas: one conformed column as the model was fit on it -------------------------------------


def _to_pandas(column: FrameColumn, array: pa.Array, pd: Any) -> Any:
    if column.kind == AS_READ:
        return array.to_pandas()
    if column.kind == NUMBER:
        return array.to_numpy(zero_copy_only=False)
    if column.kind == STRING:
        return _objects(array, column.missing, pd)
    return _categorical(column, array, pd)


def _encoded(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, index of each row's value, -1 for null): few objects for many rows."""
    encoded = array if pat.is_dictionary(array.type) else pc.dictionary_encode(array)
    values = encoded.dictionary.to_numpy(zero_copy_only=False)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    return values, codes


def _objects(array: pa.Array, missing: Any, pd: Any) -> Any:
    """An object-dtype Series of Python strings, `missing` for nulls. Object dtype said
    explicitly: from a bare object array pandas 3 infers its Arrow-backed `str` (copying every
    string into Arrow, and turning a None `missing` into NaN), and scikit-learn's encoders turn
    that back into objects on every call. Building and predicting 1M rows in 131072-row
    batches took 0.60 s CPU that way, 0.39 s with object columns (benchmarks/bench_frames.py)."""
    if pat.is_null(array.type):
        values = np.full(len(array), missing, dtype=object)
    else:
        distinct, codes = _encoded(array)
        lookup = np.empty(len(distinct) + 1, dtype=object)
        lookup[:-1] = distinct
        lookup[-1] = missing  # index -1: null
        values = lookup[codes]
    return pd.Series(values, dtype=object, copy=False)


def _categorical(column: FrameColumn, array: pa.Array, pd: Any) -> Any:
    categories = pd.Index(list(column.categories))
    if pat.is_null(array.type):
        return pd.Categorical.from_codes(np.full(len(array), -1), categories=categories)
    values, codes = _encoded(array)
    # Position of each distinct value among the fitted categories; -1 (unknown) and null:
    # missing, which is what the fitted model does with a category it never saw.
    positions = np.append(categories.get_indexer(pd.Index(values, dtype=object)), -1)
    return pd.Categorical.from_codes(positions[codes], categories=categories)


def describe(plan: FramePlan | None) -> dict[str, Any]:
    """For the `scoring` log line: which path, and why."""
    if plan is None:
        return {"model_input": "matrix"}
    kinds: dict[str, list[str]] = {}
    for column in plan.columns:
        kinds.setdefault(column.kind, []).append(column.name)
    return {"model_input": "dataframe", "why": list(plan.reasons), "kinds": kinds}
