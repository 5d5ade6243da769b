# Plans and applies the composition against a mocked provider: the one `terraform test` of
# what every root deploys. The variables are the local root's terraform.tfvars; tests/infra
# passes dummy zips with -var functions_build_dir=DIR.

variables {
  environment   = "local"
  account_id    = "123456789012"
  bucket_name   = "scones-local"
  force_destroy = true

  image_read_prefixes = ["test", "incoming"]
  threshold           = 0.93

  log_retention_days = 7
  workflow_log_level = "ALL"
  workflow_type      = "STANDARD"

  endpoint_instance_type           = "ml.m5.large"
  endpoint_instance_count          = 1
  data_capture_sampling_percentage = 100
  data_capture_expiration_days     = 7

  endpoint_5xx_alarm_threshold     = 1
  model_latency_alarm_threshold_ms = 1000
  needs_review_share_threshold     = 0.3
  min_accuracy                     = 0.85
}

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/scones-local-role"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::scones-local"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/scones-local"
    }
  }

  mock_resource "aws_lambda_layer_version" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:layer:scones-local-pillow:1"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:function:scones-local-function"
    }
  }

  mock_resource "aws_sfn_state_machine" {
    defaults = {
      arn = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-local-classify"
    }
  }

  mock_resource "aws_sagemaker_endpoint_configuration" {
    defaults = {
      name = "scones-local-20261130000000000000000001"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/0b1f4a52-7c3e-4d8e-9a41-2f5d6c7b8e90"
      key_id = "0b1f4a52-7c3e-4d8e-9a41-2f5d6c7b8e90"
    }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:us-east-1:123456789012:table/scones-local-results"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:scones-local-queue"
      id  = "https://sqs.us-east-1.amazonaws.com/123456789012/scones-local-queue"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:scones-local-alarms"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_sagemaker_prebuilt_ecr_image" {
    defaults = {
      registry_path = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

run "before_first_training" {
  command = apply

  assert {
    condition     = output.endpoint_deployed == false && output.model_name == null
    error_message = "Without model_package_arn the endpoint is left out."
  }

  assert {
    condition     = output.model_package_group_name == "scones-local-models" && output.min_accuracy == 0.85 && output.model_package_arn == null
    error_message = "The model package group and the gate exist before the first model, for training."
  }

  assert {
    condition     = output.bucket_name == "scones-local" && output.state_machine_name == "scones-local-classify"
    error_message = "Names come from project, environment and bucket_name."
  }

  assert {
    condition     = output.region == "us-east-1"
    error_message = "region is the provider's."
  }

  assert {
    condition     = output.sagemaker_role_arn == "arn:aws:iam::123456789012:role/scones-local-role"
    error_message = "The SageMaker role exists before any model, for training."
  }

  assert {
    condition = (
      output.dashboard_name == "scones-local-overview" &&
      output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:scones-local-alarms" &&
      output.alarm_names.workflow_failed == "scones-local-workflow-executions-failed" &&
      sort(keys(output.alarm_names.lambda_errors)) == sort(["serialize_image_data", "classify_image"]) &&
      output.alarm_names.endpoint_5xx == null && output.alarm_names.model_latency == null
    )
    error_message = "Monitoring covers the workflow and the functions but filterInferences (whose ThresholdConfidenceNotMet is business); endpoint alarms wait for the endpoint."
  }

  assert {
    condition = (
      output.alarm_names.dead_letters == { ingest = "scones-local-ingest-dlq-not-empty", review = "scones-local-review-dlq-not-empty" } &&
      output.alarm_names.needs_review == "scones-local-needs-review-share" &&
      length(output.alarm_names.workflow_stalled) == 2
    )
    error_message = "The service's alarms: both dead-letter queues, the needs-review share, timed-out and throttled executions."
  }

  assert {
    condition = (
      output.results_table_name == "scones-local-results" &&
      module.ingest.rule_arn == "arn:aws:events:us-east-1:123456789012:rule/scones-local-incoming" &&
      output.incoming_prefix == "incoming/"
    )
    error_message = "The trigger, table and queues are named from project and environment."
  }

  assert {
    condition     = jsondecode(module.workflow.definition).States.RecordClassified.Parameters.TableName == "scones-local-results"
    error_message = "The workflow writes the stack's results table."
  }
}

run "incoming_prefix_must_be_readable_by_serialize" {
  command = plan

  variables {
    incoming_prefix = "uploads/"
  }

  expect_failures = [var.incoming_prefix]
}

run "with_model" {
  command = apply

  variables {
    model_package_arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/scones-local-models/3"
    model_data_url    = "s3://scones-local/models/job-1/output/model.tar.gz"
  }

  assert {
    condition     = output.endpoint_deployed && output.endpoint_name == "scones-local-endpoint"
    error_message = "model_package_arn deploys the endpoint."
  }

  assert {
    condition = (
      module.model_endpoint.model_name == "scones-local-model-${substr(sha256(var.model_package_arn), 0, 12)}" &&
      output.model_package_arn == var.model_package_arn &&
      strcontains(module.workflow.definition, var.model_data_url)
    )
    error_message = "The endpoint serves the package; every answer records the package's artifact."
  }

  assert {
    condition     = output.data_capture_s3_uri == "s3://scones-local/data_capture"
    error_message = "Data capture goes to the project bucket."
  }

  assert {
    condition = output.function_names == {
      serialize_image_data = "scones-local-serialize-image-data"
      classify_image       = "scones-local-classify-image"
      filter_inferences    = "scones-local-filter-inferences"
    }
    error_message = "function_names lists the three functions."
  }

  assert {
    condition     = length(output.log_group_names) == 4 && output.log_group_names["workflow"] == "/aws/vendedlogs/states/scones-local-classify"
    error_message = "log_group_names covers the functions and the workflow."
  }

  assert {
    condition     = output.alarm_names.endpoint_5xx == "scones-local-endpoint-5xx-errors" && output.alarm_names.model_latency == "scones-local-endpoint-model-latency"
    error_message = "With the endpoint deployed, its alarms exist too."
  }
}

run "workflow_type_and_log_data_reach_the_per_image_machine" {
  command = plan

  variables {
    workflow_type                   = "EXPRESS"
    workflow_include_execution_data = true
  }

  assert {
    condition = (
      module.workflow.state_machine_type == "EXPRESS" &&
      jsondecode(module.workflow.definition).TimeoutSeconds == 300
    )
    error_message = "workflow_type reaches the workflow module: an Express machine of at most 5 minutes."
  }
}

run "classify_image_concurrency_follows_the_endpoint" {
  command = plan

  variables {
    endpoint_instance_count                   = 3
    endpoint_concurrent_requests_per_instance = 2
  }

  assert {
    condition     = module.functions.reserved_concurrent_executions["classify_image"] == 6
    error_message = "classifyImage must reserve instances x requests per instance."
  }

  assert {
    condition     = module.functions.reserved_concurrent_executions["serialize_image_data"] == -1 && module.functions.reserved_concurrent_executions["filter_inferences"] == -1
    error_message = "Only classifyImage reserves concurrency."
  }
}

run "serverless_endpoint_sizes_classify_image_to_its_max_concurrency" {
  command = plan

  variables {
    endpoint_serverless_config = { memory_size_in_mb = 2048, max_concurrency = 5 }
    enable_data_capture        = false
  }

  assert {
    condition     = module.functions.reserved_concurrent_executions["classify_image"] == 5
    error_message = "With a serverless endpoint, classifyImage must reserve its max_concurrency."
  }
}

run "environment_must_be_a_name_part" {
  command = plan

  variables {
    environment = "Dev_1"
  }

  expect_failures = [var.environment]
}
