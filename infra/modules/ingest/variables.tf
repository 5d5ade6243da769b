variable "name_prefix" {
  description = "Prefix of every name (<project>-<env>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "account_id" {
  description = "AWS account ID of the environment."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account ID."
  }
}

variable "region" {
  description = "Region of the rule (part of its ARN)."
  type        = string
}

variable "bucket_name" {
  description = "Bucket whose Object Created events start the workflow."
  type        = string
}

variable "incoming_prefix" {
  description = "Key prefix that starts the workflow, with its trailing slash (e.g. incoming/)."
  type        = string
  default     = "incoming/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.incoming_prefix))
    error_message = "incoming_prefix must be a key prefix of safe characters ending in a slash, without a leading slash (e.g. incoming/)."
  }
}

variable "state_machine_arn" {
  description = "ARN of the classification state machine the rule starts."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN."
  }
}

variable "state_machine_name" {
  description = "Name of the state machine (for descriptions)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key that encrypts the dead-letter queue (its policy must let the rule use it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "maximum_event_age_seconds" {
  description = "How long EventBridge keeps retrying a start that failed (60-86400 s); then the event goes to the DLQ."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 86400
    error_message = "maximum_event_age_seconds must be between 60 and 86400."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a start that failed (0-185); then the event goes to the DLQ."
  type        = number
  default     = 24

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 185
    error_message = "maximum_retry_attempts must be between 0 and 185."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
