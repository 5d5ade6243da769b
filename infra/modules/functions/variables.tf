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

variable "serialize_image_data_zip_path" {
  description = "Path of the serializeImageData deployment zip (built by `make package`)."
  type        = string

  validation {
    condition     = endswith(var.serialize_image_data_zip_path, ".zip")
    error_message = "serialize_image_data_zip_path must point at a .zip file."
  }
}

variable "classify_image_zip_path" {
  description = "Path of the classifyImage deployment zip (built by `make package`)."
  type        = string

  validation {
    condition     = endswith(var.classify_image_zip_path, ".zip")
    error_message = "classify_image_zip_path must point at a .zip file."
  }
}

variable "filter_inferences_zip_path" {
  description = "Path of the filterInferences deployment zip (built by `make package`)."
  type        = string

  validation {
    condition     = endswith(var.filter_inferences_zip_path, ".zip")
    error_message = "filter_inferences_zip_path must point at a .zip file."
  }
}

variable "layer_zip_path" {
  description = "Path of the Pillow layer zip (built by `make package`)."
  type        = string

  validation {
    condition     = endswith(var.layer_zip_path, ".zip")
    error_message = "layer_zip_path must point at a .zip file."
  }
}

variable "layer_functions" {
  description = "Functions (keys: serialize_image_data, classify_image, filter_inferences) that get the Pillow layer."
  type        = set(string)
  default     = ["serialize_image_data"]

  validation {
    condition     = length(setsubtract(var.layer_functions, ["serialize_image_data", "classify_image", "filter_inferences"])) == 0
    error_message = "layer_functions may contain only serialize_image_data, classify_image and filter_inferences."
  }
}

variable "image_bucket_arn" {
  description = "ARN of the bucket that holds the images serializeImageData reads."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$", var.image_bucket_arn))
    error_message = "image_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::name)."
  }
}

variable "image_read_prefixes" {
  description = "Key prefixes (e.g. `test`, `incoming`) under which serializeImageData may read images; it gets s3:GetObject on <bucket>/<prefix>/* and nothing else."
  type        = list(string)
  default     = ["test"]

  validation {
    condition     = length(var.image_read_prefixes) > 0 && alltrue([for p in var.image_read_prefixes : can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$", p))])
    error_message = "image_read_prefixes must be a non-empty list of key prefixes without wildcards or leading slash."
  }
}

variable "max_image_bytes" {
  description = "Largest source image serializeImageData accepts (MAX_IMAGE_BYTES); larger images fail with ImageTooLarge."
  type        = number
  default     = 10485760

  validation {
    condition     = var.max_image_bytes >= 1 && var.max_image_bytes <= 104857600
    error_message = "max_image_bytes must be between 1 and 104857600 (100 MiB, the function's own limit)."
  }
}

variable "image_size" {
  description = "Side in pixels of the square image the model expects (IMAGE_SIZE)."
  type        = number
  default     = 32

  validation {
    condition     = var.image_size >= 8 && var.image_size <= 64 && floor(var.image_size) == var.image_size
    error_message = "image_size must be a whole number between 8 and 64 (the function's limit)."
  }
}

variable "endpoint_name" {
  description = "Name of the SageMaker endpoint classifyImage invokes (ENDPOINT_NAME)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be a valid SageMaker endpoint name."
  }
}

variable "endpoint_arn" {
  description = "ARN of that endpoint: classifyImage may call sagemaker:InvokeEndpoint on it and on nothing else."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:endpoint/.+$", var.endpoint_arn))
    error_message = "endpoint_arn must be a SageMaker endpoint ARN."
  }
}

variable "threshold" {
  description = "Confidence filterInferences requires (THRESHOLD); below it filterInferences raises ThresholdConfidenceNotMet and the workflow records needs_review."
  type        = number
  default     = 0.93

  validation {
    condition     = var.threshold > 0 && var.threshold <= 1
    error_message = "threshold must be in (0, 1]."
  }
}

variable "function_settings" {
  description = "Memory (MB) and timeout (seconds) per function; omitted values keep the defaults. The functions' AWS clients keep their worst case near 45 s, inside the 60 s default."
  type = object({
    serialize_image_data = optional(object({
      # A 25-megapixel 16-bit PNG (the pixel limit, the costliest decode) peaks at 371 MB
      # resident under the local cloud's memory cap: tests/localcloud/test_lambda_memory.py.
      memory_size = optional(number, 512)
      timeout     = optional(number, 60)
    }), {})
    classify_image = optional(object({
      memory_size = optional(number, 256)
      timeout     = optional(number, 60)
    }), {})
    filter_inferences = optional(object({
      memory_size = optional(number, 128)
      timeout     = optional(number, 10)
    }), {})
  })
  default = {}

  validation {
    condition = alltrue([
      for s in values(var.function_settings) :
      s.memory_size >= 128 && s.memory_size <= 10240 && s.timeout >= 1 && s.timeout <= 900
    ])
    error_message = "memory_size must be 128-10240 MB and timeout 1-900 seconds."
  }
}

variable "classify_image_reserved_concurrency" {
  description = "Reserved concurrency of classifyImage: at most this many invocations wait on the endpoint at once, so size it to what the endpoint serves concurrently (the stack: instances x requests per instance, or the serverless max_concurrency). Null reserves nothing (for accounts whose Lambda quota cannot spare it)."
  type        = number
  default     = null

  validation {
    condition     = var.classify_image_reserved_concurrency == null || try(var.classify_image_reserved_concurrency >= 1 && var.classify_image_reserved_concurrency <= 1000 && floor(var.classify_image_reserved_concurrency) == var.classify_image_reserved_concurrency, false)
    error_message = "classify_image_reserved_concurrency must be null or a whole number from 1 to 1000."
  }
}

variable "enable_code_signing" {
  description = "Create a Signer signing profile and a code signing configuration that only trusts it, and attach it to the functions. Off by default: `make package` zips are uploaded unsigned, and with code_signing_policy = Enforce Lambda refuses them until a signing step signs them."
  type        = bool
  default     = false
}

variable "code_signing_policy" {
  description = "What Lambda does with code not signed by the profile when enable_code_signing is on: Warn (deploy and log a warning) or Enforce (refuse the deployment)."
  type        = string
  default     = "Warn"

  validation {
    condition     = contains(["Warn", "Enforce"], var.code_signing_policy)
    error_message = "code_signing_policy must be Warn or Enforce."
  }
}

variable "log_retention_days" {
  description = "Retention of each function's CloudWatch log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
