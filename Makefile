# The Physics of Learning — two commands do everything on a fresh machine:
#   make book   set up .venv from requirements.lock and build the HTML book into _build/html
#   make test   set up .venv and run every test (package, exercises, grader, notebooks, book)
# and two more drive a real browser and measure speed (CI runs all four):
#   make e2e    every page of the built book in Chromium, and an exercise in JupyterLab
#   make bench  the benchmark suite: bench/results.json and bench/results.md
# Only Python >= 3.11 needs to be present.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# One BLAS thread per process: on 2 cores, threaded BLAS in small dense solves is slower.
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup book test e2e bench lab lint format lock clean

help:
	@echo "make book   build the HTML book into _build/html (warnings are errors)"
	@echo "make test   run every test: unit, property, exercises, grader, nbval, book build"
	@echo "make e2e    browser tests: every book page in Chromium, an exercise in JupyterLab"
	@echo "make bench  benchmarks into bench/results.json and bench/results.md (no pass/fail)"
	@echo "make lab    open the chapters and exercises in JupyterLab"
	@echo "make lint   ruff check and format check (notebooks included)"
	@echo "make lock   re-resolve requirements.in into requirements.lock and environment.yml"
	@echo "make clean  remove build outputs and caches (keeps .venv)"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (physml)" > /dev/null
	@touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

test: $(STAMP)
	$(BIN)/python -m pytest

# Needs Debian's chromium (apt-get install chromium) or PHYSML_CHROMIUM; builds the book first.
e2e: book
	$(BIN)/python -m pytest e2e

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile --python-version 3.11 --no-header --annotation-style line requirements.in -o requirements.lock
	$(BIN)/python tools/sync_environment.py

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis src/*.egg-info
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
