"""config/paper.yaml (the study's cohort sizes and model search) with the SLURM profile plans the expected jobs,
each with its resources (a dry run: needs no SLURM)."""

from __future__ import annotations

import re
from collections import Counter

import yaml
from conftest import REPO, snakemake

PAPER = REPO / "config" / "paper.yaml"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
# Rules that train or run the target networks: they carry `gpu` (resources.gpu) for the cluster.
NETWORK_RULES = {"train_autoencoder", "evaluate_network_fold", "final_network", "gene_masking",
                 "single_gene_masking", "gene_saliency", "subtype_validation"}


def _planned_jobs(text: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, resources) of every job in a `snakemake --dry-run` listing."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", text)[1:]:
        rule = re.match(r"(?:local)?rule (\w+):", block).group(1)
        line = re.search(r"^\s+resources: (.*)$", block, re.M)
        res = dict(item.split("=", 1) for item in line.group(1).split(", ")) if line else {}
        jobs.append((rule, res))
    return jobs


def test_paper_config_has_the_study_sizes():
    cfg = yaml.safe_load(PAPER.read_text())
    assert (cfg["simulate"]["n_patients"], cfg["simulate"]["n_genes"], cfg["simulate"]["n_imaged"]) == (528, 12042, 191)
    grid = cfg["evaluation"]["network_grid"]
    assert grid["hidden"] == [[1000, 500, 250], [3000, 1500, 750], [4000, 2000, 1000]]
    assert grid["activation"] == ["tanh", "relu", "sigmoid"]
    assert cfg["cv"]["folds"] == 10 and cfg["evaluation"]["n_bootstrap"] == 100


def test_paper_config_dry_run_plans_every_job_with_resources(tmp_path):
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    res = snakemake("--workflow-profile", str(PROFILE), "--configfile", str(PAPER), "--dry-run", cwd=tmp_path,
                    timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    jobs = _planned_jobs(res.stdout + res.stderr)
    counts = Counter(rule for rule, _ in jobs)
    total = int(re.search(r"^total\s+(\d+)", res.stdout + res.stderr, re.M).group(1))
    assert len(jobs) == total
    # 7 targets (6 VASARI traits + subtype) x 10 outer folds; 5 comparison models; 3 encoder sizes x 3
    # activations = 9 autoencoders; 3 gene-set collections (programs, celltypes, Verhaak).
    assert counts["evaluate_network_fold"] == 70
    assert counts["evaluate_baseline_fold"] == 350
    assert counts["train_autoencoder"] == 9
    assert counts["final_network"] == 7 and counts["gene_saliency"] == 7
    assert counts["make_splits"] == 7
    assert counts["gene_masking"] == 21 and counts["saliency_enrichment"] == 21
    for rule, resources in jobs:
        if rule == "all":
            continue
        assert int(resources.get("mem_mb", 0)) > 0 and int(resources.get("runtime", 0)) > 0, (rule, resources)
        assert resources.get("slurm_partition") in ("cpu", "gpu"), (rule, resources)
        want = profile["set-resources"].get(rule, {})
        for key in ("mem_mb", "runtime", "slurm_partition"):
            if key in want:
                assert resources[key] == str(want[key]), (rule, key, resources)
        if rule in NETWORK_RULES:
            assert resources.get("gpu") == "0", (rule, resources)  # resources.gpu of config/paper.yaml
            assert resources["slurm_partition"] == "gpu", (rule, resources)
    assert NETWORK_RULES <= set(counts), NETWORK_RULES - set(counts)
    print(f"paper config: {total} jobs; " + ", ".join(f"{r} {n}" for r, n in sorted(counts.items())))
