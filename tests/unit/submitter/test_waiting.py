"""A compute environment as `batchscore status` judges it (submitter.waiting.environment_view)."""

from __future__ import annotations

from submitter.waiting import environment_view


def fargate(max_vcpus: int, state: str = "ENABLED", status: str = "VALID") -> dict[str, object]:
    return {
        "computeEnvironmentName": "bs-spot",
        "state": state,
        "status": status,
        "statusReason": "CLIENT_ERROR - subnet not found" if status == "INVALID" else None,
        "computeResources": {"type": "FARGATE_SPOT", "maxvCpus": max_vcpus},
    }


def test_a_fargate_job_over_120_gib_or_over_max_vcpus_never_fits() -> None:
    view = environment_view(fargate(256))
    assert view.holds(16, 122880)
    assert not view.holds(16, 131072)  # more memory than any Fargate task
    assert not view.holds(32, 8192)  # more vCPUs than any Fargate task
    assert not environment_view(fargate(4)).holds(8, 16384)  # more than the environment's max


def test_an_invalid_environment_says_why() -> None:
    view = environment_view(fargate(16, status="INVALID"))
    assert not view.usable
    assert "CLIENT_ERROR - subnet not found" in view.describe()
