# The user interface of the pipeline. On a fresh machine two commands do all set-up:
#   make report   regenerate chapter 6 (HTML in reports/)
#   make test     run the test suite
# Both create .venv with pinned packages from PyPI on first use (python3 >= 3.11 required).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help venv snapshot fetch build run report pdf test test-fast chromium bench clean clean-reports

help:
	@echo "make report    build processed data, run the case notebooks, render reports/index.html"
	@echo "make test      run the test suite"
	@echo "make test-fast the quick tier for the edit loop (no builds, notebooks or browser; ~20 s)"
	@echo "make pdf       print the reports to reports/pdf/ (headless Chromium; runs make report first if needed)"
	@echo "make fetch     download the configured CBS tables into data/raw (needs internet)"
	@echo "make snapshot  regenerate the bundled demo snapshot in data/raw (offline)"
	@echo "make clean     remove processed data and reports (and their cache records)"

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

snapshot: $(STAMP)
	$(PY) -m tools.demo_snapshot

fetch: $(STAMP)
	$(PY) -m pipeline fetch

build: $(STAMP)
	$(PY) -m pipeline build

run: $(STAMP)
	$(PY) -m pipeline run

report: $(STAMP)
	$(PY) -m pipeline all

pdf: $(STAMP)
	test -f reports/index.html || $(PY) -m pipeline all
	$(PY) -m pipeline pdf

# The browser and PDF tests need Debian's chromium; install it when we can (root with apt-get),
# otherwise those tests are skipped with the reason. Never fails the target.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (apt-get) for the browser tests"; \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1)) || \
		echo "could not install chromium: browser tests will be skipped"; \
	fi

test: $(STAMP) chromium
	$(PY) -m pytest

# the quick tier: every test that does not build the snapshot, run notebooks or open a browser
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" -q

clean-reports:
	rm -rf reports/*.html reports/cases reports/notebooks reports/style.css reports/pdf reports/screenshots reports/*.xlsx \
		reports/overzicht reports/.cache reports/.run.lock

clean: clean-reports
	rm -rf data/processed

# this pipeline vs papermill/nbconvert CLI loops and ploomber-engine (5, 40, 355 municipalities, 3 interleaved rounds) and the floor; tmp dirs only
bench: $(STAMP)
	$(PY) benchmarks/bench.py
