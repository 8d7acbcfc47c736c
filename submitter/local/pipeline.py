"""Plug the real Lambda code into a local stack: uploads go to the ingest handler's work function,
Batch state changes to the state-change handler's, with clients of the stack (as in Lambda, where
the handlers get boto3 clients from their environment)."""

from __future__ import annotations

from submitter import ingest, state_change
from submitter.local import event_rules
from submitter.local.stack import LocalStack
from submitter.settings import Settings


def connect_handlers(stack: LocalStack) -> Settings:
    """Wire `stack.on_upload` and `stack.on_batch_event`; return the deployment's settings."""
    settings = Settings.from_env(stack.env)
    s3, ddb = stack.client("s3"), stack.client("dynamodb")
    stack.on_upload = lambda event: ingest.handle_event(
        event, s3=s3, ddb=ddb, batch=stack.batch, settings=settings
    )
    # Only what the deployed rule would deliver (terraform/job-state-events.json).
    stack.on_batch_event = lambda event: (
        state_change.handle_event(event, ddb=ddb, table=settings.table, batch=stack.batch)
        if event_rules.delivered(event)
        else None
    )
    return settings
