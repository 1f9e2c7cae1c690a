"""Cohorts: typed targets, outer and inner split files, and the simulated TCGA-like cohort with planted truth.
"""

__all__ = ["simulate", "splits", "targets"]
