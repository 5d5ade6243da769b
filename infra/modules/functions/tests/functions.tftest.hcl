# Offline unit tests of the functions module: `terraform test` (mocked AWS provider).
# The zip paths are variables: tests/infra passes small dummy zips with -var, e.g.
#   terraform test -var serialize_image_data_zip_path=/tmp/z/serialize_image_data.zip \
#     -var classify_image_zip_path=/tmp/z/classify_image.zip \
#     -var filter_inferences_zip_path=/tmp/z/filter_inferences.zip -var layer_zip_path=/tmp/z/layer.zip

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/scones-test-function-role"
    }
  }

  mock_resource "aws_lambda_layer_version" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:layer:scones-test-pillow:1"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:function:scones-test-function"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/scones-test-function"
    }
  }

  mock_resource "aws_signer_signing_profile" {
    defaults = {
      name        = "scones_test_lambda_20260101"
      version_arn = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/scones_test_lambda_20260101/abcdefghij"
    }
  }

  mock_resource "aws_lambda_code_signing_config" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0"
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

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name_prefix         = "scones-test"
  account_id          = "123456789012"
  image_bucket_arn    = "arn:aws:s3:::scones-test-bucket"
  image_read_prefixes = ["test", "incoming/"]
  endpoint_name       = "scones-test-endpoint"
  endpoint_arn        = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/scones-test-endpoint"
}

run "three_traced_python_functions" {
  command = apply

  assert {
    condition     = length(aws_lambda_function.this) == 3 && length(aws_iam_role.this) == 3 && length(aws_cloudwatch_log_group.this) == 3
    error_message = "Each of the three functions needs its own role and log group."
  }

  assert {
    condition = alltrue([
      for f in aws_lambda_function.this :
      f.runtime == "python3.12" && f.handler == "handler.lambda_handler" && f.tracing_config[0].mode == "Active"
    ])
    error_message = "Every function runs python3.12 handler.lambda_handler with active tracing."
  }

  assert {
    condition     = aws_lambda_function.this["serialize_image_data"].source_code_hash == filebase64sha256(var.serialize_image_data_zip_path)
    error_message = "source_code_hash must come from the zip."
  }

  assert {
    condition = (
      aws_lambda_function.this["serialize_image_data"].function_name == "scones-test-serialize-image-data" &&
      aws_lambda_function.this["classify_image"].function_name == "scones-test-classify-image" &&
      aws_lambda_function.this["filter_inferences"].function_name == "scones-test-filter-inferences"
    )
    error_message = "Function names are <name_prefix>-<function>."
  }

  assert {
    condition = (
      aws_lambda_function.this["serialize_image_data"].environment[0].variables == tomap({ MAX_IMAGE_BYTES = "10485760", IMAGE_SIZE = "32" }) &&
      aws_lambda_function.this["classify_image"].environment[0].variables == tomap({ ENDPOINT_NAME = "scones-test-endpoint" }) &&
      aws_lambda_function.this["filter_inferences"].environment[0].variables == tomap({ THRESHOLD = "0.93", SERVICE_NAME = "scones-test" })
    )
    error_message = "Each function gets exactly its own environment."
  }

  assert {
    condition = (
      aws_lambda_function.this["serialize_image_data"].layers == tolist(["arn:aws:lambda:us-east-1:123456789012:layer:scones-test-pillow:1"]) &&
      length(aws_lambda_function.this["filter_inferences"].layers) == 0
    )
    error_message = "Only serializeImageData takes the Pillow layer by default."
  }

  assert {
    condition = (
      aws_lambda_function.this["serialize_image_data"].memory_size == 512 &&
      aws_lambda_function.this["classify_image"].timeout == 60 &&
      aws_lambda_function.this["filter_inferences"].memory_size == 128
    )
    error_message = "Memory and timeouts default per function."
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 30])
    error_message = "Log groups keep log_retention_days."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this["classify_image"].name == "/aws/lambda/scones-test-classify-image"
    error_message = "Log groups are the functions' default /aws/lambda/<name>."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.this["serialize_image_data"].statement : s.resources if s.sid == "ReadImages"
      ][0] == toset([
        "arn:aws:s3:::scones-test-bucket/test/*",
        "arn:aws:s3:::scones-test-bucket/incoming/*",
    ])
    error_message = "serializeImageData reads only the image prefixes."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.this["classify_image"].statement : s.resources if s.sid == "InvokeEndpoint"
    ][0] == toset([var.endpoint_arn])
    error_message = "classifyImage invokes only its endpoint."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.this["filter_inferences"].statement : s.sid
    ] == ["WriteOwnLogGroup", "XRayTracing"]
    error_message = "filterInferences may only log and trace."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.this["classify_image"].statement : s.resources if s.sid == "WriteOwnLogGroup"
    ][0] == toset(["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/scones-test-classify-image:*"])
    error_message = "Each function writes only to its own log group."
  }

  assert {
    condition     = output.function_arns["filter_inferences"] == "arn:aws:lambda:us-east-1:123456789012:function:scones-test-filter-inferences"
    error_message = "function_arns are known at plan time and match the Lambda ARN format."
  }
}

run "settings_follow_variables" {
  command = plan

  variables {
    threshold          = 1
    log_retention_days = 365
    layer_functions    = ["serialize_image_data", "classify_image"]
    function_settings = {
      classify_image = { memory_size = 1024 }
    }
  }

  assert {
    condition     = aws_lambda_function.this["filter_inferences"].environment[0].variables["THRESHOLD"] == "1"
    error_message = "A threshold of exactly 1 is allowed."
  }

  assert {
    condition     = aws_lambda_function.this["classify_image"].memory_size == 1024 && aws_lambda_function.this["classify_image"].timeout == 60
    error_message = "function_settings overrides only what it names."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this["serialize_image_data"].retention_in_days == 365
    error_message = "Retention follows log_retention_days."
  }
}

run "defaults_reserve_nothing_and_sign_nothing" {
  command = plan

  assert {
    condition     = alltrue([for f in aws_lambda_function.this : f.reserved_concurrent_executions == -1])
    error_message = "Without classify_image_reserved_concurrency no function reserves concurrency."
  }

  assert {
    condition     = length(aws_signer_signing_profile.this) == 0 && length(aws_lambda_code_signing_config.this) == 0 && alltrue([for f in aws_lambda_function.this : f.code_signing_config_arn == null])
    error_message = "Code signing is off by default."
  }
}

run "classify_image_reserves_the_endpoints_capacity" {
  command = plan

  variables {
    classify_image_reserved_concurrency = 4
  }

  assert {
    condition     = aws_lambda_function.this["classify_image"].reserved_concurrent_executions == 4
    error_message = "classifyImage must reserve classify_image_reserved_concurrency."
  }

  assert {
    condition     = aws_lambda_function.this["serialize_image_data"].reserved_concurrent_executions == -1 && aws_lambda_function.this["filter_inferences"].reserved_concurrent_executions == -1
    error_message = "Only classifyImage waits on the endpoint: the others reserve nothing."
  }
}

run "code_signing_trusts_only_its_profile" {
  command = apply

  variables {
    enable_code_signing = true
    code_signing_policy = "Enforce"
  }

  assert {
    condition     = aws_signer_signing_profile.this[0].platform_id == "AWSLambda-SHA384-ECDSA" && startswith(aws_signer_signing_profile.this[0].name_prefix, "scones_test_lambda_")
    error_message = "The signing profile must be a Lambda one, named from name_prefix with underscores."
  }

  assert {
    condition     = aws_lambda_code_signing_config.this[0].policies[0].untrusted_artifact_on_deployment == "Enforce" && aws_lambda_code_signing_config.this[0].allowed_publishers[0].signing_profile_version_arns == toset([aws_signer_signing_profile.this[0].version_arn])
    error_message = "The configuration must trust only the module's profile, with code_signing_policy."
  }

  assert {
    condition     = alltrue([for f in aws_lambda_function.this : f.code_signing_config_arn == aws_lambda_code_signing_config.this[0].arn])
    error_message = "Every function must use the code signing configuration."
  }

  assert {
    condition     = output.signing_profile_name == aws_signer_signing_profile.this[0].name
    error_message = "signing_profile_name names the profile a signing step uses."
  }
}

run "rejects_invalid_values" {
  command = plan

  variables {
    threshold           = 1.5
    log_retention_days  = 13
    image_read_prefixes = ["*"]
    endpoint_arn        = "*"
    function_settings = {
      filter_inferences = { memory_size = 64 }
    }
  }

  expect_failures = [
    var.threshold,
    var.log_retention_days,
    var.image_read_prefixes,
    var.endpoint_arn,
    var.function_settings,
  ]
}

run "rejects_zero_threshold" {
  command = plan

  variables {
    threshold = 0
  }

  expect_failures = [var.threshold]
}
