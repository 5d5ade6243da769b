variable "local_cloud_endpoint" {
  description = "URL of the local cloud, which answers every service. scripts/tf.sh sets it from LOCAL_CLOUD_PORT."
  type        = string
  # localcloud/control.py DEFAULT_PORT; tests/infra/test_infra_layout.py checks that they agree.
  default = "http://127.0.0.1:4566"

  validation {
    condition     = can(regex("^https?://[^/]+$", var.local_cloud_endpoint))
    error_message = "local_cloud_endpoint must be a scheme and host[:port] without a path, e.g. http://127.0.0.1:4566."
  }
}

# The only difference from dev and prod: every service is the local cloud and nothing calls
# the real AWS. The key is the one the local cloud issued when it started, read from
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (`make` sets them from `python -m localcloud env`).
provider "aws" {
  region = "us-east-1"

  allowed_account_ids = [var.account_id]

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  # Without it an action the local cloud lacks is retried for more than ten minutes.
  max_retries = 2

  endpoints {
    appautoscaling = var.local_cloud_endpoint
    cloudwatch     = var.local_cloud_endpoint
    dynamodb       = var.local_cloud_endpoint
    ecr            = var.local_cloud_endpoint
    events         = var.local_cloud_endpoint
    iam            = var.local_cloud_endpoint
    kms            = var.local_cloud_endpoint
    lambda         = var.local_cloud_endpoint
    logs           = var.local_cloud_endpoint
    s3             = var.local_cloud_endpoint
    sagemaker      = var.local_cloud_endpoint
    sfn            = var.local_cloud_endpoint
    sns            = var.local_cloud_endpoint
    sqs            = var.local_cloud_endpoint
    sts            = var.local_cloud_endpoint
    xray           = var.local_cloud_endpoint
  }
}
