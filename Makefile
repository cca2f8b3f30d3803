# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint ui emulator browser benchmark

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

emulator:
	bash .ci/install_bigquery_emulator.sh
	bash .ci/install_gcs_emulator.sh

# The UI tests drive a real headless Chromium (Debian's package; needs root or sudo once).
browser:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

demo: $(STAMP)
	$(VENV)/bin/nba-assets demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/lint-imports
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/dg check defs

test: $(STAMP) emulator browser lint
	$(VENV)/bin/pytest -q

ui: $(STAMP)
	$(VENV)/bin/nba-assets ui

benchmark: $(STAMP)
	$(VENV)/bin/python benchmarks/run.py
