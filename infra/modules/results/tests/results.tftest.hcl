# Offline unit tests of the results module: `terraform test` (mocked AWS provider).

mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/0b1f4a52-7c3e-4d8e-9a41-2f5d6c7b8e90"
      key_id = "0b1f4a52-7c3e-4d8e-9a41-2f5d6c7b8e90"
    }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:us-east-1:123456789012:table/scones-test-results"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:scones-test-review"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/scones-test-review"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
}

variables {
  name_prefix           = "scones-test"
  account_id            = "123456789012"
  eventbridge_rule_arns = ["arn:aws:events:us-east-1:123456789012:rule/scones-test-incoming"]
}

run "table_keys_billing_recovery_encryption" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.this.name == "scones-test-results" &&
      aws_dynamodb_table.this.hash_key == "s3_key" && aws_dynamodb_table.this.range_key == "version" &&
      aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    )
    error_message = "One on-demand item per S3 key and object version, in <name_prefix>-results."
  }

  assert {
    condition = (
      aws_dynamodb_table.this.point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this.server_side_encryption[0].enabled &&
      aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == aws_kms_key.this.arn &&
      aws_kms_key.this.enable_key_rotation
    )
    error_message = "Point-in-time recovery on; encrypted with the module's rotated customer managed key."
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled == false
    error_message = "Deletion protection is off unless asked for (prod asks)."
  }

  assert {
    condition = one([
      for index in aws_dynamodb_table.this.global_secondary_index : index
      if index.name == "status-finished_at" && index.hash_key == "status" && index.range_key == "finished_at" && index.projection_type == "ALL"
    ]) != null
    error_message = "The status index lets make results and monitoring query by status and time."
  }
}

run "queues_encrypted_with_a_dead_letter_queue" {
  command = apply

  assert {
    condition = (
      aws_sqs_queue.review.name == "scones-test-review" &&
      aws_sqs_queue.review.kms_master_key_id == aws_kms_key.this.arn &&
      aws_sqs_queue.review_dlq.kms_master_key_id == aws_kms_key.this.arn
    )
    error_message = "The review queue and its DLQ are encrypted with the customer managed key."
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue.review.redrive_policy).deadLetterTargetArn == aws_sqs_queue.review_dlq.arn &&
      jsondecode(aws_sqs_queue.review.redrive_policy).maxReceiveCount == 5
    )
    error_message = "A review message received five times moves to the review DLQ."
  }

  assert {
    condition     = output.review_queue_url == aws_sqs_queue.review.id && output.table_name == "scones-test-results"
    error_message = "Outputs name the table and the queue."
  }
}

run "key_policy_lets_only_the_named_rules_use_the_key_as_a_service" {
  command = apply

  assert {
    condition = length(flatten([for s in data.aws_iam_policy_document.key.statement : s.condition if s.sid == "EventBridgeWritesTheEncryptedDeadLetterQueue"])) == 1 && alltrue(flatten([
      for s in data.aws_iam_policy_document.key.statement : [
        for c in s.condition :
        c.test == "ArnEquals" && c.variable == "aws:SourceArn" && length(c.values) == 1 && contains(c.values, "arn:aws:events:us-east-1:123456789012:rule/scones-test-incoming")
      ] if s.sid == "EventBridgeWritesTheEncryptedDeadLetterQueue"
    ]))
    error_message = "EventBridge may use the key only on behalf of the ingest rule."
  }
}

run "deletion_protection_when_asked" {
  command = plan

  variables {
    deletion_protection = true
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "deletion_protection turns on the table's deletion protection."
  }
}

run "rule_arns_must_be_rule_arns" {
  command = plan

  variables {
    eventbridge_rule_arns = ["arn:aws:sqs:us-east-1:123456789012:not-a-rule"]
  }

  expect_failures = [var.eventbridge_rule_arns]
}
