# ---------------------------------------------------------------------------------------------
# Lambda: ingest (S3 upload -> record -> SubmitJob) and state (Batch events -> record)
# ---------------------------------------------------------------------------------------------

locals {
  submitter_zip = coalesce(var.submitter_zip, "${path.module}/../build/submitter.zip")
  # What `make package ARCH=...` built the zip for, written beside it (build/submitter.json,
  # scripts/package_submitter.py); absent (a placeholder zip): nothing is known.
  submitter_manifest_path = "${trimsuffix(local.submitter_zip, ".zip")}.json"
  submitter_manifest      = fileexists(local.submitter_manifest_path) ? jsondecode(file(local.submitter_manifest_path)) : {}
  packaged_architecture   = lookup(local.submitter_manifest, "architecture", null)
  # One setting: var.lambda_architecture, or else what the zip was built for, or else x86_64.
  lambda_architecture = coalesce(var.lambda_architecture, local.packaged_architecture, "x86_64")

  lambdas = {
    ingest = {
      handler     = "submitter.ingest_handler.handler"
      description = "batchscore: validate an uploaded job config, record it, submit it to Batch"
      timeout     = 60
    }
    state = {
      handler     = "submitter.state_handler.handler"
      description = "batchscore: record Batch job state changes the container cannot report"
      timeout     = 30
    }
  }

  # Names defined once in config/env.py (a test checks these keys against it).
  lambda_environment = {
    BATCHSCORE_TABLE           = aws_dynamodb_table.jobs.name
    BATCHSCORE_QUEUES          = jsonencode({ for key, queue in aws_batch_job_queue.this : key => queue.arn })
    BATCHSCORE_JOBS_BUCKET     = aws_s3_bucket.this["jobs"].id
    BATCHSCORE_JOB_DEFINITION  = aws_batch_job_definition.this.arn
    BATCHSCORE_ALLOWED_BUCKETS = join(",", local.allowed_buckets)
    BATCHSCORE_WRITE_BUCKETS   = join(",", local.write_buckets)
    BATCHSCORE_PLATFORM        = var.compute_type
    BATCHSCORE_RECORD_TTL_DAYS = tostring(var.record_ttl_days)
    # The lease outlives an ingest invocation by a margin and no more (submitter/settings.py).
    BATCHSCORE_SUBMIT_LEASE_SECONDS = tostring(local.lambdas.ingest.timeout + local.lease_margin_seconds)
    # propagate_tags: the definition's tags (the provider's default_tags included) go on every
    # job's tasks beside the config's, and Batch fails a job with more than 50 in all.
    BATCHSCORE_JOB_DEFINITION_TAG_COUNT = tostring(length(aws_batch_job_definition.this.tags_all))
    BATCHSCORE_PRICES                   = var.prices # the job-cost table's overrides (config/pricing.py)
    # Where notifications go (terraform/notifications.tf).
    BATCHSCORE_NOTIFY_TOPIC_ARN       = local.notification_environment.BATCHSCORE_NOTIFY_TOPIC_ARN
    BATCHSCORE_EVENT_BUS              = local.notification_environment.BATCHSCORE_EVENT_BUS
    BATCHSCORE_DRIFT_THRESHOLD        = local.notification_environment.BATCHSCORE_DRIFT_THRESHOLD
    BATCHSCORE_RUNNABLE_ALERT_SECONDS = local.notification_environment.BATCHSCORE_RUNNABLE_ALERT_SECONDS
  }
  lease_margin_seconds = 10
}

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_158:Encrypted with CloudWatch Logs' own key; a CMK adds cost and a key policy to keep, and the logs hold no secrets
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 by default): handler logs are for debugging, not audit
  for_each = local.lambdas

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:Talks only to AWS APIs (S3, DynamoDB, Batch); a VPC would add NAT or endpoints and protect nothing
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile and a signed artifact pipeline this project does not have
  #checkov:skip=CKV_AWS_173:The environment holds resource names only, no secrets: the default Lambda key is enough
  #checkov:skip=CKV_AWS_50:No X-Ray: the handlers log structured JSON (powertools Logger); tracing would need xray:Put* on "*"
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (var.lambda_reserved_concurrency): reserving it takes from the account pool
  for_each = local.lambdas

  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.this[each.key].arn
  runtime          = var.lambda_runtime
  handler          = each.value.handler
  filename         = local.submitter_zip
  source_code_hash = filebase64sha256(local.submitter_zip)
  timeout          = each.value.timeout
  memory_size      = 256
  architectures    = [local.lambda_architecture]

  reserved_concurrent_executions = coalesce(var.lambda_reserved_concurrency, -1)

  environment {
    variables = merge(local.lambda_environment, {
      POWERTOOLS_SERVICE_NAME = "${var.name}-${each.key}"
      POWERTOOLS_LOG_LEVEL    = "INFO"
    })
  }

  # S3 and EventBridge invoke asynchronously: what still fails after Lambda's two retries lands here.
  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  tags = local.tags

  lifecycle {
    # pydantic-core is a compiled wheel: a zip built for the other architecture fails at import.
    precondition {
      condition     = local.packaged_architecture == null || local.packaged_architecture == local.lambda_architecture
      error_message = "${local.submitter_zip} was built for ${coalesce(local.packaged_architecture, "?")} (make package ARCH=...), but lambda_architecture is ${local.lambda_architecture}: rebuild it with ARCH=${local.lambda_architecture}, or leave lambda_architecture unset to follow the zip."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-dead-letters"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}
