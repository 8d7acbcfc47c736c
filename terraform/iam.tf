# ---------------------------------------------------------------------------------------------
# IAM: trust policies
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  for_each = {
    ec2    = "ec2.amazonaws.com"
    ecs    = "ecs-tasks.amazonaws.com"
    lambda = "lambda.amazonaws.com"
  }

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value]
    }
  }
}

locals {
  queue_arns = [for queue in aws_batch_job_queue.this : queue.arn]
  # SubmitJob is authorized on the job definition both with and without its revision.
  job_definition_arns = [aws_batch_job_definition.this.arn_prefix, "${aws_batch_job_definition.this.arn_prefix}:*"]
}

# ---------------------------------------------------------------------------------------------
# IAM: Batch instances (EC2 compute only)
# ---------------------------------------------------------------------------------------------

resource "aws_iam_role" "batch_instance" {
  count = local.fargate ? 0 : 1

  name_prefix        = "${var.name}-instance-"
  assume_role_policy = data.aws_iam_policy_document.assume["ec2"].json
  tags               = local.tags
}

# AWS's managed policy for ECS container instances: the agent registers with the cluster Batch
# creates (whose name the stack cannot know in advance), hence its "*" resources.
resource "aws_iam_role_policy_attachment" "batch_instance" {
  count = local.fargate ? 0 : 1

  role       = aws_iam_role.batch_instance[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_instance_profile" "batch_instance" {
  count = local.fargate ? 0 : 1

  name_prefix = "${var.name}-instance-"
  role        = aws_iam_role.batch_instance[0].name
  tags        = local.tags
}

# ---------------------------------------------------------------------------------------------
# IAM: job execution role (pulls the image, writes the logs)
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "job_execution" {
  # The job's image: the stack's repository, or the private ECR repository var.image_uri names
  # (an ECR Public image needs neither statement).
  dynamic "statement" {
    for_each = length(local.pull_repository_arns) > 0 ? ["PullJobImage"] : []
    content {
      sid       = statement.value
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = local.pull_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.pull_repository_arns) > 0 ? ["RegistryLogin"] : []
    content {
      sid = statement.value
      # GetAuthorizationToken has no resource type: AWS requires "*".
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.jobs.arn}:*"]
  }
}

# ---------------------------------------------------------------------------------------------
# IAM: job role (what the scoring code may touch)
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ListDataBuckets"
    actions   = ["s3:ListBucket"]
    resources = [for bucket in local.read_buckets : "arn:${local.partition}:s3:::${bucket}"]
  }

  statement {
    sid       = "ReadModelsAndInputs"
    actions   = ["s3:GetObject"]
    resources = [for bucket in local.read_buckets : "arn:${local.partition}:s3:::${bucket}/*"]
  }

  statement {
    sid = "WriteOutput"
    # Delete: a failed attempt removes its parts, and overwrite=true replaces a committed output.
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for bucket in local.write_buckets : "arn:${local.partition}:s3:::${bucket}/*"]
  }

  statement {
    sid       = "ReadJobRecord"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.jobs.arn]
  }

  statement {
    sid = "ReportStatus"
    # Only the attributes the container's own updates set (job/status.py through
    # config/records.py `advance`), never `config`, `batch_job_id` or the lease: a job's code runs
    # as this role, and must not be able to rewrite another job's config (issue 17, hole 5).
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.jobs.arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:Attributes"
      values   = local.job_record_attributes
    }

    # No reading the whole record back through UpdateItem (ALL_NEW / ALL_OLD).
    condition {
      test     = "StringEqualsIfExists"
      variable = "dynamodb:ReturnValues"
      values   = ["NONE", "UPDATED_NEW"]
    }
  }
}

locals {
  # What the container's UpdateItem calls name (tests/functional/job/test_exploit_record_trust.py
  # records them). AWS requires the table's and the by-status index's key attributes in the
  # list too (job_id; status, created_at), although the container never changes created_at.
  job_record_attributes = [
    "job_id", "status", "created_at", "updated_at", "history", "attempts", "status_reason",
    "exit_code", "rows", "seconds", "output_uri", "manifest_uri", "bad_rows",
    "prediction_summary",
  ]
}

# ---------------------------------------------------------------------------------------------
# IAM: ingest Lambda (S3 upload -> record -> SubmitJob)
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "ReadUploadedConfigs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.this["jobs"].arn}/jobs/*"]
  }

  statement {
    sid       = "WriteJobRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.jobs.arn]
  }

  statement {
    sid       = "SubmitToThisStack"
    actions   = ["batch:SubmitJob"]
    resources = concat(local.queue_arns, local.job_definition_arns)
  }

  statement {
    sid = "FindEarlierSubmissions"
    # After a crash between SubmitJob and the record update, the redelivery looks the job up by
    # its deterministic name before submitting again. ListJobs has no resource type: AWS
    # requires "*". Read-only.
    actions   = ["batch:ListJobs"]
    resources = ["*"]
  }

  statement {
    sid = "TerminateDuplicateSubmissions"
    # A submission that lands after its job was cancelled, or beside another one, is terminated.
    actions   = ["batch:TerminateJob"]
    resources = ["arn:${local.partition}:batch:${local.region}:${local.account_id}:job/*"]
  }

  statement {
    sid = "KeepRejectedConfigs"
    # A rejected config is copied under rejected/<job id>/ with reason.json beside it
    # (submitter.settings.DEFAULT_REJECTED_PREFIX; the trigger only sees jobs/*.json).
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this["jobs"].arn}/rejected/*"]
  }

  statement {
    sid = "TagSubmittedJobs"
    # SubmitJob with tags (propagated to the job) also authorizes TagResource on the new job.
    actions   = ["batch:TagResource"]
    resources = ["arn:${local.partition}:batch:${local.region}:${local.account_id}:job/*"]
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["ingest"].arn}:*"]
  }
}

# ---------------------------------------------------------------------------------------------
# IAM: state-change Lambda (Batch events -> record)
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "FollowJobRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.jobs.arn]
  }

  statement {
    sid       = "FindOpenRecords"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.jobs.arn}/index/by-status"]
  }

  statement {
    sid = "AskBatchAboutJobs"
    # DescribeJobs and ListJobs have no resource type: AWS requires "*". Read-only: the
    # reconciler (lost events) and an array's failed shard when the parent's FAILED comes first.
    actions   = ["batch:DescribeJobs", "batch:ListJobs"]
    resources = ["*"]
  }

  statement {
    sid = "CostFinishedJobs"
    # A finished job's cost: which compute environment (FARGATE or FARGATE_SPOT, EC2 or SPOT)
    # ran each attempt (submitter/job_cost.py). Neither action has a resource type: "*".
    actions   = ["batch:DescribeJobQueues", "batch:DescribeComputeEnvironments"]
    resources = ["*"]
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["state"].arn}:*"]
  }
}

# ---------------------------------------------------------------------------------------------
# IAM: one role per principal, each with its own inline policy from the documents above
# ---------------------------------------------------------------------------------------------

locals {
  # role key => who assumes it
  roles = {
    execution = "ecs"
    job       = "ecs"
    ingest    = "lambda"
    state     = "lambda"
  }
}

resource "aws_iam_role" "this" {
  for_each = local.roles

  name_prefix        = "${var.name}-${each.key}-"
  assume_role_policy = data.aws_iam_policy_document.assume[each.value].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.roles

  name = each.key
  role = aws_iam_role.this[each.key].id
  policy = {
    execution = data.aws_iam_policy_document.job_execution.json
    job       = data.aws_iam_policy_document.job.json
    ingest    = data.aws_iam_policy_document.ingest.json
    state     = data.aws_iam_policy_document.state.json
  }[each.key]
}
