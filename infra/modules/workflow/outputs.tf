output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_type" {
  description = "Type of the per-image state machine: STANDARD or EXPRESS (workflow_type)."
  value       = aws_sfn_state_machine.this.type
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the state machine's role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the execution logs."
  value       = aws_cloudwatch_log_group.this.name
}

output "definition" {
  description = "The rendered ASL definition."
  value       = local.definition
}

output "batch_state_machine_arn" {
  description = "ARN of the batch state machine (a Distributed Map over a prefix)."
  value       = aws_sfn_state_machine.batch.arn
}

output "batch_state_machine_name" {
  description = "Name of the batch state machine."
  value       = aws_sfn_state_machine.batch.name
}

output "batch_role_arn" {
  description = "ARN of the batch state machine's role."
  value       = aws_iam_role.batch.arn
}

output "batch_definition" {
  description = "The rendered ASL definition of the batch machine."
  value       = local.batch_definition
}

output "batch_results_prefix" {
  description = "Key prefix (with its slash) of the batch runs' manifests."
  value       = "${var.batch_results_prefix}/"
}
