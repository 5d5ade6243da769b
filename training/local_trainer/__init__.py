"""A CPU stand-in for SageMaker's built-in Image Classification algorithm: same contract."""
