"""Plug the real Lambda code into a local stack: uploads go to the ingest handler's work function,
Batch state changes to the state-change handler's, with clients of the stack (as in Lambda, where
the handlers get boto3 clients from their environment)."""

from __future__ import annotations

from typing import Any

from submitter import ingest, notify_hooks, state_change
from submitter.local.stack import LocalStack
from submitter.notify import Notifier
from submitter.settings import Settings


def connect_handlers(stack: LocalStack) -> Settings:
    """Wire `stack.on_upload` and `stack.on_batch_event`; return the deployment's settings."""
    settings = Settings.from_env(stack.env)
    s3, ddb = stack.client("s3"), stack.client("dynamodb")
    notifier = Notifier.from_env(stack.env, stack.client)

    def on_upload(event: dict[str, Any]) -> None:
        outcomes = ingest.handle_event(event, s3=s3, ddb=ddb, batch=stack.batch, settings=settings)
        notify_hooks.after_ingest(outcomes, ddb, settings.table, notifier)

    def on_batch_event(event: dict[str, Any]) -> None:
        state_change.handle_event(event, ddb=ddb, table=settings.table, batch=stack.batch)
        notify_hooks.after_batch_event(event, ddb, settings.table, notifier)

    stack.on_upload = on_upload
    stack.on_batch_event = on_batch_event
    return settings
