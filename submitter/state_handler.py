"""Lambda entry point for EventBridge "Batch Job State Change" events, and for the optional
schedule ("Scheduled Event") that runs the reconciler (`submitter.reconcile`)."""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from config import env
from config.pricing import load_prices
from submitter import job_cost, job_metrics, notify_hooks, reconcile
from submitter.clients import client_config
from submitter.finished import after_state_change
from submitter.notify import Notifier
from submitter.state_change import handle_event

logger = Logger(service="batchscore-state")
logging.getLogger("submitter")  # the work modules log below it, formatted like `logger`
copy_config_to_registered_loggers(source_logger=logger, include={"submitter"})
table = os.environ[env.TABLE_NAME]
ddb = boto3.client("dynamodb", config=client_config("dynamodb"))
# Read-only calls (DescribeJobs, ListJobs): botocore may retry.
batch = boto3.client("batch", config=client_config("batch"))
prices = load_prices(os.environ.get(env.PRICES))
environments = job_cost.EnvironmentCache()  # a warm Lambda asks for each queue's every 5 min
notifier = Notifier.from_env(os.environ, lambda service: boto3.client(service))


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    # Not inject_lambda_context: the local runtime calls handlers without a Lambda context.
    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    if reconcile.is_scheduled(event):
        run = reconcile.reconcile(ddb, batch, table, since=reconcile.SCHEDULED_SINCE)
        findings = [f.as_dict() for f in run]
        logger.info("reconciled", extra={"records": len(findings)})
        notify_hooks.after_reconcile(run, ddb, batch, table, notifier)
        return {"reconciled": findings}
    change = handle_event(event, ddb=ddb, table=table, batch=batch)
    logger.info("state change", extra={"change": vars(change) if change else None})
    after_state_change(
        event, ddb=ddb, table=table, batch=batch, prices=prices, cache=environments,
        publish=job_metrics.publish,
    )  # fmt: skip
    notify_hooks.after_batch_event(event, ddb, table, notifier)
    return {"change": vars(change) if change else None}
