"""What a bad-rows budget costs (not a test).

    .venv/bin/python benchmarks/bench_bad_rows.py [--rows 1000000] [--repeat 3]

1. A clean job (no bad row), Parquet and CSV, with `output.max_bad_rows` 0 (the code path of
   old) and 100 (the budget path: `job.bad_rows`), alternated in separate processes of
   `python -m job score`; the job's own `seconds`, best and median of `--repeat`.
2. One bad row (a NaN for a logistic regression) in one batch of n rows: the predict calls the
   bisection makes, against n for scoring that batch row by row.

Data: `--rows` x 20 float features + `id`, generated into bench-data/bad-rows/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import skops.io as sio
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data" / "bad-rows"
FEATURES = [f"f{i:02d}" for i in range(20)]


def make_data(rows: int) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": DATA / f"clean-{rows}.parquet", "csv": DATA / f"clean-{rows}.csv"}
    model = DATA / "model.skops"
    if not model.exists():
        rng = np.random.default_rng(1)
        x = rng.normal(size=(50_000, 20))
        sio.dump(LogisticRegression().fit(x, x[:, 0] + x[:, 1] > 0), model)
    if not paths["parquet"].exists():
        rng = np.random.default_rng(0)
        table = pa.table({"id": np.arange(rows), **{f: rng.normal(size=rows) for f in FEATURES}})
        pq.write_table(table, paths["parquet"], row_group_size=131_072)
        pacsv.write_csv(table, paths["csv"])
    return {**paths, "model": model}


def run_job(paths: dict[str, Path], source: str, budget: int, tag: str) -> float:
    output = DATA / f"out-{source}-{budget}-{tag}"
    config = {
        "name": "bench-bad-rows",
        "model": {"uri": str(paths["model"])},
        "input": {"uri": str(paths[source])},
        "output": {
            "uri": f"{output}/",
            "passthrough": ["id"],
            "overwrite": True,
            "max_bad_rows": budget,
        },
    }
    path = DATA / f"job-{source}-{budget}.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "job", "score", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def bisection_calls(rows: int) -> tuple[int, int]:
    """(predict calls, rows predicted) to set aside one NaN row of a `rows`-row batch."""
    from job.bad_rows import Checked, RowGuard
    from job.scoring import Predictor, quiet_feature_names

    rng = np.random.default_rng(2)
    x = rng.normal(size=(rows, 20))
    model = LogisticRegression().fit(x[:5000], x[:5000, 0] > 0)
    calls: list[int] = []

    class Counting:
        classes_ = model.classes_

        def predict(self, inputs: np.ndarray) -> np.ndarray:
            calls.append(len(inputs))
            return model.predict(inputs)  # type: ignore[no-any-return]

    data = {"id": np.arange(rows), **{f: x[:, i] for i, f in enumerate(FEATURES)}}
    data["f03"] = np.where(np.arange(rows) == rows * 2 // 3, np.nan, data["f03"])
    predictor = Predictor(Counting(), FEATURES, ["id"], "predict", ["prediction"])
    with quiet_feature_names():
        scored = RowGuard(predictor, ())(Checked(pa.RecordBatch.from_pydict(data)))
    assert scored.bad is not None
    assert scored.bad.num_rows == 1
    return len(calls), sum(calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    paths = make_data(arguments.rows)

    print(f"clean job, {arguments.rows:,} rows x 20 floats, LogisticRegression, job seconds")
    print(f"{'input':8} {'max_bad_rows':>12} {'best s':>8} {'median s':>9} {'rows/s':>11}")
    for source in ("parquet", "csv"):
        times: dict[int, list[float]] = {0: [], 100: []}
        for attempt in range(arguments.repeat):
            for budget in (0, 100):  # alternated: drift on a shared host hits both alike
                times[budget].append(run_job(paths, source, budget, str(attempt)))
        for budget, seconds in times.items():
            best = min(seconds)
            print(
                f"{source:8} {budget:>12} {best:>8.3f} {statistics.median(seconds):>9.3f} "
                f"{arguments.rows / best:>11,.0f}"
            )

    print("\none NaN row in one batch: predict calls of the bisection")
    print(f"{'batch rows':>10} {'calls':>6} {'rows predicted':>15} {'log2(n)':>8}")
    for rows in (1_024, 16_384, 131_072):
        calls, predicted = bisection_calls(rows)
        print(f"{rows:>10,} {calls:>6} {predicted:>15,} {math.log2(rows):>8.0f}")


if __name__ == "__main__":
    main()
