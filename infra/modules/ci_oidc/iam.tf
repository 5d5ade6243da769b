# Who may assume the plan role: a GitHub Actions job of one repository, running in one
# environment, with the STS audience. StringEquals on both claims: never StringLike with
# wildcards, never ForAllValues (true when a claim is absent).
data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "GitHubActionsPlanEnvironment"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = [local.audience]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [local.subject]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = "Terraform plan from GitHub Actions (${var.github_repository}, environment ${var.github_environment}): read-only, plus the state's lock."
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration

  tags = var.tags
}

# The S3 backend's needs with use_lockfile (Terraform docs, S3 backend, "S3 Bucket
# Permissions"): list the bucket, read the state, and get, put and delete <key>.tflock.
# No s3:PutObject on the state itself: a plan never writes it.
data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [local.state_object_arn]
  }

  statement {
    sid       = "HoldStateLock"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.lock_object_arn]
  }

  dynamic "statement" {
    for_each = var.state_kms_key_arn == null ? [] : [var.state_kms_key_arn]

    content {
      sid       = "StateKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  # ReadOnlyAccess reads data too; a plan reads only configuration. Deny the data reads it
  # would allow: objects other than the state and its lock, table items, queue messages,
  # parameters, secrets and log events.
  statement {
    sid           = "DenyObjectReadsButTheState"
    effect        = "Deny"
    actions       = ["s3:GetObject", "s3:GetObjectVersion"]
    not_resources = [local.state_object_arn, local.lock_object_arn]
  }

  statement {
    sid    = "DenyDataReads"
    effect = "Deny"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:GetRecords",
      "dynamodb:Query",
      "dynamodb:Scan",
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
      "logs:StartQuery",
      "secretsmanager:GetSecretValue",
      "sqs:ReceiveMessage",
      "ssm:GetParameter",
      "ssm:GetParameterHistory",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.role_name}-state"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# Describe, Get and List on every service, kept current by AWS as the stack gains services.
resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = local.read_policy_arn
}
