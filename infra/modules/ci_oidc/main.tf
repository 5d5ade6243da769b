data "aws_partition" "this" {}

locals {
  oidc_host = "token.actions.githubusercontent.com"
  # The audience aws-actions/configure-aws-credentials asks GitHub for (its `audience` input's
  # default), and so the only client ID the provider needs.
  audience = "sts.amazonaws.com"

  owner = split("/", var.github_repository)[0]
  repo  = split("/", var.github_repository)[1]
  # GitHub's `sub` for a job in an environment: repo:<org>/<repo>:environment:<name>, or with
  # the immutable IDs repo:<org>@<owner_id>/<repo>@<repo_id>:environment:<name>
  # (aws-actions/configure-aws-credentials README, "Immutable subject claims").
  immutable = var.github_owner_id != null && var.github_repository_id != null
  subject = (local.immutable
    ? "repo:${local.owner}@${var.github_owner_id}/${local.repo}@${var.github_repository_id}:environment:${var.github_environment}"
    : "repo:${var.github_repository}:environment:${var.github_environment}"
  )

  oidc_provider_arn = (var.create_oidc_provider
    ? aws_iam_openid_connect_provider.this[0].arn
    : var.oidc_provider_arn
  )

  state_bucket_arn = "arn:${data.aws_partition.this.partition}:s3:::${var.state_bucket_name}"
  state_object_arn = "${local.state_bucket_arn}/${var.state_key}"
  # use_lockfile = true: the lock is an object named <key>.tflock next to the state.
  lock_object_arn = "${local.state_object_arn}.tflock"
  read_policy_arn = coalesce(var.read_policy_arn, "arn:${data.aws_partition.this.partition}:iam::aws:policy/ReadOnlyAccess")
}

# One per URL per account: create_oidc_provider = false reuses the account's existing one.
# No thumbprint_list: for GitHub, IAM verifies the JWKS endpoint against its library of trusted
# root CAs and does not use configured thumbprints (IAM User Guide, "Create an OpenID Connect
# (OIDC) identity provider in IAM"; provider docs of aws_iam_openid_connect_provider).
resource "aws_iam_openid_connect_provider" "this" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.oidc_host}"
  client_id_list = [local.audience]

  tags = var.tags
}
