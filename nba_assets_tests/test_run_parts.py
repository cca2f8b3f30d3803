"""Long replays run as consecutive runs of at most two seasons, cut in the off-season."""

import datetime as dt

import pytest

from nba_assets.cli.runs import run_parts

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("start", "end", "parts"),
    [
        # Within two seasons: one run.
        ("2025-10-21", "2025-11-15", [("2025-10-21", "2025-11-15")]),
        ("2024-07-31", "2024-08-01", [("2024-07-31", "2024-08-01")]),
        ("2022-10-18", "2024-07-31", [("2022-10-18", "2024-07-31")]),
        # The memory benchmark's three seasons: two seasons, then one.
        ("2022-10-18", "2025-06-22", [("2022-10-18", "2024-07-31"), ("2024-08-01", "2025-06-22")]),
        # Nine seasons: the last weeks join the part before them.
        (
            "2017-10-17",
            "2025-11-15",
            [
                ("2017-10-17", "2019-07-31"),
                ("2019-08-01", "2021-07-31"),
                ("2021-08-01", "2023-07-31"),
                ("2023-08-01", "2025-11-15"),
            ],
        ),
        # The demo's history: the off-season and preseason before its span join too.
        ("2021-10-19", "2025-10-20", [("2021-10-19", "2023-07-31"), ("2023-08-01", "2025-10-20")]),
    ],
)
def test_a_range_is_cut_into_runs_of_two_seasons(start: str, end: str, parts: list) -> None:
    got = run_parts(D(start), D(end))
    assert got == [(D(a), D(b)) for a, b in parts]
    # Consecutive, no day lost or repeated.
    assert got[0][0] == D(start) and got[-1][1] == D(end)
    assert all(b + dt.timedelta(days=1) == a for (_, b), (a, _) in zip(got, got[1:], strict=False))
