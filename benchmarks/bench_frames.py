"""Micro-benchmark of the DataFrame path's predict stage, in one process, no threads.

    .venv/bin/python benchmarks/bench_frames.py --rows 1000000

Uses the pipeline input and model of `bench_score.py` (generated there into `bench-data/`). For
each way of handing the string column to the model and each batch size: the time to build the
batch DataFrames from Arrow record batches and the time of `predict_proba` over them, the least
CPU time of `--repeat` runs; beside them the pipeline's one call on `pd.read_parquet`'s whole
DataFrame.
Every variant's predictions are checked equal to that call's.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def best(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The least CPU time (this process, all threads) of `repeat` runs: on a shared host the
    wall time moves with the neighbours' load, CPU time much less."""
    times, result = [], None
    for _ in range(repeat):
        started = time.process_time()
        result = run()
        times.append(time.process_time() - started)
    return min(times), result


def main() -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    import skops.io as sio

    from benchmarks import bench_score
    from job.frames import STRING, frame_plan

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--batch-rows", type=int, nargs="*", default=[131_072, 262_144, 1_048_576])
    args = parser.parse_args()

    inputs = bench_score.generate_pipeline(args.data / f"pipeline-{args.rows}", args.rows)
    model = sio.load(bench_score.fit_pipeline(args.data / "models"), trusted=None)
    plan = frame_plan(model)
    assert plan is not None
    path = inputs["parquet"]

    whole = pd.read_parquet(path)
    seconds, expected = best(args.repeat, lambda: model.predict_proba(whole))
    print(f"{'pd.read_parquet, one call':<44} {'':>9} predict {seconds:6.3f} s CPU")

    strings = [c.name for c in plan.columns if c.kind == STRING]

    def str_inferred(batch: pa.RecordBatch) -> pd.DataFrame:
        """What `frame` gave before: object arrays, from which pandas 3 infers `str`."""
        frame = plan.frame(batch)
        data = {n: frame[n].to_numpy() for n in frame.columns}
        return pd.DataFrame(data, copy=False)

    def as_arrow(batch: pa.RecordBatch) -> pd.DataFrame:
        """pandas' own conversion: Arrow-backed `str`, zero-copy."""
        return batch.select(plan.names).to_pandas()

    categories = model[0].named_transformers_["plan"].categories_[0].tolist()

    def categorical(batch: pa.RecordBatch) -> pd.DataFrame:
        """A `category` column with the encoder's fitted categories."""
        frame = plan.frame(batch)
        for name in strings:
            frame[name] = pd.Categorical(frame[name], categories=categories)
        return frame

    forms: dict[str, Callable[[pa.RecordBatch], pd.DataFrame]] = {
        "plan.frame (the job's)": plan.frame,
        "str inferred (before)": str_inferred,
        "Arrow str (to_pandas)": as_arrow,
        "category (fitted)": categorical,
    }
    for rows in args.batch_rows:
        parquet = pq.ParquetFile(path)
        batches = [
            plan.conform(b) for b in parquet.iter_batches(batch_size=rows, columns=plan.names)
        ]
        # Row groups (131072 rows) cap iter_batches: merge them to the size asked.
        batches = pa.Table.from_batches(batches).combine_chunks().to_batches(max_chunksize=rows)
        for label, form in forms.items():

            def build_all(
                form: Callable[[pa.RecordBatch], pd.DataFrame] = form,
                batches: list[pa.RecordBatch] = batches,
            ) -> list[pd.DataFrame]:
                return [form(b) for b in batches]

            build, frames = best(args.repeat, build_all)

            def predict_all(frames: list[pd.DataFrame] = frames) -> Any:
                return np.vstack([model.predict_proba(f) for f in frames])

            predict, answers = best(args.repeat, predict_all)
            same = np.array_equal(answers, expected)
            dtype = frames[0][strings[0]].dtype if strings else "-"
            print(
                f"{label + f' ({dtype})':<36} {rows:>8,} build {build:6.3f} s "
                f"predict {predict:6.3f} s total {build + predict:6.3f} s CPU  equal={same}"
            )


if __name__ == "__main__":
    main()
