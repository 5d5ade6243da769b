# Application Auto Scaling of the provisioned variant: a target on its instance count and a
# target-tracking policy on invocations per instance. Serverless variants scale by themselves
# (max_concurrency) and have no instance count to scale.
#
# Scaling and deployments: SageMaker allows an UpdateEndpoint that changes only the model of a
# variant registered for auto scaling, which is every rollout `make promote` makes (same
# variant name, instance type and count: only the model package changes). An update that
# changes the instance type of a scaled variant fails; AWS says to delete the policies and
# deregister the target first, update, then register again
# (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html): in a root,
# apply with endpoint_autoscaling = null, change the instance type and apply, then restore it
# (README, "Autoscaling").
resource "aws_appautoscaling_target" "this" {
  count = local.create_autoscaling ? 1 : 0

  service_namespace  = "sagemaker"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this[0].name}/variant/${local.variant_name}"
  min_capacity       = var.autoscaling.min_capacity
  max_capacity       = var.autoscaling.max_capacity

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.initial_instance_count >= var.autoscaling.min_capacity && var.initial_instance_count <= var.autoscaling.max_capacity
      error_message = "initial_instance_count (${var.initial_instance_count}) must lie between autoscaling.min_capacity and max_capacity: a new endpoint configuration starts at it."
    }
  }
}

resource "aws_appautoscaling_policy" "this" {
  count = local.create_autoscaling ? 1 : 0

  name               = "${var.name_prefix}-invocations-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[0].resource_id

  target_tracking_scaling_policy_configuration {
    # Invocations per instance per minute, averaged over the variant's instances.
    target_value       = var.autoscaling.target_invocations_per_instance
    scale_in_cooldown  = var.autoscaling.scale_in_cooldown_seconds
    scale_out_cooldown = var.autoscaling.scale_out_cooldown_seconds

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}
