# Only the values this module owns are validated here (environment, project). Every other
# value is validated once, by the module it is passed to, with that module's message.

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
  default     = false
}

variable "functions_build_dir" {
  description = "Folder with serialize_image_data.zip, classify_image.zip, filter_inferences.zip and layer.zip (`make package`), relative to the calling root or absolute."
  type        = string
}

variable "image_read_prefixes" {
  description = "Key prefixes of the bucket from which serializeImageData may read images (functions)."
  type        = list(string)
  default     = ["test"]
}

variable "threshold" {
  description = "Confidence an inference must reach, in (0, 1] (filterInferences THRESHOLD; functions)."
  type        = number
  default     = 0.93
}

variable "max_image_bytes" {
  description = "Largest image accepted by serializeImageData (MAX_IMAGE_BYTES; functions)."
  type        = number
  default     = 10485760
}

variable "image_size" {
  description = "Side in pixels of the square images the model takes (IMAGE_SIZE; functions)."
  type        = number
  default     = 32
}

variable "workflow_log_level" {
  description = "Step Functions execution logging level: ALL, ERROR, FATAL or OFF (workflow)."
  type        = string
  default     = "ERROR"
}

variable "workflow_type" {
  description = "Type of the per-image workflow: STANDARD or EXPRESS (workflow, which validates it)."
  type        = string
  default     = "STANDARD"
}

variable "workflow_include_execution_data" {
  description = "Log each state's input and output (base64 images among them) with the execution history (workflow)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of every log group, in days: a CloudWatch Logs retention value (functions, workflow)."
  type        = number
  default     = 30
}

variable "model_package_arn" {
  description = "ARN of the model package the endpoint serves (model_endpoint). Written by `make promote` to model.auto.tfvars.json; null until the first promotion, which leaves the endpoint out."
  type        = string
  default     = null
}

variable "model_data_url" {
  description = "S3 URL of the promoted package's artifact, recorded with every answer (workflow); `make promote` writes it from the package. The endpoint serves model_package_arn, never this URL; the hosting role may read only this artifact's folder (model_endpoint)."
  type        = string
  default     = null
}

variable "min_accuracy" {
  description = "Quality gate of `make train`: the test-split accuracy (0-1) a model needs to be registered Approved (model_endpoint)."
  type        = number
  default     = 0.9
}

variable "access_log_bucket_name" {
  description = "Existing bucket for the project bucket's S3 server access logs; null logs nothing (storage)."
  type        = string
  default     = null
}

variable "endpoint_instance_type" {
  description = "Instance type of the provisioned endpoint variant (model_endpoint)."
  type        = string
  default     = "ml.m5.large"
}

variable "endpoint_instance_count" {
  description = "Instance count of the provisioned endpoint variant (model_endpoint)."
  type        = number
  default     = 1
}

variable "endpoint_serverless_config" {
  description = "Serverless endpoint (memory_size_in_mb, max_concurrency) instead of instances; needs enable_data_capture = false (model_endpoint)."
  type = object({
    memory_size_in_mb = number
    max_concurrency   = number
  })
  default = null
}

variable "endpoint_rollout_canary_size" {
  description = "Canary of a provisioned endpoint's guarded rollout: {type = CAPACITY_PERCENT or INSTANCE_COUNT, value} (validated by model_endpoint)."
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
  description = "Baking period of each step of a guarded rollout, in seconds (model_endpoint)."
  type        = number
  default     = 600
}

variable "endpoint_autoscaling" {
  description = "Auto scaling of the provisioned variant (min_capacity, max_capacity, target_invocations_per_instance, optional cooldowns); null for a fixed count. Ignored with endpoint_serverless_config (model_endpoint validates it)."
  type = object({
    min_capacity                    = number
    max_capacity                    = number
    target_invocations_per_instance = number
    scale_in_cooldown_seconds       = optional(number)
    scale_out_cooldown_seconds      = optional(number)
  })
  default = null
}

variable "endpoint_concurrent_requests_per_instance" {
  description = "Requests one provisioned endpoint instance serves at once; classifyImage's reserved concurrency is this times endpoint_instance_count. The default 2 assumes one model-server worker per vCPU of an ml.m5.large (2 vCPUs): measure and set it per instance type."
  type        = number
  default     = 2
}

variable "reserve_classify_image_concurrency" {
  description = "Reserve classifyImage's concurrency to the endpoint's capacity (functions). False where the account's Lambda concurrency quota cannot spare it (AWS keeps 100 unreserved)."
  type        = bool
  default     = true
}

variable "enable_code_signing" {
  description = "Lambda code signing with a Signer profile the functions module creates (functions)."
  type        = bool
  default     = false
}

variable "code_signing_policy" {
  description = "Warn or Enforce for code not signed by that profile (functions)."
  type        = string
  default     = "Warn"
}

variable "enable_dashboard" {
  description = "Create the CloudWatch dashboard ($3 a month) (monitoring)."
  type        = bool
  default     = true
}

variable "enable_data_capture" {
  description = "Capture endpoint requests and responses to the bucket for monitoring."
  type        = bool
  default     = true
}

variable "data_capture_sampling_percentage" {
  description = "Percentage (0-100) of endpoint requests captured (model_endpoint)."
  type        = number
  default     = 100
}

variable "data_capture_expiration_days" {
  description = "Days after which data capture files expire (storage)."
  type        = number
  default     = 30
}

variable "alarm_emails" {
  description = "Email addresses notified by the alarm topic; each must confirm its subscription (monitoring)."
  type        = list(string)
  default     = []
}

variable "endpoint_5xx_alarm_threshold" {
  description = "Endpoint 5xx errors per 5 minutes at which the endpoint alarm fires (monitoring)."
  type        = number
  default     = 1
}

variable "model_latency_alarm_threshold_ms" {
  description = "p90 model latency in milliseconds above which the latency alarm fires (monitoring)."
  type        = number
  default     = 1000
}

variable "incoming_prefix" {
  description = "Key prefix (with its trailing slash) under which a new object starts the workflow; must be one of image_read_prefixes (ingest)."
  type        = string
  default     = "incoming/"

  # The one check that relates two values: serializeImageData must be allowed to read what the
  # trigger hands it. The prefix's own format is the ingest module's to validate.
  validation {
    condition     = contains(var.image_read_prefixes, trimsuffix(var.incoming_prefix, "/"))
    error_message = "incoming_prefix without its slash must be one of image_read_prefixes, or serializeImageData could not read the images it is started for."
  }
}

variable "results_deletion_protection" {
  description = "Refuse to delete the results table, even by `terraform destroy` (results). On in prod."
  type        = bool
  default     = false
}

variable "needs_review_share_threshold" {
  description = "Share (0-1) of an hour's images that needed review above which the drift alarm fires (monitoring)."
  type        = number
  default     = 0.3
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "batch_max_concurrency" {
  description = "Images a batch (make classify PREFIX=) classifies at once: the Distributed Map's MaxConcurrency (workflow)."
  type        = number
  default     = 40
}

variable "batch_tolerated_failure_percentage" {
  description = "Percentage of a batch's items that may fail before the run fails (workflow)."
  type        = number
  default     = 5
}
