"""Builders for the job's tests: small inputs, fitted models, configs, outputs read back (no
pytest in here)."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from support.documents import set_paths

FEATURES = ["f0", "f1", "f2", "f3"]
HGB_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


def table(rows: int, seed: int = 0) -> pa.Table:
    """`id` then four float features; the label is a function of f0 + f1."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {"id": np.arange(rows, dtype=np.int64)}
    data.update({name: rng.normal(size=rows) for name in FEATURES})
    return pa.table(data)


def labels(data: pa.Table) -> np.ndarray:
    return (data["f0"].to_numpy() + data["f1"].to_numpy() > 0).astype(int)


def fit(kind: str = "logreg", rows: int = 400, columns: list[str] | None = None) -> Any:
    """A classifier fitted on a DataFrame (so it knows `feature_names_in_`)."""
    data = table(rows, seed=99)
    frame = data.select(columns or FEATURES).to_pandas()
    model = LogisticRegression() if kind == "logreg" else HistGradientBoostingClassifier(max_iter=5)
    return model.fit(frame, labels(data))


def save_model(estimator: Any, path: Path) -> str:
    """Save by extension (.skops, .pkl, .joblib); return the file's SHA-256."""
    if path.suffix == ".skops":
        sio.dump(estimator, path)
    elif path.suffix == ".joblib":
        import joblib

        joblib.dump(estimator, path)
    else:
        path.write_bytes(pickle.dumps(estimator))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_table(data: pa.Table, path: Path, row_group_rows: int = 500) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        pacsv.write_csv(data, path)
    else:
        pq.write_table(data, path, row_group_size=row_group_rows)
    return path


def write_files(data: pa.Table, folder: Path, extension: str, files: int) -> list[Path]:
    """`data` split into `files` consecutive files under `folder`."""
    step = -(-data.num_rows // files)
    return [
        write_table(data.slice(i * step, step), folder / f"data-{i:02d}{extension}")
        for i in range(files)
    ]


def config(model_uri: str, input_uri: str, output_uri: str, **changes: Any) -> dict[str, Any]:
    """A job config; `changes` uses dotted keys (`output.predict`) for nested fields."""
    document: dict[str, Any] = {
        "name": "test-job",
        "model": {"uri": model_uri},
        "input": {"uri": input_uri},
        "output": {"uri": output_uri, "passthrough": ["id"]},
    }
    return set_paths(document, changes, separator=".", delete=None)


def write_config(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def read_output(manifest: dict[str, Any]) -> pa.Table:
    """Every part the manifest lists, concatenated (local parts only)."""
    tables = []
    for part in manifest["parts"]:
        local = part["uri"].removeprefix("file://")
        if manifest["format"] == "csv":
            tables.append(pacsv.read_csv(local))
        else:
            tables.append(pq.read_table(local))
    return pa.concat_tables(tables)


def expected_proba(estimator: Any, data: pa.Table) -> np.ndarray:
    frame = pd.DataFrame({name: data[name].to_numpy() for name in estimator.feature_names_in_})
    return estimator.predict_proba(frame)


def parquet_ids(raw: bytes) -> list[int]:
    return pq.read_table(pa.BufferReader(raw), columns=["id"])["id"].to_pylist()
