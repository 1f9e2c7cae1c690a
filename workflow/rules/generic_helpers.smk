# Settings, input functions and final outputs of the generic-input stages (the simulator's plain
# tables, the held-out test cohort) used by ingest.smk, cohorts.smk, test_cohort.smk.
# Kept apart from the rules (snakemake --lint: no functions beside rules).

SIMULATED_PLAIN_OUTPUTS = {
    **({"targets": SIMULATED_INPUTS["targets"]} if SIM_PLAIN_TARGETS else {}),
    **({f"test_{kind}": path for kind, path in SIMULATED_TEST.items()} if SIM_TEST else {}),
}
# With a test cohort, its targets are encoded (and checked) by build_targets, before any model is fitted.
TEST_TARGET_OUTPUTS = (
    {"test_targets": f"{R}/cohorts/test_targets.parquet", "test_drops": f"{R}/cohorts/test_target_drops.tsv"}
    if TEST_COHORT
    else {}
)


def test_cohort_inputs(wildcards=None):
    """The held-out test cohort's ingested tables (second cohort) or its patient list (declared split)."""
    if not TEST_COHORT:
        return {}
    if test_input("patients") is not None:
        return {"test_patients": test_input("patients")}
    return {
        "test_expression": rules.ingest_test_expression.output.expression,
        "test_targets": rules.ingest_test_targets.output.targets,
    }


def test_expression_input(wildcards=None):
    if test_input("patients") is not None:  # declared split: the held-out patients of the training tables
        return rules.ingest_expression.output.expression
    return rules.ingest_test_expression.output.expression


def final_models(wildcards):
    """The selected final models of one target: the network and one refit per comparison model."""
    models = {"model_network": f"{R}/models/{wildcards.target}/final.pt"}
    for name in BASELINE_MODELS:
        models[f"model_{name}"] = f"{R}/models/{wildcards.target}/{name}/final.skops.zip"
    return models


def generic_outputs():
    out = []
    if TEST_COHORT:
        out.append(f"{R}/evaluation/test_scores.tsv")
    return out


STAGE_OUTPUTS.append(generic_outputs)
