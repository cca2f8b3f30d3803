"""Replay server over real HTTP: endpoint shapes, the clock, faults, errors and the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from nba_assets.replay.archive import Archive
from nba_assets.replay.faults import FaultSpec
from nba_assets.replay.server import ReplayServer, load_archive

AFTER_SEASON = datetime.fromisoformat("2026-07-01T12:00:00+00:00")
NOON_NOV_2 = datetime.fromisoformat("2025-11-02T12:00:00-05:00")

PLAYER_HEADERS = [
    "SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME",
    "GAME_ID", "GAME_DATE", "MATCHUP", "WL", "MIN", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A",
    "FG3_PCT", "FTM", "FTA", "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF",
    "PTS", "PLUS_MINUS", "FANTASY_PTS", "VIDEO_AVAILABLE",
]  # fmt: skip
TEAM_HEADERS = [h for h in PLAYER_HEADERS if h not in ("PLAYER_ID", "PLAYER_NAME", "FANTASY_PTS")]


def scoreboard_params(day: str) -> dict[str, str]:
    return {"GameDate": day, "LeagueID": "00", "DayOffset": "0"}


def game_log_params(day: str, player_or_team: str = "P") -> dict[str, str]:
    us_day = f"{day[5:7]}/{day[8:10]}/{day[:4]}"
    return {
        "Counter": "1000",
        "DateFrom": us_day,
        "DateTo": us_day,
        "Direction": "DESC",
        "LeagueID": "00",
        "PlayerOrTeam": player_or_team,
        "Season": "2025-26",
        "SeasonType": "Regular Season",
        "Sorter": "DATE",
    }


def day_window(day: str) -> dict[str, str]:
    """commenceTimeFrom/To covering an ET calendar day in November (UTC-5)."""
    next_day = f"{day[:8]}{int(day[8:]) + 1:02d}"
    return {"commenceTimeFrom": f"{day}T05:00:00Z", "commenceTimeTo": f"{next_day}T04:59:59Z"}


@pytest.fixture(scope="module")
def archive() -> Archive:
    return load_archive(None)


@pytest.fixture(scope="module")
def client(archive: Archive) -> Iterator[httpx.Client]:
    with (
        ReplayServer(archive, now=AFTER_SEASON) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        yield http


@pytest.fixture(scope="module")
def early_client(archive: Archive) -> Iterator[httpx.Client]:
    with (
        ReplayServer(archive, now=NOON_NOV_2) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        yield http


def result_set(payload: dict, name: str) -> dict:
    (found,) = [s for s in payload["resultSets"] if s["name"] == name]
    assert all(len(row) == len(found["headers"]) for row in found["rowSet"])
    return found


def rows_as_dicts(found: dict) -> list[dict]:
    return [dict(zip(found["headers"], row, strict=True)) for row in found["rowSet"]]


def test_scoreboard_shape_and_final_scores(client: httpx.Client) -> None:
    answer = client.get("/stats/scoreboardv2", params=scoreboard_params("2025-11-02"))
    assert answer.status_code == 200
    payload = answer.json()
    assert payload["resource"] == "scoreboardV2"
    header = rows_as_dicts(result_set(payload, "GameHeader"))
    lines = rows_as_dicts(result_set(payload, "LineScore"))
    assert len(header) == 8 and len(lines) == 16
    assert {g["GAME_STATUS_ID"] for g in header} == {3}
    assert {g["GAME_STATUS_TEXT"] for g in header} == {"Final"}
    assert header[0]["GAME_DATE_EST"] == "2025-11-02T00:00:00" and header[0]["SEASON"] == "2025"
    assert all(g["GAME_ID"].startswith("00225") for g in header)
    assert all(isinstance(line["PTS"], int) and line["PTS"] > 60 for line in lines)
    home_ids = {g["HOME_TEAM_ID"] for g in header} | {g["VISITOR_TEAM_ID"] for g in header}
    assert home_ids == {line["TEAM_ID"] for line in lines}


def test_league_game_log_players(client: httpx.Client) -> None:
    answer = client.get("/stats/leaguegamelog", params=game_log_params("2025-11-02"))
    payload = answer.json()
    assert payload["resource"] == "leaguegamelog"
    found = result_set(payload, "LeagueGameLog")
    assert found["headers"] == PLAYER_HEADERS
    rows = rows_as_dicts(found)
    assert len(rows) == 182
    assert {r["SEASON_ID"] for r in rows} == {"22025"}
    assert all(r["GAME_ID"] and r["TEAM_ID"] and r["GAME_DATE"] == "2025-11-02" for r in rows)
    # Full shooting box only where a source has it; unknown stays null, never zero.
    with_box = [r for r in rows if r["FGA"] is not None]
    assert with_box and len(with_box) < len(rows)
    assert all(r["PTS"] == 2 * r["FGM"] + r["FG3M"] + r["FTM"] for r in with_box)


def test_league_game_log_teams_and_date_range(client: httpx.Client) -> None:
    teams = client.get("/stats/leaguegamelog", params=game_log_params("2025-11-02", "T")).json()
    found = result_set(teams, "LeagueGameLog")
    assert found["headers"] == TEAM_HEADERS
    assert len(found["rowSet"]) == 16
    whole_range = game_log_params("2025-11-02")
    whole_range.update(DateFrom="11/01/2025", DateTo="11/02/2025", Direction="ASC")
    rows = rows_as_dicts(
        result_set(client.get("/stats/leaguegamelog", params=whole_range).json(), "LeagueGameLog")
    )
    dates = [r["GAME_DATE"] for r in rows]
    assert dates == sorted(dates) and set(dates) == {"2025-11-01", "2025-11-02"}
    playoffs = game_log_params("2025-11-02")
    playoffs["SeasonType"] = "Playoffs"
    assert (
        client.get("/stats/leaguegamelog", params=playoffs).json()["resultSets"][0]["rowSet"] == []
    )


def test_common_all_players(client: httpx.Client) -> None:
    params = {"IsOnlyCurrentSeason": "1", "LeagueID": "00", "Season": "2025-26"}
    payload = client.get("/stats/commonallplayers", params=params).json()
    rows = rows_as_dicts(result_set(payload, "CommonAllPlayers"))
    assert len(rows) > 400
    by_name = {r["DISPLAY_FIRST_LAST"]: r for r in rows}
    assert by_name["LeBron James"]["TEAM_ABBREVIATION"] == "LAL"
    assert by_name["LeBron James"]["DISPLAY_LAST_COMMA_FIRST"] == "James, LeBron"
    assert {r["ROSTERSTATUS"] for r in rows} == {1}


def test_odds_events_and_event_odds(early_client: httpx.Client) -> None:
    events_answer = early_client.get(
        "/v4/sports/basketball_nba/events",
        params={"apiKey": "test-key", "dateFormat": "iso", **day_window("2025-11-02")},
    )
    assert events_answer.status_code == 200
    assert {"x-requests-remaining", "x-requests-used", "x-requests-last"} <= set(
        events_answer.headers
    )
    # The Date header is the replay clock: the scrapers read the source's "now" from it.
    assert events_answer.headers["Date"] == "Sun, 02 Nov 2025 17:00:00 GMT"
    events = events_answer.json()
    assert len(events) == 8
    assert set(events[0]) == {
        "id", "sport_key", "sport_title", "commence_time", "home_team", "away_team"
    }  # fmt: skip
    assert events[0]["sport_key"] == "basketball_nba" and events[0]["commence_time"].endswith("Z")
    odds = early_client.get(
        f"/v4/sports/basketball_nba/events/{events[0]['id']}/odds",
        params={
            "apiKey": "test-key",
            "regions": "us",
            "markets": "player_points,player_rebounds",
            "oddsFormat": "american",
        },
    ).json()
    assert odds["id"] == events[0]["id"] and odds["home_team"] == events[0]["home_team"]
    assert odds["bookmakers"], "the pre-game snapshot has books"
    keys = {m["key"] for b in odds["bookmakers"] for m in b["markets"]}
    assert keys == {"player_points", "player_rebounds"}
    outcome = odds["bookmakers"][0]["markets"][0]["outcomes"][0]
    assert outcome["name"] in ("Over", "Under") and isinstance(outcome["price"], int)
    assert isinstance(outcome["point"], float) and outcome["description"]


def test_started_events_leave_the_live_listing_and_stay_in_history(
    client: httpx.Client, early_client: httpx.Client
) -> None:
    key = {"apiKey": "k", **day_window("2025-11-02")}
    assert client.get("/v4/sports/basketball_nba/events", params=key).json() == []
    listed = client.get(
        "/v4/historical/sports/basketball_nba/events",
        params={**key, "date": "2025-11-02T04:00:00Z"},
    ).json()
    assert listed["timestamp"] == "2025-11-02T04:00:00Z" and len(listed["data"]) == 8
    event = listed["data"][0]
    odds_path = f"/sports/basketball_nba/events/{event['id']}/odds"
    params = {"apiKey": "k", "regions": "us", "markets": "player_points"}
    gone = client.get(f"/v4{odds_path}", params=params)
    assert gone.status_code == 404 and gone.json()["error_code"] == "EVENT_NOT_FOUND"
    # The last snapshot before tip-off, as the live endpoint served it at noon.
    before_tip = client.get(
        f"/v4/historical{odds_path}", params={**params, "date": event["commence_time"]}
    ).json()
    assert before_tip["timestamp"] == "2025-11-02T17:00:00Z"
    assert before_tip["data"] == early_client.get(f"/v4{odds_path}", params=params).json()
    # Asked for before the day's snapshot was taken: the event, without lines yet.
    too_early = client.get(
        f"/v4/historical{odds_path}", params={**params, "date": "2025-11-02T15:00:00Z"}
    ).json()
    assert too_early["data"]["bookmakers"] == []
    # Never anything later than the clock.
    future = early_client.get(
        f"/v4/historical{odds_path}", params={**params, "date": "2025-11-03T15:00:00Z"}
    ).json()
    assert future["timestamp"] == "2025-11-02T17:00:00Z"


def test_double_double_lines_are_served_without_point(early_client: httpx.Client) -> None:
    events = early_client.get(
        "/v4/sports/basketball_nba/events", params={"apiKey": "k", **day_window("2025-11-02")}
    ).json()
    odds = early_client.get(
        f"/v4/sports/basketball_nba/events/{events[0]['id']}/odds",
        params={"apiKey": "k", "regions": "us", "markets": "player_double_double"},
    ).json()
    outcomes = [o for b in odds["bookmakers"] for m in b["markets"] for o in m["outcomes"]]
    assert outcomes and {o["name"] for o in outcomes} == {"Yes", "No"}
    assert all("point" not in o for o in outcomes)


def test_nothing_from_the_future(early_client: httpx.Client) -> None:
    board = early_client.get("/stats/scoreboardv2", params=scoreboard_params("2025-11-02")).json()
    header = rows_as_dicts(result_set(board, "GameHeader"))
    assert len(header) == 8 and {g["GAME_STATUS_ID"] for g in header} == {1}
    assert {line["PTS"] for line in rows_as_dicts(result_set(board, "LineScore"))} == {None}
    log = early_client.get("/stats/leaguegamelog", params=game_log_params("2025-11-02")).json()
    assert log["resultSets"][0]["rowSet"] == []
    yesterday = early_client.get("/stats/leaguegamelog", params=game_log_params("2025-11-01"))
    assert len(yesterday.json()["resultSets"][0]["rowSet"]) > 100
    # Tomorrow's events are listed, but their lines are not known yet.
    tomorrow = early_client.get(
        "/v4/sports/basketball_nba/events", params={"apiKey": "k", **day_window("2025-11-03")}
    ).json()
    assert tomorrow
    for event in tomorrow:
        odds = early_client.get(
            f"/v4/sports/basketball_nba/events/{event['id']}/odds",
            params={"apiKey": "k", "regions": "us", "markets": "player_points"},
        ).json()
        assert odds["bookmakers"] == []
    # Today's noon snapshot is exactly as old as the clock, so it is served.
    today = early_client.get(
        "/v4/sports/basketball_nba/events", params={"apiKey": "k", **day_window("2025-11-02")}
    ).json()
    odds = early_client.get(
        f"/v4/sports/basketball_nba/events/{today[0]['id']}/odds",
        params={"apiKey": "k", "regions": "us", "markets": "player_points"},
    ).json()
    assert odds["bookmakers"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/stats/scoreboardv2", {"LeagueID": "00", "DayOffset": "0"}, 400),
        ("/stats/scoreboardv2", scoreboard_params("11-02-2025"), 400),
        ("/stats/leaguegamelog", {"Season": "2025-26", "LeagueID": "00"}, 400),
        ("/stats/leaguegamelog", {**game_log_params("2025-11-02"), "Season": "2025"}, 400),
        ("/stats/commonallplayers", {"LeagueID": "00", "Season": "2025-26"}, 400),
        ("/stats/nosuchendpoint", {}, 404),
        ("/v4/sports/basketball_nba/events", {}, 401),
        ("/v4/sports/basketball_nba/events/abc/odds", {"regions": "us"}, 401),
        ("/v4/sports/basketball_nba/events/abc/odds", {"apiKey": "k", "regions": "us"}, 404),
        (
            "/v4/sports/basketball_nba/events/abc/odds",
            {"apiKey": "k", "regions": "us", "markets": "player_nonsense"},
            422,
        ),
        ("/v4/sports/basketball_nba/events/abc/odds", {"apiKey": "k"}, 422),
        ("/v4/sports/basketball_nba/events", {"apiKey": "k", "commenceTimeFrom": "soon"}, 422),
    ],
)
def test_errors(client: httpx.Client, path: str, params: dict[str, str], status: int) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == status
    assert answer.json()["message"]


def distinct_requests(server: ReplayServer, count: int) -> list[httpx.Response]:
    """`count` different cheap requests (events windows that differ by a second each)."""
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        answers = []
        for i in range(count):
            params = {
                "apiKey": "k",
                "commenceTimeFrom": f"2025-11-02T05:{i // 60:02d}:{i % 60:02d}Z",
            }
            try:
                answers.append(http.get("/v4/sports/basketball_nba/events", params=params))
            except httpx.TransportError:
                answers.append(httpx.Response(599))
        return answers


def test_faults_hit_the_configured_share_and_are_transient(archive: Archive) -> None:
    spec = FaultSpec.parse("429:0.2,500:0.2")
    with ReplayServer(archive, faults=spec, seed=7) as server:
        first = distinct_requests(server, 200)
        statuses = [a.status_code for a in first]
        assert 20 <= statuses.count(429) <= 60 and 20 <= statuses.count(500) <= 60
        assert statuses.count(200) + statuses.count(429) + statuses.count(500) == 200
        assert all(a.headers["Retry-After"] == "1" for a in first if a.status_code == 429)
        assert server.stats.faults == {"429": statuses.count(429), "500": statuses.count(500)}
        again = distinct_requests(server, 200)
        assert {a.status_code for a in again} == {200}
    with ReplayServer(archive, faults=spec, seed=7) as rerun:
        assert [a.status_code for a in distinct_requests(rerun, 200)] == statuses
    # The api key is no part of a request's identity.
    with (
        ReplayServer(archive, faults=spec, seed=7) as other_key,
        httpx.Client(base_url=other_key.base_url) as http,
    ):
        params = {"apiKey": "another", "commenceTimeFrom": "2025-11-02T05:00:00Z"}
        assert (
            http.get("/v4/sports/basketball_nba/events", params=params).status_code == (statuses[0])
        )


def test_always_faults_stay(archive: Archive) -> None:
    with ReplayServer(archive, faults=FaultSpec.parse("500:1.0:always")) as server:
        assert {a.status_code for a in distinct_requests(server, 3) * 2} == {500}
        assert {a.status_code for a in distinct_requests(server, 3)} == {500}


def test_truncated_malformed_and_slow_bodies(archive: Archive) -> None:
    params = {"apiKey": "k", "date": "2025-11-02T05:00:00Z", **day_window("2025-11-02")}
    path = "/v4/historical/sports/basketball_nba/events"
    with (
        ReplayServer(archive, faults=FaultSpec.parse("truncated:1.0")) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(path, params=params)
        assert len(http.get(path, params=params).json()["data"]) == 8
    with (
        ReplayServer(archive, faults=FaultSpec.parse("malformed:1.0")) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        broken = http.get(path, params=params)
        assert broken.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(broken.content)
        assert len(http.get(path, params=params).json()["data"]) == 8
    with (
        ReplayServer(archive, faults=FaultSpec.parse("slow:1.0:0.4s")) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        started = time.monotonic()
        assert len(http.get(path, params=params).json()["data"]) == 8
        assert time.monotonic() - started >= 0.4
        assert server.stats.faults == {"slow": 1}


@pytest.mark.parametrize(
    ("spec", "bad_part"),
    [
        ("429:0.3,teapot:0.1", "teapot:0.1"),
        ("500", "500"),
        ("500:lots", "500:lots"),
        ("slow:0.1:forever", "slow:0.1:forever"),
        ("429:1.5", "429:1.5"),
        ("500:0.1:sometimes", "500:0.1:sometimes"),
    ],
)
def test_bad_fault_specs(spec: str, bad_part: str) -> None:
    with pytest.raises(ValueError, match=bad_part):
        FaultSpec.parse(spec)


def test_fault_spec_round_trip() -> None:
    spec = FaultSpec.parse("429:0.3, 500:0.2,slow:0.1:3.5s,truncated:0.1,malformed:0.1:always")
    assert str(spec) == "429:0.3,500:0.2,slow:0.1:3.5s,truncated:0.1,malformed:0.1:always"
    assert FaultSpec.parse(str(spec)) == spec
    with pytest.raises(ValueError, match="more than 1"):
        FaultSpec.parse("429:0.6,500:0.6")


def test_naive_clock_is_refused(archive: Archive) -> None:
    with pytest.raises(ValueError, match="timezone"):
        ReplayServer(archive, now=datetime(2025, 11, 2, 12))


def test_cli_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "nba_assets.replay.server", "--port", "0", "--now", "2025-11-03"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        answer = httpx.get(f"{base_url}/stats/scoreboardv2", params=scoreboard_params("2025-11-01"))
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_cli_server_stops_when_the_process_that_started_it_ends(tmp_path) -> None:
    """`nba-assets replay` and `demo` serve from a process of their own: killed outright, they
    leave no server behind."""
    starter = (
        "import os, subprocess, sys\n"
        "server = subprocess.Popen([sys.executable, '-m', 'nba_assets.replay.server', '--port',"
        " '0', '--parent-pid', str(os.getpid())], stdout=subprocess.PIPE, text=True)\n"
        "print(server.pid, server.stdout.readline().strip(), flush=True)\n"
        "import time; time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    pid, base_url = process.stdout.readline().split()
    assert httpx.get(f"{base_url}/v4/sports").status_code in (200, 401, 404)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(int(pid)):
        time.sleep(0.1)
    assert not _running(int(pid))
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/v4/sports", timeout=2)


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its (new) parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_replay_sources_serve_from_a_process_that_ends_with_the_block() -> None:
    from nba_assets.cli.runs import replay_sources

    with replay_sources(None, None) as (base_url, values):
        assert values["nba_stats_base_url"] == f"{base_url}/stats"
        answer = httpx.get(
            values["nba_stats_base_url"] + "/scoreboardv2", params=scoreboard_params("2025-11-01")
        )
        assert answer.status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/stats/scoreboardv2", timeout=2)
