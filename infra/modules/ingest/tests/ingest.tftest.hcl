# Offline unit tests of the ingest module: `terraform test` (mocked AWS provider).

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/scones-test-incoming-events"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:scones-test-ingest-dlq"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/scones-test-ingest-dlq"
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
}

variables {
  name_prefix        = "scones-test"
  account_id         = "123456789012"
  region             = "us-east-1"
  bucket_name        = "scones-test-bucket"
  state_machine_arn  = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify"
  state_machine_name = "scones-test-classify"
  kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/0b1f4a52-7c3e-4d8e-9a41-2f5d6c7b8e90"
}

run "bucket_events_reach_the_rule" {
  command = apply

  assert {
    condition     = aws_s3_bucket_notification.this.bucket == "scones-test-bucket" && aws_s3_bucket_notification.this.eventbridge
    error_message = "The bucket sends its events to EventBridge."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this.event_pattern) == {
      source        = ["aws.s3"]
      "detail-type" = ["Object Created"]
      detail = {
        bucket = { name = ["scones-test-bucket"] }
        object = { key = [{ prefix = "incoming/" }] }
      }
    }
    error_message = "The rule matches Object Created for this bucket under the incoming prefix, nothing else."
  }
}

run "target_starts_the_workflow_with_its_input" {
  command = apply

  assert {
    condition     = aws_cloudwatch_event_target.this.arn == var.state_machine_arn && aws_cloudwatch_event_target.this.role_arn == aws_iam_role.this.arn
    error_message = "The target is the state machine, started with the module's role."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.this.input_transformer[0].input_paths == tomap({
        bucket  = "$.detail.bucket.name"
        key     = "$.detail.object.key"
        version = "$.detail.object.version-id"
      }) &&
      trimspace(aws_cloudwatch_event_target.this.input_transformer[0].input_template) == "{\"s3_bucket\": <bucket>, \"s3_key\": <key>, \"image_data\": \"\", \"s3_version\": <version>}"
    )
    error_message = "The input transformer builds the workflow's input from the event's bucket, key and version id."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.this.retry_policy[0].maximum_retry_attempts == 24 &&
      aws_cloudwatch_event_target.this.retry_policy[0].maximum_event_age_in_seconds == 3600 &&
      aws_cloudwatch_event_target.this.dead_letter_config[0].arn == aws_sqs_queue.this.arn
    )
    error_message = "A start that keeps failing is retried, then dead-lettered."
  }

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn
    error_message = "The dead-letter queue is encrypted with the service's key."
  }
}

run "role_may_only_start_that_state_machine" {
  command = apply

  assert {
    condition = [
      for s in data.aws_iam_policy_document.this.statement : { actions = s.actions, resources = s.resources }
    ] == [{ actions = toset(["states:StartExecution"]), resources = toset([var.state_machine_arn]) }]
    error_message = "The target's role may start exactly the classification state machine."
  }

  assert {
    condition = {
      for c in one(data.aws_iam_policy_document.assume_role.statement).condition : c.variable => "${c.test} ${join(",", c.values)}"
      } == {
      "aws:SourceAccount" = "StringEquals 123456789012"
      "aws:SourceArn"     = "ArnEquals arn:aws:events:us-east-1:123456789012:rule/scones-test-incoming"
    }
    error_message = "Only EventBridge in this account, for the ingest rule, assumes the role."
  }

  assert {
    condition = length(one(data.aws_iam_policy_document.dlq.statement).condition) == 1 && alltrue([
      for c in one(data.aws_iam_policy_document.dlq.statement).condition :
      c.test == "ArnEquals" && c.variable == "aws:SourceArn" && length(c.values) == 1 && contains(c.values, "arn:aws:events:us-east-1:123456789012:rule/scones-test-incoming")
    ])
    error_message = "Only the ingest rule may write to the dead-letter queue."
  }
}

run "prefix_must_end_with_a_slash" {
  command = plan

  variables {
    incoming_prefix = "incoming"
  }

  expect_failures = [var.incoming_prefix]
}
