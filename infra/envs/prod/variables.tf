variable "environment" {
  description = "Environment name; part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "project" {
  description = "Project name; first part of every resource name."
  type        = string
  default     = "scones"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,13}$", var.project))
    error_message = "project must be 2-14 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "account_id" {
  description = "AWS account ID of the environment. Policies and ARNs are built from it, and the provider refuses any other account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "bucket_name" {
  description = "Name of the project bucket (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the bucket. Only for throwaway environments."
  type        = bool
  default     = false
}

variable "functions_build_dir" {
  description = "Folder with serialize_image_data.zip, classify_image.zip, filter_inferences.zip and layer.zip (`make package`), relative to this root or absolute."
  type        = string
  default     = "../../../build/functions"
}

variable "image_read_prefixes" {
  description = "Key prefixes of the bucket from which serializeImageData may read images."
  type        = list(string)
  default     = ["test"]

  validation {
    condition     = length(var.image_read_prefixes) > 0 && alltrue([for p in var.image_read_prefixes : can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$", p))])
    error_message = "image_read_prefixes must be a non-empty list of key prefixes without wildcards."
  }
}

variable "threshold" {
  description = "Confidence an inference must reach (filterInferences THRESHOLD)."
  type        = number
  default     = 0.93

  validation {
    condition     = var.threshold > 0 && var.threshold <= 1
    error_message = "threshold must be in (0, 1]."
  }
}

variable "max_image_bytes" {
  description = "Largest image accepted by serializeImageData (MAX_IMAGE_BYTES)."
  type        = number
  default     = 10485760

  validation {
    condition     = var.max_image_bytes >= 1 && var.max_image_bytes <= 104857600
    error_message = "max_image_bytes must be between 1 and 104857600."
  }
}

variable "image_size" {
  description = "Side in pixels of the square images the model takes (IMAGE_SIZE)."
  type        = number
  default     = 32

  validation {
    condition     = var.image_size >= 8 && var.image_size <= 64 && floor(var.image_size) == var.image_size
    error_message = "image_size must be a whole number between 8 and 64."
  }
}

variable "workflow_log_level" {
  description = "Step Functions execution logging level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.workflow_log_level)
    error_message = "workflow_log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values."
  }
}

variable "model_data_url" {
  description = "S3 URL of the model artifact. Written by training to model.auto.tfvars.json; null until the first training, which leaves the endpoint out."
  type        = string
  default     = null

  validation {
    condition     = var.model_data_url == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", var.model_data_url))
    error_message = "model_data_url must be null or an s3://bucket/key.tar.gz URL."
  }
}

variable "endpoint_instance_type" {
  description = "Instance type of the provisioned endpoint variant."
  type        = string
  default     = "ml.m5.large"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$", var.endpoint_instance_type))
    error_message = "endpoint_instance_type must be a SageMaker instance type such as ml.m5.large."
  }
}

variable "endpoint_instance_count" {
  description = "Instance count of the provisioned endpoint variant."
  type        = number
  default     = 1

  validation {
    condition     = var.endpoint_instance_count >= 1 && floor(var.endpoint_instance_count) == var.endpoint_instance_count
    error_message = "endpoint_instance_count must be a whole number of at least 1."
  }
}

variable "endpoint_serverless_config" {
  description = "Serverless endpoint (memory_size_in_mb, max_concurrency) instead of instances; needs enable_data_capture = false."
  type = object({
    memory_size_in_mb = number
    max_concurrency   = number
  })
  default = null

  validation {
    condition = var.endpoint_serverless_config == null || (
      contains([1024, 2048, 3072, 4096, 5120, 6144], try(var.endpoint_serverless_config.memory_size_in_mb, 0)) &&
      try(var.endpoint_serverless_config.max_concurrency, 0) >= 1 && try(var.endpoint_serverless_config.max_concurrency, 0) <= 200
    )
    error_message = "endpoint_serverless_config.memory_size_in_mb must be 1024-6144 in steps of 1024 and max_concurrency 1-200."
  }
}

variable "enable_data_capture" {
  description = "Capture endpoint requests and responses to the bucket for monitoring."
  type        = bool
  default     = true
}

variable "data_capture_sampling_percentage" {
  description = "Percentage (0-100) of endpoint requests captured."
  type        = number
  default     = 100

  validation {
    condition     = var.data_capture_sampling_percentage >= 0 && var.data_capture_sampling_percentage <= 100
    error_message = "data_capture_sampling_percentage must be from 0 to 100."
  }
}

variable "data_capture_expiration_days" {
  description = "Days after which data capture files expire."
  type        = number
  default     = 30

  validation {
    condition     = var.data_capture_expiration_days >= 1
    error_message = "data_capture_expiration_days must be at least 1."
  }
}

variable "alarm_emails" {
  description = "Email addresses notified by the alarm topic (each must confirm its subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be email addresses."
  }
}

variable "workflow_failed_alarm_threshold" {
  description = "Failed workflow executions per 5 minutes at which the workflow alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.workflow_failed_alarm_threshold >= 1 && floor(var.workflow_failed_alarm_threshold) == var.workflow_failed_alarm_threshold
    error_message = "workflow_failed_alarm_threshold must be a whole number of at least 1."
  }
}

variable "lambda_errors_alarm_threshold" {
  description = "Errors of one function per 5 minutes at which its alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_errors_alarm_threshold >= 1 && floor(var.lambda_errors_alarm_threshold) == var.lambda_errors_alarm_threshold
    error_message = "lambda_errors_alarm_threshold must be a whole number of at least 1."
  }
}

variable "endpoint_5xx_alarm_threshold" {
  description = "Endpoint 5xx errors per 5 minutes at which the endpoint alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.endpoint_5xx_alarm_threshold >= 1 && floor(var.endpoint_5xx_alarm_threshold) == var.endpoint_5xx_alarm_threshold
    error_message = "endpoint_5xx_alarm_threshold must be a whole number of at least 1."
  }
}

variable "model_latency_alarm_threshold_ms" {
  description = "p90 model latency in milliseconds above which the latency alarm fires."
  type        = number
  default     = 1000

  validation {
    condition     = var.model_latency_alarm_threshold_ms > 0 && var.model_latency_alarm_threshold_ms <= 60000
    error_message = "model_latency_alarm_threshold_ms must be greater than 0 and at most 60000."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
