# ---------------------------------------------------------------------------------------------
# Real-time endpoint: a Lambda from the job's image behind a function URL (IAM auth), off by
# default (var.enable_realtime). docs/endpoint.md.
# ---------------------------------------------------------------------------------------------

locals {
  realtime = var.enable_realtime ? { endpoint = var.realtime_endpoint } : {}

  # The endpoint config (config/endpoint.py) as the handler reads it from its environment;
  # unset optional fields left out, not null (`limits.max_rows` must be a number).
  realtime_config = var.realtime_endpoint == null ? null : {
    name  = var.realtime_endpoint.name
    model = { for key, value in var.realtime_endpoint.model : key => value if value != null }
    input = var.realtime_endpoint.features == null ? {} : { features = var.realtime_endpoint.features }
    output = {
      passthrough = var.realtime_endpoint.passthrough
      predict     = var.realtime_endpoint.predict
    }
    limits = { max_rows = var.realtime_endpoint.max_rows }
  }

  # s3://bucket/key -> the one object the endpoint may read.
  realtime_model_arn = var.realtime_endpoint == null ? null : "arn:${local.partition}:s3:::${trimprefix(var.realtime_endpoint.model.uri, "s3://")}"
  realtime_image     = "${aws_ecr_repository.job.repository_url}:${coalesce(var.realtime_image_tag, "${var.image_tag}-endpoint")}"
}

resource "aws_cloudwatch_log_group" "realtime" {
  #checkov:skip=CKV_AWS_158:Encrypted with CloudWatch Logs' own key; a CMK adds cost and a key policy to keep, and the logs hold no secrets
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 by default): request logs are for debugging, not audit
  for_each = local.realtime

  name              = "/aws/lambda/${var.name}-realtime"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

data "aws_iam_policy_document" "realtime" {
  for_each = local.realtime

  # The model object, and nothing else: no listing, no other key, no write.
  statement {
    sid       = "ReadTheModel"
    actions   = ["s3:GetObject"]
    resources = [local.realtime_model_arn]
  }
  statement {
    sid       = "WriteItsLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.realtime[each.key].arn}:*"]
  }
}

resource "aws_iam_role" "realtime" {
  for_each = local.realtime

  name_prefix        = "${var.name}-realtime-"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "realtime" {
  for_each = local.realtime

  name   = "realtime"
  role   = aws_iam_role.realtime[each.key].id
  policy = data.aws_iam_policy_document.realtime[each.key].json
}

# Lambda pulls a container image with its service principal, not the function's role: the
# repository policy lets it, for this stack's functions only (Lambda Developer Guide, "Amazon
# ECR permissions" for container images).
data "aws_iam_policy_document" "realtime_pull" {
  for_each = local.realtime

  statement {
    sid     = "LambdaECRImageRetrievalPolicy"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:sourceArn"
      values   = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}-realtime"]
    }
  }
}

resource "aws_ecr_repository_policy" "realtime" {
  for_each = local.realtime

  repository = aws_ecr_repository.job.name
  policy     = data.aws_iam_policy_document.realtime_pull[each.key].json
}

resource "aws_lambda_function" "realtime" {
  #checkov:skip=CKV_AWS_117:Reads one S3 object at init and answers its function URL; a VPC would add NAT or endpoints and protect nothing
  #checkov:skip=CKV_AWS_272:Code signing applies to zip packages only; a container image is pinned by its immutable ECR tag
  #checkov:skip=CKV_AWS_173:The environment holds the endpoint config (a model URI and its SHA-256), no secrets: the default Lambda key is enough
  #checkov:skip=CKV_AWS_50:No X-Ray: the handler logs one JSON line per request with its status and time
  #checkov:skip=CKV_AWS_116:Invoked synchronously through its function URL only: a dead-letter queue applies to asynchronous invocations
  for_each = local.realtime

  function_name = "${var.name}-realtime"
  description   = "batchscore: score a few rows now, with a job's model and the job's scoring code"
  role          = aws_iam_role.realtime[each.key].arn
  package_type  = "Image"
  image_uri     = local.realtime_image
  # The job image is built for Batch's x86_64 hosts; the endpoint target is the same build.
  architectures                  = ["x86_64"]
  memory_size                    = var.realtime_memory_mib
  timeout                        = var.realtime_timeout_seconds
  reserved_concurrent_executions = var.realtime_reserved_concurrency

  environment {
    variables = {
      # Name defined once in config/env.py (ENDPOINT_CONFIG).
      BATCHSCORE_ENDPOINT_CONFIG = jsonencode(local.realtime_config)
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.realtime[each.key].name
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.realtime, aws_ecr_repository_policy.realtime]
}

# IAM auth: every request is SigV4-signed by a principal allowed lambda:InvokeFunctionUrl (and
# lambda:InvokeFunction) on this function; nothing answers anonymous callers.
resource "aws_lambda_function_url" "realtime" {
  for_each = local.realtime

  function_name      = aws_lambda_function.realtime[each.key].function_name
  authorization_type = "AWS_IAM"
  invoke_mode        = "BUFFERED" # one JSON answer, within Lambda's 6 MB response limit
}
