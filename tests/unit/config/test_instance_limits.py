"""The largest job a compute environment's instances can hold (config.instance_limits), which
`batchscore status` compares a waiting job with."""

from __future__ import annotations

from config.instance_limits import Largest, largest_fargate, largest_instance


def test_fargate_s_largest_is_16_vcpu_and_120_gib() -> None:
    assert largest_fargate() == Largest(16, 122880)


def test_sizes_follow_the_instance_type_names() -> None:
    assert largest_instance(["c5.large"]) == Largest(2, 4096)
    assert largest_instance(["m5.xlarge"]) == Largest(4, 16384)
    assert largest_instance(["r6i.4xlarge"]) == Largest(16, 131072)
    assert largest_instance(["c5.large", "m5.2xlarge"]) == Largest(8, 32768)


def test_a_family_or_optimal_is_about_its_24xlarge() -> None:
    assert largest_instance(["c6g"]) == Largest(96, 96 * 2 * 1024, approximate=True)
    assert largest_instance(["optimal"]) == Largest(96, 96 * 8 * 1024, approximate=True)
    assert largest_instance([]).approximate
