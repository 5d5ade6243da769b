output "role_arn" {
  description = "ARN of the plan role: set it as the GitHub variable AWS_PLAN_ROLE_ARN (of the repository or of the dev-plan environment)."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the plan role."
  value       = aws_iam_role.this.name
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider the role trusts (created here or passed in)."
  value       = local.oidc_provider_arn
}

output "subject" {
  description = "The `sub` claim the role accepts, e.g. repo:<org>/<repo>:environment:dev-plan."
  value       = local.subject
}
