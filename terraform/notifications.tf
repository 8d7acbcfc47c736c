# ---------------------------------------------------------------------------------------------
# Notifications: an SNS topic and EventBridge events for finished and stuck jobs
# (submitter/notify.py; subscriptions are the user's: e-mail, chat, HTTPS, a queue)
# ---------------------------------------------------------------------------------------------

locals {
  # The default bus: where AWS services and `aws events put-events` go without a bus name, and
  # what rules in the account already watch.
  event_bus_arn = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/default"

  # Merged into local.lambda_environment (lambda.tf), so the `environment` output gives the CLI
  # (`batchscore cancel` notifies too) the same destinations.
  notification_environment = {
    BATCHSCORE_NOTIFY_TOPIC_ARN       = aws_sns_topic.notifications.arn
    BATCHSCORE_EVENT_BUS              = "default"
    BATCHSCORE_DRIFT_THRESHOLD        = tostring(var.drift_threshold)
    BATCHSCORE_RUNNABLE_ALERT_SECONDS = tostring(var.runnable_alert_minutes * 60)
  }
}

# SNS encrypts with a customer-managed key: the AWS-managed aws/sns key cannot be used by
# CloudWatch alarms (its policy cannot be changed to let cloudwatch.amazonaws.com use it).
data "aws_iam_policy_document" "notifications_key" {
  #checkov:skip=CKV_AWS_111:A key policy: its "*" resource is this key, and the account root administering its own key is the documented default
  #checkov:skip=CKV_AWS_356:A key policy: its "*" resource is this key (KMS allows nothing else there)
  #checkov:skip=CKV_AWS_109:A key policy: its "*" resource is this key, and the account root administering its own key is the documented default
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToTheTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "notifications" {
  description             = "${var.name}: encrypts the notifications topic"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.notifications_key.json
  tags                    = local.tags
}

resource "aws_kms_alias" "notifications" {
  name          = "alias/${var.name}-notifications"
  target_key_id = aws_kms_key.notifications.key_id
}

resource "aws_sns_topic" "notifications" {
  name              = "${var.name}-notifications"
  kms_master_key_id = aws_kms_key.notifications.arn
  tags              = local.tags
}

# What the Lambdas need to notify: their own inline policy beside the one in iam.tf. The ingest
# Lambda sends REJECTED (and a refused submission's FAILED); the state Lambda sends SUCCEEDED,
# FAILED and "stuck in RUNNABLE", and finds the earlier run of a name for drift.
data "aws_iam_policy_document" "notify" {
  for_each = toset(["ingest", "state"])

  statement {
    sid       = "PublishToTheTopic"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications.arn]
  }

  statement {
    sid = "EncryptForTheTopic"
    # Publishing to an SSE topic: SNS asks KMS for a data key as the publisher.
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.notifications.arn]
  }

  statement {
    sid       = "PutEventsOnTheDefaultBus"
    actions   = ["events:PutEvents"]
    resources = [local.event_bus_arn]
  }

  dynamic "statement" {
    for_each = each.key == "state" ? [1] : []
    content {
      sid       = "FindTheLastRunOfAName"
      actions   = ["dynamodb:Query"]
      resources = ["${aws_dynamodb_table.jobs.arn}/index/by-name"]
    }
  }
}

resource "aws_iam_role_policy" "notify" {
  for_each = data.aws_iam_policy_document.notify

  name   = "notify"
  role   = aws_iam_role.this[each.key].id
  policy = each.value.json
}
