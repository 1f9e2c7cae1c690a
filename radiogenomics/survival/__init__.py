"""Survival: endpoints, Kaplan–Meier, log-rank and Cox fits, radiogenomic traits and stepwise selection.

Endpoints are built from a TCGA clinical table indexed by patient (as
returned by ``inputs.read_clinical_biotab``: string values, bracketed
missing values already NaN), optionally completed by the other Biotab tables
(follow-ups, drugs, radiation, new tumour events; see
:func:`read_biotab_records`). Every patient that cannot be given an endpoint
is listed in a problems table with the reason; nothing is dropped silently.
Groups (imaging traits, subtypes, radiogenomic traits) are always joined to
the endpoint by patient ID, never by position, so row order never changes a
result.

Fits use lifelines: ``KaplanMeierFitter``, ``multivariate_logrank_test`` and
``CoxPHFitter`` (Efron ties, lifelines' only method and R's ``coxph``
default). ``tests/unit/test_survival_r.py`` checks the log-rank statistic and the
Cox fit against R's ``survival`` package, and the stepwise AIC paths
(forward, backward, both) against R's ``step``.

Modules: ``endpoints`` (overall and progression-free survival from clinical tables), ``km_cox``
(Kaplan–Meier, log-rank, Cox and their tables), ``traits`` (radiogenomic traits and their tests),
``stepwise`` (stepwise Cox by AIC) and ``tables`` (the workflow's covariate, adjusted-Cox and
predicted-trait tables). Their public functions are re-exported here:
``from radiogenomics import survival; survival.km_fit(endpoint, groups)``.
"""

from radiogenomics.survival.endpoints import (
    AGE_COLUMNS,
    BRACKETED_RE,
    COVARIATE_COLUMNS,
    ENDPOINT_COLUMNS,
    GENDER_COLUMNS,
    KARNOFSKY_COLUMNS,
    PROBLEM_COLUMNS,
    RACE_COLUMNS,
    clean_text,
    find_column,
    overall_survival,
    progression_free_survival,
    race_group,
    read_biotab_records,
)
from radiogenomics.survival.km_cox import (
    COX_COLUMNS,
    COX_FIT_OPTIONS,
    KM_LOGRANK_COLUMNS,
    KM_SUMMARY_COLUMNS,
    LOGRANK_KEYS,
    LOGRANK_TABLE_COLUMNS,
    check_endpoint,
    check_unique,
    cox_fit,
    cox_joined,
    group_levels,
    join_covariates,
    join_groups,
    km_fit,
    km_logrank_table,
    km_summary,
    logrank,
    logrank_joined,
    logrank_table,
    predicted_trait_survival,
)
from radiogenomics.survival.stepwise import (
    AIC_TOLERANCE,
    POST_SELECTION_NOTE,
    STEPWISE_DIRECTIONS,
    STEPWISE_FINAL_COLUMNS,
    STEPWISE_PATH_COLUMNS,
    null_log_likelihood,
    stepwise_cox,
)
from radiogenomics.survival.tables import (
    ADJUSTED_COX_COLUMNS,
    COVARIATE_DECISION_COLUMNS,
    PREDICTED_COLUMNS,
    PREDICTED_TABLE_COLUMNS,
    adjusted_cox_table,
    cox_covariates,
    encoder_patients,
    predict_trait_classes,
    predicted_provenance,
    read_endpoint,
    transferred_encoder,
)
from radiogenomics.survival.traits import (
    RADIOGENOMIC_SEPARATOR,
    RADIOGENOMIC_SKIPPED_COLUMNS,
    RADIOGENOMIC_TEST_COLUMNS,
    level_without_events,
    radiogenomic_tests,
    radiogenomic_traits,
    radiogenomic_traits_with_skipped,
)

__all__ = [
    "ENDPOINT_COLUMNS",
    "COVARIATE_COLUMNS",
    "PROBLEM_COLUMNS",
    "AGE_COLUMNS",
    "GENDER_COLUMNS",
    "RACE_COLUMNS",
    "KARNOFSKY_COLUMNS",
    "BRACKETED_RE",
    "find_column",
    "clean_text",
    "race_group",
    "read_biotab_records",
    "overall_survival",
    "progression_free_survival",
    "KM_SUMMARY_COLUMNS",
    "LOGRANK_KEYS",
    "LOGRANK_TABLE_COLUMNS",
    "COX_COLUMNS",
    "KM_LOGRANK_COLUMNS",
    "COX_FIT_OPTIONS",
    "check_unique",
    "check_endpoint",
    "join_groups",
    "group_levels",
    "km_fit",
    "km_summary",
    "logrank_joined",
    "logrank",
    "logrank_table",
    "join_covariates",
    "cox_joined",
    "cox_fit",
    "km_logrank_table",
    "predicted_trait_survival",
    "RADIOGENOMIC_TEST_COLUMNS",
    "RADIOGENOMIC_SKIPPED_COLUMNS",
    "RADIOGENOMIC_SEPARATOR",
    "radiogenomic_traits",
    "radiogenomic_traits_with_skipped",
    "level_without_events",
    "radiogenomic_tests",
    "STEPWISE_PATH_COLUMNS",
    "STEPWISE_DIRECTIONS",
    "POST_SELECTION_NOTE",
    "STEPWISE_FINAL_COLUMNS",
    "AIC_TOLERANCE",
    "null_log_likelihood",
    "stepwise_cox",
    "COVARIATE_DECISION_COLUMNS",
    "ADJUSTED_COX_COLUMNS",
    "PREDICTED_COLUMNS",
    "PREDICTED_TABLE_COLUMNS",
    "cox_covariates",
    "adjusted_cox_table",
    "predict_trait_classes",
    "transferred_encoder",
    "encoder_patients",
    "predicted_provenance",
    "read_endpoint",
]
