# Stage 11: survival. Endpoints (overall survival; progression-free survival when a new-tumour-event
# table is given) from the clinical Biotab tables, with a per-patient problems table; Kaplan-Meier and
# log-rank per imaging trait and subtype; Cox fits adjusted for the clinical covariates; radiogenomic
# traits (trait network x gene set enriched in the patient's saliency; too few carriers or non-carriers:
# listed as skipped, not tested) with BH across the tested ones; stepwise AIC Cox (forward, backward or
# both, as R's step; post-selection p-values are flagged); survival by network-predicted imaging traits
# in the patients without imaging (with which model saw each patient).
# Everything runs only with a clinical table or a plain survival table (S.has_survival in common.smk).


rule survival_endpoint:
    input:
        unpack(survival_endpoint_input),
        follow_up=S.survival_follow_up,
    output:
        endpoint=f"{R}/survival/endpoint.tsv",
        problems=f"{R}/survival/endpoint_problems.tsv",
    log:
        f"{R}/logs/survival_endpoint.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        id_rule=S.id_rule,
        columns=config["inputs"]["survival_columns"],
    script:
        "../scripts/survival_endpoint.py"


rule survival_pfs_endpoint:
    input:
        clinical=rules.ingest_clinical.output.clinical,
        new_tumor_event=S.survival_extra_inputs["new_tumor_event"],
        follow_up=S.survival_follow_up,
    output:
        endpoint=f"{R}/survival/pfs_endpoint.tsv",
        problems=f"{R}/survival/pfs_endpoint_problems.tsv",
    log:
        f"{R}/logs/survival_pfs_endpoint.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/survival_pfs_endpoint.py"


rule survival_by_trait:
    input:
        endpoint=rules.survival_endpoint.output.endpoint,
        targets=rules.build_targets.output.trait_values,
        meta=rules.build_targets.output.meta,
    output:
        logrank=report(
            f"{R}/survival/logrank.tsv",
            caption="../report/logrank.rst",
            category="4 Survival",
            subcategory="Kaplan-Meier by trait",
        ),
        km=f"{R}/survival/km_summary.tsv",
        overview=report(
            f"{R}/figures/km_overview.png",
            caption="../report/km_overview.rst",
            category="4 Survival",
            subcategory="Kaplan-Meier by trait",
        ),
        overview_svg=f"{R}/figures/km_overview.svg",
    log:
        f"{R}/logs/survival_by_trait.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        groupings=survival_groupings(),
    script:
        "../scripts/survival_by_trait.py"


rule km_figure:
    input:
        endpoint=rules.survival_endpoint.output.endpoint,
        targets=rules.build_targets.output.trait_values,
        meta=rules.build_targets.output.meta,
    output:
        figure=report(
            f"{R}/figures/km/{{target}}.png",
            caption="../report/km_target.rst",
            category="4 Survival",
            subcategory="Kaplan-Meier by trait",
        ),
        figure_svg=f"{R}/figures/km/{{target}}.svg",
    log:
        f"{R}/logs/km_figure/{{target}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/km_figure.py"


rule survival_cox:
    input:
        endpoint=survival_endpoint_file,
        targets=rules.build_targets.output.trait_values,
        meta=rules.build_targets.output.meta,
    output:
        km=f"{R}/survival/{{endpoint}}/km_logrank.tsv",
        cox=report(
            f"{R}/survival/{{endpoint}}/cox.tsv",
            caption="../report/survival_cox.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
        covariates=f"{R}/survival/{{endpoint}}/covariates.tsv",
    log:
        f"{R}/logs/survival_cox/{{endpoint}}.log",
    wildcard_constraints:
        endpoint="os|pfs",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        groupings=survival_groupings(),
        survival=S.survival_params,
    script:
        "../scripts/survival_cox.py"


rule radiogenomic_traits:
    input:
        unpack(radiogenomic_enrichment_tables),
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        traits=f"{R}/survival/radiogenomic_traits.tsv",
        skipped=f"{R}/survival/radiogenomic_skipped.tsv",
    log:
        f"{R}/logs/radiogenomic_traits.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        networks=S.radiogenomic_networks,
        collections=S.collections,
        fdr=config["survival"]["radiogenomic_fdr"],
        min_carriers=config["survival"]["radiogenomic_min_carriers"],
        min_non_carriers=config["survival"]["radiogenomic_min_non_carriers"],
    script:
        "../scripts/survival_radiogenomic_traits.py"


rule survival_radiogenomic:
    input:
        endpoint=survival_endpoint_file,
        traits=rules.radiogenomic_traits.output.traits,
    output:
        tests=report(
            f"{R}/survival/{{endpoint}}/radiogenomic_tests.tsv",
            caption="../report/radiogenomic_tests.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
    log:
        f"{R}/logs/survival_radiogenomic/{{endpoint}}.log",
    benchmark:
        f"{R}/benchmarks/survival_radiogenomic/{{endpoint}}.tsv"
    wildcard_constraints:
        endpoint="os|pfs",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        survival=S.survival_params,
        min_carriers=config["survival"]["radiogenomic_min_carriers"],
        min_non_carriers=config["survival"]["radiogenomic_min_non_carriers"],
    script:
        "../scripts/survival_radiogenomic.py"


rule survival_stepwise:
    input:
        endpoint=survival_endpoint_file,
        targets=rules.build_targets.output.trait_values,
        meta=rules.build_targets.output.meta,
        traits=rules.radiogenomic_traits.output.traits,
        tests=rules.survival_radiogenomic.output.tests,
    output:
        path=report(
            f"{R}/survival/{{endpoint}}/stepwise_path.tsv",
            caption="../report/stepwise_path.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
        final=report(
            f"{R}/survival/{{endpoint}}/stepwise_final.tsv",
            caption="../report/stepwise_final.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
    log:
        f"{R}/logs/survival_stepwise/{{endpoint}}.log",
    benchmark:
        f"{R}/benchmarks/survival_stepwise/{{endpoint}}.tsv"
    wildcard_constraints:
        endpoint="os|pfs",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        survival=S.survival_params,
        traits=S.survival_stepwise_traits,
        direction=config["survival"]["stepwise_direction"],
        candidate_fdr=config["survival"]["stepwise_candidate_fdr"],
    script:
        "../scripts/survival_stepwise.py"


rule predict_traits:
    input:
        unpack(predicted_trait_models),
        expression=rules.ingest_expression.output.expression,
        cohorts=rules.build_targets.output.cohorts,
    output:
        predicted=f"{R}/survival/predicted_traits.tsv",
    log:
        f"{R}/logs/predict_traits.log",
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(),
    params:
        traits=S.survival_imaging_categorical,
        autoencoder=config["autoencoder"]["enabled"],
    script:
        "../scripts/survival_predict_traits.py"


rule survival_predicted:
    input:
        endpoint=survival_endpoint_file,
        predicted=rules.predict_traits.output.predicted,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        table=f"{R}/survival/{{endpoint}}/predicted_trait_survival.tsv",
        cox=f"{R}/survival/{{endpoint}}/predicted_trait_cox.tsv",
        figure=report(
            f"{R}/figures/survival/{{endpoint}}_predicted_km.png",
            caption="../report/survival_predicted_km.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
        figure_svg=f"{R}/figures/survival/{{endpoint}}_predicted_km.svg",
    log:
        f"{R}/logs/survival_predicted/{{endpoint}}.log",
    wildcard_constraints:
        endpoint="os|pfs",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        traits=S.survival_imaging_categorical,
        survival=S.survival_params,
        label=lambda wildcards: SURVIVAL_ENDPOINT_LABELS[wildcards.endpoint],
    script:
        "../scripts/survival_predicted.py"


rule survival_figures:
    input:
        endpoint=survival_endpoint_file,
        cox=rules.survival_cox.output.cox,
        final=rules.survival_stepwise.output.final,
        traits=rules.radiogenomic_traits.output.traits,
        tests=rules.survival_radiogenomic.output.tests,
    output:
        forest_traits=report(
            f"{R}/figures/survival/{{endpoint}}_forest_traits.png",
            caption="../report/survival_forest_traits.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
        forest_traits_svg=f"{R}/figures/survival/{{endpoint}}_forest_traits.svg",
        forest_stepwise=report(
            f"{R}/figures/survival/{{endpoint}}_forest_stepwise.png",
            caption="../report/survival_forest_stepwise.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
        forest_stepwise_svg=f"{R}/figures/survival/{{endpoint}}_forest_stepwise.svg",
        radiogenomic_km=report(
            f"{R}/figures/survival/{{endpoint}}_radiogenomic_km.png",
            caption="../report/survival_radiogenomic_km.rst",
            category="4 Survival",
            subcategory="Endpoint {endpoint}",
        ),
        radiogenomic_km_svg=f"{R}/figures/survival/{{endpoint}}_radiogenomic_km.svg",
    log:
        f"{R}/logs/survival_figures/{{endpoint}}.log",
    wildcard_constraints:
        endpoint="os|pfs",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        label=lambda wildcards: SURVIVAL_ENDPOINT_LABELS[wildcards.endpoint],
        max_panels=config["survival"]["max_panels"],
        min_carriers=config["survival"]["radiogenomic_min_carriers"],
        min_non_carriers=config["survival"]["radiogenomic_min_non_carriers"],
        fdr=config["survival"]["radiogenomic_fdr"],
        direction=config["survival"]["stepwise_direction"],
    script:
        "../scripts/survival_figures.py"
