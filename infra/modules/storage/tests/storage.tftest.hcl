# Offline unit tests of the storage module: `terraform test` (mocked AWS provider).

mock_provider "aws" {
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::scones-test-bucket"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  bucket_name = "scones-test-bucket"
}

run "private_encrypted_versioned_bucket" {
  command = apply

  assert {
    condition     = aws_s3_bucket.this.bucket == "scones-test-bucket" && aws_s3_bucket.this.force_destroy == false
    error_message = "The bucket must be named from bucket_name and refuse force_destroy by default."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "All public access must be blocked."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "aws:kms"
    error_message = "Objects must be encrypted with SSE-KMS."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement :
      s.effect == "Deny" && contains(s.actions, "s3:*") &&
      anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && contains(c.values, "false")])
    ])
    error_message = "The bucket policy must deny requests without TLS."
  }

  assert {
    condition     = output.bucket_arn == "arn:aws:s3:::scones-test-bucket" && output.bucket_name == "scones-test-bucket"
    error_message = "Outputs must give the bucket name and ARN."
  }
}

run "lifecycle_expires_data_capture_and_old_versions" {
  command = apply

  variables {
    data_capture_prefix                = "capture"
    data_capture_expiration_days       = 7
    noncurrent_version_expiration_days = 14
    force_destroy                      = true
  }

  assert {
    condition     = aws_s3_bucket.this.force_destroy == true
    error_message = "force_destroy must follow the variable."
  }

  assert {
    condition = one([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.status == "Enabled" && r.expiration[0].days == 7 if r.filter[0].prefix == "capture/"
    ])
    error_message = "Data capture objects must expire after data_capture_expiration_days."
  }

  assert {
    condition = alltrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.noncurrent_version_expiration[0].noncurrent_days == 14
    ])
    error_message = "Every rule must expire noncurrent versions after noncurrent_version_expiration_days."
  }
}

run "access_logs_go_to_the_log_bucket" {
  command = plan

  variables {
    access_log_bucket_name = "scones-access-logs-test"
  }

  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "scones-access-logs-test" && aws_s3_bucket_logging.this[0].target_prefix == "scones-test-bucket/"
    error_message = "Server access logs must go to access_log_bucket_name under <bucket_name>/."
  }
}

run "no_access_logs_by_default" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "Without access_log_bucket_name there is no logging configuration."
  }
}

run "rejects_invalid_values" {
  command = plan

  variables {
    bucket_name                  = "Not_A_Bucket"
    data_capture_expiration_days = 0
    kms_key_arn                  = "alias/aws/s3"
    access_log_bucket_name       = "Logs_Bucket"
  }

  expect_failures = [
    var.access_log_bucket_name,
    var.bucket_name,
    var.data_capture_expiration_days,
    var.kms_key_arn,
  ]
}
