"""The cost arithmetic: spot vs on-demand, Fargate's minimum, retries and arrays (config.cost),
and the prices table's override (config.pricing)."""

from __future__ import annotations

import pytest

from config.cost import COST_KEYS, AttemptUsage, Capacity, attempt_usd, estimate, summarize
from config.exceptions import DeploymentSettingError
from config.pricing import DEFAULT_PRICES, load_prices

PRICES = load_prices(None)


def test_fargate_on_demand_is_vcpu_hours_plus_gb_hours() -> None:
    usage = AttemptUsage(vcpus=2, memory_mib=4096, seconds=3600, capacity=Capacity.FARGATE)
    assert attempt_usd(usage, PRICES) == pytest.approx(2 * 0.04048 + 4 * 0.004445)


def test_fargate_spot_is_priced_at_the_spot_rates_and_split_out() -> None:
    cost = summarize(
        [
            AttemptUsage(1, 2048, 3600, capacity=Capacity.FARGATE_SPOT),
            AttemptUsage(1, 2048, 3600, capacity=Capacity.FARGATE),
        ],
        PRICES,
        basis="b",
    )
    spot = 0.012144 + 2 * 0.0013335
    on_demand = 0.04048 + 2 * 0.004445
    assert cost["spot_usd"] == pytest.approx(spot)
    assert cost["on_demand_usd"] == pytest.approx(on_demand)
    assert cost["usd"] == pytest.approx(spot + on_demand)
    assert cost["spot_usd"] < cost["on_demand_usd"]


def test_fargate_bills_at_least_a_minute() -> None:
    short = AttemptUsage(vcpus=1, memory_mib=2048, seconds=5, capacity=Capacity.FARGATE)
    minute = AttemptUsage(vcpus=1, memory_mib=2048, seconds=60, capacity=Capacity.FARGATE)
    assert attempt_usd(short, PRICES) == pytest.approx(attempt_usd(minute, PRICES))
    # ... but what it used is what it used
    assert summarize([short], PRICES, basis="b")["vcpu_seconds"] == 5


def test_ec2_is_the_vcpu_share_of_its_family_and_spot_the_ratio_of_it() -> None:
    usage = AttemptUsage(4, 8192, 1800, Capacity.EC2, instance_type="c5.xlarge")
    assert attempt_usd(usage, PRICES) == pytest.approx(4 * 0.5 * 0.0425)
    spot = AttemptUsage(4, 8192, 1800, Capacity.SPOT, instance_type="c5")
    assert attempt_usd(spot, PRICES) == pytest.approx(4 * 0.5 * 0.0425 * 0.35)
    optimal = AttemptUsage(1, 2048, 3600, Capacity.EC2)  # `optimal`: the default family, m5
    assert attempt_usd(optimal, PRICES) == pytest.approx(0.048)


def test_retries_count_every_attempt_failed_ones_included() -> None:
    failed = AttemptUsage(1, 2048, 600, Capacity.SPOT)  # reclaimed after 10 minutes
    retried = AttemptUsage(1, 2048, 1200, Capacity.EC2)  # then ran on on-demand
    cost = summarize([failed, retried], PRICES, basis="b")
    assert cost["attempts"] == 2
    assert cost["vcpu_seconds"] == 1800
    assert cost["gib_seconds"] == 3600
    assert cost["spot_usd"] == pytest.approx(600 / 3600 * 0.048 * 0.35)
    assert cost["on_demand_usd"] == pytest.approx(1200 / 3600 * 0.048)


def test_an_array_sums_its_children_and_the_map_has_exactly_the_contract_keys() -> None:
    children = [AttemptUsage(0.5, 1024, 100 + i, Capacity.FARGATE_SPOT) for i in range(10)]
    cost = summarize(children, PRICES, basis="from tasks")
    assert tuple(cost) == COST_KEYS
    assert cost["attempts"] == 10
    assert cost["vcpu_seconds"] == pytest.approx(0.5 * sum(100 + i for i in range(10)))
    assert cost["on_demand_usd"] == 0
    assert cost["basis"] == "from tasks"


def test_estimate_is_one_attempt_per_shard() -> None:
    cost = estimate(
        vcpus=1, memory_mib=2048, seconds_per_shard=3600, shards=3,
        capacity=Capacity.FARGATE, prices=PRICES,
    )  # fmt: skip
    assert cost["attempts"] == 3
    assert cost["usd"] == pytest.approx(3 * (0.04048 + 2 * 0.004445))
    assert "3 shard(s)" in cost["basis"]


def test_prices_are_overridable_one_level_deep() -> None:
    prices = load_prices('{"fargate": {"vcpu_hour": 1}, "ec2_vcpu_hour": {"x9": 2}}')
    assert prices["fargate"] == {"vcpu_hour": 1, "gb_hour": 0.004445}
    assert prices["ec2_vcpu_hour"]["x9"] == 2
    assert prices["ec2_vcpu_hour"]["m5"] == 0.048
    assert "overrides" in prices["source"]
    assert DEFAULT_PRICES["fargate"]["vcpu_hour"] == 0.04048  # the default table is untouched


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"gpu": 1}', "BATCHSCORE_PRICES.gpu"),
        ('{"fargate": {"vcpu_hour": -1}}', "BATCHSCORE_PRICES.fargate"),
        ('{"ec2_spot_ratio": "cheap"}', "BATCHSCORE_PRICES.ec2_spot_ratio"),
    ],
)
def test_a_bad_override_names_the_variable_and_key(setting: str, named: str) -> None:
    with pytest.raises(DeploymentSettingError, match=named):
        load_prices(setting)
