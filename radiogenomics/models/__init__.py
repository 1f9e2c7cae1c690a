"""Models: the networks and their file format, training (with the fused CPU step), the comparison models and their
files, and nested cross-validation.
"""

__all__ = ["baseline_files", "baselines", "nets", "selection", "training"]
