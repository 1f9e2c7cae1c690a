"""Logging set-up for workflow scripts: everything goes to the rule's log file."""

from __future__ import annotations

import logging
import sys


def setup(log_path: str | None = None, level: int = logging.INFO) -> logging.Logger:
    """Send the package's log records (and uncaught exceptions) to ``log_path`` and stderr."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers, force=True)
    logger = logging.getLogger("radiogenomics")

    def _hook(exc_type, exc, tb):
        logger.error("failed", exc_info=(exc_type, exc, tb))

    sys.excepthook = _hook
    return logger
