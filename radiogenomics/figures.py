"""Publication figures: survival curves, CV scores, masking and enrichment heatmaps, driver recovery.

Every public function draws one figure and writes it to ``path`` through
``files.save_figure`` (atomic; the format follows the suffix, e.g. .png or
.svg) at 150 dpi, and returns nothing. Each has a private ``_..._figure``
helper that returns the matplotlib ``Figure`` so tests can inspect it.
Figures use colour-blind-safe palettes (seaborn "colorblind", cividis,
viridis), labelled axes with units, and tick labels of at least 9 pt.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from typing import Hashable, Iterator, Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from lifelines import KaplanMeierFitter  # noqa: E402
from lifelines.plotting import add_at_risk_counts  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from . import survival  # noqa: E402
from .files import InputError, save_figure  # noqa: E402

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
def _style() -> Iterator[None]:
    with matplotlib.rc_context(_STYLE):
        yield


def _save(fig: Figure, path: str | os.PathLike) -> None:
    save_figure(fig, path, dpi=DPI, bbox_inches="tight")
    log.info("wrote figure %s", path)


def _format_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "n/a"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.3g}" if p < 0.01 else f"{p:.2f}"


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(None, f"{what} lacks column(s) {missing}; it has {list(df.columns)}")


# --------------------------------------------------------------------------- Kaplan–Meier

def _ordered_groups(values: pd.Series, group_order: Sequence[Hashable] | None) -> list:
    present = survival._group_order(values)
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


def _km_figure(endpoint: pd.DataFrame, groups: pd.Series, *, title: str,
               group_order: Sequence[Hashable] | None = None, time_unit: str = "days") -> Figure:
    scale = _time_scale(time_unit)
    data = survival.join_groups(endpoint, groups)
    if data.empty:
        raise InputError(None, f"KM plot {title!r}: no patient has both an endpoint and a group")
    order = _ordered_groups(data["group"], group_order)
    fitted = _fit_groups(data, order, scale)
    test = survival._logrank_joined(data)
    colors = sns.color_palette("colorblind", max(len(fitted), 1))

    fig = Figure(figsize=(7.0, 5.0 + 0.22 * len(fitted)))
    ax = fig.add_axes((0.13, 0.12 + 0.05 * len(fitted), 0.82, 0.78 - 0.05 * len(fitted)))
    for (g, kmf, n, events), color in zip(fitted, colors):
        kmf.plot_survival_function(ax=ax, ci_show=True, ci_alpha=0.18, color=color, linewidth=1.8,
                                   show_censors=True, censor_styles={"ms": 5, "marker": "|"},
                                   label=f"{g} (n = {n}, {events} deaths; {_median_text(kmf, time_unit)})")
    ax.set_xlabel(f"Time ({time_unit})")
    ax.set_ylabel("Overall survival probability")
    ax.set_ylim(0.0, 1.03)
    ax.set_xlim(left=0.0)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3, linewidth=0.6)
    if np.isfinite(test["p"]):
        p_text = f"Log-rank p = {_format_p(test['p'])} (χ² = {test['test_statistic']:.2f}, df = {test['df']:.0f})"
    else:
        p_text = f"Log-rank p: n/a ({test['note']})"
    ax.legend(loc="upper right", frameon=False, title=p_text)
    add_at_risk_counts(*[kmf for _, kmf, _, _ in fitted], labels=[str(g) for g, _, _, _ in fitted],
                       rows_to_show=["At risk"], ax=ax, fig=fig, fontsize=9)
    return fig


def plot_km(endpoint: pd.DataFrame, groups: pd.Series, path: str | os.PathLike, *, title: str,
            group_order: Sequence[Hashable] | None = None, time_unit: str = "days") -> None:
    """Kaplan–Meier curves per group with 95% bands, number at risk, log-rank p and n/median per group.

    ``groups`` is joined to ``endpoint`` by patient ID. ``time_unit`` is one
    of days, weeks, months, years (the endpoint is in days).
    """
    with _style():
        fig = _km_figure(endpoint, groups, title=title, group_order=group_order, time_unit=time_unit)
        _save(fig, path)


def _km_grid_figure(endpoint: pd.DataFrame, targets: pd.DataFrame, columns: Sequence[str]) -> Figure:
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
        order = survival._group_order(data["group"])
        colors = sns.color_palette("colorblind", max(len(order), 1))
        for (g, kmf, n, _), color in zip(_fit_groups(data, order, 1.0), colors):
            kmf.plot_survival_function(ax=ax, ci_show=True, ci_alpha=0.15, color=color, linewidth=1.5,
                                       show_censors=False, label=f"{g} (n = {n})")
        ax.set_ylim(0.0, 1.03)
        ax.set_xlim(left=0.0)
        ax.set_xlabel("Time (days)")
        ax.set_ylabel("Overall survival probability")
        p_txt = f"log-rank p = {_format_p(row.p)}"
        if np.isfinite(row.fdr):
            p_txt += f", FDR = {_format_p(row.fdr)}"
        ax.set_title(f"{col}\n{p_txt}")
        if order:
            ax.legend(loc="upper right", frameon=False, fontsize=9)
        else:
            ax.text(0.5, 0.5, "no patients", ha="center", va="center", transform=ax.transAxes)
    for ax in axes[len(columns):]:
        ax.set_visible(False)
    fig.suptitle("Overall survival by imaging trait")
    return fig


def plot_km_grid(endpoint: pd.DataFrame, targets: pd.DataFrame, columns: Sequence[str],
                 path: str | os.PathLike) -> None:
    """One KM panel per trait column of ``targets`` (joined by patient), log-rank p and FDR in each title."""
    with _style():
        fig = _km_grid_figure(endpoint, targets, columns)
        _save(fig, path)


# --------------------------------------------------------------------------- CV scores

def _cv_long(cv_scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Long table target, fold, metric, value: one score per target and outer fold."""
    _require(cv_scores, ["target", "fold"], "cv_scores")
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
                                   f"{_METRIC_FALLBACK.get(metric, [])}, nor metric_value); columns {list(cv_scores.columns)}")
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


def _cv_figure(cv_scores: pd.DataFrame, metric: str = "auc") -> Figure:
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


def plot_cv_scores(cv_scores: pd.DataFrame, path: str | os.PathLike, *, metric: str = "auc") -> None:
    """Mean outer-fold score per target (bars) with fold points and SD error bars.

    ``cv_scores`` has columns ``target``, ``fold`` and metric columns. The
    value drawn is ``metric_value`` when that column exists (its ``metric``
    column, if any, names the metric of each row); otherwise the column
    ``metric``, falling back per target to the macro variant (``auc`` ->
    ``auc_macro``) for multi-class targets. AUC plots get a dashed chance
    line at 0.5 and a 0–1 axis.
    """
    with _style():
        fig = _cv_figure(cv_scores, metric=metric)
        _save(fig, path)


# --------------------------------------------------------------------------- heatmaps

def _heatmap_ticks(ax) -> None:
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
        _require(table, [col], f"masking table of {name}")
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
        _require(table, ["set", "fdr"], f"masking table of {name}")
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


def _masking_figure(tables: dict[str, pd.DataFrame], *, metric_col_by_target: dict[str, str] | None = None,
                    top: int = 20) -> Figure:
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
    _heatmap_ticks(ax)
    ax.set_title(f"Gene-set masking (top {top} sets per network)\n* FDR < {SIGNIFICANCE_FDR}; grey: not tested")
    return fig


def plot_masking_heatmap(tables: dict[str, pd.DataFrame], path: str | os.PathLike, *,
                         metric_col_by_target: dict[str, str] | None = None, top: int = 20) -> None:
    """Heatmap of gene sets × networks coloured by the network's metric with the set masked.

    ``tables`` maps a network (target) name to its masking table (columns
    ``set``, ``n_genes``, the primary metric e.g. ``auc``, ``fdr``, ``rank``).
    Rows are the union of each network's ``top`` sets by ``rank`` (or by
    the metric, lowest first, when there is no rank); cells with
    ``fdr < 0.05`` carry '*'.
    """
    with _style():
        fig = _masking_figure(tables, metric_col_by_target=metric_col_by_target, top=top)
        _save(fig, path)


def _enrichment_figure(summaries: dict[str, pd.DataFrame], *, top: int = 20) -> Figure:
    if not summaries:
        raise InputError(None, "enrichment heatmap: no summaries given")
    shares, counts, totals = {}, {}, {}
    chosen: set = set()
    for name, table in summaries.items():
        _require(table, ["set", "n_rankings", "n_enriched", "share_enriched"], f"enrichment summary of {name}")
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
    _heatmap_ticks(ax)
    ax.set_title(f"Saliency GSEA: patients with the set enriched (top {top} sets per network)\n"
                 "cell text: enriched / patients ranked; grey: not tested")
    return fig


def plot_enrichment_heatmap(summaries: dict[str, pd.DataFrame], path: str | os.PathLike, *, top: int = 20) -> None:
    """Heatmap (sets × networks) of the share of patients whose saliency ranking enriches each set.

    ``summaries`` maps a network name to a table with ``set``,
    ``n_rankings``, ``n_enriched``, ``share_enriched``; rows are the union of
    each network's ``top`` sets by share; cells are annotated enriched/ranked.
    """
    with _style():
        fig = _enrichment_figure(summaries, top=top)
        _save(fig, path)


# --------------------------------------------------------------------------- driver recovery

def _driver_figure(recovery: pd.DataFrame) -> Figure:
    _require(recovery, ["target", "driver", "rank", "n_sets"], "driver recovery table")
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


def plot_driver_recovery(recovery: pd.DataFrame, path: str | os.PathLike) -> None:
    """Horizontal bars of each driver's rank (lower is better) with the number of sets ranked marked.

    ``recovery`` has columns ``target``, ``driver``, ``rank``, ``n_sets``; a
    missing rank is drawn as "not ranked".
    """
    with _style():
        fig = _driver_figure(recovery)
        _save(fig, path)
