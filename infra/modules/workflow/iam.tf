# Step Functions assumes each machine's role only for that machine, in this account: the
# confused-deputy keys Step Functions documents for a state machine's role (aws:SourceAccount,
# and aws:SourceArn the state machine's ARN, known here from its name)
# (Step Functions Developer Guide, "Cross-service confused deputy prevention"; its example
# trusts ArnLike aws:SourceArn arn:aws:states:<region>:<account>:stateMachine:*).
data "aws_iam_policy_document" "assume_role" {
  for_each = {
    this  = local.arn
    batch = local.batch_arn
  }

  statement {
    sid     = "StatesAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${local.name}-sfn"
  description        = "Role of the ${local.name} state machine: invoke its three functions, record results, queue reviews, log, trace."
  assume_role_policy = data.aws_iam_policy_document.assume_role["this"].json

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
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
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

# The batch machine's role: what the per-image states need, plus listing the image prefixes,
# HeadObject there, reading the results table, writing its own result files, and running its
# own Distributed Map children.
# https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html
resource "aws_iam_role" "batch" {
  name               = "${local.batch_name}-sfn"
  description        = "Role of the ${local.batch_name} state machine: list and read image prefixes, classify each image as ${local.name} does, write batch results."
  assume_role_policy = data.aws_iam_policy_document.assume_role["batch"].json

  tags = var.tags
}

data "aws_iam_policy_document" "batch" {
  # Everything the per-image states do, from the same document.
  source_policy_documents = [data.aws_iam_policy_document.this.json]

  statement {
    sid       = "ReadResults"
    actions   = ["dynamodb:GetItem"]
    resources = [var.results_table_arn]
  }

  statement {
    sid       = "ListImagePrefixes"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${data.aws_partition.this.partition}:s3:::${var.bucket_name}"]

    # ListObjectsV2 with a Prefix under one of the image prefixes, and nothing else.
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in var.batch_read_prefixes : "${p}/*"]
    }
  }

  statement {
    sid       = "HeadImages"
    actions   = ["s3:GetObject"]
    resources = [for p in var.batch_read_prefixes : "arn:${data.aws_partition.this.partition}:s3:::${var.bucket_name}/${p}/*"]
  }

  statement {
    sid = "WriteBatchResults"
    # https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html#resultwriter-iam-policies
    actions   = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
    resources = ["arn:${data.aws_partition.this.partition}:s3:::${var.bucket_name}/${var.batch_results_prefix}/*"]
  }

  statement {
    sid       = "RunOwnChildren"
    actions   = ["states:StartExecution"]
    resources = [local.batch_arn]
  }

  statement {
    sid       = "FollowOwnChildren"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = ["arn:${data.aws_partition.this.partition}:states:${data.aws_region.this.name}:${var.account_id}:execution:${local.batch_name}/*"]
  }
}

resource "aws_iam_role_policy" "batch" {
  name   = "${local.batch_name}-sfn-policy"
  role   = aws_iam_role.batch.id
  policy = data.aws_iam_policy_document.batch.json
}
