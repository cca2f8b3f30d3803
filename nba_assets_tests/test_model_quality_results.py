"""benchmarks/model_quality.py writes its results file itself: each run rewrites its section."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The benchmarks are scripts, not a package: imported from their folder, as they import each other.
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import model_quality  # noqa: E402  # pyright: ignore[reportMissingImports]

PROSE = (
    "# Model quality\n\nHow the cadence was chosen.\n\n"
    "<!-- results: curve -->\nold figures\n<!-- /results: curve -->\n\nChosen: weekly.\n"
)
CURVE = "python benchmarks/model_quality.py --tune --parts curve"


def test_a_run_rewrites_its_own_section_and_keeps_the_prose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "model_quality.md"
    results.write_text(PROSE)
    with model_quality.recorded("curve", CURVE, results):
        print("| weekly | all history | 300 | 4.4755 |")
    assert "| weekly | all history | 300 | 4.4755 |" in capsys.readouterr().out
    doc = results.read_text()
    assert "old figures" not in doc and doc.count("<!-- results: curve -->") == 1
    assert "| weekly | all history | 300 | 4.4755 |" in doc
    assert doc.startswith("# Model quality\n\nHow the cadence was chosen.\n")
    assert doc.rstrip().endswith("Chosen: weekly.")
    header = doc.split("<!-- results: curve -->\n")[1].splitlines()[0]
    assert header.startswith("Measured ") and " UTC at " in header and "cores, Python" in header
    assert f"    {CURVE}\n" in doc

    # A part without a section yet gets one at the end; a rerun replaces it.
    for figure in ("4.51", "4.52"):
        with model_quality.recorded("binning", "cmd", results, echo=False):
            print(f"MAE {figure}")
    doc = results.read_text()
    assert doc.count("<!-- results: binning -->") == 1
    assert "MAE 4.52" in doc and "MAE 4.51" not in doc
    assert doc.index("Chosen: weekly.") < doc.index("## `binning`")
    assert capsys.readouterr().out == ""  # not echoed


def test_a_part_that_fails_writes_nothing(tmp_path: Path) -> None:
    results = tmp_path / "model_quality.md"
    results.write_text(PROSE)
    failing = pytest.raises(RuntimeError, match="no model for")
    with failing, model_quality.recorded("curve", CURVE, results):
        print("half the figures")
        raise RuntimeError("no model for 2023-10-23")
    assert results.read_text() == PROSE
    assert not list(tmp_path.glob("*.tmp"))
