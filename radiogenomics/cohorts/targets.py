"""Typed targets: binary, multi-class or continuous, defined in the config.

A target is read from a source table by column. ``source`` names the table:
any name the workflow gives an input table, e.g. ``vasari`` (VASARI
annotations), ``subtype`` (the subtype labels of the ClaNC table) or
``targets`` (a plain target table read by ``parsers.read_target_table``).
Categorical targets map raw values to classes; values listed as missing are
dropped per target and counted. A binary target can also binarise a numeric
column at a fixed cut-off (``threshold``: value >= cut-off -> the ``above``
class), e.g. a radiomic volume share at VASARI's 1/3 or 2/3. The study's binarised VASARI traits are one
preset (:data:`PRESETS`), not code; :func:`continuous_specs` defines many
continuous targets (e.g. radiomic features) at once.

Every check that would otherwise fail during training is made here, before
it: a continuous target given as text, a class with fewer patients than the
cross-validation folds, a class (or the positive class) absent from the data.

Encoding in the targets table: binary 0/1 (1 = the positive class),
multi-class integer codes in the order of ``classes``, continuous floats.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.evaluation.metrics import TARGET_TYPES
from radiogenomics.inputs.ids import overlap_hint

log = logging.getLogger(__name__)

_PROPORTION = {
    "<1/3": ["Minimal", "Less than 1/3"],
    ">1/3": ["Between 1/3 and 2/3", "More than 2/3"],
}
DEFAULT_MISSING = ["n/a", "indeterminate"]
#: Source name of a plain target table (``parsers.read_target_table``) in the examples and helpers.
PLAIN_TARGET_SOURCE = "targets"

#: Named presets of target definitions. ``vasari``: the study's six binarised traits.
PRESETS: dict[str, list[dict[str, Any]]] = {
    "vasari": [
        {"name": "f5", "type": "binary", "source": "vasari", "column": "f5.proportion.enhancing",
         "classes": _PROPORTION, "positive": ">1/3", "description": "proportion enhancing"},
        {"name": "f6", "type": "binary", "source": "vasari", "column": "f6.proportion.ncet",
         "classes": _PROPORTION, "positive": ">1/3", "description": "proportion non-contrast-enhancing tumour (nCET)"},
        {"name": "f7", "type": "binary", "source": "vasari", "column": "f7.proportion.necrosis",
         "classes": _PROPORTION, "positive": ">1/3", "description": "proportion necrosis"},
        {"name": "f14", "type": "binary", "source": "vasari", "column": "f14.proportion.edema",
         "classes": _PROPORTION, "positive": ">1/3", "description": "proportion oedema"},
        {"name": "f9", "type": "binary", "source": "vasari", "column": "f9.multifocal.or.multicentric",
         "classes": {"focal": ["Focal"], "multifocal": ["Multifocal or Multicentric"]},
         "positive": "multifocal", "description": "multifocal or multicentric"},
        {"name": "f10", "type": "binary", "source": "vasari", "column": "f10.t1.flair.ratio",
         "classes": {"expansive": ["expansive (T1~FLAIR)"],
                     "infiltrative": ["mixed (T1 less than FLAIR)", "infiltrative (T1 much smaller than FLAIR)"]},
         "positive": "infiltrative", "description": "T1/FLAIR ratio: expansive vs infiltrative"},
    ],
    "subtype": [
        {"name": "subtype", "type": "multiclass", "source": "subtype", "column": "subtype",
         "classes": {c: [c] for c in ("Proneural", "Neural", "Classical", "Mesenchymal")},
         "description": "Verhaak 2010 molecular subtype"},
    ],
}


@dataclass(frozen=True)
class TargetSpec:
    name: str
    type: str
    source: str
    column: str
    classes: Mapping[str, list[str]] | None = None
    positive: str | None = None
    missing: tuple[str, ...] = tuple(DEFAULT_MISSING)
    description: str = ""
    #: Binarisation of a numeric column: {"value": cut-off, "below": class name, "above": class name};
    #: a value >= the cut-off is ``above``. The classes are then these two names (``classes`` not given).
    threshold: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for key in ("name", "source", "column"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"target {self.name!r}: {key} must be a non-empty string, got {value!r}")
        if self.type not in TARGET_TYPES:
            raise ValueError(f"target {self.name!r}: type {self.type!r} is not one of {TARGET_TYPES}")
        if self.threshold is not None:
            object.__setattr__(self, "classes", self._threshold_classes())
        if self.type in ("binary", "multiclass"):
            if not self.classes:
                raise ValueError(f"target {self.name!r}: a {self.type} target needs 'classes'")
            if self.type == "binary":
                if len(self.classes) != 2:
                    raise ValueError(f"target {self.name!r}: a binary target needs exactly 2 classes, "
                                     f"got {list(self.classes)}")
                if self.positive not in self.classes:
                    raise ValueError(f"target {self.name!r}: positive class {self.positive!r} "
                                     f"is not one of {list(self.classes)}")
            if self.type == "multiclass" and len(self.classes) < 3:
                raise ValueError(f"target {self.name!r}: a multiclass target needs at least 3 classes")
            seen: dict[str, str] = {}
            for cls, values in self.classes.items():
                for v in values:
                    if v in seen:
                        raise ValueError(f"target {self.name!r}: value {v!r} is mapped to both {seen[v]!r} and {cls!r}")
                    seen[v] = cls

    def _threshold_classes(self) -> dict[str, list[str]]:
        """Check ``threshold`` and return the two classes it defines (no raw values: the cut-off assigns them)."""
        t = self.threshold
        if self.type != "binary":
            raise ValueError(f"target {self.name!r}: threshold binarises a numeric column; the type must be binary, "
                             f"got {self.type!r}")
        if self.classes:
            raise ValueError(f"target {self.name!r}: give either classes or threshold, not both (the threshold's "
                             "below/above names are the classes)")
        if not isinstance(t, Mapping) or set(t) != {"value", "below", "above"}:
            raise ValueError(f"target {self.name!r}: threshold must have exactly the keys value, below and above, got "
                             f"{t!r}")
        value = t["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ValueError(f"target {self.name!r}: threshold value must be a finite number, got {value!r}")
        below, above = t["below"], t["above"]
        for key, name in (("below", below), ("above", above)):
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"target {self.name!r}: threshold {key} must be a class name, got {name!r}")
        if below == above:
            raise ValueError(f"target {self.name!r}: threshold below and above classes are both {below!r}")
        return {below: [], above: []}

    @property
    def class_names(self) -> list[str]:
        """Classes in encoding order (binary: negative first, positive second)."""
        if self.type == "binary":
            neg = [c for c in self.classes if c != self.positive]
            return [*neg, self.positive]
        return list(self.classes) if self.classes else []

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "type": self.type, "source": self.source, "column": self.column,
               "classes": None if self.threshold is not None
               else {k: list(v) for k, v in (self.classes or {}).items()} or None,
               "positive": self.positive, "missing": list(self.missing), "description": self.description}
        if self.threshold is not None:
            out["threshold"] = dict(self.threshold)
        return out


def spec_from_dict(d: Mapping[str, Any]) -> TargetSpec:
    d = dict(d)
    unknown = set(d) - {"name", "type", "source", "column", "classes", "positive", "missing", "description",
                        "threshold"}
    if unknown:
        raise ValueError(f"target {d.get('name')!r}: unknown keys {sorted(unknown)}")
    if "missing" in d and d["missing"] is not None:
        d["missing"] = tuple(d["missing"])
    else:
        d.pop("missing", None)
    if d.get("column") is None:
        d["column"] = d.get("name")
    if d.get("threshold") is not None and d.get("classes") is None:
        d.pop("classes", None)
    return TargetSpec(**d)


def continuous_specs(columns: Iterable[str], *, source: str = PLAIN_TARGET_SOURCE,
                     missing: Iterable[str] = (), description: str = "") -> list[TargetSpec]:
    """One continuous target per column of a source table (target name = column name), e.g. every
    radiomic feature of a plain target table. ``missing`` lists placeholder values to drop."""
    specs = [TargetSpec(name=str(c), type="continuous", source=source, column=str(c), missing=tuple(missing),
                        description=description) for c in columns]
    names = [s.name for s in specs]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ValueError(f"continuous_specs: columns listed more than once: {dups}")
    return specs


def resolve_specs(presets: list[str], definitions: list[Mapping[str, Any]] | None = None,
                  continuous_columns: Iterable[str] = (), *, continuous_missing: Iterable[str] = ()
                  ) -> list[TargetSpec]:
    """Target specs from named presets, explicit definitions (a definition replaces a preset target of the
    same name) and ``continuous_columns`` of the plain target table (one continuous target each, see
    :func:`continuous_specs`; a column that is also defined explicitly keeps its definition)."""
    by_name: dict[str, TargetSpec] = {}
    for p in presets:
        if p not in PRESETS:
            raise ValueError(f"unknown target preset {p!r}; known: {sorted(PRESETS)}")
        for d in PRESETS[p]:
            by_name[d["name"]] = spec_from_dict(d)
    explicit = {str(d.get("name")) for d in definitions or []}
    for spec in continuous_specs([c for c in continuous_columns if c not in explicit], missing=continuous_missing):
        by_name[spec.name] = spec
    for d in definitions or []:
        spec = spec_from_dict(d)
        by_name[spec.name] = spec
    if not by_name:
        raise ValueError("no targets defined: set targets.presets or targets.definitions in the config")
    return list(by_name.values())


@dataclass
class TargetColumn:
    values: pd.Series
    meta: dict[str, Any]
    dropped: dict[str, int] = field(default_factory=dict)


def _examples(values: pd.Series, k: int = 5) -> str:
    counts = values.value_counts()
    shown = ", ".join(f"{v!r} ({n})" for v, n in counts.head(k).items())
    return shown + (f" and {len(counts) - k} more" if len(counts) > k else "")


def encode_target(spec: TargetSpec, table: pd.DataFrame, *, source_path: str | None = None,
                  min_class_size: int = 2, scope: str = "", require_classes: bool = True) -> TargetColumn:
    """Encode one target from its source table (index = patient).

    Raises InputError (naming the file, column and, where one, the patient)
    for: a missing column; an unknown category; a continuous target whose
    column holds text; a binary target whose positive class has no patients
    (the named positive class is not in the data); a multi-class target with
    a class that has no patients; a target left with one class; a class with
    fewer than ``min_class_size`` patients (e.g. fewer than the CV folds).
    ``scope`` (e.g. ``" among the patients with expression"``) is added to
    the messages about counts. ``require_classes=False`` (a held-out test
    cohort, scored but never trained on) skips the class-count checks: a class
    absent from the test patients only leaves its metric undefined (logged).
    """
    if spec.column not in table.columns:
        raise InputError(source_path, f"target {spec.name!r} needs column {spec.column!r}; "
                                      f"the table has {list(table.columns)}", column=spec.column)
    raw = table[spec.column]
    missing_values = set(spec.missing)
    is_na = raw.isna() | raw.astype(str).str.strip().isin(["", "NA"])
    is_missing_label = ~is_na & raw.astype(str).str.strip().isin(missing_values)
    dropped = {"missing (NA/empty)": int(is_na.sum())}
    for v in sorted(missing_values):
        dropped[f"value {v!r}"] = int((~is_na & (raw.astype(str).str.strip() == v)).sum())
    keep = raw[~is_na & ~is_missing_label].astype(str).str.strip()

    meta: dict[str, Any] = {"type": spec.type, "source": spec.source, "column": spec.column,
                            "description": spec.description}
    if spec.type == "continuous" or spec.threshold is not None:
        if pd.api.types.is_numeric_dtype(raw):  # a numeric table (imaging features): no round trip through text
            numeric = raw[keep.index].astype(float)
        else:
            numeric = pd.to_numeric(keep, errors="coerce")
        bad = numeric.isna() | ~np.isfinite(numeric.astype(float))
        if bad.any():
            patient = bad[bad].index[0]
            what = "continuous" if spec.type == "continuous" else "a binarised numeric column (threshold)"
            hint = ("declare the target as binary or multiclass with 'classes' if the column is categorical"
                    if spec.type == "continuous" else "binarise a numeric column, or map the values with 'classes'")
            raise InputError(source_path, f"target {spec.name!r} is {what} but value {keep[patient]!r} "
                             f"is not a number: column {spec.column!r} holds text in {int(bad.sum())} of "
                             f"{len(keep)} non-missing cells "
                             f"(values {_examples(keep[bad])}); {hint}, or list placeholder values under 'missing'",
                             row=patient, column=spec.column)
    if spec.threshold is not None:
        # value >= cut-off -> the `above` class; the class names are the only raw values from here on
        cut, below, above = float(spec.threshold["value"]), spec.threshold["below"], spec.threshold["above"]
        keep = pd.Series(np.where(numeric.astype(float).to_numpy() >= cut, above, below), index=keep.index,
                         dtype=object)
        meta["threshold"] = {"value": cut, "below": below, "above": above}
    if spec.type == "continuous":
        values = numeric.astype(float)
        meta.update(classes=[], n=int(len(values)), mean=float(values.mean()) if len(values) else None,
                    sd=float(values.std()) if len(values) > 1 else None)
        if require_classes and (len(values) < min_class_size or values.nunique() < 2):
            raise InputError(source_path, f"target {spec.name!r} has {len(values)} usable values with "
                             f"{values.nunique()} distinct; need at least {min_class_size} and 2 distinct",
                             column=spec.column)
    else:
        value_to_class = {v: c for c, vs in spec.classes.items() for v in vs}
        if spec.threshold is not None:
            value_to_class = {c: c for c in spec.classes}
        unknown = ~keep.isin(list(value_to_class))
        if unknown.any():
            patient = unknown[unknown].index[0]
            raise InputError(source_path, f"target {spec.name!r}: unknown category {keep[patient]!r}; expected one of "
                             f"{sorted(value_to_class)} or a missing value {sorted(missing_values)}",
                             row=patient, column=spec.column)
        classes = spec.class_names
        code = {c: i for i, c in enumerate(classes)}
        values = keep.map(value_to_class).map(code).astype(int)
        counts = {c: int((values == code[c]).sum()) for c in classes}
        present = [c for c, n in counts.items() if n > 0]
        found = _examples(keep) if len(keep) else "none"
        if not require_classes:
            absent = [c for c, n in counts.items() if n == 0]
            if absent:
                log.warning("target %s (%s): class(es) %s have no patients%s; their metrics are undefined",
                            spec.name, source_path, absent, scope)
            meta.update(classes=classes, positive=spec.positive, counts=counts, n=int(len(values)))
            return TargetColumn(values=values.rename(spec.name), meta=meta,
                                dropped={k: v for k, v in dropped.items() if v})
        if spec.type == "binary" and counts[spec.positive] == 0:
            raise InputError(source_path, f"target {spec.name!r}: the positive class {spec.positive!r} (values "
                             f"{list(spec.classes[spec.positive])}) is not present in the data{scope}, "
                             f"so the target is left with one class ({present}); counts {counts}; "
                             f"values found in column {spec.column!r}: {found}. "
                             "Check the positive class and its values against the table",
                             column=spec.column)
        absent = [c for c, n in counts.items() if n == 0]
        if spec.type == "multiclass" and absent:
            raise InputError(source_path, f"target {spec.name!r}: class(es) {absent} have no patients{scope} (values "
                             f"{ {c: list(spec.classes[c]) for c in absent} } never occur); counts {counts}; values "
                             f"found in column {spec.column!r}: {found}. Remove the class from 'classes' or fix its "
                             "values", column=spec.column)
        if len(present) < 2:
            raise InputError(source_path, f"target {spec.name!r} is left with one class ({present}) "
                             f"after dropping missing values{scope}; counts {counts}", column=spec.column)
        small = {c: n for c, n in counts.items() if n < min_class_size}
        if small:
            raise InputError(source_path, f"target {spec.name!r}: classes {small} have fewer than "
                             f"{min_class_size} patients{scope} (needed for stratified {min_class_size}-fold CV); "
                             f"counts {counts}. Merge the class into another (list its values under that class), "
                             "list its values under 'missing', or use fewer folds", column=spec.column)
        meta.update(classes=classes, positive=spec.positive, counts=counts, n=int(len(values)))
    return TargetColumn(values=values.rename(spec.name), meta=meta, dropped={k: v for k, v in dropped.items() if v})


def no_overlap_message(what: str, ids: Iterable[object], other: str, other_ids: Iterable[object],
                       other_path: str | None = None) -> str:
    """Message for two tables that share no patient ID: examples of each side and, where one is found, why
    they might still be meant to match (:func:`ids.overlap_hint`, e.g. 15- vs 12-character TCGA barcodes)."""
    ids, other_ids = list(ids), list(other_ids)
    hint = overlap_hint(ids, other_ids)
    where = f" ({other_path})" if other_path else ""
    return (f"no patient overlap between {what} and {other}{where}: e.g. {sorted(map(str, ids))[:3]} vs "
            f"{sorted(map(str, other_ids))[:3]}"
            + (f"; {hint}" if hint else "; check the ID columns and inputs.id_rule"))


def build_targets(specs: list[TargetSpec], sources: Mapping[str, pd.DataFrame], *, patients: pd.Index,
                  source_paths: Mapping[str, str] | None = None, min_class_size: int = 2
                  ) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Encode every target and restrict it to patients with expression.

    Returns (targets: patients x targets, NaN where a patient lacks the
    target; meta per target; a drop report with one row per target and reason).
    Targets whose source table is absent are an error naming the source.
    """
    source_paths = source_paths or {}
    columns, meta, report = [], {}, []
    for spec in specs:
        if spec.source not in sources:
            raise ValueError(f"target {spec.name!r} reads source {spec.source!r}, which is not among the inputs "
                             f"{sorted(sources)}")
        table = sources[spec.source]
        path = source_paths.get(spec.source)
        col = encode_target(spec, table, source_path=path, min_class_size=1)
        no_expr = ~col.values.index.isin(patients)
        dropped = dict(col.dropped)
        if no_expr.any():
            dropped["no expression data"] = int(no_expr.sum())
        values = col.values[~no_expr]
        if len(values) == 0:
            raise InputError(path, f"target {spec.name!r}: " + no_overlap_message(
                f"the {spec.source} table", col.values.index, "the expression matrix", patients,
                source_paths.get("expression")))
        # re-check class sizes on the patients that remain
        col = encode_target(spec, table.loc[values.index], source_path=path, min_class_size=min_class_size,
                            scope=" among the patients with expression")
        total = int(len(table))
        for reason, n in dropped.items():
            report.append({"target": spec.name, "reason": reason, "n": n})
        log.info("target %s: %d of %d %s rows kept; dropped %s", spec.name, len(values), total, spec.source,
                 dropped or "none")
        meta[spec.name] = {**col.meta, "n_source_rows": total, "dropped": dropped}
        columns.append(col.values)
    targets = pd.concat(columns, axis=1).sort_index()
    targets.index.name = "patient"
    return targets, meta, pd.DataFrame(report, columns=["target", "reason", "n"])


def encode_all_patients(specs: list[TargetSpec], sources: Mapping[str, pd.DataFrame], *,
                        source_paths: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every target encoded (as :func:`build_targets`, same codes) on every patient of its source table,
    with or without expression: patients x targets, NaN where a patient lacks the target.

    For the analyses that need no expression, e.g. survival by an observed imaging trait, which can use
    every patient with the trait and an endpoint (on TCGA-GBM: 91 patients with radiomic features and
    overall survival, of whom 52 have expression). The class-size checks were made by
    :func:`build_targets` on the patients with expression; here a class only needs one patient.
    """
    source_paths = source_paths or {}
    columns = []
    for spec in specs:
        if spec.source not in sources:
            raise ValueError(f"target {spec.name!r} reads source {spec.source!r}, which is not among the inputs "
                             f"{sorted(sources)}")
        col = encode_target(spec, sources[spec.source], source_path=source_paths.get(spec.source), min_class_size=1)
        log.info("target %s on every patient of the %s table: %d patients%s; dropped %s", spec.name, spec.source,
                 len(col.values), f", counts {col.meta['counts']}" if col.meta.get("counts") else "",
                 col.dropped or "none")
        columns.append(col.values)
    table = pd.concat(columns, axis=1).sort_index() if columns else pd.DataFrame()
    table.index.name = "patient"
    return table


def target_vector(targets: pd.DataFrame, name: str, target_type: str) -> pd.Series:
    """The non-missing values of one target, typed for training (int codes or floats)."""
    y = targets[name].dropna()
    return y.astype(int) if target_type in ("binary", "multiclass") else y.astype(float)


def stratification_labels(y: pd.Series, target_type: str, n_bins: int = 5) -> np.ndarray:
    """Labels to stratify folds on: the classes, or quantile bins of a continuous target."""
    if target_type in ("binary", "multiclass"):
        return y.to_numpy().astype(int)
    ranks = y.rank(method="first").to_numpy()
    return np.minimum((ranks - 1) * n_bins // len(y), n_bins - 1).astype(int)


def class_labels(targets: pd.DataFrame, meta: Mapping[str, Any], columns: list[str]) -> pd.DataFrame:
    """Decode categorical target codes back to class names (patients x columns; NaN stays NaN)."""
    out = {}
    for c in columns:
        classes = meta[c].get("classes") or []
        if meta[c]["type"] == "continuous" or not classes:
            raise ValueError(f"target {c!r} is {meta[c]['type']}; class labels need a binary or multiclass target")
        codes = targets[c]
        out[c] = codes.map(lambda v: classes[int(v)] if pd.notna(v) else np.nan)
    df = pd.DataFrame(out, index=targets.index)
    df.index.name = targets.index.name
    return df


def build_test_targets(specs: list[TargetSpec], sources: Mapping[str, pd.DataFrame], *, patients: pd.Index,
                       train_meta: Mapping[str, Any], source_paths: Mapping[str, str] | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Encode the targets of a held-out test cohort with the training encoding (same class codes).

    ``sources`` holds the test cohort's tables (e.g. its plain target table under ``targets``);
    ``patients`` are its patients with expression; ``train_meta`` is the training targets' meta
    (:func:`build_targets`), whose classes must match. A target whose source table or column the
    test cohort lacks is not scored (a row in the report, logged), never an error; an unknown
    category or a continuous target given as text is an error (as in training). Classes absent
    from the test patients are allowed (their metrics are undefined).

    Returns (test targets: patients x targets, NaN where missing; a report with one row per
    target and reason: ``target``, ``reason``, ``n``).
    """
    source_paths = source_paths or {}
    columns, report = [], []
    for spec in specs:
        meta = train_meta.get(spec.name)
        if meta is None:
            raise ValueError(f"target {spec.name!r} has no training meta; build the training targets first")
        if spec.type in ("binary", "multiclass") and list(meta.get("classes") or []) != spec.class_names:
            raise ValueError(f"target {spec.name!r}: classes {spec.class_names} differ from the training "
                             f"encoding {meta.get('classes')}")
        path = source_paths.get(spec.source)
        if spec.source not in sources:
            report.append({"target": spec.name, "reason": f"test cohort has no {spec.source} table; not scored",
                           "n": 0})
            log.warning("test cohort: target %s not scored (no %s table)", spec.name, spec.source)
            continue
        table = sources[spec.source]
        if spec.column not in table.columns:
            report.append({"target": spec.name, "reason": f"column {spec.column!r} not in {path}; not scored",
                           "n": 0})
            log.warning("test cohort: target %s not scored (column %r not in %s)", spec.name, spec.column, path)
            continue
        col = encode_target(spec, table, source_path=path, require_classes=False, scope=" in the test cohort")
        dropped = dict(col.dropped)
        no_expr = ~col.values.index.isin(patients)
        if no_expr.any():
            dropped["no expression data"] = int(no_expr.sum())
        values = col.values[~no_expr]
        for reason, n in dropped.items():
            report.append({"target": spec.name, "reason": reason, "n": n})
        report.append({"target": spec.name, "reason": "kept", "n": int(len(values))})
        log.info("test cohort: target %s: %d patients; dropped %s", spec.name, len(values), dropped or "none")
        columns.append(values)
    index = pd.Index(sorted(set(patients)), name="patient")
    frame = pd.concat(columns, axis=1).reindex(index) if columns else pd.DataFrame(index=index)
    frame.index.name = "patient"
    return frame, pd.DataFrame(report, columns=["target", "reason", "n"])
