"""Schema drift: the table specs' null policy, the payload checks, and the drift faults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import datetime

import httpx
import polars as pl
import pytest

from nba_assets.lib import parsers
from nba_assets.replay.archive import Archive, load_archive
from nba_assets.replay.faults import FaultSpec, apply_drift
from nba_assets.replay.server import ReplayServer
from nba_assets.tables import raw
from nba_assets.tables.spec import TableSpec

DAY = dt.date(2025, 11, 2)
AFTER_SEASON = datetime.fromisoformat("2026-07-01T12:00:00+00:00")
GAME_LOG = {
    "Counter": "1000", "DateFrom": "11/02/2025", "DateTo": "11/02/2025", "Direction": "DESC",
    "LeagueID": "00", "PlayerOrTeam": "P", "Season": "2025-26", "SeasonType": "Regular Season",
    "Sorter": "DATE",
}  # fmt: skip


def ctx() -> parsers.StatsContext:
    return parsers.StatsContext("leaguegamelog_players", DAY, "landing/regular_season.json")


def box_rows(season: str, **columns: list) -> pl.DataFrame:
    """Two filled nbac_player_boxscores rows of ``season``, without a shooting box."""
    spec = raw.nbac_player_boxscores
    filler = {pl.String: "x", pl.Int64: 7, pl.Float64: 1.5, pl.Boolean: True, pl.Date: DAY}
    values = {c: [filler[type(t)]] * 2 for c, t in spec.columns.items()}
    values.update({c: [None, None] for c in raw.SHOOTING_BOX})
    values.update(player_id=[1, 2], season=[season, season], **columns)
    return pl.DataFrame(values, schema=spec.schema)


def offending(df: pl.DataFrame) -> set[str]:
    return {column for column, _, _ in raw.nbac_player_boxscores.all_null_columns(df)}


def test_a_column_null_in_every_row_offends_unless_the_spec_allows_it() -> None:
    assert "reb" in offending(box_rows("2025-26", reb=[None, None]))
    # One null value is a value the source did not have, not a field it lost.
    assert "reb" not in offending(box_rows("2025-26", reb=[None, 4]))
    # The archive's sources have no shooting box in 2025-26, but a full one in 2022-23.
    assert not offending(box_rows("2025-26"))
    assert offending(box_rows("2022-23")) == set(raw.SHOOTING_BOX)
    assert not raw.nbac_player_boxscores.all_null_columns(box_rows("2025-26").clear())


def test_a_payload_of_two_seasons_is_judged_per_season() -> None:
    both = pl.concat([box_rows("2025-26"), box_rows("2022-23", fga=[5, 9])])
    offences = raw.nbac_player_boxscores.all_null_columns(both)
    assert ("fga", "2022-23", 2) not in offences
    assert {(c, s) for c, s, _ in offences} == {
        (c, "2022-23") for c in raw.SHOOTING_BOX if c != "fga"
    }


def test_scores_of_games_not_played_may_be_null() -> None:
    spec = raw.nbac_schedule
    assert spec.may_be_all_null("home_pts") and not spec.may_be_all_null("game_status")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"nullable": frozenset({"nope"})}, "'nope' is not in the schema"),
        ({"nullable": frozenset({"game_id"})}, "key column 'game_id' cannot be null"),
        (
            {"nullable": frozenset({"pts"}), "null_in_seasons": {"pts": frozenset({"2025-26"})}},
            "declare each column once",
        ),
    ],
)
def test_spec_refuses_an_inconsistent_null_policy(policy: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableSpec(
            dataset="nba_raw",
            name="t",
            columns={"game_date": pl.Date(), "game_id": pl.String(), "pts": pl.Int64()},
            key=("game_id",),
            clustering=("game_id",),
            description="",
            **policy,
        )


def test_check_columns_names_source_endpoint_day_column_and_file() -> None:
    df = box_rows("2025-26", reb=[None, None])
    with pytest.raises(parsers.PayloadError) as failure:
        parsers.check_columns(df, raw.nbac_player_boxscores, list(df.columns), ctx())
    message = str(failure.value)
    for part in ("nba_stats/leaguegamelog_players", "2025-11-02", "'reb'", "regular_season.json"):
        assert part in message
    with pytest.raises(parsers.PayloadError, match=r"lack column\(s\) \['reb'\]"):
        parsers.check_columns(df.drop("reb"), raw.nbac_player_boxscores, list(df.columns), ctx())
    parsers.check_columns(box_rows("2025-26"), raw.nbac_player_boxscores, list(df.columns), ctx())


def test_exact_duplicates_are_dropped_and_counted_conflicts_fail() -> None:
    df = box_rows("2025-26")
    key = list(raw.nbac_player_boxscores.key)
    unique, dropped = parsers.drop_duplicate_rows(pl.concat([df, df.head(1)]), key, ctx())
    assert dropped == 1 and unique.equals(df)
    assert parsers.drop_duplicate_rows(df, key, ctx())[1] == 0
    conflicting = pl.concat([df, df.head(1).with_columns(pts=pl.lit(99, pl.Int64))])
    with pytest.raises(parsers.PayloadError, match=r"share a key .* in column\(s\) \['pts'\]"):
        parsers.drop_duplicate_rows(conflicting, key, ctx())


# --- drift faults of the replay server -----------------------------------------------------


def test_drift_faults_parse_and_round_trip() -> None:
    spec = FaultSpec.parse("429:0.6,rename:1:REB,rename:1:point:points,null:0.5:AST,500:0.4")
    assert str(FaultSpec.parse(str(spec))) == str(spec)
    # Drift shares do not count against the transport faults' total of 1.
    assert [r.kind for r in spec.rules if not r.is_drift] == ["429", "500"]
    assert {(r.field, r.renamed_to) for r in spec.drift(0, "GET /x?")} >= {
        ("REB", "REB_RENAMED"), ("point", "points")
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rename:1", "expected rename:share:FIELD"),
        ("null:1:A:B", "expected null:share:FIELD"),
        ("rename:1:A:A", "renames 'A' to itself"),
        ("null:1:A,null:0.5:A", "of field 'A' is given twice"),
        ("null:2:A", "not between 0 and 1"),
    ],
)
def test_bad_drift_specs(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultSpec.parse(text)


def test_apply_drift_changes_result_set_columns_and_json_keys() -> None:
    stats = {"resultSets": [{"name": "L", "headers": ["A", "REB"], "rowSet": [[1, 2], [3, 4]]}]}
    (rename,) = FaultSpec.parse("rename:1:REB").rules
    (null,) = FaultSpec.parse("null:1:REB").rules
    assert apply_drift(stats, [rename])["resultSets"][0]["headers"] == ["A", "REB_RENAMED"]
    assert apply_drift(stats, [null])["resultSets"][0]["rowSet"] == [[1, None], [3, None]]
    odds = {"bookmakers": [{"markets": [{"outcomes": [{"point": 1.5, "price": -110}]}]}]}
    (point,) = FaultSpec.parse("null:1:point").rules
    assert apply_drift(odds, [point])["bookmakers"][0]["markets"][0]["outcomes"] == [
        {"point": None, "price": -110}
    ]
    assert stats["resultSets"][0]["headers"] == ["A", "REB"], "the input is left as it was"


@pytest.fixture(scope="module")
def archive() -> Archive:
    return load_archive(None)


@pytest.fixture()
def drifted(archive: Archive, request: pytest.FixtureRequest) -> Iterator[ReplayServer]:
    with ReplayServer(archive, now=AFTER_SEASON, faults=FaultSpec.parse(request.param)) as server:
        yield server


@pytest.mark.parametrize("drifted", ["rename:1:REB,null:1:AST"], indirect=True)
def test_drifted_server_answers_every_attempt_the_same_way(drifted: ReplayServer) -> None:
    with httpx.Client(base_url=drifted.base_url, timeout=10) as http:
        answers = [http.get("/stats/leaguegamelog", params=GAME_LOG) for _ in range(2)]
    for answer in answers:
        assert answer.status_code == 200
        (found,) = answer.json()["resultSets"]
        assert "REB" not in found["headers"] and "REB_RENAMED" in found["headers"]
        at = found["headers"].index("AST")
        assert len(found["rowSet"]) == 182 and {row[at] for row in found["rowSet"]} == {None}
    assert answers[0].content == answers[1].content
    assert drifted.stats.faults == {"rename": 2, "null": 2}
    # The renamed field is what the parser then refuses, naming it.
    with pytest.raises(parsers.PayloadError, match=r"lacks field\(s\) \['REB'\]"):
        parsers.parse_player_game_log(answers[0].content, ctx())


@pytest.mark.parametrize("drifted", ["null:1:point"], indirect=True)
def test_odds_point_gone_null_fails_the_props_payload(drifted: ReplayServer) -> None:
    with httpx.Client(base_url=drifted.base_url, timeout=10) as http:
        window = {
            "commenceTimeFrom": "2025-11-02T05:00:00Z",
            "commenceTimeTo": "2025-11-03T04:59:59Z",
        }
        # The day is over at the server's clock: its events and odds come from history.
        events = http.get(
            "/v4/historical/sports/basketball_nba/events",
            params={"apiKey": "k", "date": window["commenceTimeFrom"], **window},
        )
        event = events.json()["data"][0]
        body = http.get(
            f"/v4/historical/sports/basketball_nba/events/{event['id']}/odds",
            params={
                "apiKey": "k",
                "regions": "us",
                "markets": "player_points",
                "date": event["commence_time"],
            },
        ).content
    event_id = event["id"]
    assert parsers.parse_events(events.content, parsers.OddsContext("events", DAY)).height
    odds_ctx = parsers.OddsContext("event_odds", DAY, f"landing/{event_id}.json")
    with pytest.raises(parsers.PayloadError, match=r"odds_api/event_odds .* field point missing"):
        parsers.parse_event_odds(body, odds_ctx)


def test_a_props_payload_without_lines_fails_on_its_line_column() -> None:
    """The second line of defence: a frame whose every line is null, whatever the parser let by."""
    df = pl.DataFrame(
        {"game_date": [DAY], "event_id": ["e"], "bookmaker": ["b"], "market": ["player_points"],
         "player_name": ["p"], "line": [None], "over_price": [-110.0]},
        schema_overrides={"line": pl.Float64},
    )  # fmt: skip
    odds_ctx = parsers.OddsContext("event_odds", DAY, "landing/e.json")
    with pytest.raises(parsers.PayloadError, match=r"odds_api/event_odds .* 'line'"):
        parsers.check_columns(df, raw.odds_player_props, list(df.columns), odds_ctx)
