"""The capacity model's headline: one billion rows of 20 features, scored by the benchmark's
logistic and gradient-boosting models, at 100, 1,000 and 10,000 shards, on Fargate and EC2, spot
and on-demand: wall time and cost (docs/scale.md explains every input and its source).

    .venv/bin/python benchmarks/capacity_model.py
    .venv/bin/python benchmarks/capacity_model.py --logreg-rate 2000000 --hgb-rate 132802 \
        --measured-vcpus 2 --container-start 60

The per-row rates and the process start are measured here (`make bench-score`, the
"job parquet->parquet" rows: rows/s and "start s"); the rest are AWS's documented figures, or
assumptions named as such. The arithmetic is plain so that tests/unit/test_capacity_model.py can
check it on a hand-computed case.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Model:
    name: str
    rows_per_second: float  # measured, over `measured_vcpus`
    process_start: float  # seconds: interpreter + imports before the first row (measured)


@dataclass(frozen=True)
class Platform:
    """Where the shards run, its prices and how fast it starts them."""

    name: str
    vcpu_hour: float  # USD per vCPU-hour (EC2: the instance price / its vCPUs)
    gib_hour: float  # USD per GiB-hour (0 where the instance price includes memory)
    minimum_billed: float  # seconds billed at least per task (Fargate) or instance (EC2)
    start: float  # seconds from RUNNABLE to the container's process starting
    launch_burst: int  # tasks launched at once before the sustained rate applies
    launch_rate: float  # tasks per second after the burst (math.inf: not limited)
    instance_vcpus: int = 0  # EC2: vCPUs per instance (billed whole); 0: per task (Fargate)


@dataclass(frozen=True)
class Job:
    rows: int = 1_000_000_000
    vcpus: float = 1.0  # per shard: the job definition's default
    memory_gib: float = 2.0


@dataclass(frozen=True)
class Estimate:
    shards: int
    task_seconds: float  # one shard: start + process start + scoring
    wall_seconds: float
    cost: float


def launch_delay(shards: int, platform: Platform) -> float:
    """When the last shard's task is launched, from the first (a token bucket: `launch_burst`
    at once, then `launch_rate` a second)."""
    beyond = max(0, shards - platform.launch_burst)
    return 0.0 if beyond == 0 or math.isinf(platform.launch_rate) else beyond / platform.launch_rate


def estimate(
    job: Job, model: Model, platform: Platform, shards: int, measured_vcpus: float
) -> Estimate:
    rate_per_vcpu = model.rows_per_second / measured_vcpus
    scoring = job.rows / shards / (rate_per_vcpu * job.vcpus)
    task = platform.start + model.process_start + scoring
    wall = launch_delay(shards, platform) + task
    if platform.instance_vcpus:  # EC2: whole instances, each billed from its start
        instances = math.ceil(shards * job.vcpus / platform.instance_vcpus)
        billed = instances * platform.instance_vcpus * max(task, platform.minimum_billed)
        cost = billed * platform.vcpu_hour / SECONDS_PER_HOUR
    else:  # Fargate: every task billed from its image pull, at least a minute
        per_task = job.vcpus * platform.vcpu_hour + job.memory_gib * platform.gib_hour
        cost = shards * max(task, platform.minimum_billed) * per_task / SECONDS_PER_HOUR
    return Estimate(shards, task, wall, cost)


# --- the documented inputs (docs/scale.md gives each source and its date) ---------------------

FARGATE_ON_DEMAND = Platform(
    name="Fargate on-demand",
    vcpu_hour=0.04048,  # us-east-1, Linux/x86 (AWS Fargate pricing)
    gib_hour=0.004445,
    minimum_billed=60.0,  # per second, one-minute minimum
    start=60.0,  # ASSUMPTION: no AWS figure; image pull + ENI, tens of seconds
    launch_burst=100,  # ECS "Fargate throttling quotas": bucket of 100 tasks...
    launch_rate=20.0,  # ...refilled at 20 a second (on-demand and spot alike)
)
FARGATE_SPOT = replace(
    FARGATE_ON_DEMAND,
    name="Fargate Spot",
    vcpu_hour=0.04048 * 0.3,  # "up to 70%" off (AWS Fargate pricing): the best case
    gib_hour=0.004445 * 0.3,
)
EC2_ON_DEMAND = Platform(
    name="EC2 on-demand (c5.2xlarge)",
    vcpu_hour=0.34 / 8,  # AWS Auto Scaling guide's us-east-1 example: c5.2xlarge $0.34/h
    gib_hour=0.0,
    minimum_billed=60.0,  # per second, 60 s minimum (Linux)
    start=180.0,  # ASSUMPTION: instance boot + ECS agent registration, ~3 minutes from zero
    launch_burst=10**9,  # no per-task launch quota; instances come up in parallel
    launch_rate=math.inf,
    instance_vcpus=8,
)
EC2_SPOT = replace(
    EC2_ON_DEMAND, name="EC2 Spot (c5.2xlarge)", vcpu_hour=0.17 / 8
)  # the guide's lowest example Spot price of the three zones

PLATFORMS = (FARGATE_ON_DEMAND, FARGATE_SPOT, EC2_ON_DEMAND, EC2_SPOT)
SHARDS = (100, 1_000, 10_000)
TARGET_SECONDS, TARGET_COST = 300.0, 1.0


def table(models: list[Model], measured_vcpus: float, job: Job) -> str:
    lines = [
        "| model | platform | shards | per shard s | wall s | wall min | cost USD | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for model in models:
        for platform in PLATFORMS:
            for shards in SHARDS:
                e = estimate(job, model, platform, shards, measured_vcpus)
                met = e.wall_seconds < TARGET_SECONDS and e.cost < TARGET_COST
                lines.append(
                    f"| {model.name} | {platform.name} | {shards:,} | {e.task_seconds:.1f} | "
                    f"{e.wall_seconds:.0f} | {e.wall_seconds / 60:.1f} | {e.cost:.2f} | "
                    f"{'yes' if met else 'NO'} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Defaults: `make bench-score BENCH_ARGS="--rows 1000000 --repeat 1"` on this machine
    # (2 vCPUs), job parquet->parquet rows (docs/scale.md).
    parser.add_argument("--logreg-rate", type=float, default=2_000_000.0)
    parser.add_argument("--logreg-start", type=float, default=1.9)
    parser.add_argument("--hgb-rate", type=float, default=132_802.0)
    parser.add_argument("--hgb-start", type=float, default=4.4)
    parser.add_argument("--measured-vcpus", type=float, default=2.0)
    parser.add_argument("--rows", type=int, default=1_000_000_000)
    args = parser.parse_args()
    models = [
        Model("logistic", args.logreg_rate, args.logreg_start),
        Model("gradient boosting", args.hgb_rate, args.hgb_start),
    ]
    job = Job(rows=args.rows)
    print(
        f"{job.rows:,} rows x 20 features, {job.vcpus:g} vCPU / {job.memory_gib:g} GiB per shard; "
        f"rates measured on {args.measured_vcpus:g} vCPUs, scaled per vCPU; "
        f"target: under {TARGET_SECONDS / 60:.0f} min and under {TARGET_COST:.0f} USD\n"
    )
    print(table(models, args.measured_vcpus, job))


if __name__ == "__main__":
    main()
