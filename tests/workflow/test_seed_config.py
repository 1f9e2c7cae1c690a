"""config/seed.yaml (the published code's training semantics at the study's scale) validates, expands to the
published search and, with the SLURM profile, plans the expected jobs (a dry run: needs no SLURM)."""

from __future__ import annotations

import re
from collections import Counter

import yaml
from conftest import REPO, snakemake
from snakemake.utils import validate
from test_paper_config import NETWORK_RULES, PROFILE, _planned_jobs

from radiogenomics.models import selection

SEED = REPO / "config" / "seed.yaml"
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def test_seed_config_validates_and_expands_to_the_published_search():
    cfg = yaml.safe_load(SEED.read_text())
    validate(cfg, SCHEMA)
    assert (cfg["simulate"]["n_patients"], cfg["simulate"]["n_genes"], cfg["simulate"]["n_imaged"]) == (528, 12042, 191)
    assert cfg["autoencoder"]["optimizer"] == "adadelta" and cfg["autoencoder"]["optimizer_settings"] == "keras"
    assert cfg["autoencoder"]["batch_size"] == 50 and cfg["autoencoder"]["max_epochs"] == 500
    configs = selection.check_settings({"network": cfg["evaluation"]["network_grid"]})["network_configs"]
    assert len(configs) == 75  # 5 dropout rates x 5 optimisers x (trainable, 1 or 2 layers frozen)
    assert {c["optimizer"] for c in configs} == {"adam", "sgd", "nadam", "adagrad", "adadelta"}
    assert {c["freeze_layers"] for c in configs} == {0, 1, 2}
    for c in configs:
        assert (c["batch_size"], c["max_epochs"], c["patience"]) == (10, 500, 200)
        assert c["dropout_placement"] == "every_layer" and c["optimizer_settings"] == "keras"
        assert c["hidden"] == [4000, 2000, 1000] and c["activation"] == "tanh" and c["transfer"]
        arch, train = selection.architecture(c), selection.training_config(c)
        assert arch["transfer_batch_norm"] is False and arch["weight_init"] == "glorot_uniform"
        assert (arch["batch_norm_momentum"], arch["batch_norm_eps"]) == (0.01, 0.001)
        assert train.lr == selection.KERAS_LEARNING_RATES[c["optimizer"]]
    assert selection.required_encoders(configs) == {"4000-2000-1000_tanh_bn": {
        "hidden": [4000, 2000, 1000], "activation": "tanh", "batch_norm": True}}


def test_seed_config_dry_run_plans_every_job_with_resources(tmp_path):
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    res = snakemake("--workflow-profile", str(PROFILE), "--configfile", str(SEED), "--dry-run", cwd=tmp_path,
                    timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    jobs = _planned_jobs(res.stdout + res.stderr)
    counts = Counter(rule for rule, _ in jobs)
    total = int(re.search(r"^total\s+(\d+)", res.stdout + res.stderr, re.M).group(1))
    # 585: the 594 of before the one-figure-pipeline change less its 9 paper_* jobs that redrew figures the
    # figure rules already draw (paper_enrichment 3, paper_masking 3, paper_performance, paper_survival,
    # paper_subtype_validation)
    assert len(jobs) == total == 585
    # 7 targets x 10 outer folds; 5 comparison models; one shared autoencoder (4000-2000-1000 tanh) and the
    # subtype network's 10 outer-fold autoencoders; 3 gene-set collections.
    assert counts["evaluate_network_fold"] == 70
    assert counts["evaluate_baseline_fold"] == 350
    assert counts["train_autoencoder"] == 1 and counts["train_fold_autoencoder"] == 10
    assert counts["final_network"] == 7 and counts["gene_saliency"] == 7
    assert counts["gene_masking"] == 21 and counts["saliency_enrichment"] == 21
    for rule, resources in jobs:
        if rule == "all":
            continue
        want = profile["set-resources"].get(rule, {})
        for key in ("mem_mb", "runtime", "slurm_partition"):
            if key in want:
                assert resources[key] == str(want[key]), (rule, key, resources)
        if rule in NETWORK_RULES:
            assert resources["slurm_partition"] == "gpu", (rule, resources)
    assert NETWORK_RULES <= set(counts), NETWORK_RULES - set(counts)
