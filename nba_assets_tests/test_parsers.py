"""Raw parsers on good and bad payloads: bad ones fail naming source, endpoint, day, field."""

import datetime as dt
import json

import pytest

from nba_assets.lib import parsers

DAY = dt.date(2025, 11, 2)
HEADERS = [
    "SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME",
    "GAME_ID", "GAME_DATE", "MATCHUP", "WL", "MIN", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A",
    "FG3_PCT", "FTM", "FTA", "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF",
    "PTS", "PLUS_MINUS", "FANTASY_PTS", "VIDEO_AVAILABLE",
]  # fmt: skip
ROW = [
    "22025", 1629029, "Luka Dončić", 1610612747, "LAL", "Los Angeles Lakers", "0022500140",
    "2025-11-02", "LAL @ MEM", "W", 36, 12, 24, 0.5, 4, 10, 0.4, 5, 6, 0.833, 1, 8, 9, 11, 2,
    0, 3, 2, 33, 12, 60.5, 1,
]  # fmt: skip


def game_log(rows, headers=HEADERS) -> bytes:
    return json.dumps(
        {
            "resource": "leaguegamelog",
            "parameters": {"Season": "2025-26"},
            "resultSets": [{"name": "LeagueGameLog", "headers": headers, "rowSet": rows}],
        }
    ).encode()


def ctx(endpoint: str = "leaguegamelog_players") -> parsers.StatsContext:
    return parsers.StatsContext(endpoint, DAY, "landing/x.json")


def test_player_game_log_parses_a_real_shaped_row() -> None:
    df = parsers.parse_player_game_log(game_log([ROW]), ctx())
    row = df.row(0, named=True)
    assert row["player_lookup"] == "lukadoncic"
    assert row["season"] == "2025-26"
    assert row["season_type"] == "Regular Season"
    assert row["is_home"] is False
    assert row["opponent_team_abbr"] == "MEM"
    assert row["pts"] == 33


def test_missing_shooting_box_is_null_not_invented() -> None:
    row = list(ROW)
    for col in ("FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA"):
        row[HEADERS.index(col)] = None
    df = parsers.parse_player_game_log(game_log([row]), ctx())
    assert df.row(0, named=True)["fga"] is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"resultSets": [', "not valid JSON"),
        (game_log([ROW], headers=[h for h in HEADERS if h != "PTS"]), "PTS"),
        (game_log([[*ROW[:28], "lots", *ROW[29:]]]), "field PTS"),
        (game_log([ROW[:-1]]), "values for"),
        (
            json.dumps({"resource": "x", "parameters": {}, "resultSets": []}).encode(),
            "LeagueGameLog",
        ),
        (json.dumps({"resultSets": []}).encode(), "envelope field resource"),
    ],
)
def test_bad_payload_names_source_endpoint_day_and_field(body: bytes, expected: str) -> None:
    with pytest.raises(parsers.PayloadError) as err:
        parsers.parse_player_game_log(body, ctx())
    message = str(err.value)
    assert "nba_stats/leaguegamelog_players for game_date 2025-11-02" in message
    assert expected in message
    assert "landing/x.json" in message


def test_game_on_another_day_is_refused() -> None:
    row = list(ROW)
    row[HEADERS.index("GAME_DATE")] = "2025-11-03"
    with pytest.raises(parsers.PayloadError, match="GAME_DATE"):
        parsers.parse_player_game_log(game_log([row]), ctx())


def odds(outcomes) -> bytes:
    return json.dumps(
        {
            "id": "ev1",
            "sport_key": "basketball_nba",
            "commence_time": "2025-11-02T23:30:00Z",
            "home_team": "Memphis Grizzlies",
            "away_team": "Los Angeles Lakers",
            "bookmakers": [
                {
                    "key": "draftkings",
                    "title": "DraftKings",
                    "last_update": "2025-11-02T16:55:00Z",
                    "markets": [{"key": "player_points", "outcomes": outcomes}],
                }
            ],
        }
    ).encode()


def test_event_odds_pairs_over_and_under() -> None:
    body = odds(
        [
            {"name": "Over", "description": "Luka Doncic", "price": -115, "point": 32.5},
            {"name": "Under", "description": "Luka Doncic", "price": -105, "point": 32.5},
        ]
    )
    df = parsers.parse_event_odds(body, parsers.OddsContext("event_odds", DAY))
    assert df.height == 1
    row = df.row(0, named=True)
    assert (row["line"], row["over_price"], row["under_price"]) == (32.5, -115.0, -105.0)


def test_event_odds_keep_each_books_main_line_of_a_ladder() -> None:
    # Bovada's real answer for Brandon Ingram on 2025-11-02 (part of it): one player, a ladder
    # of points in the main market. The prices must stay with their own point.
    ladder = [(16.5, -275, 200), (19.5, -130, 100), (20.5, -105, -125), (21.5, 120, -160)]
    outcomes = [
        {"name": side, "description": "Brandon Ingram", "price": price, "point": point}
        for point, over, under in ladder
        for side, price in (("Over", over), ("Under", under))
    ]
    df = parsers.parse_event_odds(odds(outcomes), parsers.OddsContext("event_odds", DAY))
    assert df.select("line", "over_price", "under_price").rows() == [(20.5, -105.0, -125.0)]
    repeated = parsers.parse_event_odds(
        odds(outcomes + outcomes[:2]), parsers.OddsContext("event_odds", DAY)
    )
    assert repeated.equals(df)
    contradicting = [*outcomes, {**outcomes[4], "price": -110}]
    with pytest.raises(parsers.PayloadError, match=r"lists Over 20.5 .* twice, at prices"):
        parsers.parse_event_odds(odds(contradicting), parsers.OddsContext("event_odds", DAY))


def test_event_odds_drifted_field_is_named() -> None:
    body = odds([{"name": "Over", "player": "Luka Doncic", "price": -115, "point": 32.5}])
    with pytest.raises(parsers.PayloadError) as err:
        parsers.parse_event_odds(body, parsers.OddsContext("event_odds", DAY))
    assert "odds_api/event_odds for game_date 2025-11-02" in str(err.value)
    assert "description" in str(err.value)


def test_a_player_list_landed_on_many_days_parses_as_each_day_alone() -> None:
    """A replay lands one season's player list on every game day; each day's rows are what
    parsing that day's payload alone gives, and a bad payload still names its own day."""
    from nba_assets.replay.server import ReplayApp, load_archive
    from nba_assets.sources import nba_stats

    days = [dt.date(2025, 11, 1), dt.date(2025, 11, 2)]
    request = nba_stats.all_players("2025-26", days)
    answer = ReplayApp(load_archive()).handle(
        "GET", f"/stats/{request.path}", list(request.params.items()), dt.datetime.now(dt.UTC)
    )
    assert answer.status == 200
    contexts = [parsers.StatsContext("commonallplayers", day, "players.json") for day in days]
    parsed = [parsers.parse_player_list(answer.body, c) for c in contexts]
    alone = [parsers._parse_player_list(answer.body, c) for c in contexts]
    assert parsed[0].height > 400
    for day, rows, reference in zip(days, parsed, alone, strict=True):
        assert rows.equals(reference)
        assert rows.get_column("game_date").unique().to_list() == [day]
    broken = answer.body.replace(b'"PERSON_ID"', b'"PERSON"')
    with pytest.raises(parsers.PayloadError, match="2025-11-03"):
        parsers.parse_player_list(
            broken, parsers.StatsContext("commonallplayers", dt.date(2025, 11, 3))
        )
