"""Every common scikit-learn model shape scores what the model gives on the same rows read
through pandas: pipelines with string categories, HGB with a categorical dtype, multiclass with
string labels, regressors, nulls, int and bool features, a pinned joblib model. Real estimators
fit on DataFrames; Parquet and CSV input with columns in another order and one no model uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from support import jobdata
from support.model_shapes import FEATURES, SHAPES, Shape, customers, onehot_pipeline

from config.retry import EXIT_OK, EXIT_PERMANENT

ROWS = 1500


def write_input(frame: pd.DataFrame, path: Path) -> Path:
    """As a data scientist writes a table: `to_csv`, or Parquet from pandas (a category column
    becomes a dictionary-encoded one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=700)
    return path


def read_back(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def score_job(
    run_score: Any, tmp_path: Path, estimator: Any, shape: Shape, data: Path, **model: Any
) -> tuple[int, list[str], Path]:
    path = tmp_path / "model.skops"
    digest = jobdata.save_model(estimator, path)
    output = tmp_path / "out"
    document = jobdata.config(
        str(path),
        str(data),
        f"{output}/",
        **{"output.predict": shape.method, "model.trusted_types": shape.trusted or None},
        **model,
    )
    if document["model"].get("trusted_types") is None:
        document["model"].pop("trusted_types", None)
    else:  # trusted types are reviewed for one file: its pin
        document["model"]["sha256"] = digest
    code, lines = run_score(document, "--batch-rows", "400")
    return code, lines, output


def answers(output: Path, estimator: Any, method: str) -> np.ndarray:
    result = jobdata.read_output(json.loads((output / "_manifest.json").read_text()))
    assert result["id"].to_pylist() == list(range(ROWS))
    if method == "predict":
        assert result.column_names == ["id", "prediction"]
        return result["prediction"].to_numpy(zero_copy_only=False)
    names = [f"proba_{label}" for label in estimator.classes_]
    assert result.column_names == ["id", *names]
    return np.column_stack([result[name].to_numpy() for name in names])


def model_input(lines: list[str]) -> str:
    scoring = next(json.loads(line) for line in lines[:-1] if '"scoring"' in line)
    return str(scoring["model_input"])


@pytest.mark.parametrize("extension", [".parquet", ".csv"])
@pytest.mark.parametrize("name", SHAPES)
def test_each_model_shape_scores_as_the_model_does_through_pandas(
    tmp_path, run_score, name, extension
) -> None:
    # GIVEN a model fit on a DataFrame and customers written as a data scientist writes them
    shape = SHAPES[name]
    estimator = shape.fit()
    data = write_input(
        shape.prepare(customers(ROWS, seed=2, nulls=shape.nulls)), tmp_path / f"in{extension}"
    )

    # WHEN the job scores them
    code, lines, output = score_job(run_score, tmp_path, estimator, shape, data)

    # THEN every row's answer is the model's on the same rows read through pandas, class by class
    assert code == EXIT_OK, lines[-3:]
    expected = shape.reference(estimator, read_back(data))
    got = answers(output, estimator, shape.method)
    if expected.dtype.kind in "OUS":
        assert got.tolist() == expected.tolist()
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert model_input(lines) == "dataframe"


def test_a_pinned_joblib_pipeline_scores_like_its_skops_twin(tmp_path, run_score) -> None:
    shape = SHAPES["onehot pipeline, logistic regression"]
    estimator = shape.fit()
    data = write_input(customers(ROWS, seed=3), tmp_path / "in.parquet")
    model = tmp_path / "model.joblib"
    digest = jobdata.save_model(estimator, model)
    document = jobdata.config(
        str(model), str(data), f"{tmp_path}/out/", **{"output.predict": "predict_proba"}
    )
    document["model"]["sha256"] = digest

    code, lines = run_score(document)

    assert code == EXIT_OK, lines[-3:]
    expected = shape.reference(estimator, read_back(data))
    np.testing.assert_allclose(answers(tmp_path / "out", estimator, "predict_proba"), expected)


def test_a_numeric_model_keeps_the_matrix_path(scratch, run_score) -> None:
    code, lines = run_score(scratch.config())
    assert code == EXIT_OK
    assert model_input(lines) == "matrix"


def onehot_job(tmp_path: Path, run_score: Any, frame: pd.DataFrame, name: str) -> tuple[int, str]:
    shape = SHAPES["onehot pipeline, logistic regression"]
    data = write_input(frame, tmp_path / name)
    code, lines, _ = score_job(run_score, tmp_path, shape.fit(), shape, data)
    errors = " ".join(line for line in lines if '"ERROR"' in line)
    return code, errors


def test_a_missing_feature_is_permanent_and_named_with_the_file(tmp_path, run_score) -> None:
    code, errors = onehot_job(
        tmp_path, run_score, customers(ROWS).drop(columns=["plan"]), "no-plan.parquet"
    )
    assert code == EXIT_PERMANENT
    assert "plan" in errors
    assert "no-plan.parquet" in errors


@pytest.mark.parametrize("name", ["months.csv", "months.parquet"])
def test_text_where_the_model_needs_a_number_is_permanent_and_named(
    tmp_path, run_score, name
) -> None:
    # GIVEN a tenure column that says "12 months" a thousand rows in (a later batch, a later
    # CSV block than the one pyarrow guessed types from)
    frame = customers(ROWS).astype({"tenure_months": object})
    frame.loc[1000, "tenure_months"] = "12 months"
    if name.endswith(".parquet"):
        frame["tenure_months"] = frame["tenure_months"].astype(str)

    code, errors = onehot_job(tmp_path, run_score, frame, name)

    assert code == EXIT_PERMANENT
    assert "'tenure_months'" in errors
    assert "12 months" in errors
    assert name in errors


def test_a_category_the_model_never_saw_is_what_the_model_makes_of_it(tmp_path, run_score) -> None:
    # OneHotEncoder(handle_unknown="ignore"): an all-zero row, as through pandas.
    frame = customers(ROWS)
    frame.loc[::7, "plan"] = "trial"
    shape = SHAPES["onehot pipeline, logistic regression"]
    estimator = shape.fit()
    data = write_input(frame, tmp_path / "in.csv")
    code, lines, output = score_job(run_score, tmp_path, estimator, shape, data)
    assert code == EXIT_OK, lines[-3:]
    expected = shape.reference(estimator, read_back(data))
    np.testing.assert_allclose(answers(output, estimator, "predict_proba"), expected)


def test_a_feature_listed_in_the_config_must_be_one_the_model_knows(tmp_path, run_score) -> None:
    estimator = onehot_pipeline(LogisticRegression()).fit(
        customers(300)[FEATURES], customers(300)["label"]
    )
    shape = SHAPES["onehot pipeline, logistic regression"]
    data = write_input(customers(ROWS), tmp_path / "in.parquet")
    code, lines, _ = score_job(
        run_score, tmp_path, estimator, shape, data, **{"input.features": [*FEATURES, "region"]}
    )
    assert code == EXIT_PERMANENT
    assert "extra column(s) the model does not know: region" in " ".join(lines)
