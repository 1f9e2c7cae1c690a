"""Paper tables and figures: cohort demographics, trait associations and the paper-only figures.

- :func:`clinical_covariates` reads age, gender, race group and Karnofsky score per patient from the
  clinical (Biotab) table, with the same column names and cleaning as :mod:`radiogenomics.survival`.
- :func:`demographics` tabulates them per cohort (all patients with expression, the autoencoder cohort,
  the imaged cohort, the subtype cohort, ...) with the survival status from the endpoint table;
  :func:`demographics_wide` formats it as the paper's table (median [IQR], n (%)).
- :func:`association_test` tests two categorical variables joined by patient ID: Fisher's exact test
  for a 2 x 2 table; for a larger table the Fisher-Freeman-Halton test (the same conditional test:
  row and column sums fixed, tables ordered by their probability under independence) with a Monte
  Carlo p-value from ``n_resamples`` tables drawn with the observed margins (scipy's
  ``fisher_exact(..., method=MonteCarloMethod)``, p = (1 + #tables at most as probable) / (1 + n)).
  The exact enumeration of r x c tables grows combinatorially with n; the Monte Carlo p is unbiased and
  its resolution is 1 / (n_resamples + 1). Effect size: Cramér's V (and the odds ratio for 2 x 2).
  :func:`association_table` runs a family of tests with Bonferroni correction across the family.
- Figures (:func:`association_heatmap_figure`, :func:`enriched_counts_figure`) are built like every other
  figure (colour-blind-safe palettes, labelled axes, tick labels of at least 9 pt) and written as PNG and SVG
  by :func:`radiogenomics.plots.figures.draw`.
"""

from __future__ import annotations

import html
import logging
import math
import textwrap
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from radiogenomics import survival
from radiogenomics.errors import InputError
from radiogenomics.plots import figures

log = logging.getLogger(__name__)

#: Okabe-Ito colour-blind-safe palette (black omitted).
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]

ASSOCIATION_COLUMNS = ["variable_a", "variable_b", "n", "levels_a", "levels_b", "test", "odds_ratio",
                       "cramers_v", "p", "p_bonferroni", "significant", "note"]
FISHER_2X2 = "Fisher exact (2x2)"
FFH_MONTE_CARLO = "Fisher-Freeman-Halton (Monte Carlo)"
NOT_TESTED = "not tested"

#: Order of the clinical variables in the demographics table.
DEMOGRAPHIC_VARIABLES = ["age", "gender", "race", "karnofsky", "survival status"]
SURVIVAL_STATUS = ["dead (event)", "alive (censored)", "no endpoint"]


# --------------------------------------------------------------------------- clinical covariates

def clinical_covariates(clinical: pd.DataFrame) -> pd.DataFrame:
    """Age (years), gender, race group (white / non-white / unknown) and Karnofsky score per patient.

    ``clinical`` is the ingested clinical table indexed by patient ID (``ingest/clinical.parquet``);
    a column that is absent is left out. Repeated patient rows keep the first (logged).
    """
    if clinical.index.has_duplicates:
        n_dup = int(clinical.index.duplicated().sum())
        log.info("clinical covariates: %d repeated patient rows dropped (first row per patient kept)", n_dup)
        clinical = clinical[~clinical.index.duplicated(keep="first")]
    out = pd.DataFrame(index=pd.Index(clinical.index.astype(str), name="patient"))
    col = survival.find_column(clinical, survival.AGE_COLUMNS)
    if col is not None:
        out["age"] = pd.to_numeric(survival.clean_text(clinical[col]), errors="coerce").to_numpy(dtype=float)
    col = survival.find_column(clinical, survival.GENDER_COLUMNS)
    if col is not None:
        out["gender"] = survival.clean_text(clinical[col]).map(
            lambda v: v.lower() if isinstance(v, str) else np.nan).to_numpy()
    col = survival.find_column(clinical, survival.RACE_COLUMNS)
    if col is not None:
        out["race"] = survival.clean_text(clinical[col]).map(survival.race_group).to_numpy()
    col = survival.find_column(clinical, survival.KARNOFSKY_COLUMNS)
    if col is not None:
        out["karnofsky"] = pd.to_numeric(survival.clean_text(clinical[col]), errors="coerce").to_numpy(dtype=float)
    for name in out.columns:
        n_na = int(out[name].isna().sum())
        if n_na:
            log.info("clinical covariates: %s missing or unreadable for %d of %d patients (kept as missing)",
                     name, n_na, len(out))
    return out


def survival_status(patients: Iterable[str], endpoint: pd.DataFrame | None) -> pd.Series:
    """Per patient: dead (event), alive (censored) or no endpoint (not in ``endpoint``)."""
    index = pd.Index([str(p) for p in patients], name="patient")
    status = pd.Series(SURVIVAL_STATUS[2], index=index, dtype=object)
    if endpoint is not None:
        if "event" not in endpoint.columns:
            raise InputError(None, f"endpoint table lacks the column 'event'; it has {list(endpoint.columns)}")
        event = endpoint["event"].reindex(index)
        status[event == 1] = SURVIVAL_STATUS[0]
        status[event == 0] = SURVIVAL_STATUS[1]
    return status


# --------------------------------------------------------------------------- demographics

def _continuous_rows(cohort: str, variable: str, values: pd.Series, unit: str) -> list[dict]:
    v = pd.to_numeric(values, errors="coerce")
    ok = v.dropna()
    row = {"cohort": cohort, "variable": variable, "level": f"median [IQR] ({unit})", "n_patients": len(v),
           "count": int(len(ok)), "percent": 100.0 * len(ok) / len(v) if len(v) else np.nan,
           "median": float(ok.median()) if len(ok) else np.nan,
           "q1": float(ok.quantile(0.25)) if len(ok) else np.nan,
           "q3": float(ok.quantile(0.75)) if len(ok) else np.nan}
    missing = {"cohort": cohort, "variable": variable, "level": "missing", "n_patients": len(v),
               "count": int(v.isna().sum()), "percent": 100.0 * v.isna().sum() / len(v) if len(v) else np.nan,
               "median": np.nan, "q1": np.nan, "q3": np.nan}
    return [row, missing]


def _categorical_rows(cohort: str, variable: str, values: pd.Series, levels: Sequence[str], *,
                      missing_row: bool = True) -> list[dict]:
    """Count per level (``levels`` first, always listed), then other observed values, then missing."""
    v = values.astype(object).where(values.notna(), "missing")
    observed = [str(x) for x in pd.unique(v)]
    order = list(levels) + sorted(set(observed) - set(levels) - {"missing"})
    if missing_row or "missing" in observed:
        order.append("missing")
    rows = []
    for level in order:
        count = int((v == level).sum())
        if level not in levels and level != "missing" and count == 0:
            continue
        rows.append({"cohort": cohort, "variable": variable, "level": level, "n_patients": len(v), "count": count,
                     "percent": 100.0 * count / len(v) if len(v) else np.nan, "median": np.nan, "q1": np.nan,
                     "q3": np.nan})
    return rows


def demographics(covariates: pd.DataFrame, cohorts: Mapping[str, Sequence[str]],
                 endpoint: pd.DataFrame | None = None) -> pd.DataFrame:
    """Demographics per cohort: age and Karnofsky (median, IQR, missing), gender, race group, survival status.

    ``covariates`` is :func:`clinical_covariates` (patients without a clinical row count as missing),
    ``cohorts`` maps a cohort name to its patient IDs, ``endpoint`` is the survival endpoint table
    (patients absent from it have no endpoint). Returns a long table: cohort, variable, level,
    n_patients (cohort size), count, percent (of the cohort), median, q1, q3.
    """
    rows: list[dict] = []
    for cohort, patients in cohorts.items():
        ids = pd.Index(sorted({str(p) for p in patients}), name="patient")
        cov = covariates.reindex(ids)
        rows.append({"cohort": cohort, "variable": "patients", "level": "n", "n_patients": len(ids),
                     "count": len(ids), "percent": 100.0 if len(ids) else np.nan, "median": np.nan, "q1": np.nan,
                     "q3": np.nan})
        n_clinical = int(ids.isin(covariates.index).sum())
        if n_clinical < len(ids):
            log.info("demographics: %d of %d patients of cohort %s have no clinical row (counted as missing)",
                     len(ids) - n_clinical, len(ids), cohort)
        if "age" in cov.columns:
            rows += _continuous_rows(cohort, "age", cov["age"], "years")
        if "gender" in cov.columns:
            rows += _categorical_rows(cohort, "gender", cov["gender"], ["female", "male"])
        if "race" in cov.columns:
            race = cov["race"].where(cov["race"] != "unknown", np.nan)
            rows += _categorical_rows(cohort, "race", race, ["white", "non-white"])
        if "karnofsky" in cov.columns:
            rows += _continuous_rows(cohort, "karnofsky", cov["karnofsky"], "score 0-100")
        rows += _categorical_rows(cohort, "survival status", survival_status(ids, endpoint), SURVIVAL_STATUS,
                                  missing_row=False)  # "no endpoint" is the survival status's missing
    return pd.DataFrame(rows, columns=["cohort", "variable", "level", "n_patients", "count", "percent", "median",
                                       "q1", "q3"])


def _format_cell(r: pd.Series) -> str:
    if r["variable"] == "patients":
        return f"{int(r['count'])}"
    if not np.isnan(r["median"]):
        return f"{r['median']:.0f} [{r['q1']:.0f}–{r['q3']:.0f}]"
    if str(r["level"]).startswith("median"):
        return "–"
    pct = "–" if np.isnan(r["percent"]) else f"{r['percent']:.0f}%"
    return f"{int(r['count'])} ({pct})"


def demographics_wide(long: pd.DataFrame) -> pd.DataFrame:
    """The paper's table: one row per (variable, level), one column per cohort, formatted cells."""
    if long.empty:
        raise InputError(None, "demographics table is empty (no cohort)")
    cohorts = list(pd.unique(long["cohort"]))
    keys = list(dict.fromkeys(zip(long["variable"], long["level"])))
    cells = {(r["variable"], r["level"], r["cohort"]): _format_cell(r) for _, r in long.iterrows()}
    table = pd.DataFrame([[cells.get((v, lvl, c), "–") for c in cohorts] for v, lvl in keys],
                         index=pd.MultiIndex.from_tuples(keys, names=["variable", "level"]), columns=cohorts)
    return table.reset_index()


def table_html(table: pd.DataFrame, *, title: str, note: str = "") -> str:
    """A self-contained HTML page of ``table`` (for the Snakemake report), with a title and a note."""
    style = ("body{font-family:sans-serif;font-size:14px;margin:1em}table{border-collapse:collapse}"
             "th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}th{background:#eee}"
             "td.num{text-align:right}caption{caption-side:bottom;text-align:left;padding-top:6px;color:#333}")
    body = table.to_html(index=False, border=0, na_rep="", escape=True, float_format=lambda x: f"{x:.4g}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h2>{html.escape(title)}</h2>{body}"
            f"<p>{html.escape(note)}</p></body></html>\n")


# --------------------------------------------------------------------------- associations

def clinical_categories(covariates: pd.DataFrame, endpoint: pd.DataFrame | None, *, age_cut: float,
                        karnofsky_cut: float) -> pd.DataFrame:
    """Categorical clinical variables for the association tests (patients x variables, NaN = missing).

    age: ``< age_cut`` / ``>= age_cut`` years; gender; race: white / non-white (unknown is missing);
    Karnofsky: ``< karnofsky_cut`` / ``>= karnofsky_cut``; vital status: dead / alive (from the
    endpoint's event; patients without an endpoint are missing).
    """
    out = pd.DataFrame(index=covariates.index)
    if "age" in covariates.columns:
        age = covariates["age"]
        out["age"] = np.where(age.isna(), None, np.where(age < age_cut, f"<{age_cut:g} y", f">={age_cut:g} y"))
    if "gender" in covariates.columns:
        out["gender"] = covariates["gender"]
    if "race" in covariates.columns:
        out["race"] = covariates["race"].where(covariates["race"] != "unknown", None)
    if "karnofsky" in covariates.columns:
        k = covariates["karnofsky"]
        out["karnofsky"] = np.where(k.isna(), None, np.where(k < karnofsky_cut, f"<{karnofsky_cut:g}",
                                                                 f">={karnofsky_cut:g}"))
    if endpoint is not None:
        status = survival_status(out.index, endpoint)
        out["vital status"] = status.map({SURVIVAL_STATUS[0]: "dead", SURVIVAL_STATUS[1]: "alive"})
    return out.astype(object).where(out.notna(), np.nan)


def _cramers_v(table: np.ndarray) -> float:
    n = table.sum()
    k = min(table.shape) - 1
    if n == 0 or k < 1:
        return float("nan")
    chi2 = stats.chi2_contingency(table, correction=False).statistic
    return float(math.sqrt(chi2 / (n * k)))


def association_test(x: pd.Series, y: pd.Series, *, n_resamples: int = 10000, seed: int = 0) -> dict:
    """Test two categorical variables for association on the patients with both values (joined by ID).

    2 x 2: Fisher's exact test (two-sided) and the sample odds ratio. Larger tables: the
    Fisher-Freeman-Halton test with a Monte Carlo p-value from ``n_resamples`` tables with the observed
    margins (seeded by ``seed``). Levels without patients are dropped; a variable with a single level
    left is not tested (p NaN, note says why). Returns n, levels_a, levels_b, test, odds_ratio,
    cramers_v, p, note.
    """
    if x.index.has_duplicates or y.index.has_duplicates:
        raise InputError(None, f"association {x.name} x {y.name}: repeated patient IDs")
    joined = pd.concat([x.rename("a"), y.rename("b")], axis=1, join="inner").dropna()
    out = {"n": int(len(joined)), "levels_a": "", "levels_b": "", "test": NOT_TESTED, "odds_ratio": np.nan,
           "cramers_v": np.nan, "p": np.nan, "note": ""}
    if joined.empty:
        out["note"] = "no patient with both values"
        return out
    table = pd.crosstab(joined["a"].astype(str), joined["b"].astype(str))
    out["levels_a"] = ";".join(map(str, table.index))
    out["levels_b"] = ";".join(map(str, table.columns))
    if min(table.shape) < 2:
        out["note"] = "a variable has one level among these patients"
        return out
    counts = table.to_numpy(dtype=np.int64)
    out["cramers_v"] = _cramers_v(counts)
    if counts.shape == (2, 2):
        res = stats.fisher_exact(counts)
        out.update(test=FISHER_2X2, odds_ratio=float(res.statistic), p=float(res.pvalue))
    else:
        method = stats.MonteCarloMethod(n_resamples=int(n_resamples), rng=np.random.default_rng(seed))
        res = stats.fisher_exact(counts, method=method)
        p = np.asarray(res.pvalue, dtype=float).ravel()  # scipy returns shape (1,) for some small tables
        if p.size != 1:
            raise RuntimeError(f"association {x.name} x {y.name}: expected one p-value, got {p.size}")
        out.update(test=FFH_MONTE_CARLO, p=float(p[0]))
    return out


def association_table(data: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, n_resamples: int = 10000,
                      seed: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`association_test` for each pair of columns of ``data``, Bonferroni across the tested pairs.

    ``p_bonferroni`` = min(1, p x number of pairs tested); ``significant`` = p_bonferroni < ``alpha``.
    The Monte Carlo seed of pair i is derived from (``seed``, i), so the table does not depend on how
    many other pairs are tested before it.
    """
    missing = sorted({c for pair in pairs for c in pair} - set(data.columns))
    if missing:
        raise InputError(None, f"association table: columns {missing} are not in the data ({list(data.columns)})")
    rows = []
    for i, (a, b) in enumerate(pairs):
        pair_seed = int(np.random.SeedSequence([int(seed), i]).generate_state(1)[0])
        res = association_test(data[a].rename(a), data[b].rename(b), n_resamples=n_resamples, seed=pair_seed)
        rows.append({"variable_a": a, "variable_b": b, **res})
    table = pd.DataFrame(rows, columns=[c for c in ASSOCIATION_COLUMNS if c not in ("p_bonferroni", "significant")])
    tested = table["p"].notna()
    m = int(tested.sum())
    table["p_bonferroni"] = np.where(tested, np.minimum(1.0, table["p"] * max(m, 1)), np.nan)
    table["significant"] = tested & (table["p_bonferroni"] < alpha)
    log.info("associations: %d pairs, %d tested (Bonferroni factor %d), %d significant at %g", len(table), m, m,
             int(table["significant"].sum()), alpha)
    return table[ASSOCIATION_COLUMNS]


def trait_pairs(columns: Sequence[str]) -> list[tuple[str, str]]:
    """Each unordered pair of distinct columns, in column order."""
    cols = list(columns)
    return [(cols[i], cols[j]) for i in range(len(cols)) for j in range(i + 1, len(cols))]


def cross_pairs(rows: Sequence[str], columns: Sequence[str]) -> list[tuple[str, str]]:
    """Each (row variable, column variable) pair."""
    return [(r, c) for r in rows for c in columns]


# --------------------------------------------------------------------------- figures

def _association_matrix(table: pd.DataFrame, rows: Sequence[str], cols: Sequence[str], symmetric: bool
                        ) -> tuple[pd.DataFrame, np.ndarray]:
    v = pd.DataFrame(np.nan, index=list(rows), columns=list(cols))
    annot = np.full(v.shape, "", dtype=object)
    pos_r = {r: i for i, r in enumerate(rows)}
    pos_c = {c: j for j, c in enumerate(cols)}
    for r in table.itertuples(index=False):
        cells = [(r.variable_a, r.variable_b)] + ([(r.variable_b, r.variable_a)] if symmetric else [])
        for a, b in cells:
            if a not in pos_r or b not in pos_c:
                continue
            i, j = pos_r[a], pos_c[b]
            if np.isnan(r.p):
                annot[i, j] = "n/t"
                continue
            v.iat[i, j] = r.cramers_v
            star = "*" if r.significant else ""
            annot[i, j] = f"{r.cramers_v:.2f}{star}\np={figures.format_p(r.p)}\nn={r.n}"
    return v, annot


def association_heatmap_figure(table: pd.DataFrame, rows: Sequence[str], cols: Sequence[str], *, title: str,
                               row_label: str, col_label: str, symmetric: bool = False,
                               alpha: float = 0.05) -> Figure:
    """Heatmap of Cramér's V per pair (cividis, 0-1), each cell annotated with V, raw p and n; * marks
    Bonferroni-significant pairs; grey cells were not tested (n/t) or are the diagonal."""
    import seaborn as sns

    figures.require_columns(table, ASSOCIATION_COLUMNS, "association table")
    rows, cols = list(rows), list(cols)
    if not rows or not cols:
        raise InputError(None, f"association heatmap {title!r}: no variables")
    v, annot = _association_matrix(table, rows, cols, symmetric)
    fig = Figure(figsize=(2.6 + 1.25 * len(cols), 1.9 + 0.72 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("0.88")
    sns.heatmap(v.astype(float), ax=ax, cmap="cividis", vmin=0.0, vmax=1.0, mask=v.isna(), annot=annot, fmt="",
                annot_kws={"fontsize": 8.5}, linewidths=0.5, linecolor="white",
                cbar_kws={"label": "Cramér's V (0 = none, 1 = complete association)"},
                xticklabels=cols, yticklabels=rows)
    figures.heatmap_ticks(ax)
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(f"{title}\n* Bonferroni-corrected p < {alpha:g}; grey: not tested")
    return fig


def enriched_counts_figure(summaries: Mapping[str, pd.DataFrame], *, top: int = 10) -> Figure:
    """Per network, the number of patients whose saliency GSEA enriches each gene set (top ``top`` sets).

    One panel per network with at least one enriched set; the networks without any are named in a
    footnote (and a single message panel is drawn when no network has one).
    """
    if not summaries:
        raise InputError(None, "enriched-patient counts: no enrichment summaries")
    tables, totals, empty = {}, {}, []
    for name, t in summaries.items():
        figures.require_columns(t, ["set", "n_rankings", "n_enriched"], f"enrichment summary of {name}")
        totals[name] = int(t["n_rankings"].max()) if len(t) else 0
        t = t.drop_duplicates("set")
        t = t[pd.to_numeric(t["n_enriched"], errors="coerce") > 0]
        if t.empty:
            empty.append(name)
        else:
            tables[name] = t.sort_values(["n_enriched", "set"], ascending=[False, True], kind="mergesort").head(top)
    title = "Saliency GSEA: patients per enriched gene set (NES > 0, per-patient FDR below the threshold)"
    footnote = f"No set enriched in any patient: {', '.join(empty)}" if empty else ""
    if not tables:
        fig = Figure(figsize=(7.0, 2.4), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "\n".join(textwrap.wrap(footnote + ".", width=80)), ha="center", va="center",
                transform=ax.transAxes, fontsize=10)
        fig.suptitle(title, fontsize=11)
        return fig
    names = list(tables)
    ncols = min(2, len(names))  # two columns: legible when printed at page width
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(4.8 * ncols, 0.8 + (0.9 + 0.3 * top) * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, name in zip(axes, names):
        t, total = tables[name], totals[name]
        y = np.arange(len(t))[::-1]
        ax.barh(y, t["n_enriched"].astype(float), color=OKABE_ITO[4], height=0.7)
        labels = [s if len(s) <= 34 else s[:32] + "…" for s in t["set"].astype(str)]
        ax.set_yticks(y, labels)
        for yy, k in zip(y, t["n_enriched"].astype(int)):
            ax.text(k, yy, f" {k}", va="center", fontsize=9)
        ax.set_xlim(0, max(total, int(t["n_enriched"].max())) * 1.12 + 0.5)
        ax.set_xlabel(f"Patients with the set enriched (of {total})")
        ax.set_title(f"{name} network")
        ax.tick_params(axis="both", labelsize=9.5)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    if footnote:
        fig.supxlabel("\n".join(textwrap.wrap(footnote, width=110)), fontsize=9, x=0.01, ha="left")
    return fig


# --------------------------------------------------------------------------- software versions (report)

#: Distributions whose versions the report lists (the pinned dependencies of pyproject.toml).
REPORT_PACKAGES = ["radiogenomics", "snakemake", "torch", "numpy", "pandas", "pyarrow", "scipy", "scikit-learn",
                   "xgboost-cpu", "xgboost", "lifelines", "matplotlib", "seaborn", "pyyaml", "jsonschema", "docutils"]


def software_versions(packages: Sequence[str] = REPORT_PACKAGES) -> pd.DataFrame:
    """Installed version of each distribution (``importlib.metadata``), Python and the platform."""
    import platform
    from importlib import metadata

    rows = [{"software": "python", "version": platform.python_version()},
            {"software": "platform", "version": platform.platform()}]
    for name in packages:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"software": name, "version": version})
    return pd.DataFrame(rows, columns=["software", "version"])


def versions_html(versions: pd.DataFrame, config: Mapping, *, title: str = "Software versions and configuration"
                  ) -> str:
    """HTML page: the software versions table and the resolved configuration (YAML) of the run."""
    import yaml

    page = table_html(versions, title=title, note="Versions read with importlib.metadata in the rule's environment.")
    config_text = yaml.safe_dump(_plain(config), sort_keys=False, default_flow_style=None, width=110)
    block = f"<h2>Resolved configuration</h2><pre>{html.escape(config_text)}</pre>"
    return page.replace("</body>", block + "</body>")


def _plain(obj):
    """Config as plain dicts/lists/scalars (snakemake's config may hold its own mapping types)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)
