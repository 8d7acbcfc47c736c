"""A client of a `batchscore local up` stack, from the state file it writes."""

from __future__ import annotations

from typing import Any

import boto3


def stack_client(state: dict[str, Any], service: str) -> Any:
    """A boto3 client of the running stack's emulated `service`, with the stack's token."""
    return boto3.client(
        service,
        endpoint_url=state["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id=state["env"]["AWS_ACCESS_KEY_ID"],  # the stack's token
        aws_secret_access_key=state["env"]["AWS_SECRET_ACCESS_KEY"],
    )
