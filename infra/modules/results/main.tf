# Where the service's answers live: the results table routing reads, the review queue a human
# works from, and the key that encrypts both (and the ingest DLQ, which the ingest module owns).

data "aws_partition" "this" {}

data "aws_region" "this" {}

locals {
  table_name        = "${var.name_prefix}-results"
  review_queue_name = "${var.name_prefix}-review"
  account_arn       = "arn:${data.aws_partition.this.partition}:iam::${var.account_id}:root"
  # Built the way the services form them, so the policies that name them are known at plan time
  # and appear in full in pull-request plans.
  table_arn        = "arn:${data.aws_partition.this.partition}:dynamodb:${data.aws_region.this.name}:${var.account_id}:table/${local.table_name}"
  review_queue_arn = "arn:${data.aws_partition.this.partition}:sqs:${data.aws_region.this.name}:${var.account_id}:${local.review_queue_name}"
  review_queue_url = "https://sqs.${data.aws_region.this.name}.amazonaws.com/${var.account_id}/${local.review_queue_name}"
}

# One customer managed key for the service's data at rest. The account's IAM policies decide
# who uses it (the workflow role, operators); EventBridge gets a grant in the key policy because
# it writes to the encrypted ingest DLQ as a service, not through an IAM role:
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:A key policy: Resource "*" is this key alone; its principals are the account (through IAM), the workflow role via DynamoDB/SQS, and EventBridge for the named rules.
  #checkov:skip=CKV_AWS_356:A key policy: Resource "*" means this key, the only resource a key policy can name.
  #checkov:skip=CKV_AWS_109:A key policy: the account administers its own key through IAM, as in AWS's default key policy.
  statement {
    sid       = "AccountAdministersAndDelegatesToIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account_arn]
    }
  }

  # The roles that write the table and the queue (the workflow's) use the key through those
  # services only. Granted here, in the key policy, so their IAM policies need not name a key
  # ARN that is unknown until the key exists.
  dynamic "statement" {
    for_each = length(var.key_user_role_arns) > 0 ? [1] : []

    content {
      sid       = "ServiceRolesUseTheKeyThroughDynamoDBAndSQS"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.key_user_role_arns
      }

      # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${data.aws_region.this.name}.amazonaws.com", "sqs.${data.aws_region.this.name}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.eventbridge_rule_arns) > 0 ? [1] : []

    content {
      sid       = "EventBridgeWritesTheEncryptedDeadLetterQueue"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = var.eventbridge_rule_arns
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Results table, review queue and ingest dead-letter queue of ${var.name_prefix}."
  enable_key_rotation     = true
  deletion_window_in_days = var.key_deletion_window_days
  policy                  = data.aws_iam_policy_document.key.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-results"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_dynamodb_table" "this" {
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  # One item per object version: the S3 key, then the version id the workflow classified.
  hash_key  = "s3_key"
  range_key = "version"

  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "s3_key"
    type = "S"
  }

  attribute {
    name = "version"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "finished_at"
    type = "S"
  }

  # `make results STATUS=needs_review SINCE=1h` and the monitoring report query this index
  # instead of scanning the table.
  global_secondary_index {
    name            = "status-finished_at"
    hash_key        = "status"
    range_key       = "finished_at"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  tags = var.tags
}

resource "aws_sqs_queue" "review_dlq" {
  name                      = "${local.review_queue_name}-dlq"
  kms_master_key_id         = aws_kms_key.this.arn
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to notice the alarm.

  tags = var.tags
}

resource "aws_sqs_queue" "review" {
  name                              = local.review_queue_name
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = var.review_message_max_age_seconds
  visibility_timeout_seconds        = var.review_visibility_timeout_seconds

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.review_dlq.arn
    maxReceiveCount     = var.review_max_receive_count
  })

  tags = var.tags
}
