#!/usr/bin/env bash
# Install the `local-bigquery` emulator (a BigQuery REST API on 127.0.0.1) for the tests marked
# `bigquery`, in its own Python 3.13 venv, and print the path of its executable.
#
# Layout under the emulator home ($NBA_EMULATOR_HOME, default .ci/.emulator in the checkout):
#   venv/                                            Python 3.13 venv with local-bigquery + duckdb
#   home/                                            the HOME the emulator runs with
#   home/.duckdb/extensions/v1.5.5/linux_amd64/      DuckDB extensions, taken from PyPI packages
#
# Why this shape: local-bigquery 0.3.2 is the last release that works with duckdb 1.5.x (0.4.0
# needs duckdb 2.0.1, whose extensions cannot be fetched here), and DuckDB would otherwise try to
# download its extensions at start-up. A dedicated HOME keeps the user's own ~/.duckdb untouched.
#
# Idempotent: a second run checks the installed versions and the extensions and does nothing
# else. Python 3.13 is looked up as $NBA_EMULATOR_PYTHON, then pyenv's 3.13.0, then python3.13.
#
# Measured on a 2-core machine: 16 s from scratch (new venv, empty pip cache; about 770 MB on
# disk, most of it the three DuckDB extensions), 0.1 s when everything is already installed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
emulator_home="${NBA_EMULATOR_HOME:-$repo_root/.ci/.emulator}"
venv="$emulator_home/venv"
duckdb_version="1.5.5"
ext_dir="$emulator_home/home/.duckdb/extensions/v$duckdb_version/linux_amd64"
packages=(
  "local-bigquery==0.3.2"
  "duckdb==$duckdb_version"
  "duckdb-extension-icu==$duckdb_version"
  "duckdb-extension-ducklake==$duckdb_version"
  "duckdb-extension-spatial==$duckdb_version"
)
extensions=(icu ducklake spatial)

find_python() {
  if [[ -n "${NBA_EMULATOR_PYTHON:-}" ]]; then
    echo "$NBA_EMULATOR_PYTHON"
    return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local candidate
    candidate="$(pyenv root)/versions/3.13.0/bin/python3"
    if [[ -x "$candidate" ]]; then
      echo "$candidate"
      return
    fi
  fi
  if command -v python3.13 >/dev/null 2>&1; then
    command -v python3.13
    return
  fi
  echo "install_bigquery_emulator: no Python 3.13 found (set NBA_EMULATOR_PYTHON)" >&2
  exit 1
}

installed_ok() {
  [[ -x "$venv/bin/local-bigquery" ]] || return 1
  "$venv/bin/python" - "${packages[@]}" <<'EOF' || return 1
import sys
from importlib.metadata import PackageNotFoundError, version

for requirement in sys.argv[1:]:
    name, wanted = requirement.split("==")
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
  local ext
  for ext in "${extensions[@]}"; do
    [[ -s "$ext_dir/$ext.duckdb_extension" ]] || return 1
  done
}

if ! installed_ok; then
  python="$(find_python)"
  mkdir -p "$emulator_home"
  if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}" >&2
  mkdir -p "$ext_dir"
  # Each duckdb-extension-* wheel ships its extension binary inside site-packages.
  "$venv/bin/python" - "$ext_dir" "${extensions[@]}" <<'EOF'
import shutil
import sys
import sysconfig
from pathlib import Path

target = Path(sys.argv[1])
site = Path(sysconfig.get_paths()["purelib"])
for name in sys.argv[2:]:
    found = sorted(site.rglob(f"{name}.duckdb_extension"))
    if not found:
        sys.exit(f"install_bigquery_emulator: {name}.duckdb_extension not found under {site}")
    shutil.copyfile(found[0], target / f"{name}.duckdb_extension")
EOF
  installed_ok || {
    echo "install_bigquery_emulator: install finished but the check still fails" >&2
    exit 1
  }
fi

echo "$venv/bin/local-bigquery"
