# ---------------------------------------------------------------------------------------------
# Shared: naming, tags, account facts
# ---------------------------------------------------------------------------------------------

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # One source for every tag; resources merge their own Name on top.
  tags = merge({ "batchscore:stack" = var.name }, var.tags)
}

# No provider block here: a module that configures its own provider cannot be used with count,
# for_each or depends_on, and the region, credentials and endpoints are the caller's to choose
# (examples/minimal configures one; terraform test uses a mock_provider).
