data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "EventBridgeAssumesForTheIngestRule"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }

    # EventBridge sets aws:SourceArn to the ARN of the rule that sends the event
    # (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html).
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.rule_arn]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${local.rule_name}-events"
  description        = "Role of the ${local.rule_name} rule: start ${var.state_machine_name}, nothing else."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "StartTheClassificationWorkflow"
    actions   = ["states:StartExecution"]
    resources = [var.state_machine_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${local.rule_name}-start-execution"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
