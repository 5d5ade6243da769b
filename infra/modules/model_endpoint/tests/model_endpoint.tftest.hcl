# Offline unit tests of the model_endpoint module: `terraform test` (mocked AWS provider).

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/scones-test-sagemaker"
    }
  }

  mock_resource "aws_sagemaker_model" {
    defaults = {
      arn = "arn:aws:sagemaker:us-east-1:123456789012:model/scones-test-model"
    }
  }

  mock_resource "aws_sagemaker_model_package_group" {
    defaults = {
      arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/scones-test-models"
    }
  }

  mock_resource "aws_sagemaker_endpoint_configuration" {
    defaults = {
      arn  = "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/scones-test-config"
      name = "scones-test-20261130000000000000000001"
    }
  }

  mock_resource "aws_sagemaker_endpoint" {
    defaults = {
      arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/scones-test-endpoint"
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
      registry_id   = "811284229777"
      registry_path = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name_prefix          = "scones-test"
  account_id           = "123456789012"
  bucket_name          = "scones-test-bucket"
  model_package_arn    = "arn:aws:sagemaker:us-east-1:123456789012:model-package/scones-test-models/1"
  model_data_url       = "s3://scones-test-bucket/models/vehicle-classifier-20261130-000000-abcd/output/model.tar.gz"
  rollback_alarm_names = ["scones-test-endpoint-5xx-errors", "scones-test-endpoint-model-latency"]
}

run "provisioned_endpoint_with_data_capture" {
  command = apply

  assert {
    condition = (
      aws_sagemaker_model.this[0].primary_container[0].model_package_name == var.model_package_arn &&
      aws_sagemaker_model.this[0].primary_container[0].image == null &&
      aws_sagemaker_model.this[0].primary_container[0].model_data_url == null &&
      aws_sagemaker_model.this[0].execution_role_arn == aws_iam_role.this.arn
    )
    error_message = "The model is the promoted model package (its image and artifact come from the package), not a raw S3 URI."
  }

  assert {
    condition     = aws_sagemaker_model.this[0].name == "scones-test-model-${substr(sha256(var.model_package_arn), 0, 12)}"
    error_message = "The model name is derived from a hash of model_package_arn."
  }

  assert {
    condition = (
      aws_sagemaker_model_package_group.this.model_package_group_name == "scones-test-models" &&
      output.model_package_group_name == "scones-test-models" &&
      strcontains(aws_sagemaker_model_package_group.this.model_package_group_description, "0.9")
    )
    error_message = "Each environment has its own model package group, and its description states the gate."
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].name_prefix == "scones-test-"
    error_message = "Endpoint configurations get generated names."
  }

  assert {
    condition = (
      aws_sagemaker_endpoint_configuration.this[0].production_variants[0].instance_type == "ml.m5.large" &&
      aws_sagemaker_endpoint_configuration.this[0].production_variants[0].initial_instance_count == 1 &&
      aws_sagemaker_endpoint_configuration.this[0].production_variants[0].model_name == aws_sagemaker_model.this[0].name &&
      length(aws_sagemaker_endpoint_configuration.this[0].production_variants[0].serverless_config) == 0
    )
    error_message = "The default variant is provisioned and serves the model."
  }

  assert {
    condition = (
      aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].enable_capture &&
      aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].initial_sampling_percentage == 100 &&
      aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].destination_s3_uri == "s3://scones-test-bucket/data_capture" &&
      toset([for o in aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].capture_options : o.capture_mode]) == toset(["Input", "Output"]) &&
      aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].capture_content_type_header[0].json_content_types == toset(["application/json"])
    )
    error_message = "Data capture records input and output (images base64, JSON output as text) to the bucket."
  }

  assert {
    condition     = aws_sagemaker_endpoint.this[0].name == "scones-test-endpoint" && aws_sagemaker_endpoint.this[0].endpoint_config_name == aws_sagemaker_endpoint_configuration.this[0].name
    error_message = "The endpoint has a stable name and uses the current configuration."
  }

  assert {
    condition     = output.endpoint_arn == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/scones-test-endpoint"
    error_message = "endpoint_arn is built the way SageMaker forms it."
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.this.statement : s.sid => [s.actions, s.resources]
      } == {
      ReadTheDeployedArtifact = [toset(["s3:GetObject"]), toset(["arn:aws:s3:::scones-test-bucket/models/vehicle-classifier-20261130-000000-abcd/output/*"])]
      WriteDataCapture        = [toset(["s3:PutObject"]), toset(["arn:aws:s3:::scones-test-bucket/data_capture/*"])]
      WriteEndpointLogs = [
        toset(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]),
        toset([
          "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/scones-test-endpoint",
          "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/scones-test-endpoint:*",
        ]),
      ]
      PutSageMakerMetrics = [toset(["cloudwatch:PutMetricData"]), toset(["*"])]
    }
    error_message = "The hosting role reads only the deployed artifact's folder and writes only data capture."
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.training.statement : s.sid => [s.actions, s.resources]
      } == {
      ListTrainingInputs    = [toset(["s3:ListBucket"]), toset(["arn:aws:s3:::scones-test-bucket"])]
      ReadTrainingInputs    = [toset(["s3:GetObject"]), toset([for p in ["train", "validation", "train_lst", "validation_lst"] : "arn:aws:s3:::scones-test-bucket/${p}/*"])]
      WriteOwnJobsArtifacts = [toset(["s3:PutObject"]), toset(["arn:aws:s3:::scones-test-bucket/models/vehicle-classifier-*/*"])]
      WriteTrainingLogs = [
        toset(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]),
        toset([
          "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs",
          "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs:*",
        ]),
      ]
      PutTrainingMetrics = [toset(["cloudwatch:PutMetricData"]), toset(["*"])]
    }
    error_message = "The training role reads the data channels and writes only its jobs' model folders."
  }

  assert {
    condition = (
      { for c in data.aws_iam_policy_document.assume_role.statement[0].condition : c.variable => "${c.test} ${join(",", c.values)}" } == {
        "aws:SourceAccount" = "StringEquals 123456789012"
        "aws:SourceArn"     = "ArnLike arn:aws:sagemaker:us-east-1:123456789012:*"
      } &&
      { for c in data.aws_iam_policy_document.training_assume_role.statement[0].condition : c.variable => "${c.test} ${join(",", c.values)}" } == {
        "aws:SourceAccount" = "StringEquals 123456789012"
        "aws:SourceArn"     = "ArnLike arn:aws:sagemaker:us-east-1:123456789012:training-job/vehicle-classifier-*"
      }
    )
    error_message = "Both roles trust SageMaker only from this account, with the SourceArn SageMaker documents."
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && output.autoscaling_resource_id == null
    error_message = "Without autoscaling the variant keeps its fixed count."
  }
}

run "new_package_replaces_the_model" {
  command = plan

  variables {
    model_package_arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/scones-test-models/2"
  }

  assert {
    condition     = aws_sagemaker_model.this[0].name != run.provisioned_endpoint_with_data_capture.model_name
    error_message = "A new package must give a new model name, so that the model is replaced and the endpoint rolls."
  }
}

run "autoscaled_variant" {
  command = plan

  variables {
    initial_instance_count = 2
    autoscaling            = { min_capacity = 2, max_capacity = 4, target_invocations_per_instance = 600 }
  }

  assert {
    condition = (
      aws_appautoscaling_target.this[0].service_namespace == "sagemaker" &&
      aws_appautoscaling_target.this[0].scalable_dimension == "sagemaker:variant:DesiredInstanceCount" &&
      aws_appautoscaling_target.this[0].resource_id == "endpoint/scones-test-endpoint/variant/AllTraffic" &&
      aws_appautoscaling_target.this[0].min_capacity == 2 && aws_appautoscaling_target.this[0].max_capacity == 4
    )
    error_message = "The provisioned variant's instance count scales between min and max."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.this[0].policy_type == "TargetTrackingScaling" &&
      aws_appautoscaling_policy.this[0].target_tracking_scaling_policy_configuration[0].target_value == 600 &&
      aws_appautoscaling_policy.this[0].target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 300 &&
      aws_appautoscaling_policy.this[0].target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 60 &&
      aws_appautoscaling_policy.this[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "SageMakerVariantInvocationsPerInstance"
    )
    error_message = "The policy tracks invocations per instance, with the default cooldowns."
  }
}

run "serverless_variant_does_not_scale" {
  command = plan

  variables {
    serverless_config   = { memory_size_in_mb = 2048, max_concurrency = 5 }
    enable_data_capture = false
    autoscaling         = { min_capacity = 1, max_capacity = 4, target_invocations_per_instance = 600 }
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.this) == 0
    error_message = "A serverless variant has no instance count to scale."
  }
}

run "initial_count_outside_the_scaling_range_is_refused" {
  command = plan

  variables {
    initial_instance_count = 1
    autoscaling            = { min_capacity = 2, max_capacity = 4, target_invocations_per_instance = 600 }
  }

  expect_failures = [aws_appautoscaling_target.this]
}

run "artifact_in_another_bucket_is_read_there_only" {
  command = plan

  variables {
    model_data_url = "s3://another-bucket/kept/model.tar.gz"
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "ReadTheDeployedArtifact"
    ] == [toset(["arn:aws:s3:::another-bucket/kept/*"])]
    error_message = "The hosting role reads the artifact's folder wherever the package keeps it, and nothing else."
  }
}

run "without_the_artifact_the_model_is_refused" {
  command = plan

  variables {
    model_data_url = null
  }

  expect_failures = [aws_sagemaker_model.this]
}

run "package_of_another_group_is_refused" {
  command = plan

  variables {
    model_package_arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/scones-prod-models/4"
  }

  expect_failures = [aws_sagemaker_model.this]
}

run "serverless_variant" {
  command = plan

  variables {
    serverless_config   = { memory_size_in_mb = 2048, max_concurrency = 5 }
    enable_data_capture = false
  }

  assert {
    condition = (
      aws_sagemaker_endpoint_configuration.this[0].production_variants[0].serverless_config[0].memory_size_in_mb == 2048 &&
      aws_sagemaker_endpoint_configuration.this[0].production_variants[0].serverless_config[0].max_concurrency == 5 &&
      aws_sagemaker_endpoint_configuration.this[0].production_variants[0].instance_type == null &&
      length(aws_sagemaker_endpoint_configuration.this[0].data_capture_config) == 0
    )
    error_message = "serverless_config gives a serverless variant without instances or data capture."
  }
}

run "role_only_before_first_model" {
  command = plan

  variables {
    model_package_arn      = null
    model_data_url         = null
    enable_training_access = true
  }

  assert {
    condition     = length(aws_sagemaker_model.this) == 0 && length(aws_sagemaker_endpoint_configuration.this) == 0 && length(aws_sagemaker_endpoint.this) == 0
    error_message = "Without a promoted package only the role (and the package group) exist."
  }

  assert {
    condition     = output.endpoint_name == "scones-test-endpoint" && output.model_name == null
    error_message = "The endpoint name is known before the endpoint exists."
  }

  assert {
    condition     = !contains([for s in data.aws_iam_policy_document.this.statement : s.sid], "ReadTheDeployedArtifact")
    error_message = "Before the first model the hosting role reads nothing."
  }
}

run "serverless_with_data_capture_is_refused" {
  command = plan

  variables {
    serverless_config = { memory_size_in_mb = 2048, max_concurrency = 5 }
  }

  expect_failures = [aws_sagemaker_endpoint_configuration.this]
}

run "rejects_invalid_values" {
  command = plan

  variables {
    model_package_arn                = "s3://scones-test-bucket/models/job-1/output/model.tar.gz"
    min_accuracy                     = 1.5
    data_capture_sampling_percentage = 101
    serverless_config                = { memory_size_in_mb = 1000, max_concurrency = 5 }
    initial_instance_count           = 0
    instance_type                    = "m5.large"
    model_data_url                   = "models/job-1/output/model.tar.gz"
    training_job_name_prefix         = "Vehicle_Classifier"
    autoscaling                      = { min_capacity = 3, max_capacity = 2, target_invocations_per_instance = 0, scale_in_cooldown_seconds = -1 }
  }

  expect_failures = [
    var.model_package_arn,
    var.min_accuracy,
    var.data_capture_sampling_percentage,
    var.serverless_config,
    var.initial_instance_count,
    var.instance_type,
    var.model_data_url,
    var.training_job_name_prefix,
    var.autoscaling,
  ]
}

run "provisioned_endpoint_rolls_out_behind_a_canary" {
  command = apply

  variables {
    rollout_canary_size  = { type = "CAPACITY_PERCENT", value = 10 }
    rollout_wait_seconds = 120
  }

  assert {
    condition = (
      aws_sagemaker_endpoint.this[0].deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].type == "CANARY" &&
      aws_sagemaker_endpoint.this[0].deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].wait_interval_in_seconds == 120 &&
      aws_sagemaker_endpoint.this[0].deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size[0].type == "CAPACITY_PERCENT" &&
      aws_sagemaker_endpoint.this[0].deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size[0].value == 10
    )
    error_message = "A provisioned endpoint rolls a new model out blue/green with the configured canary and wait."
  }

  assert {
    condition     = toset([for a in aws_sagemaker_endpoint.this[0].deployment_config[0].auto_rollback_configuration[0].alarms : a.alarm_name]) == toset(var.rollback_alarm_names)
    error_message = "The deployment rolls back on the endpoint's 5xx and model-latency alarms."
  }

  assert {
    condition     = length(aws_iam_role_policy.rollback_alarms) == 1
    error_message = "The execution role may describe the rollback alarms (SageMaker needs cloudwatch:DescribeAlarms on them)."
  }
}

run "serverless_variant_has_no_deployment_config" {
  command = plan

  variables {
    serverless_config   = { memory_size_in_mb = 2048, max_concurrency = 5 }
    enable_data_capture = false
  }

  assert {
    condition     = length(aws_sagemaker_endpoint.this[0].deployment_config) == 0 && length(aws_iam_role_policy.rollback_alarms) == 0
    error_message = "A serverless variant takes SageMaker's default deployment: no canary, no rollback alarms."
  }
}

run "instance_count_canary_above_half_is_refused" {
  command = plan

  variables {
    rollout_canary_size    = { type = "INSTANCE_COUNT", value = 1 }
    initial_instance_count = 1
  }

  expect_failures = [aws_sagemaker_endpoint.this]
}

run "provisioned_endpoint_without_alarms_is_refused" {
  command = plan

  variables {
    rollback_alarm_names = []
  }

  expect_failures = [aws_sagemaker_endpoint.this]
}

run "rejects_invalid_rollout_values" {
  command = plan

  variables {
    rollout_canary_size  = { type = "CAPACITY_PERCENT", value = 60 }
    rollout_wait_seconds = 3601
    rollback_alarm_names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
  }

  expect_failures = [
    var.rollout_canary_size,
    var.rollout_wait_seconds,
    var.rollback_alarm_names,
  ]
}
