"""A throwaway PostgreSQL cluster for tests: initdb in a fresh folder, a free port on 127.0.0.1,
password authentication, always stopped.

It uses the server binaries of Debian's ``postgresql`` package (``make postgres`` installs it),
which live under ``/usr/lib/postgresql/<version>/bin`` rather than on PATH. PostgreSQL refuses
to run as root, so under root the cluster belongs to the package's ``postgres`` user and lives in
a folder that user can reach (pytest's own temporary folders are root's alone).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nba_assets_tests.bigquery_emulator import free_port

INSTALL_HINT = "install it with `make postgres` (Debian's postgresql package)"
SERVER_USER = "postgres"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30


class PostgresNotInstalledError(RuntimeError):
    """The PostgreSQL server binaries (initdb, pg_ctl) are not on this machine."""


@dataclass(frozen=True)
class PostgresServer:
    """Where a running test cluster answers, and the superuser it was created with."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def dagster_env(self) -> dict[str, str]:
        """The ``DAGSTER_PG_*`` variables config/dagster.prod.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.database,
        }


def server_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's newest version.

    Raises:
        PostgresNotInstalledError: with the command that installs them.
    """
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PostgresNotInstalledError(
            "PostgreSQL's initdb is neither on PATH nor under /usr/lib/postgresql/*/bin: "
            + INSTALL_HINT
        )
    return versions[-1].parent


def _run(command: list[str], as_user: str | None, what: str, timeout: float) -> None:
    """Run a server command (as ``as_user`` when given); raise with its output when it fails."""
    full = ["runuser", "-u", as_user, "--", *command] if as_user else command
    result = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"PostgreSQL {what} failed (exit {result.returncode}): {' '.join(full)}\n"
            f"{result.stdout}{result.stderr}"
        )


@contextmanager
def postgres_server(workdir: Path, database: str = "dagster") -> Iterator[PostgresServer]:
    """Create, start and yield a PostgreSQL cluster with one database; stop and remove it after.

    The cluster lives under ``workdir`` (or, as root, under a folder of its own in the system
    temporary directory) and listens only on 127.0.0.1 at a free port.

    Raises:
        PostgresNotInstalledError: the server binaries are missing.
        RuntimeError: initdb, start or createdb failed (with the server's log).
    """
    bindir = server_bindir()
    as_user = SERVER_USER if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="nba-pg-")) if as_user else workdir / "postgres"
    base.mkdir(parents=True, exist_ok=True)
    data, log = base / "data", base / "server.log"
    password_file = base / "password"
    server = PostgresServer("127.0.0.1", free_port(), "dagster", "dagster-test-pw", database)
    password_file.write_text(server.password + "\n")
    if as_user:
        shutil.chown(base, user=as_user)
        shutil.chown(password_file, user=as_user)
    started = False
    try:
        _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", server.user, "-E", "UTF8",
             "--auth=scram-sha-256", f"--pwfile={password_file}", "--no-sync"],
            as_user, "initdb", START_TIMEOUT_SECONDS,
        )  # fmt: skip
        # The socket goes into the cluster's own folder: /var/run/postgresql may not exist.
        options = (
            f"-c listen_addresses={server.host} -p {server.port}"
            f" -c unix_socket_directories={data} -c fsync=off"
        )
        try:
            _run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                 "-w", "-t", str(START_TIMEOUT_SECONDS), "start"],
                as_user, "start", START_TIMEOUT_SECONDS + 10,
            )  # fmt: skip
        finally:
            # pg_ctl may have started the postmaster even when it gave up waiting for it.
            started = (data / "postmaster.pid").exists()
        _create_database(server, log)
        yield server
    finally:
        try:
            if started:
                _run(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                     "-t", str(STOP_TIMEOUT_SECONDS), "stop"],
                    as_user, "stop", STOP_TIMEOUT_SECONDS + 10,
                )  # fmt: skip
        finally:
            _kill_leftover_postmaster(data)
            if as_user:
                shutil.rmtree(base, ignore_errors=True)


def _create_database(server: PostgresServer, log: Path) -> None:
    import psycopg2

    try:
        connection = psycopg2.connect(
            host=server.host, port=server.port, user=server.user, password=server.password,
            dbname="postgres", connect_timeout=10,
        )  # fmt: skip
    except psycopg2.OperationalError as error:
        tail = log.read_text()[-2000:] if log.exists() else "(no server log)"
        raise RuntimeError(f"cannot connect to the test PostgreSQL: {error}\n{tail}") from error
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{server.database}"')
    finally:
        connection.close()


def _kill_leftover_postmaster(data: Path) -> None:
    """SIGKILL the postmaster whose pid file is still there after ``pg_ctl stop`` (or its
    failure), so a test can never leave a server behind."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    first_line = pid_file.read_text().split("\n", 1)[0].strip()
    if first_line.isdigit():
        # Already gone is fine: pg_ctl stopped it between its check and ours.
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(first_line), signal.SIGKILL)
