"""The download rules through Snakemake: every public source fetched from a loopback server, local
overrides, and a corrupted download removed before parsing and fetched again."""

from __future__ import annotations

import gzip
from pathlib import Path

import yaml

from conftest import REPO, closed_port, leftovers, serve, sha256, snakemake

from radiogenomics.inputs import download

TCGA_CONFIG = REPO / "config" / "tcga_gbm.yaml"


def _xena_tables(folder: Path) -> None:
    """Small stand-ins in the UCSC Xena layouts for the hub tables absent from ../shared."""
    matrix = "sample\tTCGA-02-0003-01\tTCGA-02-0010-01\nEGFR\t7.1\t8.4\nPDGFRA\t5.0\t6.2\n"
    (folder / "HT_HG-U133A.gz").write_bytes(gzip.compress(matrix.encode(), mtime=0))
    (folder / "GBM_clinicalMatrix").write_text("sampleID\tgender\nTCGA-02-0003-01\tMALE\n")
    (folder / "GBM_survival.txt").write_text("sample\t_PATIENT\tOS\tOS.time\nTCGA-02-0003-01\tTCGA-02-0003\t1\t144\n")


def _loopback_config(work: Path, base: str, real_data_dir: Path, **changes) -> Path:
    cfg = yaml.safe_load(TCGA_CONFIG.read_text())
    cfg["results"] = "results"
    for key, value in cfg["inputs"].items():  # the local route, replaced below by the downloads
        if isinstance(value, str) and not key.endswith("_format"):
            cfg["inputs"][key] = str(real_data_dir / Path(value).name)
    cfg["inputs"]["gene_sets"] = {k: str(real_data_dir / Path(v).name) for k, v in cfg["inputs"]["gene_sets"].items()}
    cfg["downloads"]["enabled"] = True
    cfg["downloads"]["retries"] = 0
    for source in cfg["downloads"]["sources"].values():
        source["url"] = f"{base}/{source.get('file') or download.file_name(source['url'])}"
    for name, spec in changes.items():
        cfg["downloads"]["sources"][name].update(spec)
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_download_rules_fetch_every_source_through_snakemake(real_data_dir, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    for table in real_data_dir.iterdir():
        (served / table.name).symlink_to(table)
    _xena_tables(served)
    work = tmp_path / "work"
    work.mkdir()
    with serve(served) as base:
        config = _loopback_config(work, base, real_data_dir)
        res = snakemake("download_all", "--directory", str(work), "--configfile", str(config), "--cores", "2",
                        timeout=300)
        assert res.returncode == 0, res.stderr[-4000:]
    sources = yaml.safe_load(config.read_text())["downloads"]["sources"]
    files = {s.get("file") or download.file_name(s["url"]): s for s in sources.values()}
    assert leftovers(work / "resources") == sorted(files)
    for name, spec in files.items():
        data = (work / "resources" / name).read_bytes()
        assert data == (served / name).read_bytes()
        log = (work / "results" / "logs" / "download" / f"{name}.log").read_text()
        if spec["sha256"] is None:  # unpinned: kept, observed checksum logged with a warning
            assert "WARNING" in log and f"observed sha256 {sha256(data)}" in log
        else:
            assert spec["sha256"] == sha256(data) and f"sha256 {spec['sha256']} verified" in log
    # where each input comes from, and what is skipped without imaging (logged when the DAG is built)
    assert "input clanc: resources/TCGA_unified_CORE_ClaNC840.txt (downloaded from http://127.0.0.1:" in res.stderr
    assert "input vasari: absent -> skipped: imaging-trait targets" in res.stderr

    # the analysis reads the downloaded files: nothing left to fetch, the ingest rules take resources/
    dry = snakemake("--dry-run", "--directory", str(work), "--configfile", str(config), "--cores", "2", timeout=300)
    assert dry.returncode == 0, dry.stderr[-4000:]
    plan = dry.stdout + dry.stderr
    assert "rule download:" not in plan
    assert "input: resources/TCGA_unified_CORE_ClaNC840.txt" in plan
    assert "input: resources/nationwidechildrens.org_clinical_patient_gbm.txt" in plan


def test_download_rule_local_override_and_failures(real_data_dir, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    for table in real_data_dir.iterdir():
        (served / table.name).symlink_to(table)
    work = tmp_path / "work"
    work.mkdir()
    local = str(real_data_dir / "h.all.v6.2.symbols.gmt")
    with serve(served) as base:
        # a local path replaces the download of that source: no job fetches it, the ingest rule reads it
        config = _loopback_config(work, base, real_data_dir, msigdb_hallmark={"path": local})
        dry = snakemake("--dry-run", "--directory", str(work), "--configfile", str(config), "--cores", "1",
                        timeout=300)
        assert dry.returncode == 0, dry.stderr[-4000:]
        plan = dry.stdout + dry.stderr
        assert "resources/h.all.v6.2.symbols.gmt" not in plan
        assert f"input: {local}" in plan
        assert "output: resources/TCGA_unified_CORE_ClaNC840.txt" in plan

        # a wrong checksum fails the job, names URL and file, and leaves nothing in resources/
        config = _loopback_config(work, base, real_data_dir, puchalski_s15={"sha256": "0" * 64})
        res = snakemake("resources/aaf2666_Table-S15.csv", "--directory", str(work), "--configfile", str(config),
                        "--cores", "1", timeout=300)
        assert res.returncode != 0
        log = (work / "results" / "logs" / "download" / "aaf2666_Table-S15.csv.log").read_text()
        assert f"download of {base}/aaf2666_Table-S15.csv into resources/aaf2666_Table-S15.csv failed" in log
        assert "sha256 mismatch" in log
        assert leftovers(work / "resources") == []

        # an unreachable server: the same, with the reason
        config = _loopback_config(work, base, real_data_dir,
                                  puchalski_s15={"url": f"http://127.0.0.1:{closed_port()}/aaf2666_Table-S15.csv"})
        res = snakemake("resources/aaf2666_Table-S15.csv", "--directory", str(work), "--configfile", str(config),
                        "--cores", "1", timeout=300)
        assert res.returncode != 0
        log = (work / "results" / "logs" / "download" / "aaf2666_Table-S15.csv.log").read_text()
        assert "cannot reach the server" in log
        assert leftovers(work / "resources") == []


def test_workflow_removes_a_corrupted_download_before_parsing_and_fetches_it_again(real_data_dir, tmp_path):
    """A downloaded table truncated after its download: the job that reads it fails before parsing, names the file
    and both checksums, and removes it; the next run downloads it again and parses the verified file."""
    served = tmp_path / "served"
    served.mkdir()
    for table in real_data_dir.iterdir():
        (served / table.name).symlink_to(table)
    work = tmp_path / "work"
    work.mkdir()
    name = "aaf2666_Table-S15.csv"
    target = "results/ingest/gene_sets/puchalski.gmt"
    with serve(served) as base:
        config = _loopback_config(work, base, real_data_dir)
        res = snakemake(f"resources/{name}", "--directory", str(work), "--configfile", str(config), "--cores", "1",
                        timeout=300)
        assert res.returncode == 0, res.stderr[-4000:]
        good = (work / "resources" / name).read_bytes()
        (work / "resources" / name).write_bytes(good[: len(good) // 3])  # an interrupted copy, say
        res = snakemake(target, "--directory", str(work), "--configfile", str(config), "--cores", "1", timeout=300)
        assert res.returncode != 0
        log = (work / "results" / "logs" / "ingest_gene_sets" / "puchalski.log").read_text()
        assert f"file resources/{name}: sha256 {sha256(good[: len(good) // 3])}" in log
        assert "does not match the pinned sha256" in log and "removed: run snakemake again" in log
        assert "downloads.sources.puchalski_s15" in log
        assert not (work / "resources" / name).exists() and not (work / target).exists()
        assert leftovers(work / "results" / "ingest" / "gene_sets") == []  # nothing parsed, nothing written
        res = snakemake(target, "--directory", str(work), "--configfile", str(config), "--cores", "1", timeout=300)
        assert res.returncode == 0, res.stderr[-4000:]
    assert (work / "resources" / name).read_bytes() == good
    log = (work / "results" / "logs" / "ingest_gene_sets" / "puchalski.log").read_text()
    assert f"resources/{name}: sha256 {sha256(good)} verified (downloads.sources.puchalski_s15)" in log
    assert (work / target).stat().st_size > 0
