# Offline tests of the CI role module: `terraform test`, plans only. The real provider renders
# the policy documents locally (no API call), so the assertions read the JSON IAM would get.
# Only the OIDC provider's ARN, known after apply, is given at plan (override_during needs
# Terraform 1.11).

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "mock-access-key"
  secret_key                  = "mock-secret-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

override_resource {
  target          = aws_iam_openid_connect_provider.this
  override_during = plan
  values = {
    arn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
  }
}

variables {
  account_id        = "111111111111"
  github_repository = "scones-unlimited/vehicle-classifier"
  state_bucket_name = "scones-terraform-state-test"
}

run "trust_pins_the_repository_environment_and_audience" {
  command = plan

  assert {
    condition     = aws_iam_openid_connect_provider.this[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.this[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The OIDC provider must be GitHub's, with the STS audience as its only client ID."
  }

  assert {
    condition     = length(jsondecode(data.aws_iam_policy_document.trust.json).Statement) == 1
    error_message = "The trust policy must have exactly one statement."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.trust.json).Statement :
      s.Effect == "Allow" && flatten([s.Action]) == ["sts:AssumeRoleWithWebIdentity"] &&
      flatten([s.Principal.Federated]) == ["arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"]
    ])
    error_message = "Only the GitHub OIDC provider may assume the role, with AssumeRoleWithWebIdentity."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.trust.json).Statement :
      keys(s.Condition) == ["StringEquals"] &&
      flatten([s.Condition.StringEquals["token.actions.githubusercontent.com:sub"]]) == ["repo:scones-unlimited/vehicle-classifier:environment:dev-plan"] &&
      flatten([s.Condition.StringEquals["token.actions.githubusercontent.com:aud"]]) == ["sts.amazonaws.com"] &&
      length(keys(s.Condition.StringEquals)) == 2
    ])
    error_message = "The trust must pin sub to repo:<org>/<repo>:environment:dev-plan and aud to sts.amazonaws.com with StringEquals, and nothing looser."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy) == jsondecode(data.aws_iam_policy_document.trust.json)
    error_message = "The role must carry that trust policy."
  }

  assert {
    condition     = output.subject == "repo:scones-unlimited/vehicle-classifier:environment:dev-plan"
    error_message = "The subject output must be the sub the role accepts."
  }
}

run "access_is_the_state_key_its_lock_and_reads" {
  command = plan

  variables {
    state_key         = "scones-vehicle-classifier/dev/terraform.tfstate"
    state_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement :
      alltrue([for r in flatten([try(s.Resource, [])]) : contains([
        "arn:aws:s3:::scones-terraform-state-test",
        "arn:aws:s3:::scones-terraform-state-test/scones-vehicle-classifier/dev/terraform.tfstate",
        "arn:aws:s3:::scones-terraform-state-test/scones-vehicle-classifier/dev/terraform.tfstate.tflock",
        "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000",
      ], r)])
      if s.Effect == "Allow"
    ])
    error_message = "The role's own policy may allow only the state bucket, the state key, its lock and the state's KMS key."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement :
      !contains(flatten([s.Action]), "s3:PutObject") && !contains(flatten([s.Action]), "s3:DeleteObject")
      if s.Effect == "Allow" && contains(flatten([try(s.Resource, [])]), "arn:aws:s3:::scones-terraform-state-test/scones-vehicle-classifier/dev/terraform.tfstate")
    ])
    error_message = "The plan role must not write or delete the state."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement :
      s.Effect == "Allow" && toset(flatten([s.Action])) == toset(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) &&
      flatten([try(s.Resource, [])]) == ["arn:aws:s3:::scones-terraform-state-test/scones-vehicle-classifier/dev/terraform.tfstate.tflock"]
    ])
    error_message = "The plan role must be able to take and release the state's lock (<key>.tflock)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(data.aws_iam_policy_document.this.json).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "s3:GetObject") &&
      toset(flatten([try(s.NotResource, [])])) == toset([
        "arn:aws:s3:::scones-terraform-state-test/scones-vehicle-classifier/dev/terraform.tfstate",
        "arn:aws:s3:::scones-terraform-state-test/scones-vehicle-classifier/dev/terraform.tfstate.tflock",
      ])
    ])
    error_message = "Object reads other than the state and its lock must be denied."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.this.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    error_message = "By default the role reads configuration through AWS's ReadOnlyAccess."
  }
}

run "immutable_subject_with_ids" {
  command = plan

  variables {
    github_owner_id      = 123456
    github_repository_id = 789012
    github_environment   = "dev-plan"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.trust.json).Statement :
      flatten([s.Condition.StringEquals["token.actions.githubusercontent.com:sub"]]) == ["repo:scones-unlimited@123456/vehicle-classifier@789012:environment:dev-plan"]
    ])
    error_message = "With the IDs, sub must take the immutable form repo:<org>@<id>/<repo>@<id>:environment:<env>."
  }
}

run "reuses_an_existing_provider" {
  command = plan

  variables {
    create_oidc_provider = false
    oidc_provider_arn    = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.this) == 0
    error_message = "No provider may be created when the account has one."
  }

  assert {
    condition     = output.oidc_provider_arn == "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    error_message = "The role must trust the provider passed in."
  }
}

run "an_existing_provider_needs_its_arn" {
  command = plan

  variables {
    create_oidc_provider = false
  }

  expect_failures = [var.oidc_provider_arn]
}

run "ids_come_in_pairs" {
  command = plan

  variables {
    github_owner_id = 123456
  }

  expect_failures = [var.github_repository_id]
}

run "rejects_invalid_values" {
  command = plan

  variables {
    github_repository  = "vehicle-classifier"
    github_environment = "dev-*"
    state_key          = "/state/*"
    oidc_provider_arn  = "arn:aws:iam::111111111111:oidc-provider/gitlab.com"
  }

  expect_failures = [
    var.github_repository,
    var.github_environment,
    var.state_key,
    var.oidc_provider_arn,
  ]
}
