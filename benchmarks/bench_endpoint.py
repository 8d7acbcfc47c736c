"""Benchmark of the real-time endpoint: request latency through `batchscore serve`, beside the
model's own predict time on the same rows in the same run, and the handler's cold start.

    .venv/bin/python benchmarks/bench_endpoint.py [--requests 300]

Two models, as data scientists save them: a LogisticRegression on 10 floats (the matrix path)
and a Pipeline one-hot encoding a string column (the DataFrame path). For each, 1 row and 1,000
rows posted as JSON to `batchscore serve` (its own process, one keep-alive connection), p50 and
p99 of the client's wall time, beside the predict time the server measured for the same request
(its `server-timing: predict;dur=...` header): the difference is the endpoint's overhead
(HTTP, JSON in and out, the Arrow batch, the plan's checks).

Cold start: a fresh interpreter importing the handler's modules (as `job.endpoint.handler` does,
pandas hidden) and loading the model (`build_app`), the median of `--starts` processes; then
`-X importtime` names the packages that dominate the import.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOATS = [f"x{i}" for i in range(10)]
# Compiled bytecode for every child, as in the image (pip compiles each module at install): this
# machine sets PYTHONDONTWRITEBYTECODE and uv installs no .pyc, so without it every process
# compiled scikit-learn from source (imports 6-12 s instead of about 1.5 s). As bench_score.py.
PYCACHE = ROOT / "build" / "bench-endpoint-pycache"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(PYCACHE)} | (extra or {})


def prepare_bytecode() -> None:
    site = next(p for p in sys.path if p.endswith("site-packages"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", site, "job", "config", "submitter"],
        env=child_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    )


PLANS = ["basic", "pro", "team", "enterprise"]


def models(folder: Path) -> dict[str, tuple[Path, list[dict[str, Any]]]]:
    """name -> (skops file, 1,000 request rows)."""
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    rows = 2000
    numbers = pd.DataFrame({name: rng.normal(size=rows) for name in FLOATS})
    label = (numbers["x0"] + numbers["x1"] > 0).astype(int)
    matrix = LogisticRegression().fit(numbers, label)
    frame = numbers.iloc[:, :3].assign(plan=rng.choice(PLANS, rows))
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                ("numbers", StandardScaler(), ["x0", "x1", "x2"]),
            ]
        ),
        LogisticRegression(),
    ).fit(frame, label)
    found = {}
    for name, model, data in (("matrix", matrix, numbers), ("dataframe", pipeline, frame)):
        path = folder / f"{name}.skops"
        sio.dump(model, path)
        records = json.loads(data.head(1000).assign(id=range(1000)).to_json(orient="records"))
        found[name] = (path, records)
    return found


def endpoint_file(folder: Path, name: str, model: Path) -> Path:
    path = folder / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "name": name,
                "model": {"uri": str(model)},
                "output": {"passthrough": ["id"], "predict": "predict_proba"},
            }
        )
    )
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(config: Path, records: list[dict[str, Any]], requests: int) -> dict[int, Any]:
    """p50/p99 of client wall time and of the server's predict time, for 1 and 1,000 rows."""
    process = subprocess.Popen(
        [sys.executable, "-m", "submitter.cli", "serve", str(config), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().split("127.0.0.1:")[1].split()[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        figures = {}
        for rows in (1, 1000):
            body = json.dumps({"rows": records[:rows]}).encode()
            walls, predicts = [], []
            count = requests if rows == 1 else max(20, requests // 5)
            for index in range(count + 5):  # 5 warm-up requests (the first plan is cached)
                started = time.perf_counter()
                connection.request("POST", "/", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                wall = time.perf_counter() - started
                assert response.status == 200
                timing = response.getheader("server-timing") or ""
                predict = float(timing.split("predict;dur=")[1].split(",")[0]) / 1000
                if index >= 5:
                    walls.append(wall)
                    predicts.append(predict)
            figures[rows] = {
                "requests": count,
                "p50_ms": percentile(walls, 0.5) * 1000,
                "p99_ms": percentile(walls, 0.99) * 1000,
                "predict_p50_ms": percentile(predicts, 0.5) * 1000,
                "predict_p99_ms": percentile(predicts, 0.99) * 1000,
                "overhead_p50_ms": (percentile(walls, 0.5) - percentile(predicts, 0.5)) * 1000,
            }
        connection.close()
        return figures
    finally:
        process.terminate()
        process.wait(timeout=30)


COLD = """
import json, os, sys, time
began = time.perf_counter()
from job.frames import allow_pandas, hide_pandas
hide_pandas()
try:
    from job.endpoint.events import build_app
finally:
    allow_pandas()
imported = time.perf_counter()
app = build_app(os.environ["BATCHSCORE_ENDPOINT_CONFIG"])
loaded = time.perf_counter()
assert app.endpoint is not None, app.failure
print(json.dumps({"imports": imported - began, "load": loaded - imported,
                  "pandas": "pandas" in sys.modules}))
"""


def cold_start(config: Path, starts: int) -> dict[str, Any]:
    environment = child_env({"BATCHSCORE_ENDPOINT_CONFIG": config.read_text()})
    runs = []
    for _ in range(starts):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", COLD],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        figures["process"] = time.perf_counter() - started
        runs.append(figures)
    bare = []
    for _ in range(starts):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=child_env(), check=True)
        bare.append(time.perf_counter() - started)
    return {
        "interpreter_s": statistics.median(bare),
        "imports_s": statistics.median(r["imports"] for r in runs),
        "load_s": statistics.median(r["load"] for r in runs),
        "process_s": statistics.median(r["process"] for r in runs),
        "pandas": runs[0]["pandas"],
    }


def import_leaders(config: Path, top: int = 6) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import time (`-X importtime`), in seconds."""
    environment = child_env({"BATCHSCORE_ENDPOINT_CONFIG": config.read_text()})
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", COLD],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if not name.startswith(" ") and "." not in name.strip():
            totals[name.strip()] = max(totals.get(name.strip(), 0.0), int(cumulative) / 1e6)
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="1-row requests per model")
    parser.add_argument("--starts", type=int, default=3, help="cold starts per model")
    arguments = parser.parse_args()
    prepare_bytecode()
    with tempfile.TemporaryDirectory() as folder:
        built = models(Path(folder))
        print(
            "| model | rows | requests | p50 ms | p99 ms | predict p50 ms | predict p99 ms "
            "| overhead p50 ms |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        colds = {}
        for name, (model, records) in built.items():
            config = endpoint_file(Path(folder), name, model)
            for rows, f in latency(config, records, arguments.requests).items():
                print(
                    f"| {name} | {rows:,} | {f['requests']} | {f['p50_ms']:.2f} "
                    f"| {f['p99_ms']:.2f} | {f['predict_p50_ms']:.2f} | {f['predict_p99_ms']:.2f}"
                    f" | {f['overhead_p50_ms']:.2f} |"
                )
            colds[name] = (cold_start(config, arguments.starts), config)
        print()
        print(
            "| model | interpreter s | imports s | model load s | whole process s | pandas "
            "imported |"
        )
        print("|---|---:|---:|---:|---:|---|")
        for name, (c, _) in colds.items():
            print(
                f"| {name} | {c['interpreter_s']:.2f} | {c['imports_s']:.2f} "
                f"| {c['load_s']:.3f} | {c['process_s']:.2f} | {c['pandas']} |"
            )
        print()
        for name, (_, config) in colds.items():
            leaders = ", ".join(f"{pkg} {s:.2f} s" for pkg, s in import_leaders(config))
            print(f"imports that dominate ({name}): {leaders}")


if __name__ == "__main__":
    main()
