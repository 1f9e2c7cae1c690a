"""Pre-flight check of every user-supplied input, before any job runs.

Snakemake deletes a job's existing outputs when the job starts and again when it fails, so a bad input
found by an ingest job would already have removed the results of an earlier good run. The workflow
therefore reads every input a user supplies while the DAG is built (``workflow/rules/common.smk``), with
the same package functions the ingest, targets and splits jobs use, and stops with their message (file,
row, column, what was expected) before any job starts:

* the expression (any format), its constant genes dropped and the informative genes counted
  (:func:`parsers.drop_constant_genes`);
* the VASARI, ClaNC, Biotab clinical (vital status included), plain target and survival tables, and the
  Biotab follow-up / drug / radiation / new-tumour-event tables;
* each gene-set collection against the expression genes;
* the typed targets on the patients with expression (unknown categories, one class, classes smaller than
  the outer folds: :func:`targets.build_targets`), the declared held-out split and the held-out cohort
  (its genes, its patients disjoint from the training ones, its targets);
* every table against the expression: no shared patient ID is an error naming both files, with the reason
  when the IDs nearly match (e.g. 15- vs 12-character TCGA barcodes, :func:`ids.overlap_hint`).

A check that passed is remembered under ``.snakemake/`` (keyed by the plan, the inputs' sizes and
modification times and the package's code), so later invocations (``-n``, cluster jobs) skip it. The
check's log goes to that folder too; the ingest jobs log the same details to ``results/logs/``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from radiogenomics import inputs
from radiogenomics.cohorts import targets
from radiogenomics.cohorts.targets import no_overlap_message
from radiogenomics.errors import InputError
from radiogenomics.evaluation import heldout
from radiogenomics.results import atomic_path

log = logging.getLogger(__name__)

#: Folder (under the working directory) of the remembered checks.
CACHE_DIR = Path(".snakemake") / "radiogenomics_input_check"
#: Package modules whose code decides what the check accepts (part of the cache key).
#: The checking code (relative to the package): a change to any of it invalidates the cached result.
_CODE = ("inputs", "cohorts/targets.py", "evaluation/heldout.py", "survival", "errors.py", "config/preflight.py")


def input_paths(plan: Mapping[str, Any]) -> list[str]:
    """Every file the plan reads."""
    out = [plan["expression"]["path"]]
    out += [p for p in (plan.get("tables") or {}).values() if p]
    out += list((plan.get("gene_sets") or {}).values())
    out += list(plan.get("biotab_extra") or [])
    if plan.get("survival"):
        out.append(plan["survival"]["path"])
    test = plan.get("test") or {}
    out += [test[k]["path"] if isinstance(test[k], Mapping) else test[k] for k in test if test[k]]
    return out


def cache_key(plan: Mapping[str, Any]) -> str:
    """Hash of the plan, of each input file's size and modification time and of the checking code."""
    h = hashlib.sha256(json.dumps(plan, sort_keys=True, default=str).encode())
    for p in input_paths(plan):
        st = os.stat(p)
        h.update(f"{os.path.abspath(p)}|{st.st_size}|{st.st_mtime_ns}".encode())
    package = Path(__file__).resolve().parents[1]
    for name in _CODE:
        for path in sorted((package / name).glob("*.py")) if (package / name).is_dir() else [package / name]:
            st = path.stat()
            h.update(f"{path.relative_to(package)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def _check_overlap(name: str, path: str, ids: pd.Index, expression_ids: pd.Index, expression_path: str) -> None:
    if len(ids) and not len(ids.intersection(expression_ids)):
        raise InputError(path, no_overlap_message(f"the {name} table", ids, "the expression", expression_ids,
                                                  expression_path))
    log.info("%s (%s): %d of %d patients have expression", name, path, len(ids.intersection(expression_ids)),
             len(ids))


def check_inputs(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Read and check every input of ``plan`` (built by ``workflow/rules/common.smk``); raise the first
    :class:`files.InputError`. Returns a small summary (patients, genes, targets).

    ``plan`` keys: ``expression`` ({path, format, orientation}), ``id_rule``, ``min_informative_genes``,
    ``tables`` (vasari, clanc, clinical, targets: path or None), ``targets_format`` (the target table's
    layout, :func:`parsers.read_targets_input` keywords ``fmt`` and ``features``; default plain), ``survival``
    ({path, time, event} or None), ``biotab_extra`` (paths), ``gene_sets`` (collection -> path),
    ``target_specs`` (dicts), ``folds``, ``test`` (``expression`` {path, format}, ``targets``, ``patients``: path
    or None).
    """
    rule = plan.get("id_rule", "identity")
    ex = plan["expression"]
    expression_path = ex["path"]
    expression, _ = inputs.read_expression_input(expression_path, fmt=ex["format"],
                                                  orientation=ex.get("orientation", "genes_x_samples"), id_rule=rule)
    expression = inputs.drop_constant_genes(expression, source=expression_path,
                                             min_genes=plan.get("min_informative_genes",
                                                                inputs.MIN_INFORMATIVE_GENES))
    patients = expression.index
    tables = plan.get("tables") or {}
    sources: dict[str, pd.DataFrame] = {}
    if tables.get("vasari"):
        sources["vasari"] = inputs.read_vasari(tables["vasari"])
        _check_overlap("VASARI", tables["vasari"], sources["vasari"].index, patients, expression_path)
    if tables.get("clanc"):
        clanc = inputs.read_clanc(tables["clanc"])
        sources["subtype"] = pd.DataFrame({"subtype": clanc.subtypes})
        _check_overlap("ClaNC subtype", tables["clanc"], clanc.subtypes.index, patients, expression_path)
    if tables.get("targets"):
        sources["targets"] = inputs.read_targets_input(tables["targets"], id_rule=rule,
                                                         **(plan.get("targets_format") or {}))
        _check_overlap("target", tables["targets"], sources["targets"].index, patients, expression_path)
    if tables.get("clinical"):
        clinical = inputs.read_clinical_biotab(tables["clinical"])
        _check_overlap("clinical", tables["clinical"], clinical.index, patients, expression_path)
    if plan.get("biotab_extra"):
        from radiogenomics import survival

        for path in plan["biotab_extra"]:
            survival.read_biotab_records(path)
    if plan.get("survival"):
        surv = plan["survival"]
        endpoint, _ = inputs.read_survival_table(surv["path"], id_rule=rule, time_column=surv["time"],
                                                  event_column=surv["event"])
        _check_overlap("survival", surv["path"], endpoint.index, patients, expression_path)
    for name, path in (plan.get("gene_sets") or {}).items():
        inputs.filter_gene_sets(inputs.read_gene_sets(path), list(expression.columns), min_size=1, source=path,
                                 expression_source=expression_path)

    test = plan.get("test") or {}
    held_out = pd.Index([])
    if test.get("patients"):
        held_out = pd.Index(inputs.read_patient_list(test["patients"], id_rule=rule))
    specs = [targets.spec_from_dict(d) for d in plan.get("target_specs") or []]
    source_paths = {"vasari": tables.get("vasari"), "subtype": tables.get("clanc"), "targets": tables.get("targets"),
                    "expression": expression_path}
    train_sources = {k: v.loc[~v.index.isin(held_out)] for k, v in sources.items()}
    table, meta, _ = targets.build_targets(specs, train_sources, patients=patients.difference(held_out),
                                           source_paths=source_paths, min_class_size=plan.get("folds", 2))
    if test.get("expression"):
        te = test["expression"]
        test_expr, _ = inputs.read_expression_input(te["path"], fmt=te["format"],
                                                     orientation=ex.get("orientation", "genes_x_samples"),
                                                     id_rule=rule)
        heldout.align_genes(test_expr, list(expression.columns), source=te["path"], reference=expression_path)
        heldout.check_disjoint(patients, test_expr.index, train_source=expression_path, test_source=te["path"])
        if test.get("targets"):
            test_targets = inputs.read_targets_input(test["targets"], id_rule=rule,
                                                      **(plan.get("targets_format") or {}))
            heldout.check_disjoint(sources.get("targets", pd.DataFrame()).index, test_targets.index,
                                   train_source=tables.get("targets"), test_source=test["targets"])
            targets.build_test_targets(specs, {"targets": test_targets}, patients=test_expr.index, train_meta=meta,
                                       source_paths={"targets": test["targets"]})
    return {"patients": int(len(patients)), "genes": int(expression.shape[1]), "targets": list(table.columns)}


def run_cached(plan: Mapping[str, Any], *, cache_dir: str | os.PathLike = CACHE_DIR) -> bool:
    """:func:`check_inputs` unless the same plan with the same files passed before; returns True when it
    ran. The check's log lines go to ``<cache_dir>/<key>.log`` (not to the terminal); an InputError
    propagates with its message."""
    cache = Path(cache_dir)
    key = cache_key(plan)
    marker = cache / f"{key}.json"
    if marker.is_file():
        return False
    pkg = logging.getLogger("radiogenomics")
    buffer: list[str] = []
    handler = _ListHandler(buffer)
    old_level, old_propagate = pkg.level, pkg.propagate
    pkg.addHandler(handler)
    pkg.setLevel(logging.INFO)
    pkg.propagate = False
    try:
        summary = check_inputs(plan)
    finally:
        pkg.removeHandler(handler)
        pkg.setLevel(old_level)
        pkg.propagate = old_propagate
        _write_quietly(cache / f"{key}.log", "\n".join(buffer) + "\n")
    _write_quietly(marker, json.dumps({"plan": plan, "summary": summary}, indent=1, default=str) + "\n")
    return True


class _ListHandler(logging.Handler):
    def __init__(self, buffer: list[str]):
        super().__init__(logging.INFO)
        self.buffer = buffer
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.buffer.append(self.format(record))


def _write_quietly(path: Path, text: str) -> None:
    """Write a cache file; a folder that cannot be written only costs the cache."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    except OSError as exc:
        log.debug("input check cache %s not written: %s", path, exc)
