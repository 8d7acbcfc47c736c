"""Lambda entry point for S3 `ObjectCreated` notifications of the jobs bucket."""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from submitter.clients import client_config
from submitter.ingest import handle_event
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
    outcomes = handle_event(event, s3=s3, ddb=ddb, batch=batch, settings=settings)
    after_ingest(outcomes, ddb, settings.table, notifier)
    return {"outcomes": [vars(outcome) for outcome in outcomes]}
