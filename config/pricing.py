"""What compute costs, for estimating a job's cost: a table in code, no network call at run time.

Source and date of the defaults (us-east-1, Linux, on-demand; check them before trusting a bill):
- Fargate Linux/x86: $0.04048 per vCPU-hour and $0.004445 per GB-hour, the AWS Fargate pricing
  page (aws.amazon.com/fargate/pricing) as quoted in March 2026. Fargate bills per second with a
  one-minute minimum per task, and its "GB" is the task's memory in GiB (2048 MiB = 2 GB).
- Fargate Spot has no fixed price (it moves with spare capacity; AWS says "up to 70% off"): the
  default is 30% of the on-demand rates.
- EC2: on-demand price of the family's `.large` size divided by its 2 vCPUs (Amazon EC2
  On-Demand pricing page, March 2026). A job on EC2 is charged its share of the instance by
  vCPUs; the memory comes with them. EC2 Spot moves by hour and zone: the default is 35% of
  on-demand, a typical Spot saving for these families.

Every number is overridable by the deployment: `BATCHSCORE_PRICES` (Terraform's `prices`
variable) holds a JSON object merged over `DEFAULT_PRICES` one level deep, e.g.
`{"fargate": {"vcpu_hour": 0.05}, "ec2_vcpu_hour": {"c7i": 0.0446}}`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from config.exceptions import DeploymentSettingError

PRICES_SOURCE = "AWS Fargate and EC2 On-Demand pricing pages, us-east-1 Linux, March 2026"

DEFAULT_PRICES: dict[str, Any] = {
    "source": PRICES_SOURCE,
    "fargate": {"vcpu_hour": 0.04048, "gb_hour": 0.004445},
    "fargate_spot": {"vcpu_hour": 0.012144, "gb_hour": 0.0013335},
    "fargate_minimum_seconds": 60,
    # USD per vCPU-hour: the `.large` on-demand price / 2
    "ec2_vcpu_hour": {
        "m5": 0.048,
        "c5": 0.0425,
        "r5": 0.063,
        "m6i": 0.048,
        "c6i": 0.0425,
        "r6i": 0.063,
        "m7i": 0.0504,
        "c7i": 0.04463,
        "m6g": 0.0385,
        "c6g": 0.034,
        "r6g": 0.0504,
        "m7g": 0.0408,
        "c7g": 0.03625,
    },
    # Batch's `optimal` picks from the C, M and R families: priced as M.
    "ec2_default_family": "m5",
    "ec2_spot_ratio": 0.35,
}


def load_prices(setting: str | None) -> dict[str, Any]:
    """The default table with `setting` (JSON, may be empty) merged over it one level deep;
    DeploymentSettingError naming the variable and the key when it is not a table of numbers."""
    prices = copy.deepcopy(DEFAULT_PRICES)
    if not setting or not setting.strip():
        return prices
    try:
        override = json.loads(setting)
    except json.JSONDecodeError as exc:
        raise DeploymentSettingError(f"BATCHSCORE_PRICES is not valid JSON: {exc}") from None
    if not isinstance(override, dict):
        raise DeploymentSettingError("BATCHSCORE_PRICES must be a JSON object")
    for key, value in override.items():
        prices[key] = _merged(key, value)
    if "source" not in override:
        prices["source"] = f"{PRICES_SOURCE}, with the deployment's overrides"
    return prices


def _merged(key: str, value: Any) -> Any:
    """The default of `key` with `value` over it, checked against the default's type."""
    if key not in DEFAULT_PRICES:
        allowed = ", ".join(sorted(DEFAULT_PRICES))
        raise DeploymentSettingError(f"BATCHSCORE_PRICES.{key}: unknown key (one of {allowed})")
    default = DEFAULT_PRICES[key]
    if isinstance(default, dict):
        if not isinstance(value, dict) or not all(_is_price(v) for v in value.values()):
            raise DeploymentSettingError(
                f"BATCHSCORE_PRICES.{key} must map names to non-negative numbers"
            )
        return {**default, **value}
    if isinstance(default, str):
        if not isinstance(value, str):
            raise DeploymentSettingError(f"BATCHSCORE_PRICES.{key} must be a string")
        return value
    if not _is_price(value):
        raise DeploymentSettingError(f"BATCHSCORE_PRICES.{key} must be a non-negative number")
    return value


def _is_price(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def ec2_family(instance_type: str) -> str:
    """`m5.large` -> `m5`, `m5` -> `m5`, `optimal` -> `optimal`."""
    return instance_type.split(".", 1)[0]
