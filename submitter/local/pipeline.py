"""Plug the real Lambda code into a local stack: uploads go to the ingest handler's work function,
Batch state changes to the state-change handler's, with clients of the stack (as in Lambda, where
the handlers get boto3 clients from their environment)."""

from __future__ import annotations

from typing import Any

from config import env
from config.pricing import load_prices
from submitter import ingest, state_change
from submitter.finished import after_state_change
from submitter.job_cost import EnvironmentCache
from submitter.local.stack import LocalStack
from submitter.settings import Settings


def connect_handlers(stack: LocalStack) -> Settings:
    """Wire `stack.on_upload` and `stack.on_batch_event`; return the deployment's settings."""
    settings = Settings.from_env(stack.env)
    s3, ddb = stack.client("s3"), stack.client("dynamodb")
    stack.on_upload = lambda event: ingest.handle_event(
        event, s3=s3, ddb=ddb, batch=stack.batch, settings=settings
    )
    prices, environments = load_prices(stack.env.get(env.PRICES)), EnvironmentCache()

    def on_batch_event(event: dict[str, Any]) -> None:
        state_change.handle_event(event, ddb=ddb, table=settings.table, batch=stack.batch)
        # The job's cost, as the state Lambda records it (no metrics: no CloudWatch here).
        after_state_change(
            event, ddb=ddb, table=settings.table, batch=stack.batch, prices=prices,
            cache=environments,
        )  # fmt: skip

    stack.on_batch_event = on_batch_event
    return settings
