"""The Snakemake report of the tiny run, and the paper figure set (snakemake paper_figures).

The report test fails when a figure under results/figures/ or results/paper/ is not in the report (or has
no caption): wrap every new figure output in ``report(path, caption=..., category=...)`` (docs/methods.md). Every
figure is drawn once, as PNG and SVG from the same call; the paper set lists the stages' figure files.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import TINY, snakemake

pytestmark = pytest.mark.workflow

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
TINY_CONFIG = yaml.safe_load(TINY.read_text())
PAPER_FIGURES = ["figures/performance", "figures/cv_scores", "paper/associations_traits", "paper/associations_clinical",
                 "figures/km_overview", "figures/survival/os_radiogenomic_km",
                 "figures/validation/subtype_masking", "figures/validation/coverage_curve"]  # tiny: subtype + Verhaak
PAPER_PER_COLLECTION = ["masking", "enrichment", "enriched_patients"]


def _script_json(page: str, var: str):
    """The JSON assigned to ``var`` in the report's ``<script id="{var}">`` block."""
    m = re.search(rf'<script id="{var}">\s*var {var} = (.*?);\s*</script>', page, flags=re.S)
    assert m, f"report has no `var {var} = ...` block"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def paper_run(tiny_run: Path) -> Path:
    """`snakemake paper_figures` on the tiny run's directory (a no-op when rule all already built them)."""
    res = snakemake("--directory", str(tiny_run.parent), "--configfile", str(TINY), "--cores", "2",
                    "paper_figures", timeout=900)
    assert res.returncode == 0, res.stderr[-6000:]
    return tiny_run


@pytest.fixture(scope="module")
def report_html(paper_run: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    res = snakemake("--directory", str(paper_run.parent), "--configfile", str(TINY), "--report", str(out),
                    timeout=900)
    assert res.returncode == 0, res.stderr[-6000:]
    assert out.is_file()
    return out


def test_paper_figures_exist_as_png_and_svg(paper_run: Path):
    paper = paper_run / "paper"
    collections = sorted(p.stem for p in (paper_run / "ingest" / "gene_sets").glob("*.gmt"))
    assert collections, "no ingested gene-set collection"
    stems = PAPER_FIGURES + [f"figures/{kind}_{c}" for kind in PAPER_PER_COLLECTION for c in collections]
    for stem in stems:
        png, svg = paper_run / f"{stem}.png", paper_run / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert png.stat().st_size > 5000, png
        text = svg.read_text()
        assert "<svg" in text[:3000] and "</svg>" in text[-200:], svg
    # one figure pipeline: every figure of every stage has its SVG twin, and no figure is drawn twice
    pngs = sorted((paper_run / "figures").rglob("*.png")) + sorted(paper.glob("*.png"))
    assert not [p for p in pngs if not p.with_suffix(".svg").is_file()]
    assert not {p.name for p in paper.glob("*.png")} & {p.name for p in (paper_run / "figures").rglob("*.png")}
    demo = pd.read_csv(paper / "demographics.tsv", sep="\t")
    n = demo[(demo["variable"] == "patients")].set_index("cohort")["count"]
    sim = TINY_CONFIG["simulate"]
    assert n["expression"] == sim["n_patients"]
    assert n["imaged"] == sim["n_imaged"] and n["autoencoder"] == sim["n_patients"] - sim["n_imaged"]
    for cohort, size in n.items():
        status = demo[(demo["cohort"] == cohort) & (demo["variable"] == "survival status")]
        assert status["count"].sum() == size, cohort  # every patient has a status
    assoc = pd.read_csv(paper / "associations_traits.tsv", sep="\t")
    traits = 7  # f5 f6 f7 f14 f9 f10 subtype
    assert len(assoc) == traits * (traits - 1) // 2
    tested = assoc["p"].notna()
    assert (assoc.loc[tested, "p_bonferroni"] >= assoc.loc[tested, "p"]).all()
    assert set(assoc.loc[assoc["variable_b"] == "subtype", "test"]) <= {"Fisher-Freeman-Halton (Monte Carlo)",
                                                                         "not tested"}
    assert "Patient characteristics" in (paper / "demographics.html").read_text()


def test_report_lists_every_figure_with_a_caption(paper_run: Path, report_html: Path):
    page = report_html.read_text()
    results = _script_json(page, "results")
    categories = _script_json(page, "categories")
    listed = {Path(k).as_posix() for k in results}
    figures = sorted(p.relative_to(paper_run.parent).as_posix()
                     for folder in ("figures", "paper") for p in (paper_run / folder).rglob("*.png"))
    assert len(figures) > 20
    missing = [f for f in figures if f not in listed]
    assert not missing, f"figures not in the report (wrap the rule output in report(..., caption=...)): {missing}"
    no_caption = [k for k, v in results.items() if len(re.sub("<[^>]+>", "", v["caption"]).strip()) < 40]
    assert not no_caption, f"report entries without a caption: {no_caption}"
    # captions are rendered with the run's config (Jinja): the tiny run's settings appear in them
    perf = results["results/figures/performance.png"]["caption"]
    # (the caption's wording of the resampling matches the code: within each outer fold, never pooled)
    assert f"{TINY_CONFIG['evaluation']['n_bootstrap']} bootstrap resamples drawn within each outer fold" in perf
    masking = next(v["caption"] for k, v in results.items() if k.startswith("results/figures/masking_"))
    assert f"{TINY_CONFIG['masking']['n_random']} random sets" in masking
    # grouped by stage; key tables and the versions page are in
    assert any(c.startswith("5 Paper figures") for c in categories)
    assert "results/report/software_versions.html" in listed
    assert "results/paper/demographics.html" in listed
    assert all(v["data_uri"].startswith("data:") for v in results.values())  # self-contained: embedded results
    versions = pd.read_csv(paper_run / "report" / "software_versions.tsv", sep="\t").set_index("software")
    assert versions.loc["snakemake", "version"] == "9.27.1"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/system-packages.sh installs it)")
def test_report_renders_in_headless_chromium(report_html: Path, tmp_path: Path):
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--virtual-time-budget=20000", "--window-size=1400,1000"]
    dom = subprocess.run(args + ["--dump-dom", report_html.as_uri()], capture_output=True, text=True, timeout=300)
    assert dom.returncode == 0, dom.stderr[-3000:]
    html = dom.stdout
    # React rendered the app: the categories (stages) and the workflow description are in the DOM
    assert "5 Paper figures" in html and "6 Software and configuration" in html
    assert "Radiogenomics: transcriptomic drivers of tumour imaging traits" in html
    assert 'id="app"' in html and len(re.findall(r"<button|<a ", html)) > 5
    shot = tmp_path / "report.png"
    res = subprocess.run(args + [f"--screenshot={shot}", report_html.as_uri()], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", res.stderr[-3000:]
    # open one paper figure in the report's own viewer (as a click on it does): image and caption render
    page = report_html.read_text()
    figure = "results/paper/associations_clinical.png"
    show = ("<script>setTimeout(() => { const p = '" + figure + "'; app.setView({navbarMode: 'resultinfo', "
            "resultPath: p, content: 'img', contentPath: results[p].data_uri}); }, 1000);</script>")
    opened = tmp_path / "report_figure.html"
    opened.write_text(page[: page.rfind("</body>")] + show + page[page.rfind("</body>"):])
    dom = subprocess.run(args + ["--dump-dom", opened.as_uri()], capture_output=True, text=True, timeout=300)
    assert dom.returncode == 0, dom.stderr[-3000:]
    app_div = dom.stdout[dom.stdout.find('<div id="app"'):]
    app_div = app_div[: app_div.find("<script")]
    assert figure in app_div
    assert "Associations between traits and clinical variables." in app_div  # its caption
    assert re.search(r'<img[^>]+src="data:image/png;[^"]*filename=associations_clinical\.png;base64,', app_div)
