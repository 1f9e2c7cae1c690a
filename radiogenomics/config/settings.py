"""The workflow's settings, resolved once from the config: what the rule files read instead of module globals.

:meth:`Settings.from_config` validates the config against the schema (filling its defaults, one short message
per error), checks that every input file it names exists, resolves where each raw input comes from (simulated,
downloaded or the config's ``inputs``), stops on cross-field conflicts before any job runs, and derives the
target list, the models, the folds, the encoders each target transfers and the gene-set collections. It runs
without Snakemake (tests/unit/test_settings.py); ``workflow/rules/common.smk`` builds it from Snakemake's ``config``.

Paths are as the config gives them: relative paths are relative to the working directory (Snakemake's
``--directory``), as the jobs see them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from radiogenomics import inputs
from radiogenomics.cohorts.simulate import HISTOLOGY_TARGET, radiomic_feature_names
from radiogenomics.cohorts.splits import encoder_scope
from radiogenomics.cohorts.targets import TargetSpec, resolve_specs
from radiogenomics.config import preflight, schema
from radiogenomics.config.survival import resolve_radiogenomic_minimums
from radiogenomics.inputs import download
from radiogenomics.models import selection as model_selection

__all__ = ["GSEA_RANKINGS", "SCHEMA", "SINGLE_GENES", "SURVIVAL_ENDPOINT_LABELS", "TARGET_SOURCE_INPUT", "Settings",
           "SettingsError"]

#: the config schema (defaults and types), relative to the repository root
SCHEMA = Path("workflow") / "schemas" / "config.schema.yaml"
#: the raw input table each target source is read from
TARGET_SOURCE_INPUT = {"vasari": "vasari", "subtype": "clanc", "targets": "targets"}
#: Biotab tables that extend the clinical follow-up (lists of paths in ``inputs``)
BIOTAB_EXTRA = ("clinical_follow_up", "clinical_drug", "clinical_radiation", "new_tumor_event")
#: display names of the survival endpoints
SURVIVAL_ENDPOINT_LABELS = {"os": "Overall survival", "pfs": "Progression-free survival"}
#: single-gene masking writes masking/{target}/single_genes.tsv beside the collections' tables
SINGLE_GENES = "single_genes"
#: rankings besides per-patient saliency that are tested by GSEA: enrichment/{target}/{collection}_{ranking}.tsv
GSEA_RANKINGS = ("correlation", "masking")


class SettingsError(ValueError):
    """Two config fields that cannot be used together, or a setting the inputs cannot satisfy (the message
    starts with ``config:`` and names the keys)."""


@dataclass
class Settings:
    """The resolved settings of one run (see the module docstring); build it with :meth:`from_config`."""

    config: dict[str, Any]
    downloads: download.Plan
    target_specs: list[TargetSpec] = field(default_factory=list)
    network_configs: list[dict[str, Any]] = field(default_factory=list)
    encoder_archs: dict[str, dict[str, Any]] = field(default_factory=dict)
    collections: list[str] = field(default_factory=list)
    radiogenomic_networks: list[str] = field(default_factory=list)
    #: messages to log once the settings are resolved (deprecated keys read under their new name)
    warnings: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_config(cls, config: dict[str, Any], repo: str | os.PathLike, *,
                    sources: Iterable[str | os.PathLike] | None = None, check_files: bool = True) -> Settings:
        """Validate ``config`` (in place: the schema's defaults are filled in, as Snakemake's validate does) and
        resolve it. ``repo``: the repository root (for the schema); ``sources``: the config files, named in
        messages; ``check_files``: every input file the config names must exist (key and path named), even when
        results of an earlier run exist. Raises :class:`schema.ConfigError` for a schema error or a missing
        file, :class:`SettingsError` for fields that conflict, ``ValueError`` for a bad target or model setting."""
        schema_path = Path(repo) / SCHEMA
        schema.validate_config(config, schema_path, sources=sources)
        # With downloads.enabled, a source's `input:` replaces that entry of `inputs` (its local `path`, or the
        # file the download rule fetches into downloads.dir). Ignored when simulate.enabled.
        plan = download.plan(config["downloads"], kinds=download.input_kinds(schema_path))
        settings = cls(config=config, downloads=plan)
        if check_files:
            schema.check_input_paths(config, simulated=settings.simulated, downloaded=settings.downloaded_keys())
        settings._check_inputs()
        settings.target_specs = resolve_specs(config["targets"]["presets"], config["targets"]["definitions"],
                                              settings._table_target_columns(),
                                              continuous_missing=config["targets"]["continuous_missing"])
        for spec in settings.target_specs:
            source = TARGET_SOURCE_INPUT[spec.source]
            if not settings.has_input(source):
                raise SettingsError(f"config: target {spec.name!r} reads the {spec.source} table, "
                                    f"but inputs.{source} is not set")
        # model selection is checked before any job runs (empty grids, unknown models)
        for model in config["evaluation"]["models"]:
            model_selection.check_model_name(model)
        if "network" not in config["evaluation"]["models"]:
            raise SettingsError("config: evaluation.models must include 'network' (the interpretation rules use it)")
        settings.network_configs = model_selection.check_settings(settings.selection_settings)["network_configs"]
        if config["autoencoder"]["enabled"]:
            settings.encoder_archs = model_selection.required_encoders(settings.network_configs)
        settings.collections = settings._collections()
        settings._check_collection_names()
        settings._resolve_survival()
        return settings

    def _check_inputs(self) -> None:
        if not self.has_input("expression"):
            raise SettingsError("config: inputs.expression is required when simulate.enabled is false")
        if self.sim_test and not self.sim_plain_targets:
            raise SettingsError("config: simulate.n_test_patients needs simulate.n_radiomic > 0 or "
                                "simulate.histology: the simulated test cohort is scored on the plain target table")
        inputs.make_id_rule(self.id_rule)  # an unknown rule or a bad regex stops here
        if self.test_input("expression") is not None and self.test_input("patients") is not None:
            raise SettingsError("config: inputs.test takes either a second cohort (expression + targets) or a "
                                "declared split (patients), not both")
        if self.test_input("expression") is not None and self.test_input("targets") is None:
            raise SettingsError("config: inputs.test.expression needs inputs.test.targets "
                                "(the test cohort's target table)")

    def _table_target_columns(self) -> list[str]:
        """Columns of the plain target table declared as continuous targets by targets.continuous_columns."""
        columns = self.config["targets"]["continuous_columns"]
        if columns != "all":
            return list(columns)
        if not self.has_input("targets"):
            raise SettingsError("config: targets.continuous_columns is 'all' but there is no plain target table "
                                "(inputs.targets, or simulate.n_radiomic / simulate.histology)")
        if self.simulated:
            sim = self.config["simulate"]
            return (radiomic_feature_names(sim.get("n_radiomic", 0))
                    + ([HISTOLOGY_TARGET] if sim.get("histology") else []))
        if self.targets_format["fmt"] == "features":  # the kept features (ignored, mostly-missing, constant dropped)
            return list(inputs.read_targets_input(self.input_path("targets"), id_rule=self.id_rule,
                                                   **self.targets_format).columns)
        return inputs.read_table_columns(self.input_path("targets"))

    def _collections(self) -> list[str]:
        names = list(self.gene_set_paths())
        if self.has_input("clanc") and self.config["masking"]["verhaak"]:
            names.append("verhaak")
        if not names:
            raise SettingsError("config: no gene-set collection (inputs.gene_sets is empty and no ClaNC table)")
        return names

    def _check_collection_names(self) -> None:
        if SINGLE_GENES in self.collections:
            raise SettingsError(f"config: a gene-set collection may not be named {SINGLE_GENES!r} (the single-gene "
                                "masking table masking/{target}/single_genes.tsv uses that name)")
        clash = [c for c in self.collections
                 if any(c.endswith(f"_{r}") or c.endswith("_summary") for r in GSEA_RANKINGS)]
        if clash:
            raise SettingsError(f"config: gene-set collection names {clash} end like the enrichment tables "
                                "(_summary, _correlation, _masking); rename them")

    def _resolve_survival(self) -> None:
        survival = self.config["survival"]
        # least carriers and non-carriers of a tested radiogenomic trait (the older radiogenomic_min_patients is read
        # as the first, with a warning); written back so that the report captions show the values used
        carriers, non_carriers, message = resolve_radiogenomic_minimums(survival)
        if message:
            self.warnings.append(message)
        survival["radiogenomic_min_carriers"], survival["radiogenomic_min_non_carriers"] = carriers, non_carriers
        if self.survival_table is not None and any(self.survival_extra_inputs.values()):
            raise SettingsError("config: inputs.clinical_follow_up / clinical_drug / clinical_radiation / "
                                "new_tumor_event extend a TCGA Biotab clinical table (inputs.clinical); with a plain "
                                "survival table (inputs.survival) leave them empty")
        chosen = list(survival["radiogenomic_networks"])
        unknown = [n for n in chosen if n not in self.targets]
        if unknown:
            raise SettingsError(f"config: survival.radiogenomic_networks names {unknown}, not targets ({self.targets})")
        # configured, else the imaging traits, else (no imaging trait, e.g. config/tcga_gbm.yaml) the subtype network
        self.radiogenomic_networks = chosen or self.survival_imaging or self.survival_subtype

    # ------------------------------------------------------------------ where the inputs come from

    @property
    def results(self) -> str:
        return self.config["results"]

    @property
    def simulated(self) -> bool:
        return bool(self.config["simulate"]["enabled"])

    @property
    def sim_dir(self) -> str:
        return f"{self.results}/simulated"

    @property
    def sim_plain_targets(self) -> bool:
        """The simulation writes a plain target table (radiomic features or histology)."""
        sim = self.config["simulate"]
        return self.simulated and (sim.get("n_radiomic", 0) > 0 or bool(sim.get("histology", False)))

    @property
    def sim_test(self) -> bool:
        """The simulation writes a held-out test cohort."""
        return self.simulated and self.config["simulate"].get("n_test_patients", 0) > 0

    @property
    def simulated_inputs(self) -> dict[str, str]:
        d = self.sim_dir
        out = {"expression": f"{d}/expression.tsv", "vasari": f"{d}/vasari_annotations.csv",
               "clinical": f"{d}/clinical_patient_gbm.txt", "clanc": f"{d}/clanc840.txt"}
        if self.sim_plain_targets:
            out["targets"] = f"{d}/targets.tsv"
        return out

    @property
    def simulated_gene_sets(self) -> dict[str, str]:
        return {"programs": f"{self.sim_dir}/gene_sets/programs.gmt",
                "celltypes": f"{self.sim_dir}/gene_sets/celltypes.csv"}

    @property
    def simulated_test(self) -> dict[str, str]:
        out = {"expression": f"{self.sim_dir}/test_expression.tsv"}
        if self.sim_plain_targets:
            out["targets"] = f"{self.sim_dir}/test_targets.tsv"
        return out

    def downloaded_keys(self) -> list[str]:
        """Config keys of the inputs an enabled download source provides (fetched by the download rule)."""
        if self.simulated:
            return []
        keys = [f"inputs.{k}" for k in schema.INPUT_FILE_KEYS if self.downloads.input_path(k)]
        return keys + [f"inputs.gene_sets.{name}" for name in self.downloads.gene_set_paths()]

    def input_path(self, kind: str) -> str | None:
        """Path of a raw input table: simulated, downloaded, or from config ``inputs`` (None when not given)."""
        if self.simulated:
            return self.simulated_inputs.get(kind)
        downloaded = self.downloads.input_path(kind)
        return downloaded if downloaded is not None else self.config["inputs"].get(kind)

    def has_input(self, kind: str) -> bool:
        return self.input_path(kind) is not None

    def gene_set_paths(self) -> dict[str, str]:
        """Collection name -> gene-set file (the ClaNC-derived ``verhaak`` collection is not a file here)."""
        if self.simulated:
            return self.simulated_gene_sets
        return {**self.config["inputs"]["gene_sets"], **self.downloads.gene_set_paths()}

    def test_input(self, kind: str) -> str | None:
        """Path of a held-out test-cohort input (expression, targets, patients), or None."""
        if self.simulated:
            return self.simulated_test.get(kind) if self.sim_test else None
        return self.config["inputs"]["test"].get(kind)

    @property
    def test_cohort(self) -> bool:
        return self.test_input("expression") is not None or self.test_input("patients") is not None

    @property
    def survival_table(self) -> str | None:
        """The plain survival table, used when there is no TCGA Biotab clinical table."""
        return None if self.has_input("clinical") else self.input_path("survival")

    @property
    def has_survival(self) -> bool:
        return self.has_input("clinical") or self.survival_table is not None

    @property
    def id_rule(self) -> Any:
        """The patient-ID rule of the plain tables (radiogenomics/inputs/ids.py)."""
        return self.config["inputs"]["id_rule"]

    @property
    def targets_format(self) -> dict[str, Any]:
        """Layout of the target table: plain strings, or an imaging-feature table (inputs.read_targets_input)."""
        return {"fmt": self.config["inputs"]["targets_format"], "features": self.config["inputs"]["features"]}

    # ------------------------------------------------------------------ targets, models, folds

    @property
    def targets(self) -> list[str]:
        return [s.name for s in self.target_specs]

    @property
    def imaging_targets(self) -> list[str]:
        return [s.name for s in self.target_specs if s.source == "vasari"]

    @property
    def survival_groupings(self) -> list[str]:
        """Targets shown as Kaplan-Meier curves: the categorical ones (imaging traits, the subtype)."""
        return [s.name for s in self.target_specs if s.type in ("binary", "multiclass")]

    @property
    def models(self) -> list[str]:
        return list(self.config["evaluation"]["models"])

    @property
    def baseline_models(self) -> list[str]:
        return [m for m in self.models if m != "network"]

    @property
    def folds(self) -> list[int]:
        return list(range(self.config["cv"]["folds"]))

    @property
    def selection_settings(self) -> dict[str, Any]:
        evaluation = self.config["evaluation"]
        return {"inner_folds": evaluation["inner_folds"], "network": evaluation["network_grid"],
                "baselines": evaluation["baseline_grids"], "n_jobs": self.config["threads"]}

    @property
    def encoder_scopes(self) -> dict[str, str]:
        """Which autoencoder each target's networks transfer (``cohorts.splits.encoder_scope``): the shared one
        (imaging targets: their patients are never in its cohort) or one per outer fold; empty without
        pretraining."""
        return {s.name: encoder_scope(s.source) for s in self.target_specs} if self.encoder_archs else {}

    def final_models(self, target: str) -> dict[str, str]:
        """The selected final models of one target: the network and one refit per comparison model."""
        models = {"model_network": f"{self.results}/models/{target}/final.pt"}
        for name in self.baseline_models:
            models[f"model_{name}"] = f"{self.results}/models/{target}/{name}/final.skops.zip"
        return models

    def masking_models(self, target: str) -> dict[str, str]:
        """The network(s) an interpretation job of ``target`` applies: out of fold, the outer-fold networks and
        the split file; with masking.mode ``final``, the refit network."""
        r = self.results
        if self.config["masking"]["mode"] == "out_of_fold":
            models = {f"fold_model_{k}": f"{r}/models/{target}/network/fold{k}.pt" for k in self.folds}
            return {**models, "folds": f"{r}/splits/{target}.tsv"}
        return {"model": f"{r}/models/{target}/final.pt"}

    # ------------------------------------------------------------------ interpretation, test cohort, null runs

    @property
    def collection_pattern(self) -> str:
        return "|".join(self.collections)

    @property
    def validation_target(self) -> str | None:
        """The multi-class subtype network of subtype validation (study Figure 2), if there is one."""
        specs = [s for s in self.target_specs if s.source == "subtype" and s.type == "multiclass"]
        return specs[0].name if specs else None

    @property
    def validation(self) -> bool:
        """Subtype validation runs: a subtype network and the Verhaak sets."""
        return self.validation_target is not None and "verhaak" in self.collections

    @property
    def validation_outputs(self) -> dict[str, str]:
        d = f"{self.results}/validation"
        return {"probabilities": f"{d}/subtype_probabilities.parquet", "auc": f"{d}/subtype_set_auc.tsv",
                "summary": f"{d}/subtype_summary.tsv", "coverage": f"{d}/coverage_curve.tsv"}

    @property
    def validation_figures(self) -> dict[str, str]:
        d = f"{self.results}/figures/validation"
        return {"heatmap": f"{d}/subtype_masking.png", "coverage": f"{d}/coverage_curve.png"}

    @property
    def simulated_plain_outputs(self) -> dict[str, str]:
        """What the simulator's plain-table rule writes: the target table and the test cohort's tables."""
        out = {"targets": self.simulated_inputs["targets"]} if self.sim_plain_targets else {}
        if self.sim_test:
            out.update({f"test_{kind}": path for kind, path in self.simulated_test.items()})
        return out

    @property
    def test_target_outputs(self) -> dict[str, str]:
        """With a test cohort, its targets are encoded (and checked) by build_targets, before any model is fitted."""
        if not self.test_cohort:
            return {}
        return {"test_targets": f"{self.results}/cohorts/test_targets.parquet",
                "test_drops": f"{self.results}/cohorts/test_target_drops.tsv"}

    @property
    def null_permutations(self) -> int:
        return self.config["evaluation"]["null_permutations"]

    def interpretation_outputs(self) -> list[str]:
        """Final outputs of single-gene masking, the correlation/masking GSEA, subtype validation and recovery."""
        r = self.results
        out = [f"{r}/masking/{t}/{SINGLE_GENES}.tsv" for t in self.targets]
        out += [f"{r}/enrichment/{t}/{c}_{ranking}.tsv"
                for t in self.targets for c in self.collections for ranking in GSEA_RANKINGS]
        if self.validation:
            out += list(self.validation_outputs.values()) + list(self.validation_figures.values())
        if self.simulated:
            out += [f"{r}/recovery/driver_ranks.tsv", f"{r}/figures/driver_recovery_methods.png"]
        return out

    def test_cohort_outputs(self) -> list[str]:
        return [f"{self.results}/evaluation/test_scores.tsv"] if self.test_cohort else []

    def null_outputs(self) -> list[str]:
        """The calibration table and figure when evaluation.null_permutations > 0."""
        if not self.null_permutations:
            return []
        return [f"{self.results}/evaluation/null_calibration.tsv", f"{self.results}/figures/null_calibration.png"]

    # ------------------------------------------------------------------ survival (survival.smk)

    @property
    def survival_extra_inputs(self) -> dict[str, list[str]]:
        """The Biotab follow-up, drug, radiation and new-tumour-event tables (lists of paths)."""
        return {kind: [str(p) for p in (self.config["inputs"].get(kind) or [])] for kind in BIOTAB_EXTRA}

    @property
    def survival_follow_up(self) -> list[str]:
        """Follow-up, drug and radiation tables: they all extend the follow-up (survival.overall_survival)."""
        extra = self.survival_extra_inputs
        return extra["clinical_follow_up"] + extra["clinical_drug"] + extra["clinical_radiation"]

    @property
    def survival_endpoints(self) -> list[str]:
        """Overall survival, and progression-free survival with a new-tumour-event table."""
        return ["os"] + (["pfs"] if self.survival_extra_inputs["new_tumor_event"] else [])

    @property
    def survival_endpoint_files(self) -> dict[str, str]:
        return {"os": f"{self.results}/survival/endpoint.tsv", "pfs": f"{self.results}/survival/pfs_endpoint.tsv"}

    def survival_endpoint_input(self) -> dict[str, str]:
        """The overall-survival source: the ingested Biotab clinical table, or the plain survival table."""
        if self.survival_table is not None:
            return {"survival_table": self.survival_table}
        return {"clinical": f"{self.results}/ingest/clinical.parquet"}

    @property
    def survival_imaging(self) -> list[str]:
        """Imaging traits: every target but the molecular subtype (VASARI traits, and plain-table targets)."""
        return [s.name for s in self.target_specs if s.source != "subtype"]

    @property
    def survival_imaging_categorical(self) -> list[str]:
        return [s.name for s in self.target_specs if s.source != "subtype" and s.type in ("binary", "multiclass")]

    @property
    def survival_subtype(self) -> list[str]:
        return [s.name for s in self.target_specs if s.source == "subtype"]

    @property
    def survival_stepwise_traits(self) -> list[str]:
        """Stepwise candidates besides the radiogenomic traits: the categorical imaging traits, else the subtype."""
        return self.survival_imaging_categorical or [
            s.name for s in self.target_specs if s.source == "subtype" and s.type in ("binary", "multiclass")]

    @property
    def survival_predicted(self) -> bool:
        """Survival by network-predicted imaging traits (needs a categorical imaging trait)."""
        return bool(self.config["survival"]["predicted_traits"] and self.survival_imaging_categorical)

    @property
    def survival_params(self) -> dict[str, Any]:
        survival = self.config["survival"]
        return {"covariates": list(survival["covariates"]), "max_covariate_missing": survival["max_covariate_missing"]}

    def radiogenomic_enrichment_tables(self) -> dict[str, str]:
        return {f"{net}__{c}": f"{self.results}/enrichment/{net}/{c}.tsv"
                for net in self.radiogenomic_networks for c in self.collections}

    def predicted_trait_models(self) -> dict[str, str]:
        return {f"model_{t}": f"{self.results}/models/{t}/final.pt" for t in self.survival_imaging_categorical}

    def survival_outputs(self) -> list[str]:
        """Final survival outputs for `rule all` (with a clinical or plain survival table only)."""
        if not self.has_survival:
            return []
        r = self.results
        out = [f"{r}/survival/endpoint_problems.tsv", f"{r}/survival/radiogenomic_traits.tsv",
               f"{r}/survival/radiogenomic_skipped.tsv"]
        if "pfs" in self.survival_endpoints:
            out += [f"{r}/survival/pfs_endpoint.tsv", f"{r}/survival/pfs_endpoint_problems.tsv"]
        for ep in self.survival_endpoints:
            d, f = f"{r}/survival/{ep}", f"{r}/figures/survival/{ep}"
            out += [f"{d}/km_logrank.tsv", f"{d}/cox.tsv", f"{d}/covariates.tsv", f"{d}/radiogenomic_tests.tsv",
                    f"{d}/stepwise_path.tsv", f"{d}/stepwise_final.tsv", f"{f}_forest_traits.png",
                    f"{f}_forest_stepwise.png", f"{f}_radiogenomic_km.png"]
            if self.survival_predicted:
                out += [f"{d}/predicted_trait_survival.tsv", f"{d}/predicted_trait_cox.tsv", f"{f}_predicted_km.png"]
        if self.survival_predicted:
            out.append(f"{r}/survival/predicted_traits.tsv")
        return out

    # ------------------------------------------------------------------ figures, the paper set and `rule all`

    @property
    def paper_traits(self) -> list[str]:
        """Categorical targets (binary or multi-class): the paper's association tests use their classes."""
        return [s.name for s in self.target_specs if s.type in ("binary", "multiclass")]

    @property
    def paper_cohorts(self) -> dict[str, str]:
        """Demographics columns: label -> key of cohorts.json (a target key for the subtype cohort)."""
        return {"expression": "expression", "autoencoder": "autoencoder", "imaged": "imaged",
                **{f"{t} (subtype cohort)": t for t in self.survival_subtype}}

    def paper_association_outputs(self) -> dict[str, str]:
        """The association tables and figures: trait x trait (two or more categorical targets) and trait x
        clinical variable (a clinical table and a categorical target); ``<kind>_png`` / ``<kind>_svg`` figures."""
        p = f"{self.results}/paper"
        kinds = ((["traits"] if len(self.paper_traits) >= 2 else [])
                 + (["clinical"] if self.has_input("clinical") and self.paper_traits else []))
        return {k: v for kind in kinds for k, v in ((kind, f"{p}/associations_{kind}.tsv"),
                                                      (f"{kind}_png", f"{p}/associations_{kind}.png"),
                                                      (f"{kind}_svg", f"{p}/associations_{kind}.svg"))}

    def paper_figures(self) -> list[str]:
        """The figures of the paper set: the stages' own figure files (PNG and SVG), not drawn a second time."""
        r = self.results
        pngs = [f"{r}/figures/performance.png", f"{r}/figures/cv_scores.png"]
        pngs += [f"{r}/figures/{name}_{c}.png" for name in ("masking", "enrichment", "enriched_patients")
                 for c in self.collections]
        if self.validation:
            pngs += list(self.validation_figures.values())
        if self.has_survival:
            pngs.append(f"{r}/figures/km_overview.png")
            if "os" in self.survival_endpoints:
                pngs.append(f"{r}/figures/survival/os_radiogenomic_km.png")
        return [q for png in pngs for q in (png, png[:-len(".png")] + ".svg")]

    def paper_outputs(self) -> list[str]:
        """What `snakemake paper_figures` builds: the figures, the association and demographics tables and the
        software-versions page."""
        out = self.paper_figures() + list(self.paper_association_outputs().values())
        out.append(f"{self.results}/report/software_versions.html")
        if self.has_input("clinical"):
            out += [f"{self.results}/paper/demographics.html", f"{self.results}/paper/demographics.tsv"]
        return out

    def all_outputs(self) -> list[str]:
        """The final outputs of every stage: what `rule all` asks for."""
        r, targets, collections = self.results, self.targets, self.collections
        out = [f"{r}/evaluation/cv_scores.tsv", f"{r}/evaluation/summary.tsv", f"{r}/evaluation/selected_networks.json",
               f"{r}/figures/performance.png", f"{r}/figures/cv_scores.png"]
        out += [f"{r}/masking/{t}/{c}.tsv" for t in targets for c in collections]
        out += [f"{r}/saliency/{t}.parquet" for t in targets]
        out += [f"{r}/enrichment/{t}/{c}_summary.tsv" for t in targets for c in collections]
        out += [f"{r}/figures/masking_{c}.png" for c in collections]
        out += [f"{r}/figures/enrichment_{c}.png" for c in collections]
        if self.has_survival:
            out += [f"{r}/survival/logrank.tsv", f"{r}/figures/km_overview.png"]
            out += [f"{r}/figures/km/{t}.png" for t in self.survival_groupings]
        if self.simulated:
            out += [f"{r}/recovery/driver_ranks.tsv", f"{r}/figures/driver_recovery.png"]
        out += self.test_cohort_outputs() + self.null_outputs() + self.interpretation_outputs()
        out += self.survival_outputs() + self.paper_outputs()
        return out

    # ------------------------------------------------------------------ pre-flight check of the user's tables

    def preflight_plan(self) -> dict[str, Any] | None:
        """What :func:`preflight.check_inputs` reads: every user-supplied table, with the settings the ingest and
        target jobs use; None for a simulated cohort (its inputs are written by the workflow)."""
        if self.simulated:
            return None
        given = self.config["inputs"]
        test_format = given["test"].get("expression_format") or given["expression_format"]
        survival = self.survival_table
        return {
            "expression": {"path": self.input_path("expression"), "format": given["expression_format"],
                           "orientation": given["expression_orientation"]},
            "id_rule": self.id_rule,
            "min_informative_genes": given["min_informative_genes"],
            "tables": {k: self.input_path(k) for k in ("vasari", "clanc", "clinical", "targets")},
            "targets_format": self.targets_format,
            "survival": {"path": survival, **given["survival_columns"]} if survival is not None else None,
            "biotab_extra": [p for paths in self.survival_extra_inputs.values() for p in paths],
            "gene_sets": dict(self.gene_set_paths()),
            "target_specs": [s.to_dict() for s in self.target_specs],
            "folds": self.config["cv"]["folds"],
            "test": {
                "expression": ({"path": self.test_input("expression"), "format": test_format}
                               if self.test_input("expression") else None),
                "targets": self.test_input("targets"),
                "patients": self.test_input("patients"),
            },
        }

    def run_preflight(self) -> bool:
        """Read and check every user-supplied table now, so a bad input stops the run before any job starts (and
        before Snakemake removes earlier outputs to rerun). Inputs still to be downloaded are checked by their
        jobs: the check runs only when every file is in place. Returns whether it ran (or was cached)."""
        plan = self.preflight_plan()
        if plan is None or not all(Path(p).is_file() for p in preflight.input_paths(plan)):
            return False
        preflight.run_cached(plan)
        return True
