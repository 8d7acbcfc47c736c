"""Models as data scientists save them, fit on pandas DataFrames, and the customers they score
(no pytest in here).

`customers(rows)` is a DataFrame with a string `plan`, an int `tenure_months`, a float
`monthly_spend`, a bool `autopay`, an int64 `id` and a `label` (0/1), `tier` (3 string
classes) and `value` (a float target). `SHAPES` fits each model shape on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

PLANS = ["basic", "pro", "team", "enterprise"]
NUMERIC = ["tenure_months", "monthly_spend"]
FEATURES = ["plan", *NUMERIC]
HGB_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
# A column selector is saved as itself, with the dtypes it selects.
SELECTOR_TYPES = ["numpy.dtype", "sklearn.compose._column_transformer.make_column_selector"]
# HGB with categorical features from pandas dtypes also saves the preprocessor it fits: a
# FunctionTransformer over `functools.partial(check_array, ...)`.
HGB_CATEGORICAL_TYPES = [*HGB_TYPES, "functools.partial", "sklearn.utils.validation.check_array"]


def customers(rows: int, seed: int = 0, *, nulls: bool = False) -> pd.DataFrame:
    """Columns in an order no model was fit in, plus columns no model uses (`region`)."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(PLANS, rows)
    tenure = rng.integers(0, 72, rows)
    spend = np.round(rng.gamma(2.0, 40.0, rows), 2)
    autopay = rng.random(rows) < 0.6
    score = (plan == "pro") * 1.2 + (plan == "team") * 0.6 - tenure / 40 + spend / 80 - autopay
    frame = pd.DataFrame(
        {
            "monthly_spend": spend,
            "id": np.arange(rows, dtype=np.int64),
            "region": rng.choice(["north", "south"], rows),
            "plan": pd.array(plan, dtype=object),
            "autopay": autopay,
            "tenure_months": tenure,
        }
    )
    if nulls:
        frame["plan"] = frame["plan"].where(rng.random(rows) > 0.1, None)
        frame["monthly_spend"] = frame["monthly_spend"].where(rng.random(rows) > 0.1)
    frame["label"] = (score + rng.normal(scale=0.3, size=rows) > 0.5).astype(int)
    frame["tier"] = np.select([score > 1.2, score > 0.2], ["gold", "silver"], "bronze")
    frame["value"] = score * 10
    return frame


def onehot_pipeline(estimator: Any) -> Any:
    """The issue's model: `plan` one-hot encoded, numerics scaled, by column name."""
    columns = ColumnTransformer(
        [
            ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            ("numbers", StandardScaler(), NUMERIC),
        ]
    )
    return make_pipeline(columns, estimator)


def imputing_pipeline() -> Any:
    """Nulls in strings and numbers filled in, numerics picked by dtype at fit."""
    columns = ColumnTransformer(
        [
            (
                "plan",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                ["plan"],
            ),
            (
                "numbers",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                make_column_selector(dtype_include="number"),
            ),
        ]
    )
    return make_pipeline(columns, LogisticRegression())


@dataclass(frozen=True)
class Shape:
    """A model shape: what it is fit on, how the reference reads the rows back."""

    build: Callable[[], Any]
    features: list[str]
    target: str = "label"
    method: str = "predict_proba"
    trusted: list[str] = field(default_factory=list)
    nulls: bool = False
    category: bool = False  # `plan` as a pandas category (Parquet: dictionary-encoded)

    def training(self, rows: int = 600) -> pd.DataFrame:
        return self.prepare(customers(rows, seed=1, nulls=self.nulls))

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """What the data scientist does after reading a file: `plan` as they fit it."""
        if self.category:
            return frame.astype({"plan": pd.CategoricalDtype(PLANS)})
        return frame

    def fit(self) -> Any:
        data = self.training()
        return self.build().fit(data[self.features], data[self.target])

    def reference(self, estimator: Any, frame: pd.DataFrame) -> np.ndarray:
        """The model's answers on rows read back through pandas."""
        answers = getattr(estimator, self.method)(self.prepare(frame)[self.features])
        return np.asarray(answers)


SHAPES: dict[str, Shape] = {
    "onehot pipeline, logistic regression": Shape(
        lambda: onehot_pipeline(LogisticRegression()), FEATURES
    ),
    "HGB with a categorical dtype": Shape(
        lambda: HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype"),
        [*FEATURES, "autopay"],
        trusted=HGB_CATEGORICAL_TYPES,
        category=True,
    ),
    "multiclass with string labels": Shape(
        lambda: onehot_pipeline(LogisticRegression()), FEATURES, target="tier"
    ),
    "multiclass predict gives the labels": Shape(
        lambda: onehot_pipeline(LogisticRegression()), FEATURES, target="tier", method="predict"
    ),
    "regressor": Shape(
        lambda: onehot_pipeline(Ridge()), FEATURES, target="value", method="predict"
    ),
    "imputing pipeline with nulls": Shape(
        imputing_pipeline, [*FEATURES, "autopay"], nulls=True, trusted=SELECTOR_TYPES
    ),
    "int and bool features": Shape(
        lambda: onehot_pipeline(LogisticRegression()).set_params(
            columntransformer__remainder="passthrough"
        ),
        [*FEATURES, "autopay"],
    ),
}
