# Two SageMaker execution roles: hosting (the model of the endpoint) and training (the jobs of
# `make train`). Each trust policy carries the confused-deputy keys SageMaker documents: for
# inference aws:SourceArn must be exactly arn:<partition>:sagemaker:<region>:<account>:* ("Do not
# replace the aws:SourceArn in this template with the full ARN of a specific model or
# endpoint"), for training jobs it may name the jobs (training-job/<prefix>-*)
# (https://docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html).

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "SageMakerHostsThisEnvironmentsModels"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["${local.sagemaker_arn_prefix}:*"]
    }
  }
}

# The hosting role keeps the address and name the single role had, so existing states neither
# move nor replace it (and the model, which names it, is not rebuilt).
resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-sagemaker"
  description        = "SageMaker hosting role of ${var.name_prefix}: reads the deployed model artifact, writes only data capture."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  # Only the folder of the artifact the endpoint serves (models/<job>/output/), once there is
  # one; usually in the project bucket, but a package may point elsewhere (the soak's does).
  dynamic "statement" {
    for_each = local.artifact_location == null ? [] : [local.artifact_location]

    content {
      sid       = "ReadTheDeployedArtifact"
      actions   = ["s3:GetObject"]
      resources = ["arn:${data.aws_partition.this.partition}:s3:::${statement.value[0]}/${statement.value[1]}/*"]
    }
  }

  # SageMaker writes captured requests with the execution role; nothing else is written.
  dynamic "statement" {
    for_each = var.enable_data_capture ? [1] : []

    content {
      sid       = "WriteDataCapture"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arn}/${var.data_capture_prefix}/*"]
    }
  }

  statement {
    sid     = "WriteEndpointLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "${local.logs_arn_prefix}:log-group:/aws/sagemaker/Endpoints/${local.endpoint_name}",
      "${local.logs_arn_prefix}:log-group:/aws/sagemaker/Endpoints/${local.endpoint_name}:*",
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

data "aws_iam_policy_document" "training_assume_role" {
  statement {
    sid     = "SageMakerRunsThisEnvironmentsTrainingJobs"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["${local.sagemaker_arn_prefix}:training-job/${var.training_job_name_prefix}-*"]
    }
  }
}

resource "aws_iam_role" "training" {
  count = var.enable_training_access ? 1 : 0

  name               = "${var.name_prefix}-sagemaker-training"
  description        = "SageMaker training role of ${var.name_prefix}: reads the data channels, writes only its jobs' ${var.model_prefix}/${var.training_job_name_prefix}-*/ folders."
  assume_role_policy = data.aws_iam_policy_document.training_assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "training" {
  statement {
    sid       = "ListTrainingInputs"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for p in var.training_input_prefixes : [p, "${p}/*"]])
    }
  }

  dynamic "statement" {
    for_each = length(var.training_input_prefixes) > 0 ? [1] : []

    content {
      sid       = "ReadTrainingInputs"
      actions   = ["s3:GetObject"]
      resources = [for p in var.training_input_prefixes : "${local.bucket_arn}/${p}/*"]
    }
  }

  # A job writes <S3OutputPath>/<job name>/output/model.tar.gz; the jobs `make train` starts
  # are named <training_job_name_prefix>-<timestamp>-<hex> (training/job_request.py).
  statement {
    sid       = "WriteOwnJobsArtifacts"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/${var.model_prefix}/${var.training_job_name_prefix}-*/*"]
  }

  statement {
    sid     = "WriteTrainingLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "${local.logs_arn_prefix}:log-group:/aws/sagemaker/TrainingJobs",
      "${local.logs_arn_prefix}:log-group:/aws/sagemaker/TrainingJobs:*",
    ]
  }

  statement {
    sid       = "PutTrainingMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*"]
    }
  }
}

resource "aws_iam_role_policy" "training" {
  count = var.enable_training_access ? 1 : 0

  name   = "${var.name_prefix}-sagemaker-training-policy"
  role   = aws_iam_role.training[0].id
  policy = data.aws_iam_policy_document.training.json
}
