"""Benchmark of the scoring container against its limits and the seed-era script.

    make bench-score                       # 4M rows (the issue's size)
    make bench-score BENCH_ARGS="--rows 1000000"
    .venv/bin/python benchmarks/bench_score.py --rows 200000 --skip-scaling   # a quick look

Inputs: `--rows` rows x 20 float features + an int64 `id`, as one Parquet file (row groups of
131072 rows) and one CSV file, generated once into `bench-data/` (gitignored). Models: a
LogisticRegression and a HistGradientBoostingClassifier, fitted on 50k rows, saved with skops.

Every variant runs in its own process; its peak RSS is that process's `ru_maxrss` (os.wait4), so
one variant's memory never shows in another's. Rates are rows / the variant's own working time
(imports and interpreter start excluded; for `python -m job score` the job's own `seconds`,
which include loading the model and planning the input); `wall s` is the whole process,
interpreter start and imports included (scikit-learn + skops take seconds to import).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FEATURES = [f"f{i:02d}" for i in range(20)]
ROW_GROUP = 131_072
CHUNK = 500_000
HGB_TRUSTED = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
MODELS = ("logreg", "hgb")
# The thread settings `python -m job` gives itself (job/__init__.py): idle OpenMP and OpenBLAS
# threads sleep instead of spinning.
PASSIVE = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}
# Children find compiled bytecode here (`prepare_bytecode`), as in the image, where pip compiles
# every module at install. Without it (this machine sets PYTHONDONTWRITEBYTECODE and uv installs
# no .pyc) every process compiled scikit-learn and pandas from source: `import sklearn, pandas`
# took 3.3-3.6 s instead of 1.3 s, and the job, which imports pandas and parts of scikit-learn
# inside its timed window (loading the model), paid it where the seed scripts did not.
BYTECODE: dict[str, str] = {}


# --- data and models (parent process) ---------------------------------------------------------


def generate(folder: Path, rows: int) -> dict[str, Path]:
    """Parquet and CSV inputs of `rows` rows, written chunk by chunk (bounded memory)."""
    import numpy as np
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": folder / "data.parquet", "csv": folder / "data.csv"}
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(42)
    schema = pa.schema([("id", pa.int64())] + [(f, pa.float64()) for f in FEATURES])

    def chunk(start: int, size: int) -> list[Any]:
        return [pa.array(rng.normal(size=size)) for _ in FEATURES]

    write_chunked(paths, schema, rows, chunk)
    for kind, path in paths.items():
        print(f"generated {path} ({path.stat().st_size / 2**20:.0f} MiB, {kind})", file=sys.stderr)
    return paths


def write_chunked(
    paths: dict[str, Path],
    schema: Any,
    rows: int,
    columns: Callable[[int, int], list[Any]],
) -> None:
    """Write `rows` rows as Parquet and CSV, CHUNK rows at a time (bounded memory): an `id`
    column, then `columns(start, size)`; each file appears complete (renamed at the end)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    with (
        pq.ParquetWriter(temporary(paths["parquet"]), schema) as parquet,
        pacsv.CSVWriter(temporary(paths["csv"]), schema) as csv,
    ):
        for start in range(0, rows, CHUNK):
            size = min(CHUNK, rows - start)
            arrays = [pa.array(np.arange(start, start + size, dtype=np.int64))]
            table = pa.Table.from_arrays(arrays + columns(start, size), schema=schema)
            parquet.write_table(table, row_group_size=ROW_GROUP)
            csv.write_table(table)
    for path in paths.values():
        temporary(path).rename(path)


def temporary(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def fit_models(folder: Path) -> dict[str, Path]:
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.skops" for name in MODELS}
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(50_000, len(FEATURES))), columns=FEATURES)
    signal = frame["f00"] + 0.5 * frame["f01"] * frame["f02"] - frame["f03"].abs()
    labels = (signal + rng.normal(scale=0.5, size=len(frame)) > 0).astype(int)
    sio.dump(LogisticRegression(max_iter=500).fit(frame, labels), paths["logreg"])
    sio.dump(HistGradientBoostingClassifier(random_state=0).fit(frame, labels), paths["hgb"])
    return paths


# --- variants (each in a child process) -------------------------------------------------------


def load(model_path: str) -> Any:
    import skops.io as sio

    return sio.load(model_path, trusted=HGB_TRUSTED if "hgb" in model_path else None)


def variant_predict(args: argparse.Namespace) -> dict[str, Any]:
    """The limit: predict_proba alone on the whole input, already in memory."""
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(args.input, columns=FEATURES)
    matrix = np.column_stack([table[f].to_numpy() for f in FEATURES])
    del table
    model = load(args.model)
    begun, started = time.time(), time.perf_counter()
    model.predict_proba(matrix)
    return {"rows": len(matrix), "seconds": time.perf_counter() - started, "start": begun}


def variant_io_floor(args: argparse.Namespace) -> dict[str, Any]:
    """The I/O floor: stream the input and write an output of the job's shape (id + 2 floats),
    no model, one thread, with the job's reader and writer settings (batch rows, CSV block size,
    no dictionary encoding of numbers), so the ratio measures what the job adds."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    begun, started = time.time(), time.perf_counter()
    rows = 0
    columns = ["id", *FEATURES]
    if args.input.endswith(".parquet"):
        reader = pq.ParquetFile(args.input).iter_batches(batch_size=131_072, columns=columns)
    else:
        block = 131_072 * 32  # job.inputs: DEFAULT_BATCH_ROWS x CSV_BYTES_PER_ROW
        reader = pacsv.open_csv(args.input, read_options=pacsv.ReadOptions(block_size=block))
    writer = None
    for batch in reader:
        out = pa.record_batch(
            [batch.column(0), batch.column(1), batch.column(2)], names=["id", "proba_0", "proba_1"]
        )
        if writer is None:
            sink = args.output + ("part.parquet" if args.input.endswith(".parquet") else "part.csv")
            Path(args.output).mkdir(parents=True, exist_ok=True)
            writer = (
                pq.ParquetWriter(sink, out.schema, use_dictionary=False)
                if sink.endswith(".parquet")
                else pacsv.CSVWriter(sink, out.schema)
            )
        writer.write_batch(out)
        rows += out.num_rows
    if writer is not None:  # (an empty input writes nothing)
        writer.close()
    return {"rows": rows, "seconds": time.perf_counter() - started, "start": begun}


def variant_seed(args: argparse.Namespace) -> dict[str, Any]:
    """The seed-era script: the whole CSV in pandas, predict_proba, to_csv."""
    import pandas as pd

    model = load(args.model)
    begun, started = time.time(), time.perf_counter()
    frame = pd.read_csv(args.input)
    proba = model.predict_proba(frame[FEATURES])
    out = pd.DataFrame({"id": frame["id"], "proba_0": proba[:, 0], "proba_1": proba[:, 1]})
    Path(args.output).mkdir(parents=True, exist_ok=True)
    out.to_csv(args.output + "part.csv", index=False)
    return {"rows": len(frame), "seconds": time.perf_counter() - started, "start": begun}


# --- the pipeline model (a string one-hot encoded + scaled numerics): the DataFrame path ---------

PIPELINE_NUMBERS = [f"n{i}" for i in range(5)]
PIPELINE_PLANS = ["basic", "pro", "team", "enterprise"]


def generate_pipeline(folder: Path, rows: int) -> dict[str, Path]:
    """`id`, a string `plan` and 5 float columns, as Parquet and CSV (written chunk by chunk)."""
    import numpy as np
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": folder / "customers.parquet", "csv": folder / "customers.csv"}
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(43)
    schema = pa.schema(
        [("id", pa.int64()), ("plan", pa.string())] + [(n, pa.float64()) for n in PIPELINE_NUMBERS]
    )

    def chunk(start: int, size: int) -> list[Any]:
        plans = [pa.array(rng.choice(PIPELINE_PLANS, size))]
        return plans + [pa.array(rng.normal(size=size)) for _ in PIPELINE_NUMBERS]

    write_chunked(paths, schema, rows, chunk)
    return paths


def fit_pipeline(folder: Path) -> Path:
    """Pipeline(ColumnTransformer(one-hot `plan`, scaled numbers), LogisticRegression), fit on
    a DataFrame and saved with skops: the model of issue 13."""
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    path = folder / "pipeline.skops"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(rng.normal(size=(50_000, len(PIPELINE_NUMBERS))), columns=PIPELINE_NUMBERS)
    frame["plan"] = rng.choice(PIPELINE_PLANS, len(frame))
    signal = frame["n0"] - frame["n1"] + (frame["plan"] == "pro") * 0.8
    labels = (signal + rng.normal(scale=0.5, size=len(frame)) > 0).astype(int)
    columns = ColumnTransformer(
        [
            ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            ("numbers", StandardScaler(), PIPELINE_NUMBERS),
        ]
    )
    sio.dump(make_pipeline(columns, LogisticRegression()).fit(frame, labels), path)
    return path


def variant_frame_predict(args: argparse.Namespace) -> dict[str, Any]:
    """The pipeline's own limit: predict_proba on the whole input as one in-memory DataFrame."""
    import pandas as pd

    frame = pd.read_parquet(args.input)
    model = load(args.model)
    begun, started = time.time(), time.perf_counter()
    model.predict_proba(frame)
    return {"rows": len(frame), "seconds": time.perf_counter() - started, "start": begun}


def variant_frame_seed(args: argparse.Namespace) -> dict[str, Any]:
    """Seed-style with the pipeline: the whole file in pandas, predict_proba, written whole."""
    import pandas as pd

    model = load(args.model)
    begun, started = time.time(), time.perf_counter()
    csv = args.input.endswith(".csv")
    frame = pd.read_csv(args.input) if csv else pd.read_parquet(args.input)
    proba = model.predict_proba(frame)
    out = pd.DataFrame({"id": frame["id"], "proba_0": proba[:, 0], "proba_1": proba[:, 1]})
    Path(args.output).mkdir(parents=True, exist_ok=True)
    if csv:
        out.to_csv(args.output + "part.csv", index=False)
    else:
        out.to_parquet(args.output + "part.parquet", index=False)
    return {"rows": len(frame), "seconds": time.perf_counter() - started, "start": begun}


def variant_floor_rss(args: argparse.Namespace) -> dict[str, Any]:
    """No data: the interpreter with what the pipeline job imports (pandas, pyarrow's readers
    and writers, scikit-learn through skops) and the model loaded. Its peak RSS is the floor
    under any process that scores this model, the job's and the seed script's alike."""
    import pandas  # noqa: F401
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401

    load(args.model)
    return {"rows": 0, "seconds": 0.0}


VARIANTS = {
    "predict": variant_predict,
    "io-floor": variant_io_floor,
    "seed": variant_seed,
    "frame-predict": variant_frame_predict,
    "frame-seed": variant_frame_seed,
    "floor-rss": variant_floor_rss,
}


def prepare_bytecode(data: Path) -> None:
    """Compile the venv's and the project's modules into `data/pycache` (seconds when up to
    date) and have every child use it, with the interpreter's default bytecode handling."""
    BYTECODE["PYTHONPYCACHEPREFIX"] = str(data.resolve() / "pycache")
    site = next(p for p in sys.path if p.endswith("site-packages"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", site, "job", "config"],
        env=child_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,  # a few packages ship files that do not compile (templates)
    )


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if BYTECODE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env | BYTECODE | (extra or {})


def logged_at(log: str, message: str) -> float | None:
    """When the job logged `message` (`scoring`: model loaded, input planned, the first batch
    is next; `scored`: the last batch written)."""
    for line in log.splitlines():
        if line.startswith("{") and f'"{message}"' in line:
            record = json.loads(line)
            if record.get("message") == message:
                return datetime.fromisoformat(record["time"]).timestamp()
    return None


def run_child(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a process; its last stdout line is JSON; add its peak RSS (MiB), wall seconds and
    `start`: seconds from launch to its first batch (the job's `scoring` log line, or the moment
    a script's clock starts, after its imports and loading the model)."""
    launched, started = time.time(), time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env or child_env(),
            cwd=ROOT,
            text=True,
        )
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        errors.seek(0)
        log = errors.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} exited {process.returncode}:\n{output[-2000:]}\n{log[-3000:]}"
        )
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    result["rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    begun = result.pop("start", None) or logged_at(output, "scoring")
    result["start"] = begun - launched if begun is not None else math.nan
    # Rows / seconds from the first batch on: what the scripts' rates measure (their clocks
    # start after loading the model); the job's own `seconds` include loading and planning.
    scored = logged_at(output, "scored")
    window = scored - begun if scored is not None and begun is not None else result["seconds"]
    result["streamed"] = result["rows"] / window if window > 0 else math.nan
    return result


def run_variant(
    name: str, input_path: Path, model: Path, output: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    return run_child(
        [
            sys.executable,
            __file__,
            "--variant",
            name,
            "--input",
            str(input_path),
            "--model",
            str(model),
            "--output",
            f"{output}/",
        ],
        env=child_env(env),
    )


def run_job(
    input_path: Path, model: Path, output: Path, output_format: str, job_args: list[str]
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": "bench",
        "model": {"uri": str(model)},
        "input": {"uri": str(input_path)},
        "output": {
            "uri": f"{output}/",
            "format": output_format,
            "passthrough": ["id"],
            "predict": "predict_proba",
            "overwrite": True,
        },
    }
    if "hgb" in model.name:
        # Trusted types need the file pinned (config.models.trusted_type_problems).
        config["model"]["trusted_types"] = HGB_TRUSTED
        config["model"]["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
    path = output.parent / f"{output.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))
    return run_child([sys.executable, "-m", "job", "score", str(path), *job_args])


# --- the table -----------------------------------------------------------------------------------


def measure(rows: int, data: Path, job_args: list[str], repeat: int) -> list[dict[str, Any]]:
    """Every variant `repeat` times, in rounds; per variant the median rate (and the range).

    Within a round each job variant runs right after the reference it is compared with, so a
    change in the load of the shared machine hits both sides of a ratio alike."""
    inputs = generate(data / f"rows-{rows}", rows)
    models = fit_models(data / "models")
    scratch = data / "out"

    def job(kind: str, model: str) -> dict[str, Any]:
        output = scratch / f"job-{kind}-{model}"
        return run_job(inputs[kind], models[model], output, kind, job_args)

    def variant(
        name: str, kind: str, model: str, env: dict[str, str] | None = None
    ) -> Callable[[], dict[str, Any]]:
        return lambda: run_variant(name, inputs[kind], models[model], scratch / name, env)

    plan = [
        ("predict-only", "logreg", variant("predict", "parquet", "logreg")),
        ("predict-only omp-passive", "logreg", variant("predict", "parquet", "logreg", PASSIVE)),
        ("io-floor parquet", "-", variant("io-floor", "parquet", "logreg")),
        ("job parquet->parquet", "logreg", lambda: job("parquet", "logreg")),
        ("io-floor csv", "-", variant("io-floor", "csv", "logreg")),
        ("seed pandas csv", "logreg", variant("seed", "csv", "logreg")),
        ("job csv->csv", "logreg", lambda: job("csv", "logreg")),
        # Once as a plain script runs, once with the OpenMP setting the job uses (job/__main__):
        # the better of the two is the limit.
        ("predict-only", "hgb", variant("predict", "parquet", "hgb")),
        ("predict-only omp-passive", "hgb", variant("predict", "parquet", "hgb", PASSIVE)),
        ("job parquet->parquet", "hgb", lambda: job("parquet", "hgb")),
        ("job csv->csv", "hgb", lambda: job("csv", "hgb")),
    ]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {(v, m): [] for v, m, _ in plan}
    for round_number in range(1, repeat + 1):
        for name, model, run in plan:
            result = run()
            result["rate"] = result["rows"] / result["seconds"]
            runs[(name, model)].append(result)
            print(
                f"  round {round_number} {name:<24} {model:<7} {result['rate']:>12,.0f} rows/s "
                f"{result['rss_mib']:>7.0f} MiB",
                file=sys.stderr,
            )
    results = []
    for (name, model), measured in runs.items():
        rates = sorted(r["rate"] for r in measured)
        middle = sorted(measured, key=lambda r: r["rate"])[len(measured) // 2]
        results.append(
            {
                **middle,
                "variant": name,
                "model": model,
                "rate": statistics.median(rates),
                "low": rates[0],
                "high": rates[-1],
                "rss_mib": max(r["rss_mib"] for r in measured),
            }
        )
    return results


def predict_limit(results: list[dict[str, Any]], model: str) -> float:
    rates: list[float] = [
        r["rate"]
        for r in results
        if r["variant"].startswith("predict-only") and r["model"] == model
    ]
    return max(rates)


def table(results: list[dict[str, Any]]) -> str:
    def find(variant: str, model: str) -> dict[str, Any]:
        return next(r for r in results if r["variant"] == variant and r["model"] == model)

    lines = [
        "| variant | model | rows/s (median) | range | seconds | start s | wall s | peak RSS MiB "
        "| x predict-only | x I/O floor | x seed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    seed = find("seed pandas csv", "logreg")
    for r in results:
        model = r["model"] if r["model"] != "-" else "logreg"
        limit = predict_limit(results, model)
        floor_kind = "csv" if "csv" in r["variant"] else "parquet"
        floor = find(f"io-floor {floor_kind}", "-")["rate"]
        lines.append(
            f"| {r['variant']} | {r['model']} | {r['rate']:,.0f} | "
            f"{r['low'] / 1000:,.0f}k-{r['high'] / 1000:,.0f}k | {r['seconds']:.2f} | "
            f"{r['start']:.1f} | {r['wall']:.1f} | "
            f"{r['rss_mib']:.0f} | {r['rate'] / limit:.2f} | {r['rate'] / floor:.2f} | "
            f"{r['rate'] / seed['rate']:.2f} |"
        )
    return "\n".join(lines)


def targets(results: list[dict[str, Any]], scaling: dict[int, float] | None) -> str:
    def find(variant: str, model: str) -> dict[str, Any]:
        return next(r for r in results if r["variant"] == variant and r["model"] == model)

    hgb = find("job parquet->parquet", "hgb")["rate"] / predict_limit(results, "hgb")
    lr = find("job parquet->parquet", "logreg")["rate"] / find("io-floor parquet", "-")["rate"]
    csv = find("job csv->csv", "logreg")
    seed = find("seed pandas csv", "logreg")
    checks = [
        ("Parquet->Parquet HGB >= 0.9 x predict-only", f"{hgb:.2f}", hgb >= 0.9),
        ("Parquet->Parquet logreg >= 0.8 x I/O floor", f"{lr:.2f}", lr >= 0.8),
        (
            "CSV->CSV logreg >= 1.5 x seed rate",
            f"{csv['rate'] / seed['rate']:.2f}",
            csv["rate"] / seed["rate"] >= 1.5,
        ),
        (
            "CSV->CSV logreg RSS <= 0.25 x seed RSS",
            f"{csv['rss_mib'] / seed['rss_mib']:.2f}",
            csv["rss_mib"] / seed["rss_mib"] <= 0.25,
        ),
    ]
    if scaling:
        small, large = sorted(scaling)
        ratio = scaling[large] / scaling[small]
        checks.append(
            (f"RSS at {large:,} rows <= 1.2 x at {small:,}", f"{ratio:.2f}", ratio <= 1.2)
        )
        checks.append(
            (f"RSS at {large:,} rows < 1 GiB", f"{scaling[large]:.0f} MiB", scaling[large] < 1024)
        )
    lines = ["| target | measured | met |", "|---|---:|---|"]
    lines += [f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, value, ok in checks]
    return "\n".join(lines)


def measure_pipeline(
    rows: int, data: Path, job_args: list[str], repeat: int
) -> list[dict[str, Any]]:
    """The pipeline model: the job against the seed style and predict-only, side by side."""
    inputs = generate_pipeline(data / f"pipeline-{rows}", rows)
    model = fit_pipeline(data / "models")
    scratch = data / "out"
    plan: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (
            "predict-only (DataFrame)",
            lambda: run_variant(
                "frame-predict", inputs["parquet"], model, scratch / "frame-predict", PASSIVE
            ),
        ),
        (
            "seed pandas csv",
            lambda: run_variant("frame-seed", inputs["csv"], model, scratch / "frame-seed-csv"),
        ),
        (
            "job csv->csv",
            lambda: run_job(inputs["csv"], model, scratch / "pipeline-csv", "csv", job_args),
        ),
        (
            "seed pandas parquet",
            lambda: run_variant(
                "frame-seed", inputs["parquet"], model, scratch / "frame-seed-parquet"
            ),
        ),
        (
            "job parquet->parquet",
            lambda: run_job(
                inputs["parquet"], model, scratch / "pipeline-parquet", "parquet", job_args
            ),
        ),
    ]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in plan}
    for round_number in range(1, repeat + 1):
        for name, run in plan:
            result = run()
            result["rate"] = result["rows"] / result["seconds"]
            runs[name].append(result)
            print(
                f"  round {round_number} pipeline {name:<26} {result['rate']:>12,.0f} rows/s "
                f"{result['rss_mib']:>7.0f} MiB",
                file=sys.stderr,
            )
    results = []
    for name, measured in runs.items():
        rates = sorted(r["rate"] for r in measured)
        middle = sorted(measured, key=lambda r: r["rate"])[len(measured) // 2]
        results.append(
            {
                **middle,
                "variant": name,
                "rate": statistics.median(rates),
                "low": rates[0],
                "high": rates[-1],
                "rss_mib": max(r["rss_mib"] for r in measured),
            }
        )
    floor = run_variant("floor-rss", inputs["parquet"], model, scratch / "floor-rss")
    print(f"  pipeline RSS floor (no data) {floor['rss_mib']:.0f} MiB", file=sys.stderr)
    results.append({**floor, "variant": "floor"})
    return results


def pipeline_scaling_rss(rows: int, data: Path, job_args: list[str]) -> dict[str, dict[int, float]]:
    """Peak RSS of the pipeline job (CSV and Parquet) at rows/4 and rows."""
    model = fit_pipeline(data / "models")
    peaks: dict[str, dict[int, float]] = {"csv": {}, "parquet": {}}
    for size in (rows // 4, rows):
        inputs = generate_pipeline(data / f"pipeline-{size}", size)
        for kind in peaks:
            output = data / "out" / f"pipeline-scale-{kind}-{size}"
            result = run_job(inputs[kind], model, output, kind, job_args)
            peaks[kind][size] = result["rss_mib"]
            print(
                f"  pipeline job {kind} rss at {size:,} rows: {result['rss_mib']:.0f} MiB",
                file=sys.stderr,
            )
    return peaks


def pipeline_scaling_table(peaks: dict[str, dict[int, float]]) -> str:
    lines = ["| target (pipeline) | measured | met |", "|---|---:|---|"]
    for kind, sizes in peaks.items():
        small, large = sorted(sizes)
        ratio = sizes[large] / sizes[small]
        lines.append(
            f"| {kind}: RSS at {large:,} rows <= 1.2x at {small:,} "
            f"({sizes[large]:.0f} vs {sizes[small]:.0f} MiB) | {ratio:.2f} "
            f"| {'yes' if ratio <= 1.2 else 'NO'} |"
        )
    return "\n".join(lines)


def pipeline_table(results: list[dict[str, Any]]) -> str:
    """Rates and RSS, and per job which bound binds: 1.5x the seed rate or 0.9x predict-only."""
    found = {r["variant"]: r for r in results}
    limit = found["predict-only (DataFrame)"]
    lines = [
        "| variant (pipeline) | rows/s (median) | range | seconds | start s | wall s "
        "| peak RSS MiB | x predict-only | x seed | RSS x seed | rows/s from 1st batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r["variant"] == "floor":
            continue
        kind = "csv" if "csv" in r["variant"] else "parquet"
        seed = found[f"seed pandas {kind}"]
        lines.append(
            f"| {r['variant']} | {r['rate']:,.0f} "
            f"| {r['low'] / 1000:,.0f}k-{r['high'] / 1000:,.0f}k "
            f"| {r['seconds']:.2f} | {r['start']:.1f} | {r['wall']:.1f} | {r['rss_mib']:.0f} "
            f"| {r['rate'] / limit['rate']:.2f} | {r['rate'] / seed['rate']:.2f} "
            f"| {r['rss_mib'] / seed['rss_mib']:.2f} | {r['streamed']:,.0f} |"
        )
    floor = found.get("floor")
    lines += ["", "| target (pipeline) | measured | met |", "|---|---:|---|"]
    for kind in ("csv", "parquet"):
        job = found[f"job {kind}->{kind}"]
        seed = found[f"seed pandas {kind}"]
        by_seed, by_limit = job["rate"] / seed["rate"], job["rate"] / limit["rate"]
        binds = "predict-only" if 1.5 * seed["rate"] > 0.9 * limit["rate"] else "seed"
        met = by_seed >= 1.5 or by_limit >= 0.9
        lines.append(
            f"| {kind}: >= 1.5x seed ({by_seed:.2f}) or >= 0.9x predict-only ({by_limit:.2f}); "
            f"binding: {binds} | {max(by_seed / 1.5, by_limit / 0.9):.2f} of the bound "
            f"| {'yes' if met else 'NO'} |"
        )
        rss = job["rss_mib"] / seed["rss_mib"]
        lines.append(
            f"| {kind}: RSS <= 0.25x seed | {rss:.2f} | {'yes' if rss <= 0.25 else 'NO'} |"
        )
        if floor is not None:  # what the job adds to the floor vs what the seed script adds
            added = (job["rss_mib"] - floor["rss_mib"]) / (seed["rss_mib"] - floor["rss_mib"])
            lines.append(
                f"| {kind}: RSS above the floor ({floor['rss_mib']:.0f} MiB: imports + model, "
                f"no data) <= 0.25x the seed's | {added:.2f} | {'yes' if added <= 0.25 else 'NO'} |"
            )
    return "\n".join(lines)


def scaling_rss(rows: int, data: Path, job_args: list[str]) -> dict[int, float]:
    """Peak RSS of `python -m job score` (Parquet->Parquet, logreg) at rows/4 and rows."""
    models = fit_models(data / "models")
    peaks = {}
    for size in (rows // 4, rows):
        inputs = generate(data / f"rows-{size}", size)
        result = run_job(
            inputs["parquet"], models["logreg"], data / "out" / f"scale-{size}", "parquet", job_args
        )
        peaks[size] = result["rss_mib"]
        print(f"  job parquet rss at {size:,} rows: {result['rss_mib']:.0f} MiB", file=sys.stderr)
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is reported")
    parser.add_argument("--skip-scaling", action="store_true", help="no rows/4 vs rows RSS run")
    parser.add_argument("--job-args", default="", help="extra `python -m job score` options")
    parser.add_argument(
        "--only", choices=["matrix", "pipeline"], help="only the float models, or only the pipeline"
    )
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(VARIANTS[args.variant](args)))
        return
    job_args = args.job_args.split()
    prepare_bytecode(args.data)
    print(
        f"benchmark: {args.rows:,} rows x {len(FEATURES)} features + id, {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    if args.only != "pipeline":
        results = measure(args.rows, args.data, job_args, args.repeat)
        scaling = None if args.skip_scaling else scaling_rss(args.rows, args.data, job_args)
        print(
            f"\n{args.rows:,} rows x {len(FEATURES)} features + id; "
            f"job args: {args.job_args or '(defaults)'}; median of {args.repeat} rounds\n"
        )
        print(table(results))
        print()
        print(targets(results, scaling))
    if args.only != "matrix":
        pipeline = measure_pipeline(args.rows, args.data, job_args, args.repeat)
        print(
            f"\n{args.rows:,} rows: id, a string `plan` one-hot encoded, {len(PIPELINE_NUMBERS)} "
            f"scaled floats, LogisticRegression; median of {args.repeat} rounds\n"
        )
        print(pipeline_table(pipeline))
        if not args.skip_scaling:
            print()
            print(pipeline_scaling_table(pipeline_scaling_rss(args.rows, args.data, job_args)))


if __name__ == "__main__":
    main()
