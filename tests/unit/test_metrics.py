import numpy as np
import pytest

from radiogenomics.evaluation import metrics


def test_binary_scores_match_sklearn_conventions():
    y = np.array([0, 0, 1, 1])
    s = metrics.score("binary", y, np.array([[-2.0], [0.5], [0.1], [3.0]]))
    assert s["auc"] == pytest.approx(0.75)
    assert 0 < s["ap"] <= 1
    assert np.isnan(metrics.score("binary", [1, 1], np.zeros((2, 1)))["auc"])


def test_multiclass_scores_per_class_and_macro():
    y = np.array([0, 1, 2, 0, 1, 2])
    logits = np.eye(3)[y] * 5
    s = metrics.score("multiclass", y, logits, ["a", "b", "c"])
    assert s["auc_macro"] == 1.0 and s["accuracy"] == 1.0 and s["auc_b"] == 1.0


def test_continuous_scores():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    s = metrics.score("continuous", y, y[:, None] + 0.5)
    assert s["mae"] == pytest.approx(0.5) and s["spearman"] == pytest.approx(1.0)
    assert s["r2"] == pytest.approx(1 - 4 * 0.25 / 5.0)


def test_unknown_type():
    with pytest.raises(ValueError, match="unknown target type"):
        metrics.score("ordinal", [0], np.zeros((1, 1)))
