"""Plug the real Lambda code into a local stack: uploads go to the ingest handler's work function,
Batch state changes to the state-change handler's, with clients of the stack (as in Lambda, where
the handlers get boto3 clients from their environment)."""

from __future__ import annotations

from typing import Any

from config import env
from config.pricing import load_prices
from submitter import ingest_queue, notify_hooks, state_change
from submitter.finished import after_state_change
from submitter.job_cost import EnvironmentCache
from submitter.local import event_rules, jobs
from submitter.local.ingest_queue import LocalIngestQueue
from submitter.local.stack import LocalStack
from submitter.notify import Notifier
from submitter.settings import Settings
from submitter.submission import Outcome

# The deployed queue's name is "<name>-ingest" (terraform/ingest_queue.tf).
INGEST_QUEUE_ARN = f"arn:aws:sqs:{jobs.REGION}:{jobs.ACCOUNT}:batchscore-ingest"


def connect_handlers(stack: LocalStack) -> Settings:
    """Wire `stack.on_upload` and `stack.on_batch_event`; return the deployment's settings.
    Uploads pass through the ingest queue's shape (SQS batches, redelivery), as deployed; each
    handler then does what its Lambda does after its own work (cost, notifications)."""
    settings = Settings.from_env(stack.env)
    s3, ddb = stack.client("s3"), stack.client("dynamodb")
    notifier = Notifier.from_env(stack.env, stack.client)

    def ingest_batch(event: dict[str, Any]) -> dict[str, Any]:
        def notify(outcomes: list[Outcome]) -> None:
            notify_hooks.after_ingest(outcomes, ddb, settings.table, notifier)

        return ingest_queue.handle_batch(
            event, s3=s3, ddb=ddb, batch=stack.batch, settings=settings, after=notify
        )

    stack.on_upload = LocalIngestQueue(ingest_batch, queue_arn=INGEST_QUEUE_ARN, region=jobs.REGION)
    prices, environments = load_prices(stack.env.get(env.PRICES)), EnvironmentCache()

    def on_batch_event(event: dict[str, Any]) -> None:
        # Only what the deployed rule would deliver (terraform/job-state-events.json).
        if not event_rules.delivered(event):
            return
        state_change.handle_event(event, ddb=ddb, table=settings.table, batch=stack.batch)
        # The job's cost, as the state Lambda records it (no metrics: no CloudWatch here), then
        # the notification, which carries it.
        after_state_change(
            event, ddb=ddb, table=settings.table, batch=stack.batch, prices=prices,
            cache=environments,
        )  # fmt: skip
        notify_hooks.after_batch_event(event, ddb, settings.table, notifier)

    stack.on_batch_event = on_batch_event
    return settings
