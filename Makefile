# The user interface of the pipeline. On a fresh machine two commands do all set-up:
#   make report   regenerate chapter 6 (HTML in reports/)
#   make test     run the test suite
# Both create .venv with pinned packages from PyPI on first use (python3 >= 3.11 required).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help venv snapshot fetch build run report test clean clean-reports

help:
	@echo "make report    build processed data, run the case notebooks, render reports/index.html"
	@echo "make test      run the test suite"
	@echo "make fetch     download the configured CBS tables into data/raw (needs internet)"
	@echo "make snapshot  regenerate the bundled demo snapshot in data/raw (offline)"
	@echo "make clean     remove processed data and reports"

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

snapshot: $(STAMP)
	$(PY) -m pipeline demo-snapshot

fetch: $(STAMP)
	$(PY) -m pipeline fetch

build: $(STAMP)
	$(PY) -m pipeline build

run: $(STAMP)
	$(PY) -m pipeline run

report: $(STAMP)
	$(PY) -m pipeline all

test: $(STAMP)
	$(PY) -m pytest

clean-reports:
	rm -rf reports/*.html reports/cases reports/notebooks reports/style.css

clean: clean-reports
	rm -rf data/processed
