"""Public-data downloads: the downloader against a loopback HTTP server, the config plan, the download rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import closed_port, leftovers, serve, sha256
from conftest import REPO

from radiogenomics.inputs import download
from radiogenomics.inputs.download import DownloadError

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
TCGA_CONFIG = REPO / "config" / "tcga_gbm.yaml"


# --------------------------------------------------------------------------- the downloader


def test_fetch_streams_verifies_and_renames(served, tmp_path):
    base, name, data = served
    dest = tmp_path / "resources" / name
    result = download.fetch(f"{base}/{name}", dest, sha256(data), chunk_size=64)
    assert dest.read_bytes() == data
    assert (result.n_bytes, result.sha256, result.verified) == (len(data), sha256(data), True)
    assert leftovers(dest.parent) == [name]  # no temporary file left beside it
    assert oct(dest.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_fetch_without_pinned_checksum_keeps_file_and_reports_observed(served, tmp_path):
    base, name, data = served
    result = download.fetch(f"{base}/{name}", tmp_path / name, None)
    assert (result.sha256, result.verified) == (sha256(data), False)
    assert (tmp_path / name).read_bytes() == data


def test_fetch_wrong_checksum_leaves_no_file(served, tmp_path):
    base, name, data = served
    url, dest = f"{base}/{name}", tmp_path / "resources" / name
    wrong = "0" * 64
    with pytest.raises(DownloadError) as err:
        download.fetch(url, dest, wrong)
    message = str(err.value)
    assert url in message and str(dest) in message
    assert "sha256 mismatch" in message and wrong in message and sha256(data) in message
    assert leftovers(dest.parent) == []  # neither the file nor its temporary file


def test_failed_fetch_keeps_an_existing_file_untouched(served, tmp_path):
    base, name, _ = served
    dest = tmp_path / name
    dest.write_text("previous verified copy")
    with pytest.raises(DownloadError):
        download.fetch(f"{base}/{name}", dest, "f" * 64)
    assert dest.read_text() == "previous verified copy"
    assert leftovers(tmp_path) == sorted([name, "served"])


def test_fetch_unreachable_server(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/HT_HG-U133A.gz"
    dest = tmp_path / "resources" / "HT_HG-U133A.gz"
    with pytest.raises(DownloadError) as err:
        download.fetch(url, dest, None, timeout=5)
    message = str(err.value)
    assert url in message and str(dest) in message and "cannot reach the server" in message
    assert leftovers(dest.parent) == []


def test_fetch_http_404(served, tmp_path):
    base, _, _ = served
    url, dest = f"{base}/missing.gmt", tmp_path / "missing.gmt"
    with pytest.raises(DownloadError) as err:
        download.fetch(url, dest, None)
    message = str(err.value)
    assert "HTTP error 404" in message and url in message and str(dest) in message
    assert not dest.exists() and leftovers(tmp_path) == ["served"]


def test_fetch_truncated_transfer_leaves_no_file(served, tmp_path):
    base, _, _ = served
    url, dest = f"{base}/truncated/table.tsv", tmp_path / "out" / "table.tsv"
    with pytest.raises(DownloadError) as err:
        download.fetch(url, dest, None, timeout=5)
    message = str(err.value)
    assert url in message and ("truncated transfer" in message or "connection broken" in message)
    assert leftovers(dest.parent) == []


def test_fetch_rejects_malformed_checksum(tmp_path):
    with pytest.raises(ValueError, match="not 64 hexadecimal digits"):
        download.fetch("http://127.0.0.1:1/x", tmp_path / "x", "abc")
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- the config plan

KINDS = download.input_kinds(SCHEMA)


def test_input_kinds_are_the_path_keys_of_inputs():
    assert {"expression", "vasari", "clinical", "clanc"} <= KINDS
    assert "expression_format" not in KINDS and "gene_sets" not in KINDS


def test_file_name_from_url():
    assert download.file_name(
        "https://tcga-xena-hub.s3.us-east-1.amazonaws.com/download/TCGA.GBM.sampleMap%2FHT_HG-U133A.gz"
    ) == "HT_HG-U133A.gz"
    assert download.file_name("https://example.org/a/h.all.v6.2.symbols.gmt?x=1") == "h.all.v6.2.symbols.gmt"
    assert download.file_name("https://example.org/") == ""


def test_plan_resolves_downloads_and_local_override(tmp_path):
    local = tmp_path / "my_hallmark.gmt"
    local.write_text("HALLMARK_X\tna\tEGFR\n")
    plan = download.plan({
        "enabled": True, "dir": "resources/",
        "sources": {
            "clanc": {"url": "https://example.org/d/TCGA_unified_CORE_ClaNC840.txt", "sha256": "A" * 64,
                      "input": ["expression", "clanc"]},
            "hallmark": {"url": "https://example.org/h.all.v6.2.symbols.gmt", "sha256": None,
                         "path": str(local), "input": "gene_sets.hallmark"},
            "xena": {"url": "https://example.org/download/TCGA.GBM.sampleMap%2FGBM_clinicalMatrix",
                     "sha256": None, "file": "xena_clinical.tsv"},
        },
    }, kinds=KINDS)
    assert plan.sources["clanc"].sha256 == "a" * 64  # normalised to lower case
    assert plan.input_path("expression") == plan.input_path("clanc") == "resources/TCGA_unified_CORE_ClaNC840.txt"
    assert plan.input_path("vasari") is None
    # the local copy is read as is and never fetched
    assert plan.gene_set_paths() == {"hallmark": str(local)}
    assert set(plan.fetched()) == {"TCGA_unified_CORE_ClaNC840.txt", "xena_clinical.tsv"}
    assert plan.targets() == ["resources/TCGA_unified_CORE_ClaNC840.txt", "resources/xena_clinical.tsv"]


def test_disabled_plan_provides_nothing():
    plan = download.plan({"enabled": False, "sources": {
        "clanc": {"url": "https://example.org/c.txt", "sha256": None, "input": "clanc",
                  "path": "does/not/exist.txt"}}}, kinds=KINDS)
    assert plan.fetched() == {} and plan.input_path("clanc") is None and plan.gene_set_paths() == {}


@pytest.mark.parametrize("source, message", [
    ({"url": "https://example.org/a.txt", "sha256": "xyz"}, r"downloads\.sources\.s\.sha256: 'xyz' is not a sha256"),
    ({"url": "ssh://example.org/a.txt", "sha256": None}, r"downloads\.sources\.s\.url: .*scheme 'ssh'"),
    ({"url": "https://example.org/", "sha256": None}, r"downloads\.sources\.s\.file: no file name"),
    ({"url": "https://example.org/a.txt", "sha256": None, "input": "imaging"},
     r"downloads\.sources\.s\.input: unknown workflow input 'imaging'"),
    ({"url": "https://example.org/a.txt", "sha256": None, "path": "nowhere/a.txt"},
     r"downloads\.sources\.s\.path: local file 'nowhere/a.txt' not found"),
    ({"url": "https://example.org/a.txt", "sha256": None, "md5": "x"},
     r"downloads\.sources\.s: unknown keys \['md5'\]"),
])
def test_plan_rejects_bad_sources(source, message):
    with pytest.raises(ValueError, match=message):
        download.plan({"enabled": True, "sources": {"s": source}}, kinds=KINDS)


def test_plan_rejects_shared_file_names_and_twice_provided_inputs():
    two = {"a": {"url": "https://example.org/x/t.txt", "sha256": None},
           "b": {"url": "https://example.org/y/t.txt", "sha256": None}}
    with pytest.raises(ValueError, match=r"downloads\.sources\.b\.file: 't.txt' is also the file of source 'a'"):
        download.plan({"sources": two}, kinds=KINDS)
    both = {"a": {"url": "https://example.org/a.txt", "sha256": None, "input": "clinical"},
            "b": {"url": "https://example.org/b.txt", "sha256": None, "input": "clinical"}}
    with pytest.raises(ValueError, match=r"downloads\.sources\.b\.input: 'clinical' is already provided by source 'a'"):
        download.plan({"sources": both}, kinds=KINDS)


def test_input_report_names_sources_and_skipped_stages():
    plan = download.plan({"enabled": True, "sources": {
        "clanc": {"url": "https://example.org/c.txt", "sha256": None, "input": ["expression", "clanc"]}}},
        kinds=KINDS)
    lines = download.input_report(
        {"expression": "resources/c.txt", "vasari": None, "clinical": "data/clin.txt", "clanc": "resources/c.txt"},
        {"hallmark": "data/h.gmt"}, plan, expression_format="clanc")
    assert lines[0].startswith("input expression: resources/c.txt (downloaded from https://example.org/c.txt)")
    assert "classifier genes only" in lines[0]
    assert lines[1] == ("input vasari: absent -> skipped: imaging-trait targets (the `vasari` preset), "
                        "their networks, masking, saliency and GSEA")
    assert lines[2] == "input clinical: data/clin.txt (file)"
    assert lines[4] == "input gene_sets.hallmark: data/h.gmt (file)"


def test_schema_defaults_and_explicit_checksums():
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    cfg = {"seed": 1}
    validate(cfg, str(SCHEMA))
    assert cfg["downloads"] == {"enabled": False, "dir": "resources", "timeout": 60, "retries": 2, "sources": {}}
    validate(yaml.safe_load(TCGA_CONFIG.read_text()), str(SCHEMA))
    # sha256 must be written out: a pinned checksum, or an explicit null (observed checksum logged, warning)
    missing = {"downloads": {"sources": {"s": {"url": "https://example.org/a.txt"}}}}
    with pytest.raises(WorkflowError, match="sha256"):
        validate(missing, str(SCHEMA))


# --------------------------------------------------------------------------- the real-data sources


def _tcga_sources() -> dict:
    return yaml.safe_load(TCGA_CONFIG.read_text())["downloads"]["sources"]


def test_tcga_gbm_config_pins_every_available_table(real_data_dir, tmp_path):
    """Each pinned checksum of config/tcga_gbm.yaml matches the public table, fetched over loopback."""
    plan = download.plan({"enabled": True, "sources": _tcga_sources()}, kinds=KINDS)
    available = {p.name for p in real_data_dir.iterdir()}
    pinned = {s.file: s for s in plan.sources.values() if s.sha256 is not None}
    assert set(pinned) <= available  # every pinned source is one of the public tables
    assert {"TCGA_unified_CORE_ClaNC840.txt", "nationwidechildrens.org_clinical_patient_gbm.txt",
            "h.all.v6.2.symbols.gmt", "aaf2666_Table-S15.csv"} <= set(pinned)
    with serve(real_data_dir) as base:
        for name, source in pinned.items():
            result = download.fetch(f"{base}/{name}", tmp_path / name, source.sha256)
            assert result.verified and result.n_bytes == (real_data_dir / name).stat().st_size
    # the unpinned sources are the UCSC Xena hub tables (regenerated by the hub; observed checksum logged)
    assert {s.name for s in plan.sources.values() if s.sha256 is None} == {
        "xena_expression", "xena_clinical", "xena_survival"}


# --------------------------------------------------------------------------- the download rules


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- files already in place


def _pinned_plan(tmp_path: Path, data: bytes, **source) -> download.Plan:
    spec = {"url": "https://example.org/d/table.tsv", "sha256": sha256(data), "input": "clanc", **source}
    return download.plan({"enabled": True, "dir": str(tmp_path / "resources"), "sources": {"tab": spec}}, kinds=KINDS)


@pytest.mark.parametrize("damage", ["truncated", "changed"])
def test_a_corrupted_download_in_place_is_removed_reported_and_never_parsed(tmp_path, damage):
    data = b"sample\tTCGA-02-0003-01A\nEGFR\t1.5\n" * 20
    plan = _pinned_plan(tmp_path, data)
    path = Path(plan.location("tab"))
    path.parent.mkdir()
    path.write_bytes(data)
    assert download.check_inputs([str(path)], plan) == [
        f"{path}: sha256 {sha256(data)} verified (downloads.sources.tab)"]
    bad = data[: len(data) // 2] if damage == "truncated" else data.replace(b"1.5", b"9.5")
    path.write_bytes(bad)
    assert download.check_inputs([str(tmp_path / "other.tsv")], plan) == []  # not an input of this job: not read
    with pytest.raises(download.ChecksumError) as err:
        download.check_inputs([str(tmp_path / "x.tsv"), str(path)], plan)
    message = str(err.value)
    assert f"file {path}: sha256 {sha256(bad)} ({len(bad)} bytes) does not match the pinned sha256 {sha256(data)}" \
        in message
    assert "downloads.sources.tab (https://example.org/d/table.tsv)" in message
    assert "was not parsed" in message and "removed: run snakemake again to download it anew" in message
    assert not path.exists() and leftovers(path.parent) == []


def test_a_local_copy_that_does_not_match_is_reported_and_kept(tmp_path):
    data = b"HALLMARK_X\tna\tEGFR\tPDGFRA\n"
    local = tmp_path / "my_copy.gmt"
    local.write_bytes(data[:-5])
    plan = _pinned_plan(tmp_path, data, path=str(local))
    with pytest.raises(download.ChecksumError, match=r"my_copy\.gmt: sha256 .* does not match .* your local copy "
                                                     r"\(downloads\.sources\.tab\.path\), left in place"):
        download.check_inputs([str(local)], plan)
    assert local.read_bytes() == data[:-5]
    # unpinned sources (sha256: null) and disabled downloads are not checked
    assert download.check_inputs([str(local)], _pinned_plan(tmp_path, data, path=str(local), sha256=None)) == []
    disabled = download.plan({"enabled": False, "sources": {"tab": {"url": "https://example.org/t.gmt",
                                                                    "sha256": sha256(data), "path": str(local)}}},
                             kinds=KINDS)
    assert download.check_inputs([str(local)], disabled) == []


