"""Figures of every stage: survival curves, CV scores, masking and enrichment heatmaps, driver recovery,
subtype validation, null calibration (and, in :mod:`radiogenomics.plots.paper`, the paper's own figures).

One function per figure: ``<name>_figure(...)`` builds it and returns the matplotlib ``Figure`` (tests
inspect it). :func:`draw` is the one way figures are written: it builds a figure in the project style
and writes it as PNG (150 dpi) and SVG (text kept as text) from the same ``Figure``, each atomically
(:func:`radiogenomics.results.save_figure`). The report and the paper target use the same files.
Figures use colour-blind-safe palettes (seaborn "colorblind", cividis,
viridis), labelled axes with units, and tick labels of at least 9 pt.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import textwrap
from typing import Callable, Hashable, Iterator, Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import seaborn as sns
from lifelines import KaplanMeierFitter
from lifelines.plotting import add_at_risk_counts
from matplotlib import ticker as _ticker
from matplotlib import transforms as _transforms
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from radiogenomics import survival
from radiogenomics.errors import InputError
from radiogenomics.results import save_figure

log = logging.getLogger(__name__)

DPI = 150
SIGNIFICANCE_FDR = 0.05
TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}

_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11.5,
    "axes.labelsize": 11,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9.5,
    "figure.titlesize": 12.5,
    "svg.fonttype": "none",
    "axes.spines.top": False,
    "axes.spines.right": False,
}

_METRIC_LABEL = {
    "auc": "CV ROC AUC (outer folds)",
    "auc_macro": "CV ROC AUC (outer folds)",
    "ap": "CV average precision (outer folds)",
    "ap_macro": "CV average precision (outer folds)",
    "r2": "CV R² (outer folds)",
    "spearman": "CV Spearman ρ (outer folds)",
}
_METRIC_NAME = {"auc": "ROC AUC", "auc_macro": "macro ROC AUC", "r2": "R²"}
_METRIC_FALLBACK = {"auc": ["auc_macro"], "auc_macro": ["auc"], "ap": ["ap_macro"], "ap_macro": ["ap"]}
_PRIMARY_METRICS = ("auc", "auc_macro", "r2")


@contextlib.contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(_STYLE):
        yield


def _save(fig: Figure, path: str | os.PathLike) -> None:
    save_figure(fig, path, dpi=DPI, bbox_inches="tight")
    log.info("wrote figure %s", path)


def format_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "n/a"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.3g}" if p < 0.01 else f"{p:.2f}"


def require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(None, f"{what} lacks column(s) {missing}; it has {list(df.columns)}")


# --------------------------------------------------------------------------- Kaplan–Meier

def _ordered_groups(values: pd.Series, group_order: Sequence[Hashable] | None) -> list:
    present = survival.group_levels(values)
    if group_order is None:
        return present
    order = [g for g in group_order if g in present]
    absent = [g for g in group_order if g not in present]
    if absent:
        log.info("KM plot: group(s) %s in group_order have no patients", absent)
    rest = [g for g in present if g not in order]
    if rest:
        log.info("KM plot: group(s) %s not in group_order are drawn last", rest)
    return order + rest


def _time_scale(time_unit: str) -> float:
    if time_unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {time_unit!r}; use one of {list(TIME_UNITS)}")
    return TIME_UNITS[time_unit]


def _fit_groups(data: pd.DataFrame, order: list, scale: float) -> list[tuple[Hashable, KaplanMeierFitter, int, int]]:
    fitted = []
    for g in order:
        sub = data.loc[data["group"] == g]
        kmf = KaplanMeierFitter(label=str(g))
        kmf.fit(sub["time"] / scale, event_observed=sub["event"])
        fitted.append((g, kmf, int(len(sub)), int(sub["event"].sum())))
    return fitted


def _median_text(kmf: KaplanMeierFitter, time_unit: str) -> str:
    m = float(kmf.median_survival_time_)
    if not np.isfinite(m):
        return "median not reached"
    return f"median {m:.0f} {time_unit}" if m >= 10 else f"median {m:.1f} {time_unit}"


def km_figure(endpoint: pd.DataFrame, groups: pd.Series, *, title: str,
               group_order: Sequence[Hashable] | None = None, time_unit: str = "days",
               ylabel: str = "Overall survival probability") -> Figure:
    """Kaplan–Meier curves per group with 95% bands, number at risk, log-rank p and n/median per group.

    ``groups`` is joined to ``endpoint`` by patient ID. ``time_unit`` is one
    of days, weeks, months, years (the endpoint is in days); ``ylabel`` names
    the endpoint.
    """
    scale = _time_scale(time_unit)
    data = survival.join_groups(endpoint, groups)
    if data.empty:
        raise InputError(None, f"KM plot {title!r}: no patient has both an endpoint and a group")
    order = _ordered_groups(data["group"], group_order)
    fitted = _fit_groups(data, order, scale)
    test = survival.logrank_joined(data)
    colors = sns.color_palette("colorblind", max(len(fitted), 1))

    fig = Figure(figsize=(7.0, 5.0 + 0.22 * len(fitted)))
    ax = fig.add_axes((0.13, 0.12 + 0.05 * len(fitted), 0.82, 0.78 - 0.05 * len(fitted)))
    for (g, kmf, n, events), color in zip(fitted, colors):
        kmf.plot_survival_function(ax=ax, ci_show=True, ci_alpha=0.18, color=color, linewidth=1.8,
                                   show_censors=True, censor_styles={"ms": 5, "marker": "|"},
                                   label=f"{g} (n = {n}, {events} deaths; {_median_text(kmf, time_unit)})")
    ax.set_xlabel(f"Time ({time_unit})")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0.0, 1.03)
    ax.set_xlim(left=0.0)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3, linewidth=0.6)
    if np.isfinite(test["p"]):
        p_text = f"Log-rank p = {format_p(test['p'])} (χ² = {test['test_statistic']:.2f}, df = {test['df']:.0f})"
    else:
        p_text = f"Log-rank p: n/a ({test['note']})"
    ax.legend(loc="upper right", frameon=False, title=p_text)
    add_at_risk_counts(*[kmf for _, kmf, _, _ in fitted], labels=[str(g) for g, _, _, _ in fitted],
                       rows_to_show=["At risk"], ax=ax, fig=fig, fontsize=9)
    return fig


def km_grid_figure(endpoint: pd.DataFrame, targets: pd.DataFrame, columns: Sequence[str], *,
                    title: str = "Overall survival by imaging trait",
                    ylabel: str = "Overall survival probability") -> Figure:
    """One KM panel per trait column of ``targets`` (joined by patient), log-rank p and FDR in each title.

    ``title`` is the figure's title, ``ylabel`` names the endpoint.
    """
    columns = list(columns)
    if not columns:
        raise InputError(None, "KM grid: no trait columns given")
    table = survival.logrank_table(endpoint, targets, columns)
    ncols = min(3, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    fig = Figure(figsize=(4.4 * ncols, 3.8 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, (col, row) in zip(axes, zip(columns, table.itertuples(index=False))):
        data = survival.join_groups(endpoint, targets[col].rename(col), quiet=True)
        order = survival.group_levels(data["group"])
        colors = sns.color_palette("colorblind", max(len(order), 1))
        for (g, kmf, n, _), color in zip(_fit_groups(data, order, 1.0), colors):
            kmf.plot_survival_function(ax=ax, ci_show=True, ci_alpha=0.15, color=color, linewidth=1.5,
                                       show_censors=False, label=f"{g} (n = {n})")
        ax.set_ylim(0.0, 1.03)
        ax.set_xlim(left=0.0)
        ax.set_xlabel("Time (days)")
        ax.set_ylabel(ylabel)
        p_txt = f"log-rank p = {format_p(row.p)}"
        if np.isfinite(row.fdr):
            p_txt += f", FDR = {format_p(row.fdr)}"
        ax.set_title(f"{col}\n{p_txt}")
        if order:
            ax.legend(loc="upper right", frameon=False, fontsize=9)
        else:
            ax.text(0.5, 0.5, "no patients", ha="center", va="center", transform=ax.transAxes)
    for ax in axes[len(columns):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- CV scores

def _cv_long(cv_scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Long table target, fold, metric, value: one score per target and outer fold."""
    require_columns(cv_scores, ["target", "fold"], "cv_scores")
    if "metric_value" in cv_scores.columns:
        names = cv_scores["metric"] if "metric" in cv_scores.columns else pd.Series(metric, index=cv_scores.index)
        long = pd.DataFrame({"target": cv_scores["target"], "fold": cv_scores["fold"],
                             "metric": names.astype(str),
                             "value": pd.to_numeric(cv_scores["metric_value"], errors="coerce")})
    else:
        candidates = [metric] + _METRIC_FALLBACK.get(metric, [])
        candidates = [c for c in candidates if c in cv_scores.columns]
        if not candidates:
            raise InputError(None, f"cv_scores has no {metric!r} column (nor a fallback "
                                   f"{_METRIC_FALLBACK.get(metric, [])}, nor metric_value); "
                                   f"columns {list(cv_scores.columns)}")
        parts = []
        for target, sub in cv_scores.groupby("target", sort=False):
            for cand in candidates:
                vals = pd.to_numeric(sub[cand], errors="coerce")
                if vals.notna().any():
                    parts.append(pd.DataFrame({"target": target, "fold": sub["fold"], "metric": cand, "value": vals}))
                    break
            else:
                log.info("CV plot: target %s has no %s score; not drawn", target, " / ".join(candidates))
        if not parts:
            raise InputError(None, f"cv_scores: no target has a {' / '.join(candidates)} score")
        long = pd.concat(parts, ignore_index=True)
    n_na = int(long["value"].isna().sum())
    if n_na:
        log.info("CV plot: %d fold scores are NaN (undefined on the fold) and are not drawn", n_na)
    return long.loc[long["value"].notna()].reset_index(drop=True)


def cv_scores_figure(cv_scores: pd.DataFrame, metric: str = "auc") -> Figure:
    """Mean outer-fold score per target (bars) with fold points and SD error bars.

    ``cv_scores`` has columns ``target``, ``fold`` and metric columns. The
    value drawn is ``metric_value`` when that column exists (its ``metric``
    column, if any, names the metric of each row); otherwise the column
    ``metric``, falling back per target to the macro variant (``auc`` ->
    ``auc_macro``) for multi-class targets. AUC plots get a dashed chance
    line at 0.5 and a 0–1 axis.
    """
    long = _cv_long(cv_scores, metric)
    targets = list(pd.unique(long["target"]))
    stats = long.groupby("target", sort=False)["value"].agg(["mean", "std", "size"]).reindex(targets)
    used = long.groupby("target", sort=False)["metric"].first().reindex(targets)
    metrics_used = set(used)
    is_auc = metrics_used <= {"auc", "auc_macro"}
    is_unit = metrics_used <= {"auc", "auc_macro", "ap", "ap_macro"}

    fig = Figure(figsize=(max(4.5, 1.0 + 0.75 * len(targets)), 4.6), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(targets))
    color = sns.color_palette("colorblind", 1)[0]
    ax.bar(x, stats["mean"], width=0.6, color=color, alpha=0.55, edgecolor=color, label="mean over folds")
    ax.errorbar(x, stats["mean"], yerr=stats["std"].fillna(0.0), fmt="none", ecolor="black", capsize=4,
                linewidth=1.2, label="± 1 SD")
    rng = np.random.default_rng(0)
    pos = {t: i for i, t in enumerate(targets)}
    px = long["target"].map(pos).to_numpy(dtype=float) + rng.uniform(-0.15, 0.15, len(long))
    ax.scatter(px, long["value"], s=18, color="black", alpha=0.75, zorder=3, label="outer fold")
    if is_auc:
        ax.axhline(0.5, linestyle="--", color="0.35", linewidth=1.0, label="chance (0.5)")
    if is_unit:
        ax.set_ylim(0.0, 1.0)
    labels = [f"{t}\n(macro)" if used[t] in ("auc_macro", "ap_macro") else str(t) for t in targets]
    ax.set_xticks(x, labels, rotation=45 if len(targets) > 8 else 0, ha="right" if len(targets) > 8 else "center")
    ax.set_xlabel("Imaging trait (network target)")
    if len(metrics_used) == 1 or is_auc:
        ax.set_ylabel(_METRIC_LABEL.get(next(iter(sorted(metrics_used))), f"CV {metric} (outer folds)"))
    else:
        ax.set_ylabel(f"CV score (outer folds): {' / '.join(sorted(metrics_used))}")
    ax.set_title("Cross-validated performance per imaging trait")
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    return fig


# --------------------------------------------------------------------------- heatmaps

def heatmap_ticks(ax) -> None:
    """Horizontal, readable tick labels (seaborn turns crowded y labels vertical)."""
    n_cols = len(ax.get_xticklabels())
    ax.tick_params(axis="both", labelsize=9.5)
    ax.tick_params(axis="y", labelrotation=0)
    ax.tick_params(axis="x", labelrotation=45 if n_cols > 6 else 0)
    if n_cols > 6:
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")


def _masking_metric(name: str, table: pd.DataFrame, metric_col_by_target: dict[str, str] | None) -> str:
    if metric_col_by_target and name in metric_col_by_target:
        col = metric_col_by_target[name]
        require_columns(table, [col], f"masking table of {name}")
        return col
    for col in _PRIMARY_METRICS:
        if col in table.columns:
            return col
    raise InputError(None, f"masking table of {name} has none of the primary metrics {_PRIMARY_METRICS}; "
                           f"pass metric_col_by_target (columns {list(table.columns)})")


def _masking_matrices(tables: dict[str, pd.DataFrame], metric_col_by_target: dict[str, str] | None,
                      top: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    if not tables:
        raise InputError(None, "masking heatmap: no tables given")
    values, fdrs, ranks, metrics = {}, {}, {}, {}
    chosen: dict[str, set] = {}
    for name, table in tables.items():
        metric = _masking_metric(name, table, metric_col_by_target)
        require_columns(table, ["set", "fdr"], f"masking table of {name}")
        metrics[name] = metric
        t = table.drop_duplicates("set").set_index("set")
        rank = t["rank"] if "rank" in t.columns else t[metric].rank(method="min", ascending=True)
        ranks[name] = rank.astype(float)
        values[name] = t[metric].astype(float)
        fdrs[name] = t["fdr"].astype(float)
        chosen[name] = set(rank.nsmallest(top).index)
    selected = set().union(*chosen.values())
    best = pd.DataFrame(ranks).reindex(sorted(selected)).min(axis=1)
    rows = list(best.sort_values(kind="mergesort").index)
    value = pd.DataFrame(values).reindex(index=rows, columns=list(tables))
    fdr = pd.DataFrame(fdrs).reindex(index=rows, columns=list(tables))
    return value, fdr, metrics


def masking_figure(tables: dict[str, pd.DataFrame], *, metric_col_by_target: dict[str, str] | None = None,
                    top: int = 20) -> Figure:
    """Heatmap of gene sets × networks coloured by the network's metric with the set masked.

    ``tables`` maps a network (target) name to its masking table (columns
    ``set``, ``n_genes``, the primary metric e.g. ``auc``, ``fdr``, ``rank``).
    Rows are the union of each network's ``top`` sets by ``rank`` (or by
    the metric, lowest first, when there is no rank); cells with
    ``fdr < 0.05`` carry '*'.
    """
    value, fdr, metrics = _masking_matrices(tables, metric_col_by_target, top)
    marks = np.where(fdr.to_numpy() < SIGNIFICANCE_FDR, "*", "")
    distinct = sorted(set(metrics.values()))
    if len(distinct) == 1:
        cbar_label = f"Network {_METRIC_NAME.get(distinct[0], distinct[0])} with the set masked"
        xlabels = list(value.columns)
    else:
        cbar_label = f"Primary metric with the set masked ({' / '.join(distinct)})"
        xlabels = [f"{c}\n({metrics[c]})" for c in value.columns]
    n_rows, n_cols = value.shape
    fig = Figure(figsize=(3.8 + 0.85 * n_cols, 1.8 + 0.3 * n_rows), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("0.88")
    sns.heatmap(value, ax=ax, cmap="cividis", mask=value.isna(), annot=marks, fmt="",
                annot_kws={"fontsize": 11, "fontweight": "bold"},
                linewidths=0.5, linecolor="white", cbar_kws={"label": cbar_label},
                xticklabels=xlabels, yticklabels=list(value.index))
    ax.set_xlabel("Network (imaging trait)")
    ax.set_ylabel("Gene set")
    heatmap_ticks(ax)
    ax.set_title(f"Gene-set masking (top {top} sets per network)\n* FDR < {SIGNIFICANCE_FDR}; grey: not tested")
    return fig


def enrichment_figure(summaries: dict[str, pd.DataFrame], *, top: int = 20) -> Figure:
    """Heatmap (sets × networks) of the share of patients whose saliency ranking enriches each set.

    ``summaries`` maps a network name to a table with ``set``,
    ``n_rankings``, ``n_enriched``, ``share_enriched``; rows are the union of
    each network's ``top`` sets by share; cells are annotated enriched/ranked.
    """
    if not summaries:
        raise InputError(None, "enrichment heatmap: no summaries given")
    shares, counts, totals = {}, {}, {}
    chosen: set = set()
    for name, table in summaries.items():
        require_columns(table, ["set", "n_rankings", "n_enriched", "share_enriched"], f"enrichment summary of {name}")
        t = table.drop_duplicates("set").set_index("set")
        shares[name] = t["share_enriched"].astype(float)
        counts[name] = t["n_enriched"]
        totals[name] = t["n_rankings"]
        ordered = t.sort_values(["share_enriched", "n_enriched"], ascending=[False, False], kind="mergesort")
        chosen.update(ordered.index[:top])
    share = pd.DataFrame(shares).reindex(sorted(chosen))
    rows = list(share.max(axis=1).sort_values(ascending=False, kind="mergesort").index)
    share = share.reindex(index=rows, columns=list(summaries))
    k = pd.DataFrame(counts).reindex(index=rows, columns=list(summaries))
    n = pd.DataFrame(totals).reindex(index=rows, columns=list(summaries))
    annot = np.empty(share.shape, dtype=object)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            kk, nn = k.iat[i, j], n.iat[i, j]
            annot[i, j] = "" if pd.isna(kk) else (f"{int(kk)}/{int(nn)}" if pd.notna(nn) else f"{int(kk)}")
    n_rows, n_cols = share.shape
    fig = Figure(figsize=(3.8 + 0.95 * n_cols, 1.8 + 0.3 * n_rows), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("0.88")
    sns.heatmap(share, ax=ax, cmap="viridis", vmin=0.0, vmax=1.0, mask=share.isna(), annot=annot, fmt="",
                annot_kws={"fontsize": 9}, linewidths=0.5, linecolor="white",
                cbar_kws={"label": "Share of patients with the set enriched"},
                xticklabels=list(share.columns), yticklabels=list(share.index))
    ax.set_xlabel("Network (imaging trait)")
    ax.set_ylabel("Gene set")
    heatmap_ticks(ax)
    ax.set_title(f"Saliency GSEA: patients with the set enriched (top {top} sets per network)\n"
                 "cell text: enriched / patients ranked; grey: not tested")
    return fig


# --------------------------------------------------------------------------- driver recovery

def driver_recovery_figure(recovery: pd.DataFrame) -> Figure:
    """Horizontal bars of each driver's rank (lower is better) with the number of sets ranked marked.

    ``recovery`` has columns ``target``, ``driver``, ``rank``, ``n_sets``; a
    missing rank is drawn as "not ranked".
    """
    require_columns(recovery, ["target", "driver", "rank", "n_sets"], "driver recovery table")
    if recovery.empty:
        raise InputError(None, "driver recovery table is empty")
    rec = recovery.copy()
    rec["rank"] = pd.to_numeric(rec["rank"], errors="coerce")
    rec["n_sets"] = pd.to_numeric(rec["n_sets"], errors="coerce")
    rec = rec.sort_values(["target", "rank"], kind="mergesort", na_position="last").reset_index(drop=True)
    targets = list(pd.unique(rec["target"]))
    palette = dict(zip(targets, sns.color_palette("colorblind", len(targets))))
    y = np.arange(len(rec))[::-1]
    fig = Figure(figsize=(7.0, 1.4 + 0.42 * len(rec)), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(y, rec["rank"].fillna(0.0), height=0.6, color=[palette[t] for t in rec["target"]])
    ax.scatter(rec["n_sets"], y, marker="|", s=260, linewidths=2.0, color="black", zorder=3)
    xmax = float(np.nanmax(np.concatenate([rec["rank"].to_numpy(), rec["n_sets"].to_numpy()])))
    xmax = xmax if np.isfinite(xmax) and xmax > 0 else 1.0
    for yi, r, n in zip(y, rec["rank"], rec["n_sets"]):
        n_txt = f"{int(n)}" if pd.notna(n) else "?"
        text = f"rank {int(r)} of {n_txt}" if pd.notna(r) else f"not ranked (of {n_txt})"
        ax.text(max(r if pd.notna(r) else 0.0, n if pd.notna(n) else 0.0) + 0.02 * xmax, yi, text,
                va="center", fontsize=9)
    ax.set_yticks(y, [f"{t}: {d}" for t, d in zip(rec["target"], rec["driver"])])
    ax.set_xlim(0, xmax * 1.3)
    ax.set_xlabel("Rank of the driver gene set (1 = most important; lower is better)")
    ax.set_ylabel("Network target: planted driver set")
    ax.set_title("Driver gene-set recovery\nbar: rank of the driver set; black tick: number of sets ranked")
    return fig


# --------------------------------------------------------------------------- Cox forest plot, radiogenomic KM


_RG_ENRICHED = "set enriched"
_RG_NOT_ENRICHED = "not enriched"


def _forest_columns(table: pd.DataFrame) -> tuple[str, str, str | None]:
    label = "covariate" if "covariate" in table.columns else ("trait" if "trait" in table.columns else None)
    p_col = "p" if "p" in table.columns else ("cox_p" if "cox_p" in table.columns else None)
    if label is None or p_col is None:
        raise InputError(None, "forest plot: the table needs a label column (covariate or trait) and a p column "
                               f"(p or cox_p) besides hr, ci_low, ci_high; it has {list(table.columns)}")
    require_columns(table, ["hr", "ci_low", "ci_high"], "forest plot table")
    fdr_col = next((c for c in ("cox_fdr", "fdr") if c in table.columns), None)
    return label, p_col, fdr_col


def _hr_ticks(xmin: float, xmax: float) -> list[float]:
    """Readable hazard-ratio ticks inside [xmin, xmax]: fine steps for a narrow range, 1-2-5 steps otherwise."""
    fine = [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10]
    ticks = [t for t in fine if xmin <= t <= xmax]
    if len(ticks) > 9 or xmin < 0.1 or xmax > 10:
        decades = range(int(math.floor(math.log10(xmin))), int(math.ceil(math.log10(xmax))) + 1)
        coarse = sorted({m * 10.0 ** e for e in decades for m in (1, 2, 5)})
        ticks = [t for t in coarse if xmin <= t <= xmax]
        if len(ticks) > 9:
            ticks = [t for t in ticks if f"{t:g}".lstrip("0.").startswith("1")]
    return ticks or [1.0]


def forest_figure(cox_table: pd.DataFrame, *, title: str) -> Figure:
    """Forest plot of hazard ratios with 95% CIs on a log axis, a dashed line at HR = 1, HR (CI) and p per row.

    ``cox_table`` is a :func:`survival.cox_fit` table (``covariate``, ``hr``,
    ``ci_low``, ``ci_high``, ``p``, ``note``) or a
    :func:`survival.radiogenomic_tests` table (``trait``, ..., ``cox_p``,
    ``cox_fdr``). Rows without an estimate are listed as "not estimable";
    rows with FDR (else p) below 0.05 are coloured.
    """
    label_col, p_col, fdr_col = _forest_columns(cox_table)
    if cox_table.empty:
        raise InputError(None, f"forest plot {title!r}: the table has no rows")
    table = cox_table.reset_index(drop=True)
    hr = pd.to_numeric(table["hr"], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(table["ci_low"], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(table["ci_high"], errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(table[p_col], errors="coerce").to_numpy(dtype=float)
    fdr = pd.to_numeric(table[fdr_col], errors="coerce").to_numpy(dtype=float) if fdr_col else None
    ok = np.isfinite(hr) & np.isfinite(lo) & np.isfinite(hi) & (lo > 0) & (hr > 0)
    n = len(table)
    y = np.arange(n)[::-1].astype(float)
    colors = sns.color_palette("colorblind", 2)  # [1]: orange, the significant rows; the others grey
    signif = (fdr < SIGNIFICANCE_FDR) if fdr is not None else (p < 0.05)
    signif = np.where(np.isfinite(fdr if fdr is not None else p), signif, False)

    fig = Figure(figsize=(8.6, 1.5 + 0.36 * n), layout="constrained")
    ax = fig.add_subplot()
    if ok.any():
        span = np.concatenate([lo[ok], hi[ok], [1.0]])
        xmin, xmax = float(span.min()) / 1.25, float(span.max()) * 1.25
    else:
        xmin, xmax = 0.5, 2.0
    for yi, h, l_, u, sig, good in zip(y, hr, lo, hi, signif, ok):
        if not good:
            continue
        color = colors[1] if sig else "0.45"
        ax.plot([l_, u], [yi, yi], color=color, linewidth=1.8, solid_capstyle="butt")
        ax.plot([h], [yi], marker="s", markersize=7, color=color, markeredgecolor="black", markeredgewidth=0.6)
    ax.axvline(1.0, color="0.35", linestyle="--", linewidth=1.0)
    ax.set_xscale("log")
    ax.set_xlim(xmin, xmax)
    ax.xaxis.set_major_locator(_ticker.FixedLocator(_hr_ticks(xmin, xmax)))
    ax.xaxis.set_major_formatter(_ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(_ticker.NullLocator())
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks(y, [str(v) for v in table[label_col]])
    trans = _transforms.blended_transform_factory(ax.transAxes, ax.transData)
    for i, yi in enumerate(y):
        if ok[i]:
            text = f"{hr[i]:.2f} ({lo[i]:.2f}–{hi[i]:.2f}), p = {format_p(p[i])}"
            if fdr is not None:
                text += f", FDR = {format_p(fdr[i])}"
        else:
            note = str(table["note"].iloc[i]) if "note" in table.columns and pd.notna(table["note"].iloc[i]) else ""
            text = "not estimable" + (f": {note[:60]}" if note else "")
        ax.text(1.02, yi, text, transform=trans, ha="left", va="center", fontsize=9)
    ax.set_xlabel("Hazard ratio (95% CI, log scale)")
    ax.set_ylabel("Covariate" if label_col == "covariate" else "Radiogenomic trait")
    ax.grid(axis="x", which="both", alpha=0.25, linewidth=0.6)
    marker = "FDR" if fdr is not None else "p"
    ax.set_title(f"{title}\nHR > 1: higher hazard; orange: {marker} < {SIGNIFICANCE_FDR if fdr is not None else 0.05}")
    return fig


def _radiogenomic_groups(rg_traits: pd.DataFrame, trait: str) -> pd.Series:
    if trait not in rg_traits.columns:
        raise InputError(None, f"radiogenomic trait {trait!r} is not a column of the table; it has "
                               f"{list(rg_traits.columns)[:10]}")
    values = pd.to_numeric(rg_traits[trait], errors="coerce")
    labels = values.map({1.0: _RG_ENRICHED, 0.0: _RG_NOT_ENRICHED})
    return labels.rename(trait)


def _trait_title(trait: str, width: int = 42) -> str:
    network, sep, gene_set = str(trait).partition(survival.RADIOGENOMIC_SEPARATOR)
    name = f"{network}: {gene_set}" if sep else str(trait)
    return "\n".join(textwrap.wrap(name, width=width, break_on_hyphens=False)) or name


def radiogenomic_km_figure(endpoint: pd.DataFrame, rg_traits: pd.DataFrame, trait: str, *,
                           time_unit: str = "days") -> Figure:
    """Kaplan–Meier curves (:func:`km_figure`) of the carriers of one radiogenomic trait vs the other patients.

    ``rg_traits`` is the table of :func:`survival.radiogenomic_traits`
    (1 carrier, 0 not, NaN not assessed; joined to ``endpoint`` by patient).
    """
    groups = _radiogenomic_groups(rg_traits, trait)
    network, _, gene_set = str(trait).partition(survival.RADIOGENOMIC_SEPARATOR)
    title = f"Radiogenomic trait {network} × {gene_set}" if gene_set else f"Radiogenomic trait {trait}"
    return km_figure(endpoint, groups, title=title, group_order=[_RG_NOT_ENRICHED, _RG_ENRICHED], time_unit=time_unit)


def radiogenomic_grid_figure(endpoint: pd.DataFrame, rg_traits: pd.DataFrame, *, tests: pd.DataFrame | None = None,
                             columns: Sequence[str] | None = None, max_panels: int = 12,
                             ylabel: str = "Overall survival probability", empty_message: str | None = None) -> Figure:
    """One KM panel per radiogenomic trait: carriers ("set enriched") vs the other assessed patients.

    Panels are ``columns`` of ``rg_traits``, else the ``max_panels``
    traits with the smallest Cox p of ``tests`` (a
    :func:`survival.radiogenomic_tests` table, whose log-rank FDR and
    adjusted HR go into the titles), else the first ``max_panels`` columns.
    ``ylabel`` names the endpoint (e.g. "Progression-free survival probability").
    With no trait to draw, a figure stating ``empty_message`` (why) is written
    when it is given; otherwise that is an ``InputError``.
    """
    if columns is None:
        if tests is not None:
            require_columns(tests, ["trait"], "radiogenomic tests table")
            key = "cox_p" if "cox_p" in tests.columns else "logrank_p"
            ranked = tests.assign(_p=pd.to_numeric(tests[key], errors="coerce")).sort_values(
                ["_p", "trait"], kind="mergesort", na_position="last")
            columns = [t for t in ranked["trait"] if t in rg_traits.columns][:max_panels]
        else:
            columns = list(rg_traits.columns)[:max_panels]
    columns = list(columns)
    if not columns and empty_message:
        fig = Figure(figsize=(7.0, 2.4), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "\n".join(textwrap.wrap(empty_message, width=80)), ha="center", va="center",
                transform=ax.transAxes, fontsize=10)
        fig.suptitle("Survival by radiogenomic trait: no trait to draw")
        return fig
    if not columns:
        raise InputError(None, "radiogenomic KM grid: no radiogenomic trait to draw")
    by_trait = tests.drop_duplicates("trait").set_index("trait") if tests is not None else None
    ncols = min(3, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    fig = Figure(figsize=(4.6 * ncols, 4.0 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    palette = dict(zip((_RG_NOT_ENRICHED, _RG_ENRICHED), sns.color_palette("colorblind", 2)))
    for ax, trait in zip(axes, columns):
        data = survival.join_groups(endpoint, _radiogenomic_groups(rg_traits, trait), quiet=True)
        order = [g for g in (_RG_NOT_ENRICHED, _RG_ENRICHED) if g in set(data["group"])]
        for g, kmf, n, events in _fit_groups(data, order, 1.0):
            kmf.plot_survival_function(ax=ax, ci_show=True, ci_alpha=0.15, color=palette[g], linewidth=1.5,
                                       show_censors=False, label=f"{g} (n = {n}, {events} events)")
        ax.set_ylim(0.0, 1.03)
        ax.set_xlim(left=0.0)
        ax.set_xlabel("Time (days)")
        ax.set_ylabel(ylabel)
        if by_trait is not None and trait in by_trait.index:
            r = by_trait.loc[trait]
            stats = f"log-rank p = {format_p(r.get('logrank_p'))}, FDR = {format_p(r.get('logrank_fdr'))}"
            if np.isfinite(r.get("hr", np.nan)):
                stats += (f"\nadj. HR {r['hr']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f}), "
                          f"FDR = {format_p(r.get('cox_fdr'))}")
        else:
            test = survival.logrank_joined(data)
            stats = f"log-rank p = {format_p(test['p'])}"
        ax.set_title(f"{_trait_title(trait)}\n{stats}", fontsize=10)
        if order:
            ax.legend(loc="upper right", frameon=False, fontsize=9)
        else:
            ax.text(0.5, 0.5, "no patients", ha="center", va="center", transform=ax.transAxes)
    for ax in axes[len(columns):]:
        ax.set_visible(False)
    fig.suptitle("Survival by radiogenomic trait (imaging-trait network × enriched gene set)")
    return fig


# --------------------------------------------------------------------------- network vs comparison models


_PERF_METRIC_LABEL = {"auc": "ROC AUC", "auc_macro": "macro ROC AUC", "r2": "R²"}
CLAIMED_MARGIN = 0.10  # the study's claimed AUC advantage of the networks over the comparison models


def performance_figure(summary: pd.DataFrame, boot: pd.DataFrame, *, reference: str = "network") -> Figure:
    """Network vs comparison models: CV scores with bootstrap intervals and paired bootstrap differences.

    Left: the CV mean (``mean_score``) per trait and model as grouped bars,
    error bars from ``ci_low`` to ``ci_high`` (``summary`` as
    :func:`radiogenomics.evaluation.bootstrap.summarise` writes it). Right: boxplots
    of the per-resample differences ``reference`` − model per trait from
    ``boot`` (:func:`radiogenomics.evaluation.bootstrap.bootstrap_scores` with a
    ``target`` column), with lines at 0 and at the study's claimed +0.10.
    """
    require_columns(summary, ["target", "model", "mean_score", "ci_low", "ci_high"], "performance summary")
    require_columns(boot, ["target", "resample", "model", "value"], "bootstrap table")
    if summary.empty:
        raise InputError(None, "performance summary is empty")
    targets = list(pd.unique(summary["target"]))
    models = list(pd.unique(summary["model"]))
    if reference in models:
        models = [reference] + [m for m in models if m != reference]
    others = [m for m in models if m != reference]
    palette = dict(zip(models, sns.color_palette("colorblind", len(models))))
    metrics = set(summary["metric"]) if "metric" in summary.columns else {"auc"}
    all_auc = metrics <= {"auc", "auc_macro"}
    metric_text = "ROC AUC" if all_auc else " / ".join(_PERF_METRIC_LABEL.get(m, m) for m in sorted(metrics))

    width = max(10.0, 3.0 + 1.3 * len(targets) * (1 + 0.12 * len(models)))
    fig = Figure(figsize=(width, 5.6), layout="constrained")
    ax_bar, ax_box = fig.subplots(1, 2)

    # left: CV mean per trait and model, bootstrap interval as error bars
    x = np.arange(len(targets))
    bar_w = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        sub = summary.loc[summary["model"] == model].set_index("target").reindex(targets)
        pos = x - 0.4 + bar_w * (j + 0.5)
        ax_bar.bar(pos, sub["mean_score"], width=bar_w * 0.92, color=palette[model], label=model)
        ok = sub["ci_low"].notna() & sub["ci_high"].notna()
        ax_bar.vlines(pos[ok.to_numpy()], sub.loc[ok, "ci_low"], sub.loc[ok, "ci_high"], color="black", linewidth=1.0)
        for y_end in ("ci_low", "ci_high"):
            ax_bar.hlines(sub.loc[ok, y_end], pos[ok.to_numpy()] - bar_w * 0.2, pos[ok.to_numpy()] + bar_w * 0.2,
                          color="black", linewidth=1.0)
    if all_auc:
        ax_bar.axhline(0.5, linestyle="--", color="0.35", linewidth=1.0, label="chance (0.5)")
        ax_bar.set_ylim(0.0, 1.0)
    ax_bar.set_xticks(x, [str(t) for t in targets], rotation=45 if len(targets) > 6 else 0,
                      ha="right" if len(targets) > 6 else "center")
    ax_bar.set_xlabel("Imaging trait")
    ax_bar.set_ylabel(f"CV {metric_text}: mean over outer folds")
    ax_bar.set_title("Nested-CV performance per trait\nerror bars: 95% bootstrap interval "
                     "of the pooled out-of-fold score")

    # right: paired bootstrap differences reference - model
    parts = []
    for target in targets:
        tb = boot.loc[boot["target"] == target]
        wide = tb.pivot(index="resample", columns="model", values="value")
        if reference not in wide.columns:
            log.info("performance plot: target %s has no %r bootstrap scores; no differences drawn", target, reference)
            continue
        for model in others:
            if model in wide.columns:
                parts.append(pd.DataFrame({"target": str(target), "model": model,
                                           "diff": (wide[reference] - wide[model]).to_numpy()}))
    if parts:
        diffs = pd.concat(parts, ignore_index=True)
        drawn = [m for m in others if m in set(diffs["model"])]
        box_w = 0.8 / len(drawn)
        for j, model in enumerate(drawn):
            for i, target in enumerate(targets):
                values = diffs.loc[(diffs["target"] == str(target)) & (diffs["model"] == model), "diff"].to_numpy()
                values = values[np.isfinite(values)]
                if len(values) == 0:
                    continue
                ax_box.boxplot(values, positions=[i - 0.4 + box_w * (j + 0.5)], widths=box_w * 0.85,
                               orientation="vertical", patch_artist=True, manage_ticks=False,
                               boxprops={"facecolor": palette[model], "edgecolor": "0.2", "linewidth": 0.9},
                               medianprops={"color": "black", "linewidth": 1.2},
                               whiskerprops={"color": "0.2", "linewidth": 0.9}, capprops={"color": "0.2"},
                               flierprops={"marker": ".", "markersize": 2.5, "markerfacecolor": "0.3",
                                           "markeredgecolor": "none"})
        ax_box.set_xticks(np.arange(len(targets)), [str(t) for t in targets])
        ax_box.set_xlim(-0.6, len(targets) - 0.4)
    else:
        ax_box.text(0.5, 0.5, f"no paired differences ({reference!r} or other models missing)", ha="center",
                    va="center", transform=ax_box.transAxes)
    ax_box.axhline(0.0, color="0.2", linewidth=1.0, label="no difference (0)")
    ax_box.axhline(CLAIMED_MARGIN, color="0.35", linestyle=":", linewidth=1.4,
                   label=f"study's claimed margin (+{CLAIMED_MARGIN:.2f})")
    handles = [Patch(facecolor=palette[m], edgecolor="0.2", label=m) for m in models]
    if all_auc:
        handles.append(Line2D([], [], color="0.35", linestyle="--", linewidth=1.0, label="chance AUC (0.5)"))
    handles += ax_box.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), frameon=False,
               title=f"Model (right: {reference} − model)", fontsize=9)
    ax_box.tick_params(axis="x", labelrotation=45 if len(targets) > 6 else 0)
    ax_box.set_xlabel("Imaging trait")
    ax_box.set_ylabel(f"Paired bootstrap difference in {metric_text}\n({reference} − comparison model)")
    ax_box.set_title(f"{reference.capitalize()} minus each comparison model\n"
                     "paired bootstrap resamples of the pooled out-of-fold predictions")
    return fig


# --------------------------------------------------------------------------- subtype validation (Figure 2)

_SUBTYPE_PROB_COLUMNS = ["mask", "kind", "patient", "subtype", "class", "probability"]


def subtype_masking_figure(probabilities: pd.DataFrame, *, masks: Sequence[str] | None = None,
                            classes: Sequence[str] | None = None, random_draw: int | None = None) -> Figure:
    """Per-patient class probabilities of the subtype network, one panel per masked gene set.

    ``probabilities`` is the table of ``validation.subtype_masking_probabilities`` (with true
    subtypes). Panels: the unmasked network, then each subtype set (or ``masks``); rows are
    patients grouped by true subtype (same order in every panel), columns the predicted classes,
    colour the probability (0-1). A set that carries its subtype lights up the diagonal block.
    With ``random_draw`` (e.g. 0) the random sets of that draw, one per subtype set's size, get
    panels too (after the subtype sets; more than five panels wrap onto two rows).
    """
    require_columns(probabilities, _SUBTYPE_PROB_COLUMNS, "subtype masking probabilities")
    keep = probabilities["kind"] != "random"
    if random_draw is not None and "draw" in probabilities.columns:
        keep |= (probabilities["kind"] == "random") & (probabilities["draw"] == random_draw)
    table = probabilities[keep]
    if table.empty:
        raise InputError(None, "subtype masking heatmap: no unmasked or subtype-set probabilities")
    if table["subtype"].isna().all():
        raise InputError(None, "subtype masking heatmap: the table has no true subtypes (column 'subtype')")
    classes = [str(c) for c in (classes if classes is not None else pd.unique(table["class"]))]
    if masks is None:
        masks = list(pd.unique(table.loc[table["kind"] == "unmasked", "mask"]))
        masks += list(pd.unique(table.loc[table["kind"] == "subtype set", "mask"]))
        masks += list(pd.unique(table.loc[table["kind"] == "random", "mask"]))
    masks = [m for m in masks if m in set(table["mask"])]
    if not masks:
        raise InputError(None, "subtype masking heatmap: none of the requested masks is in the table")
    truth = table.drop_duplicates("patient").set_index("patient")["subtype"].dropna().astype(str)
    groups = [c for c in classes if (truth == c).any()] + sorted(set(truth) - set(classes))
    # One patient order for every panel: by true subtype, then by the unmasked (else first panel's)
    # probability of the patient's own class, highest first.
    ref_mask = "unmasked" if "unmasked" in masks else masks[0]
    ref = table[table["mask"] == ref_mask].pivot_table(index="patient", columns="class", values="probability",
                                                       aggfunc="first")
    order = []
    for g in groups:
        members = truth.index[truth == g]
        own = ref.reindex(members)[g] if g in ref.columns else pd.Series(0.0, index=members)
        order += list(own.sort_values(ascending=False, kind="mergesort").index)
    sizes = {m: int(table.loc[table["mask"] == m, "n_genes"].iloc[0]) if "n_genes" in table.columns else None
             for m in masks}
    kind_of = table.drop_duplicates("mask").set_index("mask")["kind"]
    matched = (table.drop_duplicates("mask").set_index("mask")["matched_to"] if "matched_to" in table.columns
               else pd.Series(dtype=object))
    n_panels = len(masks)
    n_cols = n_panels if n_panels <= 5 else int(np.ceil(n_panels / 2))
    n_rows = int(np.ceil(n_panels / n_cols))
    fig = Figure(figsize=(1.6 + 2.25 * n_cols, 0.4 + 5.8 * n_rows), layout="constrained")
    grid = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False)
    for ax in grid.ravel()[n_panels:]:
        ax.set_axis_off()
    axes = grid.ravel()[:n_panels]
    bounds = np.cumsum([int((truth == g).sum()) for g in groups])
    centres = bounds - np.diff(np.concatenate([[0], bounds])) / 2.0
    image = None
    for ax, mask in zip(axes, masks):
        wide = table[table["mask"] == mask].pivot_table(index="patient", columns="class", values="probability",
                                                        aggfunc="first").reindex(index=order, columns=classes)
        image = ax.imshow(wide.to_numpy(dtype=float), aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0,
                          interpolation="nearest")
        for b in bounds[:-1]:
            ax.axhline(b - 0.5, color="white", linewidth=1.5)
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        size = sizes.get(mask)
        if mask == "unmasked":
            title = f"Unmasked\n(all {size} genes)" if size else "Unmasked"
        elif kind_of.get(mask) == "random":
            title = f"Random {size} genes\n(size of {matched.get(mask, '?')})"
        else:
            title = f"{mask} set only\n({size} genes)" if size else f"{mask} set only"
        ax.set_title(title)
        ax.set_xlabel("Predicted class")
        ax.tick_params(axis="both", labelsize=9.5)
    for ax in grid[:, 0]:
        ax.set_yticks(centres - 0.5, [f"{g}\n(n = {int((truth == g).sum())})" for g in groups])
        ax.set_ylabel("Patients, grouped by true subtype")
    fig.colorbar(image, ax=list(grid.ravel()), label="Predicted class probability", shrink=0.85)
    fig.suptitle("Subtype network: class probabilities with the input masked to each Verhaak gene set")
    return fig


def coverage_figure(curve: pd.DataFrame, *, reference_label: str = "Verhaak ClaNC genes",
                     y: str = "share_of_reference") -> Figure:
    """Coverage of reference genes among the top N single genes (``validation.coverage_curve``).

    ``y`` is ``share_of_reference`` (the share of the reference genes found, default) or
    ``share_of_top`` (the share of the top N that are reference genes); the dashed line is the
    expectation for a random gene order. A ``class`` column (``validation.class_coverage_curves``,
    or a pooled curve labelled ``all``) draws one line per class; the dashed line is then the first
    class's expectation (the same for every class for ``share_of_reference``).
    """
    expected = {"share_of_reference": "expected_share_of_reference", "share_of_top": "expected_share_of_top"}
    if y not in expected:
        raise InputError(None, f"coverage curve: y must be one of {list(expected)}, got {y!r}")
    require_columns(curve, ["n", y, expected[y]], "coverage curve")
    if curve.empty:
        raise InputError(None, "coverage curve is empty")
    n_ref = curve.attrs.get("n_reference")
    n_genes = curve.attrs.get("n_genes")
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    groups = list(pd.unique(curve["class"])) if "class" in curve.columns else [None]
    colours = sns.color_palette("colorblind", max(2, len(groups)))
    for colour, group in zip(colours, groups):
        part = curve if group is None else curve[curve["class"] == group]
        if group is None:
            label = "Single-gene masking ranking"
        elif str(group) == "all":
            label = "All sets (genes ranked by the network's score)"
        else:
            size = f", {int(part['reference_size'].iloc[0])} genes" if "reference_size" in part.columns else ""
            label = f"{group} set (genes ranked by {group} AUC{size})"
        ax.plot(part["n"], 100.0 * part[y], color=colour, linewidth=2.0, label=label)
    first = curve if groups == [None] else curve[curve["class"] == groups[0]]
    ax.plot(first["n"], 100.0 * first[expected[y]], color="0.35", linestyle="--", linewidth=1.5,
            label="Random gene order (expected)")
    ax.set_xlim(0, float(curve["n"].max()))
    ax.set_ylim(0, 100)
    ax.set_xlabel("Top N genes by single-gene masking score")
    what = f"{n_ref} {reference_label}" if n_ref else reference_label
    if y == "share_of_reference":
        ax.set_ylabel(f"Share of the {what}\namong the top N (%)")
    else:
        ax.set_ylabel(f"Share of the top N that are\n{reference_label} (%)")
    ax.legend(loc="upper left" if y == "share_of_reference" else "lower right", frameon=False)
    ax.set_title("Coverage of the reference genes by single-gene masking"
                 + (f"\n({n_genes} genes ranked)" if n_genes else ""))
    return fig


_RECOVERY_METHODS = {"masking_rank": "Gene-set masking", "enrichment_rank": "Saliency GSEA (patients enriched)",
                     "correlation_rank": "Correlation GSEA (|NES|)",
                     "masking_gsea_rank": "Single-gene masking GSEA (NES)"}


def driver_recovery_methods_figure(recovery: pd.DataFrame) -> Figure:
    """Rank of each planted driver set under each interpretation method (``recovery.driver_ranks``).

    One row per (target, driver); markers for the masking rank, the saliency-GSEA rank and the
    correlation-GSEA rank and the single-gene-masking GSEA rank (the columns present), and a black
    tick at the number of sets ranked.
    """
    require_columns(recovery, ["target", "driver", "n_sets"], "driver recovery table")
    methods = [c for c in _RECOVERY_METHODS if c in recovery.columns]
    if not methods:
        raise InputError(None, f"driver recovery table has none of the rank columns {list(_RECOVERY_METHODS)}")
    if recovery.empty:
        raise InputError(None, "driver recovery table is empty")
    rec = recovery.reset_index(drop=True)
    y = np.arange(len(rec))[::-1].astype(float)
    colours = dict(zip(methods, sns.color_palette("colorblind", len(methods))))
    markers = dict(zip(methods, ["o", "s", "D", "^"]))
    fig = Figure(figsize=(7.4, 1.6 + 0.48 * len(rec)), layout="constrained")
    ax = fig.add_subplot()
    offsets = np.linspace(-0.24, 0.24, len(methods)) if len(methods) > 1 else [0.0]
    n_sets = pd.to_numeric(rec["n_sets"], errors="coerce")
    for method, off in zip(methods, offsets):
        ranks = pd.to_numeric(rec[method], errors="coerce")
        ok = ranks.notna().to_numpy()
        ax.scatter(ranks[ok], y[ok] + off, marker=markers[method], s=46, color=colours[method],
                   label=_RECOVERY_METHODS[method], zorder=3)
    ax.scatter(n_sets, y, marker="|", s=260, linewidths=2.0, color="black", label="Number of sets ranked", zorder=2)
    ax.set_yticks(y, [f"{t}: {d}" for t, d in zip(rec["target"], rec["driver"])])
    xmax = float(np.nanmax(n_sets.to_numpy(dtype=float))) if n_sets.notna().any() else 1.0
    ax.set_xlim(0, xmax * 1.05 + 1)
    ax.axvline(1, color="0.7", linewidth=0.8, linestyle=":")
    ax.set_xlabel("Rank of the planted driver set (1 = top; lower is better)")
    ax.set_ylabel("Network target: planted driver set")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / max(len(rec), 1)), ncol=2, frameon=False)
    ax.set_title("Recovery of the planted drivers by each interpretation method")
    return fig


# --------------------------------------------------------------------------- null calibration

def calibration_figure(table: pd.DataFrame) -> Figure:
    """One panel per metric: each target x model's score with its bootstrap interval (filled: above the
    null; open: not distinguishable), beside the null mean (grey tick) and its range (grey bar)."""
    from radiogenomics.evaluation.null_calibration import ABOVE  # imported here: it imports the models (torch)

    metrics = list(pd.unique(table["metric"]))
    targets_of = {m: list(pd.unique(table.loc[table["metric"] == m, "target"])) for m in metrics}
    models = list(pd.unique(table["model"]))
    height = max(3.0, 0.42 * sum(len(t) for t in targets_of.values()) * max(1, len(models)) / 2.5 + 1.5)
    fig = Figure(figsize=(7.5 * len(metrics), height), constrained_layout=True)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colours = {m: c for m, c in zip(models, ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                                             "#F0E442", "#000000"] * 4)}
    label = {"auc": "CV ROC AUC", "auc_macro": "CV macro ROC AUC", "r2": "CV R²"}
    for ax, metric in zip(axes, metrics):
        sub = table.loc[table["metric"] == metric]
        tnames = targets_of[metric]
        step = 1.0 / (len(models) + 1)
        for i, t in enumerate(tnames):
            for j, m in enumerate(models):
                r = sub.loc[(sub["target"] == t) & (sub["model"] == m)]
                if r.empty:
                    continue
                r = r.iloc[0]
                yy = i + (j + 1) * step - 0.5
                if np.isfinite(r["null_low"]):
                    ax.plot([r["null_low"], r["null_high"]], [yy, yy], color="0.75", lw=6, solid_capstyle="butt",
                            zorder=1)
                    ax.plot([r["null_mean"]], [yy], marker="|", color="0.35", ms=11, mew=2, zorder=2)
                filled = r["verdict"] == ABOVE
                # the interval of the fold-averaged bootstrap need not contain the mean of the fold scores: a line
                ax.plot([r["ci_low"], r["ci_high"]], [yy, yy], color=colours[m], lw=1.5, zorder=3)
                ax.plot([r["mean_score"]], [yy], marker="o", color=colours[m], mfc=colours[m] if filled else "white",
                        ms=5, ls="none", zorder=4, label=m if i == 0 else None)
        ax.set_yticks(range(len(tnames)))
        ax.set_yticklabels(tnames)
        ax.invert_yaxis()
        if metric.startswith("auc"):
            ax.axvline(0.5, color="0.5", ls=":", lw=1)
        else:
            ax.axvline(0.0, color="0.5", ls=":", lw=1)
        ax.set_xlabel(f"{label.get(metric, metric)} (mean of outer folds, 95% bootstrap interval)")
        n_perm = int(sub["n_perm"].max()) if len(sub) else 0
        ax.set_title(f"{label.get(metric, metric)} vs the null-label score ({n_perm} permutations; grey: null "
                     "range, tick: null mean)", fontsize=10)
        ax.legend(title="model (filled: above the null)", loc="best", fontsize=8)
    return fig


# --------------------------------------------------------------------------- writing figures

def figure_paths(path: str | os.PathLike) -> list[str]:
    """The PNG and SVG files of a figure: ``path`` with its ``.png``/``.svg`` suffix (if any) replaced."""
    stem = os.fspath(path)
    base, ext = os.path.splitext(stem)
    if ext.lower() in (".png", ".svg"):
        stem = base
    return [f"{stem}.png", f"{stem}.svg"]


def draw(builder: Callable[..., Figure], path: str | os.PathLike, *args, **kwargs) -> list[str]:
    """Build a figure with ``builder(*args, **kwargs)`` in the project style and write it as PNG and SVG.

    ``path`` names the figure with or without its suffix (``figures/cv_scores.png`` writes
    ``figures/cv_scores.png`` and ``figures/cv_scores.svg``). Both files come from the same ``Figure``;
    each is written atomically. Returns the two paths.
    """
    with style():
        fig = builder(*args, **kwargs)
        paths = figure_paths(path)
        for out in paths:
            _save(fig, out)
    return paths
