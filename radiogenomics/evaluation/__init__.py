"""Scores: the typed metrics every stage scores through, paired bootstrap intervals, shuffled-label nulls, the held-out
cohort and multiple-testing corrections.
"""

__all__ = ["bootstrap", "heldout", "metrics", "null_calibration", "stats"]
