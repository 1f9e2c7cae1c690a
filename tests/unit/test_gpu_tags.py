"""GPU resource tags: the network rules carry `gpu` from config resources.gpu, the scripts pick CUDA only when the
job has a GPU and torch sees one, and masking/saliency accept a device without changing numbers (CPU here; no
test needs a GPU)."""

from __future__ import annotations

import importlib
import logging
import re
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO

from radiogenomics.interpret import masking, saliency
from radiogenomics.models.nets import FittedModel, Scaler, TargetNet

sys.path.insert(0, str(REPO / "workflow" / "scripts"))
_common = importlib.import_module("_common")  # the scripts' shared start-up, importable once its folder is on the path

# evaluate_network_fold(s): the per-fold and the batched rule (evaluation.split_folds), both defined in models.smk
GPU_RULES = {"train_autoencoder", "evaluate_network_fold", "evaluate_network_folds", "final_network", "gene_masking",
             "single_gene_masking", "gene_saliency", "subtype_validation"}


def _rules() -> dict[str, str]:
    text = "\n".join(p.read_text() for p in sorted((REPO / "workflow" / "rules").glob("*.smk")))
    blocks = re.split(r"\n(?=[ \t]*rule \w+:)", text)[1:]  # rules inside `if` blocks are indented
    return {re.match(r"\s*rule (\w+):", b).group(1): b for b in blocks}


def test_network_rules_request_the_configured_gpu():
    rules = _rules()
    for name in GPU_RULES:
        assert name in rules, f"rule {name} not found"
        assert "job_resources(gpu=True)" in rules[name], f"rule {name} does not request resources.gpu"
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert 'res["gpu"] = config["resources"]["gpu"]' in common


# imports that bring torch into a workflow script (directly or through the package's torch modules)
TORCH_IMPORT = re.compile(r"import torch|radiogenomics\.nets|radiogenomics import .*\b(training|masking|saliency)\b"
                          r"|FittedModel|load_networks")


def test_rules_given_torch_threads_set_torch_threads_in_their_script():
    """A rule with ``threads: torch_threads()`` whose script runs torch must pass those threads to torch
    (``_common.start``: the script's name in TORCH_SCRIPTS, or ``uses_torch=``); otherwise torch would
    use every core of the node while the scheduler counted ``threads``."""
    checked = []
    for name, block in _rules().items():
        script = re.search(r'script:\s*\n\s*"\.\./scripts/(\w+\.py)"', block)
        if "threads: torch_threads()" not in block or not script:
            continue
        text = (REPO / "workflow" / "scripts" / script.group(1)).read_text()
        start = re.search(r'_common\.start\(snakemake, "(\w+)"(.*)\)', text)
        assert start, f"{script.group(1)} does not call _common.start"
        if not TORCH_IMPORT.search(text):
            continue
        checked.append(name)
        assert start.group(1) in _common.TORCH_SCRIPTS or "uses_torch=" in start.group(2), (name, script.group(1))
    assert {"gene_masking", "single_gene_masking", "subtype_validation", "heldout_predictions"} <= set(checked)


def _job(gpu):
    return SimpleNamespace(resources=SimpleNamespace(gpu=gpu) if gpu is not None else SimpleNamespace())


def test_device_is_cpu_without_a_gpu_request(monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a visible GPU is not used by gpu=0 jobs
    log = logging.getLogger("test_device")
    with caplog.at_level(logging.INFO):
        assert _common.device(_job(0), log) == "cpu"
        assert _common.device(_job(None), log) == "cpu"
    assert "gpu=0" in caplog.text


def test_device_is_cuda_only_when_requested_and_available(monkeypatch, caplog):
    log = logging.getLogger("test_device")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level(logging.INFO):
        assert _common.device(_job(1), log) == "cpu"
    assert "sees no CUDA device" in caplog.text
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Fake GPU")
    assert _common.device(_job(2), log) == "cuda"


def _model(target_type: str, seed: int = 3):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    genes = [f"G{i}" for i in range(30)]
    raw = rng.normal(2.0, 1.0, size=(24, len(genes)))
    classes = ["a", "b", "c"] if target_type == "multiclass" else []
    net = TargetNet(len(genes), [8, 4], 3 if classes else 1, activation="tanh", dropout=0.0, batch_norm=True)
    net.eval()
    model = FittedModel(network=net, genes=genes, scaler=Scaler.fit(raw), target="t", target_type=target_type,
                        classes=classes, arch={"hidden": [8, 4]})
    ids = [f"P{i}" for i in range(len(raw))]
    y = pd.Series(rng.integers(0, len(classes) or 2, len(raw)), index=ids)
    return model, pd.DataFrame(raw, index=ids, columns=genes), y


@pytest.mark.parametrize("target_type", ["binary", "multiclass"])
def test_masking_and_saliency_on_an_explicit_cpu_device_equal_the_default(target_type, caplog):
    model, expression, y = _model(target_type)
    sets = {"s1": ["G1", "G2", "G3"], "s2": ["G4", "G5", "G6", "G7"], "s3": ["G10"]}
    with caplog.at_level(logging.INFO, logger="radiogenomics.interpret.masking"):
        ref = masking.gene_masking(model, expression, y, sets, n_random=10, seed=1)
        got = masking.gene_masking(model, expression, y, sets, n_random=10, seed=1, device="cpu")
    pd.testing.assert_frame_equal(ref, got, check_exact=True)
    assert re.search(r"model 1/1 on cpu, \d+/\d+ masked sets done", caplog.text)  # progress in the rule log
    pd.testing.assert_frame_equal(masking.single_gene_masking(model, expression, y),
                                  masking.single_gene_masking(model, expression, y, device="cpu"), check_exact=True)
    pd.testing.assert_frame_equal(saliency.saliency_table(model, expression),
                                  saliency.saliency_table(model, expression, device="cpu"), check_exact=True)
    assert next(model.network.parameters()).device.type == "cpu"


def test_engine_network_copies_to_another_device_and_leaves_the_model():
    net = TargetNet(5, [3], 1, activation="tanh", dropout=0.0, batch_norm=False)
    assert masking._engine_network(net, None) is net
    assert masking._engine_network(net, "cpu") is net
    moved = masking._engine_network(net, "meta")  # a device other than the parameters' (no GPU needed)
    assert moved is not net and next(moved.parameters()).device.type == "meta"
    assert next(net.parameters()).device.type == "cpu"
