# The README's two commands: `make demo` and `make test`. Each bootstraps .venv on its own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install when the project's metadata changes.
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest migrate bench bench-quick clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "gatewaydb needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[embedded,test,bench,cli]'
	@touch $@

demo: $(STAMP)
	$(BIN)/gatewaydb demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check gatewaydb tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy --strict gatewaydb examples

pytest: $(STAMP)
	$(BIN)/pytest

# Applies pending migrations to DATABASE_URL (or the embedded server when it is unset).
migrate: $(STAMP)
	$(BIN)/gatewaydb migrate

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.breakdown
	$(BIN)/python -m bench.scaleout
	$(BIN)/python -m bench.tracing

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick
	$(BIN)/python -m bench.scaleout --quick
	$(BIN)/python -m bench.tracing --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
