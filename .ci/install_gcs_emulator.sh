#!/usr/bin/env bash
# Install `gcp-storage-emulator` (a GCS JSON API on 127.0.0.1, pure Python) for the tests marked
# `gcs`, in its own venv, and print the path of its executable.
#
# Layout: $NBA_EMULATOR_HOME (default .ci/.emulator in the checkout)/gcs-venv. Works with the
# real google-cloud-storage client (simple and resumable uploads, downloads, prefix listing).
# Idempotent: a second run checks the installed version and does nothing else. Python is
# $NBA_EMULATOR_PYTHON, then pyenv's 3.13.0, then python3.13, then python3.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
emulator_home="${NBA_EMULATOR_HOME:-$repo_root/.ci/.emulator}"
venv="$emulator_home/gcs-venv"
package="gcp-storage-emulator"
wanted="2026.7.19"

find_python() {
  if [[ -n "${NBA_EMULATOR_PYTHON:-}" ]]; then
    echo "$NBA_EMULATOR_PYTHON"
    return
  fi
  if command -v pyenv >/dev/null 2>&1 && [[ -x "$(pyenv root)/versions/3.13.0/bin/python3" ]]; then
    echo "$(pyenv root)/versions/3.13.0/bin/python3"
    return
  fi
  command -v python3.13 || command -v python3
}

installed_ok() {
  [[ -x "$venv/bin/$package" ]] || return 1
  "$venv/bin/python" -c "
import sys
from importlib.metadata import version
sys.exit(version('$package') != '$wanted')" 2>/dev/null
}

if ! installed_ok; then
  mkdir -p "$emulator_home"
  if [[ ! -x "$venv/bin/python" ]]; then
    "$(find_python)" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package==$wanted" >&2
  installed_ok || {
    echo "install_gcs_emulator: install finished but the check still fails" >&2
    exit 1
  }
fi

echo "$venv/bin/$package"
