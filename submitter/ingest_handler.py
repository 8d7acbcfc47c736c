"""Lambda entry point for the jobs bucket's uploads: SQS batches of S3 notifications (the deployed
path, `submitter.ingest_queue`), or S3 `ObjectCreated` notifications delivered directly."""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from submitter.clients import client_config
from submitter.ingest import handle_event
from submitter.ingest_queue import handle_batch, is_queue_event
from submitter.notify import Notifier
from submitter.notify_hooks import after_ingest
from submitter.settings import Settings

logger = Logger(service="batchscore-ingest")
logging.getLogger("submitter")  # the work modules log below it, formatted like `logger`
copy_config_to_registered_loggers(source_logger=logger, include={"submitter"})
settings = Settings.from_env(os.environ)
s3 = boto3.client("s3", config=client_config("s3"))
ddb = boto3.client("dynamodb", config=client_config("dynamodb"))
# Not retried by botocore: SubmitJob is not idempotent (see submitter.clients).
batch = boto3.client("batch", config=client_config("batch-submit"))
notifier = Notifier.from_env(os.environ, lambda service: boto3.client(service))


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    # Not inject_lambda_context: the local runtime calls handlers without a Lambda context.
    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    if is_queue_event(event):
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return handle_batch(
            event, s3=s3, ddb=ddb, batch=batch, settings=settings, remaining_millis=remaining,
            after=lambda outcomes: after_ingest(outcomes, ddb, settings.table, notifier),
        )  # fmt: skip
    outcomes = handle_event(event, s3=s3, ddb=ddb, batch=batch, settings=settings)
    after_ingest(outcomes, ddb, settings.table, notifier)
    return {"outcomes": [vars(outcome) for outcome in outcomes]}
