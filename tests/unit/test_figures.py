"""Figures: each public function writes a non-empty file; the figure objects carry the labels and marks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.errors import InputError
from radiogenomics.plots import figures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_png(path):
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC)


def _cohort(n: int = 90, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"TCGA-XX-{i:04d}" for i in range(n)]
    trait = rng.choice(["Minimal", "Less than 1/3", "More than 2/3"], size=n)
    scale = np.where(trait == "Minimal", 700.0, 350.0)
    endpoint = pd.DataFrame({"time": np.round(rng.exponential(scale)) + 1,
                             "event": (rng.uniform(size=n) < 0.7).astype(int)},
                            index=pd.Index(ids, name="patient"))
    targets = pd.DataFrame({"f5": trait, "f9": rng.choice(["yes", "no"], size=n), "single": "x"}, index=ids)
    return endpoint, targets.iloc[::-1]


def _all_text(fig) -> str:
    parts = []
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels() + ax.texts]
        leg = ax.get_legend()
        if leg is not None:
            parts += [leg.get_title().get_text()] + [t.get_text() for t in leg.get_texts()]
    parts.append(fig._suptitle.get_text() if fig._suptitle is not None else "")
    return "\n".join(parts)


def test_km_figure_labels_at_risk_and_legend(tmp_path):
    endpoint, targets = _cohort()
    with figures.style():
        fig = figures.km_figure(endpoint, targets["f5"], title="Proportion enhancing",
                                 group_order=["Minimal", "Less than 1/3", "More than 2/3"])
        main = fig.axes[0]
        assert main.get_xlabel() == "Time (days)"
        assert main.get_ylabel() == "Overall survival probability"
        assert main.get_title() == "Proportion enhancing"
        legend = main.get_legend()
        assert legend.get_title().get_text().startswith("Log-rank p = ")
        labels = [t.get_text() for t in legend.get_texts()]
        assert [lab.split(" (")[0] for lab in labels] == ["Minimal", "Less than 1/3", "More than 2/3"]
        assert all("n = " in lab and "median" in lab for lab in labels)
        # the number-at-risk table is a second axis below the plot
        at_risk = [t.get_text() for ax in fig.axes[1:] for t in ax.get_xticklabels()]
        assert any(text.startswith("At risk") for text in at_risk)
        assert len(main.collections) >= 3  # one 95% band per group
        fig.canvas.draw()
        assert min(t.get_fontsize() for t in main.get_xticklabels() + main.get_yticklabels()) >= 9
    out = tmp_path / "km.png"
    figures.draw(figures.km_figure, out, endpoint, targets["f5"], title="Proportion enhancing")
    _assert_png(out)


def test_km_svg_months_and_degenerate_group(tmp_path):
    endpoint, targets = _cohort()
    out = tmp_path / "km.svg"
    figures.draw(figures.km_figure, out, endpoint, targets["f9"], title="Multifocal", time_unit="months")
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))
    with figures.style():
        fig = figures.km_figure(endpoint, targets["f9"], title="t", time_unit="months")
    assert fig.axes[0].get_xlabel() == "Time (months)"
    # a single group: the plot is still drawn, with p n/a and the reason
    fig = figures.km_figure(endpoint, targets["single"], title="one group")
    assert "Log-rank p: n/a" in fig.axes[0].get_legend().get_title().get_text()
    with pytest.raises(ValueError, match="time unit"):
        figures.km_figure(endpoint, targets["f9"], title="t", time_unit="fortnights")


def test_km_grid_titles_carry_p(tmp_path):
    endpoint, targets = _cohort()
    fig = figures.km_grid_figure(endpoint, targets, ["f5", "f9", "single", "f5"])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4
    assert all("log-rank p = " in ax.get_title() for ax in visible)
    assert "log-rank p = n/a" in visible[2].get_title()
    out = tmp_path / "grid.png"
    figures.draw(figures.km_grid_figure, out, endpoint, targets, ["f5", "f9"])
    _assert_png(out)


def _cv_scores() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for target in ["f5", "f6", "f9"]:
        for fold in range(5):
            rows.append({"target": target, "fold": fold, "auc": rng.uniform(0.55, 0.8), "ap": rng.uniform(0.3, 0.6)})
    for fold in range(5):  # a multi-class target only has auc_macro
        rows.append({"target": "f7", "fold": fold, "auc": np.nan, "ap": np.nan, "auc_macro": rng.uniform(0.5, 0.7)})
    return pd.DataFrame(rows)


def test_cv_scores_bars_points_chance_and_macro_fallback(tmp_path):
    scores = _cv_scores()
    fig = figures.cv_scores_figure(scores, metric="auc")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "CV ROC AUC (outer folds)"
    assert ax.get_ylim() == (0.0, 1.0)
    assert any(line.get_linestyle() == "--" and line.get_ydata()[0] == 0.5 for line in ax.get_lines())
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["f5", "f6", "f9", "f7\n(macro)"]
    heights = [p.get_height() for p in ax.patches]
    expected = [scores.loc[scores.target == t, "auc"].mean() for t in ["f5", "f6", "f9"]]
    expected.append(scores.loc[scores.target == "f7", "auc_macro"].mean())
    np.testing.assert_allclose(heights, expected)
    out = tmp_path / "cv.png"
    figures.draw(figures.cv_scores_figure, out, scores)
    _assert_png(out)


def test_cv_scores_long_format_metric_value(tmp_path):
    long = pd.DataFrame({"target": ["f5"] * 3 + ["f7"] * 3, "fold": [0, 1, 2] * 2,
                         "metric": ["auc"] * 3 + ["auc_macro"] * 3,
                         "metric_value": [0.6, 0.7, 0.8, 0.5, 0.55, np.nan]})
    fig = figures.cv_scores_figure(long)
    np.testing.assert_allclose([p.get_height() for p in fig.axes[0].patches], [0.7, 0.525])
    out = tmp_path / "cv_long.png"
    figures.draw(figures.cv_scores_figure, out, long)
    _assert_png(out)
    with pytest.raises(InputError):
        figures.draw(figures.cv_scores_figure, tmp_path / "x.png",
                     long.drop(columns="metric_value").drop(columns="metric"))


def _masking_tables() -> dict[str, pd.DataFrame]:
    sets = [f"SET_{i}" for i in range(6)]
    a = pd.DataFrame({"set": sets, "n_genes": 10, "auc": [0.52, 0.55, 0.6, 0.65, 0.7, 0.72],
                      "fdr": [0.01, 0.2, 0.04, 0.5, 0.9, 0.9], "rank": [1, 2, 3, 4, 5, 6]})
    b = pd.DataFrame({"set": sets[::-1], "n_genes": 10, "auc_macro": [0.5, 0.58, 0.6, 0.61, 0.7, 0.75],
                      "fdr": [0.001, 0.3, 0.3, 0.3, 0.3, 0.3], "rank": [1, 2, 3, 4, 5, 6]})
    return {"f5": a, "f7": b}


def test_masking_heatmap_marks_significant_cells(tmp_path):
    tables = _masking_tables()
    value, fdr, metrics = figures._masking_matrices(tables, None, top=2)
    assert metrics == {"f5": "auc", "f7": "auc_macro"}
    assert list(value.index) == ["SET_0", "SET_5", "SET_1", "SET_4"]  # union of top 2, best rank first
    assert value.loc["SET_5", "f7"] == 0.5 and value.loc["SET_0", "f5"] == 0.52

    fig = figures.masking_figure(tables, top=2)
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    marked = set()
    for text in ax.texts:
        if text.get_text() == "*":
            x, y = text.get_position()
            marked.add((rows[int(y)], cols[int(x)]))
    assert marked == {("SET_0", "f5"), ("SET_5", "f7")}
    cbar_label = fig.axes[1].get_ylabel()
    assert "masked" in cbar_label and "auc_macro" in cbar_label

    out = tmp_path / "mask.png"
    figures.draw(figures.masking_figure, out, tables, metric_col_by_target={"f5": "auc", "f7": "auc_macro"}, top=3)
    _assert_png(out)
    with pytest.raises(InputError, match="primary metrics"):
        figures.draw(figures.masking_figure, tmp_path / "bad.png", {"f5": tables["f5"].drop(columns="auc")})


def test_enrichment_heatmap_counts(tmp_path):
    summaries = {
        "f5": pd.DataFrame({"set": ["A", "B", "C"], "n_rankings": 40, "n_enriched": [30, 10, 2],
                            "share_enriched": [0.75, 0.25, 0.05]}),
        "f6": pd.DataFrame({"set": ["B", "D"], "n_rankings": 20, "n_enriched": [18, 1], "share_enriched": [0.9, 0.05]}),
    }
    fig = figures.enrichment_figure(summaries, top=2)
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["B", "A", "D"]
    texts = {t.get_text() for t in ax.texts}
    assert {"30/40", "10/40", "18/20", "1/20"} <= texts
    assert fig.axes[1].get_ylabel() == "Share of patients with the set enriched"
    out = tmp_path / "enrichment.png"
    figures.draw(figures.enrichment_figure, out, summaries, top=2)
    _assert_png(out)


def test_driver_recovery(tmp_path):
    recovery = pd.DataFrame({"target": ["f5", "f6", "f7"], "driver": ["HYPOXIA", "ANGIOGENESIS", "EMT"],
                             "rank": [1, 7, np.nan], "n_sets": [50, 50, 71]})
    fig = figures.driver_recovery_figure(recovery)
    text = _all_text(fig)
    assert "rank 1 of 50" in text and "rank 7 of 50" in text and "not ranked (of 71)" in text
    assert "lower is better" in fig.axes[0].get_xlabel()
    out = tmp_path / "drivers.png"
    figures.draw(figures.driver_recovery_figure, out, recovery)
    _assert_png(out)
    with pytest.raises(InputError, match="n_sets"):
        figures.draw(figures.driver_recovery_figure, tmp_path / "bad.png", recovery.drop(columns="n_sets"))
