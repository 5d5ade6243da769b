"""`make bench`: benchmarks of conversion, the workflow, the model, Terraform, packages and cost."""
