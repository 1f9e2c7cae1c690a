"""Settings of the survival stage read from the ``survival:`` config block (no heavy imports: the workflow reads
them while it builds the DAG)."""

from __future__ import annotations

from typing import Mapping

import numpy as np

#: Default least numbers of carriers and of non-carriers for a radiogenomic trait to be tested.
RADIOGENOMIC_MIN_CARRIERS = 10
RADIOGENOMIC_MIN_NON_CARRIERS = 10


def check_minimums(min_carriers: int, min_non_carriers: int) -> None:
    """Both minimums are integers of at least 1 (``ValueError`` otherwise)."""
    for name, value in (("min_carriers", min_carriers), ("min_non_carriers", min_non_carriers)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer of at least 1, got {value!r}")


def resolve_radiogenomic_minimums(survival_config: Mapping, *, default_min_carriers: int = RADIOGENOMIC_MIN_CARRIERS
                                  ) -> tuple[int, int, str]:
    """Least carriers and non-carriers of a tested radiogenomic trait from the ``survival:`` config block.

    ``radiogenomic_min_carriers`` / ``radiogenomic_min_non_carriers`` as the
    schema fills them (defaults 10 and 10). The older key
    ``radiogenomic_min_patients`` (a least number of carriers; no default)
    still sets the minimum of carriers when ``radiogenomic_min_carriers`` is
    at its default, and a message says it is deprecated; beside a different
    ``radiogenomic_min_carriers`` it is a ``ValueError``.

    Returns (min_carriers, min_non_carriers, message to log or "").
    """
    carriers = survival_config.get("radiogenomic_min_carriers", default_min_carriers)
    non_carriers = survival_config.get("radiogenomic_min_non_carriers", RADIOGENOMIC_MIN_NON_CARRIERS)
    message = ""
    old = survival_config.get("radiogenomic_min_patients")
    if old is not None:
        if carriers not in (old, default_min_carriers):
            raise ValueError(f"config: survival.radiogenomic_min_patients ({old}) is the older name of "
                             f"survival.radiogenomic_min_carriers ({carriers}); set only radiogenomic_min_carriers")
        message = (f"config: survival.radiogenomic_min_patients is deprecated; read as radiogenomic_min_carriers: "
                   f"{old} (radiogenomic_min_non_carriers: {non_carriers})")
        carriers = old
    check_minimums(carriers, non_carriers)
    return int(carriers), int(non_carriers), message
