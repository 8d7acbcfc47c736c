"""The capacity model's arithmetic (benchmarks/capacity_model.py) on cases computed by hand."""

from __future__ import annotations

import importlib.util
import math
import sys
from types import ModuleType

import pytest
from support.paths import ROOT


def load_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "capacity_model", ROOT / "benchmarks" / "capacity_model.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["capacity_model"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cm = load_model()

# 1,000,000 rows/s measured on 2 vCPUs = 500,000 rows/s per vCPU; 2 s of process start.
MODEL = cm.Model("toy", rows_per_second=1_000_000.0, process_start=2.0)
FARGATE = cm.Platform(
    name="toy Fargate",
    vcpu_hour=0.036,  # 0.00001 USD a vCPU-second
    gib_hour=0.0036,  # 0.000001 USD a GiB-second
    minimum_billed=60.0,
    start=30.0,
    launch_burst=100,
    launch_rate=20.0,
)


def test_fargate_by_hand() -> None:
    job = cm.Job(rows=100_000_000, vcpus=1.0, memory_gib=2.0)
    # 400 shards: 250,000 rows each at 500,000 rows/s = 0.5 s; task = 30 + 2 + 0.5 = 32.5 s,
    # billed 60 s (the minimum); 300 tasks beyond the burst of 100 at 20/s = 15 s of launching.
    e = cm.estimate(job, MODEL, FARGATE, 400, measured_vcpus=2.0)
    assert e.task_seconds == pytest.approx(32.5)
    assert e.wall_seconds == pytest.approx(15 + 32.5)
    # 400 tasks x 60 s x (1 x 0.00001 + 2 x 0.000001) USD/s = 0.288 USD
    assert e.cost == pytest.approx(0.288)


def test_fargate_long_tasks_bill_their_length() -> None:
    job = cm.Job(rows=100_000_000, vcpus=1.0, memory_gib=2.0)
    # 2 shards: 50,000,000 rows / 500,000 = 100 s of scoring, task 132 s, billed 132 s each.
    e = cm.estimate(job, MODEL, FARGATE, 2, measured_vcpus=2.0)
    assert e.task_seconds == pytest.approx(132.0)
    assert e.wall_seconds == pytest.approx(132.0)
    assert e.cost == pytest.approx(2 * 132 * 0.000012)


def test_ec2_bills_whole_instances() -> None:
    ec2 = cm.Platform(
        name="toy EC2",
        vcpu_hour=0.036,
        gib_hour=0.0,
        minimum_billed=60.0,
        start=100.0,
        launch_burst=10**9,
        launch_rate=math.inf,
        instance_vcpus=8,
    )
    job = cm.Job(rows=100_000_000, vcpus=1.0, memory_gib=2.0)
    # 20 shards -> 3 instances of 8 vCPUs; task = 100 + 2 + 5,000,000 / 500,000 = 112 s
    e = cm.estimate(job, MODEL, ec2, 20, measured_vcpus=2.0)
    assert e.task_seconds == pytest.approx(112.0)
    assert e.wall_seconds == pytest.approx(112.0)
    assert e.cost == pytest.approx(3 * 8 * 112 * 0.00001)


def test_launch_delay_is_a_token_bucket() -> None:
    assert cm.launch_delay(100, FARGATE) == 0
    assert cm.launch_delay(10_100, FARGATE) == pytest.approx(500.0)


def test_the_headline_table_prints_every_case(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["capacity_model.py"])
    cm.main()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + 2 * len(cm.PLATFORMS) * len(cm.SHARDS)  # header, rule, cases
    # the measured logistic rate at 100 Fargate shards: 10,000,000 rows / 1,000,000 rows/s per
    # vCPU = 10 s + 1.9 s of process start + 60 s of container start
    assert "| logistic | Fargate on-demand | 100 | 71.9 |" in rows[2]
