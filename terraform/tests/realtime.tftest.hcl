# The real-time endpoint (realtime.tf) in the plan: off by default; on, a container-image Lambda
# behind a function URL with IAM auth, its role reading the model object only.

mock_provider "aws" {
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
  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/batchscore-job"
      repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/batchscore-job"
    }
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

variables {
  subnet_ids = ["subnet-0123456789abcdef0"]
  vpc_id     = "vpc-0123456789abcdef0"
  realtime_endpoint = {
    model       = { uri = "s3://models-bucket/models/churn.skops", sha256 = "abababababababababababababababababababababababababababababababab" }
    features    = ["plan", "tenure_months"]
    passthrough = ["customer_id"]
    predict     = "predict_proba"
  }
}

run "realtime_is_off_by_default" {
  command = plan

  variables {
    realtime_endpoint = null
  }

  assert {
    condition     = length(aws_lambda_function.realtime) == 0 && length(aws_lambda_function_url.realtime) == 0
    error_message = "nothing real-time is deployed unless enable_realtime"
  }
  assert {
    condition     = length(aws_ecr_repository_policy.realtime) == 0 && length(aws_iam_role.realtime) == 0
    error_message = "no role and no repository policy for an endpoint that is off"
  }
}

run "realtime_function_url_uses_iam_auth" {
  command = apply

  variables {
    enable_realtime               = true
    realtime_memory_mib           = 3008
    realtime_reserved_concurrency = 3
  }

  assert {
    condition     = aws_lambda_function_url.realtime["endpoint"].authorization_type == "AWS_IAM"
    error_message = "the function URL must require SigV4 (AWS_IAM), never NONE"
  }
  assert {
    condition     = aws_lambda_function_url.realtime["endpoint"].function_name == aws_lambda_function.realtime["endpoint"].function_name
    error_message = "the URL fronts the endpoint function"
  }
  assert {
    condition     = aws_lambda_function_url.realtime["endpoint"].invoke_mode == "BUFFERED"
    error_message = "one buffered answer (Lambda's 6 MB response limit applies)"
  }
  assert {
    condition     = aws_lambda_function.realtime["endpoint"].package_type == "Image"
    error_message = "the endpoint runs the job's container image"
  }
  assert {
    condition     = aws_lambda_function.realtime["endpoint"].image_uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/batchscore-job:0.1.0-endpoint"
    error_message = "the image comes from the job's ECR repository, tagged <image_tag>-endpoint"
  }
  assert {
    condition     = aws_lambda_function.realtime["endpoint"].memory_size == 3008 && aws_lambda_function.realtime["endpoint"].reserved_concurrent_executions == 3
    error_message = "memory and reserved concurrency come from their variables"
  }
  assert {
    condition = jsondecode(aws_lambda_function.realtime["endpoint"].environment[0].variables["BATCHSCORE_ENDPOINT_CONFIG"]) == {
      name   = "realtime"
      model  = { uri = "s3://models-bucket/models/churn.skops", sha256 = "abababababababababababababababababababababababababababababababab" }
      input  = { features = ["plan", "tenure_months"] }
      output = { passthrough = ["customer_id"], predict = "predict_proba" }
      limits = { max_rows = 10000 }
    }
    error_message = "the handler's config is the endpoint config, unset fields left out"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.realtime["endpoint"].statement : toset(s.resources) if contains(s.actions, "s3:GetObject")] == [toset(["arn:aws:s3:::models-bucket/models/churn.skops"])]
    error_message = "the role reads the model object and nothing else"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.realtime["endpoint"].statement : s.actions])) == toset(["s3:GetObject", "logs:CreateLogStream", "logs:PutLogEvents"])
    error_message = "no action beyond reading the model and writing the logs"
  }
  assert {
    condition     = output.realtime_function_url == aws_lambda_function_url.realtime["endpoint"].function_url
    error_message = "the URL is an output"
  }
}

run "realtime_needs_an_endpoint_config" {
  command = plan

  variables {
    enable_realtime   = true
    realtime_endpoint = null
  }

  expect_failures = [var.realtime_endpoint]
}

run "realtime_model_must_be_on_s3" {
  command = plan

  variables {
    realtime_endpoint = { model = { uri = "/home/me/model.skops" } }
  }

  expect_failures = [var.realtime_endpoint]
}
