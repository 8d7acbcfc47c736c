"""Ingest benchmark: at-least-once S3 delivery against a moto server on 127.0.0.1.

1,000 distinct uploads; 20% of their events delivered twice and some out of order; 8 concurrent
invokers (processes, like 8 warm Lambda instances) calling the real handler module. A failed
invocation is retried like Lambda's async retry. Prints events/s, p50/p99 handler latency, Batch
jobs submitted, duplicates (must be 0), lost uploads (must be 0) and the handler module's cold
import time in a fresh process. Not a test: `make bench-submit`.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
from moto.server import ThreadedMotoServer

# The project is installed in .venv (editable: the repository root is on sys.path), so its
# packages and scripts/ import as they are; nothing here comes from tests/.
from config import env, records
from scripts.package_submitter import LAMBDA_PYTHON, find_python
from submitter.batch import JOB_NAME_PREFIX
from submitter.ingest import Upload
from submitter.local.moto_batch import QUEUES, REGION, create_batch

ROOT = Path(__file__).resolve().parents[1]

JOBS_BUCKET = "bench-jobs"
DATA_BUCKET = "bench-data"
TABLE = "bench-jobs"
MAX_RETRIES = 5
PIP_PYTHON = ROOT / ".tools" / "bin" / "python"  # the uv-made .venv has no pip


def deployment_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        env.TABLE_NAME: TABLE,
        env.JOB_DEFINITION: "batchscore-job",
        env.QUEUES: json.dumps({q: f"batchscore-{q}" for q in QUEUES}),
        env.ALLOWED_BUCKETS: DATA_BUCKET,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def provision(endpoint: str) -> None:
    # Batch without Docker: moto's "simple" backend (jobs never run).
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config",
        data=json.dumps({"batch": {"use_docker": False}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request).read()
    s3 = boto3.client("s3")
    for bucket in (JOBS_BUCKET, DATA_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=JOBS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    boto3.client("dynamodb").create_table(**records.table_definition(TABLE))
    create_batch(boto3.client("batch"))


def upload_all(count: int, rng: random.Random, first: int = 0) -> list[dict[str, Any]]:
    """Upload `count` configs; one S3 event record (as AWS sends it) per upload."""
    s3 = boto3.client("s3")
    records_ = []
    for index in range(first, first + count):
        key = f"jobs/team {index % 7}/score+{index:04d}é.json"
        document = {
            "name": f"score{index}",
            "priority": rng.choice(QUEUES),
            "model": {"uri": f"s3://{DATA_BUCKET}/models/m{index % 5}.skops"},
            "input": {"uri": f"s3://{DATA_BUCKET}/input/{index}.parquet"},
            "output": {"uri": f"s3://{DATA_BUCKET}/output/{index}/"},
            "shards": rng.choice((1, 1, 1, 4)),
        }
        body = json.dumps(document).encode()
        version = s3.put_object(Bucket=JOBS_BUCKET, Key=key, Body=body)["VersionId"]
        records_.append(
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": JOBS_BUCKET},
                    "object": {
                        "key": quote_plus(key),
                        "size": len(body),
                        "versionId": version,
                        "sequencer": f"{index:018X}",
                    },
                },
            }
        )
    return records_


def deliveries(records_: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Every record once, 20% twice (the copy a little later), local reordering."""
    events = [{"Records": [record]} for record in records_]
    for record in rng.sample(records_, len(records_) // 5):
        events.insert(
            min(len(events), events.index({"Records": [record]}) + rng.randint(1, 40)),
            {"Records": [record]},
        )
    for start in range(0, len(events) - 8, 8):  # shuffle within windows of 8: out of order
        window = events[start : start + 8]
        rng.shuffle(window)
        events[start : start + 8] = window
    return events


_handler: Callable[[dict[str, Any]], dict[str, Any]] | None = None
# seconds spent in AWS requests, and how many, since the last reset
_in_requests: list[float] = [0.0, 0]
_request_started: list[float] = []


def _init_worker() -> None:
    """Import the handler like a Lambda instance; time its AWS requests through botocore's
    events: from `before-call` (the request is built and validated) to the parsed answer."""
    global _handler
    from submitter import ingest_handler

    _handler = ingest_handler.handler
    for client in (ingest_handler.s3, ingest_handler.ddb, ingest_handler.batch):
        client.meta.events.register("before-call.*.*", _request_start)
        client.meta.events.register("after-call.*.*", _request_end)
        client.meta.events.register("after-call-error.*.*", _request_end)


def _request_start(**_: Any) -> None:
    _request_started.append(time.perf_counter())


def _request_end(**_: Any) -> None:
    _in_requests[0] += time.perf_counter() - _request_started.pop()
    _in_requests[1] += 1


def _invoke(event: dict[str, Any]) -> tuple[float, list[str], str | None, float, int]:
    _in_requests[:] = [0.0, 0]
    if _handler is None:
        raise RuntimeError("_init_worker() first")
    started = time.perf_counter()
    try:
        result = _handler(event)
        error = None
        actions = [o["action"] for o in result["outcomes"]]
    except Exception as exc:  # noqa: BLE001 - counted and retried like Lambda's async retry
        error, actions = f"{type(exc).__name__}: {exc}"[:200], []
    return time.perf_counter() - started, actions, error, _in_requests[0], int(_in_requests[1])


def run(events: list[dict[str, Any]], invokers: int) -> dict[str, Any]:
    latencies: list[float] = []
    own: list[float] = []  # latency minus the time in AWS requests
    requests: list[int] = []
    actions: dict[str, int] = {}
    errors: list[str] = []
    pending = list(events)
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(invokers, initializer=_init_worker) as pool:
        warm = pool.map(_invoke, [{"Records": []}] * invokers)  # import before the clock runs
        assert all(error is None for _, _, error, _, _ in warm)
        started = time.perf_counter()
        for _ in range(MAX_RETRIES + 1):
            retry = []
            for event, (latency, acted, error, in_requests, calls) in zip(
                pending, pool.imap(_invoke, pending, chunksize=1), strict=True
            ):
                latencies.append(latency)
                own.append(latency - in_requests)
                requests.append(calls)
                for action in acted:
                    actions[action] = actions.get(action, 0) + 1
                if error:
                    errors.append(error)
                    retry.append(event)
            if not retry:
                break
            pending = retry
    elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "latencies": latencies,
        "own": own,
        "requests": requests,
        "actions": actions,
        "errors": errors,
    }


def audit(records_: list[dict[str, Any]]) -> dict[str, int]:
    """Batch jobs per expected job id: duplicates (> 1) and lost uploads (0, or no record)."""
    batch = boto3.client("batch")
    ddb = boto3.client("dynamodb")
    names: dict[str, int] = {}
    for queue in QUEUES:
        summaries = batch.list_jobs(
            jobQueue=f"batchscore-{queue}",
            filters=[{"name": "JOB_NAME", "values": [f"{JOB_NAME_PREFIX}*"]}],
        )["jobSummaryList"]
        for summary in summaries:
            if ":" not in summary["jobId"]:  # moto lists array children too
                names[summary["jobName"]] = names.get(summary["jobName"], 0) + 1
    lost = 0
    for record in records_:
        obj = record["s3"]["object"]
        upload = Upload(
            JOBS_BUCKET,
            _unquote(obj["key"]),
            f"version:{obj['versionId']}",
            obj["versionId"],
            0,
            b"",
        )
        job_id = upload.derived_job_id()
        stored = records.get_record(ddb, TABLE, job_id)
        if not stored or not stored.get("batch_job_id") or names.get(JOB_NAME_PREFIX + job_id) != 1:
            lost += 1
    return {
        "jobs": sum(names.values()),
        "duplicates": sum(count - 1 for count in names.values()),
        "lost": lost,
    }


def _unquote(key: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(key)


def cold_import_ms(environment: dict[str, str], runs: int = 5) -> dict[str, float]:
    """Median wall time of `import submitter.ingest_handler` in a fresh interpreter (settings,
    Logger, three boto3 clients included), with and without boto3 already imported, and of
    `import boto3` alone to scale the figures to a machine."""
    results = {}
    cases = (
        ("total", "", "submitter.ingest_handler"),
        ("after boto3", "import boto3; ", "submitter.ingest_handler"),
        ("boto3 alone, for scale", "", "boto3"),
    )
    for label, pre, module in cases:
        code = (
            f"{pre}import time; t = time.perf_counter(); import {module}; "
            "print((time.perf_counter() - t) * 1000)"
        )
        times = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    env={**os.environ, **environment},
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(runs)
        ]
        results[label] = statistics.median(times)
    return results


# In a fresh Python of the Lambda runtime's version, with the zip unpacked as Lambda does and
# boto3 beside it (the runtime's copy, compiled). Nothing is written next to the code, as on
# Lambda's read-only /var/task (root ignores file modes here, so PYTHONDONTWRITEBYTECODE does it).
FLOOR = (
    "import time; started = time.perf_counter()\n"
    "import boto3\n"
    "from botocore.config import Config\n"
    "clients = [boto3.client('s3'), boto3.client('dynamodb'),"
    " boto3.client('batch', config=Config(retries={'total_max_attempts': 1}))]\n"
    "print((time.perf_counter() - started) * 1000, 0)\n"
)
STATE_IMPORT = (
    "import time; started = time.perf_counter()\n"
    "import submitter.state_handler\n"
    "print((time.perf_counter() - started) * 1000, 0)\n"
)
COLD_START = (
    "import json, sys, time; started = time.perf_counter()\n"
    "from submitter.ingest_handler import handler\n"
    "imported = time.perf_counter()\n"
    "result = handler(json.loads(sys.argv[1]))\n"
    "assert [o['action'] for o in result['outcomes']] == ['submitted'], result\n"
    "print((imported - started) * 1000, (time.perf_counter() - imported) * 1000)\n"
)


def lambda_layout(workdir: Path) -> dict[str, Path] | None:
    """build/submitter.zip as `make package` builds it (with bytecode) and without bytecode (as
    before), unpacked, plus the runtime's boto3; None when no Python 3.12 is on this machine."""
    python = find_python(LAMBDA_PYTHON)
    if python is None:
        return None
    runtime = workdir / "runtime"
    version = ["--python", LAMBDA_PYTHON]
    variants = {
        "bytecode": [*version, "--compile-with", python, "--runtime-sdk", str(runtime)],
        "source": [*version, "--no-compile"],
    }
    layout = {"python": Path(python), "runtime": runtime}
    for name, flags in variants.items():
        built = workdir / f"{name}.zip"
        subprocess.run(
            [PIP_PYTHON, ROOT / "scripts" / "package_submitter.py", "--out", str(built), *flags],
            check=True,
            capture_output=True,
        )
        zipfile.ZipFile(built).extractall(workdir / name)
        layout[name] = workdir / name
    return layout


def lambda_cold_starts(
    layout: dict[str, Path], environment: dict[str, str], rng: random.Random, runs: int, first: int
) -> dict[str, dict[str, float]]:
    """Median import and first-event times per case, the cases interleaved run by run."""
    cases = {
        "boto3 + 3 clients only (floor)": (layout["bytecode"], FLOOR, False),
        "zip without bytecode": (layout["source"], COLD_START, True),
        "zip with bytecode (make package)": (layout["bytecode"], COLD_START, True),
        "state handler, zip with bytecode (import)": (layout["bytecode"], STATE_IMPORT, False),
    }
    base = {
        "PATH": os.environ["PATH"],
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        **environment,
    }
    times: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
    for _ in range(runs):
        for case, (task, code, needs_event) in cases.items():
            argv = []
            if needs_event:  # a new upload: the first event does a whole submission
                (record,) = upload_all(1, rng, first=first)
                first += 1
                argv = [json.dumps({"Records": [record]})]
            out = subprocess.run(
                [layout["python"], "-c", code, *argv],
                env={**base, "PYTHONPATH": f"{task}:{layout['runtime']}"},
                cwd=task,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            times[case].append((float(out[0]), float(out[1])))
    return {
        case: {
            "import_ms": round(statistics.median(t[0] for t in pairs)),
            "first_event_ms": round(statistics.median(t[1] for t in pairs)),
            "cold_start_ms": round(statistics.median(t[0] + t[1] for t in pairs)),
        }
        for case, pairs in times.items()
    }


def percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ingest benchmark on a moto server")
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--invokers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--solo-uploads",
        type=int,
        default=200,
        help="then this many uploads through one invoker: latency without queueing on the server",
    )
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes per case")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        environment = deployment_env(f"http://{host}:{port}")
        os.environ.update(environment)  # the spawned invokers inherit it
        provision(environment["AWS_ENDPOINT_URL"])
        records_ = upload_all(args.uploads, rng)
        events = deliveries(records_, rng)
        result = run(events, args.invokers)
        solo_records = upload_all(args.solo_uploads, rng, first=args.uploads)
        solo = run([{"Records": [record]} for record in solo_records], 1)
        counts = audit(records_ + solo_records)
        imports = cold_import_ms(environment, args.cold_runs)
        with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp:
            layout = lambda_layout(Path(tmp))
            lambda_starts = (
                lambda_cold_starts(layout, environment, rng, args.cold_runs, first=10**6)
                if layout
                else None
            )
    finally:
        server.stop()

    p50, p99 = percentiles(result["latencies"])
    solo_p50, solo_p99 = percentiles(solo["latencies"])
    summary = {
        "uploads": args.uploads,
        "events": len(events),
        "invocations": len(result["latencies"]),
        "invokers": args.invokers,
        "events_per_s": round(len(events) / result["elapsed"], 1),
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "solo_p50_ms": round(solo_p50, 1),
        "solo_p99_ms": round(solo_p99, 1),
        "solo_p50_in_aws_requests_ms": round(
            statistics.median(
                lat - own for lat, own in zip(solo["latencies"], solo["own"], strict=True)
            )
            * 1000,
            1,
        ),
        "solo_p50_own_ms": round(statistics.median(solo["own"]) * 1000, 1),
        "solo_requests_per_event": round(statistics.mean(solo["requests"]), 2),
        "solo_events_per_s": round(args.solo_uploads / solo["elapsed"], 1),
        "jobs_submitted": counts["jobs"],
        "duplicates": counts["duplicates"],
        "lost": counts["lost"],
        "expected_jobs": args.uploads + args.solo_uploads,
        "outcomes": result["actions"],
        "retried_invocations": len(result["errors"]),
        "cold_import_ms (dev venv)": {k: round(v) for k, v in imports.items()},
        f"cold start, Python {LAMBDA_PYTHON}, zip as on Lambda": lambda_starts
        or f"not measured: no Python {LAMBDA_PYTHON} here",
    }
    for name, value in summary.items():
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            print(f"{name}:")
            for case, figures in value.items():
                print(f"{case:>40}: {figures}")
        else:
            print(f"{name:>28}: {value}")
    if result["errors"]:
        print(f"{'first error':>28}: {result['errors'][0]}")
    return 0 if counts["duplicates"] == 0 and counts["lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
