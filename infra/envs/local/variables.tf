# What terraform.tfvars and the tooling set, passed to infra/modules/stack as they are:
# defaults, the meaning of each value and its validation live there and in the modules it calls.

variable "environment" {
  description = "Environment name; part of every resource name."
  type        = string
}

variable "account_id" {
  description = "AWS account ID of the environment; policies and ARNs are built from it (validated by functions, model_endpoint and monitoring)."
  type        = string
}

variable "bucket_name" {
  description = "Name of the project bucket, globally unique (validated by storage)."
  type        = string
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the bucket. Only for throwaway environments."
  type        = bool
}

variable "image_read_prefixes" {
  description = "Key prefixes of the bucket from which serializeImageData may read images (functions)."
  type        = list(string)
}

variable "threshold" {
  description = "Confidence an inference must reach, in (0, 1] (filterInferences THRESHOLD; functions)."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of every log group, in days: a CloudWatch Logs retention value (functions, workflow)."
  type        = number
}

variable "workflow_log_level" {
  description = "Step Functions execution logging level: ALL, ERROR, FATAL or OFF (workflow)."
  type        = string
}

variable "workflow_type" {
  description = "Type of the per-image workflow: STANDARD or EXPRESS (stack)."
  type        = string
}

variable "workflow_include_execution_data" {
  description = "Log each state's input and output (base64 images among them) with the execution history (stack)."
  type        = bool
}

variable "endpoint_instance_type" {
  description = "Instance type of the provisioned endpoint variant (model_endpoint)."
  type        = string
}

variable "endpoint_instance_count" {
  description = "Instance count of the provisioned endpoint variant (model_endpoint)."
  type        = number
}

variable "endpoint_autoscaling" {
  description = "Auto scaling of the provisioned variant (min_capacity, max_capacity, target_invocations_per_instance, optional cooldowns), or null for a fixed count (model_endpoint)."
  type = object({
    min_capacity                    = number
    max_capacity                    = number
    target_invocations_per_instance = number
    scale_in_cooldown_seconds       = optional(number)
    scale_out_cooldown_seconds      = optional(number)
  })
  default = null
}

variable "data_capture_sampling_percentage" {
  description = "Percentage (0-100) of endpoint requests captured (model_endpoint)."
  type        = number
}

variable "data_capture_expiration_days" {
  description = "Days after which data capture files expire (storage)."
  type        = number
}

variable "endpoint_5xx_alarm_threshold" {
  description = "Endpoint 5xx errors per 5 minutes at which the endpoint alarm fires (monitoring)."
  type        = number
}

variable "model_latency_alarm_threshold_ms" {
  description = "p90 model latency in milliseconds above which the latency alarm fires (monitoring)."
  type        = number
}

variable "min_accuracy" {
  description = "Quality gate of `make train`: the test-split accuracy (0-1) a model needs to be registered Approved (model_endpoint)."
  type        = number
}

# Set by the tooling, not by terraform.tfvars.

variable "functions_build_dir" {
  description = "Folder of the Lambda zips (`make package`), relative to this root or absolute; tests set TF_VAR_functions_build_dir."
  type        = string
  default     = "../../../build/functions"
}

variable "model_package_arn" {
  description = "ARN of the model package the endpoint serves; `make promote` writes it to model.auto.tfvars.json. Null leaves the endpoint out."
  type        = string
  default     = null
}

variable "model_data_url" {
  description = "S3 URL of the promoted package's artifact, recorded with every answer; `make promote` writes it beside model_package_arn."
  type        = string
  default     = null
}

variable "needs_review_share_threshold" {
  description = "Share (0-1) of an hour's images that needed review above which the drift alarm fires (monitoring)."
  type        = number
}

variable "batch_max_concurrency" {
  description = "Images a batch (make classify PREFIX=) classifies at once (stack)."
  type        = number
  default     = 40
}

variable "batch_tolerated_failure_percentage" {
  description = "Percentage of a batch's items that may fail before the run fails (stack)."
  type        = number
  default     = 5
}

variable "endpoint_rollout_canary_size" {
  description = "Canary of the endpoint's guarded rollout: {type = CAPACITY_PERCENT or INSTANCE_COUNT, value} (model_endpoint validates it)."
  type = object({
    type  = string
    value = number
  })
  default = {
    type  = "CAPACITY_PERCENT"
    value = 25
  }
}

variable "endpoint_rollout_wait_seconds" {
  description = "Baking period of each step of the endpoint's guarded rollout, in seconds (0-3600)."
  type        = number
  default     = 600
}
