"""Interpretation: gene masking, gene saliency, the subtype validation of both, and the recovery of the simulator's
planted drivers.
"""

__all__ = ["masking", "recovery", "saliency", "subtype_validation"]
