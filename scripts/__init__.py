"""Operator and build scripts, run as `python -m scripts.<name>`."""
