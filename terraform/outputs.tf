# ---------------------------------------------------------------------------------------------
# Storage and state
# ---------------------------------------------------------------------------------------------

output "jobs_bucket" {
  description = "Bucket that takes job configs: upload them under jobs/ with a .json suffix."
  value       = aws_s3_bucket.this["jobs"].id
}

output "models_bucket" {
  description = "Bucket for models and inputs (jobs read it)."
  value       = aws_s3_bucket.this["models"].id
}

output "results_bucket" {
  description = "Bucket for scoring output (jobs write it)."
  value       = aws_s3_bucket.this["results"].id
}

output "allowed_buckets" {
  description = "Buckets a job config may name (models, inputs, output)."
  value       = local.allowed_buckets
}

output "table_name" {
  description = "DynamoDB table of job records."
  value       = aws_dynamodb_table.jobs.name
}

# ---------------------------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------------------------

output "queue_arns" {
  description = "Job queue ARNs keyed by priority name."
  value       = { for key, queue in aws_batch_job_queue.this : key => queue.arn }
}

output "queue_priorities" {
  description = "Batch scheduling priority of each queue, keyed by priority name."
  value       = { for key, queue in aws_batch_job_queue.this : key => queue.priority }
}

output "compute_environment_arns" {
  description = "Compute environment ARNs keyed on_demand / spot."
  value       = { for key, ce in aws_batch_compute_environment.this : key => ce.arn }
}

output "job_definition_arn" {
  description = "Job definition ARN, revision included."
  value       = aws_batch_job_definition.this.arn
}

output "job_definition_name" {
  description = "Job definition name (SubmitJob with the name alone takes the latest active revision)."
  value       = aws_batch_job_definition.this.name
}

output "ecr_repository_url" {
  description = "ECR repository to push the job image to (tag it var.image_tag)."
  value       = aws_ecr_repository.job.repository_url
}

output "image" {
  description = "Image the job definition runs."
  value       = local.image
}

# ---------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------

output "ingest_function_name" {
  description = "Lambda that ingests uploaded job configs."
  value       = aws_lambda_function.this["ingest"].function_name
}

output "state_function_name" {
  description = "Lambda that records Batch job state changes."
  value       = aws_lambda_function.this["state"].function_name
}

output "dead_letter_queue_url" {
  description = "SQS queue holding events both Lambdas failed to handle and events EventBridge could not deliver."
  value       = aws_sqs_queue.dead_letters.url
}

output "environment" {
  description = "The submitter's environment plus the job log group, the buckets `submit` puts local files in, and the region (names from config/env.py): what the CLI needs to talk to this stack from any shell."
  value = merge(local.lambda_environment, {
    BATCHSCORE_LOG_GROUP      = aws_cloudwatch_log_group.jobs.name
    BATCHSCORE_DATA_BUCKET    = aws_s3_bucket.this["models"].id
    BATCHSCORE_RESULTS_BUCKET = aws_s3_bucket.this["results"].id
    AWS_DEFAULT_REGION        = local.region
  })
}

output "job_log_group" {
  description = "CloudWatch Logs group of the scoring containers (`batchscore logs` reads it)."
  value       = aws_cloudwatch_log_group.jobs.name
}

output "realtime_function_url" {
  description = "The endpoint's function URL (POST rows, SigV4-signed for service `lambda`); null when enable_realtime is false."
  value       = try(aws_lambda_function_url.realtime["endpoint"].function_url, null)
}

output "realtime_function_name" {
  description = "The endpoint Lambda's name (for its logs and for IAM policies granting lambda:InvokeFunctionUrl)."
  value       = try(aws_lambda_function.realtime["endpoint"].function_name, null)
}

output "notifications_topic_arn" {
  description = "The SNS topic every finished (and stuck) job is announced on; subscribe to it. EventBridge gets the same as `detail-type` \"batchscore Job Finished\" / \"batchscore Job Stuck\" (source `batchscore`) on the default bus."
  value       = aws_sns_topic.notifications.arn
}
