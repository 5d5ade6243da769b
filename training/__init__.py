"""Data conversion, training launch, the local trainer and evaluation for the vehicle classifier."""
