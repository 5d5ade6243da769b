# The trigger: a photo created under the incoming prefix starts the classification workflow,
# with no operator. S3 sends the bucket's events to EventBridge; a rule picks Object Created
# under the prefix and starts the state machine with the workflow's input.

data "aws_partition" "this" {}

locals {
  rule_name = "${var.name_prefix}-incoming"
  dlq_name  = "${var.name_prefix}-ingest-dlq"
  # The rule's ARN is known before it exists, so the key policy and the DLQ policy can name it
  # without a dependency cycle (module results owns the key).
  rule_arn = "arn:${data.aws_partition.this.partition}:events:${var.region}:${var.account_id}:rule/${local.rule_name}"
}

# S3 has one notification configuration per bucket; this is it. EventBridge delivery needs no
# destination permissions: https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html
resource "aws_s3_bucket_notification" "this" {
  bucket      = var.bucket_name
  eventbridge = true
}

resource "aws_cloudwatch_event_rule" "this" {
  name        = local.rule_name
  description = "Object Created under s3://${var.bucket_name}/${var.incoming_prefix} starts ${var.state_machine_name}."

  # S3's EventBridge events: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.bucket_name] }
      object = { key = [{ prefix = var.incoming_prefix }] }
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule      = aws_cloudwatch_event_rule.this.name
  target_id = "classify"
  arn       = var.state_machine_arn
  role_arn  = aws_iam_role.this.arn

  # The workflow's input (the same as `make classify` sends). Placeholders outside quotes
  # insert the value as JSON, so a key with quotes, spaces or unicode stays one valid string:
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
  input_transformer {
    input_paths = {
      bucket  = "$.detail.bucket.name"
      key     = "$.detail.object.key"
      version = "$.detail.object.version-id"
    }
    input_template = <<-JSON
      {"s3_bucket": <bucket>, "s3_key": <key>, "image_data": "", "s3_version": <version>}
    JSON
  }

  retry_policy {
    maximum_event_age_in_seconds = var.maximum_event_age_seconds
    maximum_retry_attempts       = var.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.this.arn
  }
}

resource "aws_sqs_queue" "this" {
  name                      = local.dlq_name
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to notice the alarm and re-run.

  tags = var.tags
}

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "TheIngestRuleDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.rule_arn]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy    = data.aws_iam_policy_document.dlq.json
}
