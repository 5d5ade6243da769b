data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "StatesAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${local.name}-sfn"
  description        = "Role of the ${local.name} state machine: invoke its three functions, record results, queue reviews, log, trace."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "InvokeWorkflowFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = flatten([for arn in local.function_arns : [arn, "${arn}:*"]])
  }

  statement {
    sid       = "RecordResults"
    actions   = ["dynamodb:PutItem"]
    resources = [var.results_table_arn]
  }

  statement {
    sid       = "QueueForReview"
    actions   = ["sqs:SendMessage"]
    resources = [var.review_queue_arn]
  }

  statement {
    sid = "DeliverExecutionLogs"
    # The CloudWatch Logs delivery actions support no resource-level permissions.
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid = "XRayTracing"
    # X-Ray's trace actions support no resource-level permissions.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${local.name}-sfn-policy"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
