# ---------------------------------------------------------------------------------------------
# Events: Batch job state changes of this stack's queues -> state Lambda
# ---------------------------------------------------------------------------------------------

locals {
  job_state_events = jsondecode(file("${path.module}/job-state-events.json"))
}

resource "aws_cloudwatch_event_rule" "job_state" {
  name        = "${var.name}-job-state"
  description = "batchscore: Batch job state changes on this stack's queues"

  # Only what the state handler acts on (job-state-events.json, shared with the local stack and
  # its contract test): RUNNING, SUCCEEDED and FAILED of single jobs and array parents, and only
  # FAILED of array children. A 10,000-shard job then invokes the Lambda ~10,000 times (its
  # children's failures at most) instead of ~70,000 (every status of every child).
  event_pattern = jsonencode(merge(local.job_state_events, {
    detail = merge(local.job_state_events.detail, {
      jobQueue = [for queue in aws_batch_job_queue.this : queue.arn]
    })
  }))

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "job_state" {
  rule = aws_cloudwatch_event_rule.job_state.name
  arn  = aws_lambda_function.this["state"].arn

  # EventBridge retries a *delivery* that fails (the Lambda throttled or unavailable, a missing
  # permission), with exponential backoff and jitter. These are its defaults, written out: a late
  # state change is harmless (records only move forward), a dropped one leaves a record open.
  # Once the Lambda has taken the event, Lambda's own asynchronous retries (two) and its
  # dead-letter queue take over.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }

  # What EventBridge could not deliver lands beside what the Lambdas failed to handle, instead of
  # being dropped (`batchscore reconcile` repairs the records either way).
  dead_letter_config {
    arn = aws_sqs_queue.dead_letters.arn
  }
}

resource "aws_lambda_permission" "state_from_events" {
  statement_id  = "AllowJobStateRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["state"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.job_state.arn
}

# ---------------------------------------------------------------------------------------------
# Events: optional schedule -> state Lambda runs the reconciler (open records vs DescribeJobs)
# ---------------------------------------------------------------------------------------------

# Off by default: an idle stack costs nothing, and `batchscore reconcile` does the same on demand.
resource "aws_cloudwatch_event_rule" "reconcile" {
  count = var.reconcile_schedule == "" ? 0 : 1

  name                = "${var.name}-reconcile"
  description         = "batchscore: compare unfinished job records with AWS Batch"
  schedule_expression = var.reconcile_schedule

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "reconcile" {
  count = var.reconcile_schedule == "" ? 0 : 1

  rule = aws_cloudwatch_event_rule.reconcile[0].name
  arn  = aws_lambda_function.this["state"].arn

  # A missed delivery is made up by the next run: EventBridge does not retry it. (A run that
  # raises is still retried by Lambda's asynchronous invocation, then goes to the state
  # Lambda's dead-letter queue beside the state-change events that failed.)
  retry_policy {
    maximum_event_age_in_seconds = 300
    maximum_retry_attempts       = 0
  }

  # A delivery that fails (e.g. a missing permission) is kept where it can be seen.
  dead_letter_config {
    arn = aws_sqs_queue.dead_letters.arn
  }
}

resource "aws_lambda_permission" "state_from_schedule" {
  count = var.reconcile_schedule == "" ? 0 : 1

  statement_id  = "AllowReconcileSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["state"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconcile[0].arn
}

# ---------------------------------------------------------------------------------------------
# Events: EventBridge may write what it could not deliver to the dead-letter queue
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "dead_letters" {
  statement {
    sid       = "UndeliveredEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    # Only this stack's rules.
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = concat([aws_cloudwatch_event_rule.job_state.arn], aws_cloudwatch_event_rule.reconcile[*].arn)
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letters" {
  queue_url = aws_sqs_queue.dead_letters.id
  policy    = data.aws_iam_policy_document.dead_letters.json
}
