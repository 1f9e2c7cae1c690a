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


@pytest.mark.parametrize("target_type", ["binary", "multiclass", "continuous"])
def test_row_scores_equal_score_for_a_shared_truth_and_for_one_truth_per_row(target_type):
    """primary_rows / secondary_rows (the vectorised scorers of masking and the bootstrap) give score()'s values,
    whether the rows share one truth (masking) or each row has its own (bootstrap resamples); the two layouts
    agree exactly."""
    rng = np.random.default_rng(7)
    n, k = 40, 6
    if target_type == "continuous":
        y = rng.normal(size=n)
        outputs = y[None, :, None] + rng.normal(scale=1.0, size=(k, n, 1))
    else:
        n_classes = 2 if target_type == "binary" else 3
        y = np.arange(n) % n_classes
        width = 1 if target_type == "binary" else n_classes
        outputs = rng.normal(size=(k, n, width)) + (np.eye(n_classes)[y][:, -width:] if width > 1 else y[:, None])
        outputs = np.round(outputs, 1)  # ties: mid-ranks, as scikit-learn
    primary, secondary = metrics.PRIMARY_METRIC[target_type], metrics.SECONDARY_METRIC[target_type]
    expected = [metrics.score(target_type, y, out, ["a", "b", "c"][: outputs.shape[2]]) for out in outputs]
    np.testing.assert_allclose(metrics.primary_rows(target_type, y, outputs), [e[primary] for e in expected],
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(metrics.secondary_rows(target_type, y, outputs), [e[secondary] for e in expected],
                               rtol=1e-12, atol=1e-12)
    per_row = metrics.primary_rows(target_type, np.tile(y, (k, 1)), outputs)
    assert np.array_equal(per_row, metrics.primary_rows(target_type, y, outputs))


def test_auc_rows_per_row_labels_and_one_class():
    scores = np.array([[0.1, 0.4, 0.35, 0.8], [0.5, 0.5, 0.5, 0.5]])
    labels = np.array([[0, 0, 1, 1], [1, 1, 1, 1]])
    auc = metrics.auc_rows(labels, scores)
    assert auc[0] == pytest.approx(0.75) and np.isnan(auc[1])
    assert metrics.r2_rows(np.array([1.0, 1.0]), np.array([[1.0, 1.0], [0.0, 1.0]])).tolist() == [1.0, 0.0]
