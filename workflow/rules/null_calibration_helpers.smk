# Settings and `rule all` outputs of the null-label calibration (workflow/rules/null_calibration.smk).
# Kept apart from the rules (snakemake --lint: no functions beside rules).

NULL_PERMUTATIONS = EVALUATION["null_permutations"]


def null_outputs():
    """The calibration table and figure when evaluation.null_permutations > 0."""
    if not NULL_PERMUTATIONS:
        return []
    return [f"{R}/evaluation/null_calibration.tsv", f"{R}/figures/null_calibration.png"]


STAGE_OUTPUTS.append(null_outputs)
