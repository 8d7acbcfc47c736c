# ---------------------------------------------------------------------------------------------
# Notifications: the SNS topic job notifications and alarms go to
# ---------------------------------------------------------------------------------------------
#
# PLACEHOLDER (branch ops-cost): the topic and its key belong to the notifications branch
# (ops-notify), whose notifications.tf replaces this file at merge. monitoring.tf needs only
# `aws_sns_topic.notifications` (its arn), and the key's policy must keep the CloudWatch
# statement below: alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns
# (its policy, which no one can edit, does not let cloudwatch.amazonaws.com use the key; the
# alarm history says "CloudWatch Alarms does not have authorization to access the SNS topic
# encryption key"), so the topic needs a customer-managed key that allows it.

data "aws_iam_policy_document" "notifications_key" {
  #checkov:skip=CKV_AWS_111:A key policy, not an identity policy: "*" is this key alone, and the account root holding kms:* on it is AWS's default key policy
  #checkov:skip=CKV_AWS_356:A key policy's Resource can only be "*" (the key it is attached to)
  #checkov:skip=CKV_AWS_109:The account administers its own key (AWS's default key policy); without it the key becomes unmanageable
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToTheTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "notifications" {
  description         = "${var.name}: encrypts the notifications topic (CloudWatch alarms may use it)"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.notifications_key.json
  tags                = local.tags
}

resource "aws_sns_topic" "notifications" {
  name              = "${var.name}-notifications"
  kms_master_key_id = aws_kms_key.notifications.arn
  tags              = local.tags
}
