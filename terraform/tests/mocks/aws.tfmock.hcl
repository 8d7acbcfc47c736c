# The mock AWS provider every `terraform test` file of this folder plans against (mock_provider
# "aws" { source = "./tests/mocks" }): fixed account, region and ARNs, so the tests can compare
# the wiring between resources.

mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_region" {
  defaults = { name = "eu-west-1" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_iam_policy_document" {
  defaults = { json = "{}" }
}
# Arguments that take an ARN are validated even against a mock: give the ARNs their shape.
mock_resource "aws_iam_instance_profile" {
  defaults = { arn = "arn:aws:iam::123456789012:instance-profile/batchscore-instance" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/batchscore-role" }
}
mock_resource "aws_batch_job_definition" {
  defaults = {
    arn        = "arn:aws:batch:eu-west-1:123456789012:job-definition/batchscore-score:1"
    arn_prefix = "arn:aws:batch:eu-west-1:123456789012:job-definition/batchscore-score"
  }
}
mock_resource "aws_lambda_function" {
  defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:batchscore" }
}
mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:batchscore-dead-letters" }
}
mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::batchscore-bucket" }
}
mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/batchscore-jobs" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:batchscore" }
}
mock_resource "aws_cloudwatch_event_rule" {
  defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/batchscore-job-state" }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:batchscore-notifications" }
}
mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100" }
}
mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/batchscore-job"
    repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/batchscore-job"
  }
}

# Distinct ARNs where the tests compare which one goes where.
override_resource {
  target = aws_batch_compute_environment.this["on_demand"]
  values = { arn = "arn:aws:batch:eu-west-1:123456789012:compute-environment/batchscore-on-demand-1" }
}
override_resource {
  target = aws_batch_compute_environment.this["spot"]
  values = { arn = "arn:aws:batch:eu-west-1:123456789012:compute-environment/batchscore-spot-1" }
}
override_resource {
  target = aws_batch_job_queue.this["high"]
  values = { arn = "arn:aws:batch:eu-west-1:123456789012:job-queue/batchscore-high" }
}
override_resource {
  target = aws_batch_job_queue.this["normal"]
  values = { arn = "arn:aws:batch:eu-west-1:123456789012:job-queue/batchscore-normal" }
}
override_resource {
  target = aws_batch_job_queue.this["low"]
  values = { arn = "arn:aws:batch:eu-west-1:123456789012:job-queue/batchscore-low" }
}
