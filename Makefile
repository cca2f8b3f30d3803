# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint ui emulator browser postgres benchmark

# The prod extra too: the production instance tests load dagster-postgres and dagster-k8s, and
# pyright checks the code that imports dagster_k8s.
$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev,prod]'
	touch $(STAMP)

emulator:
	bash .ci/install_bigquery_emulator.sh
	bash .ci/install_gcs_emulator.sh

# The UI tests drive a real headless Chromium (Debian's package; needs root or sudo once).
browser:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# The production instance test runs a throwaway PostgreSQL cluster: Debian's server binaries,
# which live under /usr/lib/postgresql/<version>/bin (needs root or sudo once).
postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; }

demo: $(STAMP)
	$(VENV)/bin/nba-assets demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/lint-imports
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/dg check defs

test: $(STAMP) emulator browser postgres lint
	$(VENV)/bin/pytest -q

ui: $(STAMP)
	$(VENV)/bin/nba-assets ui

benchmark: $(STAMP)
	$(VENV)/bin/python benchmarks/run.py
