# maops: `make` lists the targets. Every target creates the virtualenv first if it is missing.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MONTH ?=
DATA ?=

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	@touch $(STAMP)

.PHONY: help install report test lint sample golden notebook lab bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  variables: MONTH=YYYY-MM, DATA=DIR (for make report)"

install: $(STAMP) ## create .venv and install maops with its dev tools and pyspark (engine: spark)

report: $(STAMP) ## run the monthly batch (sample data unless DATA=...) and print the path of index.html
	$(PY) -m maops_utils run --jobs 2 $(if $(MONTH),--month $(MONTH)) $(if $(DATA),--data $(DATA))

test: $(STAMP) ## run the whole test suite (unit, notebooks, end-to-end, conformance)
	$(PY) -m pytest

lint: $(STAMP) ## ruff on code and notebooks; notebooks must be committed without outputs
	$(VENV)/bin/ruff check maops_utils tests notebooks
	$(VENV)/bin/nbstripout --keep-id --verify notebooks/*.ipynb notebooks/templates/*.ipynb

sample: $(STAMP) ## regenerate data/sample with the default seed
	$(PY) -m maops_utils sample --out data/sample --end-month 2026-10

golden: $(STAMP) ## refresh the golden executed notebook in tests/golden/ after changing a notebook
	cp notebooks/01_kpi_evaluation.ipynb tests/golden/01_kpi_evaluation.ipynb
	-$(PY) -m pytest tests/test_notebooks.py -k golden_regression --nb-force-regen -q
	$(PY) -m pytest tests/test_notebooks.py -k golden -q

notebook: ## start a report of your own from the template: make notebook NAME=10_my_report
	@test -n "$(NAME)" || { echo "give a name: make notebook NAME=10_my_report"; exit 2; }
	@test ! -e notebooks/$(NAME).ipynb || { echo "notebooks/$(NAME).ipynb exists already"; exit 2; }
	cp notebooks/templates/starter.ipynb notebooks/$(NAME).ipynb
	@echo "created notebooks/$(NAME).ipynb; add '$(NAME)' to notebooks in params/run.yaml"

lab: $(STAMP) ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP) ## run the benchmarks under benchmarks/ (options: BENCH_ARGS="--leads 100000")
	@if ls benchmarks/bench_*.py >/dev/null 2>&1; then for b in benchmarks/bench_*.py; do $(PY) $$b $(BENCH_ARGS) || exit $$?; done; \
	else echo "no benchmarks yet"; fi

clean: ## remove generated reports and caches (keeps .venv)
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
