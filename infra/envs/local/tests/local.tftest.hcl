# Plans and applies the local root against a mocked provider, so it is checked before (and
# without) the local cloud. tests/infra passes dummy zips with -var functions_build_dir=DIR.

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
    error_message = "Without model_data_url the endpoint is left out."
  }

  assert {
    condition     = output.bucket_name == "scones-local" && output.state_machine_name == "scones-local-classify"
    error_message = "Names come from terraform.tfvars."
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
      length(output.alarm_names.lambda_errors) == 3 &&
      output.alarm_names.endpoint_5xx == null && output.alarm_names.model_latency == null
    )
    error_message = "Monitoring covers the workflow and the functions; endpoint alarms wait for the endpoint."
  }
}

run "with_model" {
  command = apply

  variables {
    model_data_url = "s3://scones-local/models/job-1/output/model.tar.gz"
  }

  assert {
    condition     = output.endpoint_deployed && output.endpoint_name == "scones-local-endpoint"
    error_message = "model_data_url deploys the endpoint."
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

run "local_cloud_url_must_be_a_base_url" {
  command = plan

  variables {
    local_cloud_endpoint = "127.0.0.1:4566/"
  }

  expect_failures = [var.local_cloud_endpoint]
}
