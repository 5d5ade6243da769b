data "aws_partition" "this" {}

data "aws_region" "this" {}

# The built-in Image Classification algorithm's image, resolved per region inside the provider
# (no network call): the image the model packages name (output image_uri).
data "aws_sagemaker_prebuilt_ecr_image" "this" {
  repository_name = "image-classification"
  image_tag       = "1"
}

resource "aws_sagemaker_model" "this" {
  count = local.create_endpoint ? 1 : 0

  name                     = local.model_name
  execution_role_arn       = aws_iam_role.this.arn
  enable_network_isolation = true

  # A registered model version: SageMaker takes the image and the artifact from the package's
  # InferenceSpecification (ContainerDefinition.ModelPackageName, "the name or ARN of the model
  # package to use to create the model"), so neither is given here.
  primary_container {
    model_package_name = var.model_package_arn
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = local.artifact_location != null
      error_message = "model_data_url must be the promoted package's artifact (the hosting role reads only its folder); run `make promote ENV=<env>`, which writes it with model_package_arn."
    }

    precondition {
      condition     = local.model_package_group == lower(aws_sagemaker_model_package_group.this.model_package_group_name)
      error_message = "model_package_arn must be a version of this environment's model package group (${local.model_package_group_name}); run `make promote ENV=<env>` to pick one."
    }
  }

  # SageMaker checks the role's S3 access when it creates the model.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  # kms_key_arn is a variable (checkov passes CKV_AWS_98 on it); null uses the AWS managed key,
  # which encrypts the volume at rest.
  count = local.create_endpoint ? 1 : 0

  # Endpoint configurations are immutable: a generated name lets a new one exist next to
  # the old one while the endpoint switches over.
  name_prefix = "${var.name_prefix}-"
  kms_key_arn = var.kms_key_arn

  production_variants {
    variant_name           = local.variant_name
    model_name             = aws_sagemaker_model.this[0].name
    initial_variant_weight = 1
    instance_type          = var.serverless_config == null ? var.instance_type : null
    initial_instance_count = var.serverless_config == null ? var.initial_instance_count : null

    dynamic "serverless_config" {
      for_each = var.serverless_config == null ? [] : [var.serverless_config]

      content {
        memory_size_in_mb = serverless_config.value.memory_size_in_mb
        max_concurrency   = serverless_config.value.max_concurrency
      }
    }
  }

  dynamic "data_capture_config" {
    for_each = var.enable_data_capture ? [1] : []

    content {
      enable_capture              = true
      initial_sampling_percentage = var.data_capture_sampling_percentage
      destination_s3_uri          = "s3://${var.bucket_name}/${var.data_capture_prefix}"
      kms_key_id                  = var.kms_key_arn

      capture_options {
        capture_mode = "Input"
      }

      capture_options {
        capture_mode = "Output"
      }

      # Content types listed here are captured as text; every other type (image/png,
      # image/jpeg, application/x-image) is captured base64-encoded.
      capture_content_type_header {
        json_content_types = ["application/json"]
      }
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.serverless_config == null || !var.enable_data_capture
      error_message = "SageMaker serverless endpoints do not support data capture: set enable_data_capture = false with serverless_config, or use a provisioned variant."
    }
  }
}

resource "aws_sagemaker_endpoint" "this" {
  count = local.create_endpoint ? 1 : 0

  # A stable name: changing the configuration updates the endpoint in place (blue/green inside
  # SageMaker), so clients never see it disappear.
  name                 = local.endpoint_name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this[0].name

  # Blue/green with a canary and alarm rollback (rollout.tf); provisioned variants only.
  # The provider sends it with UpdateEndpoint whenever endpoint_config_name changes.
  # auto_rollback_configuration is ForceNew in provider 5.x: changing the alarm names replaces
  # the endpoint (its name stays, but it is deleted and created again).
  dynamic "deployment_config" {
    for_each = local.guarded_rollout ? [1] : []

    content {
      blue_green_update_policy {
        traffic_routing_configuration {
          type                     = "CANARY"
          wait_interval_in_seconds = var.rollout_wait_seconds

          canary_size {
            type  = var.rollout_canary_size.type
            value = var.rollout_canary_size.value
          }
        }
      }

      dynamic "auto_rollback_configuration" {
        for_each = length(var.rollback_alarm_names) > 0 ? [1] : []

        content {
          dynamic "alarms" {
            for_each = toset(var.rollback_alarm_names)

            content {
              alarm_name = alarms.value
            }
          }
        }
      }
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = !local.guarded_rollout || var.rollout_canary_size.type != "INSTANCE_COUNT" || var.rollout_canary_size.value * 2 <= var.initial_instance_count
      error_message = "rollout_canary_size: an INSTANCE_COUNT canary must be at most 50% of the variant's instances (initial_instance_count = ${var.initial_instance_count}); use CAPACITY_PERCENT or more instances."
    }

    precondition {
      condition     = !local.guarded_rollout || length(var.rollback_alarm_names) > 0
      error_message = "A provisioned endpoint rolls out new models guarded by alarms: give rollback_alarm_names (the endpoint's 5xx and model-latency alarms)."
    }

    # Provider 5.x waits only for InService, which a rolled-back deployment also reaches
    # (hashicorp/terraform-provider-aws#46663, #48997); it then reads EndpointConfigName back
    # into state. Failing here stops the apply before Terraform destroys the old (deposed)
    # endpoint configuration, which the endpoint still serves (#40048, #48997): the old
    # configuration stays until the new one serves. `make apply` then prints SageMaker's
    # FailureReason (scripts/endpoint_check.py).
    postcondition {
      condition     = self.endpoint_config_name == aws_sagemaker_endpoint_configuration.this[0].name
      error_message = "SageMaker did not move endpoint ${local.endpoint_name} to the planned endpoint configuration: the deployment rolled back and the endpoint still serves its previous configuration. `make apply` prints SageMaker's FailureReason; fix the model, promote a good package, plan and apply again."
    }
  }
}
