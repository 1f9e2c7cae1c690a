"""Shared fixtures: the real TCGA-GBM tables beside the checkout, skipped cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "tcga-gbm"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """Folder of the public TCGA-GBM tables (../shared/data/tcga-gbm); skips the test when it is absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real TCGA-GBM tables not found at {REAL_DATA} (a fresh clone without ../shared)")
    return REAL_DATA
