# ---------------------------------------------------------------------------------------------
# Monitoring: alarms to the notifications topic, and a dashboard (both off by default)
# ---------------------------------------------------------------------------------------------
#
# AWS Batch publishes no per-job metrics. The state Lambda prints them as CloudWatch Embedded
# Metric Format lines when a job finishes (submitter/job_metrics.py): namespace `batchscore`,
# dimensions status, queue (the queue's name) and service (POWERTOOLS_SERVICE_NAME, the state
# function's name). An alarm names every dimension of the metric it watches, so the ones below
# repeat all three. Off (the default) creates nothing: alarms and dashboards are billed each.

locals {
  metrics_namespace = "batchscore"
  metrics_service   = "${var.name}-state" # POWERTOOLS_SERVICE_NAME of the state function
  alarm_queues      = var.alarms_enabled ? aws_batch_job_queue.this : {}
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "An event or upload the Lambdas could not handle after Lambda's retries is in the dead-letter queue: look at it, fix, and redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letters.name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "failed_jobs" {
  for_each = local.alarm_queues

  alarm_name          = "${var.name}-${each.key}-failed-jobs"
  alarm_description   = "At least ${var.alarm_failed_jobs} job(s) of queue ${each.value.name} FAILED within ${var.alarm_period_seconds} s (batchscore list --status FAILED)."
  namespace           = local.metrics_namespace
  metric_name         = "JobsFinished"
  dimensions          = { status = "FAILED", queue = each.value.name, service = local.metrics_service }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.alarm_failed_jobs
  treat_missing_data  = "notBreaching" # no metric: no job finished, none failed
  alarm_actions       = [aws_sns_topic.notifications.arn]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "queued_too_long" {
  for_each = local.alarm_queues

  alarm_name          = "${var.name}-${each.key}-queued-too-long"
  alarm_description   = "A job of queue ${each.value.name} waited more than ${var.alarm_queued_seconds} s between submission and start (batchscore status JOB says why a waiting job waits)."
  namespace           = local.metrics_namespace
  metric_name         = "QueuedSeconds"
  dimensions          = { status = "SUCCEEDED", queue = each.value.name, service = local.metrics_service }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_queued_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  tags                = local.tags
}

locals {
  # One line per queue of a metric, for the dashboard's widgets.
  dashboard_queue_lines = {
    for metric, statuses in {
      JobsFinished       = ["SUCCEEDED", "FAILED"]
      JobCostUSD         = ["SUCCEEDED", "FAILED"]
      JobDurationSeconds = ["SUCCEEDED"]
      RowsScored         = ["SUCCEEDED"]
      QueuedSeconds      = ["SUCCEEDED"]
    } :
    metric => [
      # setproduct, not flatten: flatten would also flatten each line into its strings
      for pair in setproduct(sort(keys(aws_batch_job_queue.this)), statuses) :
      [local.metrics_namespace, metric, "status", pair[1], "queue", aws_batch_job_queue.this[pair[0]].name, "service", local.metrics_service]
    ]
  }
  dashboard_widgets = [
    { title = "Jobs finished, by status and queue", metric = "JobsFinished", stat = "Sum" },
    { title = "Cost of finished jobs (USD, estimated)", metric = "JobCostUSD", stat = "Sum" },
    { title = "Job duration (s)", metric = "JobDurationSeconds", stat = "Maximum" },
    { title = "Rows scored", metric = "RowsScored", stat = "Sum" },
    { title = "Time queued before starting (s)", metric = "QueuedSeconds", stat = "Maximum" },
  ]
}

resource "aws_cloudwatch_dashboard" "jobs" {
  count = var.dashboard_enabled ? 1 : 0

  dashboard_name = "${var.name}-jobs"
  dashboard_body = jsonencode({
    widgets = concat(
      [
        for index, widget in local.dashboard_widgets : {
          type   = "metric"
          x      = (index % 2) * 12
          y      = floor(index / 2) * 6
          width  = 12
          height = 6
          properties = {
            title   = widget.title
            region  = local.region
            stat    = widget.stat
            period  = 300
            view    = "timeSeries"
            metrics = local.dashboard_queue_lines[widget.metric]
          }
        }
      ],
      [{
        type   = "metric"
        x      = 12
        y      = 12
        width  = 12
        height = 6
        properties = {
          title   = "Dead letters (messages visible)"
          region  = local.region
          stat    = "Maximum"
          period  = 300
          view    = "timeSeries"
          metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dead_letters.name]]
        }
      }]
    )
  })
}
