# Two commands: `make run` (default workflow on the simulated cohort) and `make test` (full test suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= $(shell nproc)
CONFIG ?= config/config.yaml
STAMP  := $(VENV)/.installed

.PHONY: run test lint dry-run clean venv

venv: $(STAMP)

# torch is installed first, pinned, so pip takes the CPU build and never the multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG)

dry-run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --dry-run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakemake --lint

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf results .snakemake
