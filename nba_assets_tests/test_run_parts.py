"""Long replays run as consecutive runs of one season at most, cut in the off-season."""

import datetime as dt

import pytest

from nba_assets.cli.runs import run_parts

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("start", "end", "parts"),
    [
        # Within a season: one run.
        ("2025-10-21", "2025-11-15", [("2025-10-21", "2025-11-15")]),
        ("2024-08-01", "2025-07-31", [("2024-08-01", "2025-07-31")]),
        # A day past the off-season's cut joins the season before.
        ("2024-07-31", "2024-08-01", [("2024-07-31", "2024-08-01")]),
        (
            "2022-10-18",
            "2025-06-22",
            [
                ("2022-10-18", "2023-07-31"),
                ("2023-08-01", "2024-07-31"),
                ("2024-08-01", "2025-06-22"),
            ],
        ),
        # The last weeks join the season before them: nine seasons in eight runs.
        (
            "2017-10-17",
            "2025-11-15",
            [("2017-10-17", "2018-07-31")]
            + [(f"{y}-08-01", f"{y + 1}-07-31") for y in range(2018, 2024)]
            + [("2024-08-01", "2025-11-15")],
        ),
        (
            "2021-10-19",
            "2025-10-20",
            [
                ("2021-10-19", "2022-07-31"),
                ("2022-08-01", "2023-07-31"),
                ("2023-08-01", "2024-07-31"),
                ("2024-08-01", "2025-10-20"),
            ],
        ),
    ],
)
def test_a_range_is_cut_into_runs_of_a_season(start: str, end: str, parts: list) -> None:
    got = run_parts(D(start), D(end))
    assert got == [(D(a), D(b)) for a, b in parts]
    # Consecutive, no day lost or repeated.
    assert got[0][0] == D(start) and got[-1][1] == D(end)
    assert all(b + dt.timedelta(days=1) == a for (_, b), (a, _) in zip(got, got[1:], strict=False))


def test_two_seasons_per_run_halve_the_runs() -> None:
    # NBA_REPLAY_SEASONS_PER_RUN=2: faster, more memory (README).
    assert run_parts(D("2017-10-17"), D("2025-11-15"), seasons=2) == [
        (D("2017-10-17"), D("2019-07-31")),
        (D("2019-08-01"), D("2021-07-31")),
        (D("2021-08-01"), D("2023-07-31")),
        (D("2023-08-01"), D("2025-11-15")),
    ]
