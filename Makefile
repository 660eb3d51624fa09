# The README's two quick-start commands: `make run` (install + demo on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export AFTERSALES_HOME ?= $(CURDIR)/instance

.PHONY: install run test lint typecheck pytest translations bench clean

$(STAMP): pyproject.toml package.json package-lock.json scripts/vendor.sh $(wildcard assets/*)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	bash scripts/vendor.sh
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@if [ -d web/translations ]; then $(BIN)/pybabel -q compile -d web/translations; fi

run: install
	$(BIN)/aftersales init --demo
	$(BIN)/aftersales serve --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/lifecycle.py

clean:
	rm -rf $(VENV) node_modules web/static/vendor .pytest_cache .mypy_cache .ruff_cache
