"""Input errors that name the file, row and column, and the log line of what a step dropped."""

from __future__ import annotations

import logging
import os
from typing import Any


class InputError(ValueError):
    """Bad input data: the message names the file, the row/column and what was expected."""

    def __init__(self, path: str | os.PathLike | None, message: str, *, row: Any = None, column: Any = None):
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        where = []
        if self.path is not None:
            where.append(f"file {self.path!s}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


def log_dropped(logger: logging.Logger, what: str, dropped: dict[str, int] | None = None,
                total: int | None = None) -> None:
    """Log how many rows a step dropped and why (never drop silently)."""
    dropped = dropped or {}
    n = sum(dropped.values())
    tail = f" of {total}" if total is not None else ""
    if n == 0:
        logger.info("%s: dropped 0%s", what, tail)
        return
    reasons = "; ".join(f"{k}: {v}" for k, v in dropped.items() if v)
    logger.info("%s: dropped %d%s (%s)", what, n, tail, reasons)
