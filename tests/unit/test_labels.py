"""What the outputs say matches what the code computes: metric column names, bootstrap and epoch wording."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import REPO
from test_bootstrap import CLASSES, _predictions
from test_masking import _typed_model

from radiogenomics.evaluation import bootstrap

REPORT = REPO / "workflow" / "report"


def test_no_auc_column_holds_r2_for_a_continuous_target():
    pred = _predictions("continuous", seed=4)
    boot = bootstrap.bootstrap_scores(pred, "continuous", CLASSES["continuous"], n_boot=50, seed=1, target="size")
    cv = bootstrap.fold_scores(pred, "continuous", CLASSES["continuous"], target="size")
    summary = bootstrap.summarise(cv, boot)
    assert set(summary["metric"]) == {"r2"}
    assert not [c for c in summary.columns if "auc" in c], summary.columns
    for table in (boot, cv):
        assert not [c for c in table.columns if "auc" in c] and set(table["metric"]) == {"r2"}

    from radiogenomics.interpret.masking import gene_masking, single_gene_masking

    model, expression, y, sets = _typed_model("continuous", np.random.default_rng(3))
    masked = gene_masking(model, expression, y, sets, n_random=10)
    assert "r2" in masked.columns and not [c for c in masked.columns if "auc" in c], masked.columns
    single = single_gene_masking(model, expression, y)
    assert "r2" in single.columns and not [c for c in single.columns if "auc" in c], single.columns


@pytest.mark.parametrize("caption", ["evaluation_summary.rst", "performance.rst"])
def test_bootstrap_captions_say_resampling_within_folds_as_the_code_does(caption):
    """bootstrap.bootstrap_scores resamples within each outer fold and averages the fold scores."""
    text = " ".join((REPORT / caption).read_text().split())
    assert "within each outer fold" in text and "fold scores averaged" in text, text
    assert not re.search(r"resamples of the pooled", text), text
    assert "resampled within their fold" in " ".join(bootstrap.__doc__.split())


def test_epoch_rule_is_stated_once_and_matches_the_code():
    """Each refit trains for the epochs its own inner CV chose; no median over outer folds exists."""
    from radiogenomics.models import selection, training

    assert not hasattr(training, "final_epochs")
    docs = {name: " ".join((REPO / name).read_text().split()) for name in ("README.md", "docs/methods.md")}
    assert not [name for name, text in docs.items() if "median early-stopping epoch" in text]
    assert "exactly the epoch count its own inner cross-validation chose" in docs["docs/methods.md"]
    assert "its own inner cross-validation chose" in " ".join(training.__doc__.split())
    assert "exactly ``selection.epochs``" in " ".join(selection.fit_selected.__doc__.split())
