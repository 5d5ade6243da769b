variable "name_prefix" {
  description = "Prefix of every name, e.g. `scones-dev`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "account_id" {
  description = "AWS account ID of the environment; ARNs in policies are built from it so that plans show them in full."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "bucket_name" {
  description = "The project bucket: model artifacts, training data and data capture live in it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "model_package_arn" {
  description = "ARN of the model package (a version of this module's model package group) the endpoint serves, written by `make promote` to model.auto.tfvars.json. Null creates only the execution role and the group (training needs them before any model exists); model, endpoint configuration and endpoint come with the first promoted package."
  type        = string
  default     = null

  validation {
    condition     = var.model_package_arn == null || can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[a-z0-9](-*[a-z0-9]){0,62}/[0-9]{1,9}$", var.model_package_arn))
    error_message = "model_package_arn must be null or a versioned model package ARN, arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>."
  }
}

variable "model_data_url" {
  description = "S3 URI of the model package's artifact (s3://<bucket>/<prefix>/model.tar.gz, usually in bucket_name), written by `make promote` next to model_package_arn: the hosting role may read that artifact's folder and nothing else. Required with model_package_arn."
  type        = string
  default     = null

  validation {
    condition     = var.model_data_url == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+/[^/]+$", var.model_data_url))
    error_message = "model_data_url must be null or s3://<bucket>/<prefix>/<file>, e.g. s3://my-bucket/models/job-1/output/model.tar.gz."
  }
}

variable "min_accuracy" {
  description = "Quality gate: the test-split accuracy (0-1) a trained model must reach for `make train` to register it as Approved; below it the package is Rejected. Read by the tooling from the root's output min_accuracy."
  type        = number
  default     = 0.9

  validation {
    condition     = var.min_accuracy >= 0 && var.min_accuracy <= 1
    error_message = "min_accuracy must be between 0 and 1."
  }
}

variable "model_prefix" {
  description = "Key prefix (no trailing slash) of the model artifacts: the role reads models from it and training jobs write to it."
  type        = string
  default     = "models"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.model_prefix))
    error_message = "model_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "training_job_name_prefix" {
  description = "Prefix of the names of the training jobs the training role runs (training/config/job.json job_name_prefix): its trust names their ARNs and it writes only under model_prefix/<prefix>-*/."
  type        = string
  default     = "vehicle-classifier"

  validation {
    condition     = can(regex("^[a-z0-9](-*[a-z0-9]){0,39}$", var.training_job_name_prefix))
    error_message = "training_job_name_prefix must be 1-40 lowercase letters, digits and single hyphens (SageMaker lower-cases job names in ARNs)."
  }
}

variable "enable_training_access" {
  description = "Create the training role (reads training_input_prefixes, writes model_prefix/<training_job_name_prefix>-*/, training logs)."
  type        = bool
  default     = true
}

variable "training_input_prefixes" {
  description = "Key prefixes (no trailing slash) a training job may list and read."
  type        = list(string)
  default     = ["train", "validation", "train_lst", "validation_lst"]

  validation {
    condition     = alltrue([for p in var.training_input_prefixes : can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", p))])
    error_message = "training_input_prefixes must be key prefixes without wildcards, leading or trailing slash."
  }
}

variable "instance_type" {
  description = "Instance type of the provisioned variant (ignored when serverless_config is set)."
  type        = string
  default     = "ml.m5.large"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a SageMaker instance type such as ml.m5.large."
  }
}

variable "initial_instance_count" {
  description = "Instance count of the provisioned variant (ignored when serverless_config is set)."
  type        = number
  default     = 1

  validation {
    condition     = var.initial_instance_count >= 1 && floor(var.initial_instance_count) == var.initial_instance_count
    error_message = "initial_instance_count must be a whole number of at least 1."
  }
}

variable "serverless_config" {
  description = "Serverless variant for low-traffic environments (memory in MB, max concurrency). Null gives a provisioned variant. SageMaker does not capture data from serverless endpoints, so this needs enable_data_capture = false."
  type = object({
    memory_size_in_mb = number
    max_concurrency   = number
  })
  default = null

  validation {
    condition = var.serverless_config == null || (
      contains([1024, 2048, 3072, 4096, 5120, 6144], try(var.serverless_config.memory_size_in_mb, 0)) &&
      try(var.serverless_config.max_concurrency, 0) >= 1 && try(var.serverless_config.max_concurrency, 0) <= 200
    )
    error_message = "serverless_config.memory_size_in_mb must be 1024-6144 in steps of 1024 and max_concurrency 1-200."
  }
}

variable "rollout_canary_size" {
  description = "Canary of a guarded rollout (provisioned variants): the share of the new fleet that takes traffic first, as CAPACITY_PERCENT (1-50) or INSTANCE_COUNT (at most half the variant's instances). SageMaker: \"Value must be less than or equal to 50% of the variant's total instance count.\""
  type = object({
    type  = string
    value = number
  })
  default = {
    type  = "CAPACITY_PERCENT"
    value = 25
  }

  validation {
    condition     = contains(["CAPACITY_PERCENT", "INSTANCE_COUNT"], var.rollout_canary_size.type)
    error_message = "rollout_canary_size.type must be CAPACITY_PERCENT or INSTANCE_COUNT."
  }

  validation {
    condition     = var.rollout_canary_size.value >= 1 && floor(var.rollout_canary_size.value) == var.rollout_canary_size.value && (var.rollout_canary_size.type != "CAPACITY_PERCENT" || var.rollout_canary_size.value <= 50)
    error_message = "rollout_canary_size.value must be a whole number of at least 1, and at most 50 for CAPACITY_PERCENT (the canary is at most half the fleet)."
  }
}

variable "rollout_wait_seconds" {
  description = "Baking period of a guarded rollout, in seconds (0-3600, SageMaker's WaitIntervalInSeconds): how long the canary, and then the whole new fleet, serve under watch of rollback_alarm_names before the next step. Longer than the alarms' period, so that they evaluate at least once."
  type        = number
  default     = 600

  validation {
    condition     = var.rollout_wait_seconds >= 0 && var.rollout_wait_seconds <= 3600 && floor(var.rollout_wait_seconds) == var.rollout_wait_seconds
    error_message = "rollout_wait_seconds must be a whole number of seconds from 0 to 3600."
  }
}

variable "rollback_alarm_names" {
  description = "CloudWatch alarms that roll a deployment back when one is in ALARM during a bake (the endpoint's 5xx and model-latency alarms). Required with a provisioned variant; changing the list replaces the endpoint (ForceNew in provider 5.x)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.rollback_alarm_names) <= 10 && alltrue([for name in var.rollback_alarm_names : length(trimspace(name)) > 0 && length(name) <= 255])
    error_message = "rollback_alarm_names takes at most 10 alarm names of 1-255 characters."
  }
}

variable "autoscaling" {
  description = "Application Auto Scaling of the provisioned variant: instance count between min_capacity and max_capacity, tracking target_invocations_per_instance (invocations per instance per minute, the SageMakerVariantInvocationsPerInstance metric). initial_instance_count must lie between min and max. Null (or a serverless_config) gives no scaling. See autoscaling.tf for how scaling and deployments interact."
  type = object({
    min_capacity                    = number
    max_capacity                    = number
    target_invocations_per_instance = number
    scale_in_cooldown_seconds       = optional(number, 300)
    scale_out_cooldown_seconds      = optional(number, 60)
  })
  default = null

  validation {
    condition = var.autoscaling == null || (
      try(var.autoscaling.min_capacity >= 1 && floor(var.autoscaling.min_capacity) == var.autoscaling.min_capacity, false) &&
      try(var.autoscaling.max_capacity >= var.autoscaling.min_capacity && floor(var.autoscaling.max_capacity) == var.autoscaling.max_capacity, false)
    )
    error_message = "autoscaling.min_capacity must be a whole number of at least 1 and autoscaling.max_capacity a whole number no smaller than it."
  }

  validation {
    condition     = var.autoscaling == null || try(var.autoscaling.target_invocations_per_instance > 0, false)
    error_message = "autoscaling.target_invocations_per_instance must be greater than 0 (invocations per instance per minute)."
  }

  validation {
    condition = var.autoscaling == null || try(
      var.autoscaling.scale_in_cooldown_seconds >= 0 && var.autoscaling.scale_out_cooldown_seconds >= 0 &&
      floor(var.autoscaling.scale_in_cooldown_seconds) == var.autoscaling.scale_in_cooldown_seconds &&
      floor(var.autoscaling.scale_out_cooldown_seconds) == var.autoscaling.scale_out_cooldown_seconds,
      false
    )
    error_message = "autoscaling.scale_in_cooldown_seconds and scale_out_cooldown_seconds must be whole numbers of seconds, 0 or more."
  }
}

variable "enable_data_capture" {
  description = "Capture endpoint requests and responses to S3 for monitoring."
  type        = bool
  default     = true
}

variable "data_capture_prefix" {
  description = "Key prefix (no trailing slash) under which data capture files are written."
  type        = string
  default     = "data_capture"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.data_capture_prefix))
    error_message = "data_capture_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "data_capture_sampling_percentage" {
  description = "Percentage (0-100) of requests captured."
  type        = number
  default     = 100

  validation {
    condition     = var.data_capture_sampling_percentage >= 0 && var.data_capture_sampling_percentage <= 100 && floor(var.data_capture_sampling_percentage) == var.data_capture_sampling_percentage
    error_message = "data_capture_sampling_percentage must be a whole number from 0 to 100."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the endpoint storage volume and the captured data. Null uses AWS managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
