# A minimal batchscore stack in a fresh account: the default VPC's subnets, every other input
# left at its default. Build the Lambda bundle first (build/submitter.zip at the repository root).
#
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 6.0"
    }
  }
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "eu-west-1"
}

variable "compute_type" {
  description = "EC2 (on-demand + Spot instances) or FARGATE (Fargate + Fargate Spot)."
  type        = string
  default     = "EC2"
}

provider "aws" {
  region = var.region
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

module "batchscore" {
  source = "../.."

  compute_type = var.compute_type
  vpc_id       = data.aws_vpc.default.id
  subnet_ids   = data.aws_subnets.default.ids
  # The default VPC's subnets are public and have no NAT gateway: a Fargate task reaches ECR, S3
  # and CloudWatch Logs only with a public IP (EC2 instances get one from the subnet).
  assign_public_ip = true
  tags             = { owner = "data-science" }
}

# Every output of the root module, under the same name: the README's steps read them here
# (`terraform output -raw ecr_repository_url`, and `batchscore` reads `environment` and
# `job_log_group` through `terraform output -json`). A test holds the two lists equal.

output "jobs_bucket" {
  description = "Bucket that takes job configs: upload them under jobs/ with a .json suffix."
  value       = module.batchscore.jobs_bucket
}

output "models_bucket" {
  description = "Bucket for models and inputs (jobs read it)."
  value       = module.batchscore.models_bucket
}

output "results_bucket" {
  description = "Bucket for scoring output (jobs write it)."
  value       = module.batchscore.results_bucket
}

output "allowed_buckets" {
  description = "Buckets a job config may name (models, inputs, output)."
  value       = module.batchscore.allowed_buckets
}

output "table_name" {
  description = "DynamoDB table of job records."
  value       = module.batchscore.table_name
}

output "queue_arns" {
  description = "Job queue ARNs keyed by priority name."
  value       = module.batchscore.queue_arns
}

output "queue_priorities" {
  description = "Batch scheduling priority of each queue, keyed by priority name."
  value       = module.batchscore.queue_priorities
}

output "compute_environment_arns" {
  description = "Compute environment ARNs keyed on_demand / spot."
  value       = module.batchscore.compute_environment_arns
}

output "job_definition_arn" {
  description = "Job definition ARN, revision included."
  value       = module.batchscore.job_definition_arn
}

output "job_definition_name" {
  description = "Job definition name (SubmitJob with the name alone takes the latest active revision)."
  value       = module.batchscore.job_definition_name
}

output "ecr_repository_url" {
  description = "ECR repository to push the job image to (tag it var.image_tag)."
  value       = module.batchscore.ecr_repository_url
}

output "image" {
  description = "Image the job definition runs."
  value       = module.batchscore.image
}

output "ingest_function_name" {
  description = "Lambda that ingests uploaded job configs."
  value       = module.batchscore.ingest_function_name
}

output "state_function_name" {
  description = "Lambda that records Batch job state changes."
  value       = module.batchscore.state_function_name
}

output "dead_letter_queue_url" {
  description = "SQS queue holding events both Lambdas failed to handle and events EventBridge could not deliver."
  value       = module.batchscore.dead_letter_queue_url
}

output "environment" {
  description = "The submitter's environment (names from config/env.py): what the CLI needs to talk to this stack."
  value       = module.batchscore.environment
}

output "job_log_group" {
  description = "CloudWatch Logs group of the scoring containers (`batchscore logs` reads it)."
  value       = module.batchscore.job_log_group
}

output "realtime_function_url" {
  description = "The endpoint's function URL; null unless enable_realtime (docs/endpoint.md)."
  value       = module.batchscore.realtime_function_url
}

output "realtime_function_name" {
  description = "The endpoint Lambda's name; null unless enable_realtime."
  value       = module.batchscore.realtime_function_name
}

output "notifications_topic_arn" {
  description = "The SNS topic finished and stuck jobs are announced on: subscribe to it (e-mail, chat, HTTPS)."
  value       = module.batchscore.notifications_topic_arn
}
