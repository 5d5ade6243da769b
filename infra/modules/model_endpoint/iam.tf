data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "SageMakerAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-sagemaker"
  description        = "SageMaker execution role: model hosting with data capture, and training jobs of ${var.name_prefix}."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadModelArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.model_prefix}/*"]
  }

  dynamic "statement" {
    for_each = var.enable_data_capture ? [1] : []

    content {
      sid       = "WriteDataCapture"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arn}/${var.data_capture_prefix}/*"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_training_access ? [1] : []

    content {
      sid       = "ListTrainingInputs"
      actions   = ["s3:ListBucket"]
      resources = [local.bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = flatten([for p in concat(var.training_input_prefixes, [var.model_prefix]) : [p, "${p}/*"]])
      }
    }
  }

  dynamic "statement" {
    for_each = var.enable_training_access && length(var.training_input_prefixes) > 0 ? [1] : []

    content {
      sid       = "ReadTrainingInputs"
      actions   = ["s3:GetObject"]
      resources = [for p in var.training_input_prefixes : "${local.bucket_arn}/${p}/*"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_training_access ? [1] : []

    content {
      sid       = "WriteModelArtifacts"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arn}/${var.model_prefix}/*"]
    }
  }

  statement {
    sid     = "WriteSageMakerLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "arn:${data.aws_partition.this.partition}:logs:${data.aws_region.this.name}:${var.account_id}:log-group:/aws/sagemaker/Endpoints/${local.endpoint_name}",
      "arn:${data.aws_partition.this.partition}:logs:${data.aws_region.this.name}:${var.account_id}:log-group:/aws/sagemaker/Endpoints/${local.endpoint_name}:*",
      "arn:${data.aws_partition.this.partition}:logs:${data.aws_region.this.name}:${var.account_id}:log-group:/aws/sagemaker/TrainingJobs",
      "arn:${data.aws_partition.this.partition}:logs:${data.aws_region.this.name}:${var.account_id}:log-group:/aws/sagemaker/TrainingJobs:*",
    ]
  }

  statement {
    sid = "PutSageMakerMetrics"
    # PutMetricData supports no resource-level permissions; the namespace condition scopes it.
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name_prefix}-sagemaker-policy"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
