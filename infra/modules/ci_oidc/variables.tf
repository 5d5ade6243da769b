variable "account_id" {
  description = "AWS account ID the module is applied in; the trust policy and ARNs are built from it so that plans show them in full."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "github_repository" {
  description = "The GitHub repository whose workflow may assume the plan role, as <org>/<repo> (the `sub` claim is repo:<org>/<repo>:environment:<github_environment>)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be <org>/<repo>, e.g. scones-unlimited/vehicle-classifier."
  }
}

variable "github_owner_id" {
  description = "Numeric ID of the repository's organisation or user, for the immutable `sub` form (repo:<org>@<owner_id>/<repo>@<repo_id>:...) that repositories created since 15 July 2026 (and those opted in) emit. Null: the legacy name-only form."
  type        = number
  default     = null

  validation {
    condition     = var.github_owner_id == null || try(var.github_owner_id >= 1 && floor(var.github_owner_id) == var.github_owner_id, false)
    error_message = "github_owner_id must be null or a positive whole number."
  }
}

variable "github_repository_id" {
  description = "Numeric ID of the repository, with github_owner_id for the immutable `sub` form; both or neither."
  type        = number
  default     = null

  validation {
    condition     = var.github_repository_id == null || try(var.github_repository_id >= 1 && floor(var.github_repository_id) == var.github_repository_id, false)
    error_message = "github_repository_id must be null or a positive whole number."
  }

  validation {
    condition     = (var.github_owner_id == null) == (var.github_repository_id == null)
    error_message = "Set both github_owner_id and github_repository_id (the immutable sub form) or neither (the name-only form)."
  }
}

variable "github_environment" {
  description = "The GitHub Environment whose jobs may assume the plan role; its protection rules (required reviewers) decide which runs get credentials."
  type        = string
  default     = "dev-plan"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.github_environment))
    error_message = "github_environment must be an environment name without wildcards, spaces or colons."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider. False when the account already has one (one per URL per account): oidc_provider_arn must then name it."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of the account's existing GitHub OIDC provider when create_oidc_provider is false; ignored otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be null or the ARN of a token.actions.githubusercontent.com OIDC provider."
  }

  validation {
    condition     = var.create_oidc_provider || var.oidc_provider_arn != null
    error_message = "create_oidc_provider = false needs oidc_provider_arn: the ARN of the account's token.actions.githubusercontent.com provider (aws iam list-open-id-connect-providers)."
  }
}

variable "role_name" {
  description = "Name of the read-only plan role (the workflow's vars.AWS_PLAN_ROLE_ARN points at it)."
  type        = string
  default     = "scones-terraform-plan"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, the role's credentials last (3600-43200); a plan takes minutes."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "state_bucket_name" {
  description = "Bucket of the Terraform state the plan reads (backend.hcl `bucket`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "state_key" {
  description = "Key of the state object the plan reads (backend.hcl `key`); the role may read it and write only its .tflock next to it."
  type        = string
  default     = "scones-vehicle-classifier/dev/terraform.tfstate"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()/-]+$", var.state_key)) && !startswith(var.state_key, "/") && !strcontains(var.state_key, "*")
    error_message = "state_key must be an S3 key without a leading slash or wildcards."
  }
}

variable "state_kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the state bucket, if any: the role may decrypt the state and encrypt its lock with it. Null for SSE-S3 or aws/s3."
  type        = string
  default     = null

  validation {
    condition     = var.state_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "read_policy_arn" {
  description = "Managed policy that lets a plan refresh every resource (Describe/Get/List). Null uses AWS's ReadOnlyAccess; the role's own policy denies the data reads it would also allow."
  type        = string
  default     = null

  validation {
    condition     = var.read_policy_arn == null || can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$", var.read_policy_arn))
    error_message = "read_policy_arn must be null or an IAM policy ARN."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
