"""Agreement with R's survival package: log-rank (``survdiff``), Cox with Efron ties (``coxph``) and stepwise AIC
(``step`` on a ``coxph`` fit, directions both / forward / backward).

The same data are written to a temporary CSV and fitted by ``Rscript`` in a
subprocess; the statistics must agree within 1e-5 relative. Tests that need
R skip with the reason when ``Rscript`` or the ``survival`` package is
missing (install: ``apt-get install -y r-base-core r-cran-survival``) or
when the real TCGA-GBM tables are absent. The hand-made tied dataset is also
checked against reference numbers produced once by R 4.2.2 / survival 3.5.3,
so it runs without R; so are the stepwise paths.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from radiogenomics import inputs, survival

REL = 1e-5

R_SCRIPT = textwrap.dedent("""
    suppressMessages(library(survival))
    args <- commandArgs(trailingOnly = TRUE)
    d <- read.csv(args[1], stringsAsFactors = FALSE)
    sd <- survdiff(Surv(time, event) ~ group, data = d)
    fit <- coxph(as.formula(paste("Surv(time, event) ~", args[2])), data = d, ties = "efron")
    s <- summary(fit)$coefficients
    out <- c(chisq = sd$chisq, df = length(sd$n) - 1, coef = s[1, "coef"], se = s[1, "se(coef)"],
             hr = s[1, "exp(coef)"], p = s[1, "Pr(>|z|)"], loglik_null = fit$loglik[1], loglik = fit$loglik[2])
    cat(paste(names(out), sprintf("%.17g", out), sep = "="), sep = "\\n")
""")

#: Hand-made cohort with ties among deaths, and deaths tied with censorings, across three groups.
TIED = pd.DataFrame({
    "time": [5, 5, 5, 8, 8, 10, 12, 12, 12, 15, 20, 20, 22, 25, 30, 30],
    "event": [1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1],
    "group": list("ABABBAABCCCABCAC"),
    "x": [1.2, 0.5, -0.3, 2.1, 0.0, 1.7, -1.1, 0.9, 0.4, -0.6, 1.3, 0.2, -0.8, 0.7, -1.5, 0.1],
}, index=pd.Index([f"P{i:02d}" for i in range(1, 17)], name="patient"))

#: R 4.2.2, survival 3.5.3: survdiff(Surv(time, event) ~ group) and coxph(Surv(time, event) ~ x, ties = "efron").
TIED_R = {"chisq": 5.16827740775959, "coef": 0.668771500857485, "se": 0.368862152966509, "hr": 1.95183801583697,
          "p": 0.0698216120343071, "loglik_null": -22.0795594421776, "loglik": -20.2375532185914}


@functools.lru_cache(maxsize=1)
def _r_problem() -> str | None:
    """Why R cannot be used here, or None when Rscript with the survival package is available."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (apt-get install -y r-base-core r-cran-survival)"
    try:
        check = 'quit(status = if (requireNamespace("survival", quietly = TRUE)) 0 else 3)'
        res = subprocess.run(["Rscript", "-e", check], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Rscript failed to run: {exc}"
    if res.returncode != 0:
        return ("the R package 'survival' is not installed (apt-get install -y r-cran-survival): "
                f"{res.stderr.strip()[:200]}")
    return None


@pytest.fixture
def r_available() -> None:
    problem = _r_problem()
    if problem:
        pytest.skip(problem)


def _run_r(data: pd.DataFrame, covariate: str, tmp_path) -> dict[str, float]:
    csv = tmp_path / "survival_data.csv"
    script = tmp_path / "fit.R"
    data.reset_index().to_csv(csv, index=False)
    script.write_text(R_SCRIPT)
    res = subprocess.run(["Rscript", str(script), str(csv), covariate], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"Rscript failed: {res.stderr}"
    out = {}
    for line in res.stdout.strip().splitlines():
        key, value = line.split("=", 1)
        out[key] = float(value)
    return out


def _python(data: pd.DataFrame, covariate: str) -> dict[str, float]:
    """The same statistics from radiogenomics.survival (coef and se recovered from the HR and its 95% CI)."""
    lr = survival.logrank(data[["time", "event"]], data["group"])
    cox = survival.cox_fit(data[["time", "event"]], data[[covariate]]).set_index("covariate").loc[covariate]
    z = norm.ppf(0.975)
    _, path = survival.stepwise_cox(data[["time", "event"]], data[[covariate]], data[[]])
    start = path.set_index("action").loc["start"]
    return {"chisq": lr["test_statistic"], "df": lr["df"], "coef": float(np.log(cox["hr"])),
            "se": float((np.log(cox["ci_high"]) - np.log(cox["ci_low"])) / (2 * z)), "hr": float(cox["hr"]),
            "p": float(cox["p"]), "loglik_null": survival.null_log_likelihood(data["time"], data["event"]),
            "loglik": float(start["loglik"])}


def _compare(py: dict[str, float], ref: dict[str, float]) -> float:
    worst = 0.0
    for key, expected in ref.items():
        if key not in py:
            continue
        rel = abs(py[key] - expected) / abs(expected)
        worst = max(worst, rel)
        assert py[key] == pytest.approx(expected, rel=REL), f"{key}: python {py[key]!r} vs R {expected!r}"
    return worst


def test_tied_dataset_matches_stored_r_reference():
    worst = _compare(_python(TIED, "x"), TIED_R)
    assert worst < REL


def test_tied_dataset_matches_r_live(r_available, tmp_path):
    ref = _run_r(TIED, "x", tmp_path)
    assert ref["df"] == 2
    _compare(_python(TIED, "x"), ref)
    # the stored reference is still what R gives
    for key, value in TIED_R.items():
        assert ref[key] == pytest.approx(value, rel=1e-9)


def _real_joined(real_data_dir) -> pd.DataFrame:
    clinical = inputs.read_clinical_biotab(real_data_dir / "nationwidechildrens.org_clinical_patient_gbm.txt")
    subtypes = inputs.read_clanc(real_data_dir / "TCGA_unified_CORE_ClaNC840.txt").subtypes
    endpoint, _ = survival.overall_survival(clinical)
    # joined by patient ID (shuffled first: the row order of either table must not matter)
    rng = np.random.default_rng(7)
    joined = survival.join_groups(endpoint.iloc[rng.permutation(len(endpoint))],
                                  subtypes.iloc[rng.permutation(len(subtypes))])
    return joined[["time", "event", "age", "group"]].dropna()


@pytest.mark.realdata
def test_real_subtype_logrank_and_age_cox_match_r(real_data_dir, r_available, tmp_path):
    data = _real_joined(real_data_dir)
    assert 150 <= len(data) <= 173 and data["group"].nunique() == 4
    ref = _run_r(data, "age", tmp_path)
    py = _python(data, "age")
    assert ref["df"] == py["df"] == 3
    worst = _compare(py, ref)
    print(f"real data (n = {len(data)}): max relative difference to R {worst:.2e}; R {ref}")
    assert worst < REL


# --------------------------------------------------------------------------- stepwise AIC: R's step()

STEP_SCRIPT = textwrap.dedent("""
    suppressMessages(library(survival))
    args <- commandArgs(trailingOnly = TRUE)
    d <- read.csv(args[1], stringsAsFactors = FALSE)
    d$g <- factor(d$g, levels = c("a", "b", "c"))
    lower <- ~ age
    upper <- ~ age + z + x1 + x2 + g + noise
    for (direction in c("both", "forward", "backward")) {
      start <- if (direction == "backward") coxph(Surv(time, event) ~ age + z + x1 + x2 + g + noise, data = d)
               else coxph(Surv(time, event) ~ age, data = d)
      fit <- step(start, scope = list(lower = lower, upper = upper), direction = direction, trace = 0)
      a <- fit$anova
      cat(paste(direction, trimws(as.character(a$Step)), sprintf("%.17g", a$AIC), sep = "|"), sep = "\\n")
    }
""")

#: R 4.2.2, survival 3.5.3: step(coxph(...), scope = list(lower = ~ age, upper = ~ age + z + x1 + x2 + g + noise))
#: on :func:`_step_data`: the steps ("" = the start model) and the AIC after each.
STEP_R = {
    "both": [("", 710.9279208755288), ("+ z", 667.95322243148189), ("+ g", 665.61616487296305),
             ("+ x1", 664.38392142093574), ("+ x2", 661.96906324329109), ("- g", 660.43546251755095),
             ("- z", 658.4939662349741)],
    "forward": [("", 710.9279208755288), ("+ z", 667.95322243148189), ("+ g", 665.61616487296305),
                ("+ x1", 664.38392142093574), ("+ x2", 661.96906324329109)],
    "backward": [("", 663.62092523810054), ("- noise", 661.96906324329109), ("- g", 660.43546251755095),
                 ("- z", 658.4939662349741)],
}


def _step_data() -> pd.DataFrame:
    """A cohort where 'both' differs from 'forward': z ~ x1 + x2 enters first and leaves once x1 and x2 are in;
    g (3 levels, two coefficients) enters and leaves as one term; six tied times."""
    rng = np.random.default_rng(9)
    n = 120
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    z = x1 + x2 + rng.normal(scale=0.5, size=n)
    g = rng.choice(["a", "b", "c"], n)
    age = rng.normal(60, 10, n)
    t = rng.exponential(1 / (0.01 * np.exp(0.7 * x1 + 0.7 * x2 + 0.02 * (age - 60) + 0.3 * (g == "c"))))
    c = rng.uniform(10, 300, n)
    return pd.DataFrame({"time": np.round(np.minimum(t, c), 1) + 0.1, "event": (t <= c).astype(int), "age": age,
                         "z": z, "x1": x1, "x2": x2, "g": g, "noise": rng.normal(size=n)},
                        index=pd.Index([f"P{i:03d}" for i in range(n)], name="patient"))


def _python_steps(data: pd.DataFrame, direction: str) -> list[tuple[str, float]]:
    """radiogenomics' stepwise path in R's notation: ("", start AIC), ("+ term", AIC after), ("- term", ...)."""
    candidates = data[["z", "x1", "x2", "g", "noise"]].copy()
    candidates["g"] = pd.Categorical(candidates["g"], categories=["a", "b", "c"])
    # shuffled rows: joined by patient ID
    shuffled = candidates.iloc[np.random.default_rng(1).permutation(len(candidates))]
    final, path = survival.stepwise_cox(data[["time", "event"]], data[["age"]], shuffled, direction=direction)
    steps = [("", float(path.loc[path["action"] == "start", "aic_after"].iloc[0]))]
    moves = path.loc[path["action"].isin(["add", "remove"])]
    steps += [(("+ " if a == "add" else "- ") + t, float(aic)) for a, t, aic in
              zip(moves["action"], moves["term"], moves["aic_after"])]
    assert path["action"].iloc[-1] == "stop"
    return steps


def _compare_steps(py: list[tuple[str, float]], ref: list[tuple[str, float]]) -> float:
    assert [s for s, _ in py] == [s for s, _ in ref]
    worst = max(abs(a - b) / abs(b) for (_, a), (_, b) in zip(py, ref))
    assert worst < REL, worst
    return worst


@pytest.mark.parametrize("direction", ["both", "forward", "backward"])
def test_stepwise_matches_stored_r_step_reference(direction):
    _compare_steps(_python_steps(_step_data(), direction), STEP_R[direction])


def test_stepwise_matches_r_step_live(r_available, tmp_path):
    data = _step_data()
    csv, script = tmp_path / "step_data.csv", tmp_path / "step.R"
    data.reset_index().to_csv(csv, index=False)
    script.write_text(STEP_SCRIPT)
    res = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"Rscript failed: {res.stderr}"
    live: dict[str, list[tuple[str, float]]] = {}
    for line in res.stdout.strip().splitlines():
        direction, step, aic = line.split("|")
        live.setdefault(direction, []).append((step, float(aic)))
    assert set(live) == {"both", "forward", "backward"}
    for direction, ref in live.items():
        worst = _compare_steps(_python_steps(data, direction), ref)
        print(f"stepwise {direction}: same steps as R's step(); max relative AIC difference {worst:.1e}")
        # the stored reference is still what R gives
        assert [s for s, _ in ref] == [s for s, _ in STEP_R[direction]]
        np.testing.assert_allclose([a for _, a in ref], [a for _, a in STEP_R[direction]], rtol=1e-9)
