# ---------------------------------------------------------------------------------------------
# Array commit: the state Lambda submits an array job's commit job (submitter/array_commit.py)
# ---------------------------------------------------------------------------------------------

# On an array parent's SUCCEEDED (every child succeeded) the state Lambda submits one small
# commit job, `python -m job commit`, on the array's queue with the stack's job definition. It
# may submit only there, and terminate only a commit job it submitted twice (a repeated event
# that lost the race to attach its commit job to the record). The commit sends no tags, so no
# batch:TagResource is needed.
data "aws_iam_policy_document" "state_commit" {
  statement {
    sid       = "SubmitArrayCommits"
    actions   = ["batch:SubmitJob"]
    resources = concat(local.queue_arns, local.job_definition_arns)
  }

  statement {
    sid       = "TerminateDuplicateCommits"
    actions   = ["batch:TerminateJob"]
    resources = ["arn:${local.partition}:batch:${local.region}:${local.account_id}:job/*"]
  }
}

resource "aws_iam_role_policy" "state_commit" {
  name   = "state-array-commit"
  role   = aws_iam_role.this["state"].id
  policy = data.aws_iam_policy_document.state_commit.json
}
