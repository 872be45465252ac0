# The two commands a newcomer runs: `make demo` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PY_SOURCES := tooling tests bench

export PABX_STATE_DIR ?= $(CURDIR)/state

.PHONY: demo test lint typecheck unit venv clean bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@PABX_SECRET_KEY=$${PABX_SECRET_KEY:-demo-throwaway-key-not-for-production} \
		$(BIN)/pabx demo

lint: $(STAMP)
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest exits 5 when it collected no test: that is a failure here, like any non-zero code.
unit: $(STAMP)
	$(BIN)/pabx schema --check
	$(BIN)/pabx validate
	$(BIN)/pabx codeowners --check
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build state .pytest_cache .mypy_cache .ruff_cache
