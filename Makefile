# maops: `make` lists the targets. Every target creates the virtualenv first if it is missing.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MONTH ?=
DATA ?=
PARAMS ?=
# The bundled sample company's workspace: its targets, labels and yen are for data/sample only
SAMPLE_PARAMS := workspaces/sample/params

# Three installs, each a superset of the one before: what a report needs (runtime), what
# JupyterLab adds (lab), what the tests and engine: spark add (dev). uv installs in parallel
# when it is on the PATH; pip otherwise.
RUNTIME := $(VENV)/.installed-runtime
LAB := $(VENV)/.installed-lab
DEV := $(VENV)/.installed-dev
UV := $(shell command -v uv 2>/dev/null)
PIP := $(if $(UV),$(UV) pip install --quiet --python $(PY),$(PY) -m pip install --quiet)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(if $(UV),,$(PY) -m pip install --quiet --upgrade pip)

$(RUNTIME): pyproject.toml constraints.txt | $(PY)
	$(PIP) -c constraints.txt -e .
	@touch $@

$(LAB): $(RUNTIME)
	$(PIP) -c constraints.txt -e ".[lab]"
	@touch $@

$(DEV): $(RUNTIME)
	$(PIP) -c constraints.txt -e ".[lab,dev,spark]"
	@touch $@

.PHONY: help install dev report test test-fast lint sample golden notebook lab bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'
	@echo "  variables: MONTH=YYYY-MM, DATA=DIR, PARAMS=WORKSPACE/params (for make report); TEST_JOBS=N (make test, default 2)"

install: $(RUNTIME) ## create .venv and install what the monthly batch needs
dev: $(DEV) ## install the tests' and lint's tools, JupyterLab and pyspark (engine: spark) too

report: $(RUNTIME) ## run the monthly batch (the sample unless DATA=... or PARAMS=...) and print the path of index.html
	$(PY) -m maops_utils run --jobs 2 $(if $(MONTH),--month $(MONTH)) $(if $(DATA),--data $(DATA)) \
		$(if $(PARAMS),--params $(PARAMS),$(if $(DATA),,--params $(SAMPLE_PARAMS)))

TEST_JOBS ?= 2
test: $(DEV) ## run the whole test suite (unit, notebooks, end-to-end, conformance, browser, Spark)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile

test-fast: $(DEV) ## the fast tier: no kernel, browser or Spark; for every change
	$(PY) -m pytest -n $(TEST_JOBS) -m "not slow and not browser and not spark"

lint: $(DEV) ## ruff on code and notebooks; notebooks must be committed without outputs
	$(VENV)/bin/ruff check maops_utils tests notebooks
	$(VENV)/bin/nbstripout --keep-id --verify notebooks/*.ipynb notebooks/templates/*.ipynb

sample: $(RUNTIME) ## regenerate data/sample with the default seed
	$(PY) -m maops_utils sample --out data/sample --end-month 2026-10

golden: $(DEV) ## refresh the golden executed notebook in tests/golden/ after changing a notebook
	cp notebooks/01_kpi_evaluation.ipynb tests/golden/01_kpi_evaluation.ipynb
	-$(PY) -m pytest tests/test_notebooks.py -k golden_regression --nb-force-regen -q
	$(PY) -m pytest tests/test_notebooks.py -k golden -q

notebook: ## start a report of your own from the template: make notebook NAME=10_my_report
	@test -n "$(NAME)" || { echo "give a name: make notebook NAME=10_my_report"; exit 2; }
	@test ! -e notebooks/$(NAME).ipynb || { echo "notebooks/$(NAME).ipynb exists already"; exit 2; }
	cp notebooks/templates/starter.ipynb notebooks/$(NAME).ipynb
	@echo "created notebooks/$(NAME).ipynb; add '$(NAME)' to notebooks in params/run.yaml"

lab: $(LAB) ## install JupyterLab if missing and open it on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

bench: $(DEV) ## run the benchmarks under benchmarks/ (options: BENCH_ARGS="--leads 100000")
	@if ls benchmarks/bench_*.py >/dev/null 2>&1; then for b in benchmarks/bench_*.py; do $(PY) $$b $(BENCH_ARGS) || exit $$?; done; \
	else echo "no benchmarks yet"; fi

clean: ## remove generated reports and caches (keeps .venv)
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
