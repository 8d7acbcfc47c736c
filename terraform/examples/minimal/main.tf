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

  region     = var.region
  vpc_id     = data.aws_vpc.default.id
  subnet_ids = data.aws_subnets.default.ids
  tags       = { owner = "data-science" }
}

output "jobs_bucket" {
  description = "Upload job configs here, under jobs/."
  value       = module.batchscore.jobs_bucket
}

output "queue_arns" {
  description = "Job queues by priority name."
  value       = module.batchscore.queue_arns
}

output "environment" {
  description = "What `batchscore` needs to talk to this stack."
  value       = module.batchscore.environment
}
