# Each target does its own set-up on a fresh machine: it creates .venv and
# installs the project with what it needs, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Wheels of the project and everything it needs, so that the pre-commit hook test installs the
# hook offline (pip --no-index) like a user's pre-commit would, without touching the network.
WHEELHOUSE := $(VENV)/wheelhouse
WHEELS := $(WHEELHOUSE)/.built

.PHONY: test demo lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(WHEELS): pyproject.toml $(STAMP)
	rm -rf $(WHEELHOUSE)
	$(BIN)/python -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) . 'setuptools>=77' wheel
	touch $(WHEELS)

lint: $(STAMP)
	$(BIN)/ruff check pytest_evalmix tests benchmarks example_project
	$(BIN)/ruff format --check pytest_evalmix tests benchmarks example_project
	$(BIN)/mypy
	$(BIN)/python tests/structure.py

test: lint $(WHEELS)
	$(BIN)/pytest -n 2 tests

demo: $(STAMP)
	cd example_project && ../$(BIN)/pytest --evalmix -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_gate.py
	$(BIN)/python benchmarks/bench_base.py
	$(BIN)/python benchmarks/bench_grid.py --n 200000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
