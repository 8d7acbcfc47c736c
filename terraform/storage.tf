# ---------------------------------------------------------------------------------------------
# Storage: buckets (jobs = uploaded configs, models = models and inputs, results = output)
# ---------------------------------------------------------------------------------------------

locals {
  bucket_names = {
    for key in ["jobs", "models", "results"] : key => "${var.name}-${key}-${local.account_id}-${local.region}"
  }

  # What jobs may read and write, and so what a job config may name (the ingest Lambda enforces it).
  read_buckets    = distinct(concat([aws_s3_bucket.this["models"].id, aws_s3_bucket.this["results"].id], var.read_bucket_names, var.write_bucket_names))
  write_buckets   = distinct(concat([aws_s3_bucket.this["results"].id], var.write_bucket_names))
  allowed_buckets = distinct(concat(local.read_buckets, local.write_buckets))
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Access logging belongs to the account's CloudTrail data events or a central log bucket, not to one stack
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery decision for the account owner; configs and outputs can be re-created
  #checkov:skip=CKV2_AWS_62:Only the jobs bucket triggers anything (aws_s3_bucket_notification.jobs); models and results need no events
  #checkov:skip=CKV_AWS_145:SSE-KMS with the AWS-managed key (aws_s3_bucket_server_side_encryption_configuration.this); a CMK is left to the account owner
  for_each = local.bucket_names

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(local.tags, { Name = each.value })
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      # The AWS-managed aws/s3 key: principals of this account use it through S3 without a key policy.
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "expire-noncurrent-and-abandoned-uploads"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    # A killed attempt can leave a multipart upload behind; nobody will complete it.
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    # Deny every S3 action over plain HTTP: the service-wide wildcard is the point of this statement.
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# ---------------------------------------------------------------------------------------------
# Storage: upload trigger (jobs/*.json only)
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket_notification" "jobs" {
  bucket = aws_s3_bucket.this["jobs"].id

  # Through the upload queue (ingest_queue.tf): a burst waits there instead of throttling.
  queue {
    queue_arn     = aws_sqs_queue.ingest.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "jobs/"
    filter_suffix = ".json"
  }

  depends_on = [aws_sqs_queue_policy.ingest]
}

# ---------------------------------------------------------------------------------------------
# State: the job table (layout shared with config/records.py::table_definition)
# ---------------------------------------------------------------------------------------------

resource "aws_dynamodb_table" "jobs" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed aws/dynamodb key (server_side_encryption below); a CMK is left to the account owner
  name                        = "${var.name}-jobs"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  deletion_protection_enabled = !var.force_destroy

  attribute {
    name = "job_id"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  attribute {
    name = "name"
    type = "S"
  }

  # "List jobs by status, newest first".
  global_secondary_index {
    name            = "by-status"
    hash_key        = "status"
    range_key       = "created_at"
    projection_type = "ALL"
  }

  # "The last run of this name" (drift against the previous success, submitter/drift.py): keys and
  # status only; the one record found is read from the table.
  global_secondary_index {
    name               = "by-name"
    hash_key           = "name"
    range_key          = "created_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["status"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = local.tags
}
