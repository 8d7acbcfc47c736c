# ---------------------------------------------------------------------------------------------
# Ingest queue: S3 upload -> SQS -> ingest Lambda (event source mapping, bounded concurrency)
# ---------------------------------------------------------------------------------------------
#
# Why a queue (docs/scale.md, "Bursts"): Batch accepts SubmitJob at 50 TPS per account, a fixed
# quota. S3 invoking the Lambda directly scales it with the uploads; throttling it cannot outlast
# becomes a function error, which asynchronous invocation retries only twice (and Lambda may even
# drop events from its internal queue when the function cannot keep up). Here the uploads wait in
# SQS for up to 14 days; `maximum_concurrency` bounds the callers of SubmitJob; a record that
# still fails returns to the queue (partial batch response) and, after `ingest_max_receives`
# receives, moves to the dead-letter queue the Lambdas already use.

locals {
  # AWS: "set the source queue's visibility timeout to at least six times the timeout of your
  # function" (Lambda developer guide, services-sqs-configure). It also outlives the submission
  # lease (timeout + margin), so a redelivered message never meets a live lease.
  ingest_visibility_timeout = 6 * local.lambdas.ingest.timeout
}

resource "aws_sqs_queue" "ingest" {
  name                       = "${var.name}-ingest"
  visibility_timeout_seconds = local.ingest_visibility_timeout
  message_retention_seconds  = 1209600 # 14 days, SQS's maximum: a burst waits, it is not dropped
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = var.ingest_max_receives
  })
  tags = local.tags
}

data "aws_iam_policy_document" "ingest_queue" {
  statement {
    sid       = "JobsBucketNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest.arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.this["jobs"].arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  queue_url = aws_sqs_queue.ingest.id
  policy    = data.aws_iam_policy_document.ingest_queue.json
}

# The event source mapping polls with the function's role.
data "aws_iam_policy_document" "ingest_queue_consumer" {
  statement {
    sid = "ConsumeIngestQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.ingest.arn]
  }
}

resource "aws_iam_role_policy" "ingest_queue" {
  name   = "ingest-queue"
  role   = aws_iam_role.this["ingest"].id
  policy = data.aws_iam_policy_document.ingest_queue_consumer.json
}

resource "aws_lambda_event_source_mapping" "ingest" {
  event_source_arn = aws_sqs_queue.ingest.arn
  function_name    = aws_lambda_function.this["ingest"].arn
  batch_size       = var.ingest_batch_size
  # submitter/ingest_queue.py answers with batchItemFailures: only the failed messages return.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.ingest_max_concurrency
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.ingest_queue]
}
