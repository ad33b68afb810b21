# Each target does its own set-up on a fresh machine: it creates .venv and
# installs the project with what it needs, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks example_project
	$(BIN)/ruff format --check src tests benchmarks example_project
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2 tests

demo: $(STAMP)
	cd example_project && ../$(BIN)/pytest --evalmix -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_gate.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
