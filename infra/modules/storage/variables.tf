variable "bucket_name" {
  description = "Name of the project bucket (images, model artifacts, data capture). Globally unique."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete a bucket that still holds objects. Only for throwaway environments."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for SSE-KMS. Null uses the AWS managed key aws/s3."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "data_capture_prefix" {
  description = "Key prefix (no leading or trailing slash) under which the SageMaker endpoint writes data capture files."
  type        = string
  default     = "data_capture"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.data_capture_prefix))
    error_message = "data_capture_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "data_capture_expiration_days" {
  description = "Days after which data capture objects expire."
  type        = number
  default     = 30

  validation {
    condition     = var.data_capture_expiration_days >= 1 && floor(var.data_capture_expiration_days) == var.data_capture_expiration_days
    error_message = "data_capture_expiration_days must be a whole number of at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days must be at least 1."
  }
}

variable "access_log_bucket_name" {
  description = "Bucket that receives this bucket's S3 server access logs, under the prefix <bucket_name>/. It must exist in the same account and region, use SSE-S3 default encryption (S3 cannot deliver access logs to an SSE-KMS default) and let logging.s3.amazonaws.com PutObject for this bucket. Null: no access logs."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_name))
    error_message = "access_log_bucket_name must be null or a valid S3 bucket name."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
