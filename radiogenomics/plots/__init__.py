"""Figures and paper tables: one function per figure, PNG and SVG from the same call.
"""

__all__ = ["figures", "paper"]
