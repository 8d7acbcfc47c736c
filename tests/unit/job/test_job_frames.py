"""Which models get a DataFrame (read from the fitted model, never from the user), what each
column becomes, and that a matrix model's process never imports pandas."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from support import jobdata
from support.model_shapes import NUMERIC, SHAPES, customers
from support.paths import ROOT

from job.frames import AS_READ, CATEGORY, NUMBER, STRING, ColumnError, FrameColumn, frame_plan


def kinds(estimator: object) -> dict[str, str] | None:
    plan = frame_plan(estimator)
    return None if plan is None else {c.name: c.kind for c in plan.columns}


def test_models_that_take_a_matrix_keep_the_matrix_path() -> None:
    data = customers(200)
    numeric = data[NUMERIC]
    assert frame_plan(LogisticRegression().fit(numeric, data["label"])) is None
    assert frame_plan(LogisticRegression().fit(numeric.to_numpy(), data["label"])) is None
    scaled = make_pipeline(StandardScaler(), LogisticRegression()).fit(numeric, data["label"])
    assert frame_plan(scaled) is None
    assert frame_plan(jobdata.fit("hgb")) is None  # numeric HGB: no categorical dtype


def test_what_each_shape_was_fit_on_is_read_from_the_model() -> None:
    assert kinds(SHAPES["onehot pipeline, logistic regression"].fit()) == {
        "plan": STRING,
        "tenure_months": NUMBER,
        "monthly_spend": NUMBER,
    }
    hgb = frame_plan(SHAPES["HGB with a categorical dtype"].fit())
    assert hgb is not None
    assert hgb.columns[0] == FrameColumn(
        "plan", CATEGORY, categories=("basic", "enterprise", "pro", "team")
    )
    assert [c.kind for c in hgb.columns[1:]] == [NUMBER, NUMBER, NUMBER]
    # The imputer fit on objects defers to the encoder after it; `autopay` is dropped (any type).
    assert kinds(SHAPES["imputing pipeline with nulls"].fit()) == {
        "plan": STRING,
        "tenure_months": NUMBER,
        "monthly_spend": NUMBER,
        "autopay": AS_READ,
    }


def test_conform_converts_what_can_become_the_fitted_type() -> None:
    plan = frame_plan(SHAPES["onehot pipeline, logistic regression"].fit())
    assert plan is not None
    batch = pa.record_batch(
        {
            "plan": pa.array([1, None], pa.int64()),  # codes stored as numbers
            "tenure_months": pa.array(["12", None]),
            "monthly_spend": pa.array([1.5, 2.5], pa.float32()),
        }
    )
    frame = plan.frame(plan.conform(batch))
    assert frame["plan"].tolist()[0] == "1"
    assert math.isnan(frame["plan"].tolist()[1])
    assert frame["tenure_months"].dtype == np.float64
    assert frame["tenure_months"].isna().tolist() == [False, True]
    with pytest.raises(ColumnError, match="'tenure_months' holds '12 months'"):
        plan.conform(batch.set_column(1, "tenure_months", pa.array(["1", "12 months"])))
    with pytest.raises(ColumnError, match="'plan' is double; the model was fit on strings"):
        plan.conform(batch.set_column(0, "plan", pa.array([1.0, 2.0])))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("shape", "imports_pandas"), [("matrix", False), ("onehot pipeline, logistic regression", True)]
)
def test_only_a_model_that_needs_a_dataframe_imports_pandas(
    tmp_path: Path, shape: str, imports_pandas: bool
) -> None:
    model, data = tmp_path / "model.skops", tmp_path / "in.parquet"
    if shape == "matrix":
        jobdata.save_model(jobdata.fit(), model)
        jobdata.write_table(jobdata.table(500), data)
    else:
        jobdata.save_model(SHAPES[shape].fit(), model)
        jobdata.write_table(pa.Table.from_pandas(customers(500), preserve_index=False), data)
    config = jobdata.write_config(
        tmp_path / "job.json", jobdata.config(str(model), str(data), f"{tmp_path}/out/")
    )
    # Print the modules at exit: whatever imported pandas, it is in sys.modules then.
    probe = (
        "import atexit, sys; atexit.register(lambda: print('PANDAS', 'pandas' in sys.modules));"
        "import runpy; sys.argv = ['job', 'score', sys.argv[1]];"
        "runpy.run_module('job', run_name='__main__', alter_sys=True)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert json.loads(lines[-2])["rows"] == 500
    assert lines[-1] == f"PANDAS {imports_pandas}"
