# Monitoring (monitoring.tf) and the notifications topic it alarms to: off costs nothing; on, every
# alarm notifies the topic, whose key lets CloudWatch alarms use it. The same mock provider as
# stack.tftest.hcl (a test file's mocks are its own).

mock_provider "aws" {
  source = "./tests/mocks" # mocks/aws.tfmock.hcl: the account, region, ARNs and overrides
}

variables {
  subnet_ids = ["subnet-0123456789abcdef0"]
  vpc_id     = "vpc-0123456789abcdef0"
}

run "monitoring_is_off_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dead_letters) == 0 && length(aws_cloudwatch_metric_alarm.failed_jobs) == 0 && length(aws_cloudwatch_metric_alarm.queued_too_long) == 0 && length(aws_cloudwatch_dashboard.jobs) == 0
    error_message = "No alarm and no dashboard unless asked for: off costs nothing."
  }
}

run "alarms_notify_the_topic" {
  command = apply

  variables {
    alarms_enabled       = true
    alarm_failed_jobs    = 3
    alarm_queued_seconds = 1800
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dead_letters) == 1 && keys(aws_cloudwatch_metric_alarm.failed_jobs) == ["high", "low", "normal"] && keys(aws_cloudwatch_metric_alarm.queued_too_long) == ["high", "low", "normal"]
    error_message = "One dead-letter alarm, and a FAILED and a queued-too-long alarm per queue."
  }

  assert {
    condition = alltrue(concat(
      [for alarm in aws_cloudwatch_metric_alarm.failed_jobs : alarm.alarm_actions == toset([aws_sns_topic.notifications.arn])],
      [for alarm in aws_cloudwatch_metric_alarm.queued_too_long : alarm.alarm_actions == toset([aws_sns_topic.notifications.arn])],
      [aws_cloudwatch_metric_alarm.dead_letters[0].alarm_actions == toset([aws_sns_topic.notifications.arn])],
    ))
    error_message = "Every alarm notifies the notifications topic."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letters[0].namespace == "AWS/SQS" && aws_cloudwatch_metric_alarm.dead_letters[0].metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.dead_letters[0].dimensions["QueueName"] == aws_sqs_queue.dead_letters.name && aws_cloudwatch_metric_alarm.dead_letters[0].threshold == 0 && aws_cloudwatch_metric_alarm.dead_letters[0].comparison_operator == "GreaterThanThreshold"
    error_message = "The dead-letter alarm goes off on one message in this stack's dead-letter queue."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.failed_jobs["high"].namespace == "batchscore" && aws_cloudwatch_metric_alarm.failed_jobs["high"].metric_name == "JobsFinished" && aws_cloudwatch_metric_alarm.failed_jobs["high"].dimensions["status"] == "FAILED" && aws_cloudwatch_metric_alarm.failed_jobs["high"].dimensions["queue"] == aws_batch_job_queue.this["high"].name && aws_cloudwatch_metric_alarm.failed_jobs["high"].dimensions["service"] == "batchscore-state" && length(aws_cloudwatch_metric_alarm.failed_jobs["high"].dimensions) == 3 && aws_cloudwatch_metric_alarm.failed_jobs["high"].threshold == 3 && aws_cloudwatch_metric_alarm.failed_jobs["high"].statistic == "Sum"
    error_message = "The FAILED alarm watches the state Lambda's JobsFinished metric with every dimension it is published with (status, queue name, service), at the threshold given."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.queued_too_long["low"].metric_name == "QueuedSeconds" && aws_cloudwatch_metric_alarm.queued_too_long["low"].threshold == 1800 && aws_cloudwatch_metric_alarm.queued_too_long["low"].statistic == "Maximum"
    error_message = "The queued-too-long alarm compares the longest wait with alarm_queued_seconds."
  }

  assert {
    condition     = aws_lambda_function.this["state"].environment[0].variables["POWERTOOLS_SERVICE_NAME"] == "batchscore-state"
    error_message = "The alarms' service dimension is the state function's POWERTOOLS_SERVICE_NAME."
  }
}

run "the_topic_key_lets_cloudwatch_alarms_publish" {
  command = apply

  assert {
    condition     = aws_sns_topic.notifications.kms_master_key_id == aws_kms_key.notifications.arn && aws_kms_key.notifications.enable_key_rotation
    error_message = "The topic is encrypted with its own customer-managed key (alarms cannot use alias/aws/sns), rotated."
  }

  assert {
    condition = anytrue([
      for statement in data.aws_iam_policy_document.notifications_key.statement :
      contains(flatten([for p in statement.principals : p.identifiers]), "cloudwatch.amazonaws.com") && contains(statement.actions, "kms:Decrypt") && contains(statement.actions, "kms:GenerateDataKey*")
    ])
    error_message = "The key policy allows cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*."
  }
}

run "the_dashboard_shows_every_queue" {
  command = apply

  variables {
    dashboard_enabled = true
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.jobs[0].dashboard_body).widgets) == 6
    error_message = "Five job-metric widgets and the dead letters."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.jobs[0].dashboard_body).widgets[0].properties.metrics) == 6
    error_message = "Jobs finished: SUCCEEDED and FAILED for each of the three queues."
  }
}

run "the_price_table_reaches_the_lambdas" {
  command = apply

  variables {
    prices = "{\"ec2_spot_ratio\": 0.3}"
  }

  assert {
    condition     = aws_lambda_function.this["state"].environment[0].variables["BATCHSCORE_PRICES"] == "{\"ec2_spot_ratio\": 0.3}"
    error_message = "var.prices is the state Lambda's BATCHSCORE_PRICES."
  }
}

run "prices_must_be_a_json_object" {
  command = plan

  variables {
    prices = "cheap"
  }

  expect_failures = [var.prices]
}
