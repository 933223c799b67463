# Two entry points matter: `make demo` and `make test` (README). Both work on a fresh machine
# with only Python: they create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit hostile bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check auditor tests scripts fixtures bench
	$(BIN)/ruff format --check auditor tests scripts fixtures bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

# The benchmark against img2dataset (bench/README.md): images/s, per-stage cost, peak memory,
# correctness against the generated ground truth. Needs nginx (installed on Debian as root).
bench: $(STAMP)
	$(BIN)/python bench/run.py

# The hostile-input suite alone, with its summary table (cases, survived, data lost).
hostile: $(STAMP)
	$(BIN)/python scripts/hostile.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache audit.db audit.db-wal audit.db-shm report.md
