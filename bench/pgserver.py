"""A throwaway PostgreSQL server for the benchmarks, and fresh databases on a server.

``throwaway_server()`` does what ``.ci/run`` does for the tests: ``initdb`` in a temporary
folder (Debian's ``/usr/lib/postgresql/*/bin``), run as the ``postgres`` user when this runs
as root, listening on 127.0.0.1 only, on a free port, stopped and deleted at the end. Unlike
the CI server it keeps PostgreSQL's durable defaults (``fsync=on``,
``synchronous_commit=on``), so that it is compared fairly with SQLite's ``synchronous=FULL``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL programs (the newest installed), or None."""
    override = os.environ.get("PG_BIN")
    if override:
        return Path(override) if (Path(override) / "initdb").exists() else None
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    versions = sorted((p for p in root.iterdir() if (p / "bin" / "initdb").exists()), key=lambda p: p.name)
    return versions[-1] / "bin" if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_server() -> Iterator[str]:
    """Start a PostgreSQL server; yield the URL of its ``postgres`` database; stop it after."""
    pg_bin = postgres_bin()
    if pg_bin is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql-15), and no --pg URL was given")
    folder = Path(tempfile.mkdtemp(prefix="pl-bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    password = secrets.token_hex(16)
    port = _free_port()
    pwfile = folder / "password"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if as_user:
        shutil.chown(pwfile, "postgres", "postgres")
    started = False
    try:
        subprocess.run(
            [
                *as_user,
                str(pg_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "ledger",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=100"
        subprocess.run(
            [
                *as_user,
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
        )
        started = True
        yield f"postgresql://ledger:{password}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                [*as_user, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(folder, ignore_errors=True)


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def server_setting(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
    return str(row[0]) if row else "?"


class Databases:
    """Fresh databases on a server (``new()`` gives a URL), all dropped by ``drop_all()``."""

    def __init__(self, server_url: str, prefix: str = "pl_bench") -> None:
        self.server_url = server_url
        self.prefix = prefix
        self.created: list[str] = []

    def new(self) -> str:
        import psycopg

        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return urlsplit(self.server_url)._replace(path="/" + name).geturl()

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=10) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
