"""A TCGA-GBM-like cohort with planted ground truth, written in the real file formats.

The simulated cohort lets every stage of the workflow run (and be checked)
without the controlled-access data: the files have the exact layout of the
real inputs (see :mod:`radiogenomics.inputs`) and ``truth.json`` records what
was planted, so a test can ask whether the analysis finds it.

Structure
---------
Patients
    ``n_patients`` patients with expression (barcodes ``TCGA-TSS-NNNN`` with
    tissue-source-site codes of real GBM sites), ``n_imaged`` of them with
    VASARI annotations, ``n_subtyped`` in the ClaNC table, and
    ``extra_clinical_patients`` with clinical data only.
Genes and programs
    ``n_genes`` synthetic symbols ``GENE00001``...; ``n_programs`` disjoint
    co-expressed programs (``PROGRAM_HYPOXIA``, ``PROGRAM_ANGIOGENESIS``,
    ``PROGRAM_EMT``, ...; the first ``n_programs`` of :data:`PROGRAM_NAMES`) of
    ``program_size_min``-``program_size_max`` genes. Each patient has a
    program activity ``a = z + shift(subtype)`` with ``z ~ N(0, 1)`` and a mild
    subtype shift (:data:`SUBTYPE_PROGRAM_SHIFTS`, e.g. Mesenchymal raises
    INFLAMMATION).
Subtypes
    Proneural / Neural / Classical / Mesenchymal with probabilities
    .30 / .15 / .27 / .28; each has a signature of ``subtype_set_size``
    genes (disjoint from the programs) raised by 1.2-2.0 log2 units in its
    patients.
Expression
    log2 microarray scale: ``x = mu + loading * a_program + signature shift +
    nuisance + noise`` with ``mu ~ U(4, 12)``, loadings ``U(0.5, 1.1)``,
    noise SD ``U(0.35, 0.75)``, two weak nuisance factors, clipped to
    [1, 16] and rounded to 4 decimals. ``duplicate_sample_fraction`` of the
    patients have a second sample (``-01B`` vial B, ``-02A`` recurrent or
    ``-11A`` normal, cycling) with slightly different values; the parser must
    keep the ``-01A`` primary sample.
VASARI traits (:data:`TRAITS`)
    latent ``s = trait_coefficient * x + Logistic(0, 1)`` where ``x`` is the
    driver program's activity (``rule: linear``) or, for f14, the product of
    INFLAMMATION and EMT activity (``rule: interaction``); categories by
    quantile cut-offs of ``s`` over all patients, giving binarised classes
    with a 0.40-0.55 positive share. f5 <- ANGIOGENESIS, f6 <- INVASION,
    f7 <- HYPOXIA, f14 <- INFLAMMATION x EMT, f9 <- PROLIFERATION,
    f10 <- OLIGODENDROCYTE. A ``missing_trait_fraction`` of trait cells is
    ``n/a``, ``indeterminate`` or a literal NA.
Survival
    Weibull (shape 1.4) event times with log-hazard ``b_age * (age - 60) / 10
    + b_necrosis * [f7 > 1/3] + b_prolif * a_PROLIFERATION`` (hazard ratios
    1.35 per decade, ``necrosis_hazard_ratio`` (1.8), 1.5 per SD), scaled so
    the median event time is ``median_os_days``; uniform follow-up
    ``U(150, 1900)`` days censors about a quarter of the patients (alive).
Clinical
    a Biotab patient table with the real three header rows for the columns
    written (:data:`CLINICAL_COLUMNS`), bracketed missing values and the
    real value vocabularies (race, ethnicity, Karnofsky scores).
ClaNC table
    the ``n_subtyped`` patients' primary expression of the four subtype
    signatures (codes PN / NL / CL / MES) plus ~20% genes with a blank code,
    gene-centred, samples grouped by subtype as in the real file (CRLF lines).
Gene-set collections
    a GMT (every ``PROGRAM_*`` plus 8 ``RANDOM_SET_k`` of 20-80 genes) and a
    Puchalski-style CSV of 10 cell-type-like sets, each mixing 40-60% of one
    program with random genes, two purely random (:data:`TABLE_SETS`).

Generic targets and a held-out test cohort (off by default)
    ``n_radiomic`` continuous radiomic-like features (:func:`radiomic_feature_names`):
    a share ``radiomic_noise_fraction`` is pure noise, the others are
    ``offset + scale * (w . a_drivers + e)`` for one or two driver programs
    with weights of random sign, the noise SD set so the population R^2 of the
    feature on the true driver activities (subtype shift included) is a
    drawn ``r2_ceiling`` in [``radiomic_r2_min``, ``radiomic_r2_max``];
    offsets and scales vary over five orders of magnitude, as real features
    do. ``histology=True`` adds a 3-class target (:data:`HISTOLOGY_CLASSES`):
    class scores ``c * a_EMT``, ``c * a_PROLIFERATION`` and an intercept for
    NOS, plus Gumbel(0, 1) noise, the class is the highest score (``c`` =
    ``trait_coefficient``; the intercept gives NOS a third of the patients).
    Both are written to a plain target table (patients x features, first
    column ``patient`` = the TCGA patient barcode, ``NA`` for a missing cell,
    a ``radiomic_missing_fraction`` of cells missing) for the imaged patients.
    ``n_test_patients`` adds a held-out cohort with other patient IDs (tissue
    source sites :data:`TEST_TSS_CODES`), drawn from the same model: its own
    Xena expression file (one ``-01A`` sample each) and plain target table.
    These draws use their own generators (``SeedSequence(seed, spawn_key=k)``),
    so the files above do not change when they are switched on.

All randomness comes from ``np.random.default_rng(seed)`` (and, for the
optional parts, generators spawned from the same seed), and every file is
formatted deterministically: the same parameters give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from radiogenomics import results
from radiogenomics.inputs.clanc import SUBTYPES

log = logging.getLogger(__name__)

PathLike = str | os.PathLike

PROGRAM_NAMES = (
    "PROGRAM_HYPOXIA", "PROGRAM_ANGIOGENESIS", "PROGRAM_EMT", "PROGRAM_INFLAMMATION",
    "PROGRAM_PROLIFERATION", "PROGRAM_INVASION", "PROGRAM_OLIGODENDROCYTE", "PROGRAM_NEURONAL",
    "PROGRAM_INTERFERON", "PROGRAM_OXPHOS", "PROGRAM_MYC", "PROGRAM_P53",
)
#: Real TCGA-GBM tissue source sites.
TSS_CODES = ("02", "06", "08", "12", "14", "19", "26", "27", "28", "32", "41", "76", "81", "87")
SUBTYPE_PROBABILITIES = {"Proneural": 0.30, "Neural": 0.15, "Classical": 0.27, "Mesenchymal": 0.28}
#: Mild shifts of program activity (in SD units) in each subtype's patients.
SUBTYPE_PROGRAM_SHIFTS: dict[str, dict[str, float]] = {
    "Proneural": {"PROGRAM_OLIGODENDROCYTE": 0.5, "PROGRAM_P53": 0.4},
    "Neural": {"PROGRAM_NEURONAL": 0.8, "PROGRAM_OXPHOS": 0.3},
    "Classical": {"PROGRAM_MYC": 0.5, "PROGRAM_PROLIFERATION": 0.2},
    "Mesenchymal": {"PROGRAM_INFLAMMATION": 0.6, "PROGRAM_ANGIOGENESIS": 0.3, "PROGRAM_INTERFERON": 0.3},
}

PROPORTION_CATEGORIES = ("Minimal", "Less than 1/3", "Between 1/3 and 2/3", "More than 2/3")
F9_CATEGORIES = ("Focal", "Multifocal or Multicentric")
F10_CATEGORIES = ("expansive (T1~FLAIR)", "mixed (T1 less than FLAIR)", "infiltrative (T1 much smaller than FLAIR)")

#: Planted traits: VASARI column, driver programs, rule, categories (low -> high latent score), cumulative
#: quantile cut-offs, and the categories of the binarised positive class.
TRAITS: dict[str, dict[str, Any]] = {
    "f5": {"column": "f5.proportion.enhancing", "drivers": ["PROGRAM_ANGIOGENESIS"], "rule": "linear",
           "categories": PROPORTION_CATEGORIES, "cut_quantiles": [0.12, 0.45, 0.75],
           "positive": ["Between 1/3 and 2/3", "More than 2/3"]},
    "f6": {"column": "f6.proportion.ncet", "drivers": ["PROGRAM_INVASION"], "rule": "linear",
           "categories": PROPORTION_CATEGORIES, "cut_quantiles": [0.30, 0.58, 0.85],
           "positive": ["Between 1/3 and 2/3", "More than 2/3"]},
    "f7": {"column": "f7.proportion.necrosis", "drivers": ["PROGRAM_HYPOXIA"], "rule": "linear",
           "categories": PROPORTION_CATEGORIES, "cut_quantiles": [0.25, 0.55, 0.80],
           "positive": ["Between 1/3 and 2/3", "More than 2/3"]},
    "f14": {"column": "f14.proportion.edema", "drivers": ["PROGRAM_INFLAMMATION", "PROGRAM_EMT"],
            "rule": "interaction", "categories": PROPORTION_CATEGORIES, "cut_quantiles": [0.20, 0.45, 0.72],
            "positive": ["Between 1/3 and 2/3", "More than 2/3"]},
    "f9": {"column": "f9.multifocal.or.multicentric", "drivers": ["PROGRAM_PROLIFERATION"], "rule": "linear",
           "categories": F9_CATEGORIES, "cut_quantiles": [0.60], "positive": ["Multifocal or Multicentric"]},
    "f10": {"column": "f10.t1.flair.ratio", "drivers": ["PROGRAM_OLIGODENDROCYTE"], "rule": "linear",
            "categories": F10_CATEGORIES, "cut_quantiles": [0.45, 0.78],
            "positive": ["mixed (T1 less than FLAIR)", "infiltrative (T1 much smaller than FLAIR)"]},
}
#: Column order of the real VASARI file.
VASARI_COLUMNS = ("research.id", "scan.type", "f9.multifocal.or.multicentric", "f5.proportion.enhancing",
                  "f6.proportion.ncet", "f7.proportion.necrosis", "f14.proportion.edema", "f10.t1.flair.ratio",
                  "comments", "study.date")
VASARI_MISSING = (("n/a", 0.45), ("indeterminate", 0.35), (None, 0.20))  # None = literal NA
_COMMENTS = ("NO NON-CONS", "T1Gd only.  No FLAIR.", "LTD- T1GAD ONLY", "motion artefact", "post-biopsy changes",
             "NO NON CONS", "second focus in temporal lobe")

#: Clinical columns written: (name, short name, CDE_ID row) copied from the real Biotab file.
CLINICAL_COLUMNS = (
    ("bcr_patient_uuid", "bcr_patient_uuid", "CDE_ID:"),
    ("bcr_patient_barcode", "bcr_patient_barcode", "CDE_ID:2673794"),
    ("form_completion_date", "form_completion_date", "CDE_ID:"),
    ("gender", "gender", "CDE_ID:2200604"),
    ("birth_days_to", "days_to_birth", "CDE_ID:3008233"),
    ("race", "race", "CDE_ID:2192199"),
    ("ethnicity", "ethnicity", "CDE_ID:2192217"),
    ("vital_status", "vital_status", "CDE_ID:5"),
    ("last_contact_days_to", "days_to_last_followup", "CDE_ID:3008273"),
    ("death_days_to", "days_to_death", "CDE_ID:3165475"),
    ("karnofsky_score", "karnofsky_performance_score", "CDE_ID:2003853"),
    ("age_at_initial_pathologic_diagnosis", "age_at_initial_pathologic_diagnosis", "CDE_ID:2006657"),
    ("histological_type", "histological_type", "CDE_ID:3081934"),
    ("patient_id", "patient_id", "CDE_ID:"),
    ("tissue_source_site", "tissue_source_site", "CDE_ID:"),
    ("tumor_tissue_site", "tumor_tissue_site", "CDE_ID:3427536"),
)
_RACE = (("WHITE", 0.876), ("BLACK OR AFRICAN AMERICAN", 0.058), ("ASIAN", 0.020), ("[Not Available]", 0.046))
_ETHNICITY = (("NOT HISPANIC OR LATINO", 0.806), ("HISPANIC OR LATINO", 0.024), ("[Not Available]", 0.170))
_KARNOFSKY = (("80", 0.43), ("[Not Available]", 0.257), ("60", 0.153), ("100", 0.108), ("40", 0.029),
              ("90", 0.009), ("70", 0.007), ("20", 0.004), ("[Unknown]", 0.013))
_HISTOLOGY = (("Untreated primary (de novo) GBM", 0.976), ("Treated primary GBM", 0.024))

#: Puchalski-style cell-type sets: (name, program mixed in or None for a purely random set).
TABLE_SETS = (
    ("Sim_endothelial", "PROGRAM_ANGIOGENESIS"), ("Sim_microgliamacrophages", "PROGRAM_INFLAMMATION"),
    ("Sim_oligodendrocytes", "PROGRAM_OLIGODENDROCYTE"), ("Sim_neuron", "PROGRAM_NEURONAL"),
    ("Sim_cellcycle", "PROGRAM_PROLIFERATION"), ("Sim_hypoxia", "PROGRAM_HYPOXIA"),
    ("Sim_mesenchymal", "PROGRAM_EMT"), ("Sim_invasiveedge", "PROGRAM_INVASION"),
    ("Sim_fetalastrocytes", None), ("Sim_matureastrocytes", None),
)
N_RANDOM_GMT_SETS = 8
GMT_URL = "https://simulated.invalid/msigdb/cards/{name}"
EXTRA_SAMPLE_KINDS = (("01B", "second vial of the primary tumour"), ("02A", "recurrent tumour"),
                      ("11A", "solid tissue normal"))

#: Feature classes cycled through by the radiomic feature names (pyradiomics-like).
RADIOMIC_CLASSES = ("shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
#: Share of driven radiomic features with two driver programs (the others have one).
RADIOMIC_TWO_DRIVER_SHARE = 0.3
#: The simulated 3-class imaging target: class -> the program that raises it (None: neither).
HISTOLOGY_TARGET = "histology"
HISTOLOGY_CLASSES: dict[str, str | None] = {"Adenocarcinoma": "PROGRAM_EMT",
                                             "Squamous cell carcinoma": "PROGRAM_PROLIFERATION", "NOS": None}
#: Tissue-source-site codes of the held-out test cohort (none is a training site, so IDs are disjoint).
TEST_TSS_CODES = ("HT", "DU", "CS", "DB")
#: First header cell (ID column) of the plain target and survival tables.
PLAIN_ID_COLUMN = "patient"
# spawn keys of the optional parts' generators
_SPAWN_RADIOMIC, _SPAWN_HISTOLOGY, _SPAWN_PLAIN_TABLE, _SPAWN_TEST = 1, 2, 3, 4

WEIBULL_SHAPE = 1.4
AGE_HR_PER_DECADE = 1.35
PROLIFERATION_HR_PER_SD = 1.5
FOLLOW_UP_DAYS = (150.0, 1900.0)


@dataclass
class SimulationParams:
    """Size and seed of a simulated cohort (the study's size: 528 patients, 12042 genes, 191 imaged)."""

    n_patients: int = 300
    n_imaged: int = 180
    n_genes: int = 2000
    n_subtyped: int = 200
    n_programs: int = 12
    program_size_min: int = 30
    program_size_max: int = 80
    subtype_set_size: int = 30
    extra_clinical_patients: int = 10
    duplicate_sample_fraction: float = 0.05
    missing_trait_fraction: float = 0.05
    seed: int = 1
    trait_coefficient: float = 2.0
    necrosis_hazard_ratio: float = 1.8
    median_os_days: float = 425.0
    # optional generic targets and test cohort (see the module docstring); left out of to_dict() at defaults
    n_radiomic: int = 0
    radiomic_noise_fraction: float = 0.3
    radiomic_r2_min: float = 0.5
    radiomic_r2_max: float = 0.85
    radiomic_missing_fraction: float = 0.01
    histology: bool = False
    n_test_patients: int = 0

    def __post_init__(self) -> None:
        needed_programs = sorted({d for t in TRAITS.values() for d in t["drivers"]}, key=PROGRAM_NAMES.index)
        min_programs = PROGRAM_NAMES.index(needed_programs[-1]) + 1
        checks = [
            (self.n_patients >= 20, f"n_patients must be at least 20, got {self.n_patients}"),
            (0 < self.n_imaged <= self.n_patients,
             f"n_imaged must be in 1..n_patients ({self.n_patients}), got {self.n_imaged}"),
            (0 < self.n_subtyped <= self.n_patients,
             f"n_subtyped must be in 1..n_patients ({self.n_patients}), got {self.n_subtyped}"),
            (min_programs <= self.n_programs <= len(PROGRAM_NAMES),
             f"n_programs must be in {min_programs}..{len(PROGRAM_NAMES)} (the traits need "
             f"{needed_programs}), got {self.n_programs}"),
            (1 <= self.program_size_min <= self.program_size_max,
             f"need 1 <= program_size_min <= program_size_max, got {self.program_size_min}, {self.program_size_max}"),
            (self.subtype_set_size >= 1, f"subtype_set_size must be at least 1, got {self.subtype_set_size}"),
            (self.extra_clinical_patients >= 0, "extra_clinical_patients must be >= 0"),
            (0.0 <= self.duplicate_sample_fraction < 1.0, "duplicate_sample_fraction must be in [0, 1)"),
            (0.0 <= self.missing_trait_fraction < 0.5, "missing_trait_fraction must be in [0, 0.5)"),
            (self.trait_coefficient > 0, "trait_coefficient must be positive"),
            (self.necrosis_hazard_ratio > 0, "necrosis_hazard_ratio must be positive"),
            (self.median_os_days > 0, "median_os_days must be positive"),
        ]
        reserved = self.n_programs * self.program_size_max + len(SUBTYPES) * self.subtype_set_size
        checks.append((self.n_genes >= reserved + 100,
                       f"n_genes ({self.n_genes}) must be at least {reserved + 100}: programs "
                       f"({self.n_programs} x up to {self.program_size_max}) + subtype sets "
                       f"(4 x {self.subtype_set_size}) + 100 background genes"))
        checks.append((self.n_genes <= 99999, "n_genes must be at most 99999 (GENE00001..GENE99999)"))
        checks += [
            (0 <= self.n_radiomic <= 999, f"n_radiomic must be in 0..999, got {self.n_radiomic}"),
            (0.0 <= self.radiomic_noise_fraction <= 1.0,
             f"radiomic_noise_fraction must be in [0, 1], got {self.radiomic_noise_fraction}"),
            (0.0 < self.radiomic_r2_min <= self.radiomic_r2_max < 1.0,
             f"need 0 < radiomic_r2_min <= radiomic_r2_max < 1, got {self.radiomic_r2_min}, {self.radiomic_r2_max}"),
            (0.0 <= self.radiomic_missing_fraction < 0.5,
             f"radiomic_missing_fraction must be in [0, 0.5), got {self.radiomic_missing_fraction}"),
            (isinstance(self.histology, bool), f"histology must be true or false, got {self.histology!r}"),
            (0 <= self.n_test_patients <= len(TEST_TSS_CODES) * 9999,
             f"n_test_patients must be in 0..{len(TEST_TSS_CODES) * 9999}, got {self.n_test_patients}"),
        ]
        if self.histology:
            drivers = [d for d in HISTOLOGY_CLASSES.values() if d is not None]
            missing = [d for d in drivers if d not in PROGRAM_NAMES[: self.n_programs]]
            checks.append((not missing, f"histology needs the programs {drivers}; {missing} are not among the "
                                        f"first n_programs ({self.n_programs})"))
        for ok, message in checks:
            if not ok:
                raise ValueError(f"SimulationParams: {message}")

    @property
    def has_plain_targets(self) -> bool:
        """Whether the cohort gets a plain target table (radiomic features and/or histology)."""
        return self.n_radiomic > 0 or self.histology

    @classmethod
    def from_config(cls, simulate: Mapping[str, Any], seed: int) -> "SimulationParams":
        """The parameters of the workflow config's ``simulate`` section (its ``enabled`` switch aside)."""
        return cls(**{k: v for k, v in simulate.items() if k != "enabled"}, seed=seed)

    def to_dict(self) -> dict[str, Any]:
        """All parameters; the optional ones only when they differ from their defaults (so a cohort
        that does not use them has the same truth.json as before they existed)."""
        d = dataclasses.asdict(self)
        for name, default in _OPTIONAL_DEFAULTS.items():
            if d[name] == default:
                del d[name]
        return d


_OPTIONAL_DEFAULTS = {f.name: f.default for f in dataclasses.fields(SimulationParams)
                      if f.name in ("n_radiomic", "radiomic_noise_fraction", "radiomic_r2_min", "radiomic_r2_max",
                                    "radiomic_missing_fraction", "histology", "n_test_patients")}


@dataclass
class SimulatedCohort:
    """A simulated cohort: the tables as they are written, plus the planted truth.

    ``expression`` is what :func:`parsers.read_expression_matrix` should return
    (primary samples, patients x genes); ``expression_file`` is the written
    genes x samples layout (duplicate samples included). ``vasari`` and
    ``clinical`` are the written strings (``vasari``: ``""`` = an empty quoted
    cell, NaN = a literal NA; ``clinical`` keeps the bracketed markers).
    """

    params: SimulationParams
    genes: list[str]
    programs: dict[str, list[str]]
    subtype_sets: dict[str, list[str]]
    patients: pd.DataFrame
    activity: pd.DataFrame
    expression: pd.DataFrame
    expression_file: pd.DataFrame
    samples: pd.DataFrame
    traits: pd.DataFrame
    vasari: pd.DataFrame
    clinical: pd.DataFrame
    clanc_values: pd.DataFrame
    clanc_codes: pd.Series
    clanc_subtypes: pd.Series
    gmt_sets: dict[str, list[str]]
    table_sets: dict[str, list[str]]
    truth: dict[str, Any] = field(default_factory=dict)
    #: plain target table as written (imaged patients in file order; floats, class names, NaN = NA)
    plain_targets: pd.DataFrame | None = None
    #: held-out cohort: expression (patients x genes, one -01A sample each) and its plain target table
    test_expression: pd.DataFrame | None = None
    test_plain_targets: pd.DataFrame | None = None

    # ----------------------------------------------------------------- text renderers

    def expression_text(self) -> str:
        """Xena genes x samples matrix: header ``sample`` + barcodes, values with 4 decimals."""
        return _xena_text(self.expression_file)

    def test_expression_text(self) -> str:
        """The held-out cohort's Xena matrix (barcodes ``<patient>-01A``)."""
        if self.test_expression is None:
            raise ValueError("the cohort has no test cohort (set n_test_patients > 0)")
        frame = self.test_expression.T
        frame.columns = [f"{pid}-01A" for pid in self.test_expression.index]
        return _xena_text(frame)

    def plain_targets_text(self, *, test: bool = False, sep: str = "\t") -> str:
        """Plain target table: header ``patient`` + target names; one row per patient; floats with 6
        significant digits, class names as is, ``NA`` for a missing cell."""
        frame = self.test_plain_targets if test else self.plain_targets
        if frame is None:
            raise ValueError("the cohort has no plain targets" + (" for a test cohort (set n_test_patients > 0 and "
                             "n_radiomic > 0 or histology)" if test else " (set n_radiomic > 0 or histology=True)"))
        return _plain_text(frame, sep)

    def survival_table_text(self, sep: str = "\t") -> str:
        """Plain survival table of the patients with expression: ``patient``, ``time`` (days), ``event``
        (1 dead, 0 alive), the same endpoint as the clinical table."""
        pts = self.patients[self.patients["has_expression"]].sort_index()
        lines = [sep.join([PLAIN_ID_COLUMN, "time", "event"])]
        lines += [sep.join([pid, str(int(t)), str(int(d))])
                  for pid, t, d in zip(pts.index, pts["os_days"], pts["dead"])]
        return "\n".join(lines) + "\n"

    def vasari_text(self) -> str:
        """VASARI CSV as the real file: first header cell ``""``, strings quoted, literal NA unquoted."""

        def cell(v: Any) -> str:
            if not isinstance(v, str):
                return "NA"
            return '"' + v.replace('"', '""') + '"'

        lines = [",".join(cell(c) for c in ["", *self.vasari.columns])]
        for patient, row in zip(self.vasari.index, self.vasari.itertuples(index=False)):
            lines.append(",".join(cell(c) for c in [patient, *row]))
        return "\n".join(lines) + "\n"

    def clinical_text(self) -> str:
        """Biotab patient table with its three header rows."""
        names = [c[0] for c in CLINICAL_COLUMNS]
        lines = ["\t".join(names), "\t".join(c[1] for c in CLINICAL_COLUMNS), "\t".join(c[2] for c in CLINICAL_COLUMNS)]
        for row in self.clinical[names].itertuples(index=False):
            lines.append("\t".join(row))
        return "\n".join(lines) + "\n"

    def clanc_text(self) -> str:
        """ClaNC840-style table (CRLF line endings, as the real file)."""
        barcodes = list(self.clanc_values.columns)
        lines = ["\t".join(["CLID", "Genes highly expressed in each subtype used for Gene Ontology", *barcodes]),
                 "\t".join(["Subtype", "GO genes", *self.clanc_subtypes.reindex(barcodes)])]
        for gene, row in zip(self.clanc_values.index, self.clanc_values.to_numpy()):
            lines.append("\t".join([gene, self.clanc_codes[gene], *(_format_sig4(v) for v in row)]))
        return "\r\n".join(lines) + "\r\n"

    def gmt_text(self) -> str:
        return "".join("\t".join([name, GMT_URL.format(name=name), *genes]) + "\n"
                       for name, genes in self.gmt_sets.items())

    def table_text(self) -> str:
        """Puchalski Table S15 style: set names, a row of ``na``, then genes column-wise."""
        names = list(self.table_sets)
        depth = max(len(g) for g in self.table_sets.values())
        lines = [",".join(names), ",".join("na" for _ in names)]
        for i in range(depth):
            lines.append(",".join(genes[i] if i < len(genes) else "" for genes in self.table_sets.values()))
        return "\n".join(lines) + "\n"

    # ----------------------------------------------------------------- writing

    def write(self, *, expression: PathLike, vasari: PathLike, clinical: PathLike, clanc: PathLike,
              gene_sets: Mapping[str, PathLike], truth: PathLike, plain_targets: PathLike | None = None,
              test_expression: PathLike | None = None, test_plain_targets: PathLike | None = None,
              survival_table: PathLike | None = None) -> None:
        """Write every file atomically. ``gene_sets`` maps a collection name to a path whose
        suffix picks the collection: ``.gmt`` -> the GMT (programs + random sets), ``.csv`` / ``.tsv``
        -> the Puchalski-style cell-type table.

        Optional files, written only when a path is given: ``plain_targets`` (the radiomic /
        histology table of the imaged patients), ``test_expression`` and ``test_plain_targets``
        (the held-out cohort) and ``survival_table`` (plain ``patient``, ``time``, ``event``).
        A plain table is comma-separated for ``.csv``, tab-separated otherwise. Asking for a file
        the cohort was not simulated with is a ValueError.
        """
        optional = {"plain_targets": plain_targets, "test_expression": test_expression,
                    "test_plain_targets": test_plain_targets, "survival_table": survival_table}
        optional = {k: v for k, v in optional.items() if v is not None}
        if "plain_targets" in optional and self.plain_targets is None:
            raise ValueError("plain_targets: the cohort has no plain targets; simulate with n_radiomic > 0 or "
                             "histology=True")
        if "test_expression" in optional and self.test_expression is None:
            raise ValueError("test_expression: the cohort has no test cohort; simulate with n_test_patients > 0")
        if "test_plain_targets" in optional and self.test_plain_targets is None:
            raise ValueError("test_plain_targets: the cohort has no test-cohort targets; simulate with "
                             "n_test_patients > 0 and n_radiomic > 0 or histology=True")
        writers = {}
        for name, path in gene_sets.items():
            suffix = Path(path).suffix.lower()
            if suffix == ".gmt":
                writers[path] = self.gmt_text
            elif suffix == ".csv":
                writers[path] = self.table_text
            elif suffix == ".tsv":
                writers[path] = lambda: self.table_text().replace(",", "\t")
            else:
                raise ValueError(f"gene-set collection {name!r}: unknown suffix {suffix!r} for {path}; "
                                 "use .gmt or .csv / .tsv")
        results.write_text(self.expression_text(), expression)
        results.write_text(self.vasari_text(), vasari)
        results.write_text(self.clinical_text(), clinical)
        with results.atomic_path(clanc) as tmp:
            tmp.write_bytes(self.clanc_text().encode("ascii"))
        for path, render in writers.items():
            results.write_text(render(), path)
        truth_doc = dict(self.truth)
        truth_doc["gene_set_files"] = {name: Path(p).name for name, p in gene_sets.items()}
        for key, path in optional.items():
            sep = "," if Path(path).suffix.lower() == ".csv" else "\t"
            if key == "plain_targets":
                text = self.plain_targets_text(sep=sep)
            elif key == "test_plain_targets":
                text = self.plain_targets_text(test=True, sep=sep)
            elif key == "test_expression":
                text = self.test_expression_text()
            else:
                text = self.survival_table_text(sep=sep)
            results.write_text(text, path)
            log.info("simulated %s written: %s", key.replace("_", " "), path)
        if optional:
            truth_doc["optional_files"] = {key: Path(path).name for key, path in optional.items()}
        results.write_json(truth_doc, truth)
        log.info("simulated cohort written: expression %s (%d genes x %d samples), VASARI %s (%d patients), "
                 "clinical %s (%d patients), ClaNC %s (%d samples), gene sets %s, truth %s",
                 expression, self.expression_file.shape[0], self.expression_file.shape[1], vasari, len(self.vasari),
                 clinical, len(self.clinical), clanc, self.clanc_values.shape[1], dict(gene_sets), truth)


# --------------------------------------------------------------------------- helpers


def _xena_text(frame: pd.DataFrame) -> str:
    """Genes x samples matrix in the Xena layout: header ``sample`` + barcodes, values with 4 decimals."""
    lines = ["\t".join(["sample", *frame.columns])]
    fmt = "\t".join(["%.4f"] * frame.shape[1])
    values = frame.to_numpy()
    for gene, row in zip(frame.index, values):
        lines.append(gene + "\t" + fmt % tuple(row.tolist()))
    return "\n".join(lines) + "\n"


def _plain_text(frame: pd.DataFrame, sep: str) -> str:
    """A plain one-row-per-patient table: ID column ``patient``, floats %.6g, strings as is, NA."""

    def cell(v: Any) -> str:
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "NA"
        return "%.6g" % v

    lines = [sep.join([PLAIN_ID_COLUMN, *frame.columns])]
    for pid, row in zip(frame.index, frame.itertuples(index=False)):
        lines.append(sep.join([pid, *(cell(v) for v in row)]))
    return "\n".join(lines) + "\n"


def _spawned_rng(seed: int, key: int) -> np.random.Generator:
    """A generator for one optional part, independent of the main stream and of the other parts."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


def radiomic_feature_names(n: int) -> list[str]:
    """pyradiomics-like names of the simulated features: ``original_<class>_F001``, classes cycled."""
    return [f"original_{RADIOMIC_CLASSES[k % len(RADIOMIC_CLASSES)]}_F{k + 1:03d}" for k in range(n)]


def _format_sig4(value: float) -> str:
    """Four significant digits as in the real ClaNC table (1.251, 0.8127, 4.48E-06)."""
    text = "%.4G" % value
    return "0" if text in ("0", "-0") else text


def _round_sig4(values: np.ndarray) -> np.ndarray:
    flat = [float(_format_sig4(v)) for v in np.asarray(values, dtype=float).ravel()]
    return np.asarray(flat, dtype=float).reshape(np.shape(values))


def _choice(rng: np.random.Generator, options: tuple[tuple[Any, float], ...], size: int) -> np.ndarray:
    values = [o[0] for o in options]
    p = np.asarray([o[1] for o in options], dtype=float)
    idx = rng.choice(len(values), size=size, p=p / p.sum())
    return np.asarray(values, dtype=object)[idx]


def _categorise(score: np.ndarray, cut_quantiles: list[float], categories: tuple[str, ...]) -> np.ndarray:
    edges = np.quantile(score, cut_quantiles)
    return np.asarray(categories, dtype=object)[np.searchsorted(edges, score, side="right")]


def _uuid4(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


# --------------------------------------------------------------------------- simulation


def simulate_cohort(params: SimulationParams | None = None) -> SimulatedCohort:
    """Simulate a cohort (see the module docstring for the model); deterministic in ``params``."""
    p = params or SimulationParams()
    rng = np.random.default_rng(p.seed)
    programs_used = list(PROGRAM_NAMES[: p.n_programs])
    n_total = p.n_patients + p.extra_clinical_patients

    # ---- patients
    codes = rng.choice(len(TSS_CODES) * 9999, size=n_total, replace=False)
    all_patients = sorted(f"TCGA-{TSS_CODES[c // 9999]}-{c % 9999 + 1:04d}" for c in codes)
    order = rng.permutation(n_total)
    expr_patients = sorted(all_patients[i] for i in order[: p.n_patients])
    clinical_only = sorted(all_patients[i] for i in order[p.n_patients:])
    pos = {pid: i for i, pid in enumerate(all_patients)}

    subtype_idx = rng.choice(len(SUBTYPES), size=n_total, p=[SUBTYPE_PROBABILITIES[s] for s in SUBTYPES])
    subtype = np.asarray(SUBTYPES, dtype=object)[subtype_idx]

    # ---- program activity
    z = rng.standard_normal((n_total, p.n_programs))
    shift = np.zeros((len(SUBTYPES), p.n_programs))
    for s, shifts in SUBTYPE_PROGRAM_SHIFTS.items():
        for prog, value in shifts.items():
            if prog in programs_used:
                shift[SUBTYPES.index(s), programs_used.index(prog)] = value
    act = z + shift[subtype_idx]
    activity = pd.DataFrame(act, index=pd.Index(all_patients, name="patient"), columns=programs_used)

    # ---- traits (every patient has a true category; only the imaged ones are annotated)
    trait_cats: dict[str, np.ndarray] = {}
    trait_truth: dict[str, dict[str, Any]] = {}
    for code, spec in TRAITS.items():
        drivers = activity[spec["drivers"]].to_numpy()
        x = drivers[:, 0] if spec["rule"] == "linear" else drivers[:, 0] * drivers[:, 1]
        score = p.trait_coefficient * x + rng.logistic(size=n_total)
        trait_cats[code] = _categorise(score, spec["cut_quantiles"], spec["categories"])
        trait_truth[code] = {"column": spec["column"], "drivers": list(spec["drivers"]), "rule": spec["rule"],
                             "coefficient": p.trait_coefficient, "noise": "logistic(0, 1)",
                             "categories": list(spec["categories"]), "cut_quantiles": list(spec["cut_quantiles"]),
                             "positive": list(spec["positive"])}
    traits = pd.DataFrame(trait_cats, index=activity.index)

    # ---- genes: programs, subtype signatures, background
    genes = [f"GENE{i:05d}" for i in range(1, p.n_genes + 1)]
    perm = rng.permutation(p.n_genes)
    sizes = rng.integers(p.program_size_min, p.program_size_max + 1, size=p.n_programs)
    program_idx: dict[str, np.ndarray] = {}
    start = 0
    for prog, size in zip(programs_used, sizes):
        program_idx[prog] = np.sort(perm[start:start + size])
        start += int(size)
    subtype_idx_genes: dict[str, np.ndarray] = {}
    for s in SUBTYPES:
        subtype_idx_genes[s] = np.sort(perm[start:start + p.subtype_set_size])
        start += p.subtype_set_size
    programs = {prog: [genes[i] for i in idx] for prog, idx in program_idx.items()}
    subtype_sets = {s: [genes[i] for i in idx] for s, idx in subtype_idx_genes.items()}

    # ---- expression of the primary samples
    e_rows = np.asarray([pos[pid] for pid in expr_patients])
    n_e = len(e_rows)
    mu = rng.uniform(4.0, 12.0, size=p.n_genes)
    noise_sd = rng.uniform(0.35, 0.75, size=p.n_genes)
    loadings = np.zeros((p.n_programs, p.n_genes))
    for k, prog in enumerate(programs_used):
        loadings[k, program_idx[prog]] = rng.uniform(0.5, 1.1, size=len(program_idx[prog]))
    signature = np.zeros((len(SUBTYPES), p.n_genes))
    for k, s in enumerate(SUBTYPES):
        signature[k, subtype_idx_genes[s]] = rng.uniform(1.2, 2.0, size=p.subtype_set_size)
    nuisance_loadings = rng.normal(0.0, 0.15, size=(2, p.n_genes))
    model = _ExpressionModel(mu=mu, noise_sd=noise_sd, loadings=loadings, signature=signature,
                             nuisance_loadings=nuisance_loadings, shift=shift, programs=programs_used)
    x = model.draw(rng, act[e_rows], subtype_idx[e_rows])
    expression = pd.DataFrame(x, index=pd.Index(expr_patients, name="patient"), columns=genes)

    # ---- expression file: primary samples + extra samples, columns shuffled
    n_dup = int(round(p.duplicate_sample_fraction * n_e))
    dup_rows = np.sort(rng.choice(n_e, size=n_dup, replace=False)) if n_dup else np.array([], dtype=int)
    kind_order = rng.permutation(len(EXTRA_SAMPLE_KINDS))
    barcodes = [f"{pid}-01A" for pid in expr_patients]
    kinds = ["primary tumour"] * n_e
    columns = [x]
    extra_values = []
    for j, r in enumerate(dup_rows):
        suffix, kind = EXTRA_SAMPLE_KINDS[kind_order[j % len(kind_order)]]
        barcodes.append(f"{expr_patients[r]}-{suffix}")
        kinds.append(kind)
        extra_values.append(x[r] + rng.normal(0.0, 0.2, size=p.n_genes))
    if extra_values:
        columns.append(np.round(np.clip(np.vstack(extra_values), 1.0, 16.0), 4))
    all_values = np.vstack(columns)
    col_order = rng.permutation(len(barcodes))
    expression_file = pd.DataFrame(all_values[col_order].T, index=pd.Index(genes, name="sample"),
                                   columns=[barcodes[i] for i in col_order])
    samples = pd.DataFrame({"barcode": [barcodes[i] for i in col_order],
                            "patient": [barcodes[i][:12] for i in col_order],
                            "kind": [kinds[i] for i in col_order]})

    # ---- imaged / subtyped subsets
    imaged = sorted(rng.choice(expr_patients, size=p.n_imaged, replace=False).tolist())
    subtyped = sorted(rng.choice(expr_patients, size=p.n_subtyped, replace=False).tolist())

    # ---- VASARI table (rows in a random order, as the real file)
    vasari = _simulate_vasari(rng, p, imaged, traits)

    # ---- survival and clinical table
    age = np.clip(np.round(rng.normal(57.0, 13.0, size=n_total)), 18, 88).astype(int)
    necrosis_high = np.isin(traits["f7"].to_numpy(), TRAITS["f7"]["positive"]).astype(float)
    prolif = activity["PROGRAM_PROLIFERATION"].to_numpy()
    b_age, b_nec = math.log(AGE_HR_PER_DECADE), math.log(p.necrosis_hazard_ratio)
    b_prolif = math.log(PROLIFERATION_HR_PER_SD)
    lp = b_age * (age - 60) / 10.0 + b_nec * necrosis_high + b_prolif * prolif
    t_raw = (rng.exponential(size=n_total) / np.exp(lp)) ** (1.0 / WEIBULL_SHAPE)
    t_event = t_raw * (p.median_os_days / np.median(t_raw))
    follow_up = rng.uniform(*FOLLOW_UP_DAYS, size=n_total)
    dead = t_event <= follow_up
    time = np.maximum(1, np.round(np.where(dead, t_event, follow_up))).astype(int)
    clinical = _simulate_clinical(rng, all_patients, age, dead, time)

    patients = pd.DataFrame({
        "subtype": subtype, "has_expression": np.isin(all_patients, expr_patients),
        "imaged": np.isin(all_patients, imaged), "subtyped": np.isin(all_patients, subtyped),
        "age": age, "os_days": time, "dead": dead, "necrosis_high": necrosis_high.astype(bool),
    }, index=activity.index)

    # ---- ClaNC table
    clanc_values, clanc_codes, clanc_subtypes = _simulate_clanc(rng, p, expression, subtyped, patients,
                                                                subtype_sets, genes)

    # ---- gene-set collections
    gmt_sets, gmt_truth = _simulate_gmt(rng, programs, genes)
    table_sets, table_truth = _simulate_table_sets(rng, programs, genes)

    truth = {
        "seed": p.seed,
        "params": p.to_dict(),
        "programs": programs,
        "subtype_sets": subtype_sets,
        "subtype_probabilities": dict(SUBTYPE_PROBABILITIES),
        "subtype_program_shifts": {s: {k: v for k, v in d.items() if k in programs_used}
                                   for s, d in SUBTYPE_PROGRAM_SHIFTS.items()},
        "traits": trait_truth,
        "survival": {
            "model": f"Weibull (shape {WEIBULL_SHAPE}), time scaled to a median of {p.median_os_days} days; "
                     f"follow-up U{FOLLOW_UP_DAYS} days",
            "log_hazard_ratios": {"age_per_10_years": b_age, "f7": b_nec, "PROGRAM_PROLIFERATION": b_prolif},
            "hazard_ratios": {"age_per_10_years": AGE_HR_PER_DECADE, "f7": p.necrosis_hazard_ratio,
                              "PROGRAM_PROLIFERATION": PROLIFERATION_HR_PER_SD},
            "covariates": {"age_per_10_years": "(age at diagnosis - 60) / 10",
                           "f7": "1 when the true f7 category is above 1/3 (" + " or ".join(TRAITS["f7"]["positive"])
                                 + "), else 0",
                           "PROGRAM_PROLIFERATION": "program activity (SD units, subtype shift included)"},
            "age_centre": 60,
            "driver_trait": "f7",
            "driver_program": "PROGRAM_PROLIFERATION",
            "median_event_days": p.median_os_days,
            "censored_fraction": float(1.0 - dead.mean()),
        },
        "patients": {"expression": expr_patients, "imaged": imaged, "subtyped": subtyped,
                     "clinical_only": clinical_only},
        "patient_subtypes": dict(zip(all_patients, subtype.tolist())),
        "program_activity": {"patients": all_patients,
                             **{prog: np.round(activity[prog].to_numpy(), 6).tolist() for prog in programs_used}},
        "extra_samples": [{"barcode": b, "kind": k} for b, k in zip(samples["barcode"], samples["kind"])
                          if k != "primary tumour"],
        "gene_set_collections": {"gmt": gmt_truth, "table": table_truth},
    }
    log.info("simulated cohort: %d patients with expression (%d extra samples), %d imaged, %d subtyped, "
             "%d clinical-only; %d genes, %d programs; %.0f%% censored", n_e, n_dup, len(imaged), len(subtyped),
             len(clinical_only), p.n_genes, p.n_programs, 100 * (1 - dead.mean()))
    optional = _simulate_optional(p, model, activity.loc[expr_patients], imaged, genes, truth)
    return SimulatedCohort(params=p, genes=genes, programs=programs, subtype_sets=subtype_sets, patients=patients,
                           activity=activity, expression=expression, expression_file=expression_file,
                           samples=samples, traits=traits, vasari=vasari, clinical=clinical,
                           clanc_values=clanc_values, clanc_codes=clanc_codes, clanc_subtypes=clanc_subtypes,
                           gmt_sets=gmt_sets, table_sets=table_sets, truth=truth, **optional)


@dataclass
class _ExpressionModel:
    """Per-gene parameters of the expression model, shared by the training and the test cohort."""

    mu: np.ndarray
    noise_sd: np.ndarray
    loadings: np.ndarray
    signature: np.ndarray
    nuisance_loadings: np.ndarray
    shift: np.ndarray  # subtypes x programs
    programs: list[str]

    def draw(self, rng: np.random.Generator, act: np.ndarray, subtype_idx: np.ndarray) -> np.ndarray:
        """log2 expression of patients with activities ``act`` (rounded to 4 decimals, clipped to [1, 16])."""
        n = len(act)
        nuisance = rng.standard_normal((n, 2))
        noise = rng.standard_normal((n, len(self.mu))) * self.noise_sd
        x = self.mu + act @ self.loadings + self.signature[subtype_idx] + nuisance @ self.nuisance_loadings + noise
        return np.round(np.clip(x, 1.0, 16.0), 4)


@dataclass
class _RadiomicFeature:
    drivers: list[int]
    weights: np.ndarray
    r2_ceiling: float | None
    noise_sd: float
    centre: float
    total_sd: float
    offset: float
    scale: float

    def values(self, act: np.ndarray, eps: np.ndarray) -> np.ndarray:
        signal = act[:, self.drivers] @ self.weights if self.drivers else np.zeros(len(act))
        return self.offset + self.scale * (signal + self.noise_sd * eps - self.centre) / self.total_sd


def _radiomic_features(rng: np.random.Generator, p: SimulationParams, shift: np.ndarray
                       ) -> dict[str, _RadiomicFeature]:
    """The feature models: noise features, and driven ones with the noise SD giving the drawn R^2 ceiling.

    The ceiling is exact in the population: activity ``a = z + shift(subtype)`` with ``z ~ N(0, I)``, so
    ``Var(w . a) = |w|^2 + Var_subtype(w . shift)``.
    """
    names = radiomic_feature_names(p.n_radiomic)
    n_noise = int(round(p.radiomic_noise_fraction * p.n_radiomic))
    noise_idx = set(rng.choice(p.n_radiomic, size=n_noise, replace=False).tolist())
    probs = np.asarray([SUBTYPE_PROBABILITIES[s] for s in SUBTYPES])
    features: dict[str, _RadiomicFeature] = {}
    for k, name in enumerate(names):
        scale = float(10.0 ** rng.uniform(-2.0, 3.0))
        offset = float(scale * rng.uniform(0.0, 6.0))
        if k in noise_idx:
            features[name] = _RadiomicFeature(drivers=[], weights=np.zeros(0), r2_ceiling=None, noise_sd=1.0,
                                              centre=0.0, total_sd=1.0, offset=offset, scale=scale)
            continue
        n_drivers = 2 if rng.random() < RADIOMIC_TWO_DRIVER_SHARE else 1
        drivers = sorted(rng.choice(shift.shape[1], size=n_drivers, replace=False).tolist())
        weights = np.round(rng.choice([-1.0, 1.0], size=n_drivers) * rng.uniform(0.5, 1.0, size=n_drivers), 4)
        r2 = round(float(rng.uniform(p.radiomic_r2_min, p.radiomic_r2_max)), 4)
        by_subtype = shift[:, drivers] @ weights
        centre = float(probs @ by_subtype)
        signal_var = float(weights @ weights + probs @ (by_subtype - centre) ** 2)
        noise_sd = math.sqrt(signal_var * (1.0 - r2) / r2)
        features[name] = _RadiomicFeature(drivers=drivers, weights=weights, r2_ceiling=r2, noise_sd=noise_sd,
                                          centre=centre, total_sd=math.sqrt(signal_var + noise_sd ** 2),
                                          offset=offset, scale=scale)
    return features


def _histology_scores(act: pd.DataFrame, coefficient: float, intercept: float, gumbel: np.ndarray) -> np.ndarray:
    """Class scores: ``coefficient * activity`` of a class's driver, ``intercept`` for the class without one."""
    columns = [coefficient * act[d].to_numpy() if d is not None else np.full(len(act), intercept)
               for d in HISTOLOGY_CLASSES.values()]
    return np.column_stack(columns) + gumbel


def _histology_intercept(act: pd.DataFrame, coefficient: float, gumbel: np.ndarray) -> float:
    """Intercept of the driverless class giving it (as near as the sample allows) a third of the patients."""
    free = [j for j, d in enumerate(HISTOLOGY_CLASSES.values()) if d is None][0]
    lo, hi = -50.0, 50.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        share = float(np.mean(_histology_scores(act, coefficient, mid, gumbel).argmax(axis=1) == free))
        if share < 1.0 / 3.0:
            lo = mid
        else:
            hi = mid
    return round(hi, 6)


def _plain_table(rng: np.random.Generator, patients: list[str], features: Mapping[str, _RadiomicFeature],
                 act: pd.DataFrame, eps: np.ndarray, histology: np.ndarray | None, missing_fraction: float
                 ) -> pd.DataFrame:
    """Plain target table of ``patients`` (rows of ``act`` / ``eps`` / ``histology``), rows shuffled,
    a ``missing_fraction`` of cells NaN."""
    data: dict[str, np.ndarray] = {}
    a = act.to_numpy()
    for k, (name, feature) in enumerate(features.items()):
        data[name] = feature.values(a, eps[:, k])
    if histology is not None:
        data[HISTOLOGY_TARGET] = histology
    frame = pd.DataFrame(data, index=pd.Index(list(act.index), name="patient")).loc[patients].astype(object)
    order = rng.permutation(len(frame))
    frame = frame.iloc[order]
    hit = rng.random(frame.shape) < missing_fraction
    values = frame.to_numpy()
    values[hit] = np.nan
    out = pd.DataFrame(values, index=frame.index, columns=frame.columns)
    for name in features:
        out[name] = out[name].astype(float)
    return out


def _simulate_optional(p: SimulationParams, model: _ExpressionModel, train_act: pd.DataFrame, imaged: list[str],
                       genes: list[str], truth: dict[str, Any]) -> dict[str, Any]:
    """Radiomic features, the histology target and the held-out test cohort (each from its own generator).

    Adds the truth keys ``radiomic``, ``multiclass_targets``, ``plain_targets``, ``test_patients``,
    ``test_patient_subtypes`` and ``test_program_activity`` when the parts are used; returns the
    SimulatedCohort fields ``plain_targets``, ``test_expression`` and ``test_plain_targets``.
    """
    out: dict[str, Any] = {}
    if not p.has_plain_targets and p.n_test_patients == 0:
        return out
    programs = model.programs
    rad_rng = _spawned_rng(p.seed, _SPAWN_RADIOMIC)
    features = _radiomic_features(rad_rng, p, model.shift) if p.n_radiomic else {}
    train_eps = rad_rng.standard_normal((len(train_act), p.n_radiomic))
    intercept = None
    train_histology = None
    if p.histology:
        hist_rng = _spawned_rng(p.seed, _SPAWN_HISTOLOGY)
        gumbel = hist_rng.gumbel(size=(len(train_act), len(HISTOLOGY_CLASSES)))
        intercept = _histology_intercept(train_act, p.trait_coefficient, gumbel)
        scores = _histology_scores(train_act, p.trait_coefficient, intercept, gumbel)
        train_histology = np.asarray(list(HISTOLOGY_CLASSES), dtype=object)[scores.argmax(axis=1)]
    if p.has_plain_targets:
        out["plain_targets"] = _plain_table(_spawned_rng(p.seed, _SPAWN_PLAIN_TABLE), imaged, features, train_act,
                                            train_eps, train_histology, p.radiomic_missing_fraction)

    if p.n_test_patients:
        rng = _spawned_rng(p.seed, _SPAWN_TEST)
        n_t = p.n_test_patients
        codes = rng.choice(len(TEST_TSS_CODES) * 9999, size=n_t, replace=False)
        test_patients = sorted(f"TCGA-{TEST_TSS_CODES[c // 9999]}-{c % 9999 + 1:04d}" for c in codes)
        sub_idx = rng.choice(len(SUBTYPES), size=n_t, p=[SUBTYPE_PROBABILITIES[s] for s in SUBTYPES])
        act = rng.standard_normal((n_t, len(programs))) + model.shift[sub_idx]
        test_act = pd.DataFrame(act, index=pd.Index(test_patients, name="patient"), columns=programs)
        out["test_expression"] = pd.DataFrame(model.draw(rng, act, sub_idx), columns=genes,
                                              index=pd.Index(test_patients, name="patient"))
        test_eps = rng.standard_normal((n_t, p.n_radiomic))
        test_histology = None
        if p.histology:
            gumbel = rng.gumbel(size=(n_t, len(HISTOLOGY_CLASSES)))
            scores = _histology_scores(test_act, p.trait_coefficient, intercept, gumbel)
            test_histology = np.asarray(list(HISTOLOGY_CLASSES), dtype=object)[scores.argmax(axis=1)]
        if p.has_plain_targets:
            out["test_plain_targets"] = _plain_table(rng, test_patients, features, test_act, test_eps,
                                                     test_histology, p.radiomic_missing_fraction)
        truth["test_patients"] = test_patients
        truth["test_patient_subtypes"] = dict(zip(test_patients, np.asarray(SUBTYPES, dtype=object)[sub_idx].tolist()))
        truth["test_program_activity"] = {"patients": test_patients,
                                          **{prog: np.round(test_act[prog].to_numpy(), 6).tolist()
                                             for prog in programs}}

    if features:
        truth["radiomic"] = {
            name: ({"drivers": [programs[d] for d in f.drivers], "weights": f.weights.tolist(),
                    "r2_ceiling": f.r2_ceiling} if f.drivers else {"drivers": [], "noise": True})
            for name, f in features.items()}
    if p.histology:
        truth["multiclass_targets"] = {HISTOLOGY_TARGET: dict(HISTOLOGY_CLASSES)}
    if p.has_plain_targets:
        table = out["plain_targets"]
        plain: dict[str, Any] = {
            "id_column": PLAIN_ID_COLUMN, "id_rule": "identity", "patients": sorted(table.index),
            "columns": list(table.columns), "missing_fraction": p.radiomic_missing_fraction,
            "radiomic_model": "offset + scale * (w . a_drivers + noise - centre) / sd; noise SD set so the R^2 of the "
                              "feature on the true driver activities is r2_ceiling; noise features: N(0, 1)",
        }
        if p.histology:
            counts = table[HISTOLOGY_TARGET].value_counts()
            plain["histology_model"] = {
                "classes": list(HISTOLOGY_CLASSES), "coefficient": p.trait_coefficient,
                "intercept": {c: intercept for c, d in HISTOLOGY_CLASSES.items() if d is None},
                "noise": "Gumbel(0, 1) per class; the class with the highest score",
                "class_counts": {c: int(counts.get(c, 0)) for c in HISTOLOGY_CLASSES}}
        truth["plain_targets"] = plain
    log.info("simulated optional parts: %d radiomic features (%d noise), histology %s, %d test patients",
             len(features), sum(1 for f in features.values() if not f.drivers), "yes" if p.histology else "no",
             p.n_test_patients)
    return out


def _simulate_vasari(rng: np.random.Generator, p: SimulationParams, imaged: list[str],
                     traits: pd.DataFrame) -> pd.DataFrame:
    n = len(imaged)
    rows = rng.permutation(n)
    patients = [imaged[i] for i in rows]
    table: dict[str, np.ndarray] = {
        "research.id": np.asarray([pid[5:] for pid in patients], dtype=object),
        "scan.type": np.asarray(["pre-operative"] * n, dtype=object),
    }
    by_column = {spec["column"]: code for code, spec in TRAITS.items()}
    missing_values = [m[0] for m in VASARI_MISSING]
    missing_p = np.asarray([m[1] for m in VASARI_MISSING])
    for column in VASARI_COLUMNS[2:8]:
        values = traits.loc[patients, by_column[column]].to_numpy().copy()
        hit = rng.random(n) < p.missing_trait_fraction
        which = rng.choice(len(missing_values), size=n, p=missing_p)
        for i in np.flatnonzero(hit):
            values[i] = missing_values[which[i]] if missing_values[which[i]] is not None else np.nan
        table[column] = values
    # comments: mostly empty, some text, some literal NA (then the study date is NA too, as in the real file)
    kind = rng.choice(3, size=n, p=[0.70, 0.20, 0.10])
    comment_pick = rng.integers(0, len(_COMMENTS), size=n)
    comments = np.where(kind == 0, "", np.asarray(_COMMENTS, dtype=object)[comment_pick]).astype(object)
    year = rng.integers(1996, 2007, size=n)
    month = rng.integers(1, 13, size=n)
    day = rng.integers(1, 29, size=n)
    no_date = rng.random(n) < 0.3
    dates = np.asarray(["" if nd else f"{m}/{d}/{y}" for nd, m, d, y in zip(no_date, month, day, year)], dtype=object)
    comments[kind == 2] = np.nan
    dates[kind == 2] = np.nan
    table["comments"] = comments
    table["study.date"] = dates
    return pd.DataFrame(table, index=pd.Index(patients, name="patient"))[list(VASARI_COLUMNS)]


def _simulate_clinical(rng: np.random.Generator, patients: list[str], age: np.ndarray, dead: np.ndarray,
                       time: np.ndarray) -> pd.DataFrame:
    n = len(patients)
    uuids = [_uuid4(rng) for _ in range(n)]
    gender = np.where(rng.random(n) < 0.61, "MALE", "FEMALE")
    birth = -(age * 365 + rng.integers(0, 365, size=n))
    race = _choice(rng, _RACE, n)
    ethnicity = _choice(rng, _ETHNICITY, n)
    karnofsky = _choice(rng, _KARNOFSKY, n)
    histology = _choice(rng, _HISTOLOGY, n)
    form_day = rng.integers(10, 18, size=n)
    contact_kind = rng.choice(3, size=n, p=[0.60, 0.35, 0.05])
    contact_fraction = rng.uniform(0.3, 1.0, size=n)
    last_contact, death = [], []
    for i in range(n):
        if dead[i]:
            death.append(str(time[i]))
            if contact_kind[i] == 0:
                last_contact.append(str(time[i]))
            elif contact_kind[i] == 1:
                last_contact.append(str(int(np.floor(contact_fraction[i] * time[i]))))
            else:
                last_contact.append("[Not Available]")
        else:
            death.append("[Not Applicable]")
            last_contact.append(str(time[i]))
    table = pd.DataFrame({
        "bcr_patient_uuid": uuids,
        "bcr_patient_barcode": patients,
        "form_completion_date": [f"2008-12-{d:02d}" for d in form_day],
        "gender": gender.astype(object),
        "birth_days_to": [str(b) for b in birth],
        "race": race,
        "ethnicity": ethnicity,
        "vital_status": np.where(dead, "Dead", "Alive").astype(object),
        "last_contact_days_to": last_contact,
        "death_days_to": death,
        "karnofsky_score": karnofsky,
        "age_at_initial_pathologic_diagnosis": [str(a) for a in age],
        "histological_type": histology,
        "patient_id": [pid[8:] for pid in patients],
        "tissue_source_site": [pid[5:7] for pid in patients],
        "tumor_tissue_site": ["Brain"] * n,
    }, index=pd.Index(patients, name="patient"))
    return table


def _simulate_clanc(rng: np.random.Generator, p: SimulationParams, expression: pd.DataFrame, subtyped: list[str],
                    patients: pd.DataFrame, subtype_sets: dict[str, list[str]], genes: list[str]
                    ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    in_sets = {g for s in subtype_sets.values() for g in s}
    n_extra = int(round(0.2 * len(in_sets)))
    candidates = np.asarray([g for g in genes if g not in in_sets])
    extra = sorted(rng.choice(candidates, size=min(n_extra, len(candidates)), replace=False).tolist())
    # gene order as the real file: PN, NL, blank-code genes, CL, MES
    ordered = [(g, "PN") for g in subtype_sets["Proneural"]] + [(g, "NL") for g in subtype_sets["Neural"]]
    ordered += [(g, "") for g in extra]
    ordered += [(g, "CL") for g in subtype_sets["Classical"]] + [(g, "MES") for g in subtype_sets["Mesenchymal"]]
    gene_order = [g for g, _ in ordered]
    # samples grouped by subtype then barcode; a few other vials / portions like the real table
    sub = patients.loc[subtyped, "subtype"]
    rank = {s: i for i, s in enumerate(SUBTYPES)}
    order = sorted(subtyped, key=lambda pid: (rank[sub[pid]], pid))
    variant = rng.choice(3, size=len(order), p=[0.85, 0.05, 0.10])
    suffix = np.asarray(["-01A-01", "-01B-01", "-01A-02"])[variant]
    barcodes = [pid + s for pid, s in zip(order, suffix)]
    values = expression.loc[order, gene_order].to_numpy().T
    values = _round_sig4(values - values.mean(axis=1, keepdims=True))
    clanc_values = pd.DataFrame(values, index=pd.Index(gene_order, name="gene"), columns=barcodes)
    clanc_codes = pd.Series(dict(ordered), name="code").reindex(gene_order)
    clanc_subtypes = pd.Series([sub[pid] for pid in order], index=barcodes, name="subtype")
    return clanc_values, clanc_codes, clanc_subtypes


def _simulate_gmt(rng: np.random.Generator, programs: dict[str, list[str]], genes: list[str]
                  ) -> tuple[dict[str, list[str]], dict[str, Any]]:
    sets: dict[str, list[str]] = {}
    truth: dict[str, Any] = {}
    for prog, members in programs.items():
        sets[prog] = rng.permutation(members).tolist()
        truth[prog] = {"program": prog, "n_program_genes": len(members)}
    for k in range(1, N_RANDOM_GMT_SETS + 1):
        size = int(rng.integers(20, 81))
        name = f"RANDOM_SET_{k}"
        sets[name] = rng.choice(genes, size=size, replace=False).tolist()
        truth[name] = {"program": None, "n_program_genes": 0}
    return sets, truth


def _simulate_table_sets(rng: np.random.Generator, programs: dict[str, list[str]], genes: list[str]
                         ) -> tuple[dict[str, list[str]], dict[str, Any]]:
    program_genes = {g for members in programs.values() for g in members}
    background = np.asarray([g for g in genes if g not in program_genes])
    sets: dict[str, list[str]] = {}
    truth: dict[str, Any] = {}
    for name, prog in TABLE_SETS:
        size = int(rng.integers(20, 51))
        if prog is not None and prog in programs:
            members = programs[prog]
            n_prog = min(len(members), max(1, int(round(rng.uniform(0.4, 0.6) * len(members)))), size)
            picked = rng.choice(members, size=n_prog, replace=False).tolist()
            filler = rng.choice(background, size=max(0, size - n_prog), replace=False).tolist()
            chosen = picked + filler
            sets[name] = [chosen[i] for i in rng.permutation(len(chosen))]
            truth[name] = {"program": prog, "n_program_genes": n_prog}
        else:
            sets[name] = rng.choice(background, size=size, replace=False).tolist()
            truth[name] = {"program": None, "n_program_genes": 0}
    return sets, truth
