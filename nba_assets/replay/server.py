"""Replay server: NBA.com stats and The Odds API v4 answered from the replay archive."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from nba_assets.process import exit_now
from nba_assets.replay.archive import Archive, load_archive
from nba_assets.replay.faults import FaultRule, FaultSpec, apply_drift, request_key
from nba_assets.replay.odds_api import OddsApi
from nba_assets.replay.responses import HttpError, Response, json_response
from nba_assets.replay.stats_api import StatsApi

__all__ = ["ReplayServer", "ServerStats", "load_archive", "main"]


@dataclass(frozen=True)
class ServerStats:
    """Counters of a replay server since it started.

    Attributes:
        requests: requests received (every attempt counts).
        faults: injected faults by kind ("429", "500", "slow", "truncated", "malformed",
            "rename", "null").
        by_endpoint: requests by endpoint ("stats/leaguegamelog", "odds/events", ...).
        max_in_flight: the most requests that were being answered at the same time.
    """

    requests: int
    faults: dict[str, int]
    by_endpoint: dict[str, int]
    max_in_flight: int

    @property
    def total_faults(self) -> int:
        """All injected faults."""
        return sum(self.faults.values())


class ReplayApp:
    """Answers requests from an archive; knows nothing of sockets (the server wraps it)."""

    def __init__(self, archive: Archive) -> None:
        self.stats_api = StatsApi(archive)
        self.odds_api = OddsApi(archive)

    def endpoint_name(self, path: str) -> str:
        """A short name of the endpoint a path addresses, for counters."""
        parts = [p for p in path.split("/") if p]
        if len(parts) == 2 and parts[0] == "stats":
            return f"stats/{parts[1].lower()}"
        if parts[:1] == ["v4"]:
            return "odds/event_odds" if parts[-1:] == ["odds"] else "odds/events"
        return "unknown"

    def handle(
        self, method: str, path: str, query: list[tuple[str, str]], now: datetime
    ) -> Response:
        """Answer one request at the clock time `now`."""
        parts = [p for p in path.split("/") if p]
        try:
            if method != "GET":
                raise HttpError(405, {"message": f"method {method} is not allowed"})
            if len(parts) == 2 and parts[0] == "stats":
                handler = self.stats_api.handlers.get(parts[1].lower())
                if handler is not None:
                    params = {k.lower(): v for k, v in query}
                    return json_response(200, handler(params, now))
            elif parts[:1] == ["v4"]:
                return self.odds_api.handle(parts[1:], dict(query), now)
            raise HttpError(404, {"message": f"no endpoint at {path}"})
        except HttpError as error:
            return json_response(error.status, error.payload)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default listen backlog (5) drops connections when a client opens more at once; the
    # kernel then retries them only after a second.
    request_queue_size = 128
    replay: ReplayServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK (about 40 ms a request on Linux).
    disable_nagle_algorithm = True
    server: _HTTPServer  # type: ignore[assignment]

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self.server.replay._serve(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.replay._serve(self, "POST")

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header tells the client the source's clock, the replay clock here.
        return format_datetime(self.server.replay.current_time().astimezone(UTC), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Request lines carry the odds API key; the server keeps its own counters instead.
        return


class ReplayServer:
    """A local HTTP server answering like NBA.com stats and The Odds API v4 from an archive.

    The server binds on construction (so `base_url` is known) and serves in a background
    thread between `start()` and `stop()`, or inside a `with` block.

    Args:
        archive: the tables to answer from (see `load_archive`).
        host: address to bind; keep the default loopback address.
        port: TCP port; 0 picks a free one.
        faults: faults to inject (see `nba_assets.replay.faults`); None for none.
        now: the server clock (timezone-aware); None follows the real time. Only what was
            knowable at this time is served.
        seed: seed of the fault draws.
    """

    def __init__(
        self,
        archive: Archive,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultSpec | None = None,
        now: datetime | None = None,
        seed: int = 0,
    ) -> None:
        self.app = ReplayApp(archive)
        self.faults = faults or FaultSpec()
        self.seed = seed
        self.now = now
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._requests = 0
        self._faults: dict[str, int] = {}
        self._by_endpoint: dict[str, int] = {}
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.replay = self
        self._thread: threading.Thread | None = None

    @property
    def now(self) -> datetime | None:
        """The fixed server clock, or None when it follows the real time."""
        return self._now

    @now.setter
    def now(self, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"the replay clock needs a timezone-aware time, got {value!r}")
        self._now = value

    def current_time(self) -> datetime:
        """The time the server answers as of."""
        return self._now if self._now is not None else datetime.now(UTC)

    @property
    def base_url(self) -> str:
        """Like "http://127.0.0.1:43123"."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def stats(self) -> ServerStats:
        """A snapshot of the request and fault counters."""
        with self._lock:
            return ServerStats(
                requests=self._requests,
                faults=dict(self._faults),
                by_endpoint=dict(self._by_endpoint),
                max_in_flight=self._max_in_flight,
            )

    def start(self) -> ReplayServer:
        """Serve in a background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="replay-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ request handling
    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        key = request_key(method, split.path, query)
        endpoint = self.app.endpoint_name(split.path)
        with self._lock:
            self._requests += 1
            self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1
            first_attempt = key not in self._seen
            self._seen.add(key)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            rule = self.faults.choose(self.seed, key) if self.faults else None
            if rule is not None and not (first_attempt or rule.always):
                rule = None
            if rule is not None:
                self._count_fault(rule.kind)
            drift = self.faults.drift(self.seed, key) if self.faults else []
            self._answer(handler, method, split.path, query, rule, drift)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _count_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] = self._faults.get(kind, 0) + 1

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        rule: FaultRule | None,
        drift: list[FaultRule],
    ) -> None:
        kind = rule.kind if rule is not None else None
        if kind == "429":
            response = json_response(429, {"message": "Too many requests"}, {"Retry-After": "1"})
        elif kind == "500":
            response = json_response(500, {"message": "Internal server error"})
        else:
            if rule is not None and kind == "slow":
                time.sleep(rule.slow_seconds)
            response = self.app.handle(method, path, query, self.current_time())
        if drift and response.status == 200:
            payload = json.loads(response.body)
            for change in drift:
                changed = apply_drift(payload, [change])
                if changed != payload:  # counted where the answer has the field
                    self._count_fault(change.kind)
                payload = changed
            response = json_response(200, payload, response.headers)
        if kind == "malformed":
            response = Response(
                200,
                response.body[: len(response.body) // 2] + b"\x00<!-- reset -->",
                {"Content-Type": "application/json"},
            )
        body = response.body
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        if kind == "truncated":
            handler.send_header("Connection", "close")
            handler.close_connection = True
            body = body[: len(body) // 2]
        handler.end_headers()
        try:
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout on its side); nothing left to answer.
            handler.close_connection = True


def _parse_now(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `replay-server [--data DIR] [--port N] [--faults SPEC] [--now ISO] [--seed N]
    [--parent-pid PID]`.

    Prints the base URL, then serves until SIGINT or SIGTERM, or until the process PID (the
    one that started it) has ended. Data it cannot load or a port it cannot bind is one line
    on stderr and exit status 2.
    """
    import polars as pl

    parser = argparse.ArgumentParser(prog="replay-server", description=__doc__)
    parser.add_argument("--data", type=Path, default=None, help="archive or raw data folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--faults", default=None, help="fault spec, e.g. 429:0.2,500:0.1")
    parser.add_argument("--now", type=_parse_now, default=None, help="server clock (ISO time)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop once it has ended")
    args = parser.parse_args(argv)
    try:
        faults = FaultSpec.parse(args.faults)
    except ValueError as error:
        parser.error(str(error))
    try:
        archive = load_archive(args.data)
    except (OSError, ValueError, pl.exceptions.PolarsError) as error:
        where = f"--data {args.data}" if args.data is not None else "the shipped replay archive"
        print(f"{where} is not usable replay data: {_first_line(error)}", file=sys.stderr)
        return 2
    try:
        server = ReplayServer(
            archive, host=args.host, port=args.port, faults=faults, now=args.now, seed=args.seed
        )
    except OSError as error:
        print(f"--port {args.port}: {_first_line(error)}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with server:
            print(server.base_url, flush=True)
            # An orphan is adopted by another process: the one that started it has ended.
            while not stop.wait(0.5) and args.parent_pid in (None, os.getppid()):
                pass
            stats = server.stats
            print(
                f"replay server stopped after {stats.requests} requests, "
                f"{stats.total_faults} injected faults",
                file=sys.stderr,
            )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    exit_now(main())
